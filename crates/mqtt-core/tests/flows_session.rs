//! Sessions across network connections through the simulated pair: resend
//! with DUP when the session is present, QoS 2 exactly once, PUBREL resent
//! instead of PUBLISH, sessions cleared when not present or on a clean
//! start, offline publish, export and import.

#[macro_use]
mod pair;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, GenericPacket, PacketId, ProtocolVersion, QoS};
use mqtt_core::{
    role, ConnectionOptions, ConnectionState, GenericConnection, MonotonicTime, SendError,
};
use pair::*;

const SIDES: [Side; 2] = [Side::Client, Side::Server];

/// A pair with automatic responses, connected with a session that outlives
/// the connection (v3.1.1 CleanSession 0, v5.0 Clean Start 0 and a Session
/// Expiry Interval that never ends), records cleared.
fn persistent<P: PacketId>(v: ProtocolVersion) -> Pair<P> {
    let mut pair: Pair<P> = PairConfig::new(v).build();
    pair.connect_with(connect(v, "c", false, 0), connack(v, false));
    pair.clear_records();
    pair
}

/// [MQTT-4.4.0-1]: after a reconnection with the session present, an
/// unacknowledged QoS 1 PUBLISH is re-sent with its original identifier and
/// DUP set [MQTT-3.3.1-1], by the client and by the server; then acknowledged
/// and released.
fn resend_qos1_with_dup<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = persistent(v);
        let id = pair.acquire(from);
        pair.send(from, publish(v, "a/b", QoS::AtLeastOnce, Some(id), b"one"));
        pair.close_link(); // lost on the way
        assert!(pair.publishes(to).is_empty());
        reconnect(&mut pair, false, true);
        let got = pair.publishes(to);
        assert_eq!(got.len(), 1, "{from:?}: {:?}", pair.received(to));
        assert_eq!((got[0].packet_id, got[0].dup), (Some(id), true));
        assert_eq!(got[0].topic, "a/b");
        assert_eq!(got[0].payload, b"one");
        assert_eq!(pair.released(from), [id]);
        assert_eq!(session_in_flight(&pair, from), 0);
    }
}

/// [MQTT-4.6.0-1]: several unacknowledged PUBLISH packets are re-sent in
/// the order first sent.
fn resend_in_order<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = persistent(v);
        let mut ids = Vec::new();
        for i in 0..5u8 {
            let qos = if i % 2 == 0 {
                QoS::AtLeastOnce
            } else {
                QoS::ExactlyOnce
            };
            let id = pair.acquire(from);
            ids.push(id);
            pair.send(from, publish(v, "a/b", qos, Some(id), &[i]));
        }
        pair.close_link();
        reconnect(&mut pair, false, true);
        let got = pair.publishes(to);
        let order: Vec<Option<P>> = got.iter().map(|p| p.packet_id).collect();
        assert_eq!(order, ids.iter().copied().map(Some).collect::<Vec<_>>());
        assert!(got.iter().all(|p| p.dup));
        assert_eq!(session_in_flight(&pair, from), 0);
    }
}

/// QoS 2 exactly once across a reconnection: the PUBREC is lost, the PUBLISH
/// is re-sent with DUP, the receiver answers PUBREC again without
/// delivering it twice [MQTT-4.3.3-10] (v3.1.1 §4.3.3), and the flow
/// completes.
fn qos2_exactly_once_across_reconnect<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = persistent(v);
        let id = pair.acquire(from);
        pair.send(from, publish(v, "a/b", QoS::ExactlyOnce, Some(id), b"two"));
        pair.deliver(from);
        assert_eq!(pair.publishes(to).len(), 1);
        assert_eq!(types(pair.sent(to)), [PacketType::Pubrec]);
        pair.close_link(); // the PUBREC is lost
        reconnect(&mut pair, false, true);
        let got = pair.publishes(to);
        assert_eq!(
            got.len(),
            1,
            "{from:?}: delivered once: {:?}",
            pair.received(to)
        );
        assert_eq!(
            types(pair.sent(from))
                .into_iter()
                .filter(|t| *t == PacketType::Publish)
                .count(),
            2,
            "the PUBLISH was re-sent"
        );
        assert_eq!(pair.released(from), [id]);
        assert_eq!(session_in_flight(&pair, from), 0);
        assert_eq!(session_in_flight(&pair, to), 0);
    }
}

/// [MQTT-4.4.0-1], v5.0 [MQTT-4.3.3-6]: once the PUBREL is sent, a
/// reconnection re-sends the PUBREL, not the PUBLISH; the receiver answers
/// PUBCOMP [MQTT-4.3.3-11] even though it already released the identifier.
fn resend_pubrel_not_publish<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = persistent(v);
        let id = pair.acquire(from);
        pair.send(from, publish(v, "a/b", QoS::ExactlyOnce, Some(id), b"two"));
        pair.deliver(from); // PUBLISH ->
        pair.deliver(to); // <- PUBREC
        pair.deliver(from); // PUBREL ->
        assert_eq!(
            types(pair.sent(to)),
            [PacketType::Pubrec, PacketType::Pubcomp]
        );
        pair.close_link(); // the PUBCOMP is lost
        assert!(pair.released(from).is_empty());
        pair.clear_records();
        reconnect(&mut pair, false, true);
        let resent: Vec<PacketType> = types(pair.sent(from))
            .into_iter()
            .filter(|t| *t != PacketType::Connect && *t != PacketType::Connack)
            .collect();
        assert_eq!(resent, [PacketType::Pubrel], "{from:?}");
        assert!(pair.publishes(to).is_empty());
        assert_eq!(pair.released(from), [id]);
        assert_eq!(session_in_flight(&pair, from), 0);
    }
}

/// v5.0 [MQTT-3.2.2-5]: a client with session state that gets Session
/// Present 0 discards it: nothing is re-sent and the identifiers are free.
/// (v3.1.1 §3.2.2.2 likewise.)
fn session_not_present_clears<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = persistent(v);
    let id = pair.acquire(Side::Client);
    pair.send(
        Side::Client,
        publish(v, "a/b", QoS::AtLeastOnce, Some(id), b"one"),
    );
    pair.close_link();
    assert_eq!(
        session_in_flight(&pair, Side::Client),
        1,
        "kept across the close"
    );
    // The server forgot the session.
    let options = ConnectionOptions::default();
    pair.new_server(true, options);
    pair.connect_with(connect(v, "c", false, 0), connack(v, false));
    assert!(pair.server.publishes().is_empty());
    assert_eq!(types(&pair.client.sent).last(), Some(&PacketType::Connect));
    assert_eq!(session_in_flight(&pair, Side::Client), 0);
    pair.client
        .conn
        .register_packet_id(id)
        .expect("the identifier is free again");
}

/// v5.0 [MQTT-3.1.2-4] / v3.1.1 [MQTT-3.1.2-6]: a clean start discards the
/// session on both sides: nothing is re-sent.
fn clean_start_discards<P: PacketId>(v: ProtocolVersion) {
    for from in SIDES {
        let to = from.peer();
        let mut pair: Pair<P> = persistent(v);
        let id = pair.acquire(from);
        pair.send(from, publish(v, "a/b", QoS::AtLeastOnce, Some(id), b"one"));
        pair.close_link();
        reconnect(&mut pair, true, false);
        assert!(pair.publishes(to).is_empty(), "{from:?}");
        assert_eq!(session_in_flight(&pair, from), 0);
    }
}

/// Offline publish: with the option on, a PUBLISH sent before the CONNECT
/// or between connections is queued by the session, keeping its packet
/// identifier, and sent after the next CONNACK, in order, DUP 0; with it
/// off, it is refused, changing nothing.
fn offline_publish<P: PacketId>(v: ProtocolVersion) {
    let mut config = PairConfig::new(v);
    config.client.offline_publish = true;
    let mut pair: Pair<P> = config.build();
    let id = pair.acquire(Side::Client);
    pair.send(
        Side::Client,
        publish(v, "a", QoS::AtLeastOnce, Some(id), b"1"),
    );
    pair.send(Side::Client, publish(v, "a", QoS::AtMostOnce, None, b"2"));
    assert!(pair.client.sent.is_empty());
    assert!(pair.client.errors.is_empty(), "{:?}", pair.client.errors);
    pair.connect_with(connect(v, "c", false, 0), connack(v, false));
    let got = pair.server.publishes();
    let payloads: Vec<&[u8]> = got.iter().map(|p| &p.payload[..]).collect();
    assert_eq!(payloads, [&b"1"[..], &b"2"[..]]);
    // The queued message kept its identifier; its flow ends at its PUBACK.
    assert_eq!((got[0].packet_id, got[0].dup), (Some(id), false));
    assert_eq!(pair.client.released, [id]);

    // Between connections.
    pair.close_link();
    let id = pair.acquire(Side::Client);
    pair.send(
        Side::Client,
        publish(v, "a", QoS::AtLeastOnce, Some(id), b"3"),
    );
    assert!(pair.client.errors.is_empty(), "{:?}", pair.client.errors);
    reconnect(&mut pair, false, true);
    let last = pair.server.publishes().pop().expect("PUBLISH");
    assert_eq!(
        (&last.payload[..], last.dup, last.packet_id),
        (&b"3"[..], false, Some(id))
    );
    assert_eq!(pair.client.released.len(), 2);
    assert_eq!(pair.client.released.last(), Some(&id));
    assert_eq!(pair.client.conn.session().in_flight_len(), 0);

    // Off: refused.
    let mut pair: Pair<P> = PairConfig::new(v).build();
    let refused = pair.refuse(Side::Client, publish(v, "a", QoS::AtMostOnce, None, b"x"));
    assert_eq!(
        refused,
        SendError::NotAllowedInState {
            packet_type: PacketType::Publish,
            state: ConnectionState::Disconnected
        }
    );
    assert!(pair.client.sent.is_empty());
}

/// The session passes through export and import: a client process restarted
/// with the exported state re-sends the unacknowledged PUBLISH
/// [MQTT-4.4.0-1].
fn export_import<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = persistent(v);
    let id = pair.acquire(Side::Client);
    pair.send(
        Side::Client,
        publish(v, "a/b", QoS::AtLeastOnce, Some(id), b"one"),
    );
    pair.close_link();
    let bytes = pair.client.conn.export_session();
    let options = ConnectionOptions::default();
    let mut restarted = GenericConnection::<role::Client, P>::with_options(v, options);
    restarted.import_session(&bytes).expect("import");
    pair.client = Endpoint::new(restarted);
    reconnect(&mut pair, false, true);
    let got = pair.server.publishes();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].packet_id, got[0].dup), (Some(id), true));
    assert_eq!(pair.client.released, [id]);
}

/// A connection object outlives network connections: after the close both
/// are Disconnected and connect again.
fn connect_again_after_close<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = persistent(v);
    pair.close_link();
    assert_eq!(pair.client.conn.state(), ConnectionState::Disconnected);
    assert_eq!(pair.server.conn.state(), ConnectionState::Disconnected);
    reconnect(&mut pair, false, true);
    assert_eq!(pair.client.conn.state(), ConnectionState::Connected);
    assert_eq!(pair.server.conn.state(), ConnectionState::Connected);
}

/// A v5.0 CONNECT with Clean Start 0 and the given Session Expiry Interval.
fn connect_expiry<P: PacketId>(expiry: Option<u32>) -> GenericPacket<P> {
    v5_0::Packet::from(connect_v5(
        "c",
        false,
        0,
        v5_0::ConnectProperties {
            session_expiry_interval: expiry,
            ..Default::default()
        },
    ))
    .into()
}

/// v5.0 §3.1.2.11.2, [MQTT-3.1.2-23]: with the Session Expiry Interval
/// absent (0) the session ends when the network connection closes. A
/// stored message is not re-sent on the next connection; a Session Present
/// 1 then is one the client cannot have: it closes [MQTT-3.2.2-4].
fn session_expiry_zero_ends_with_connection<P: PacketId>() {
    let v = ProtocolVersion::V5_0;
    let mut pair: Pair<P> = PairConfig::new(v).build();
    pair.connect_with(connect_expiry(None), connack(v, false));
    let id = pair.acquire(Side::Client);
    pair.send(
        Side::Client,
        publish(v, "a", QoS::AtLeastOnce, Some(id), b"gone"),
    );
    pair.close_link();
    pair.clear_records();
    pair.reconnect_link();
    pair.send_drive(Side::Client, connect_expiry(None));
    pair.send_drive(Side::Server, connack(v, true));
    assert!(
        pair.server.publishes().is_empty(),
        "{:?}",
        pair.server.received
    );
    assert!(pair.client.close_requested, "{:?}", pair.client.log);
    assert_eq!(pair.client.conn.session().in_flight_len(), 0);
}

/// v5.0 §3.1.2.11.2 (the client side of [MQTT-4.1.0-2]): a session whose
/// Session Expiry Interval (5 s) passed while disconnected (the clock moved
/// with `set_time`) is gone: nothing is re-sent, and a Session Present 1 is one the client
/// cannot have, so it closes [MQTT-3.2.2-4]. One still within its interval
/// (60 s) is resumed [MQTT-4.4.0-1].
fn session_expiry_elapsed<P: PacketId>() {
    let v = ProtocolVersion::V5_0;
    for (expiry, resumed) in [(5, false), (60, true)] {
        let mut pair: Pair<P> = PairConfig::new(v).build();
        pair.set_time(MonotonicTime::from_millis(0));
        pair.connect_with(connect_expiry(Some(expiry)), connack(v, false));
        let id = pair.acquire(Side::Client);
        pair.send(
            Side::Client,
            publish(v, "a", QoS::AtLeastOnce, Some(id), b"m"),
        );
        pair.close_link();
        pair.set_time(MonotonicTime::from_millis(10_000));
        pair.reconnect_link();
        pair.send_drive(Side::Client, connect_expiry(Some(expiry)));
        pair.send_drive(Side::Server, connack(v, true));
        assert_eq!(
            pair.server.publishes().len(),
            usize::from(resumed),
            "expiry {expiry}"
        );
        assert_eq!(
            pair.client.conn.session().in_flight_len(),
            0,
            "expiry {expiry}"
        );
        assert_eq!(pair.client.close_requested, !resumed, "expiry {expiry}");
    }
}

/// v5.0 [MQTT-3.3.2-5]: a queued message whose Message Expiry Interval
/// passed before it could be sent is dropped; [MQTT-3.3.2-6]: one sent
/// later carries what is left of its interval.
fn message_expiry_while_queued<P: PacketId>() {
    let v = ProtocolVersion::V5_0;
    let mut config = PairConfig::new(v);
    config.client.offline_publish = true;
    let mut pair: Pair<P> = config.build();
    pair.set_time(MonotonicTime::from_millis(0));
    for (expiry, payload) in [(5, b"short"), (30, b"long!")] {
        let properties = v5_0::PublishProperties {
            message_expiry_interval: Some(expiry),
            ..Default::default()
        };
        let packet = publish_v5::<P>("a", QoS::AtMostOnce, None, payload, properties);
        pair.send(Side::Client, v5_0::Packet::from(packet).into());
    }
    pair.set_time(MonotonicTime::from_millis(10_000));
    pair.connect_with(connect_expiry(Some(60)), connack(v, false));
    let got = pair.server.publishes();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].payload, b"long!");
    let Some(GenericPacket::V5_0(v5_0::Packet::Publish(p))) = pair
        .server
        .received
        .iter()
        .find(|p| as_publish(p).is_some())
    else {
        unreachable!()
    };
    assert_eq!(p.properties().message_expiry_interval(), Some(20));
}

/// [MQTT-4.1.0-2] (and §3.1.2.11.2 for the Client): with Session Expiry
/// Interval 0 the session ends with the network connection: an identifier
/// taken and not used is released as it closes, on either side.
fn session_expiry_zero_releases_identifiers<P: PacketId>() {
    let v = ProtocolVersion::V5_0;
    for side in SIDES {
        let mut pair: Pair<P> = PairConfig::new(v).build();
        pair.connect_with(connect_expiry(None), connack(v, false));
        let id = pair.acquire(side);
        pair.close_link();
        assert_eq!(pair.released(side), [id], "{side:?}");
    }
}

/// [MQTT-4.1.0-2]: the Server discards the session state when the network
/// connection closes and the Session Expiry Interval (0) has passed,
/// including a received QoS 2 message awaiting its PUBREL
/// [MQTT-4.3.3-10]: nothing is left, and a version-detecting Server
/// forgets the version. (A regression: that state alone was kept.)
fn session_expiry_zero_discards_received_qos2<P: PacketId>() {
    let v = ProtocolVersion::V5_0;
    let mut pair: Pair<P> = PairConfig::new(v).build();
    pair.connect_with(connect_expiry(None), connack(v, false));
    pair.publish(Side::Client, message("a", QoS::ExactlyOnce, b"2"));
    pair.deliver(Side::Client);
    assert_eq!(pair.server.conn.session().qos2_pending_len(), 1);
    pair.close_link(); // before the PUBREL
    let session = pair.server.conn.session();
    assert_eq!(session.qos2_pending_len(), 0);
    assert!(session.is_empty());
    assert_eq!(pair.server.conn.version(), None);
}

/// v5.0 §3.14.2.2.2: a client may shorten the Session Expiry Interval in
/// its DISCONNECT; with 0 the session ends with the connection, so nothing
/// is re-sent next time.
fn disconnect_ends_session<P: PacketId>() {
    let v = ProtocolVersion::V5_0;
    let mut pair: Pair<P> = PairConfig::manual(v).build();
    pair.connect_with(connect_expiry(Some(3600)), connack(v, false));
    let id = pair.acquire(Side::Client);
    pair.send_drive(
        Side::Client,
        publish(v, "a", QoS::AtLeastOnce, Some(id), b"m"),
    );
    let bye = v5_0::Disconnect::builder()
        .properties(v5_0::DisconnectProperties {
            session_expiry_interval: Some(0),
            ..Default::default()
        })
        .build()
        .expect("DISCONNECT");
    pair.send_drive(Side::Client, v5_0::Packet::from(bye).into());
    assert!(!pair.link_up);
    assert_eq!(pair.client.conn.session_expiry_interval(), 0);
    pair.clear_records();
    pair.reconnect_link();
    pair.connect_with(connect_expiry(Some(3600)), connack(v, false));
    assert!(pair.server.publishes().is_empty());
    assert_eq!(pair.client.conn.session().in_flight_len(), 0);
}

/// v5.0 §3.14.2.2.2: after a CONNECT with Session Expiry 0, a DISCONNECT
/// with a non-zero one is refused on send, and a server receiving it
/// answers DISCONNECT 0x82 (Protocol Error) before closing.
fn disconnect_expiry_after_zero<P: PacketId>() {
    let v = ProtocolVersion::V5_0;
    let bye: GenericPacket<P> = disconnect_expiry(10);
    let mut pair: Pair<P> = PairConfig::manual(v).build();
    pair.connect();
    let refused = pair.refuse(Side::Client, bye.clone());
    assert!(
        matches!(refused, SendError::Forbidden(rule) if rule.contains("3.14.2.2.2")),
        "{refused:?}"
    );
    assert_eq!(types(&pair.client.sent), [PacketType::Connect]);
    pair.clear_records();
    pair.inject_packet(Side::Client, &bye);
    pair.drive();
    assert_eq!(
        pair.server.sent.last().and_then(disconnect_reason),
        Some(0x82),
        "{:?}",
        pair.server.log
    );
    assert!(pair.server.close_requested);
}

/// A SUBSCRIBE or UNSUBSCRIBE whose answer is lost with the connection is
/// not re-sent [MQTT-4.4.0-1] (only PUBLISH and PUBREL are): its
/// identifier is released when the connection closes.
fn subscribe_id_released_on_close<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = persistent(v);
    let id = pair.acquire(Side::Client);
    pair.send_drive(Side::Client, subscribe(v, id, "a/#", QoS::AtLeastOnce));
    let id2 = pair.acquire(Side::Client);
    pair.send(Side::Client, unsubscribe(v, id2, "b"));
    pair.close_link();
    let mut released = pair.client.released.clone();
    released.sort();
    assert_eq!(released, [id, id2]);
    pair.clear_records();
    reconnect(&mut pair, false, true);
    assert_eq!(types(&pair.client.sent), [PacketType::Connect]);
}

fn session_in_flight<P: PacketId>(pair: &Pair<P>, side: Side) -> usize {
    match side {
        Side::Client => pair.client.conn.session().in_flight_len(),
        Side::Server => pair.server.conn.session().in_flight_len(),
    }
}

matrix!(
    resend_qos1_with_dup,
    resend_in_order,
    qos2_exactly_once_across_reconnect,
    resend_pubrel_not_publish,
    session_not_present_clears,
    clean_start_discards,
    offline_publish,
    export_import,
    connect_again_after_close,
    subscribe_id_released_on_close,
);
widths!(
    session_expiry_zero_ends_with_connection,
    session_expiry_zero_releases_identifiers,
    session_expiry_zero_discards_received_qos2,
    session_expiry_elapsed,
    message_expiry_while_queued,
    disconnect_ends_session,
    disconnect_expiry_after_zero,
);
