//! Enhanced authentication (v5.0 §4.12) through the simulated pair: the
//! AUTH exchange around CONNECT and CONNACK, re-authentication, refusals,
//! and AUTH where no Authentication Method was agreed.

#[macro_use]
mod pair;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, BinaryData, GenericPacket, MqttString, PacketId, ProtocolVersion};
use mqtt_core::{ConnectionState, SendError};
use pair::*;

const V5: ProtocolVersion = ProtocolVersion::V5_0;

fn method(name: &str) -> Option<MqttString> {
    Some(MqttString::try_from(name).expect("method"))
}

fn data(bytes: &[u8]) -> Option<BinaryData> {
    Some(BinaryData::try_from(bytes).expect("data"))
}

fn auth<P: PacketId>(code: v5_0::AuthReasonCode, name: &str, payload: &[u8]) -> GenericPacket<P> {
    v5_0::Packet::from(
        v5_0::Auth::builder()
            .reason_code(code)
            .properties(v5_0::AuthProperties {
                authentication_method: method(name),
                authentication_data: data(payload),
                ..Default::default()
            })
            .build()
            .expect("AUTH"),
    )
    .into()
}

fn connect_with_method<P: PacketId>(name: &str) -> GenericPacket<P> {
    v5_0::Packet::from(connect_v5(
        "c",
        true,
        0,
        v5_0::ConnectProperties {
            authentication_method: method(name),
            authentication_data: data(b"client-first"),
            ..Default::default()
        },
    ))
    .into()
}

fn connack_with_method<P: PacketId>(name: Option<&str>) -> GenericPacket<P> {
    v5_0::Packet::from(connack_v5(
        false,
        v5_0::ConnackProperties {
            authentication_method: name.and_then(method),
            ..Default::default()
        },
    ))
    .into()
}

/// The full exchange: CONNECT with an Authentication Method, AUTH 0x18 from
/// the server [MQTT-4.12.0-2], AUTH 0x18 from the client [MQTT-4.12.0-3],
/// then a CONNACK with the same method [MQTT-4.12.0-5]; both sides end up
/// connected and remember the method.
fn enhanced_auth_exchange<P: PacketId>() {
    use v5_0::AuthReasonCode::ContinueAuthentication as Continue;
    let mut pair: Pair<P> = PairConfig::manual(V5).build();
    pair.send_drive(Side::Client, connect_with_method("SCRAM"));
    assert_eq!(pair.server.conn.state(), ConnectionState::Connecting);
    pair.send_drive(Side::Server, auth(Continue, "SCRAM", b"server-first"));
    assert_eq!(types(&pair.client.received), [PacketType::Auth]);
    assert_eq!(pair.client.conn.state(), ConnectionState::Connecting);
    pair.send_drive(Side::Client, auth(Continue, "SCRAM", b"client-final"));
    assert_eq!(
        types(&pair.server.received),
        [PacketType::Connect, PacketType::Auth]
    );
    pair.send_drive(Side::Server, connack_with_method(Some("SCRAM")));
    assert_eq!(pair.client.conn.state(), ConnectionState::Connected);
    assert_eq!(pair.server.conn.state(), ConnectionState::Connected);
    for conn_method in [
        pair.client.conn.authentication_method(),
        pair.server.conn.authentication_method(),
    ] {
        assert_eq!(conn_method.map(MqttString::as_str), Some("SCRAM"));
    }
    assert!(pair.client.errors.is_empty(), "{:?}", pair.client.errors);
    assert!(pair.server.errors.is_empty(), "{:?}", pair.server.errors);
}

/// Re-authentication [MQTT-4.12.1-1]: after the CONNACK the client sends
/// AUTH 0x19 with the same method, the server may continue (0x18) and ends
/// with AUTH 0x00; the connection stays up and traffic flows meanwhile.
fn reauthentication<P: PacketId>() {
    use v5_0::AuthReasonCode::*;
    let mut pair: Pair<P> = PairConfig::new(V5).build();
    pair.connect_with(connect_with_method("K"), connack_with_method(Some("K")));
    pair.clear_records();
    pair.send_drive(Side::Client, auth(ReAuthenticate, "K", b"1"));
    pair.send_drive(Side::Server, auth(ContinueAuthentication, "K", b"2"));
    let id = pair.acquire(Side::Client);
    pair.send(
        Side::Client,
        publish(V5, "t", mqtt_codec::QoS::AtLeastOnce, Some(id), b"x"),
    );
    pair.send_drive(Side::Client, auth(ContinueAuthentication, "K", b"3"));
    pair.send_drive(Side::Server, auth(Success, "K", b""));
    assert_eq!(
        types(&pair.server.received),
        [PacketType::Auth, PacketType::Publish, PacketType::Auth]
    );
    assert_eq!(
        types(&pair.client.received),
        [PacketType::Auth, PacketType::Puback, PacketType::Auth]
    );
    assert_eq!(pair.client.conn.state(), ConnectionState::Connected);
    assert!(pair.link_up);
    assert!(pair.client.errors.is_empty() && pair.server.errors.is_empty());
}

/// [MQTT-4.12.0-1], [MQTT-4.12.0-4]: the server refuses the method with a
/// CONNACK 0x8C and closes; the client sees the CONNACK and ends
/// disconnected.
fn auth_refused<P: PacketId>() {
    let mut pair: Pair<P> = PairConfig::manual(V5).build();
    pair.send_drive(Side::Client, connect_with_method("UNKNOWN"));
    let refusal: GenericPacket<P> = v5_0::Packet::from(
        v5_0::Connack::builder()
            .reason_code(v5_0::ConnectReasonCode::BadAuthenticationMethod)
            .build()
            .expect("CONNACK"),
    )
    .into();
    pair.send_drive(Side::Server, refusal.clone());
    assert_eq!(pair.client.received, [refusal]);
    assert!(pair.server.close_requested);
    assert!(!pair.link_up);
    assert_eq!(pair.client.conn.state(), ConnectionState::Disconnected);
}

/// [MQTT-4.12.0-7]: without an Authentication Method in the CONNECT the
/// client sends no AUTH; [MQTT-4.12.0-6]: the server sends none either, nor
/// a method in CONNACK. Each is refused, changing nothing, with nothing
/// sent.
fn no_auth_without_method<P: PacketId>() {
    use v5_0::AuthReasonCode::*;
    let mut pair: Pair<P> = PairConfig::manual(V5).build();
    pair.send_drive(Side::Client, connect(V5, "c", true, 0));
    let refused = pair.refuse(Side::Server, auth(ContinueAuthentication, "K", b""));
    assert!(matches!(refused, SendError::Forbidden(_)), "{refused:?}");
    let refused = pair.refuse(Side::Server, connack_with_method(Some("K")));
    assert!(
        matches!(refused, SendError::Forbidden(rule) if rule.contains("MQTT-4.12.0-6")),
        "{refused:?}"
    );
    assert!(pair.server.sent.is_empty(), "{:?}", pair.server.sent);
    pair.send_drive(Side::Server, connack(V5, false));
    let refused = pair.refuse(Side::Client, auth(ReAuthenticate, "K", b""));
    assert!(matches!(refused, SendError::Forbidden(_)), "{refused:?}");
    assert_eq!(types(&pair.client.sent), [PacketType::Connect]);
    assert!(pair.link_up);
}

/// [MQTT-4.12.0-5], [MQTT-4.12.1-1]: an AUTH carries the method of the
/// CONNECT; one with another method is refused on send.
fn auth_keeps_the_method<P: PacketId>() {
    use v5_0::AuthReasonCode::*;
    let mut pair: Pair<P> = PairConfig::manual(V5).build();
    pair.send_drive(Side::Client, connect_with_method("K"));
    let refused = pair.refuse(Side::Server, auth(ContinueAuthentication, "OTHER", b""));
    assert!(matches!(refused, SendError::Forbidden(_)), "{refused:?}");
    assert!(pair.server.sent.is_empty());
    pair.send_drive(Side::Server, connack_with_method(Some("K")));
    let refused = pair.refuse(Side::Client, auth(ReAuthenticate, "OTHER", b""));
    assert!(matches!(refused, SendError::Forbidden(_)), "{refused:?}");
    assert_eq!(types(&pair.client.sent), [PacketType::Connect]);
}

/// A received AUTH where no method was agreed is a protocol error: the
/// receiver sends DISCONNECT 0x82 and closes [MQTT-4.12.0-6],
/// [MQTT-4.12.0-7], [MQTT-4.13.1-1].
fn unexpected_auth_received<P: PacketId>() {
    use v5_0::AuthReasonCode::*;
    for to in [Side::Server, Side::Client] {
        let mut pair: Pair<P> = PairConfig::manual(V5).build();
        pair.connect();
        let code = if to == Side::Server {
            ReAuthenticate
        } else {
            ContinueAuthentication
        };
        pair.inject_packet(to.peer(), &auth(code, "K", b""));
        pair.drive();
        assert_eq!(
            pair.sent(to).last().and_then(disconnect_reason),
            Some(0x82),
            "{to:?}: {:?}",
            pair.sent(to)
        );
        assert!(pair.close_requested(to));
    }
}

/// What a Server keeps of a CONNECT (its Client Identifier and
/// Authentication Method) is a copy: none of it points into the buffer the
/// CONNECT was received in, which the connection would otherwise keep,
/// with whatever else arrived in the same read, for its whole life.
fn keeps_no_part_of_the_receive_buffer<P: PacketId>() {
    use mqtt_codec::Encode;
    let mut server = mqtt_core::GenericConnection::<mqtt_core::role::Server, P>::detect_version();
    let connect: GenericPacket<P> = connect_with_method("SCRAM");
    let mut bytes = Vec::new();
    connect.encode(&mut bytes).expect("encoded");
    let mut buf = bytes::BytesMut::from(&bytes[..]);
    let received = buf.as_ptr_range();
    let events = server.recv(&mut buf);
    assert!(!events.is_empty());
    let id = server.client_identifier().as_str();
    let method = server.authentication_method().expect("kept").as_str();
    assert_eq!((id, method), ("c", "SCRAM"));
    for kept in [id.as_ptr(), method.as_ptr()] {
        assert!(
            !received.contains(&kept),
            "points into the CONNECT's buffer"
        );
    }
}

widths!(
    keeps_no_part_of_the_receive_buffer,
    enhanced_auth_exchange,
    reauthentication,
    auth_refused,
    no_auth_without_method,
    auth_keeps_the_method,
    unexpected_auth_received,
);
