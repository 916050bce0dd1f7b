//! Numbered messages through a broker that goes away: publish them from a
//! [`Client`], receive them on another, count each number's arrivals.
//! Message `i` goes to `{topic}/{i}`, so that a broker's log (which shows
//! topics, not payloads) tells each message's flows apart
//! ([`mqtt_testkit::mosquitto_log`]).
//!
//! Shared by mqtt-tokio's tests and the example broker's restart tests
//! (examples/tests/restart/mod.rs, by `#[path]`).

use std::collections::HashMap;
use std::time::Duration;

use mqtt_codec::QoS;
use mqtt_testkit::numbered::is_qos2;
pub use mqtt_testkit::numbered::Seen;
use mqtt_tokio::{Client, Delivered, Error, Messages};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The QoS of message `i` ([`is_qos2`]).
pub fn qos_of(i: usize) -> QoS {
    match is_qos2(i) {
        true => QoS::ExactlyOnce,
        false => QoS::AtLeastOnce,
    }
}

/// Publishes messages `0..n` (payload: the number) to `{topic}/{i}`, each from
/// its own task, 5 ms apart every ten; the task's answer is every
/// publish's outcome, in order.
pub fn publish_numbered(
    publisher: &Client,
    topic: &'static str,
    n: usize,
) -> JoinHandle<Vec<Result<Delivered, Error>>> {
    let publisher = publisher.clone();
    tokio::spawn(async move {
        let mut tasks = Vec::new();
        for i in 0..n {
            let p = publisher.clone();
            let topic = format!("{topic}/{i}");
            tasks.push(tokio::spawn(async move {
                p.publish(topic, qos_of(i), false, i.to_string()).await
            }));
            if i % 10 == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        outcomes
    })
}

/// How long [`receive_numbered`] waits for a message it has not seen yet
/// (the kicks keep other messages coming meanwhile).
const NEW_MESSAGE_LIMIT: Duration = Duration::from_secs(30);

/// Receives until each of `0..n` arrived, then what is still on its way
/// (a QoS 2 duplicate would be there); returns what arrived. Panics,
/// naming the first few missing, when [`NEW_MESSAGE_LIMIT`] passes without
/// a message not seen before.
///
/// mosquitto 2.0 sends the messages it queued for an offline session only
/// as its in-flight window moves: after a reconnection with nothing in
/// flight they wait for the next message. `publisher` sends one to
/// `kick_topic` (which the subscription must match) every 100 ms.
pub async fn receive_numbered(
    messages: &mut Messages,
    publisher: &Client,
    kick_topic: &'static str,
    n: usize,
) -> Seen {
    let kicker = publisher.clone();
    let kicks = AbortOnDrop(tokio::spawn(async move {
        loop {
            let _ = kicker
                .publish(kick_topic, QoS::AtLeastOnce, false, "kick")
                .await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }));
    let mut seen = Seen::default();
    let mut progress = Instant::now();
    loop {
        let missing = seen.missing(n);
        if missing.is_empty() {
            break;
        }
        let next = tokio::time::timeout_at(progress + NEW_MESSAGE_LIMIT, messages.recv()).await;
        match next {
            Ok(Some(m)) => {
                if seen.tally(m.payload()) == Some(1) {
                    progress = Instant::now();
                }
            }
            _ => panic!(
                "{} messages never arrived, none of them within {NEW_MESSAGE_LIMIT:?} \
                 ({next:?}); the first: {:?}",
                missing.len(),
                &missing[..missing.len().min(10)]
            ),
        }
    }
    drop(kicks);
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(300), messages.recv()).await
    {
        seen.tally(m.payload());
    }
    seen
}

/// A task aborted when this is dropped, panics included.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Every QoS 2 message of `0..n` arrived exactly once; `seen` holds each
/// number's arrivals ([`Seen::counts`]).
pub fn assert_qos2_once(seen: &HashMap<usize, usize>, n: usize, what: &str) {
    let wrong: Vec<(usize, usize)> = (0..n)
        .filter(|&i| is_qos2(i))
        .map(|i| (i, seen.get(&i).copied().unwrap_or(0)))
        .filter(|&(_, count)| count != 1)
        .collect();
    assert!(
        wrong.is_empty(),
        "QoS 2 messages ({what}) not delivered exactly once, (number, times): {wrong:?}"
    );
}
