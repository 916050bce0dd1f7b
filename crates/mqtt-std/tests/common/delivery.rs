//! Numbered messages through a broker that goes away: publish them from a
//! [`Client`] on several threads, receive them on another, count each
//! number's arrivals. Message `i` goes to `{topic}/{i}`, so that a broker's
//! log (which shows topics, not payloads) tells each message's flows apart
//! ([`mqtt_testkit::mosquitto_log`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqtt_codec::QoS;
use mqtt_std::{Client, Delivered, Error, Messages};
use mqtt_testkit::numbered::is_qos2;
pub use mqtt_testkit::numbered::Seen;

/// The QoS of message `i` ([`is_qos2`]).
pub fn qos_of(i: usize) -> QoS {
    match is_qos2(i) {
        true => QoS::ExactlyOnce,
        false => QoS::AtLeastOnce,
    }
}

/// Publishes messages `0..n` (payload: the number) to `{topic}/{i}` from
/// `threads` threads at once; returns each outcome, in order.
pub fn publish_all(
    client: &Client,
    topic: &'static str,
    n: usize,
    threads: usize,
) -> Vec<Result<Delivered, Error>> {
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                (t..n)
                    .step_by(threads)
                    .map(|i| {
                        let topic = format!("{topic}/{i}");
                        (i, client.publish(topic, qos_of(i), false, i.to_string()))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut outcomes: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    outcomes.sort_by_key(|(i, _)| *i);
    outcomes.into_iter().map(|(_, o)| o).collect()
}

/// How long [`receive_numbered`] waits for a message it has not seen yet
/// (the kicks keep other messages coming meanwhile).
const LIMIT: Duration = Duration::from_secs(30);

/// Receives until each of `0..n` arrived, then what is still on its way
/// (a QoS 2 duplicate would be there); returns what arrived.
/// Panics, naming the first few missing, when [`LIMIT`] passes without a
/// message not seen before.
///
/// mosquitto 2.0 sends the messages it queued for an offline session only
/// as its in-flight window moves: `publisher` sends one to `kick_topic`
/// (which the subscription must match) every 100 ms.
pub fn receive_numbered(
    messages: &mut Messages,
    publisher: &Client,
    kick_topic: &'static str,
    n: usize,
) -> Seen {
    let kicks = Kicks::start(publisher, kick_topic);
    let mut seen = Seen::default();
    let mut progress = Instant::now();
    loop {
        let missing = seen.missing(n);
        if missing.is_empty() {
            break;
        }
        let left = (progress + LIMIT).saturating_duration_since(Instant::now());
        match messages.recv_timeout(left) {
            Ok(m) => {
                if seen.tally(m.payload()) == Some(1) {
                    progress = Instant::now();
                }
            }
            Err(e) => panic!(
                "{} messages never arrived, none of them within {LIMIT:?} ({e:?}); the first: {:?}",
                missing.len(),
                &missing[..missing.len().min(10)]
            ),
        }
    }
    drop(kicks);
    while let Ok(m) = messages.recv_timeout(Duration::from_millis(300)) {
        seen.tally(m.payload());
    }
    seen
}

/// A thread that publishes a QoS 1 message to a topic every 100 ms, until
/// dropped.
struct Kicks {
    on: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Kicks {
    fn start(publisher: &Client, topic: &'static str) -> Self {
        let on = Arc::new(AtomicBool::new(true));
        let (kicker, running) = (publisher.clone(), on.clone());
        let thread = std::thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                let _ = kicker.publish(topic, QoS::AtLeastOnce, false, "kick");
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Kicks {
            on,
            thread: Some(thread),
        }
    }
}

impl Drop for Kicks {
    fn drop(&mut self) {
        self.on.store(false, Ordering::SeqCst);
        // Not while panicking: a publish may wait for a broker gone.
        if !std::thread::panicking() {
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }
}
