//! Numbered messages through a broker that goes away: publish them from a
//! [`Client`] on several threads, receive them on another, count each
//! number's arrivals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mqtt_codec::{Message, QoS};
use mqtt_std::{Client, Delivered, Error, Messages};

/// The QoS of message `i`: even ones QoS 1, odd ones QoS 2.
pub fn qos_of(i: usize) -> QoS {
    [QoS::AtLeastOnce, QoS::ExactlyOnce][i % 2]
}

/// Publishes messages `0..n` (payload: the number) to `topic` from
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
                    .map(|i| (i, client.publish(topic, qos_of(i), false, i.to_string())))
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

/// Receives until each of `0..n` arrived, then what is still on its way
/// (a QoS 2 duplicate would be there); returns each number's arrivals.
/// Panics when a message does not come within 30 s.
///
/// mosquitto 2.0 sends the messages it queued for an offline session only
/// as its in-flight window moves: `publisher` sends one to `kick_topic`
/// (which the subscription must match) every 100 ms.
pub fn receive_numbered(
    messages: &mut Messages,
    publisher: &Client,
    kick_topic: &'static str,
    n: usize,
) -> HashMap<usize, usize> {
    let kicking = Arc::new(AtomicBool::new(true));
    let (kicker, on) = (publisher.clone(), kicking.clone());
    let kicks = std::thread::spawn(move || {
        while on.load(Ordering::SeqCst) {
            let _ = kicker.publish(kick_topic, QoS::AtLeastOnce, false, "kick");
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let mut seen: HashMap<usize, usize> = HashMap::new();
    while (0..n).any(|i| !seen.contains_key(&i)) {
        match messages.recv_timeout(Duration::from_secs(30)) {
            Ok(m) => tally(&mut seen, &m),
            Err(e) => {
                let missing = (0..n).filter(|i| !seen.contains_key(i)).count();
                panic!("{missing} messages never arrived ({e:?})");
            }
        }
    }
    kicking.store(false, Ordering::SeqCst);
    kicks.join().unwrap();
    while let Ok(m) = messages.recv_timeout(Duration::from_millis(300)) {
        tally(&mut seen, &m);
    }
    seen
}

/// Counts a message whose payload is a number.
fn tally(seen: &mut HashMap<usize, usize>, m: &Message) {
    if let Ok(i) = std::str::from_utf8(m.payload())
        .unwrap_or("")
        .parse::<usize>()
    {
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
