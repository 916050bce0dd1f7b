//! Export and import of the whole session state, so that a process that
//! restarts resumes where it stopped.
//!
//! The format: a header of our own, then the state, stored packets in their
//! encoded MQTT form. All integers are big-endian, as in MQTT.
//!
//! ```text
//! magic "MQSS" | format version (2) | id width (2 or 4) | protocol level (4 or 5)
//! flags (bit 0: expiry deadline present, bit 1: queue QoS 0 offline)
//! session expiry interval u32 | [ms until the session expires u64]
//! our receive maximum u16 | queue max messages u64 | queue max bytes u64
//! pool cursor u32 | ranges of ids in use: count u32, (first u32, last u32)*
//! QoS 2 ids received: count u32, (first u32, last u32)*
//! flows: count u32, (flags u8 [bit 0: deadline], [ms left u64], PUBLISH or PUBREL)*
//! queue: count u32, (flags u8 [bit 0: deadline], [ms left u64], PUBLISH)*
//!   (at QoS > 0 with the identifier it was numbered with, in use in the pool)
//! ```
//!
//! Times are stored as what is left relative to the `now` of the export and
//! restored relative to the `now` of the import: the time between the two is
//! not counted, unless the caller says how long it was
//! ([`Session::import_after`]).

use bytes::{Buf, BufMut, BytesMut};
use core::num::NonZeroU16;
use core::time::Duration;

use mqtt_codec::{v3_1_1, v5_0, Decoder, GenericPacket, PacketId, ProtocolVersion, QoS};

use crate::id_pool::IdSet;
use crate::incoming::Incoming;
use crate::message::{Publish, Pubrel};
use crate::outgoing::{Held, InFlight};
use crate::queue::{Limits, Pending, Queue};
use crate::{MonotonicTime, PacketIdPool, Session, SessionConfig, SessionError};

const MAGIC: &[u8; 4] = b"MQSS";
/// 2: queued messages carry the packet identifiers they were numbered
/// with (1 had a stand-in 1), which the pool holds.
const FORMAT_VERSION: u8 = 2;
const FLAG_DEADLINE: u8 = 1;
const FLAG_QOS0_OFFLINE: u8 = 2;

impl<P: PacketId> Session<P> {
    /// The whole session state as bytes, for [`import`](Self::import) to
    /// restore: packet identifiers in use, stored flows with their packets,
    /// QoS 2 identifiers received, the pending queue, expiry bookkeeping
    /// relative to `now`, and the configuration. Not part of it, as they
    /// belong to one network connection (§4.9): whether connected, the send
    /// quota, the count of unacknowledged received PUBLISH packets.
    ///
    /// ```
    /// use mqtt_codec::ProtocolVersion;
    /// use mqtt_session::{MonotonicTime, Session};
    ///
    /// let mut session = Session::<u16>::new(ProtocolVersion::V5_0);
    /// session.register_packet_id(7)?;
    /// let now = MonotonicTime::from_millis(5_000);
    /// let bytes = session.export(now);
    /// let restored = Session::<u16>::import(&bytes, MonotonicTime::ZERO)?;
    /// assert!(restored.packet_ids().is_in_use(7));
    /// assert_eq!(restored.export(MonotonicTime::ZERO), bytes);
    /// # Ok::<(), mqtt_session::SessionError>(())
    /// ```
    pub fn export(&self, now: MonotonicTime) -> Vec<u8> {
        let pool_ranges = self.pool.set().ranges();
        let qos2_ranges = self.incoming.qos2().ranges();
        let packets: usize = self
            .in_flight
            .iter()
            .map(|(_, h)| self.held_len(h) + 9)
            .sum::<usize>()
            + self
                .queue
                .iter()
                .map(|p| p.message.packet_len::<P>(self.version) + 9)
                .sum::<usize>();
        let mut out =
            Vec::with_capacity(64 + 8 * (pool_ranges.len() + qos2_ranges.len()) + packets);
        out.put_slice(MAGIC);
        out.put_u8(FORMAT_VERSION);
        out.put_u8(P::WIRE_LEN as u8);
        out.put_u8(self.version.level());
        let mut flags = 0;
        if self.expires_at.is_some() {
            flags |= FLAG_DEADLINE;
        }
        if self.config.queue_qos0_offline {
            flags |= FLAG_QOS0_OFFLINE;
        }
        out.put_u8(flags);
        out.put_u32(self.session_expiry_interval);
        if let Some(at) = self.expires_at {
            out.put_u64(at.as_millis().saturating_sub(now.as_millis()));
        }
        out.put_u16(self.incoming.receive_maximum().get());
        out.put_u64(self.config.queue_max_messages as u64);
        out.put_u64(self.config.queue_max_bytes as u64);
        out.put_u32(self.pool.cursor());
        put_ranges(&mut out, &pool_ranges);
        put_ranges(&mut out, &qos2_ranges);
        out.put_u32(self.in_flight.len() as u32);
        for (id, held) in self.in_flight.iter() {
            match held {
                Held::Publish { message, deadline } => {
                    put_deadline(&mut out, *deadline, now);
                    let publish = Publish::from_message(self.version, message.clone(), id);
                    put_packet(&mut out, |b| publish.encode(b));
                }
                Held::Pubrel(pubrel) => {
                    put_deadline(&mut out, None, now);
                    put_packet(&mut out, |b| pubrel.encode(b));
                }
            }
        }
        out.put_u32(self.queue.len() as u32);
        for pending in self.queue.iter() {
            put_deadline(&mut out, pending.deadline, now);
            let id = pending.id.unwrap_or_default();
            let publish = Publish::from_message(self.version, pending.message.clone(), id);
            put_packet(&mut out, |b| publish.encode(b));
        }
        out
    }

    /// The bytes a stored flow's packet takes.
    fn held_len(&self, held: &Held<P>) -> usize {
        match held {
            Held::Publish { message, .. } => message.packet_len::<P>(self.version),
            Held::Pubrel(pubrel) => pubrel.encoded_len(),
        }
    }

    /// Restores a session from the bytes of [`export`](Self::export),
    /// disconnected, counting no time between the export and `now`: what
    /// was left of each interval at the export is left at `now`.
    ///
    /// Errs on bytes that are not an exported session of this format version
    /// and identifier width, are cut short or have bytes left over, or hold
    /// an inconsistent state (a flow whose identifier is not in use, two
    /// flows with one identifier, a packet of the wrong type). Never panics;
    /// allocates in proportion to the length of `bytes`.
    pub fn import(bytes: &[u8], now: MonotonicTime) -> Result<Self, SessionError> {
        Self::import_after(bytes, now, Duration::ZERO)
    }

    /// Like [`import`](Self::import), counting `elapsed` as passed since the
    /// export (for example the downtime a wall clock measured), so that
    /// Message Expiry and Session Expiry include it.
    pub fn import_after(
        bytes: &[u8],
        now: MonotonicTime,
        elapsed: Duration,
    ) -> Result<Self, SessionError> {
        let elapsed = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let at = |left: u64| {
            MonotonicTime::from_millis(now.as_millis().saturating_add(left.saturating_sub(elapsed)))
        };
        let mut r = BytesMut::from(bytes);
        if take(&mut r, 4)?.as_ref() != MAGIC {
            return Err(SessionError::InvalidState("not an exported session"));
        }
        let format = get_u8(&mut r)?;
        if format != FORMAT_VERSION {
            return Err(SessionError::UnsupportedFormat(format));
        }
        let width = get_u8(&mut r)?;
        if usize::from(width) != P::WIRE_LEN {
            return Err(SessionError::PacketIdWidthMismatch {
                expected: P::WIRE_LEN as u8,
                found: width,
            });
        }
        let version = ProtocolVersion::from_level(get_u8(&mut r)?)
            .ok_or(SessionError::InvalidState("unknown protocol level"))?;
        let flags = get_u8(&mut r)?;
        if flags & !(FLAG_DEADLINE | FLAG_QOS0_OFFLINE) != 0 {
            return Err(SessionError::InvalidState("unknown flags"));
        }
        let session_expiry_interval = get_u32(&mut r)?;
        let expires_at = if flags & FLAG_DEADLINE != 0 {
            Some(at(get_u64(&mut r)?))
        } else {
            None
        };
        let receive_maximum = NonZeroU16::new(get_u16(&mut r)?)
            .ok_or(SessionError::InvalidState("receive maximum 0"))?;
        let queue_max_messages = usize::try_from(get_u64(&mut r)?).unwrap_or(usize::MAX);
        let queue_max_bytes = usize::try_from(get_u64(&mut r)?).unwrap_or(usize::MAX);
        let cursor = get_u32(&mut r)?;
        let pool = PacketIdPool::<P>::from_parts(get_ranges::<P>(&mut r)?, cursor);
        let qos2 = get_ranges::<P>(&mut r)?;

        let config = SessionConfig {
            queue_max_messages,
            queue_max_bytes,
            queue_qos0_offline: flags & FLAG_QOS0_OFFLINE != 0,
            receive_maximum,
            session_expiry_interval,
        };

        let mut decoder = Decoder::<P>::new(version);
        let mut in_flight = InFlight::default();
        for _ in 0..get_u32(&mut r)? {
            let deadline = get_deadline(&mut r, &at)?;
            let (id, held) = match get_packet(&mut decoder, &mut r)? {
                Stored::Publish(publish) if publish.qos() != QoS::AtMostOnce => (
                    publish.packet_id(),
                    Held::Publish {
                        message: publish.into_message(),
                        deadline,
                    },
                ),
                Stored::Pubrel(pubrel) if deadline.is_none() => {
                    (Some(pubrel.packet_id()), Held::Pubrel(pubrel))
                }
                _ => {
                    return Err(SessionError::InvalidState(
                        "a flow holds a packet of the wrong kind",
                    ))
                }
            };
            let id = id.ok_or(SessionError::InvalidState(
                "a flow without a packet identifier",
            ))?;
            if in_flight.contains(id) {
                return Err(SessionError::InvalidState(
                    "two flows with one packet identifier",
                ));
            }
            if !pool.is_in_use(id) {
                return Err(SessionError::InvalidState(
                    "a flow whose packet identifier is not in use",
                ));
            }
            in_flight.push(id, held, false);
        }
        let mut queue = Queue::new();
        for _ in 0..get_u32(&mut r)? {
            let deadline = get_deadline(&mut r, &at)?;
            let Stored::Publish(publish) = get_packet(&mut decoder, &mut r)? else {
                return Err(SessionError::InvalidState(
                    "a queued packet that is not a PUBLISH",
                ));
            };
            let id = publish.packet_id();
            if let Some(id) = id {
                if in_flight.contains(id) || queue.holds(id) || !pool.is_in_use(id) {
                    return Err(SessionError::InvalidState(
                        "a queued message whose packet identifier is not its own",
                    ));
                }
            }
            // Cannot fail: no limit holds during the import, and
            // nothing expires at time zero.
            let pending = Pending::new(publish.into_message(), id, version, deadline);
            let _ = queue.try_push(pending, Limits::NONE, MonotonicTime::ZERO, &mut Vec::new());
        }
        if r.has_remaining() {
            return Err(SessionError::InvalidState("bytes left over"));
        }
        let mut incoming = Incoming::new(receive_maximum);
        incoming.set_qos2(qos2);
        let mut session = Session::with_config(version, config);
        session.pool = pool;
        session.in_flight = in_flight;
        session.incoming = incoming;
        session.queue = queue;
        session.expires_at = expires_at;
        Ok(session)
    }
}

fn put_ranges(out: &mut Vec<u8>, ranges: &[(u32, u32)]) {
    out.put_u32(ranges.len() as u32);
    for &(first, last) in ranges {
        out.put_u32(first);
        out.put_u32(last);
    }
}

fn put_deadline(out: &mut Vec<u8>, deadline: Option<MonotonicTime>, now: MonotonicTime) {
    match deadline {
        Some(at) => {
            out.put_u8(FLAG_DEADLINE);
            out.put_u64(at.as_millis().saturating_sub(now.as_millis()));
        }
        None => out.put_u8(0),
    }
}

fn put_packet<F>(out: &mut Vec<u8>, encode: F)
where
    F: FnOnce(&mut Vec<u8>) -> Result<usize, mqtt_codec::EncodeError>,
{
    // Cannot fail: a Vec grows as needed, and the session refuses packets
    // larger than MQTT can frame when they are handed in.
    let _ = encode(out);
}

fn take(r: &mut BytesMut, n: usize) -> Result<BytesMut, SessionError> {
    if r.remaining() < n {
        return Err(SessionError::InvalidState("cut short"));
    }
    Ok(r.split_to(n))
}

fn get_u8(r: &mut BytesMut) -> Result<u8, SessionError> {
    Ok(take(r, 1)?.get_u8())
}
fn get_u16(r: &mut BytesMut) -> Result<u16, SessionError> {
    Ok(take(r, 2)?.get_u16())
}
fn get_u32(r: &mut BytesMut) -> Result<u32, SessionError> {
    Ok(take(r, 4)?.get_u32())
}
fn get_u64(r: &mut BytesMut) -> Result<u64, SessionError> {
    Ok(take(r, 8)?.get_u64())
}

fn get_deadline(
    r: &mut BytesMut,
    at: &impl Fn(u64) -> MonotonicTime,
) -> Result<Option<MonotonicTime>, SessionError> {
    match get_u8(r)? {
        0 => Ok(None),
        FLAG_DEADLINE => Ok(Some(at(get_u64(r)?))),
        _ => Err(SessionError::InvalidState("unknown flags")),
    }
}

/// Reads ranges of identifiers: ascending, disjoint, not adjacent, within
/// `1..=P::MAX`, as `export` writes them.
fn get_ranges<P: PacketId>(r: &mut BytesMut) -> Result<IdSet, SessionError> {
    let count = get_u32(r)?;
    let max = P::MAX.to_u32();
    let mut set = IdSet::new(max);
    let mut next_allowed = 1u64;
    for _ in 0..count {
        let first = get_u32(r)?;
        let last = get_u32(r)?;
        if u64::from(first) < next_allowed || first > last || last > max {
            return Err(SessionError::InvalidState(
                "packet identifier ranges out of order",
            ));
        }
        next_allowed = u64::from(last) + 2;
        set.insert_range(first, last);
    }
    Ok(set)
}

enum Stored<P: PacketId> {
    Publish(Publish<P>),
    Pubrel(Pubrel<P>),
}

/// Reads one stored packet: a PUBLISH with its full Topic Name and no Topic
/// Alias, as the session stores them, or a PUBREL.
fn get_packet<P: PacketId>(
    decoder: &mut Decoder<P>,
    r: &mut BytesMut,
) -> Result<Stored<P>, SessionError> {
    match decoder.decode(r)? {
        Some(GenericPacket::V5_0(v5_0::Packet::Publish(p))) if p.topic_alias().is_some() => Err(
            SessionError::InvalidState("a stored PUBLISH with a Topic Alias"),
        ),
        None => Err(SessionError::InvalidState("cut short")),
        Some(GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p))) => Ok(Stored::Publish(p.into())),
        Some(GenericPacket::V5_0(v5_0::Packet::Publish(p))) => Ok(Stored::Publish(p.into())),
        Some(GenericPacket::V3_1_1(v3_1_1::Packet::Pubrel(p))) => {
            Ok(Stored::Pubrel(Pubrel::V3_1_1(p)))
        }
        Some(GenericPacket::V5_0(v5_0::Packet::Pubrel(p))) => Ok(Stored::Pubrel(Pubrel::V5_0(p))),
        Some(_) => Err(SessionError::InvalidState(
            "a stored packet is neither PUBLISH nor PUBREL",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Outbound, Outgoing, PubrecOutcome};

    fn at(secs: u64) -> MonotonicTime {
        MonotonicTime::from_millis(secs * 1000)
    }

    fn message(qos: QoS, expiry: Option<u32>) -> mqtt_codec::Message {
        mqtt_codec::Message::builder()
            .try_topic_name("a/b")
            .unwrap()
            .qos(qos)
            .payload(&b"data"[..])
            .properties(mqtt_codec::MessageProperties {
                message_expiry_interval: expiry,
                ..Default::default()
            })
            .build()
            .unwrap()
    }

    /// A session with something of everything.
    fn rich() -> Session<u32> {
        let config = SessionConfig {
            session_expiry_interval: 300,
            queue_max_messages: 50,
            ..Default::default()
        };
        let mut s = Session::<u32>::with_config(ProtocolVersion::V5_0, config);
        s.on_connected(false, NonZeroU16::new(3).unwrap(), at(0));
        for qos in [QoS::ExactlyOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            assert!(matches!(
                s.publish(message(qos, Some(100)), at(0)),
                Ok(Outbound::Send(_))
            ));
        }
        assert!(matches!(
            s.on_pubrec(1, false),
            Ok(PubrecOutcome::Release(_))
        ));
        s.publish(message(QoS::AtLeastOnce, Some(50)), at(0))
            .unwrap();
        s.publish(message(QoS::AtMostOnce, None), at(0)).unwrap();
        s.register_packet_id(70_000).unwrap();
        s.on_publish(QoS::ExactlyOnce, Some(8)).unwrap();
        s.on_publish(QoS::ExactlyOnce, Some(9)).unwrap();
        s.on_disconnected(at(10));
        s
    }

    /// The whole state survives export and import, times relative to `now`,
    /// queued messages with the identifiers they were numbered with.
    #[test]
    fn round_trip() {
        let s = rich();
        let bytes = s.export(at(20));
        assert_eq!(bytes[4], 2, "format version 2");
        let mut r = Session::<u32>::import(&bytes, at(1_000)).unwrap();
        assert_eq!(r.export(at(1_000)), bytes);
        assert_eq!(r.version(), ProtocolVersion::V5_0);
        assert_eq!(
            r.packet_ids().iter().collect::<Vec<_>>(),
            [1, 2, 3, 4, 70_000]
        );
        assert_eq!(r.queued_packet_ids().collect::<Vec<_>>(), [4]);
        assert!(r.is_qos2_pending(8) && r.is_qos2_pending(9));
        assert_eq!(r.queue_len(), 2);
        assert_eq!(r.session_expiry_interval(), 300);
        assert_eq!(r.config().queue_max_messages, 50);
        // Session Expiry: 290 s were left at the export.
        assert!(!r.is_expired(at(1_289)));
        assert!(r.is_expired(at(1_290)));
        // Message Expiry: 80 s left on the stored ones.
        let resend = r.on_connected(true, NonZeroU16::new(10).unwrap(), at(1_000));
        let summary: Vec<_> = resend
            .iter()
            .map(|o| match o {
                Outgoing::Publish(p) => (p.packet_id(), p.message_expiry_interval()),
                Outgoing::Pubrel(p) => (Some(p.packet_id()), None),
            })
            .collect();
        assert_eq!(
            summary,
            [(Some(1), None), (Some(2), Some(80)), (Some(3), Some(80))]
        );
        let next = r.pop_ready(at(1_000)).unwrap();
        assert_eq!(next.message_expiry_interval(), Some(30));
        assert_eq!(next.packet_id(), Some(4));
    }

    /// Messages queued offline keep their identifiers through an export, an
    /// import and a connection without a present session.
    #[test]
    fn queued_ids_survive_a_restart() {
        let mut s = Session::<u16>::new(ProtocolVersion::V5_0);
        for qos in [QoS::ExactlyOnce, QoS::AtMostOnce, QoS::AtLeastOnce] {
            s.publish(message(qos, None), at(0)).unwrap();
        }
        let mut r = Session::<u16>::import(&s.export(at(0)), at(0)).unwrap();
        assert_eq!(r.queued_packet_ids().collect::<Vec<_>>(), [1, 2]);
        assert!(r.on_connected(false, NonZeroU16::MAX, at(0)).is_empty());
        assert_eq!(r.packet_ids().iter().collect::<Vec<_>>(), [1, 2]);
        let sent: Vec<_> = core::iter::from_fn(|| r.pop_ready(at(0)))
            .map(|p| (p.qos(), p.packet_id()))
            .collect();
        assert_eq!(
            sent,
            [
                (QoS::ExactlyOnce, Some(1)),
                (QoS::AtMostOnce, None),
                (QoS::AtLeastOnce, Some(2))
            ]
        );
    }

    /// Downtime told to `import_after` counts for both expiries.
    #[test]
    fn import_after_counts_the_downtime() {
        let bytes = rich().export(at(20));
        let mut r = Session::<u32>::import_after(&bytes, at(0), Duration::from_secs(60)).unwrap();
        assert!(r.is_expired(at(230)));
        r.on_connected(true, NonZeroU16::new(10).unwrap(), at(0));
        // The queued QoS 1 message had 30 s left: it expired in the downtime.
        assert_eq!(r.pop_ready(at(0)).unwrap().qos(), QoS::AtMostOnce);
    }

    /// Bytes cut anywhere are a typed error, never a panic.
    #[test]
    fn truncation_is_an_error() {
        let bytes = rich().export(at(20));
        for len in 0..bytes.len() {
            assert!(
                Session::<u32>::import(&bytes[..len], at(0)).is_err(),
                "cut at {len}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            Session::<u32>::import(&longer, at(0)).unwrap_err(),
            SessionError::InvalidState("bytes left over")
        );
    }

    #[test]
    fn header_is_checked() {
        let bytes = rich().export(at(20));
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert_eq!(
            Session::<u32>::import(&bad, at(0)).unwrap_err(),
            SessionError::InvalidState("not an exported session")
        );
        // Format 1 had a stand-in identifier on queued messages.
        for format in [0, 1, 3] {
            let mut bad = bytes.clone();
            bad[4] = format;
            assert_eq!(
                Session::<u32>::import(&bad, at(0)).unwrap_err(),
                SessionError::UnsupportedFormat(format)
            );
        }
        assert_eq!(
            Session::<u16>::import(&bytes, at(0)).unwrap_err(),
            SessionError::PacketIdWidthMismatch {
                expected: 2,
                found: 4
            }
        );
        let mut bad = bytes.clone();
        bad[6] = 3;
        assert!(Session::<u32>::import(&bad, at(0)).is_err());
    }

    /// A flow whose identifier is not among those in use is refused.
    #[test]
    fn inconsistent_state_is_refused() {
        let mut s = Session::<u16>::new(ProtocolVersion::V3_1_1);
        s.on_connected(false, NonZeroU16::MAX, at(0));
        let m = message(QoS::AtLeastOnce, None);
        s.publish(m, at(0)).unwrap();
        let mut bytes = s.export(at(0));
        // Header 8, interval 4, receive maximum 2, queue limits 16, cursor 4:
        // the count of pool ranges is at 34; make it 0.
        assert_eq!(&bytes[34..38], [0, 0, 0, 1]);
        bytes.splice(34..46, [0, 0, 0, 0]);
        assert_eq!(
            Session::<u16>::import(&bytes, at(0)).unwrap_err(),
            SessionError::InvalidState("a flow whose packet identifier is not in use")
        );
    }

    /// A queued message whose identifier is not in use, or is another
    /// queued message's or a flow's, is refused [MQTT-2.2.1-3].
    #[test]
    fn queued_ids_are_checked() {
        let m = mqtt_codec::Message::builder()
            .try_topic_name("t")
            .unwrap()
            .qos(QoS::AtLeastOnce)
            .build()
            .unwrap();
        let refused =
            SessionError::InvalidState("a queued message whose packet identifier is not its own");
        // Queued 1 and 2, the PUBLISH of 2 made to carry 1; then the same
        // behind a flow of 1.
        for connected in [false, true] {
            let mut s = Session::<u16>::new(ProtocolVersion::V3_1_1);
            if connected {
                s.on_connected(false, NonZeroU16::MIN, at(0));
            }
            s.publish(m.clone(), at(0)).unwrap();
            s.publish(m.clone(), at(0)).unwrap();
            assert_eq!(s.queue_len(), if connected { 1 } else { 2 });
            let mut bytes = s.export(at(0));
            assert!(Session::<u16>::import(&bytes, at(0)).is_ok());
            // The last PUBLISH has no payload: its identifier ends the bytes.
            let len = bytes.len();
            assert_eq!(bytes[len - 2..], [0, 2]);
            bytes[len - 1] = 1;
            assert_eq!(Session::<u16>::import(&bytes, at(0)).unwrap_err(), refused);
        }
        // Queued 1, the pool emptied.
        let mut s = Session::<u16>::new(ProtocolVersion::V3_1_1);
        s.publish(m, at(0)).unwrap();
        let mut bytes = s.export(at(0));
        assert_eq!(&bytes[34..38], [0, 0, 0, 1]);
        bytes.splice(34..46, [0, 0, 0, 0]);
        assert_eq!(Session::<u16>::import(&bytes, at(0)).unwrap_err(), refused);
    }

    /// Overlapping or unordered identifier ranges are refused.
    #[test]
    fn bad_ranges_are_refused() {
        let s = Session::<u16>::new(ProtocolVersion::V3_1_1);
        let bytes = s.export(at(0));
        let mut bad = bytes[..34].to_vec();
        bad.extend([0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 9, 0, 0, 0, 7, 0, 0, 0, 8]);
        bad.extend(&bytes[38..]);
        assert_eq!(
            Session::<u16>::import(&bad, at(0)).unwrap_err(),
            SessionError::InvalidState("packet identifier ranges out of order")
        );
        let mut bad = bytes[..34].to_vec();
        bad.extend([0, 0, 0, 1, 0, 0, 0, 5, 0, 1, 0, 0]);
        bad.extend(&bytes[38..]);
        assert!(Session::<u16>::import(&bad, at(0)).is_err());
    }
}
