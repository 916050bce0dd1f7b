//! Whole flows through the simulated pair: connecting, refusing,
//! disconnecting, and the packets each side may send in each state.

#[macro_use]
mod pair;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, ProtocolVersion, QoS};
use mqtt_core::{ConnectionState, RoleKind, SendError};
use pair::*;

/// [MQTT-3.1.0-1] the client's first packet is CONNECT; [MQTT-3.2.0-1] the
/// server's first is CONNACK; the server learns the version from the
/// CONNECT it receives; both sides end up connected.
fn connect_and_detect_version<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = Pair::with_version(v);
    assert_eq!(pair.server.conn.version(), None);
    assert_eq!(pair.client.conn.state(), ConnectionState::Disconnected);
    pair.send(Side::Client, connect(v, "c", true, 0));
    assert_eq!(pair.client.conn.state(), ConnectionState::Connecting);
    pair.drive();
    assert_eq!(pair.server.conn.version(), Some(v));
    assert_eq!(pair.server.conn.state(), ConnectionState::Connecting);
    assert_eq!(types(&pair.server.received), [PacketType::Connect]);
    pair.send_drive(Side::Server, connack(v, false));
    assert_eq!(types(&pair.client.received), [PacketType::Connack]);
    assert_eq!(pair.client.conn.state(), ConnectionState::Connected);
    assert_eq!(pair.server.conn.state(), ConnectionState::Connected);
    assert_eq!(pair.client.conn.version(), Some(v));
    assert!(pair.client.errors.is_empty() && pair.server.errors.is_empty());
    assert!(pair.link_up);
}

/// A server built for the version (not detecting it) accepts its own.
fn connect_fixed_version_server<P: PacketId>(v: ProtocolVersion) {
    let mut config = PairConfig::manual(v);
    config.server_detects_version = false;
    let mut pair: Pair<P> = config.build();
    pair.connect();
    assert_eq!(pair.server.conn.state(), ConnectionState::Connected);
}

/// `packet_type` may not be sent in `state`.
fn not_in_state(packet_type: PacketType, state: ConnectionState) -> SendError {
    SendError::NotAllowedInState { packet_type, state }
}

/// [MQTT-3.1.0-1]: a client cannot send anything but CONNECT first; the
/// refused packet is an error naming the state, changes nothing, and
/// nothing reaches the wire.
fn client_sends_nothing_before_connect<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = Pair::with_version(v);
    let refused = pair.refuse(Side::Client, publish(v, "t", QoS::AtMostOnce, None, b"x"));
    assert_eq!(
        refused,
        not_in_state(PacketType::Publish, ConnectionState::Disconnected)
    );
    let refused = pair.refuse(Side::Client, pingreq(v));
    assert_eq!(
        refused,
        not_in_state(PacketType::Pingreq, ConnectionState::Disconnected)
    );
    pair.drive();
    assert!(pair.client.sent.is_empty());
    assert!(pair.server.received.is_empty());
}

/// [MQTT-3.2.0-1]: the server sends nothing but CONNACK (or, on v5.0, AUTH)
/// before its CONNACK; a PUBLISH it tries is refused and not sent.
fn server_sends_connack_first<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = Pair::with_version(v);
    pair.send_drive(Side::Client, connect(v, "c", true, 0));
    let refused = pair.refuse(Side::Server, publish(v, "t", QoS::AtMostOnce, None, b"x"));
    assert_eq!(
        refused,
        not_in_state(PacketType::Publish, ConnectionState::Connecting)
    );
    pair.drive();
    assert!(pair.server.sent.is_empty());
    assert!(pair.client.received.is_empty());
    pair.send_drive(Side::Server, connack(v, false));
    assert_eq!(types(&pair.client.received), [PacketType::Connack]);
}

/// [MQTT-3.1.0-2]: a client sends CONNECT once per network connection: a
/// second one is refused locally. A peer that sends it anyway is a protocol
/// violation: v5.0 answers DISCONNECT 0x82 then closes [MQTT-4.13.1-1],
/// v3.1.1 closes [MQTT-4.8.0-1].
fn second_connect<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = Pair::with_version(v);
    pair.connect();
    let refused = pair.refuse(Side::Client, connect(v, "c", true, 0));
    assert_eq!(
        refused,
        not_in_state(PacketType::Connect, ConnectionState::Connected)
    );
    assert_eq!(types(&pair.client.sent), [PacketType::Connect]);

    pair.inject_packet(Side::Client, &connect(v, "c", true, 0));
    pair.drive();
    assert!(!pair.server.errors.is_empty());
    assert!(pair.server.close_requested);
    assert!(!pair.link_up);
    assert_protocol_error_disconnect(&pair.server.sent, v, 0x82);
    assert_eq!(pair.server.conn.state(), ConnectionState::Disconnected);
}

/// [MQTT-3.2.0-2] (v5.0): a second CONNACK is a protocol error for the
/// client, which sends DISCONNECT 0x82 and closes. On v3.1.1 the client
/// closes [MQTT-4.8.0-1].
fn second_connack<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = Pair::with_version(v);
    pair.connect();
    // The server's own core refuses a second CONNACK.
    let refused = pair.refuse(Side::Server, connack(v, false));
    assert_eq!(
        refused,
        not_in_state(PacketType::Connack, ConnectionState::Connected)
    );
    assert_eq!(types(&pair.server.sent), [PacketType::Connack]);
    pair.inject_packet(Side::Server, &connack(v, false));
    pair.drive();
    assert!(!pair.client.errors.is_empty());
    assert!(pair.client.close_requested);
    assert_protocol_error_disconnect(&pair.client.sent, v, 0x82);
}

/// A refused CONNECT gets its CONNACK before the close: v5.0 [MQTT-3.2.2-7]
/// (reason code 0x80 or above, then close), v3.1.1 [MQTT-3.2.2-5] (non-zero
/// return code, then close). The client closes too and ends disconnected.
fn refused_connect_gets_connack<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = Pair::with_version(v);
    pair.send_drive(Side::Client, connect(v, "c", true, 0));
    pair.send_drive(Side::Server, connack_refused(v));
    assert_eq!(types(&pair.server.sent), [PacketType::Connack]);
    assert_eq!(types(&pair.client.received), [PacketType::Connack]);
    assert!(pair.server.close_requested, "{:?}", pair.server.log);
    assert!(!pair.link_up);
    assert_eq!(pair.client.conn.state(), ConnectionState::Disconnected);
    assert_eq!(pair.server.conn.state(), ConnectionState::Disconnected);
}

/// [MQTT-3.1.2-2]: a CONNECT of an unsupported protocol level gets the
/// refusal CONNACK (v3.1.1 return code 0x01, v5.0 reason code 0x84) and the
/// connection closes. Here a version-detecting server gets level 6.
fn unsupported_protocol_level<P: PacketId>() {
    let mut pair: Pair<P> = Pair::with_version(ProtocolVersion::V5_0);
    // CONNECT, "MQTT", level 6, flags: clean, keep alive 0, id "c".
    pair.inject(
        Side::Client,
        &[
            0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x06, 0x02, 0x00, 0x00, 0x00, 0x01,
            b'c',
        ],
    );
    pair.drive();
    assert!(pair.server.close_requested, "{:?}", pair.server.log);
    assert_version_refusal(&pair.server.sent);
    assert!(pair.server.received.is_empty());
}

/// [MQTT-3.1.2-2] on a server fixed to one version, given a CONNECT of the
/// other: a refusal CONNACK, then close.
fn other_version_on_fixed_server<P: PacketId>(v: ProtocolVersion) {
    let other = match v {
        ProtocolVersion::V3_1_1 => ProtocolVersion::V5_0,
        ProtocolVersion::V5_0 => ProtocolVersion::V3_1_1,
    };
    let mut config = PairConfig::manual(other);
    config.server_detects_version = false;
    let mut pair: Pair<P> = config.build();
    pair.inject_packet(Side::Client, &connect::<P>(v, "c", true, 0));
    pair.drive();
    assert!(pair.server.close_requested, "{:?}", pair.server.log);
    assert_version_refusal(&pair.server.sent);
    assert!(pair.server.received.is_empty());
}

/// [MQTT-3.1.4-1] (and v3.1.1 [MQTT-4.8.0-1]): a first packet that is not a
/// CONNECT closes the connection; no DISCONNECT is sent before a CONNACK
/// [MQTT-3.14.0-1].
fn first_packet_not_connect<P: PacketId>(v: ProtocolVersion) {
    for detect in [true, false] {
        let mut config = PairConfig::manual(v);
        config.server_detects_version = detect;
        let mut pair: Pair<P> = config.build();
        pair.inject_packet(Side::Client, &pingreq(v));
        pair.drive();
        assert!(pair.server.close_requested, "detect {detect}");
        assert!(pair.server.sent.is_empty(), "{:?}", pair.server.sent);
        assert!(pair.server.received.is_empty());
        assert!(!pair.server.errors.is_empty());
    }
}

/// DISCONNECT from the client: it sends nothing more and closes (v5.0
/// [MQTT-3.14.4-1], [MQTT-3.14.4-2]; v3.1.1 [MQTT-3.14.4-1],
/// [MQTT-3.14.4-2]); the server is told of it and the link goes down.
fn client_disconnects<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = Pair::with_version(v);
    pair.connect();
    pair.send(Side::Client, disconnect(v));
    assert!(pair.client.close_requested);
    assert_eq!(pair.client.conn.state(), ConnectionState::Closed);
    // Nothing more may be sent on this connection.
    let refused = pair.refuse(Side::Client, publish(v, "t", QoS::AtMostOnce, None, b"x"));
    assert_eq!(
        refused,
        not_in_state(PacketType::Publish, ConnectionState::Closed)
    );
    pair.drive();
    assert_eq!(
        types(&pair.server.received),
        [PacketType::Connect, PacketType::Disconnect]
    );
    assert!(pair.server.publishes().is_empty());
    assert!(!pair.link_up);
    assert_eq!(pair.client.conn.state(), ConnectionState::Disconnected);
    assert_eq!(pair.server.conn.state(), ConnectionState::Disconnected);
}

/// v5.0: the server may DISCONNECT after its CONNACK [MQTT-3.14.0-1]; the
/// client sees the reason code and closes [MQTT-3.14.4-2].
fn server_disconnects_v5<P: PacketId>() {
    let v = ProtocolVersion::V5_0;
    let mut pair: Pair<P> = Pair::with_version(v);
    pair.send_drive(Side::Client, connect(v, "c", true, 0));
    // Not before its CONNACK.
    let going_away = GenericPacket::from(v5_0::Packet::from(v5_0::Disconnect::new(
        v5_0::DisconnectReasonCode::ServerShuttingDown,
    )));
    let refused = pair.refuse(Side::Server, going_away.clone());
    assert_eq!(
        refused,
        not_in_state(PacketType::Disconnect, ConnectionState::Connecting)
    );
    assert!(pair.server.sent.is_empty());
    pair.send_drive(Side::Server, connack(v, false));
    pair.send_drive(Side::Server, going_away.clone());
    assert_eq!(pair.client.received.last(), Some(&going_away));
    assert!(!pair.link_up);
    assert_eq!(pair.client.conn.state(), ConnectionState::Disconnected);
}

/// v3.1.1 has no server DISCONNECT: the server's core refuses to send one.
fn server_cannot_disconnect_v3<P: PacketId>() {
    let v = ProtocolVersion::V3_1_1;
    let mut pair: Pair<P> = Pair::with_version(v);
    pair.connect();
    let refused = pair.refuse(Side::Server, disconnect(v));
    assert_eq!(
        refused,
        SendError::NotAllowedForRole {
            packet_type: PacketType::Disconnect,
            role: RoleKind::Server
        }
    );
    assert_eq!(types(&pair.server.sent), [PacketType::Connack]);
}

/// [MQTT-3.2.2-16] (v5.0): a client that sent an empty Client Identifier
/// learns the Assigned Client Identifier from the CONNACK.
fn assigned_client_identifier<P: PacketId>() {
    let v = ProtocolVersion::V5_0;
    let mut pair: Pair<P> = Pair::with_version(v);
    let connack = connack_v5(
        false,
        v5_0::ConnackProperties {
            assigned_client_identifier: Some("given-1".try_into().expect("string")),
            ..Default::default()
        },
    );
    pair.connect_with(connect(v, "", true, 0), v5_0::Packet::from(connack).into());
    assert_eq!(
        pair.client
            .conn
            .assigned_client_identifier()
            .map(|s| s.as_str()),
        Some("given-1")
    );
}

/// `sent` is one CONNACK refusing the protocol version: v3.1.1 return code
/// 0x01 or v5.0 reason code 0x84 [MQTT-3.1.2-2].
fn assert_version_refusal<P: PacketId>(sent: &[GenericPacket<P>]) {
    let [connack] = sent else {
        panic!("one CONNACK expected: {sent:?}");
    };
    match connack {
        GenericPacket::V3_1_1(v3_1_1::Packet::Connack(c)) => assert_eq!(
            c.return_code(),
            v3_1_1::ConnectReturnCode::UnacceptableProtocolVersion
        ),
        GenericPacket::V5_0(v5_0::Packet::Connack(c)) => assert_eq!(
            c.reason_code(),
            v5_0::ConnectReasonCode::UnsupportedProtocolVersion
        ),
        other => panic!("a CONNACK expected: {other:?}"),
    }
}

/// A v5.0 DISCONNECT of our own with the reason code the spec names for a
/// protocol error, or on v3.1.1 nothing: check `sent` ends that way.
fn assert_protocol_error_disconnect<P: PacketId>(
    sent: &[GenericPacket<P>],
    v: ProtocolVersion,
    code: u8,
) {
    match v {
        ProtocolVersion::V5_0 => assert_eq!(
            sent.last().and_then(disconnect_reason),
            Some(code),
            "a DISCONNECT with 0x{code:02X} ends what was sent: {sent:?}"
        ),
        ProtocolVersion::V3_1_1 => assert!(
            !sent
                .iter()
                .any(|p| p.packet_type() == PacketType::Disconnect),
            "v3.1.1 closes without a DISCONNECT: {sent:?}"
        ),
    }
}

matrix!(
    connect_and_detect_version,
    connect_fixed_version_server,
    client_sends_nothing_before_connect,
    server_sends_connack_first,
    second_connect,
    second_connack,
    refused_connect_gets_connack,
    other_version_on_fixed_server,
    first_packet_not_connect,
    client_disconnects,
);
widths!(
    unsupported_protocol_level,
    server_disconnects_v5,
    server_cannot_disconnect_v3,
    assigned_client_identifier,
);
