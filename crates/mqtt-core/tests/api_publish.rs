//! `publish(Message)` through the simulated pair: the connection numbers
//! QoS 1 and 2 messages itself and returns the identifier, for a Client and
//! for a Server, online and queued; the peer's Receive Maximum is a queue
//! that drains, in order, as acknowledgements free quota; the queue's bound
//! refuses with `SendError::QueueFull`, changing nothing.

#[macro_use]
mod pair;

use std::num::NonZeroU16;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, GenericPacket, PacketId, ProtocolVersion, QoS};
use mqtt_core::SendError;
use pair::*;

const SIDES: [Side; 2] = [Side::Client, Side::Server];
const V5: ProtocolVersion = ProtocolVersion::V5_0;

/// The packet identifiers of `side`'s session in use, sorted.
fn ids_in_use<P: PacketId>(pair: &Pair<P>, side: Side) -> Vec<P> {
    let pool = match side {
        Side::Client => pair.client.conn.session().packet_ids(),
        Side::Server => pair.server.conn.session().packet_ids(),
    };
    let mut ids: Vec<P> = pool.iter().collect();
    ids.sort();
    ids
}

/// (queued, in flight) of `side`'s session.
fn queue_and_flights<P: PacketId>(pair: &Pair<P>, side: Side) -> (usize, usize) {
    let session = match side {
        Side::Client => pair.client.conn.session(),
        Side::Server => pair.server.conn.session(),
    };
    (session.queue_len(), session.in_flight_len())
}

/// [MQTT-2.2.1-3] (v3.1.1 [MQTT-2.3.1-2]), [MQTT-2.2.1-4]: a Client's and
/// a Server's QoS 1 and 2 messages get a non-zero identifier currently
/// unused (not the one the application holds), returned by `publish` and
/// carried on the wire; [MQTT-2.2.1-2]: a QoS 0 message gets none and
/// takes none. Each identifier is released when its flow ends
/// [MQTT-4.3.2-3], [MQTT-4.3.3-5].
fn publish_numbers_qos_1_and_2<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = PairConfig::new(v).build();
        pair.connect();
        pair.clear_records();
        let held = pair.acquire(from);
        let zero = pair.publish(from, message("t/0", QoS::AtMostOnce, b"0"));
        assert_eq!(zero, None, "{from:?}");
        assert_eq!(
            ids_in_use(&pair, from),
            [held],
            "{from:?}: QoS 0 takes none"
        );
        let one = pair.publish(from, message("t/1", QoS::AtLeastOnce, b"1"));
        let two = pair.publish(from, message("t/2", QoS::ExactlyOnce, b"2"));
        let (Some(one), Some(two)) = (one, two) else {
            panic!("{from:?}: {one:?} {two:?}");
        };
        assert!(one != held && two != held && one != two, "{from:?}");
        let mut expected = vec![held, one, two];
        expected.sort();
        assert_eq!(ids_in_use(&pair, from), expected, "{from:?}");
        pair.drive();
        let wire: Vec<_> = pair
            .publishes(to)
            .into_iter()
            .map(|p| (p.topic, p.qos, p.packet_id, p.dup))
            .collect();
        assert_eq!(
            wire,
            [
                ("t/0".to_owned(), QoS::AtMostOnce, None, false),
                ("t/1".to_owned(), QoS::AtLeastOnce, Some(one), false),
                ("t/2".to_owned(), QoS::ExactlyOnce, Some(two), false),
            ],
            "{from:?}"
        );
        assert_eq!(pair.released(from), [one, two], "{from:?}");
        assert_eq!(ids_in_use(&pair, from), [held], "{from:?}");
        assert!(pair.errors(from).is_empty() && pair.errors(to).is_empty());
    }
}

/// A message published while disconnected, with offline publish on, is
/// numbered at once: `publish` returns its identifier and no event, and it
/// goes out with that identifier, DUP 0, after the next CONNACK
/// [MQTT-2.2.1-3]; a PUBLISH packet queued the same way keeps the
/// identifier it carries.
fn publish_offline_returns_the_identifier<P: PacketId>(v: ProtocolVersion) {
    let mut config = PairConfig::new(v);
    config.client.offline_publish = true;
    let mut pair: Pair<P> = config.build();
    let id = pair.publish(Side::Client, message("a", QoS::AtLeastOnce, b"1"));
    let id = id.expect("QoS 1 is numbered");
    let own = pair.acquire(Side::Client);
    pair.send(
        Side::Client,
        publish(v, "a", QoS::ExactlyOnce, Some(own), b"2"),
    );
    assert!(pair.client.log.is_empty(), "{:?}", pair.client.log);
    assert_eq!(queue_and_flights(&pair, Side::Client), (2, 0));
    pair.connect();
    let got: Vec<_> = pair
        .server
        .publishes()
        .into_iter()
        .map(|p| (p.payload, p.packet_id, p.dup))
        .collect();
    assert_eq!(
        got,
        [
            (b"1".to_vec(), Some(id), false),
            (b"2".to_vec(), Some(own), false)
        ]
    );
    assert_eq!(pair.client.released, [id, own]);
}

/// The identifier of a queued message is the message's until its flow
/// ends: `release_packet_id` leaves it in use (no event), `acquire` does
/// not hand it out again [MQTT-2.2.1-3], the session exported then imports
/// again, and the message goes out with it. (A regression: the release
/// used to free it, and the exported session did not import.)
fn queued_identifier_is_not_released<P: PacketId>(v: ProtocolVersion) {
    let mut config = PairConfig::new(v);
    config.client.offline_publish = true;
    let mut pair: Pair<P> = config.build();
    let id = pair.publish(Side::Client, message("a", QoS::AtLeastOnce, b"1"));
    let id = id.expect("QoS 1");
    assert!(pair.client.conn.release_packet_id(id).is_empty());
    let other = pair.acquire(Side::Client);
    assert_ne!(other, id);
    let bytes = pair.client.conn.export_session();
    pair.client
        .conn
        .import_session(&bytes)
        .expect("the exported session imports");
    pair.connect();
    assert_eq!(pair.server.publishes()[0].packet_id, Some(id));
    // The clean start frees the unused one; the PUBACK the message's.
    assert_eq!(pair.client.released, [other, id]);
}

/// [MQTT-2.2.1-3]: a SUBSCRIBE sent before the CONNACK keeps its packet
/// identifier through a CONNACK without a session (which frees the
/// others): it stays in use until its SUBACK releases it.
fn subscribe_before_connack_keeps_its_identifier<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = PairConfig::manual(v).build();
    pair.send_drive(Side::Client, connect(v, "c", true, 0));
    let s = pair.acquire(Side::Client);
    pair.send_drive(Side::Client, subscribe(v, s, "a/b", QoS::AtLeastOnce));
    pair.send_drive(Side::Server, connack(v, false));
    assert_eq!(ids_in_use(&pair, Side::Client), [s]);
    let m = pair.publish(Side::Client, message("a/b", QoS::AtLeastOnce, b"m"));
    assert_ne!(m, Some(s));
    pair.send_drive(Side::Server, suback(v, s, QoS::AtLeastOnce));
    assert_eq!(pair.client.released, [s]);
}

/// A v5.0 pair whose `receiver` announces Receive Maximum `n` (in CONNECT
/// or CONNACK) and answers by hand; the sender's queue holds up to
/// `queue_max` messages.
fn quota_pair<P: PacketId>(receiver: Side, n: u16, queue_max: usize) -> Pair<P> {
    let mut config = PairConfig::manual(V5);
    for options in [&mut config.client, &mut config.server] {
        options.session.queue_max_messages = queue_max;
    }
    let mut pair: Pair<P> = config.build();
    let receive_maximum = NonZeroU16::new(n);
    let mut connect = v5_0::ConnectProperties::default();
    let mut connack = v5_0::ConnackProperties::default();
    match receiver {
        Side::Client => connect.receive_maximum = receive_maximum,
        Side::Server => connack.receive_maximum = receive_maximum,
    }
    pair.connect_with(
        v5_0::Packet::from(connect_v5("c", true, 0, connect)).into(),
        v5_0::Packet::from(connack_v5(false, connack)).into(),
    );
    pair.clear_records();
    pair
}

/// [MQTT-3.3.4-7], [MQTT-3.3.4-9], [MQTT-4.9.0-2]: with the peer's Receive
/// Maximum 3, seven QoS 1 messages published at once: three go, four wait
/// in the session's queue (numbered already), and each PUBACK lets the
/// next one go, in the order published [MQTT-4.6.0-6]; never more than
/// three unacknowledged.
fn quota_queue_drains_as_pubacks_arrive<P: PacketId>() {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = quota_pair(to, 3, 100);
        let ids: Vec<P> = (0..7u8)
            .map(|i| {
                let id = pair.publish(from, message("q", QoS::AtLeastOnce, &[i]));
                id.expect("numbered at once")
            })
            .collect();
        pair.drive();
        assert_eq!(queue_and_flights(&pair, from), (4, 3), "{from:?}");
        for acked in 0..7 {
            let got = pair.publishes(to);
            let expected = (acked + 3).min(7);
            assert_eq!(got.len(), expected, "{from:?} after {acked} PUBACKs");
            for (i, p) in got.iter().enumerate() {
                assert_eq!((p.payload[0], p.packet_id), (i as u8, Some(ids[i])));
            }
            pair.send_drive(to, puback(V5, ids[acked]));
        }
        assert_eq!(pair.released(from), &ids[..], "{from:?}");
        assert_eq!(queue_and_flights(&pair, from), (0, 0), "{from:?}");
        assert!(pair.errors(from).is_empty() && pair.errors(to).is_empty());
    }
}

/// The queue is bounded (`SessionConfig::queue_max_messages`, 2 here):
/// past it `publish` and `send` err with [`SendError::QueueFull`] and change
/// nothing: no identifier taken by `publish`, the one a PUBLISH packet
/// carries still the application's; what was queued goes as before.
fn quota_queue_full_changes_nothing<P: PacketId>() {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = quota_pair(to, 1, 2);
        let ids: Vec<Option<P>> = (0..3u8)
            .map(|i| pair.publish(from, message("q", QoS::AtLeastOnce, &[i])))
            .collect();
        let in_use = ids_in_use(&pair, from);
        let refused = pair.refuse_publish(from, message("q", QoS::AtLeastOnce, b"x"));
        assert_eq!(refused, SendError::QueueFull, "{from:?}");
        let own = pair.acquire(from);
        let packet = publish(V5, "q", QoS::ExactlyOnce, Some(own), b"y");
        assert_eq!(pair.refuse(from, packet), SendError::QueueFull);
        let refused = pair.refuse_publish(from, message("q", QoS::AtMostOnce, b"z"));
        assert_eq!(refused, SendError::QueueFull, "{from:?}: QoS 0 waits too");
        let mut expected = in_use.clone();
        expected.push(own);
        expected.sort();
        assert_eq!(ids_in_use(&pair, from), expected, "{from:?}");
        pair.drive();
        for id in ids.iter().flatten() {
            pair.send_drive(to, puback(V5, *id));
        }
        let payloads: Vec<u8> = pair.publishes(to).iter().map(|p| p.payload[0]).collect();
        assert_eq!(payloads, [0, 1, 2], "{from:?}");
        // The queue has room again.
        pair.send_drive(from, publish(V5, "q", QoS::ExactlyOnce, Some(own), b"y"));
        assert_eq!(pair.publishes(to).len(), 4, "{from:?}");
    }
}

/// The same bound for messages queued while disconnected (offline
/// publish), in both versions: the third of two is refused with
/// `QueueFull`, changing nothing, and the two go after the CONNACK.
fn offline_queue_full<P: PacketId>(v: ProtocolVersion) {
    let mut config = PairConfig::new(v);
    config.client.offline_publish = true;
    config.client.session.queue_max_messages = 2;
    let mut pair: Pair<P> = config.build();
    let a = pair.publish(Side::Client, message("a", QoS::AtLeastOnce, b"a"));
    let b = pair.publish(Side::Client, message("a", QoS::AtMostOnce, b"b"));
    assert_eq!(b, None);
    let refused = pair.refuse_publish(Side::Client, message("a", QoS::ExactlyOnce, b"c"));
    assert_eq!(refused, SendError::QueueFull);
    pair.connect();
    let got: Vec<_> = pair
        .server
        .publishes()
        .into_iter()
        .map(|p| (p.payload, p.packet_id))
        .collect();
    assert_eq!(got, [(b"a".to_vec(), a), (b"b".to_vec(), None)]);
    assert_eq!(
        types(&pair.server.sent),
        [PacketType::Connack, PacketType::Puback]
    );
}

/// A Server publishing to a Client is numbered from the Server's own
/// identifiers, independent of the Client's: both may use the same value
/// at once [MQTT-2.2.1-4].
fn identifiers_are_per_direction<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = PairConfig::manual(v).build();
    pair.connect();
    let c = pair.publish(Side::Client, message("up", QoS::AtLeastOnce, b"c"));
    let s = pair.publish(Side::Server, message("down", QoS::AtLeastOnce, b"s"));
    assert_eq!(c, s, "each side starts from its own pool");
    pair.drive();
    let id = c.expect("QoS 1");
    let up: GenericPacket<P> = puback(v, id);
    pair.send_drive(Side::Server, up);
    assert_eq!(pair.client.released, [id]);
    assert!(pair.server.released.is_empty());
    assert_eq!(pair.server.conn.session().in_flight_len(), 1);
}

matrix!(
    publish_numbers_qos_1_and_2,
    publish_offline_returns_the_identifier,
    offline_queue_full,
    identifiers_are_per_direction,
    queued_identifier_is_not_released,
    subscribe_before_connack_keeps_its_identifier,
);
/// [MQTT-3.3.2-5]: a queued message whose Message Expiry Interval passed
/// before it could be sent is dropped, and its packet identifier is
/// released and reported.
fn expired_queued_message_releases_its_identifier<P: PacketId>() {
    let mut config = PairConfig::new(V5);
    config.client.offline_publish = true;
    let mut pair: Pair<P> = config.build();
    let expiring = expiring("a", 5);
    let id = pair.publish(Side::Client, expiring).expect("QoS 1");
    pair.set_time(mqtt_core::MonotonicTime::from_millis(10_000));
    pair.connect();
    assert!(pair.server.publishes().is_empty());
    assert_eq!(pair.client.released, [id]);
    assert!(ids_in_use(&pair, Side::Client).is_empty());
}

/// A message refused for want of room in the queue (`QueueFull`) changes
/// nothing, not even the expired messages that dropping would not make
/// room enough for: they stay until they leave the queue, and their
/// identifiers are released then [MQTT-3.3.2-5]. (A regression: the
/// refusal dropped them.)
fn queue_full_keeps_expired_messages<P: PacketId>() {
    let mut config = PairConfig::new(V5);
    config.client.offline_publish = true;
    config.client.session.queue_max_bytes = 100;
    let mut pair: Pair<P> = config.build();
    let expiring = expiring("a", 1);
    let old = pair.publish(Side::Client, expiring).expect("QoS 1");
    let live = pair.publish(Side::Client, message("b", QoS::AtLeastOnce, &[0; 60]));
    pair.set_time(mqtt_core::MonotonicTime::from_millis(2_000));
    let refused = pair.refuse_publish(Side::Client, message("c", QoS::AtLeastOnce, &[0; 60]));
    assert_eq!(refused, SendError::QueueFull);
    assert_eq!(queue_and_flights(&pair, Side::Client), (2, 0));
    pair.connect();
    let got: Vec<_> = pair
        .server
        .publishes()
        .into_iter()
        .map(|p| p.packet_id)
        .collect();
    assert_eq!(got, [live]);
    assert_eq!(pair.client.released, [old, live.expect("QoS 1")]);
}

widths!(
    expired_queued_message_releases_its_identifier,
    queue_full_keeps_expired_messages,
    quota_queue_drains_as_pubacks_arrive,
    quota_queue_full_changes_nothing,
);
