//! Acknowledging received QoS 1 and 2 messages (§4.3): manually, on
//! receipt, or once the application has handled them, in the order a
//! Client keeps (§4.6).

use core::num::NonZeroU16;
use core::time::Duration;

use super::flow::ack;
use super::*;
use crate::{SendError, TimerKind};
use mqtt_codec::v5_0::{PubackProperties, PubackReasonCode};
use mqtt_codec::MqttString;
use mqtt_session::SessionError;

fn after_handling() -> ConnectionOptions {
    let mut o = options();
    o.ack = AckPolicy::AfterHandling;
    o
}

/// The acknowledgements among the packets the events send, with their
/// packet identifiers.
fn acks(events: &[Event]) -> Vec<(PacketType, u16)> {
    use {v3_1_1::Packet as V3, v5_0::Packet as V5};
    sent(events)
        .iter()
        .filter_map(|p| {
            let id = match p {
                GenericPacket::V3_1_1(V3::Puback(a)) => a.packet_id(),
                GenericPacket::V3_1_1(V3::Pubrec(a)) => a.packet_id(),
                GenericPacket::V3_1_1(V3::Pubrel(a)) => a.packet_id(),
                GenericPacket::V3_1_1(V3::Pubcomp(a)) => a.packet_id(),
                GenericPacket::V5_0(V5::Puback(a)) => a.packet_id(),
                GenericPacket::V5_0(V5::Pubrec(a)) => a.packet_id(),
                GenericPacket::V5_0(V5::Pubrel(a)) => a.packet_id(),
                GenericPacket::V5_0(V5::Pubcomp(a)) => a.packet_id(),
                _ => return None,
            };
            Some((p.packet_type(), id))
        })
        .collect()
}

/// `acknowledge(id)`, which must succeed: its events.
#[track_caller]
fn acknowledge<R: Role>(conn: &mut Connection<R>, id: u16) -> Vec<Event> {
    conn.acknowledge(id)
        .unwrap_or_else(|e| panic!("acknowledge({id}): {e:?}"))
}

/// `acknowledge(id)`, which must be refused, changing nothing.
#[track_caller]
fn not_waiting<R: Role>(conn: &mut Connection<R>, id: u16) {
    let before = format!("{conn:?}");
    assert_eq!(
        conn.acknowledge(id),
        Err(SendError::Session(SessionError::PacketIdNotFound(
            id.into()
        )))
    );
    assert_eq!(format!("{conn:?}"), before, "a refusal changes nothing");
}

fn qos1(v: ProtocolVersion, id: u16) -> GenericPacket {
    publish(v, "t", QoS::AtLeastOnce, Some(id))
}

fn qos2(v: ProtocolVersion, id: u16) -> GenericPacket {
    publish(v, "t", QoS::ExactlyOnce, Some(id))
}

use PacketType::{Puback, Pubcomp, Pubrec, Pubrel};

/// With `AckPolicy::Manual` the connection sends no PUBACK, PUBREC, PUBREL
/// or PUBCOMP of its own, and `acknowledge` has nothing to acknowledge.
#[test]
fn manual_sends_no_acknowledgement() {
    for v in [V3, V5] {
        let mut c = client_with(v, manual(), connect(v, 0), connack(v));
        let events = feed(&mut c, [qos1(v, 1), qos2(v, 2), ack(v, Pubrel, 2)]);
        assert_eq!(
            types(&received(&events)),
            [PacketType::Publish, PacketType::Publish, Pubrel]
        );
        assert!(sent(&events).is_empty(), "{events:?}");
        not_waiting(&mut c, 1);
        let id = c.acquire_packet_id().unwrap();
        send(&mut c, qos2(v, id));
        let events = feed(&mut c, [ack(v, Pubrec, id)]);
        assert!(sent(&events).is_empty(), "no automatic PUBREL: {events:?}");
    }
}

/// With `AckPolicy::AfterHandling` a Server acknowledges each message when
/// the application says so, in any order [MQTT-4.3.2-4], [MQTT-4.3.3-8];
/// the PUBCOMP answering the PUBREL is automatic [MQTT-4.3.3-11].
#[test]
fn server_acknowledges_when_handled() {
    for v in [V3, V5] {
        let mut s = server_with(v, after_handling(), connect(v, 0), connack(v));
        let events = feed(&mut s, [qos1(v, 1), qos2(v, 2), qos1(v, 3)]);
        assert_eq!(received(&events).len(), 3);
        assert!(sent(&events).is_empty(), "not handled yet: {events:?}");
        assert_eq!(acks(&acknowledge(&mut s, 3)), [(Puback, 3)]);
        assert_eq!(acks(&acknowledge(&mut s, 2)), [(Pubrec, 2)]);
        not_waiting(&mut s, 3);
        not_waiting(&mut s, 2);
        let events = feed(&mut s, [ack(v, Pubrel, 2)]);
        assert_eq!(acks(&events), [(Pubcomp, 2)]);
        assert_eq!(acks(&acknowledge(&mut s, 1)), [(Puback, 1)]);
        assert_eq!(s.session().unacknowledged_received(), 0);
        not_waiting(&mut s, 9);
    }
}

/// [MQTT-4.6.0-2], [MQTT-4.6.0-3] a Client sends its PUBACK packets in the
/// order the QoS 1 PUBLISH packets arrived, and its PUBREC packets in the
/// order of the QoS 2 ones, whatever order the application handles them
/// in; the two orders are independent.
#[test]
fn client_acknowledges_in_order() {
    for v in [V3, V5] {
        let mut c = client_with(v, after_handling(), connect(v, 0), connack(v));
        let arrived = [qos1(v, 1), qos2(v, 4), qos1(v, 2), qos2(v, 5), qos1(v, 3)];
        let events = feed(&mut c, arrived);
        assert!(sent(&events).is_empty(), "{events:?}");
        assert!(acks(&acknowledge(&mut c, 2)).is_empty(), "1 first");
        assert!(acks(&acknowledge(&mut c, 5)).is_empty(), "4 first");
        // Handled, and waiting: not acknowledged twice.
        not_waiting(&mut c, 2);
        assert_eq!(acks(&acknowledge(&mut c, 4)), [(Pubrec, 4), (Pubrec, 5)]);
        assert_eq!(acks(&acknowledge(&mut c, 1)), [(Puback, 1), (Puback, 2)]);
        assert_eq!(acks(&acknowledge(&mut c, 3)), [(Puback, 3)]);
        // PUBREL and PUBCOMP stay automatic.
        let events = feed(&mut c, [ack(v, Pubrel, 5), ack(v, Pubrel, 4)]);
        assert_eq!(acks(&events), [(Pubcomp, 5), (Pubcomp, 4)]);
        let id = c.acquire_packet_id().unwrap();
        send(&mut c, qos2(v, id));
        let events = feed(&mut c, [ack(v, Pubrec, id)]);
        assert_eq!(acks(&events), [(Pubrel, id)]);
    }
}

/// [MQTT-4.3.3-10] a QoS 2 PUBLISH received again before its PUBREL is not
/// delivered again; before the application handled the first it is not
/// answered either (its PUBREC is yet to come), after that it gets PUBREC
/// again.
#[test]
fn qos2_duplicate_waits_for_the_first() {
    for v in [V3, V5] {
        let mut s = server_with(v, after_handling(), connect(v, 0), connack(v));
        let events = feed(&mut s, [qos2(v, 5)]);
        assert_eq!(received(&events).len(), 1);
        let events = feed(&mut s, [qos2(v, 5)]);
        assert!(
            events.is_empty(),
            "neither delivered nor answered: {events:?}"
        );
        assert_eq!(acks(&acknowledge(&mut s, 5)), [(Pubrec, 5)]);
        let events = feed(&mut s, [qos2(v, 5)]);
        assert!(received(&events).is_empty());
        assert_eq!(acks(&events), [(Pubrec, 5)]);
        not_waiting(&mut s, 5);
    }
}

/// v5.0: `acknowledge_with` carries the application's Reason Code and
/// properties; a PUBREC failure code ends the QoS 2 exchange, after which
/// the identifier is a new message [MQTT-4.3.3-9].
#[test]
fn acknowledge_with_a_reason_code() {
    let reason = || PubackProperties {
        reason_string: Some(MqttString::try_from("nobody listens").unwrap()),
        ..Default::default()
    };
    let mut s = server_with(V5, after_handling(), connect(V5, 0), connack(V5));
    feed(&mut s, [qos1(V5, 1), qos2(V5, 2)]);
    let events = s
        .acknowledge_with(1, PubackReasonCode::NoMatchingSubscribers, reason())
        .unwrap();
    let [GenericPacket::V5_0(v5_0::Packet::Puback(a))] = &sent(&events)[..] else {
        panic!("{events:?}")
    };
    assert_eq!(
        (a.packet_id(), a.reason_code()),
        (1, PubackReasonCode::NoMatchingSubscribers)
    );
    assert_eq!(a.properties(), &reason());
    let events = s
        .acknowledge_with(2, PubackReasonCode::NotAuthorized, reason())
        .unwrap();
    let [GenericPacket::V5_0(v5_0::Packet::Pubrec(r))] = &sent(&events)[..] else {
        panic!("{events:?}")
    };
    assert_eq!(r.reason_code(), v5_0::PubrecReasonCode::NotAuthorized);
    assert_eq!(r.properties().reason_string, reason().reason_string);
    assert!(!s.session().is_qos2_pending(2));
    let events = feed(&mut s, [qos2(V5, 2)]);
    assert_eq!(received(&events).len(), 1, "a new message");
    // Success with no properties is the plain acknowledgement.
    let events = s
        .acknowledge_with(2, PubackReasonCode::Success, PubackProperties::default())
        .unwrap();
    assert_eq!(
        sent(&events),
        [v5_0::Packet::from(v5_0::Pubrec::new(2)).into()]
    );
    assert!(s.session().is_qos2_pending(2));
}

/// A v5.0 client that acknowledges after handling, whose Server accepts
/// packets of 4 bytes at most: a bare acknowledgement.
fn tiny_peer_client() -> Connection<Client> {
    let tiny = connack_v5(v5_0::ConnackProperties {
        maximum_packet_size: core::num::NonZeroU32::new(4),
        ..Default::default()
    });
    client_with(V5, after_handling(), connect(V5, 0), tiny)
}

/// [MQTT-3.2.2-15] an acknowledgement never exceeds the peer's Maximum
/// Packet Size: where even its Reason Code does not fit, the bare PUBACK
/// (Success, 4 bytes) goes.
#[test]
fn acknowledgement_within_a_tiny_maximum_packet_size() {
    let mut c = tiny_peer_client();
    feed(&mut c, [qos1(V5, 1)]);
    let events = c
        .acknowledge_with(
            1,
            PubackReasonCode::NoMatchingSubscribers,
            PubackProperties::default(),
        )
        .unwrap();
    assert_eq!(
        sent(&events),
        [v5_0::Packet::from(v5_0::Puback::new(1)).into()]
    );
    assert_eq!(sent(&events)[0].encoded_len(), 4);
}

/// A failure Reason Code that does not fit the peer's Maximum Packet Size
/// leaves as the bare PUBREC, Success: the QoS 2 exchange goes on as the
/// peer was told, so a duplicate is not delivered again [MQTT-4.3.3-10].
#[test]
fn failure_pubrec_that_does_not_fit_is_a_success() {
    let mut c = tiny_peer_client();
    feed(&mut c, [qos2(V5, 2)]);
    let events = c
        .acknowledge_with(
            2,
            PubackReasonCode::NotAuthorized,
            PubackProperties::default(),
        )
        .unwrap();
    assert_eq!(
        sent(&events),
        [v5_0::Packet::from(v5_0::Pubrec::new(2)).into()]
    );
    assert!(c.session().is_qos2_pending(2));
    let events = feed(&mut c, [qos2(V5, 2)]);
    assert!(received(&events).is_empty(), "{events:?}");
}

/// v3.1.1 has no Reason Codes: `acknowledge_with` sends the plain PUBREC,
/// and the QoS 2 exchange goes on: a duplicate is not delivered again
/// [MQTT-4.3.3-10] (v3.1.1 [MQTT-4.3.3-2]).
#[test]
fn v3_acknowledge_with_ignores_the_code() {
    let mut s = server_with(V3, after_handling(), connect(V3, 0), connack(V3));
    feed(&mut s, [qos2(V3, 2)]);
    let events = s
        .acknowledge_with(
            2,
            PubackReasonCode::NotAuthorized,
            PubackProperties::default(),
        )
        .unwrap();
    assert_eq!(
        sent(&events),
        [v3_1_1::Packet::from(v3_1_1::Pubrec::new(2)).into()]
    );
    assert!(s.session().is_qos2_pending(2));
    let events = feed(&mut s, [qos2(V3, 2)]);
    assert!(received(&events).is_empty(), "{events:?}");
    assert_eq!(acks(&events), [(Pubrec, 2)]);
}

/// Across a reconnection with the session present: a QoS 1 message not
/// acknowledged will come again (a new delivery [MQTT-4.3.2-4]), so it
/// waits no more; a QoS 2 one stays received until its PUBREL
/// [MQTT-4.3.3-10], and its acknowledgement given while disconnected goes
/// after the next CONNACK. Without the session, nothing waits.
#[test]
fn acknowledgements_across_a_reconnection() {
    for v in [V3, V5] {
        let kept = persistent_connect(v, 300);
        let mut c = client_with(v, after_handling(), kept.clone(), connack(v));
        feed(&mut c, [qos1(v, 1), qos2(v, 2), qos2(v, 3)]);
        let _ = c.notify_closed();
        not_waiting(&mut c, 1);
        assert!(acknowledge(&mut c, 2).is_empty(), "disconnected");
        send(&mut c, kept.clone());
        let events = feed(&mut c, [connack_present(v)]);
        assert_eq!(acks(&events), [(Pubrec, 2)]);
        // The re-sent PUBLISH packets are not delivered again.
        let events = feed(&mut c, [qos2(v, 2), qos2(v, 3)]);
        assert!(received(&events).is_empty(), "{events:?}");
        assert_eq!(acks(&events), [(Pubrec, 2)], "3 is not handled yet");
        assert_eq!(acks(&acknowledge(&mut c, 3)), [(Pubrec, 3)]);

        feed(&mut c, [qos2(v, 4)]);
        let _ = c.notify_closed();
        send(&mut c, kept.clone());
        feed(&mut c, [connack(v)]);
        not_waiting(&mut c, 4);
    }
}

/// A session that ends with its network connection (Session Expiry
/// Interval 0, [MQTT-3.1.2-23]) takes its received QoS 2 messages along:
/// one still unacknowledged has nothing left to acknowledge.
#[test]
fn an_expired_session_leaves_nothing_to_acknowledge() {
    let mut c = client_with(V5, after_handling(), connect(V5, 0), connack(V5));
    feed(&mut c, [qos2(V5, 2)]);
    assert!(c.session().is_qos2_pending(2));
    let _ = c.notify_closed();
    assert!(!c.session().is_qos2_pending(2));
    not_waiting(&mut c, 2);
}

/// Messages not acknowledged yet count against our Receive Maximum: one
/// more is answered with DISCONNECT 0x93 (§3.3.4, [MQTT-3.3.4-9]);
/// acknowledging makes room.
#[test]
fn unacknowledged_messages_count_against_receive_maximum() {
    let ours = v5_0::ConnectProperties {
        receive_maximum: NonZeroU16::new(2),
        ..Default::default()
    };
    let mut c = client_with(V5, after_handling(), connect_v5(0, ours, true), connack(V5));
    feed(&mut c, [qos1(V5, 1), qos2(V5, 2)]);
    acknowledge(&mut c, 1);
    let events = feed(&mut c, [qos1(V5, 3)]);
    assert!(errors(&events).is_empty(), "{events:?}");
    let events = feed(&mut c, [qos1(V5, 4)]);
    assert_eq!(disconnect_code(&events), Some(0x93));
}

/// v3.1.1 has no Receive Maximum to announce (§4.9 is v5.0's), so none is
/// enforced, whatever the session config says: a v3.1.1 peer that leaves
/// 300 QoS 1 and 2 PUBLISH packets unacknowledged is not disconnected, on
/// either side, and each is delivered once and acknowledged when handled.
#[test]
fn v3_1_1_peers_are_held_to_no_receive_maximum() {
    let mut o = after_handling();
    o.session.receive_maximum = NonZeroU16::new(2).unwrap();
    let many = || {
        (1..=300).map(|id| {
            if id % 2 == 0 {
                qos2(V3, id)
            } else {
                qos1(V3, id)
            }
        })
    };
    let mut c = client_with(V3, o.clone(), connect(V3, 0), connack(V3));
    let mut s = server_with(V3, o, connect(V3, 0), connack(V3));
    let (client_events, server_events) = (feed(&mut c, many()), feed(&mut s, many()));
    for events in [client_events, server_events] {
        assert!(errors(&events).is_empty() && !closes(&events), "{events:?}");
        assert_eq!(received(&events).len(), 300);
    }
    assert_eq!(c.receive_maximum(), NonZeroU16::MAX);
    assert_eq!(s.receive_maximum(), NonZeroU16::MAX);
    assert_eq!(acks(&acknowledge(&mut c, 1)), [(Puback, 1)]);
    assert_eq!(acks(&acknowledge(&mut s, 2)), [(Pubrec, 2)]);
}

/// An acknowledgement is a packet sent: the Client's PINGREQ timer
/// restarts; `acknowledge_into` appends to the caller's events.
#[test]
fn acknowledging_restarts_the_keep_alive() {
    let mut c = client_with(V5, after_handling(), connect(V5, 10), connack(V5));
    feed(&mut c, [qos1(V5, 1)]);
    let mut events = vec![GenericEvent::RequestClose];
    c.acknowledge_into(1, &mut events).unwrap();
    assert_eq!(
        events,
        [
            GenericEvent::RequestClose,
            GenericEvent::RequestSendPacket {
                packet: v5_0::Packet::from(v5_0::Puback::new(1)).into(),
                release_packet_id_if_send_error: None,
            },
            GenericEvent::RequestTimerReset {
                kind: TimerKind::PingreqSend,
                duration: Duration::from_secs(10),
            }
        ]
    );
}

/// Switched to `OnReceipt` while messages wait, a Client acknowledges a new
/// message at once only when the ones before it are acknowledged
/// [MQTT-4.6.0-2]; a Server at once.
#[test]
fn on_receipt_keeps_the_order_after_a_switch() {
    let mut c = client_with(V3, after_handling(), connect(V3, 0), connack(V3));
    feed(&mut c, [qos1(V3, 1)]);
    c.options_mut().ack = AckPolicy::OnReceipt;
    let events = feed(&mut c, [qos1(V3, 2), qos2(V3, 3)]);
    assert_eq!(acks(&events), [(Pubrec, 3)]);
    assert_eq!(acks(&acknowledge(&mut c, 1)), [(Puback, 1), (Puback, 2)]);
    let events = feed(&mut c, [qos1(V3, 4)]);
    assert_eq!(acks(&events), [(Puback, 4)]);

    let mut s = server_with(V3, after_handling(), connect(V3, 0), connack(V3));
    feed(&mut s, [qos1(V3, 1)]);
    s.options_mut().ack = AckPolicy::OnReceipt;
    let events = feed(&mut s, [qos1(V3, 2)]);
    assert_eq!(acks(&events), [(Puback, 2)]);
    assert_eq!(acks(&acknowledge(&mut s, 1)), [(Puback, 1)]);
}

/// `shrink_to_fit` frees the emptied queue of messages awaiting their
/// acknowledgement (kept between messages while in use), and leaves one
/// that holds a message: it is still acknowledged after.
#[test]
fn shrink_to_fit_frees_only_emptied_queues() {
    let mut s = server_with(V3, after_handling(), connect(V3, 0), connack(V3));
    feed(&mut s, [qos1(V3, 1)]);
    s.shrink_to_fit();
    assert!(s.acks.is_allocated(), "a message waits");
    assert_eq!(acks(&acknowledge(&mut s, 1)), [(Puback, 1)]);
    assert!(s.acks.is_allocated(), "kept for the next one");
    s.shrink_to_fit();
    assert!(!s.acks.is_allocated());
    assert!(!s.deferred.is_allocated());
    feed(&mut s, [qos1(V3, 2)]);
    assert_eq!(acks(&acknowledge(&mut s, 2)), [(Puback, 2)]);
}
