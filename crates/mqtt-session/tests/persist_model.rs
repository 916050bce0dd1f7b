//! Property tests of export and import: export → import → export is the
//! identity for any reachable state, of either version and identifier
//! width; imports of damaged or arbitrary bytes err or succeed, never panic.

use std::num::NonZeroU16;

use mqtt_codec::{Message, MessageProperties, PacketId, ProtocolVersion, QoS};
use mqtt_session::{MonotonicTime, Session, SessionConfig};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Publish {
        qos: u8,
        expiry: Option<u32>,
        len: usize,
    },
    Ack {
        nth: usize,
        failure: bool,
    },
    Receive {
        qos: u8,
        id: u32,
    },
    Release {
        id: u32,
    },
    Register {
        id: u32,
    },
    Disconnect {
        secs: u32,
    },
    Connect {
        present: bool,
        receive_maximum: u16,
    },
    Tick {
        secs: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3u8, proptest::option::of(0..200u32), 0..40usize)
            .prop_map(|(qos, expiry, len)| Op::Publish { qos, expiry, len }),
        3 => (0..8usize, any::<bool>()).prop_map(|(nth, failure)| Op::Ack { nth, failure }),
        2 => (1..3u8, 1..20u32).prop_map(|(qos, id)| Op::Receive { qos, id }),
        1 => (1..20u32).prop_map(|id| Op::Release { id }),
        1 => prop_oneof![1..100u32, Just(u32::from(u16::MAX)), Just(u32::MAX)].prop_map(|id| Op::Register { id }),
        1 => prop_oneof![Just(0u32), 1..100u32, Just(u32::MAX)].prop_map(|secs| Op::Disconnect { secs }),
        1 => (any::<bool>(), 1..6u16).prop_map(|(present, receive_maximum)| Op::Connect { present, receive_maximum }),
        1 => (0..100u32).prop_map(|secs| Op::Tick { secs }),
    ]
}

/// A message of `len` bytes; RETAIN on even lengths. Its properties
/// (Message Expiry) count on v5.0 only: v3.1.1 cannot carry them.
fn message(qos: u8, expiry: Option<u32>, len: usize) -> Message {
    let qos = QoS::from_u8(qos).expect("0..3");
    Message::builder()
        .try_topic_name("x/y")
        .expect("valid")
        .qos(qos)
        .payload(vec![0xA5u8; len])
        .retain(len % 2 == 0)
        .properties(MessageProperties {
            message_expiry_interval: expiry,
            ..Default::default()
        })
        .build()
        .expect("valid")
}

/// Drives a session through `ops`, ignoring refusals (they are part of the
/// state space), and returns it with the time reached.
fn build<P: PacketId>(version: ProtocolVersion, ops: &[Op]) -> (Session<P>, MonotonicTime) {
    let mut config = SessionConfig::default();
    config.queue_max_messages = 20;
    config.receive_maximum = NonZeroU16::new(7).expect("non-zero");
    let mut s = Session::<P>::with_config(version, config);
    let mut now = MonotonicTime::ZERO;
    for op in ops {
        match *op {
            Op::Publish { qos, expiry, len } => {
                let _ = s.publish(message(qos, expiry, len), now);
            }
            Op::Ack { nth, failure } => {
                let flows: Vec<_> = s.in_flight().collect();
                if let Some(&(id, state)) = flows.get(nth) {
                    let _ = match state {
                        mqtt_session::FlowState::AwaitingPuback => s.on_puback(id).map(|_| ()),
                        mqtt_session::FlowState::AwaitingPubrec => {
                            s.on_pubrec(id, failure).map(|_| ())
                        }
                        mqtt_session::FlowState::AwaitingPubcomp => s.on_pubcomp(id),
                    };
                }
                while s.pop_ready(now).is_some() {}
            }
            Op::Receive { qos, id } => {
                let qos = QoS::from_u8(qos).expect("1..3");
                let _ = s.on_publish(qos, P::from_u32(id));
            }
            Op::Release { id } => {
                if let Some(id) = P::from_u32(id) {
                    let _ = s.on_pubrel(id);
                }
            }
            Op::Register { id } => {
                if let Some(id) = P::from_u32(id) {
                    let _ = s.register_packet_id(id);
                }
            }
            Op::Disconnect { secs } => {
                s.set_session_expiry_interval(secs);
                s.on_disconnected(now);
            }
            Op::Connect {
                present,
                receive_maximum,
            } => {
                let rm = NonZeroU16::new(receive_maximum).expect("non-zero");
                let _ = s.on_connected(present, rm, now);
            }
            Op::Tick { secs } => {
                now = MonotonicTime::from_millis(now.as_millis() + u64::from(secs) * 1000)
            }
        }
    }
    (s, now)
}

fn identity<P: PacketId>(
    version: ProtocolVersion,
    ops: &[Op],
    later: u64,
) -> Result<(), TestCaseError> {
    let (s, now) = build::<P>(version, ops);
    let bytes = s.export(now);
    let restored =
        Session::<P>::import(&bytes, now).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(restored.export(now), bytes.clone());
    // Any import time: the times are relative.
    let then = MonotonicTime::from_millis(later);
    let restored =
        Session::<P>::import(&bytes, then).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(restored.export(then), bytes);
    prop_assert_eq!(
        restored.in_flight().collect::<Vec<_>>(),
        s.in_flight().collect::<Vec<_>>()
    );
    prop_assert_eq!(
        restored.packet_ids().iter().collect::<Vec<_>>(),
        s.packet_ids().iter().collect::<Vec<_>>()
    );
    prop_assert_eq!(restored.queue_len(), s.queue_len());
    prop_assert_eq!(restored.queue_bytes(), s.queue_bytes());
    Ok(())
}

fn versions() -> impl Strategy<Value = ProtocolVersion> {
    prop_oneof![Just(ProtocolVersion::V3_1_1), Just(ProtocolVersion::V5_0)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn export_import_export_is_identity_u16(
        version in versions(),
        ops in proptest::collection::vec(op(), 0..120),
        later in any::<u32>(),
    ) {
        identity::<u16>(version, &ops, u64::from(later))?;
    }

    #[test]
    fn export_import_export_is_identity_u32(
        version in versions(),
        ops in proptest::collection::vec(op(), 0..120),
        later in any::<u32>(),
    ) {
        identity::<u32>(version, &ops, u64::from(later))?;
    }

    /// Damaged exports: a byte changed, bytes cut off. Whatever imports
    /// must export to itself again.
    #[test]
    fn damaged_exports_never_panic(
        version in versions(),
        ops in proptest::collection::vec(op(), 0..60),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let (s, now) = build::<u16>(version, &ops);
        let mut bytes = s.export(now);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        if let Ok(restored) = Session::<u16>::import(&bytes, now) {
            let again = restored.export(now);
            let twice = Session::<u16>::import(&again, now).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(twice.export(now), again);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Session::<u16>::import(&bytes, MonotonicTime::ZERO);
        let _ = Session::<u32>::import(&bytes, MonotonicTime::ZERO);
        let mut with_header = b"MQSS\x01\x02\x05".to_vec();
        with_header.extend(&bytes);
        let _ = Session::<u16>::import(&with_header, MonotonicTime::ZERO);
    }
}
