//! Whole flows through the simulated pair: SUBSCRIBE / UNSUBSCRIBE and
//! PUBLISH at QoS 0, 1 and 2 in both directions, with automatic and with
//! manual acknowledgements.

#[macro_use]
mod pair;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, GenericPacket, PacketId, ProtocolVersion, QoS};
use mqtt_core::AckPolicy;
use pair::*;

const SIDES: [Side; 2] = [Side::Client, Side::Server];

fn connected<P: PacketId>(v: ProtocolVersion, auto: bool) -> Pair<P> {
    let config = if auto {
        PairConfig::new(v)
    } else {
        PairConfig::manual(v)
    };
    let mut pair = config.build();
    pair.connect();
    pair.clear_records();
    pair
}

/// [MQTT-3.8.4-1], [MQTT-3.8.4-2]: SUBSCRIBE is answered by a SUBACK with
/// its packet identifier, which the client's core then releases; the same
/// for UNSUBSCRIBE and UNSUBACK [MQTT-3.10.4-4].
fn subscribe_and_unsubscribe<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = connected(v, false);
    let id = pair.acquire(Side::Client);
    pair.send_drive(Side::Client, subscribe(v, id, "a/+", QoS::ExactlyOnce));
    assert_eq!(types(&pair.server.received), [PacketType::Subscribe]);
    assert_eq!(packet_id(&pair.server.received[0]), Some(id));
    assert!(
        pair.client.released.is_empty(),
        "released before the SUBACK"
    );
    pair.send_drive(Side::Server, suback(v, id, QoS::ExactlyOnce));
    assert_eq!(types(&pair.client.received), [PacketType::Suback]);
    assert_eq!(pair.client.released, [id]);

    let id2 = pair.acquire(Side::Client);
    pair.send_drive(Side::Client, unsubscribe(v, id2, "a/+"));
    assert_eq!(
        packet_id(pair.server.received.last().expect("UNSUBSCRIBE")),
        Some(id2)
    );
    pair.send_drive(Side::Server, unsuback(v, id2));
    assert_eq!(
        types(&pair.client.received),
        [PacketType::Suback, PacketType::Unsuback]
    );
    assert_eq!(pair.client.released, [id, id2]);
    assert!(pair.client.errors.is_empty() && pair.server.errors.is_empty());
}

/// QoS 0 both ways: delivered once, no acknowledgement, no packet
/// identifier, DUP 0 [MQTT-3.3.1-2].
fn qos0_both_ways<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let mut pair: Pair<P> = connected(v, true);
        pair.send(from, publish(v, "a/b", QoS::AtMostOnce, None, b"zero"));
        pair.drive();
        let got = pair.publishes(from.peer());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].topic, "a/b");
        assert_eq!(got[0].payload, b"zero");
        assert_eq!(
            (got[0].qos, got[0].dup, got[0].packet_id),
            (QoS::AtMostOnce, false, None)
        );
        assert!(
            pair.sent(from.peer()).is_empty(),
            "QoS 0 is not acknowledged"
        );
        assert!(pair.released(from).is_empty());
    }
}

/// QoS 1 both ways with automatic acknowledgement: [MQTT-4.3.2-1] a fresh
/// identifier, [MQTT-4.3.2-2] DUP 0, [MQTT-4.3.2-4] the receiver answers
/// PUBACK with that identifier [MQTT-3.3.4-1], and the sender's flow ends
/// there: the identifier is released.
fn qos1_auto<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = connected(v, true);
        let id = pair.acquire(from);
        pair.send(from, publish(v, "a/b", QoS::AtLeastOnce, Some(id), b"one"));
        pair.drive();
        let got = pair.publishes(to);
        assert_eq!(got.len(), 1, "{from:?}");
        assert_eq!((got[0].packet_id, got[0].dup), (Some(id), false));
        assert_eq!(types(pair.sent(to)), [PacketType::Puback]);
        assert_eq!(packet_id(&pair.sent(to)[0]), Some(id));
        assert_eq!(types(pair.received(from)), [PacketType::Puback]);
        assert_eq!(pair.released(from), [id]);
        assert!(pair.errors(from).is_empty() && pair.errors(to).is_empty());
    }
}

/// QoS 1 with manual acknowledgement: nothing is answered until the
/// application sends the PUBACK, here (v5.0) with a reason code and a
/// Reason String, which reach the sender as sent.
fn qos1_manual<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = connected(v, false);
        let id = pair.acquire(from);
        pair.send_drive(from, publish(v, "a/b", QoS::AtLeastOnce, Some(id), b"one"));
        assert_eq!(pair.publishes(to).len(), 1);
        assert!(pair.sent(to).is_empty(), "no automatic PUBACK");
        assert!(pair.released(from).is_empty());
        let ack: GenericPacket<P> = match v {
            ProtocolVersion::V3_1_1 => puback(v, id),
            ProtocolVersion::V5_0 => v5_0::Packet::from(
                v5_0::Puback::<P>::builder()
                    .packet_id(id)
                    .reason_code(v5_0::PubackReasonCode::NoMatchingSubscribers)
                    .properties(v5_0::PubackProperties {
                        reason_string: Some("nobody".try_into().expect("string")),
                        ..Default::default()
                    })
                    .build()
                    .expect("PUBACK"),
            )
            .into(),
        };
        pair.send_drive(to, ack.clone());
        assert_eq!(pair.received(from), [ack]);
        assert_eq!(pair.released(from), [id]);
    }
}

/// QoS 2 both ways with automatic responses: PUBLISH, PUBREC
/// [MQTT-4.3.3-8], PUBREL with the same identifier [MQTT-4.3.3-4], PUBCOMP
/// [MQTT-4.3.3-11]; the identifier is released at the PUBCOMP; the message
/// is delivered once.
fn qos2_auto<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = connected(v, true);
        let id = pair.acquire(from);
        pair.send(from, publish(v, "a/b", QoS::ExactlyOnce, Some(id), b"two"));
        pair.drive();
        assert_eq!(
            types(pair.sent(from)),
            [PacketType::Publish, PacketType::Pubrel]
        );
        assert_eq!(
            types(pair.sent(to)),
            [PacketType::Pubrec, PacketType::Pubcomp]
        );
        assert_eq!(
            types(pair.received(to)),
            [PacketType::Publish, PacketType::Pubrel]
        );
        assert_eq!(
            types(pair.received(from)),
            [PacketType::Pubrec, PacketType::Pubcomp]
        );
        for packet in pair.sent(from).iter().chain(pair.sent(to)) {
            assert_eq!(packet_id(packet), Some(id));
        }
        assert_eq!(pair.publishes(to)[0].payload, b"two");
        assert_eq!(pair.released(from), [id]);
    }
}

/// QoS 2 with manual responses, step by step: [MQTT-4.3.3-3] the PUBLISH is
/// unacknowledged until PUBREC; [MQTT-4.3.3-5] the PUBREL until PUBCOMP;
/// the identifier stays in use until the PUBCOMP; after the PUBCOMP a
/// PUBLISH with the same identifier is a new message [MQTT-4.3.3-12].
fn qos2_manual<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = connected(v, false);
        let id = pair.acquire(from);
        pair.send_drive(from, publish(v, "a/b", QoS::ExactlyOnce, Some(id), b"two"));
        assert_eq!(pair.publishes(to).len(), 1);
        assert!(pair.sent(to).is_empty());
        // On v5.0 with a success reason code other than 0x00 and a Reason
        // String: below 0x80 the flow goes on [MQTT-4.3.3-4].
        let rec: GenericPacket<P> = match v {
            ProtocolVersion::V3_1_1 => pubrec(v, id),
            ProtocolVersion::V5_0 => v5_0::Packet::from(
                v5_0::Pubrec::<P>::builder()
                    .packet_id(id)
                    .reason_code(v5_0::PubrecReasonCode::NoMatchingSubscribers)
                    .properties(v5_0::PubrecProperties {
                        reason_string: Some("nobody".try_into().expect("string")),
                        ..Default::default()
                    })
                    .build()
                    .expect("PUBREC"),
            )
            .into(),
        };
        pair.send_drive(to, rec.clone());
        assert_eq!(pair.received(from), [rec]);
        assert_eq!(
            types(pair.sent(from)),
            [PacketType::Publish],
            "no automatic PUBREL"
        );
        assert!(pair.released(from).is_empty());
        pair.send_drive(from, pubrel(v, id));
        assert_eq!(
            types(pair.received(to)),
            [PacketType::Publish, PacketType::Pubrel]
        );
        assert!(pair.released(from).is_empty());
        pair.send_drive(to, pubcomp(v, id));
        assert_eq!(
            types(pair.received(from)),
            [PacketType::Pubrec, PacketType::Pubcomp]
        );
        assert_eq!(pair.released(from), [id]);
        pair.register(from, id);
        pair.send_drive(from, publish(v, "a/b", QoS::ExactlyOnce, Some(id), b"new"));
        let got = pair.publishes(to);
        assert_eq!(got.len(), 2, "delivered as a new message");
        assert_eq!(
            (got[1].payload.as_slice(), got[1].dup),
            (&b"new"[..], false)
        );
        assert!(pair.errors(from).is_empty() && pair.errors(to).is_empty());
    }
}

/// v5.0: a PUBREC with a failure reason code ends the QoS 2 flow: no PUBREL
/// follows, the identifier is released [MQTT-4.4.0-2], [MQTT-4.3.3-4]; a
/// PUBACK with a failure likewise ends a QoS 1 flow.
fn failure_acks_end_the_flow<P: PacketId>() {
    let v = ProtocolVersion::V5_0;
    for from in SIDES {
        let to = from.peer();
        // The receiver answers by hand, the sender automatically.
        let mut config = PairConfig::manual(v);
        match from {
            Side::Client => config.client.ack = AckPolicy::OnReceipt,
            Side::Server => config.server.ack = AckPolicy::OnReceipt,
        }
        let mut pair: Pair<P> = config.build();
        pair.connect();
        pair.clear_records();
        let id = pair.acquire(from);
        pair.send_drive(from, publish(v, "a/b", QoS::ExactlyOnce, Some(id), b"two"));
        let refused = v5_0::Packet::from(
            v5_0::Pubrec::<P>::builder()
                .packet_id(id)
                .reason_code(v5_0::PubrecReasonCode::NotAuthorized)
                .build()
                .expect("PUBREC"),
        );
        pair.send_drive(to, refused.into());
        assert_eq!(types(pair.sent(from)), [PacketType::Publish], "no PUBREL");
        assert_eq!(pair.released(from), [id]);

        let id = pair.acquire(from);
        pair.send_drive(from, publish(v, "a/b", QoS::AtLeastOnce, Some(id), b"one"));
        let refused = v5_0::Packet::from(
            v5_0::Puback::<P>::builder()
                .packet_id(id)
                .reason_code(v5_0::PubackReasonCode::QuotaExceeded)
                .build()
                .expect("PUBACK"),
        );
        pair.send_drive(to, refused.into());
        assert_eq!(pair.released(from).last(), Some(&id));
        assert!(pair.errors(from).is_empty());
    }
}

/// [MQTT-4.6.0-2], [MQTT-4.6.0-3], [MQTT-4.6.0-4]: a mix of QoS 0, 1 and 2
/// messages is delivered in the order published; PUBACK and PUBREC leave in
/// the order the PUBLISH packets came, PUBREL in the order of the PUBREC.
fn ordering<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = connected(v, true);
        let mut ids = Vec::new();
        for i in 0..12u8 {
            let qos = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][usize::from(i % 3)];
            let id = (qos != QoS::AtMostOnce).then(|| pair.acquire(from));
            ids.extend(id);
            pair.send(from, publish(v, &format!("t/{i}"), qos, id, &[i]));
        }
        pair.drive();
        let got = pair.publishes(to);
        let payloads: Vec<u8> = got.iter().map(|p| p.payload[0]).collect();
        assert_eq!(payloads, (0..12).collect::<Vec<u8>>());
        let acked: Vec<P> = pair
            .sent(to)
            .iter()
            .filter(|p| matches!(p.packet_type(), PacketType::Puback | PacketType::Pubrec))
            .filter_map(packet_id)
            .collect();
        assert_eq!(acked, ids);
        let mut released = pair.released(from).to_vec();
        released.sort();
        let mut expected = ids.clone();
        expected.sort();
        assert_eq!(released, expected);
    }
}

/// [MQTT-4.3.3-10]: a QoS 2 PUBLISH received again before its PUBREL is
/// answered with PUBREC again and not delivered a second time.
fn qos2_duplicate_not_delivered_twice<P: PacketId>(v: ProtocolVersion) {
    let mut config = PairConfig::manual(v);
    config.server.ack = AckPolicy::OnReceipt;
    let mut pair: Pair<P> = config.build();
    pair.connect();
    pair.clear_records();
    let id = pair.acquire(Side::Client);
    pair.send_drive(
        Side::Client,
        publish(v, "a/b", QoS::ExactlyOnce, Some(id), b"two"),
    );
    assert_eq!(types(&pair.server.sent), [PacketType::Pubrec]);
    // The same PUBLISH again, DUP set, as a peer that re-sends it.
    let again = with_dup(publish::<P>(v, "a/b", QoS::ExactlyOnce, Some(id), b"two"));
    pair.inject_packet(Side::Client, &again);
    pair.drive();
    assert_eq!(pair.server.publishes().len(), 1, "delivered once");
    assert_eq!(
        types(&pair.server.sent),
        [PacketType::Pubrec, PacketType::Pubrec]
    );
    pair.send_drive(Side::Client, pubrel(v, id));
    assert_eq!(
        types(&pair.server.sent),
        [PacketType::Pubrec, PacketType::Pubrec, PacketType::Pubcomp]
    );
    assert_eq!(pair.client.released, [id]);
}

/// [MQTT-4.3.2-5]: after its PUBACK, the same identifier in a new PUBLISH is
/// a new message, delivered again.
fn qos1_id_reused_after_puback<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = connected(v, true);
    let id = pair.acquire(Side::Client);
    pair.send_drive(
        Side::Client,
        publish(v, "a", QoS::AtLeastOnce, Some(id), b"1"),
    );
    assert_eq!(pair.client.released, [id]);
    pair.client
        .conn
        .register_packet_id(id)
        .expect("the identifier is free again");
    pair.send_drive(
        Side::Client,
        publish(v, "a", QoS::AtLeastOnce, Some(id), b"2"),
    );
    let payloads: Vec<Vec<u8>> = pair
        .server
        .publishes()
        .into_iter()
        .map(|p| p.payload)
        .collect();
    assert_eq!(payloads, [b"1".to_vec(), b"2".to_vec()]);
    assert_eq!(pair.client.released, [id, id]);
}

matrix!(
    subscribe_and_unsubscribe,
    qos0_both_ways,
    qos1_auto,
    qos1_manual,
    qos2_auto,
    qos2_manual,
    ordering,
    qos2_duplicate_not_delivered_twice,
    qos1_id_reused_after_puback,
);
widths!(failure_acks_end_the_flow);
