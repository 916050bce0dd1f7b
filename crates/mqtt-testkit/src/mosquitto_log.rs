//! Reading a mosquitto log ([`Mosquitto::all_logs`](crate::Mosquitto::all_logs):
//! `log_type all`, every run of the broker in turn) about the
//! [`numbered`](crate::numbered) messages, each published to its own topic
//! `{topic}/{i}`: what the broker did with each ([`trace`]), and whether it
//! sent a QoS 2 message again after its PUBREL ([`resent_after_pubrel`],
//! [`judge_qos2`]).
//!
//! mosquitto 2.0.11 (the Debian package) does that across a restart with
//! persistence: it lets a client's in-flight list grow past
//! `max_inflight_messages` (eclipse/mosquitto#2306, fixed in 2.0.13), its
//! restore queues every saved message past the first 20 whatever its state,
//! and the client's reconnection turns each queued QoS 2 message back into a
//! PUBLISH. The restart tests of mqtt-std and mqtt-tokio
//! (`tests/restart.rs`) document it in full.

use crate::numbered::Seen;

/// A logged PUBLISH, PUBACK, PUBREC, PUBREL or PUBCOMP:
/// `Sending PUBLISH to c (d0, q2, r0, m5, 'a/1', ... (1 bytes))`,
/// `Received PUBREC from c (Mid: 5)`, `Sending PUBREL to c (m5)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged<'a> {
    /// Sent by the broker (else received).
    pub sending: bool,
    /// The packet type: `PUBLISH`, `PUBACK`, `PUBREC`, `PUBREL` or `PUBCOMP`.
    pub kind: &'a str,
    /// The client it went to or came from.
    pub client: &'a str,
    /// Its packet identifier (`m5`, `Mid: 5`).
    pub packet_id: u32,
    /// A PUBLISH's topic, quoted as logged: `'a/1'`.
    pub topic: Option<&'a str>,
}

impl<'a> Logged<'a> {
    /// The packet `line` logs, if it logs one of those.
    pub fn parse(line: &'a str) -> Option<Self> {
        let kinds = ["PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP"];
        let (_, rest) = line.split_once(": ")?;
        let (sending, rest) = match rest.strip_prefix("Sending ") {
            Some(rest) => (true, rest),
            None => (false, rest.strip_prefix("Received ")?),
        };
        let (kind, rest) = rest.split_once(' ')?;
        if !kinds.contains(&kind) {
            return None;
        }
        let rest = rest
            .strip_prefix("to ")
            .or_else(|| rest.strip_prefix("from "))?;
        let (client, fields) = rest.split_once(" (")?;
        let packet_id = fields
            .split([',', ')'])
            .map(str::trim)
            .find_map(|f| f.strip_prefix("Mid: ").or_else(|| f.strip_prefix('m')))?
            .parse()
            .ok()?;
        let topic = (kind == "PUBLISH")
            .then(|| fields.split(", ").find(|f| f.starts_with('\'')))
            .flatten();
        Some(Logged {
            sending,
            kind,
            client,
            packet_id,
            topic,
        })
    }
}

/// What the log says about message `i`, published to `{topic}/{i}`: each
/// PUBLISH of that topic, and the acknowledgements of its packet
/// identifier with the same client until that identifier carries another
/// topic; with the broker's starts, stops and database saves and the
/// connections of the clients involved, in the log's order.
pub fn trace(log: &str, topic: &str, i: usize) -> String {
    let topic = format!("'{topic}/{i}'");
    let mut clients: Vec<&str> = Vec::new();
    for p in log.lines().filter_map(Logged::parse) {
        if p.topic == Some(topic.as_str()) && !clients.contains(&p.client) {
            clients.push(p.client);
        }
    }
    let mut active: Vec<(&str, u32)> = Vec::new();
    let mut out = String::new();
    for line in log.lines() {
        let keep = match Logged::parse(line) {
            Some(p) => {
                let key = (p.client, p.packet_id);
                match p.topic {
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

/// How many times the broker sent message `i` (topic `{topic}/{i}`) to
/// `client` again as a PUBLISH with the packet identifier whose PUBREL it
/// had already sent: a sender of QoS 2 must not [MQTT-4.3.3-1] (v5.0:
/// [MQTT-4.3.3-6]). A receiver that got that PUBREL answered it with
/// PUBCOMP and released the identifier, and so takes such a PUBLISH as a
/// new message [MQTT-4.3.3-2] (v5.0: [MQTT-4.3.3-12]); each is one more
/// delivery the broker caused.
pub fn resent_after_pubrel(log: &str, client: &str, topic: &str, i: usize) -> usize {
    let topic = format!("'{topic}/{i}'");
    // The identifier the message has with `client`, and whether its
    // PUBREL was sent.
    let mut flow: Option<(u32, bool)> = None;
    let mut resent = 0;
    let sent = log.lines().filter_map(Logged::parse);
    for p in sent.filter(|p| p.sending && p.client == client) {
        match (p.kind, p.topic, flow) {
            ("PUBLISH", Some(t), Some((id, released))) if t == topic && id == p.packet_id => {
                resent += usize::from(released);
                flow = Some((id, false));
            }
            ("PUBLISH", Some(t), _) if t == topic => flow = Some((p.packet_id, false)),
            // The identifier now numbers another message.
            ("PUBLISH", Some(_), Some((id, _))) if id == p.packet_id => flow = None,
            ("PUBREL", _, Some((id, _))) if id == p.packet_id => flow = Some((id, true)),
            _ => {}
        }
    }
    resent
}

/// The QoS 2 messages of a test that did not arrive exactly once, judged by
/// mosquitto's log ([`judge_qos2`]); each entry is a report on one message
/// with its [`trace`].
#[derive(Debug, Default)]
pub struct Qos2Verdict {
    /// Those that arrived once more for each time, at most, that the broker
    /// sent them again after their PUBREL: the broker's doing.
    pub allowed: Vec<String>,
    /// Those lost, or delivered more often than the log explains.
    pub unexplained: Vec<String>,
}

impl Qos2Verdict {
    /// Prints the allowed ones (shown with `--nocapture`, or when the test
    /// fails) and panics listing the unexplained ones, naming `what` (the
    /// protocol version, say).
    pub fn assert_explained(&self, what: &str) {
        if !self.allowed.is_empty() {
            eprintln!(
                "{what}: mosquitto sent {} QoS 2 messages again after their PUBREL:\n{}",
                self.allowed.len(),
                self.allowed.join("\n")
            );
        }
        assert!(
            self.unexplained.is_empty(),
            "QoS 2 messages on {what} not delivered exactly once, nor explained by the broker:\n{}",
            self.unexplained.join("\n")
        );
    }
}

/// Every QoS 2 message of `0..n` ([`Seen::qos2_not_once`]), published to
/// `{topic}/{i}`, arrived at `client` exactly once, or as often as
/// mosquitto's `log` explains ([`judge_qos2`]); panics otherwise, naming
/// `what` ([`Qos2Verdict::assert_explained`]).
pub fn assert_qos2_explained(
    log: &str,
    client: &str,
    topic: &str,
    seen: &Seen,
    n: usize,
    what: &str,
) {
    judge_qos2(log, client, topic, seen, &seen.qos2_not_once(n)).assert_explained(what);
}

/// Judges each QoS 2 message of `not_once` (number `i`, and how many times
/// it arrived, as [`Seen::not_once`] gives them), published to `{topic}/{i}`
/// and received by `client`, by mosquitto's `log`: a message that arrived
/// `1 + k` times, `k` at most the times [`resent_after_pubrel`] counts, is
/// allowed; a message lost, or arriving more often, is unexplained.
pub fn judge_qos2(
    log: &str,
    client: &str,
    topic: &str,
    seen: &Seen,
    not_once: &[(usize, usize)],
) -> Qos2Verdict {
    let mut verdict = Qos2Verdict::default();
    for &(i, times) in not_once {
        let resent = resent_after_pubrel(log, client, topic, i);
        let report = format!(
            "QoS 2 message {i} arrived {times} times (at {:?} of {} arrivals), \
             sent again after its PUBREL {resent} times; mosquitto logged:\n{}",
            seen.positions(i),
            seen.order.len(),
            trace(log, topic, i)
        );
        if times == 0 || times > 1 + resent {
            verdict.unexplained.push(report);
        } else {
            verdict.allowed.push(report);
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log with mosquitto 2.0.11's PUBLISH after PUBREL across a restart
    /// (message 5), and a PUBLISH sent again before its PUBREL (message 6).
    const LOG: &str = "\
10:00:00: Sending PUBLISH to s (d0, q2, r0, m7, 'x/5', ... (1 bytes))
10:00:00: Received PUBREC from s (Mid: 7)
10:00:00: Sending PUBREL to s (m7)
10:00:00: mosquitto version 2.0.11 terminating
10:00:01: mosquitto version 2.0.11 running
10:00:01: Sending PUBLISH to s (d1, q2, r0, m7, 'x/5', ... (1 bytes))
10:00:01: Received PUBREC from s (Mid: 7)
10:00:01: Sending PUBREL to s (m7)
10:00:01: Received PUBCOMP from s (Mid: 7, RC:0)
10:00:01: Sending PUBLISH to s (d0, q2, r0, m8, 'x/6', ... (1 bytes))
10:00:01: Sending PUBLISH to s (d1, q2, r0, m8, 'x/6', ... (1 bytes))
10:00:01: Sending PUBREL to s (m8)
10:00:01: Sending PUBLISH to s (d0, q2, r0, m8, 'x/9', ... (1 bytes))
";

    /// The log reading the restart tests rely on: a PUBLISH after its
    /// PUBREL counts ([MQTT-4.3.3-1], v5.0 [MQTT-4.3.3-6]); one before it
    /// does not (the receiver does not deliver it again, [MQTT-4.3.3-10]);
    /// nor does the identifier once it numbers another message.
    #[test]
    fn the_log_shows_a_publish_sent_again_after_its_pubrel() {
        let p = Logged::parse("1: Received PUBCOMP from a-b (Mid: 7, RC:0)").unwrap();
        assert_eq!(
            (p.sending, p.kind, p.client, p.packet_id),
            (false, "PUBCOMP", "a-b", 7)
        );
        let p = Logged::parse("1: Sending PUBLISH to c (d1, q2, r0, m9, 'x/5', ... (1 bytes))");
        assert_eq!(p.unwrap().topic, Some("'x/5'"));
        assert_eq!(Logged::parse("1: Sending CONNACK to c (1, 0)"), None);

        assert_eq!(resent_after_pubrel(LOG, "s", "x", 5), 1);
        assert_eq!(resent_after_pubrel(LOG, "s", "x", 6), 0);
        assert_eq!(resent_after_pubrel(LOG, "s", "x", 9), 0);
        assert_eq!(resent_after_pubrel(LOG, "other", "x", 5), 0);
        let five = trace(LOG, "x", 5);
        assert!(five.contains("(d1, q2, r0, m7, 'x/5'"), "{five}");
        assert!(!five.contains("'x/6'"), "{five}");
    }

    /// One more arrival per PUBLISH after PUBREL, and nothing else.
    #[test]
    fn only_what_the_log_shows_is_allowed() {
        let seen = Seen::default();
        let verdict = judge_qos2(LOG, "s", "x", &seen, &[(5, 2), (6, 2), (7, 0)]);
        assert_eq!(verdict.allowed.len(), 1);
        assert!(verdict.allowed[0].starts_with("QoS 2 message 5 arrived 2 times"));
        assert_eq!(verdict.unexplained.len(), 2);
        let verdict = judge_qos2(LOG, "s", "x", &seen, &[(5, 3)]);
        assert_eq!(verdict.unexplained.len(), 1);
    }
}
