//! The store's tables and the byte layout of their records.
//!
//! Tables (redb), keyed by Client Identifier or Topic Name:
//!
//! ```text
//! meta           "format" → 1
//! retained       topic → message record
//! sessions       client → session record
//! session_state  client → the session's export (mqtt-session's format)
//! subscriptions  (client, filter) → subscription record
//! journal        (client, seq) → journal record: the copies routed to the
//!                session in one commit after its session_state was
//!                written, the first numbered seq
//! ```
//!
//! Records, integers big-endian:
//!
//! ```text
//! message       received (Unix ms) u64 | v5.0 PUBLISH as encoded (QoS and
//!               RETAIN of the message; Subscription Identifiers included)
//! session       protocol level u8 | session expiry u32 |
//!               disconnected (Unix ms, 0: was online) u64 |
//!               will u8 (0, 1) [| will delay u32 | message record]
//! journal       (length u32 | message record)*
//! subscription  qos u8 | flags u8 (1 No Local, 2 Retain As Published) |
//!               retain handling u8 | identifier u32 (0: none)
//! ```
//!
//! Decoding checks every length and value and errs with
//! [`RecordError`]; it never panics.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use mqtt_codec::properties::SubscriptionIdentifier;
use mqtt_codec::{v5_0, Decoder, Encode, GenericPacket, Message, ProtocolVersion, QoS};
use redb::TableDefinition;

use super::super::message::StoredMessage;
use super::super::router::{RetainHandling, Subscription};

/// `"format"` → the layout version of this file.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Topic → message record.
pub const RETAINED: TableDefinition<&str, &[u8]> = TableDefinition::new("retained");
/// Client Identifier → session record.
pub const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
/// Client Identifier → the session's export.
pub const SESSION_STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("session_state");
/// (Client Identifier, Topic Filter) → subscription record.
pub const SUBSCRIPTIONS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("subscriptions");
/// (Client Identifier, sequence number) → message record of a copy.
pub const JOURNAL: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("journal");

/// The layout version written in [`META`].
pub const FORMAT: u64 = 1;

/// A record that does not decode: what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError(pub &'static str);

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for RecordError {}

/// What the store keeps of a session besides its export.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// The MQTT version of the session.
    pub version: ProtocolVersion,
    /// Its Session Expiry Interval, in seconds (`u32::MAX`: never).
    pub expiry: u32,
    /// When its client disconnected, in Unix milliseconds; `None` when it
    /// was connected at the last write (a kill -9 then ended the
    /// connection: its expiry and Will Delay count from the next start).
    pub disconnected: Option<u64>,
    /// Its Will Message and Will Delay Interval, in seconds.
    pub will: Option<(StoredMessage, u32)>,
}

/// `t` as Unix milliseconds (0 before the epoch).
pub fn unix_ms(t: SystemTime) -> u64 {
    let ms = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// The wall-clock time of `instant`, in Unix milliseconds.
pub fn instant_to_unix_ms(instant: Instant) -> u64 {
    let now = SystemTime::now();
    unix_ms(now.checked_sub(instant.elapsed()).unwrap_or(now))
}

/// The `Instant` of Unix milliseconds `ms` (now, for a time in the future
/// or too far back for this clock).
pub fn unix_ms_to_instant(ms: u64) -> Instant {
    let ago = unix_ms(SystemTime::now()).saturating_sub(ms);
    let now = Instant::now();
    now.checked_sub(Duration::from_millis(ago)).unwrap_or(now)
}

/// The message record of `message`, received at `received`.
pub fn encode_message(message: &Message, received: Instant) -> Vec<u8> {
    let publish = v5_0::Publish::<u16>::from_message(message.clone(), 1);
    let mut out = Vec::with_capacity(8 + publish.encoded_len());
    out.extend_from_slice(&instant_to_unix_ms(received).to_be_bytes());
    // Cannot fail: a Vec grows, and the message came in a packet.
    let _ = publish.encode(&mut out);
    out
}

/// The message of a message record, and when it was received.
///
/// # Errors
/// Cut short, bytes left over, or not a v5.0 PUBLISH with a Topic Name.
pub fn decode_message(bytes: &[u8]) -> Result<(Message, Instant), RecordError> {
    let mut r = Reader(bytes);
    let received = unix_ms_to_instant(r.u64()?);
    let mut buf = BytesMut::from(r.0);
    let packet = Decoder::<u16>::new(ProtocolVersion::V5_0)
        .decode(&mut buf)
        .map_err(|_| RecordError("a stored message is not a valid PUBLISH"))?;
    let Some(GenericPacket::V5_0(v5_0::Packet::Publish(publish))) = packet else {
        return Err(RecordError("a stored message is not a PUBLISH"));
    };
    if !buf.is_empty() {
        return Err(RecordError("bytes after a stored message"));
    }
    if publish.topic_name().is_empty() {
        return Err(RecordError("a stored message without a Topic Name"));
    }
    let ids: Vec<SubscriptionIdentifier> =
        publish.properties().subscription_identifiers().collect();
    let mut message = publish.into_message();
    if !ids.is_empty() {
        message.set_subscription_identifiers(&ids);
    }
    Ok((message, received))
}

/// Appends the copy `message`, routed at `routed`, to a journal record.
pub fn push_copy(record: &mut Vec<u8>, message: &Message, routed: Instant) {
    let copy = encode_message(message, routed);
    let len = u32::try_from(copy.len()).unwrap_or(u32::MAX);
    record.extend_from_slice(&len.to_be_bytes());
    record.extend_from_slice(&copy);
}

/// How many copies a journal record written by [`push_copy`] holds (what
/// its length prefixes say; [`decode_journal`] checks them).
pub fn copies_in(mut record: &[u8]) -> usize {
    let mut n = 0;
    while let Some((len, rest)) = record.split_first_chunk::<4>() {
        let len = u32::from_be_bytes(*len) as usize;
        record = rest.get(len..).unwrap_or_default();
        n += 1;
    }
    n
}

/// The copies of a journal record, in order, with when each was routed.
///
/// # Errors
/// A length that runs past the end, or a copy that does not decode.
pub fn decode_journal(bytes: &[u8]) -> Result<Vec<(Message, Instant)>, RecordError> {
    let mut r = Reader(bytes);
    let mut copies = Vec::new();
    while !r.0.is_empty() {
        let len = r.u32()? as usize;
        let (copy, rest) =
            r.0.split_at_checked(len)
                .ok_or(RecordError("a journal record cut short"))?;
        copies.push(decode_message(copy)?);
        r.0 = rest;
    }
    Ok(copies)
}

/// The session record of `record`.
pub fn encode_session(record: &SessionRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    out.push(record.version.level());
    out.extend_from_slice(&record.expiry.to_be_bytes());
    out.extend_from_slice(&record.disconnected.unwrap_or(0).to_be_bytes());
    match &record.will {
        None => out.push(0),
        Some((will, delay)) => {
            out.push(1);
            out.extend_from_slice(&delay.to_be_bytes());
            out.extend_from_slice(&encode_message(will.message(), will.received));
        }
    }
    out
}

/// The session record of `bytes`.
///
/// # Errors
/// Cut short, an unknown protocol level or will flag, a bad will.
pub fn decode_session(bytes: &[u8]) -> Result<SessionRecord, RecordError> {
    let mut r = Reader(bytes);
    let version = ProtocolVersion::from_level(r.u8()?)
        .ok_or(RecordError("a session of an unknown protocol level"))?;
    let expiry = r.u32()?;
    let disconnected = Some(r.u64()?).filter(|&ms| ms != 0);
    let will = match r.u8()? {
        0 if r.0.is_empty() => None,
        1 => {
            let delay = r.u32()?;
            let (message, received) = decode_message(r.0)?;
            Some((StoredMessage::new(message, received), delay))
        }
        _ => return Err(RecordError("a session record with a bad will")),
    };
    Ok(SessionRecord {
        version,
        expiry,
        disconnected,
        will,
    })
}

/// The subscription record of `sub`.
pub fn encode_subscription(sub: &Subscription) -> [u8; 7] {
    let flags = u8::from(sub.no_local) | u8::from(sub.retain_as_published) << 1;
    let handling = match sub.retain_handling {
        RetainHandling::SendAtSubscribe => 0,
        RetainHandling::SendAtSubscribeIfNew => 1,
        RetainHandling::DoNotSend => 2,
    };
    let id = sub.subscription_id.unwrap_or(0).to_be_bytes();
    [sub.qos as u8, flags, handling, id[0], id[1], id[2], id[3]]
}

/// The subscription of a subscription record.
///
/// # Errors
/// Not 7 bytes, or a QoS, flag or Retain Handling out of range.
pub fn decode_subscription(bytes: &[u8]) -> Result<Subscription, RecordError> {
    let [qos, flags, handling, a, b, c, d] = bytes else {
        return Err(RecordError("a subscription record of the wrong length"));
    };
    let qos = QoS::from_u8(*qos).map_err(|_| RecordError("a subscription with QoS 3"))?;
    if flags & !3 != 0 {
        return Err(RecordError("a subscription with unknown flags"));
    }
    let retain_handling = match handling {
        0 => RetainHandling::SendAtSubscribe,
        1 => RetainHandling::SendAtSubscribeIfNew,
        2 => RetainHandling::DoNotSend,
        _ => return Err(RecordError("a subscription with Retain Handling 3")),
    };
    let id = u32::from_be_bytes([*a, *b, *c, *d]);
    Ok(Subscription {
        qos,
        no_local: flags & 1 != 0,
        retain_as_published: flags & 2 != 0,
        retain_handling,
        subscription_id: (id != 0).then_some(id),
    })
}

/// Reads big-endian integers off the front of a record.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], RecordError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(RecordError("a record cut short"))?;
        self.0 = rest;
        Ok(*head)
    }
    fn u8(&mut self) -> Result<u8, RecordError> {
        Ok(self.take::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, RecordError> {
        Ok(u32::from_be_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, RecordError> {
        Ok(u64::from_be_bytes(self.take()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        message_of("hello")
    }

    fn message_of(payload: &'static str) -> Message {
        Message::builder()
            .topic_name(mqtt_codec::TopicName::new("a/b").expect("a topic"))
            .qos(QoS::ExactlyOnce)
            .retain(true)
            .payload(payload)
            .build()
            .expect("a message")
    }

    #[test]
    fn a_message_record_decodes_to_the_message() {
        let m = message();
        let (back, _) = decode_message(&encode_message(&m, Instant::now())).expect("decodes");
        assert_eq!(back.payload(), m.payload());
        assert_eq!(back.qos(), QoS::ExactlyOnce);
        assert!(back.retain());
    }

    #[test]
    fn a_journal_record_holds_its_copies_in_order() {
        let mut record = Vec::new();
        for payload in ["one", "two", "three"] {
            push_copy(&mut record, &message_of(payload), Instant::now());
        }
        assert_eq!(copies_in(&record), 3);
        let copies = decode_journal(&record).expect("decodes");
        let payloads: Vec<&[u8]> = copies.iter().map(|(m, _)| m.payload()).collect();
        assert_eq!(payloads, [&b"one"[..], b"two", b"three"]);
        // Cut short: an error, or (cut between two copies) the copies
        // before the cut.
        for cut in 1..record.len() {
            if let Ok(prefix) = decode_journal(&record[..cut]) {
                assert!(prefix.len() < 3, "cut at {cut}");
                assert_eq!(copies_in(&record[..cut]), prefix.len());
            }
        }
    }

    #[test]
    fn damaged_records_are_errors() {
        let bytes = encode_message(&message(), Instant::now());
        for cut in 0..bytes.len() {
            assert!(decode_message(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_message(&longer).is_err());
        assert!(decode_session(&[9, 0, 0, 0, 0]).is_err());
        assert!(decode_subscription(&[3, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
