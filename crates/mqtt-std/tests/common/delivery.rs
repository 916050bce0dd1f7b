//! Numbered messages through a broker that goes away: publish them from a
//! [`Client`] on several threads, receive them on another, count each
//! number's arrivals. Message `i` goes to `{topic}/{i}`, so that a broker's
//! log (which shows topics, not payloads) tells each message's flows apart
//! ([`trace`]).

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

/// What arrived of the numbered messages.
#[derive(Debug, Default)]
pub struct Seen {
    /// Each number's arrivals.
    pub counts: HashMap<usize, usize>,
    /// The numbers in the order they arrived.
    pub order: Vec<usize>,
}

impl Seen {
    /// The QoS 2 messages of `0..n` that did not arrive exactly once, with
    /// how many times they arrived.
    pub fn qos2_not_once(&self, n: usize) -> Vec<(usize, usize)> {
        (0..n)
            .filter(|&i| qos_of(i) == QoS::ExactlyOnce)
            .map(|i| (i, self.counts.get(&i).copied().unwrap_or(0)))
            .filter(|&(_, count)| count != 1)
            .collect()
    }

    /// Where message `i` came in the order of arrivals (0-based), each
    /// time it came.
    pub fn positions(&self, i: usize) -> Vec<usize> {
        let at = self.order.iter().enumerate();
        at.filter(|&(_, &m)| m == i).map(|(k, _)| k).collect()
    }
}

/// Receives until each of `0..n` arrived, then what is still on its way
/// (a QoS 2 duplicate would be there); returns what arrived.
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
) -> Seen {
    let kicking = Arc::new(AtomicBool::new(true));
    let (kicker, on) = (publisher.clone(), kicking.clone());
    let kicks = std::thread::spawn(move || {
        while on.load(Ordering::SeqCst) {
            let _ = kicker.publish(kick_topic, QoS::AtLeastOnce, false, "kick");
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let mut seen = Seen::default();
    while (0..n).any(|i| !seen.counts.contains_key(&i)) {
        match messages.recv_timeout(Duration::from_secs(30)) {
            Ok(m) => tally(&mut seen, &m),
            Err(e) => {
                let missing = (0..n).filter(|i| !seen.counts.contains_key(i)).count();
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
fn tally(seen: &mut Seen, m: &Message) {
    if let Ok(i) = std::str::from_utf8(m.payload())
        .unwrap_or("")
        .parse::<usize>()
    {
        *seen.counts.entry(i).or_default() += 1;
        seen.order.push(i);
    }
}

/// Every QoS 2 message of `0..n` arrived exactly once.
pub fn assert_qos2_once(seen: &Seen, n: usize, what: &str) {
    let wrong = seen.qos2_not_once(n);
    assert!(
        wrong.is_empty(),
        "QoS 2 messages ({what}) not delivered exactly once, (number, times): {wrong:?}"
    );
}

/// What a mosquitto log (`log_type all`, every run in turn) says about
/// message `i`, published to `{topic}/{i}`: each PUBLISH of that topic, and
/// the acknowledgements of its packet identifier with the same client until
/// that identifier carries another topic; with the broker's starts, stops
/// and database saves and the connections of the clients involved, in the
/// log's order.
pub fn trace(log: &str, topic: &str, i: usize) -> String {
    let topic = format!("'{topic}/{i}'");
    let mut clients: Vec<&str> = Vec::new();
    for line in log.lines() {
        if let Some((client, _, Some(t))) = packet_of(line) {
            if t == topic && !clients.contains(&client) {
                clients.push(client);
            }
        }
    }
    let mut active: Vec<(&str, u32)> = Vec::new();
    let mut out = String::new();
    for line in log.lines() {
        let keep = match packet_of(line) {
            Some((client, mid, publish_topic)) => {
                let key = (client, mid);
                match publish_topic {
                    Some(t) if t == topic => {
                        if !active.contains(&key) {
                            active.push(key);
                        }
                        true
                    }
                    Some(_) => {
                        active.retain(|k| *k != key);
                        false
                    }
                    None => active.contains(&key),
                }
            }
            None => {
                line.contains("mosquitto version")
                    || line.contains("Saving in-memory database")
                    || line.contains("Restored")
                    || clients.iter().any(|c| {
                        line.contains(&format!(" as {c} "))
                            || line.contains(&format!("Client {c} "))
                            || line.contains(&format!("client {c},"))
                            || line.contains(&format!("CONNACK to {c} "))
                    })
            }
        };
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The client and packet identifier of a logged PUBLISH, PUBACK, PUBREC,
/// PUBREL or PUBCOMP, and the quoted topic of a PUBLISH:
/// `Sending PUBLISH to c (d0, q2, r0, m5, 'a/1', ... (1 bytes))`,
/// `Received PUBREC from c (Mid: 5)`, `Sending PUBREL to c (m5)`.
fn packet_of(line: &str) -> Option<(&str, u32, Option<&str>)> {
    let kinds = ["PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP"];
    let (_, rest) = line.split_once(": ")?;
    let rest = rest
        .strip_prefix("Sending ")
        .or_else(|| rest.strip_prefix("Received "))?;
    let (kind, rest) = rest.split_once(' ')?;
    if !kinds.contains(&kind) {
        return None;
    }
    let rest = rest
        .strip_prefix("to ")
        .or_else(|| rest.strip_prefix("from "))?;
    let (client, fields) = rest.split_once(" (")?;
    let mid = fields
        .split([',', ')'])
        .map(str::trim)
        .find_map(|f| f.strip_prefix("Mid: ").or_else(|| f.strip_prefix('m')))?;
    let topic = (kind == "PUBLISH")
        .then(|| fields.split(", ").find(|f| f.starts_with('\'')))
        .flatten();
    Some((client, mid.parse().ok()?, topic))
}
