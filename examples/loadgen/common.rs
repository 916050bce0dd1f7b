//! What the load generator and the soak share: flag parsing, the payload
//! header, the packets and messages they build, a small PRNG and the memory
//! of a process.

#![allow(dead_code)] // shared by loadgen and soak, each using a part

use std::collections::HashMap;
use std::num::NonZeroU16;
use std::str::FromStr;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, Message, ProtocolVersion, QoS, TopicName};

/// An error a task reports; `Send` so that tasks may return it.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The bytes every payload starts with: publisher index (u32), sequence
/// number (u64), send time in nanoseconds since a shared origin (u64).
pub const HEADER_LEN: usize = 20;

/// `--name value` flags; `--name` alone (a switch) maps to "true".
pub struct Flags {
    values: HashMap<String, String>,
}

impl Flags {
    /// Parses `args` (without the program name), accepting only the names in
    /// `known` (each given with its leading `--`) and those in `switches`
    /// (flags without a value). Errs on any other word or a missing value.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        known: &[&str],
        switches: &[&str],
    ) -> Result<Flags, String> {
        let mut values = HashMap::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if switches.contains(&arg.as_str()) {
                values.insert(arg, "true".to_string());
            } else if known.contains(&arg.as_str()) {
                let value = args.next().ok_or(format!("{arg} needs a value"))?;
                values.insert(arg, value);
            } else {
                return Err(format!("unknown argument {arg:?} (see --help)"));
            }
        }
        Ok(Flags { values })
    }

    /// Whether switch `name` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// The raw value of `name`, or `default`.
    pub fn string(&self, name: &str, default: &str) -> String {
        self.values
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    /// The value of `name` parsed as `T`, or `default`; errs naming the flag.
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.values.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("{name}: cannot parse {v:?}")),
        }
    }

    /// `--version`: `5` or `3.1.1`.
    pub fn version(&self) -> Result<ProtocolVersion, String> {
        match self.string("--version", "5").trim_start_matches(['v', 'V']) {
            "5" | "5.0" => Ok(ProtocolVersion::V5_0),
            "3" | "3.1.1" | "4" | "311" => Ok(ProtocolVersion::V3_1_1),
            other => Err(format!("unknown MQTT version {other:?}: use 5 or 3.1.1")),
        }
    }

    /// `--qos`: 0, 1 or 2.
    pub fn qos(&self, default: &str) -> Result<QoS, String> {
        qos_of(&self.string("--qos", default))
    }
}

/// `s` as a QoS: `0`, `1` or `2`.
pub fn qos_of(s: &str) -> Result<QoS, String> {
    match s {
        "0" => Ok(QoS::AtMostOnce),
        "1" => Ok(QoS::AtLeastOnce),
        "2" => Ok(QoS::ExactlyOnce),
        other => Err(format!("unknown QoS {other:?}: use 0, 1 or 2")),
    }
}

/// The header at the start of every payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Which publisher sent it.
    pub publisher: u32,
    /// Its sequence number at that publisher, from 0.
    pub seq: u64,
    /// When it was sent: nanoseconds since the shared origin.
    pub sent_ns: u64,
}

impl Header {
    /// A payload of `size` bytes (at least [`HEADER_LEN`]) starting with
    /// this header, padded with zeros.
    pub fn payload(&self, size: usize) -> Bytes {
        let mut buf = BytesMut::with_capacity(size.max(HEADER_LEN));
        buf.put_u32(self.publisher);
        buf.put_u64(self.seq);
        buf.put_u64(self.sent_ns);
        buf.resize(size.max(HEADER_LEN), 0);
        buf.freeze()
    }

    /// The header of `payload`, `None` when it is too short (a message that
    /// is not ours).
    pub fn read(mut payload: &[u8]) -> Option<Header> {
        if payload.len() < HEADER_LEN {
            return None;
        }
        Some(Header {
            publisher: payload.get_u32(),
            seq: payload.get_u64(),
            sent_ns: payload.get_u64(),
        })
    }
}

/// Session settings of a CONNECT.
#[derive(Debug, Clone, Copy)]
pub struct SessionFlags {
    /// Clean Start (v5.0) / Clean Session (v3.1.1).
    pub clean: bool,
    /// v5.0 Session Expiry Interval in seconds (0: ends with the connection).
    pub expiry: u32,
}

/// A CONNECT of `version` announcing the largest Receive Maximum (v5.0) so
/// that the client never throttles the broker.
pub fn connect_packet(
    version: ProtocolVersion,
    client_id: &str,
    keep_alive: u16,
    session: SessionFlags,
) -> Result<GenericPacket, Error> {
    Ok(match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Connect::builder()
                .try_client_id(client_id)?
                .keep_alive(keep_alive)
                .clean_session(session.clean)
                .build()?,
        )
        .into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(
            v5_0::Connect::builder()
                .try_client_id(client_id)?
                .keep_alive(keep_alive)
                .clean_start(session.clean)
                .properties(v5_0::ConnectProperties {
                    receive_maximum: NonZeroU16::new(u16::MAX),
                    session_expiry_interval: (session.expiry > 0).then_some(session.expiry),
                    ..Default::default()
                })
                .build()?,
        )
        .into(),
    })
}

/// A message to `topic` at `qos`, numbered by the connection that
/// publishes it.
pub fn message(topic: &TopicName, qos: QoS, payload: Bytes) -> Result<Message, Error> {
    Ok(Message::builder()
        .topic_name(topic.clone())
        .qos(qos)
        .payload(payload)
        .build()?)
}

/// The payload of a PUBLISH, `None` for other packets.
pub fn payload_of(packet: &GenericPacket) -> Option<&[u8]> {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => Some(p.payload()),
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => Some(p.payload()),
        _ => None,
    }
}

/// The QoS, DUP flag and packet identifier of a PUBLISH.
pub fn publish_flow(packet: &GenericPacket) -> Option<(QoS, bool, Option<u16>)> {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => {
            Some((p.qos(), p.dup(), p.packet_id()))
        }
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => Some((p.qos(), p.dup(), p.packet_id())),
        _ => None,
    }
}

/// The packet identifier of a PUBACK or PUBCOMP (the end of a QoS 1 or 2
/// flow we started), with its type; `None` for other packets.
pub fn flow_end(packet: &GenericPacket) -> Option<(PacketType, u16)> {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Puback(a)) => {
            Some((PacketType::Puback, a.packet_id()))
        }
        GenericPacket::V3_1_1(v3_1_1::Packet::Pubcomp(a)) => {
            Some((PacketType::Pubcomp, a.packet_id()))
        }
        GenericPacket::V5_0(v5_0::Packet::Puback(a)) => Some((PacketType::Puback, a.packet_id())),
        GenericPacket::V5_0(v5_0::Packet::Pubcomp(a)) => Some((PacketType::Pubcomp, a.packet_id())),
        _ => None,
    }
}

/// Whether `packet` is a SUBACK granting every subscription; errs on a
/// refusal, `Ok(false)` for other packets.
pub fn suback_granted(packet: &GenericPacket) -> Result<bool, String> {
    let refused = match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Suback(s)) => s
            .return_codes()
            .contains(&v3_1_1::SubackReturnCode::Failure),
        GenericPacket::V5_0(v5_0::Packet::Suback(s)) => {
            s.reason_codes().iter().any(|c| c.is_failure())
        }
        _ => return Ok(false),
    };
    if refused {
        Err(format!("subscription refused: {packet:?}"))
    } else {
        Ok(true)
    }
}

/// A xorshift64* generator: enough randomness to pick victims and delays.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced by a constant).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The resident memory of process `pid` from `/proc/PID/status`: `(VmRSS,
/// VmHWM)` in KiB. Errs when the process is gone or the file unreadable.
pub fn memory_kib(pid: u32) -> std::io::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = Header {
            publisher: 7,
            seq: 1 << 40,
            sent_ns: 123_456_789,
        };
        let p = h.payload(64);
        assert_eq!(p.len(), 64);
        assert_eq!(Header::read(&p), Some(h));
        assert_eq!(Header::read(&p[..10]), None);
    }
}
