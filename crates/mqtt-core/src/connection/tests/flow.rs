//! QoS 1 and 2 flows, acknowledgements, Receive Maximum, packet
//! identifiers and the session across network connections.

use core::num::NonZeroU16;

use super::*;
use crate::SendError;
use mqtt_codec::TopicFilter;
use mqtt_session::SessionError;

pub(super) fn ack(version: ProtocolVersion, t: PacketType, id: u16) -> GenericPacket {
    match version {
        V3 => match t {
            PacketType::Puback => v3_1_1::Packet::from(v3_1_1::Puback::new(id)).into(),
            PacketType::Pubrec => v3_1_1::Packet::from(v3_1_1::Pubrec::new(id)).into(),
            PacketType::Pubrel => v3_1_1::Packet::from(v3_1_1::Pubrel::new(id)).into(),
            _ => v3_1_1::Packet::from(v3_1_1::Pubcomp::new(id)).into(),
        },
        _ => match t {
            PacketType::Puback => v5_0::Packet::from(v5_0::Puback::new(id)).into(),
            PacketType::Pubrec => v5_0::Packet::from(v5_0::Pubrec::new(id)).into(),
            PacketType::Pubrel => v5_0::Packet::from(v5_0::Pubrel::new(id)).into(),
            _ => v5_0::Packet::from(v5_0::Pubcomp::new(id)).into(),
        },
    }
}

/// [MQTT-4.3.2-3] QoS 1: the PUBACK ends the flow and releases the
/// identifier; [MQTT-4.3.2-4] the automatic PUBACK answers a received one.
#[test]
fn qos1_both_ways() {
    for v in [V3, V5] {
        let mut c = client(v);
        let mut s = server(v);
        let id = c.acquire_packet_id().unwrap();
        let events = send(&mut c, publish(v, "t", QoS::AtLeastOnce, Some(id)));
        let events = feed(&mut s, sent(&events));
        assert_eq!(types(&received(&events)), [PacketType::Publish]);
        assert_eq!(types(&sent(&events)), [PacketType::Puback]);
        let events = feed(&mut c, sent(&events));
        assert_eq!(types(&received(&events)), [PacketType::Puback]);
        assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(id)));
        assert_eq!(c.session().in_flight_len(), 0);
    }
}

/// [MQTT-4.3.3-3] to [MQTT-4.3.3-5], [MQTT-4.3.3-11]: QoS 2 with automatic
/// PUBREC, PUBREL and PUBCOMP; the PUBCOMP releases the identifier.
#[test]
fn qos2_both_ways() {
    for v in [V3, V5] {
        let mut c = client(v);
        let mut s = server(v);
        let id = c.acquire_packet_id().unwrap();
        let events = send(&mut c, publish(v, "t", QoS::ExactlyOnce, Some(id)));
        let events = feed(&mut s, sent(&events));
        assert_eq!(types(&sent(&events)), [PacketType::Pubrec]);
        let events = feed(&mut c, sent(&events));
        assert_eq!(types(&sent(&events)), [PacketType::Pubrel]);
        let events = feed(&mut s, sent(&events));
        assert_eq!(types(&sent(&events)), [PacketType::Pubcomp]);
        let events = feed(&mut c, sent(&events));
        assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(id)));
    }
}

/// [MQTT-4.3.3-10] a QoS 2 PUBLISH received again before its PUBREL is
/// answered with PUBREC but not delivered twice, even with manual acks.
#[test]
fn qos2_duplicate_is_not_delivered_again() {
    for v in [V3, V5] {
        let mut s = server_with(v, manual(), connect(v, 0), connack(v));
        let events = feed(&mut s, [publish(v, "t", QoS::ExactlyOnce, Some(5))]);
        assert_eq!(types(&received(&events)), [PacketType::Publish]);
        assert!(sent(&events).is_empty(), "manual: the application answers");
        send(&mut s, ack(v, PacketType::Pubrec, 5));
        let events = feed(&mut s, [publish(v, "t", QoS::ExactlyOnce, Some(5))]);
        assert!(received(&events).is_empty());
        assert_eq!(types(&sent(&events)), [PacketType::Pubrec]);
    }
}

/// Manual acknowledgements carry the application's Reason Code (v5.0); a
/// PUBREC failure ends the sender's flow [MQTT-4.3.3-9].
#[test]
fn manual_acks_with_reason_codes() {
    let mut c = client_with(V5, manual(), connect(V5, 0), connack(V5));
    let mut s = server_with(V5, manual(), connect(V5, 0), connack(V5));
    let id = c.acquire_packet_id().unwrap();
    let events = send(&mut c, publish(V5, "t", QoS::ExactlyOnce, Some(id)));
    feed(&mut s, sent(&events));
    let pubrec = v5_0::Pubrec::builder()
        .packet_id(id)
        .reason_code(v5_0::PubrecReasonCode::NotAuthorized)
        .build()
        .unwrap();
    let events = s.checked_send(pubrec).unwrap();
    assert_eq!(types(&sent(&events)), [PacketType::Pubrec]);
    let events = feed(&mut c, sent(&events));
    assert!(sent(&events).is_empty(), "no PUBREL after a failed PUBREC");
    assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(id)));
}

/// Manual PUBREL: only for a flow that waits for its PUBCOMP [MQTT-4.3.3-4].
#[test]
fn manual_pubrel() {
    let mut c = client_with(V5, manual(), connect(V5, 0), connack(V5));
    let id = c.acquire_packet_id().unwrap();
    assert_eq!(
        refused(&mut c, ack(V5, PacketType::Pubrel, id)),
        SendError::Session(SessionError::PacketIdNotFound(id.into()))
    );
    send(&mut c, publish(V5, "t", QoS::ExactlyOnce, Some(id)));
    // Not before the PUBREC.
    assert_eq!(
        refused(&mut c, ack(V5, PacketType::Pubrel, id)),
        SendError::Session(SessionError::PacketIdNotFound(id.into()))
    );
    let events = feed(&mut c, [ack(V5, PacketType::Pubrec, id)]);
    assert!(sent(&events).is_empty());
    let events = send(&mut c, ack(V5, PacketType::Pubrel, id));
    assert_eq!(types(&sent(&events)), [PacketType::Pubrel]);
}

/// [MQTT-4.3.3-11] a PUBREL for an unknown identifier still gets its
/// PUBCOMP, with 0x92 Packet Identifier not found on v5.0 (§3.7.2.1).
#[test]
fn pubrel_unknown_identifier() {
    let mut s = server(V5);
    let events = feed(&mut s, [ack(V5, PacketType::Pubrel, 9)]);
    let [GenericPacket::V5_0(v5_0::Packet::Pubcomp(p))] = &sent(&events)[..] else {
        panic!("{events:?}");
    };
    assert_eq!(
        p.reason_code(),
        v5_0::PubcompReasonCode::PacketIdentifierNotFound
    );
}

/// An acknowledgement of the wrong kind for its flow is a Protocol Error
/// (0x82); one for no flow is reported, not fatal.
#[test]
fn unexpected_acknowledgements() {
    let mut c = client(V5);
    let id = c.acquire_packet_id().unwrap();
    send(&mut c, publish(V5, "t", QoS::AtLeastOnce, Some(id)));
    let events = feed(&mut c, [ack(V5, PacketType::Pubcomp, id)]);
    assert_eq!(disconnect_code(&events), Some(0x82));

    let mut c = client(V5);
    let events = feed(&mut c, [ack(V5, PacketType::Puback, 3)]);
    assert_eq!(types(&received(&events)), [PacketType::Puback]);
    assert_eq!(errors(&events).len(), 1);
    assert!(!closes(&events));
}

/// [MQTT-3.3.4-7], [MQTT-3.3.4-9]: more QoS > 0 PUBLISH packets than our
/// Receive Maximum is answered with DISCONNECT 0x93; and we send no more
/// than the peer's (the session's send quota, [MQTT-4.9.0-2]): one more
/// waits, with its identifier, and goes out when the PUBACK frees quota,
/// followed by the QoS 0 message that waited behind it (§4.9 lets QoS 0
/// wait; it keeps the order). Other packets are not delayed
/// [MQTT-3.3.4-8], [MQTT-4.9.0-3].
#[test]
fn receive_maximum_both_ways() {
    let ours = v5_0::ConnectProperties {
        receive_maximum: NonZeroU16::new(1),
        ..Default::default()
    };
    let mut c = client_with(V5, manual(), connect_v5(0, ours, true), connack(V5));
    let events = feed(
        &mut c,
        [
            publish(V5, "t", QoS::AtLeastOnce, Some(1)),
            publish(V5, "t", QoS::AtLeastOnce, Some(2)),
        ],
    );
    assert_eq!(types(&received(&events)), [PacketType::Publish]);
    assert_eq!(disconnect_code(&events), Some(0x93));

    let theirs = v5_0::ConnackProperties {
        receive_maximum: NonZeroU16::new(1),
        ..Default::default()
    };
    let mut c = client_with(V5, options(), connect(V5, 0), connack_v5(theirs));
    let a = c.acquire_packet_id().unwrap();
    let b = c.acquire_packet_id().unwrap();
    let events = send(&mut c, publish(V5, "a", QoS::AtLeastOnce, Some(a)));
    assert_eq!(types(&sent(&events)), [PacketType::Publish]);
    // Nothing waits: QoS 0 goes out although the quota is used up.
    let events = send(&mut c, publish(V5, "zero", QoS::AtMostOnce, None));
    assert_eq!(types(&sent(&events)), [PacketType::Publish]);
    let events = send(&mut c, publish(V5, "b", QoS::AtLeastOnce, Some(b)));
    assert!(events.is_empty(), "queued: {events:?}");
    assert_eq!(c.session().queued_packet_ids().collect::<Vec<_>>(), [b]);
    let events = send(&mut c, publish(V5, "after", QoS::AtMostOnce, None));
    assert!(events.is_empty(), "behind b: {events:?}");
    let subscribe = v5_0::Subscribe::<u16>::builder()
        .packet_id(9)
        .try_subscription("s", QoS::AtMostOnce)
        .unwrap()
        .build()
        .unwrap();
    let events = send(&mut c, v5_0::Packet::from(subscribe).into());
    assert_eq!(types(&sent(&events)), [PacketType::Subscribe]);

    let events = feed(&mut c, [ack(V5, PacketType::Puback, a)]);
    assert_eq!(released(&events), [a]);
    let out = topics_and_ids(&events);
    assert_eq!(out, [("b".to_owned(), Some(b)), ("after".to_owned(), None)]);
    assert_eq!(
        c.session().flow_state(b),
        Some(mqtt_session::FlowState::AwaitingPuback)
    );
    assert_eq!(c.session().queue_len(), 0);
}

/// `publish` numbers a QoS 1 or 2 message when it takes it [MQTT-2.2.1-3],
/// sends it within the peer's Receive Maximum and queues it beyond
/// [MQTT-4.9.0-2], up to the session's queue bound; a refusal changes
/// nothing.
#[test]
fn publish_numbers_and_queues_messages() {
    let message = |topic: &str, qos: QoS| {
        mqtt_codec::Message::builder()
            .try_topic_name(topic)
            .unwrap()
            .qos(qos)
            .build()
            .unwrap()
    };
    let theirs = v5_0::ConnackProperties {
        receive_maximum: NonZeroU16::new(1),
        ..Default::default()
    };
    let mut c = client(V3);
    let zero = c.publish(message("z", QoS::AtMostOnce)).unwrap();
    assert_eq!(zero.packet_id, None);
    assert_eq!(types(&sent(&zero.events)), [PacketType::Publish]);

    let mut o = options();
    o.session.queue_max_messages = 1;
    let mut c = client_with(V5, o, connect(V5, 0), connack_v5(theirs));
    let first = c.publish(message("a", QoS::ExactlyOnce)).unwrap();
    assert_eq!(first.packet_id, Some(1));
    let [GenericEvent::RequestSendPacket {
        packet: GenericPacket::V5_0(v5_0::Packet::Publish(p)),
        ..
    }] = &first.events[..]
    else {
        panic!("{:?}", first.events)
    };
    assert_eq!((p.packet_id(), p.dup()), (Some(1), false));
    let second = c.publish(message("b", QoS::AtLeastOnce)).unwrap();
    assert_eq!(second.packet_id, Some(2));
    assert!(second.events.is_empty(), "queued: {:?}", second.events);
    // The queue holds one message: a third is refused, nothing changed.
    let before = format!("{c:?}");
    assert_eq!(
        c.publish(message("c", QoS::AtLeastOnce)),
        Err(SendError::QueueFull)
    );
    let mut events = Vec::new();
    assert_eq!(
        c.publish_into(message("c", QoS::AtMostOnce), &mut events),
        Err(SendError::QueueFull)
    );
    assert!(events.is_empty());
    assert_eq!(format!("{c:?}"), before);
    assert_eq!(
        refused(&mut c, publish(V5, "c", QoS::AtLeastOnce, Some(9))),
        SendError::QueueFull
    );

    let events = feed(&mut c, [ack(V5, PacketType::Pubrec, 1)]);
    assert_eq!(
        types(&sent(&events)),
        [PacketType::Pubrel],
        "no quota freed"
    );
    let events = feed(&mut c, [ack(V5, PacketType::Pubcomp, 1)]);
    assert_eq!(released(&events), [1]);
    let [GenericPacket::V5_0(v5_0::Packet::Publish(p))] = &sent(&events)[..] else {
        panic!("{events:?}")
    };
    assert_eq!((p.topic_name(), p.packet_id()), ("b", Some(2)));
}

/// `send_maximum` caps the messages in flight on v3.1.1, whose CONNACK
/// announces no Receive Maximum, and lowers the peer's on v5.0 (§4.9);
/// beyond it messages wait in the queue and leave as acknowledgements come.
#[test]
fn send_maximum_caps_what_is_in_flight() {
    let message = |qos: QoS| {
        mqtt_codec::Message::builder()
            .try_topic_name("t")
            .unwrap()
            .qos(qos)
            .build()
            .unwrap()
    };
    for (version, connack) in [
        (V3, connack(V3)),
        (
            V5,
            connack_v5(v5_0::ConnackProperties {
                receive_maximum: NonZeroU16::new(3),
                ..Default::default()
            }),
        ),
    ] {
        let mut o = options();
        o.send_maximum = NonZeroU16::new(2);
        let mut c = client_with(version, o, connect(version, 0), connack);
        let sent_now: Vec<bool> = (0..3)
            .map(|_| {
                !c.publish(message(QoS::AtLeastOnce))
                    .unwrap()
                    .events
                    .is_empty()
            })
            .collect();
        assert_eq!(sent_now, [true, true, false], "{version:?}: two in flight");
        assert_eq!(c.session().queue_len(), 1);
        let events = feed(&mut c, [ack(version, PacketType::Puback, 1)]);
        assert_eq!(types(&sent(&events)), [PacketType::Publish], "{version:?}");
        // QoS 0 is never held back.
        assert!(!c
            .publish(message(QoS::AtMostOnce))
            .unwrap()
            .events
            .is_empty());
    }
    // Without it, v3.1.1 has no limit.
    let mut c = client(V3);
    for _ in 0..100 {
        assert!(!c
            .publish(message(QoS::AtLeastOnce))
            .unwrap()
            .events
            .is_empty());
    }
}

/// [MQTT-4.4.0-1] reconnecting with the session present re-sends the
/// unacknowledged PUBLISH with DUP [MQTT-3.3.1-1] and the PUBREL;
/// [MQTT-3.1.2-4] without it the flows are discarded and their identifiers
/// released.
#[test]
fn session_across_connections() {
    for v in [V3, V5] {
        let connect_kept = persistent_connect(v, 60);
        let present = connack_present(v);
        let mut c = client_with(v, manual(), connect_kept.clone(), connack(v));
        let a = c.acquire_packet_id().unwrap();
        let b = c.acquire_packet_id().unwrap();
        send(&mut c, publish(v, "t", QoS::AtLeastOnce, Some(a)));
        send(&mut c, publish(v, "t", QoS::ExactlyOnce, Some(b)));
        feed(&mut c, [ack(v, PacketType::Pubrec, b)]);
        let _ = c.notify_closed();

        send(&mut c, connect_kept.clone());
        let events = feed(&mut c, [present]);
        let resent = sent(&events);
        assert_eq!(types(&resent), [PacketType::Publish, PacketType::Pubrel]);
        let dup = match &resent[0] {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => p.dup(),
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => p.dup(),
            _ => false,
        };
        assert!(dup);
        assert!(c.session_present());

        let _ = c.notify_closed();
        send(&mut c, connect_kept);
        let events = feed(&mut c, [connack(v)]);
        assert!(sent(&events).is_empty());
        assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(a)));
        assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(b)));
        assert_eq!(c.session().in_flight_len(), 0);
    }
}

/// Offline publish: queued while disconnected, sent after the CONNACK, in
/// order; a PUBLISH packet keeps the identifier it carries, a message is
/// numbered when it is handed in.
#[test]
fn offline_publish() {
    let mut o = options();
    o.offline_publish = true;
    let mut c = Connection::<Client>::with_options(V5, o);
    let events = send(&mut c, publish(V5, "zero", QoS::AtMostOnce, None));
    assert!(events.is_empty(), "{events:?}");
    let events = send(&mut c, publish(V5, "seven", QoS::ExactlyOnce, Some(7)));
    assert!(events.is_empty(), "{events:?}");
    let message = mqtt_codec::Message::builder()
        .try_topic_name("message")
        .unwrap()
        .qos(QoS::AtLeastOnce)
        .build()
        .unwrap();
    let published = c.publish(message).unwrap();
    assert_eq!(published.packet_id, Some(1));
    assert!(published.events.is_empty(), "{:?}", published.events);
    assert_eq!(c.session().queued_packet_ids().collect::<Vec<_>>(), [7, 1]);
    // The identifiers in use are refused to others meanwhile.
    assert_eq!(
        refused(&mut c, publish(V5, "t", QoS::AtLeastOnce, Some(7))),
        SendError::Session(SessionError::PacketIdInUse(7))
    );
    send(&mut c, connect(V5, 0));
    let events = feed(&mut c, [connack(V5)]);
    let out = topics_and_ids(&events);
    assert_eq!(
        out,
        [
            ("zero".to_owned(), None),
            ("seven".to_owned(), Some(7)),
            ("message".to_owned(), Some(1))
        ]
    );
    assert!(released(&events).is_empty(), "{events:?}");
}

/// SUBSCRIBE and UNSUBSCRIBE hold their identifier until the answer; one
/// in use is refused [MQTT-2.2.1-3]; one still unanswered when the network
/// connection closes is released.
#[test]
fn subscribe_identifiers() {
    let subscribe = |id: u16| -> GenericPacket {
        v5_0::Packet::from(
            v5_0::Subscribe::<u16>::builder()
                .packet_id(id)
                .subscription((
                    TopicFilter::from_static("a/+").unwrap(),
                    v5_0::SubscriptionOptions::new(QoS::AtLeastOnce),
                ))
                .build()
                .unwrap(),
        )
        .into()
    };
    let mut c = client(V5);
    let id = c.acquire_packet_id().unwrap();
    let events = send(&mut c, subscribe(id));
    assert_eq!(
        events[0],
        GenericEvent::RequestSendPacket {
            packet: subscribe(id),
            release_packet_id_if_send_error: Some(id),
        }
    );
    assert_eq!(
        refused(&mut c, subscribe(id)),
        SendError::Session(SessionError::PacketIdInUse(id.into()))
    );
    // Nor may a PUBLISH take it.
    assert_eq!(
        refused(&mut c, publish(V5, "t", QoS::AtLeastOnce, Some(id))),
        SendError::Session(SessionError::PacketIdInUse(id.into()))
    );
    let suback = v5_0::Suback::<u16>::builder()
        .packet_id(id)
        .reason_code(v5_0::SubackReasonCode::GrantedQoS1)
        .build()
        .unwrap();
    let events = feed(&mut c, [v5_0::Packet::from(suback).into()]);
    assert_eq!(types(&received(&events)), [PacketType::Suback]);
    assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(id)));

    send(&mut c, subscribe(7));
    assert!(c.session().packet_ids().is_in_use(7));
    let events = c.notify_closed();
    assert!(
        events.contains(&GenericEvent::NotifyPacketIdReleased(7)),
        "{events:?}"
    );
}

/// Packet identifiers of width u32 work end to end.
#[test]
fn u32_identifiers() {
    let mut c = crate::GenericConnection::<Client, u32>::with_options(V5, options());
    let connect = v5_0::Packet::from(v5_0::Connect::builder().build().unwrap());
    c.send(connect.into()).unwrap();
    let mut buf = BytesMut::new();
    v5_0::Packet::<u32>::from(v5_0::Connack::builder().build().unwrap())
        .encode(&mut buf)
        .unwrap();
    let _ = c.recv(&mut buf);
    let id = c.acquire_packet_id().unwrap();
    let p = v5_0::Publish::<u32>::builder()
        .try_topic_name("t")
        .unwrap()
        .qos(QoS::AtLeastOnce)
        .packet_id(id)
        .build()
        .unwrap();
    let events = c.checked_send(p).unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    v5_0::Packet::<u32>::from(v5_0::Puback::new(id))
        .encode(&mut buf)
        .unwrap();
    let events = c.recv(&mut buf);
    assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(id)));
}

/// Export and import pass through to the session.
#[test]
fn export_import() {
    let mut c = client_with(V5, manual(), connect(V5, 0), connack(V5));
    let id = c.acquire_packet_id().unwrap();
    send(&mut c, publish(V5, "t", QoS::AtLeastOnce, Some(id)));
    let bytes = c.export_session();
    assert!(c.import_session(&bytes).is_err(), "not while connected");
    let mut fresh = Connection::<Client>::new(V5);
    fresh.import_session(&bytes).unwrap();
    assert_eq!(fresh.session().in_flight_len(), 1);
    assert!(Connection::<Client>::new(V3)
        .import_session(&bytes)
        .is_err());
}

/// [MQTT-4.4.0-2] a PUBACK with a failure Reason Code acknowledges the
/// PUBLISH: its flow ends and nothing is re-sent on reconnection.
#[test]
fn failed_puback_is_an_acknowledgement() {
    let keep = v5_0::ConnectProperties {
        session_expiry_interval: Some(60),
        ..Default::default()
    };
    let mut c = client_with(
        V5,
        manual(),
        connect_v5(0, keep.clone(), false),
        connack(V5),
    );
    let id = c.acquire_packet_id().unwrap();
    send(&mut c, publish(V5, "t", QoS::AtLeastOnce, Some(id)));
    let puback = v5_0::Puback::builder()
        .packet_id(id)
        .reason_code(v5_0::PubackReasonCode::NotAuthorized)
        .build()
        .unwrap();
    let events = feed(&mut c, [v5_0::Packet::from(puback).into()]);
    assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(id)));
    let _ = c.notify_closed();
    send(&mut c, connect_v5(0, keep, false));
    let present = v5_0::Connack::builder()
        .session_present(true)
        .build()
        .unwrap();
    let events = feed(&mut c, [v5_0::Packet::from(present).into()]);
    assert!(sent(&events).is_empty());
}

/// [MQTT-4.1.0-2] with a Session Expiry Interval of 0 the session ends with
/// the network connection: its flows are discarded and their identifiers
/// released; a Session Present 1 afterwards is one the Client cannot have
/// [MQTT-3.2.2-4]. With an interval, the session outlives it until then.
#[test]
fn session_expiry() {
    let mut c = client_with(
        V5,
        manual(),
        connect_v5(0, Default::default(), false),
        connack(V5),
    );
    let id = c.acquire_packet_id().unwrap();
    send(&mut c, publish(V5, "t", QoS::AtLeastOnce, Some(id)));
    let events = c.notify_closed();
    assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(id)));
    assert_eq!(c.session().in_flight_len(), 0);
    send(&mut c, connect_v5(0, Default::default(), false));
    let present = v5_0::Connack::builder()
        .session_present(true)
        .build()
        .unwrap();
    let events = feed(&mut c, [v5_0::Packet::from(present).into()]);
    assert_eq!(disconnect_code(&events), Some(0x82));

    let keep = v5_0::ConnectProperties {
        session_expiry_interval: Some(10),
        ..Default::default()
    };
    let mut c = client_with(
        V5,
        manual(),
        connect_v5(0, keep.clone(), false),
        connack(V5),
    );
    c.set_time(crate::MonotonicTime::from_millis(1_000));
    let id = c.acquire_packet_id().unwrap();
    send(&mut c, publish(V5, "t", QoS::AtLeastOnce, Some(id)));
    let _ = c.notify_closed();
    assert_eq!(c.session().in_flight_len(), 1);
    c.set_time(crate::MonotonicTime::from_millis(12_000));
    let events = send(&mut c, connect_v5(0, keep, false));
    assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(id)));
    assert_eq!(c.session().in_flight_len(), 0);
}

/// The Topic Name and packet identifier of each v5.0 PUBLISH `events` ask
/// to send; any other packet to send is a failure.
fn topics_and_ids(events: &[Event]) -> Vec<(String, Option<u16>)> {
    let publish = |p: &GenericPacket| match p {
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => (p.topic_name().to_owned(), p.packet_id()),
        other => panic!("{other:?}"),
    };
    sent(events).iter().map(publish).collect()
}

/// `ConnectionOptions::qos2_send_maximum` reaches the session once the
/// connection is up: on v3.1.1, with at most one QoS 2 flow, a second QoS 2
/// PUBLISH waits (the PUBREL of the first still counts); the PUBCOMP of the
/// first sends it.
#[test]
fn qos2_send_maximum_holds_the_second_qos2_publish() {
    let mut o = options();
    o.qos2_send_maximum = NonZeroU16::new(1);
    let mut c = client_with(V3, o, connect(V3, 0), connack(V3));
    let a = c.acquire_packet_id().unwrap();
    let b = c.acquire_packet_id().unwrap();
    let events = send(&mut c, publish(V3, "a", QoS::ExactlyOnce, Some(a)));
    assert_eq!(types(&sent(&events)), [PacketType::Publish]);
    let events = send(&mut c, publish(V3, "b", QoS::ExactlyOnce, Some(b)));
    assert!(events.is_empty(), "queued: {events:?}");
    let events = feed(&mut c, [ack(V3, PacketType::Pubrec, a)]);
    assert_eq!(types(&sent(&events)), [PacketType::Pubrel]);
    let events = feed(&mut c, [ack(V3, PacketType::Pubcomp, a)]);
    let sent = sent(&events);
    assert_eq!(types(&sent), [PacketType::Publish]);
    assert_eq!(sent[0].packet_id(), Some(b));
}
