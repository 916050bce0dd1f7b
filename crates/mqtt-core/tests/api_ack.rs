//! The acknowledgement policies through the simulated pair: `Manual` (the
//! application sends every PUBACK, PUBREC, PUBREL, PUBCOMP), `OnReceipt`
//! (answered as received) and `AfterHandling` (PUBACK and PUBREC once the
//! application calls `acknowledge`, a Client's in the order the PUBLISH
//! packets arrived; PUBREL and PUBCOMP automatic), for a Client and a
//! Server receiving, in both versions and identifier widths.

#[macro_use]
mod pair;

use mqtt_codec::properties::UserProperty;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, GenericPacket, PacketId, ProtocolVersion, QoS};
use mqtt_core::{AckPolicy, SendError};
use mqtt_session::SessionError;
use pair::*;

const SIDES: [Side; 2] = [Side::Client, Side::Server];

/// A connected pair: `receiver` acknowledges with `policy`, the other side
/// answers by hand (so that the test sends the PUBREL), records cleared.
fn pair_with<P: PacketId>(v: ProtocolVersion, receiver: Side, policy: AckPolicy) -> Pair<P> {
    let mut config = PairConfig::manual(v);
    match receiver {
        Side::Client => config.client.ack = policy,
        Side::Server => config.server.ack = policy,
    }
    let mut pair: Pair<P> = config.build();
    pair.connect();
    pair.clear_records();
    pair
}

/// `from` publishes a QoS 1 and a QoS 2 message; their identifiers.
fn one_and_two<P: PacketId>(pair: &mut Pair<P>, from: Side) -> (P, P) {
    let one = pair.publish(from, message("a", QoS::AtLeastOnce, b"1"));
    let two = pair.publish(from, message("a", QoS::ExactlyOnce, b"2"));
    (
        one.expect("QoS 1 is numbered"),
        two.expect("QoS 2 is numbered"),
    )
}

/// The (type, packet identifier) of each packet.
fn answers<P: PacketId>(packets: &[GenericPacket<P>]) -> Vec<(PacketType, Option<P>)> {
    packets
        .iter()
        .map(|p| (p.packet_type(), packet_id(p)))
        .collect()
}

/// `acknowledge(id)` on `side` errs with `PacketIdNotFound`, changing
/// nothing: no received message waits for its acknowledgement.
fn assert_nothing_to_acknowledge<P: PacketId>(pair: &mut Pair<P>, side: Side, id: P) {
    let before = pair.snapshot(side);
    let result = match side {
        Side::Client => pair.client.conn.acknowledge(id),
        Side::Server => pair.server.conn.acknowledge(id),
    };
    assert_eq!(
        result,
        Err(SendError::Session(SessionError::PacketIdNotFound(
            id.to_u32()
        ))),
        "{side:?}"
    );
    assert_unchanged(&before, &pair.snapshot(side), "acknowledge");
}

/// `Manual`: a QoS 1 and a QoS 2 PUBLISH are delivered and nothing is
/// answered until the application sends the PUBACK and the PUBREC itself
/// [MQTT-4.3.2-4], [MQTT-4.3.3-8]; `acknowledge` has nothing to do.
fn manual_sends_nothing<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = pair_with(v, to, AckPolicy::Manual);
        let (one, two) = one_and_two(&mut pair, from);
        pair.drive();
        assert_eq!(pair.publishes(to).len(), 2, "{from:?}");
        assert!(pair.sent(to).is_empty(), "{from:?}: {:?}", pair.sent(to));
        assert_nothing_to_acknowledge(&mut pair, to, one);
        pair.send_drive(to, pubrec(v, two));
        pair.send_drive(from, pubrel(v, two));
        assert_eq!(
            answers(pair.sent(to)),
            [(PacketType::Pubrec, Some(two))],
            "{from:?}: no automatic PUBCOMP"
        );
        pair.send_drive(to, puback(v, one));
        pair.send_drive(to, pubcomp(v, two));
        assert_eq!(pair.released(from), [one, two], "{from:?}");
    }
}

/// `OnReceipt`: the PUBACK and PUBREC go as the PUBLISH arrives
/// [MQTT-4.3.2-4], [MQTT-4.3.3-8], the PUBCOMP as the PUBREL does
/// [MQTT-4.3.3-11]; nothing is left to `acknowledge`.
fn on_receipt_answers_at_once<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = pair_with(v, to, AckPolicy::OnReceipt);
        let (one, two) = one_and_two(&mut pair, from);
        pair.drive();
        assert_eq!(
            answers(pair.sent(to)),
            [
                (PacketType::Puback, Some(one)),
                (PacketType::Pubrec, Some(two))
            ],
            "{from:?}"
        );
        assert_nothing_to_acknowledge(&mut pair, to, one);
        assert_nothing_to_acknowledge(&mut pair, to, two);
        pair.send_drive(from, pubrel(v, two));
        assert_eq!(
            answers(pair.sent(to)).last(),
            Some(&(PacketType::Pubcomp, Some(two)))
        );
        assert_eq!(pair.released(from), [one, two], "{from:?}");
    }
}

/// `AfterHandling`: a QoS 1 and a QoS 2 PUBLISH are delivered, and their
/// PUBACK and PUBREC wait for `acknowledge` [MQTT-4.3.2-4],
/// [MQTT-4.3.3-8]; the PUBCOMP is automatic [MQTT-4.3.3-11]. A second
/// `acknowledge` of the same message errs, changing nothing.
fn after_handling_acknowledges_when_told<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = pair_with(v, to, AckPolicy::AfterHandling);
        let (one, two) = one_and_two(&mut pair, from);
        pair.drive();
        assert_eq!(pair.publishes(to).len(), 2, "{from:?}");
        assert!(pair.sent(to).is_empty(), "{from:?}: {:?}", pair.sent(to));
        pair.acknowledge(to, two);
        pair.drive();
        assert_eq!(
            answers(pair.received(from)),
            [(PacketType::Pubrec, Some(two))]
        );
        pair.send_drive(from, pubrel(v, two));
        pair.acknowledge(to, one);
        pair.drive();
        assert_eq!(
            answers(pair.sent(to)),
            [
                (PacketType::Pubrec, Some(two)),
                (PacketType::Pubcomp, Some(two)),
                (PacketType::Puback, Some(one)),
            ],
            "{from:?}"
        );
        assert_eq!(pair.released(from), [two, one], "{from:?}");
        assert_nothing_to_acknowledge(&mut pair, to, one);
        assert_nothing_to_acknowledge(&mut pair, to, two);
    }
}

/// [MQTT-4.6.0-2], [MQTT-4.6.0-3]: a Client acknowledging after handling
/// still sends its PUBACK packets, and its PUBREC packets, in the order
/// the PUBLISH packets arrived: one handled early waits for those before
/// it of its QoS; the two QoS do not wait for each other.
fn client_acknowledges_in_arrival_order<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = pair_with(v, Side::Client, AckPolicy::AfterHandling);
    let mut send = |qos, payload: &[u8]| {
        let id = pair.publish(Side::Server, message("a", qos, payload));
        id.expect("QoS > 0")
    };
    let (a, b, c) = (
        send(QoS::AtLeastOnce, b"a"),
        send(QoS::AtLeastOnce, b"b"),
        send(QoS::AtLeastOnce, b"c"),
    );
    let (x, y) = (send(QoS::ExactlyOnce, b"x"), send(QoS::ExactlyOnce, b"y"));
    pair.drive();
    assert_eq!(pair.client.publishes().len(), 5);
    pair.acknowledge(Side::Client, c);
    pair.acknowledge(Side::Client, y);
    assert!(pair.client.sent.is_empty(), "{:?}", pair.client.sent);
    pair.acknowledge(Side::Client, a);
    assert_eq!(answers(&pair.client.sent), [(PacketType::Puback, Some(a))]);
    pair.acknowledge(Side::Client, x);
    pair.acknowledge(Side::Client, b);
    assert_eq!(
        answers(&pair.client.sent),
        [
            (PacketType::Puback, Some(a)),
            (PacketType::Pubrec, Some(x)),
            (PacketType::Pubrec, Some(y)),
            (PacketType::Puback, Some(b)),
            (PacketType::Puback, Some(c)),
        ]
    );
    pair.drive();
    assert_eq!(pair.server.released, [a, b, c]);
}

/// A Server acknowledges each message as soon as it is handled, in any
/// order (the ordering rules of §4.6 bind the Client).
fn server_acknowledges_as_handled<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = pair_with(v, Side::Server, AckPolicy::AfterHandling);
    let a = pair.publish(Side::Client, message("a", QoS::AtLeastOnce, b"a"));
    let b = pair.publish(Side::Client, message("a", QoS::AtLeastOnce, b"b"));
    let (Some(a), Some(b)) = (a, b) else {
        unreachable!()
    };
    pair.drive();
    pair.acknowledge(Side::Server, b);
    assert_eq!(answers(&pair.server.sent), [(PacketType::Puback, Some(b))]);
    pair.acknowledge(Side::Server, a);
    pair.drive();
    assert_eq!(pair.client.released, [b, a]);
}

/// [MQTT-4.3.3-10]: a QoS 2 PUBLISH received again (DUP) before its PUBREL
/// is never delivered twice. With `AfterHandling`, before `acknowledge` the
/// duplicate is not answered either (the first PUBREC has not gone yet);
/// after it, a duplicate gets PUBREC again. The PUBREL then completes the
/// flow with PUBCOMP, once.
fn qos2_duplicate_before_and_after_acknowledge<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = pair_with(v, to, AckPolicy::AfterHandling);
        let id = pair.publish(from, message("a", QoS::ExactlyOnce, b"2"));
        let id = id.expect("QoS 2");
        pair.drive();
        let again = with_dup(publish::<P>(v, "a", QoS::ExactlyOnce, Some(id), b"2"));
        pair.inject_packet(from, &again);
        pair.drive();
        assert_eq!(pair.publishes(to).len(), 1, "{from:?}: delivered once");
        assert!(pair.sent(to).is_empty(), "{from:?}: not answered yet");
        pair.acknowledge(to, id);
        pair.inject_packet(from, &again);
        pair.drive();
        assert_eq!(pair.publishes(to).len(), 1, "{from:?}: delivered once");
        assert_eq!(
            answers(pair.sent(to)),
            [
                (PacketType::Pubrec, Some(id)),
                (PacketType::Pubrec, Some(id))
            ],
            "{from:?}"
        );
        pair.send_drive(from, pubrel(v, id));
        assert_eq!(
            types(pair.sent(to)),
            [PacketType::Pubrec, PacketType::Pubrec, PacketType::Pubcomp],
            "{from:?}"
        );
        assert_eq!(pair.released(from), [id], "{from:?}");
        assert!(
            pair.errors(to).is_empty(),
            "{from:?}: {:?}",
            pair.errors(to)
        );
    }
}

/// A QoS 2 message acknowledged while the network connection is down
/// [MQTT-4.3.3-10]: the PUBREC goes after the next CONNACK of the session
/// (Session Present 1, §4.4), the re-sent PUBLISH (DUP) is not delivered
/// again and gets PUBREC, and the PUBREL completes the flow.
fn qos2_acknowledged_while_disconnected<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut config = PairConfig::manual(v);
        match to {
            Side::Client => config.client.ack = AckPolicy::AfterHandling,
            Side::Server => config.server.ack = AckPolicy::AfterHandling,
        }
        let mut pair: Pair<P> = config.build();
        pair.connect_with(connect(v, "c", false, 0), connack(v, false));
        let id = pair.publish(from, message("a", QoS::ExactlyOnce, b"2"));
        let id = id.expect("QoS 2");
        pair.drive();
        pair.close_link();
        pair.clear_records();
        pair.acknowledge(to, id);
        assert!(pair.sent(to).is_empty() && pair.released(from).is_empty());
        reconnect(&mut pair, false, true);
        let after_connack: Vec<_> = answers(pair.sent(to))
            .into_iter()
            .filter(|(t, _)| !matches!(t, PacketType::Connect | PacketType::Connack))
            .collect();
        assert_eq!(
            after_connack,
            [
                (PacketType::Pubrec, Some(id)),
                (PacketType::Pubrec, Some(id))
            ],
            "{from:?}: PUBREC after the CONNACK, and to the re-sent PUBLISH"
        );
        assert!(
            pair.publishes(to).is_empty(),
            "{from:?}: not delivered again"
        );
        pair.send_drive(from, pubrel(v, id));
        assert_eq!(
            answers(pair.sent(to)).last(),
            Some(&(PacketType::Pubcomp, Some(id))),
            "{from:?}: PUBCOMP answers by itself"
        );
        assert_eq!(pair.released(from), [id], "{from:?}");
        assert!(
            pair.errors(from).is_empty(),
            "{from:?}: {:?}",
            pair.errors(from)
        );
        assert!(
            pair.errors(to).is_empty(),
            "{from:?}: {:?}",
            pair.errors(to)
        );
    }
}

/// v5.0: `acknowledge_with` puts the application's Reason Code and
/// properties on the PUBACK or PUBREC (§3.4.2.1, §3.5.2.1); a failure code
/// on a QoS 2 message ends its flow: no PUBREL follows, the sender's
/// identifier is released [MQTT-4.3.3-4], and a PUBLISH with it is a new
/// message [MQTT-4.3.3-9].
fn acknowledge_with_reason_code_and_properties<P: PacketId>() {
    let v = ProtocolVersion::V5_0;
    for from in SIDES {
        let to = from.peer();
        let mut config = PairConfig::manual(v);
        config.client.ack = AckPolicy::AfterHandling;
        config.server.ack = AckPolicy::AfterHandling;
        let mut pair: Pair<P> = config.build();
        pair.connect();
        pair.clear_records();
        let (one, two) = one_and_two(&mut pair, from);
        pair.drive();
        let properties = v5_0::PubackProperties {
            reason_string: Some("nobody listens".try_into().expect("string")),
            user_properties: vec![UserProperty::new("k", "v").expect("property")],
        };
        let codes = [
            (one, v5_0::PubackReasonCode::NoMatchingSubscribers),
            (two, v5_0::PubackReasonCode::NotAuthorized),
        ];
        for (id, code) in codes {
            let events = match to {
                Side::Client => pair
                    .client
                    .conn
                    .acknowledge_with(id, code, properties.clone()),
                Side::Server => pair
                    .server
                    .conn
                    .acknowledge_with(id, code, properties.clone()),
            };
            pair.handle(to, events.expect("a message waits"));
        }
        pair.drive();
        let got: Vec<(u8, Option<String>, usize)> = pair
            .received(from)
            .iter()
            .map(|packet| match packet {
                GenericPacket::V5_0(v5_0::Packet::Puback(p)) => (
                    p.reason_code().as_u8(),
                    p.properties()
                        .reason_string
                        .as_ref()
                        .map(|s| s.as_str().to_owned()),
                    p.properties().user_properties.len(),
                ),
                GenericPacket::V5_0(v5_0::Packet::Pubrec(p)) => (
                    p.reason_code().as_u8(),
                    p.properties()
                        .reason_string
                        .as_ref()
                        .map(|s| s.as_str().to_owned()),
                    p.properties().user_properties.len(),
                ),
                other => panic!("{from:?}: {other:?}"),
            })
            .collect();
        let why = Some("nobody listens".to_owned());
        assert_eq!(got, [(0x10, why.clone(), 1), (0x87, why, 1)], "{from:?}");
        assert_eq!(pair.released(from), [one, two], "{from:?}: flows ended");
        assert_eq!(
            types(pair.sent(from)),
            [PacketType::Publish; 2],
            "no PUBREL"
        );
        pair.register(from, two);
        pair.send_drive(from, publish(v, "a", QoS::ExactlyOnce, Some(two), b"new"));
        assert_eq!(pair.publishes(to).len(), 3, "{from:?}: a new message");
    }
}

/// v3.1.1 has no reason codes: `acknowledge_with` sends the plain PUBACK.
fn acknowledge_with_on_v3<P: PacketId>() {
    let v = ProtocolVersion::V3_1_1;
    let mut pair: Pair<P> = pair_with(v, Side::Server, AckPolicy::AfterHandling);
    let id = pair.publish(Side::Client, message("a", QoS::AtLeastOnce, b"1"));
    let id = id.expect("QoS 1");
    pair.drive();
    let events = pair.server.conn.acknowledge_with(
        id,
        v5_0::PubackReasonCode::NotAuthorized,
        v5_0::PubackProperties::default(),
    );
    pair.handle(Side::Server, events.expect("a message waits"));
    assert_eq!(pair.server.sent, [puback(v, id)]);
}

/// `is_quiet`: a connected side is quiet while it owes nothing and waits
/// for no answer; a PUBLISH in flight, an acknowledgement or SUBACK of
/// its own that is due each make it busy until the flow ends. A received
/// QoS 2 message whose PUBREL is the peer's to send leaves it quiet.
fn quiet_only_while_nothing_is_due<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = pair_with(v, to, AckPolicy::AfterHandling);
        let quiet = |pair: &Pair<P>, side: Side| match side {
            Side::Client => pair.client.conn.is_quiet(),
            Side::Server => pair.server.conn.is_quiet(),
        };
        assert!(quiet(&pair, from) && quiet(&pair, to), "{from:?}");
        let (one, two) = one_and_two(&mut pair, from);
        assert!(!quiet(&pair, from), "{from:?}: PUBLISH in flight");
        pair.drive();
        assert!(!quiet(&pair, to), "{from:?}: PUBACK and PUBREC due");
        pair.acknowledge(to, one);
        pair.acknowledge(to, two);
        pair.drive();
        assert!(quiet(&pair, to), "{from:?}: awaiting the peer's PUBREL");
        assert!(!quiet(&pair, from), "{from:?}: its PUBREL is due");
        pair.send_drive(from, pubrel(v, two));
        assert!(quiet(&pair, from) && quiet(&pair, to), "{from:?}");
    }
    let mut pair: Pair<P> = pair_with(v, Side::Server, AckPolicy::AfterHandling);
    let id = pair.acquire(Side::Client);
    pair.send_drive(Side::Client, subscribe(v, id, "a/#", QoS::AtLeastOnce));
    assert!(!pair.client.conn.is_quiet(), "awaiting the SUBACK");
    assert!(!pair.server.conn.is_quiet(), "the SUBACK is due");
    pair.send_drive(Side::Server, suback(v, id, QoS::AtLeastOnce));
    assert!(pair.client.conn.is_quiet() && pair.server.conn.is_quiet());
}

matrix!(
    manual_sends_nothing,
    quiet_only_while_nothing_is_due,
    on_receipt_answers_at_once,
    after_handling_acknowledges_when_told,
    client_acknowledges_in_arrival_order,
    server_acknowledges_as_handled,
    qos2_duplicate_before_and_after_acknowledge,
    qos2_acknowledged_while_disconnected,
);
widths!(
    acknowledge_with_reason_code_and_properties,
    acknowledge_with_on_v3
);
