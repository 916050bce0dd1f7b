//! Arbitrary input never panics, and a stored message survives errors.

use proptest::prelude::*;

use super::*;
use crate::TimerKind;

/// Sends `packet`: its events, or none when it is refused, which changes
/// nothing ([`refused`] checks it).
fn try_send<R: Role>(conn: &mut Connection<R>, packet: GenericPacket) -> Vec<Event> {
    let before = format!("{conn:?}");
    match conn.send(packet) {
        Ok(events) => events,
        Err(_) => {
            assert_eq!(format!("{conn:?}"), before, "a refusal changes nothing");
            Vec::new()
        }
    }
}

/// Valid packets first, so that arbitrary bytes meet every state.
fn prefix(step: u8, v: ProtocolVersion) -> Vec<GenericPacket> {
    match step % 3 {
        0 => Vec::new(),
        1 => vec![connect(v, 5)],
        _ => vec![connect(v, 5), publish(v, "t", QoS::ExactlyOnce, Some(1))],
    }
}

proptest! {
    /// Arbitrary bytes to a server (fixed or detected version) and to a
    /// connected client never panic; after an error the connection is
    /// closed and asks to close once.
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
        step in any::<u8>(),
        v5 in any::<bool>(),
    ) {
        let v = if v5 { V5 } else { V3 };
        let mut s = Connection::<Server>::with_options(v, options());
        let mut buf = wire(prefix(step, v));
        buf.extend_from_slice(&bytes);
        let events = s.recv(&mut buf);
        let closes_asked = events.iter().filter(|e| **e == GenericEvent::RequestClose).count();
        prop_assert!(closes_asked <= 1);
        if !errors(&events).is_empty() {
            prop_assert_eq!(s.state(), ConnectionState::Closed);
        }

        let mut d = Connection::<Server>::detect_version();
        let mut buf = BytesMut::from(&bytes[..]);
        let _ = d.recv(&mut buf);

        let mut c = client(v);
        let id = c.acquire_packet_id().unwrap();
        send(&mut c, publish(v, "t", QoS::AtLeastOnce, Some(id)));
        let mut buf = BytesMut::from(&bytes[..]);
        let _ = c.recv(&mut buf);
        // Never a stored message lost.
        prop_assert!(c.session().flow_state(id).is_some());
        let _ = c.notify_closed();
        prop_assert_eq!(c.state(), ConnectionState::Disconnected);
    }

    /// Arbitrary sequences of calls never panic; a refused send changes
    /// nothing.
    #[test]
    fn arbitrary_calls_never_panic(ops in proptest::collection::vec(0u8..12, 0..40), v5 in any::<bool>()) {
        let v = if v5 { V5 } else { V3 };
        let mut c = Connection::<Client>::with_options(v, options());
        let mut s = Connection::<Server>::with_options(v, options());
        for op in ops {
            let events = match op {
                0 => try_send(&mut c, connect(v, 1)),
                1 => try_send(&mut s, connack(v)),
                2 => {
                    let id = c.acquire_packet_id().unwrap_or(1);
                    try_send(&mut c, publish(v, "t", QoS::ExactlyOnce, Some(id)))
                }
                3 => try_send(&mut s, publish(v, "t", QoS::AtLeastOnce, Some(7))),
                4 => c.notify_timer_fired(TimerKind::PingreqSend),
                5 => c.notify_timer_fired(TimerKind::PingrespRecv),
                6 => s.notify_timer_fired(TimerKind::PingreqRecv),
                7 => c.notify_closed(),
                8 => s.notify_closed(),
                9 => c.release_packet_id(1),
                10 => try_send(&mut s, publish(v, "u", QoS::AtMostOnce, None)),
                _ => try_send(&mut c, publish(v, "u", QoS::AtMostOnce, None)),
            };
            // Deliver what either side sent to the other.
            let to_server = if op % 2 == 0 { sent(&events) } else { Vec::new() };
            let to_client = if op % 2 == 1 { sent(&events) } else { Vec::new() };
            let events = feed(&mut s, to_server);
            feed(&mut c, sent(&events));
            feed(&mut c, to_client);
        }
    }
}
