//! Numbered messages through a broker that goes away: publish them from a
//! [`Client`], receive them on another, count each number's arrivals.

use std::collections::HashMap;
use std::time::Duration;

use mqtt_codec::QoS;
use mqtt_tokio::{Client, Delivered, Error, Messages};
use tokio::task::JoinHandle;

use super::LIMIT;

/// The QoS of message `i`: even ones QoS 1, odd ones QoS 2.
pub fn qos_of(i: usize) -> QoS {
    match i % 2 {
        0 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

/// Publishes messages `0..n` (payload: the number) to `topic`, each from
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

/// Receives until each of `0..n` arrived, then what is still on its way
/// (a QoS 2 duplicate would be there); returns each number's arrivals.
/// Panics naming the missing ones after [`LIMIT`].
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
) -> HashMap<usize, usize> {
    let kicker = publisher.clone();
    let kicks = tokio::spawn(async move {
        loop {
            let _ = kicker
                .publish(kick_topic, QoS::AtLeastOnce, false, "kick")
                .await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let deadline = tokio::time::Instant::now() + LIMIT;
    let mut missing = n;
    while missing > 0 {
        let next = tokio::time::timeout_at(deadline, messages.recv()).await;
        let Ok(Some(m)) = next else {
            kicks.abort();
            panic!("{missing} of the messages never arrived ({next:?})");
        };
        count(&mut seen, m.payload());
        missing = (0..n).filter(|i| !seen.contains_key(i)).count();
    }
    kicks.abort();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(300), messages.recv()).await
    {
        count(&mut seen, m.payload());
    }
    seen
}

/// Counts the arrival of the numbered message `payload` (not a kick).
fn count(seen: &mut HashMap<usize, usize>, payload: &[u8]) {
    if let Ok(i) = std::str::from_utf8(payload).unwrap().parse::<usize>() {
        *seen.entry(i).or_default() += 1;
    }
}

/// Every QoS 2 message of `0..n` arrived exactly once.
pub fn assert_qos2_once(seen: &HashMap<usize, usize>, n: usize, what: &str) {
    for i in (0..n).filter(|&i| qos_of(i) == QoS::ExactlyOnce) {
        assert_eq!(
            seen[&i], 1,
            "QoS 2 message {i} ({what}) arrived exactly once"
        );
    }
}
