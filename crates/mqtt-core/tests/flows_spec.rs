//! Statements of the specification checked through the simulated pair:
//! packet identifiers (unused when assigned, echoed by the answers of
//! PUBLISH, SUBSCRIBE and UNSUBSCRIBE), QoS 0
//! without identifier nor DUP, the QoS 2 sequence after message expiry,
//! and the Server's Clean Start processing.

#[macro_use]
mod pair;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, GenericPacket, PacketId, ProtocolVersion, QoS};
use mqtt_core::{AckPolicy, MonotonicTime, SendError};
use mqtt_session::SessionError;
use pair::*;

const SIDES: [Side; 2] = [Side::Client, Side::Server];
const V5: ProtocolVersion = ProtocolVersion::V5_0;

/// The type and Packet Identifier of each packet.
fn answers<P: PacketId>(packets: &[GenericPacket<P>]) -> Vec<(PacketType, Option<P>)> {
    packets
        .iter()
        .map(|p| (p.packet_type(), packet_id(p)))
        .collect()
}

/// A pair connected with a session that outlives the connection, with
/// automatic answers on the sides `auto` says (client, server), records
/// cleared.
fn persistent<P: PacketId>(v: ProtocolVersion, auto: [bool; 2]) -> Pair<P> {
    let mut config = PairConfig::manual(v);
    let policy = |auto| {
        if auto {
            AckPolicy::OnReceipt
        } else {
            AckPolicy::Manual
        }
    };
    config.client.ack = policy(auto[0]);
    config.server.ack = policy(auto[1]);
    config.client.offline_publish = true;
    config.server.offline_publish = true;
    let mut pair: Pair<P> = config.build();
    pair.connect_with(connect(v, "c", false, 0), connack(v, false));
    pair.clear_records();
    pair
}

/// Automatic answers on `side` only.
fn auto_on(side: Side) -> [bool; 2] {
    [side == Side::Client, side == Side::Server]
}

/// v3.1.1 [MQTT-2.3.1-2] (v5.0 [MQTT-2.2.1-3]): each new SUBSCRIBE,
/// UNSUBSCRIBE and QoS > 0 PUBLISH of a Client gets a currently unused
/// identifier; [MQTT-2.3.1-4] (v5.0 [MQTT-2.2.1-4]) the same for a Server's
/// PUBLISH. The acquired identifiers differ from those in use, a packet
/// reusing one in use is refused (`PacketIdInUse`, not sent, nothing
/// changed: the holder's flow untouched), and each is free again once its
/// acknowledgement is processed.
fn new_packets_get_unused_identifiers<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = persistent(v, [false, false]);
        let q1 = pair.acquire(from);
        pair.send(from, publish(v, "a", QoS::AtLeastOnce, Some(q1), b"1"));
        let q2 = pair.acquire(from);
        pair.send(from, publish(v, "a", QoS::ExactlyOnce, Some(q2), b"2"));
        let mut held = vec![q1, q2];
        if from == Side::Client {
            let s = pair.acquire(from);
            pair.send(from, subscribe(v, s, "a/+", QoS::AtLeastOnce));
            let u = pair.acquire(from);
            pair.send(from, unsubscribe(v, u, "b"));
            held.extend([s, u]);
        }
        pair.drive();
        let mut distinct = held.clone();
        distinct.sort_by_key(|id| id.to_u32());
        distinct.dedup();
        assert_eq!(distinct.len(), held.len(), "{from:?}: {held:?}");
        let on_wire: Vec<Option<P>> = pair.received(to).iter().map(packet_id).collect();
        assert_eq!(
            on_wire,
            held.iter().copied().map(Some).collect::<Vec<_>>(),
            "{from:?}"
        );

        let sent = pair.sent(from).len();
        for &id in &held {
            let mut reuses = vec![publish(v, "a", QoS::AtLeastOnce, Some(id), b"x")];
            if from == Side::Client {
                reuses.push(subscribe(v, id, "x", QoS::AtMostOnce));
            }
            for packet in reuses {
                let refused = pair.refuse(from, packet);
                assert_eq!(
                    refused,
                    SendError::Session(SessionError::PacketIdInUse(id.to_u32())),
                    "{from:?}"
                );
            }
        }
        pair.drive();
        assert_eq!(pair.sent(from).len(), sent, "{from:?}: nothing reused");
        assert!(pair.released(from).is_empty(), "{from:?}");
        let next = pair.acquire(from);
        assert!(!held.contains(&next), "{from:?}: {next:?} is in use");

        // The answers free them.
        pair.send_drive(to, puback(v, q1));
        pair.send_drive(to, pubrec(v, q2));
        pair.send_drive(from, pubrel(v, q2));
        pair.send_drive(to, pubcomp(v, q2));
        if from == Side::Client {
            pair.send_drive(to, suback(v, held[2], QoS::AtLeastOnce));
            pair.send_drive(to, unsuback(v, held[3]));
        }
        assert_eq!(pair.released(from), &held[..], "{from:?}");
        for &id in &held {
            pair.register(from, id);
        }
    }
}

/// v3.1.1 [MQTT-2.3.1-6] (v5.0 [MQTT-2.2.1-5]): the PUBACK, PUBREC, PUBREL
/// and PUBCOMP of a flow carry the identifier of its PUBLISH, with flows of
/// both QoS interleaved, in both directions; a PUBREL is refused for an
/// identifier whose flow does not await it (a QoS 1 flow, or none),
/// changing nothing.
fn answers_carry_the_publish_identifier<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = persistent(v, [true, true]);
        let (a, b) = (pid::<P>(7), pid::<P>(300));
        pair.register(from, a);
        pair.register(from, b);
        pair.send(from, publish(v, "a", QoS::ExactlyOnce, Some(b), b"2"));
        pair.send(from, publish(v, "a", QoS::AtLeastOnce, Some(a), b"1"));
        pair.drive();
        assert_eq!(
            answers(pair.sent(to)),
            [
                (PacketType::Pubrec, Some(b)),
                (PacketType::Puback, Some(a)),
                (PacketType::Pubcomp, Some(b)),
            ],
            "{from:?}"
        );
        assert_eq!(
            answers(pair.sent(from)),
            [
                (PacketType::Publish, Some(b)),
                (PacketType::Publish, Some(a)),
                (PacketType::Pubrel, Some(b)),
            ],
            "{from:?}"
        );
        assert_eq!(pair.released(from), [a, b], "{from:?}");

        let mut pair: Pair<P> = persistent(v, [false, false]);
        let a = pair.acquire(from);
        pair.send_drive(from, publish(v, "a", QoS::AtLeastOnce, Some(a), b"1"));
        for id in [a, pid(9)] {
            let refused = pair.refuse(from, pubrel(v, id));
            assert_eq!(
                refused,
                SendError::Session(SessionError::PacketIdNotFound(id.to_u32())),
                "{from:?}"
            );
        }
        assert_eq!(types(pair.sent(from)), [PacketType::Publish], "{from:?}");
    }
}

/// v5.0 [MQTT-2.2.1-6] (v3.1.1 [MQTT-2.3.1-7]): a SUBACK and an UNSUBACK
/// carry the identifier of the SUBSCRIBE and UNSUBSCRIBE they answer. The
/// Server refuses to send one that answers nothing received (another
/// identifier, the other request type, one already answered), changing
/// nothing; the Client releases an identifier only at the answer that
/// carries it, and reports one that answers nothing.
fn sub_answers_carry_the_request_identifier<P: PacketId>(v: ProtocolVersion) {
    let forbidden =
        |e: &SendError| matches!(e, SendError::Forbidden(rule) if rule.contains("MQTT-2.2.1-6"));
    let mut pair: Pair<P> = persistent(v, [false, false]);
    let refused = pair.refuse(Side::Server, suback(v, pid(1), QoS::AtMostOnce));
    assert!(forbidden(&refused), "{refused:?}");
    let s = pair.acquire(Side::Client);
    pair.send_drive(Side::Client, subscribe(v, s, "a", QoS::AtLeastOnce));
    let u = pair.acquire(Side::Client);
    pair.send_drive(Side::Client, unsubscribe(v, u, "b"));
    let other = pid::<P>(1000);
    for answer in [
        suback(v, other, QoS::AtLeastOnce),
        suback(v, u, QoS::AtLeastOnce),
        unsuback(v, s),
    ] {
        let refused = pair.refuse(Side::Server, answer);
        assert!(forbidden(&refused), "{refused:?}");
    }
    assert!(
        pair.sent(Side::Server).is_empty(),
        "{:?}",
        pair.sent(Side::Server)
    );

    pair.send_drive(Side::Server, unsuback(v, u));
    pair.send_drive(Side::Server, suback(v, s, QoS::AtLeastOnce));
    assert_eq!(
        answers(pair.sent(Side::Server)),
        [
            (PacketType::Unsuback, Some(u)),
            (PacketType::Suback, Some(s))
        ]
    );
    assert_eq!(pair.released(Side::Client), [u, s]);
    let refused = pair.refuse(Side::Server, suback(v, s, QoS::AtLeastOnce));
    assert!(forbidden(&refused), "answered already: {refused:?}");

    // A Server that breaks the rule: the Client's request stays pending.
    let s = pair.acquire(Side::Client);
    pair.send_drive(Side::Client, subscribe(v, s, "c", QoS::AtLeastOnce));
    pair.inject_packet(Side::Server, &suback(v, other, QoS::AtLeastOnce));
    pair.drive();
    assert_eq!(pair.errors(Side::Client).len(), 1);
    assert_eq!(pair.released(Side::Client).len(), 2);
    pair.send_drive(Side::Server, suback(v, s, QoS::AtLeastOnce));
    assert_eq!(pair.released(Side::Client).last(), Some(&s));
}

/// [MQTT-4.3.1-1]: a QoS 0 message goes out with QoS 0 and DUP 0, and
/// v3.1.1 [MQTT-2.3.1-5] (v5.0 [MQTT-2.2.1-2]) without a packet identifier,
/// also when it was queued while disconnected and leaves the queue behind a
/// QoS 1 PUBLISH re-sent with DUP 1; it takes no identifier.
fn qos0_is_sent_without_identifier_or_dup<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = persistent(v, auto_on(to));
        let id = pair.acquire(from);
        pair.send(from, publish(v, "a", QoS::AtLeastOnce, Some(id), b"one"));
        pair.close_link();
        pair.send(from, publish(v, "a", QoS::AtMostOnce, None, b"zero"));
        assert!(pair.errors(from).is_empty(), "{from:?}: queued");
        reconnect(&mut pair, false, true);
        pair.send_drive(from, publish(v, "a", QoS::AtMostOnce, None, b"live"));
        let got: Vec<_> = pair
            .publishes(to)
            .into_iter()
            .map(|p| (p.payload, p.qos, p.dup, p.packet_id))
            .collect();
        assert_eq!(
            got,
            [
                (b"one".to_vec(), QoS::AtLeastOnce, true, Some(id)),
                (b"zero".to_vec(), QoS::AtMostOnce, false, None),
                (b"live".to_vec(), QoS::AtMostOnce, false, None),
            ],
            "{from:?}"
        );
        assert_eq!(pair.released(from), [id], "{from:?}");
        let session = match from {
            Side::Client => pair.client.conn.session().packet_ids().len(),
            Side::Server => pair.server.conn.session().packet_ids().len(),
        };
        assert_eq!(session, 0, "{from:?}: QoS 0 holds no identifier");
    }
}

/// [MQTT-4.3.3-13]: the receiver of a QoS 2 PUBLISH whose Message Expiry
/// Interval has long passed still completes the acknowledgement sequence:
/// the late PUBREL, sent on the same connection or re-sent after a
/// reconnection, gets a PUBCOMP with Reason Code Success, and the message
/// was delivered once.
fn qos2_sequence_continues_after_message_expiry<P: PacketId>() {
    for resend in [false, true] {
        for from in SIDES {
            let to = from.peer();
            let mut pair: Pair<P> = persistent(V5, auto_on(to));
            pair.set_time(MonotonicTime::from_millis(0));
            let id = pair.acquire(from);
            let properties = v5_0::PublishProperties {
                message_expiry_interval: Some(1),
                ..Default::default()
            };
            let expiring = publish_v5("a", QoS::ExactlyOnce, Some(id), b"two", properties);
            pair.send_drive(from, v5_0::Packet::from(expiring).into());
            assert_eq!(types(pair.sent(to)), [PacketType::Pubrec]);
            pair.set_time(MonotonicTime::from_millis(60_000));
            if resend {
                reconnect(&mut pair, false, true);
            } else {
                pair.send_drive(from, pubrel(V5, id));
            }
            let Some(GenericPacket::V5_0(v5_0::Packet::Pubcomp(pubcomp))) = pair.sent(to).last()
            else {
                panic!("{from:?}, {resend}: {:?}", pair.sent(to));
            };
            assert_eq!(
                (pubcomp.packet_id(), pubcomp.reason_code()),
                (id, v5_0::PubcompReasonCode::Success),
                "{from:?}, {resend}"
            );
            assert_eq!(pair.released(from), [id]);
            assert_eq!(pair.publishes(to).len(), 1);
            assert!(pair.errors(to).is_empty(), "{:?}", pair.errors(to));
        }
    }
}

/// v5.0 [MQTT-3.1.4-4]: the Server processes Clean Start (§3.1.2.4). With
/// Clean Start 0 it resumes the session: its unacknowledged PUBLISH is
/// re-sent with DUP, and the Client's QoS 2 flow completes with PUBCOMP
/// Success. With Clean Start 1 it discards it: a CONNACK claiming a session
/// is refused, the PUBLISH is not re-sent and its identifier is released,
/// and a QoS 2 PUBLISH with the identifier of the old flow is a new message.
fn server_processes_clean_start<P: PacketId>() {
    for clean in [false, true] {
        let mut pair: Pair<P> = persistent(V5, auto_on(Side::Server));
        let c = pair.acquire(Side::Client);
        pair.send_drive(
            Side::Client,
            publish(V5, "a", QoS::ExactlyOnce, Some(c), b"in"),
        );
        let s = pair.acquire(Side::Server);
        pair.send_drive(
            Side::Server,
            publish(V5, "b", QoS::AtLeastOnce, Some(s), b"out"),
        );
        assert_eq!(pair.server.conn.session().in_flight_len(), 1);
        pair.reconnect_link();
        pair.clear_records();
        pair.send_drive(Side::Client, connect(V5, "c", clean, 0));
        if !clean {
            pair.send_drive(Side::Server, connack(V5, true));
            let again = pair.publishes(Side::Client);
            assert_eq!(again.len(), 1);
            assert_eq!((again[0].packet_id, again[0].dup), (Some(s), true));
            assert_eq!(
                answers(pair.sent(Side::Server)).last().copied(),
                Some((PacketType::Pubcomp, Some(c)))
            );
            let Some(GenericPacket::V5_0(v5_0::Packet::Pubcomp(pubcomp))) =
                pair.sent(Side::Server).last()
            else {
                panic!("{:?}", pair.sent(Side::Server));
            };
            assert_eq!(pubcomp.reason_code(), v5_0::PubcompReasonCode::Success);
            continue;
        }
        let refused = pair.refuse(Side::Server, connack(V5, true));
        assert!(
            matches!(refused, SendError::Forbidden(rule) if rule.contains("MQTT-3.2.2-2")),
            "{refused:?}"
        );
        pair.send_drive(Side::Server, connack(V5, false));
        assert!(pair.publishes(Side::Client).is_empty());
        assert_eq!(pair.server.conn.session().in_flight_len(), 0);
        assert_eq!(pair.released(Side::Server), [s]);
        pair.register(Side::Client, c);
        pair.send_drive(
            Side::Client,
            publish(V5, "a", QoS::ExactlyOnce, Some(c), b"new"),
        );
        let got = pair.publishes(Side::Server);
        assert_eq!(got.len(), 1, "a new message: {got:?}");
        assert_eq!(got[0].payload, b"new");
    }
}

matrix!(
    new_packets_get_unused_identifiers,
    answers_carry_the_publish_identifier,
    sub_answers_carry_the_request_identifier,
    qos0_is_sent_without_identifier_or_dup,
);

widths!(
    qos2_sequence_continues_after_message_expiry,
    server_processes_clean_start,
);
