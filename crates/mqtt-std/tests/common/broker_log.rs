//! Reading a mosquitto log (`log_type all`, every run of the broker in
//! turn) about the numbered messages of [`delivery`](super::delivery),
//! each published to its own topic `{topic}/{i}`.

/// A logged PUBLISH, PUBACK, PUBREC, PUBREL or PUBCOMP:
/// `Sending PUBLISH to c (d0, q2, r0, m5, 'a/1', ... (1 bytes))`,
/// `Received PUBREC from c (Mid: 5)`, `Sending PUBREL to c (m5)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged<'a> {
    /// Sent by the broker (else received).
    pub sending: bool,
    pub kind: &'a str,
    pub client: &'a str,
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
