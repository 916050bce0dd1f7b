//! Enhanced authentication (§4.12) and re-authentication (§4.12.1).

use super::*;
use crate::SendError;
use mqtt_codec::MqttString;

pub(super) fn method() -> Option<MqttString> {
    Some(MqttString::try_from("SCRAM-SHA-1").unwrap())
}

fn auth(code: v5_0::AuthReasonCode, method: Option<MqttString>) -> GenericPacket {
    v5_0::Packet::from(
        v5_0::Auth::builder()
            .reason_code(code)
            .properties(v5_0::AuthProperties {
                authentication_method: method,
                ..Default::default()
            })
            .build()
            .unwrap(),
    )
    .into()
}

pub(super) fn auth_connect() -> GenericPacket {
    connect_v5(
        0,
        v5_0::ConnectProperties {
            authentication_method: method(),
            ..Default::default()
        },
        true,
    )
}

fn auth_connack() -> GenericPacket {
    connack_v5(v5_0::ConnackProperties {
        authentication_method: method(),
        ..Default::default()
    })
}

/// [MQTT-4.12.0-2], [MQTT-4.12.0-3], [MQTT-4.12.0-5]: the AUTH exchange
/// between CONNECT and CONNACK, Continue authentication both ways, with the
/// CONNECT's method; [MQTT-3.1.2-30] the Client sends nothing else before
/// the CONNACK.
#[test]
fn exchange_before_connack() {
    use v5_0::AuthReasonCode::ContinueAuthentication as Continue;
    let mut c = Connection::<Client>::with_options(V5, options());
    let mut s = Connection::<Server>::with_options(V5, options());
    let events = send(&mut c, auth_connect());
    feed(&mut s, sent(&events));
    assert_eq!(s.authentication_method(), method().as_ref());

    assert_eq!(
        refused(&mut c, publish(V5, "t", QoS::AtMostOnce, None)),
        SendError::NotAllowedInState {
            packet_type: PacketType::Publish,
            state: ConnectionState::Connecting
        },
        "offline publish is off"
    );
    let error = refused(&mut c, v5_0::Packet::from(v5_0::Pingreq).into());
    assert!(
        matches!(error, SendError::Forbidden(rule) if rule.contains("MQTT-3.1.2-30")),
        "{error:?}"
    );

    let events = send(&mut s, auth(Continue, method()));
    let events = feed(&mut c, sent(&events));
    assert_eq!(types(&received(&events)), [PacketType::Auth]);
    let events = send(&mut c, auth(Continue, method()));
    let events = feed(&mut s, sent(&events));
    assert_eq!(types(&received(&events)), [PacketType::Auth]);
    let events = send(&mut s, auth_connack());
    let events = feed(&mut c, sent(&events));
    assert!(errors(&events).is_empty(), "{events:?}");
    assert_eq!(c.state(), ConnectionState::Connected);
}

/// [MQTT-4.12.0-5] the method must be the CONNECT's, on send and receive;
/// [MQTT-4.12.0-6], [MQTT-4.12.0-7] no AUTH without a method in CONNECT.
#[test]
fn method_rules() {
    use v5_0::AuthReasonCode::ContinueAuthentication as Continue;
    let other = Some(MqttString::try_from("PLAIN").unwrap());
    let mut s = Connection::<Server>::new(V5);
    feed(&mut s, [auth_connect()]);
    let error = refused(&mut s, auth(Continue, other.clone()));
    assert!(
        matches!(error, SendError::Forbidden(rule) if rule.contains("MQTT-4.12.0-5")),
        "{error:?}"
    );
    let error = refused(&mut s, connack(V5));
    assert!(
        matches!(error, SendError::Forbidden(rule) if rule.contains("MQTT-4.12.0-5")),
        "CONNACK without the method: {error:?}"
    );

    let mut c = Connection::<Client>::new(V5);
    send(&mut c, auth_connect());
    let events = feed(&mut c, [auth(Continue, other)]);
    assert_eq!(disconnect_code(&events), Some(0x82));

    let mut c = client(V5);
    let error = refused(&mut c, auth(v5_0::AuthReasonCode::ReAuthenticate, method()));
    assert!(
        matches!(error, SendError::Forbidden(rule) if rule.contains("MQTT-4.12.0-7")),
        "{error:?}"
    );
    let mut s = server(V5);
    let events = feed(
        &mut s,
        [auth(v5_0::AuthReasonCode::ReAuthenticate, method())],
    );
    assert_eq!(disconnect_code(&events), Some(0x82));
    let mut c = Connection::<Client>::new(V5);
    send(&mut c, connect(V5, 0));
    let events = feed(&mut c, [auth_connack()]);
    assert_eq!(disconnect_code(&events), Some(0x82), "[MQTT-4.12.0-6]");
}

/// [MQTT-4.12.1-1] re-authentication: the Client starts with 0x19 and the
/// CONNECT's method, the Server ends with Success; out of sequence is a
/// Protocol Error.
#[test]
fn reauthentication() {
    use v5_0::AuthReasonCode as C;
    let mut c = client_with(V5, options(), auth_connect(), auth_connack());
    let mut s = server_with(V5, options(), auth_connect(), auth_connack());
    let error = refused(&mut s, auth(C::Success, method()));
    assert!(
        matches!(error, SendError::Forbidden(_)),
        "no re-authentication in progress: {error:?}"
    );
    let events = send(&mut c, auth(C::ReAuthenticate, method()));
    let events = feed(&mut s, sent(&events));
    assert_eq!(types(&received(&events)), [PacketType::Auth]);
    let events = send(&mut s, auth(C::ContinueAuthentication, method()));
    feed(&mut c, sent(&events));
    let events = send(&mut c, auth(C::ContinueAuthentication, method()));
    feed(&mut s, sent(&events));
    let events = send(&mut s, auth(C::Success, method()));
    let events = feed(&mut c, sent(&events));
    assert!(errors(&events).is_empty(), "{events:?}");
    let events = feed(&mut c, [auth(C::Success, method())]);
    assert_eq!(
        disconnect_code(&events),
        Some(0x82),
        "Success with none in progress"
    );
}

/// [MQTT-4.12.1-2] a failed re-authentication ends the Network Connection:
/// the Server that rejects it sends DISCONNECT (0x87) and closes, and the
/// Client closes on receiving it; a Client that rejects the Server's
/// answer does the same; an AUTH that breaks the exchange (another method)
/// is a Protocol Error: DISCONNECT 0x82, then close. Nothing more is sent
/// after either.
#[test]
fn failed_reauthentication_closes() {
    use v5_0::AuthReasonCode as C;
    let not_authorized: GenericPacket = v5_0::Packet::from(v5_0::Disconnect::new(
        v5_0::DisconnectReasonCode::NotAuthorized,
    ))
    .into();
    let reauthenticating = || {
        let mut c = client_with(V5, options(), auth_connect(), auth_connack());
        let mut s = server_with(V5, options(), auth_connect(), auth_connack());
        let events = send(&mut c, auth(C::ReAuthenticate, method()));
        let events = feed(&mut s, sent(&events));
        assert_eq!(types(&received(&events)), [PacketType::Auth]);
        (c, s)
    };
    let closed = |events: &[Event], state: ConnectionState| {
        assert!(closes(events), "{events:?}");
        assert_eq!(state, ConnectionState::Closed);
    };

    // The Server rejects the Client's credentials.
    let (mut c, mut s) = reauthenticating();
    let events = send(&mut s, not_authorized.clone());
    assert_eq!(sent(&events), std::slice::from_ref(&not_authorized));
    closed(&events, s.state());
    let events = feed(&mut c, sent(&events));
    assert_eq!(received(&events), std::slice::from_ref(&not_authorized));
    closed(&events, c.state());
    refused(&mut c, auth(C::ContinueAuthentication, method()));

    // The Client rejects the Server's answer.
    let (mut c, mut s) = reauthenticating();
    let events = send(&mut s, auth(C::ContinueAuthentication, method()));
    feed(&mut c, sent(&events));
    let events = send(&mut c, not_authorized.clone());
    assert_eq!(sent(&events), std::slice::from_ref(&not_authorized));
    closed(&events, c.state());
    let events = feed(&mut s, sent(&events));
    closed(&events, s.state());
    refused(&mut s, auth(C::Success, method()));

    // The Server answers with another method.
    let (mut c, _) = reauthenticating();
    let other = Some(MqttString::try_from("PLAIN").unwrap());
    let events = feed(&mut c, [auth(C::ContinueAuthentication, other)]);
    assert_eq!(disconnect_code(&events), Some(0x82));
    closed(&events, c.state());
}
