//! The state machine: what may be sent and received when (§3.1, §3.2,
//! §3.14), roles, versions, refused CONNECTs.

use super::*;
use crate::role::Any;
use crate::{ConnectionError, RoleKind, SendError};
use mqtt_codec::DecodeError;

/// [MQTT-3.1.0-1] a Client sends CONNECT first: a PUBLISH before it is
/// refused (offline publish off) and nothing is sent.
#[test]
fn client_sends_connect_first() {
    for v in [V3, V5] {
        let mut c = Connection::<Client>::new(v);
        assert_eq!(
            refused(&mut c, publish(v, "t", QoS::AtMostOnce, None)),
            SendError::NotAllowedInState {
                packet_type: PacketType::Publish,
                state: ConnectionState::Disconnected
            }
        );
        // A QoS 1 one, with an identifier the application acquired, which
        // stays acquired.
        let id = c.acquire_packet_id().unwrap();
        refused(&mut c, publish(v, "t", QoS::AtLeastOnce, Some(id)));
        assert!(c.session().packet_ids().is_in_use(id));
    }
}

/// [MQTT-3.1.0-1] a Server whose first packet is not CONNECT closes,
/// without DISCONNECT or CONNACK.
#[test]
fn server_expects_connect_first() {
    for v in [V3, V5] {
        let mut s = Connection::<Server>::new(v);
        let events = feed(&mut s, [publish(v, "t", QoS::AtMostOnce, None)]);
        assert!(sent(&events).is_empty(), "{events:?}");
        assert!(closes(&events));
        assert_eq!(s.state(), ConnectionState::Closed);
    }
    let mut s = Connection::<Server>::detect_version();
    let events = feed(&mut s, [publish(V5, "t", QoS::AtMostOnce, None)]);
    assert!(matches!(
        errors(&events)[..],
        [ConnectionError::Decode(DecodeError::ExpectedConnect(_))]
    ));
    assert!(sent(&events).is_empty() && closes(&events));
}

/// [MQTT-3.1.0-2] a second CONNECT is a Protocol Error: v5.0 DISCONNECT
/// 0x82 then close [MQTT-4.13.1-1], [MQTT-4.13.2-1], v3.1.1 close. A Client
/// cannot send it either.
#[test]
fn second_connect() {
    for v in [V3, V5] {
        let mut s = server(v);
        let events = feed(&mut s, [connect(v, 0)]);
        assert_eq!(disconnect_code(&events), (v == V5).then_some(0x82));
        assert!(closes(&events));

        let mut c = client(v);
        assert_eq!(
            refused(&mut c, connect(v, 0)),
            SendError::NotAllowedInState {
                packet_type: PacketType::Connect,
                state: ConnectionState::Connected
            }
        );
    }
}

/// A PINGRESP of version `v`.
fn pingresp(v: ProtocolVersion) -> GenericPacket {
    match v {
        V3 => v3_1_1::Packet::from(v3_1_1::Pingresp).into(),
        _ => v5_0::Packet::from(v5_0::Pingresp).into(),
    }
}

/// [MQTT-3.2.0-1] the Server sends CONNACK before anything else (but AUTH);
/// a Client receiving something else first has a Protocol Error.
#[test]
fn connack_first() {
    for v in [V3, V5] {
        let mut s = Connection::<Server>::with_options(v, options());
        feed(&mut s, [connect(v, 0)]);
        assert_eq!(
            refused(&mut s, publish(v, "t", QoS::AtMostOnce, None)),
            SendError::NotAllowedInState {
                packet_type: PacketType::Publish,
                state: ConnectionState::Connecting
            }
        );
        assert_eq!(
            refused(&mut s, pingresp(v)),
            SendError::NotAllowedInState {
                packet_type: PacketType::Pingresp,
                state: ConnectionState::Connecting
            }
        );

        let mut c = Connection::<Client>::new(v);
        send(&mut c, connect(v, 0));
        let events = feed(&mut c, [publish(v, "t", QoS::AtMostOnce, None)]);
        assert!(matches!(
            errors(&events)[..],
            [ConnectionError::UnexpectedPacket {
                packet_type: PacketType::Publish,
                ..
            }]
        ));
        assert_eq!(disconnect_code(&events), (v == V5).then_some(0x82));
        assert!(closes(&events));
    }
}

/// [MQTT-3.2.0-2] one CONNACK per network connection, both directions.
#[test]
fn one_connack() {
    for v in [V3, V5] {
        let mut s = server(v);
        assert_eq!(
            refused(&mut s, connack(v)),
            SendError::NotAllowedInState {
                packet_type: PacketType::Connack,
                state: ConnectionState::Connected
            }
        );

        let mut c = client(v);
        let events = feed(&mut c, [connack(v)]);
        assert_eq!(disconnect_code(&events), (v == V5).then_some(0x82));
        assert!(closes(&events));
    }
}

/// [MQTT-3.14.0-1] a Server sends no DISCONNECT before its CONNACK; a v3.1.1
/// Server none at all (§3.14).
#[test]
fn server_disconnect() {
    let mut s = Connection::<Server>::new(V5);
    feed(&mut s, [connect(V5, 0)]);
    let disconnect = v5_0::Packet::from(v5_0::Disconnect::default()).into();
    assert_eq!(
        refused(&mut s, disconnect),
        SendError::NotAllowedInState {
            packet_type: PacketType::Disconnect,
            state: ConnectionState::Connecting
        }
    );

    let mut s = server(V3);
    let disconnect = v3_1_1::Packet::from(v3_1_1::Disconnect).into();
    assert_eq!(
        refused(&mut s, disconnect),
        SendError::NotAllowedForRole {
            packet_type: PacketType::Disconnect,
            role: RoleKind::Server,
        }
    );
}

/// [MQTT-3.14.4-1], [MQTT-3.14.4-2] after a DISCONNECT nothing more is
/// sent, and the connection asks to close.
#[test]
fn nothing_after_disconnect() {
    for v in [V3, V5] {
        let mut c = client(v);
        let disconnect: GenericPacket = match v {
            V3 => v3_1_1::Packet::from(v3_1_1::Disconnect).into(),
            _ => v5_0::Packet::from(v5_0::Disconnect::default()).into(),
        };
        let events = send(&mut c, disconnect);
        assert_eq!(types(&sent(&events)), [PacketType::Disconnect]);
        assert!(closes(&events));
        assert_eq!(c.state(), ConnectionState::Closed);
        assert_eq!(
            refused(&mut c, publish(v, "t", QoS::AtMostOnce, None)),
            SendError::NotAllowedInState {
                packet_type: PacketType::Publish,
                state: ConnectionState::Closed
            }
        );
        // What still arrives is ignored.
        let events = feed(&mut c, [publish(v, "t", QoS::AtMostOnce, None)]);
        assert!(events.is_empty());
    }
}

/// A received DISCONNECT is delivered and closes; the server's DISCONNECT
/// carries no Session Expiry Interval [MQTT-3.14.2-2].
#[test]
fn disconnect_received() {
    let mut s = server(V5);
    let events = feed(
        &mut s,
        [v5_0::Packet::from(v5_0::Disconnect::default()).into()],
    );
    assert_eq!(types(&received(&events)), [PacketType::Disconnect]);
    assert!(closes(&events));

    let with_expiry = v5_0::Disconnect::builder()
        .properties(v5_0::DisconnectProperties {
            session_expiry_interval: Some(10),
            ..Default::default()
        })
        .build()
        .unwrap();
    let mut s = server(V5);
    let error = refused(&mut s, v5_0::Packet::from(with_expiry.clone()).into());
    assert!(
        matches!(error, SendError::Forbidden(rule) if rule.contains("MQTT-3.14.2-2")),
        "[MQTT-3.14.2-2] refused on send: {error:?}"
    );
    let mut c = client(V5);
    let events = feed(&mut c, [v5_0::Packet::from(with_expiry).into()]);
    assert_eq!(
        errors(&events).len(),
        1,
        "[MQTT-3.14.2-2] reported on receive"
    );
    assert!(closes(&events));
}

/// A role never sends the packets of the other role (§2.1.2), checked at
/// run time by `send`; and a packet of the other version is refused.
#[test]
fn roles_and_versions() {
    let mut c = Connection::<Client>::new(V5);
    assert_eq!(
        refused(&mut c, connack(V5)),
        SendError::NotAllowedForRole {
            packet_type: PacketType::Connack,
            role: RoleKind::Client,
        }
    );
    assert_eq!(
        refused(&mut c, connect(V3, 0)),
        SendError::VersionMismatch {
            connection: V5,
            packet: V3
        }
    );
    let mut s = Connection::<Server>::new(V5);
    assert_eq!(
        refused(&mut s, connect(V5, 0)),
        SendError::NotAllowedForRole {
            packet_type: PacketType::Connect,
            role: RoleKind::Server,
        }
    );
}

/// `role::Any` becomes a Client by sending CONNECT, a Server by receiving one.
#[test]
fn any_decides_at_the_first_connect() {
    let mut a = Connection::<Any>::detect_version();
    assert_eq!(a.role(), RoleKind::Any);
    let events = a
        .checked_send(v5_0::Connect::builder().build().unwrap())
        .unwrap();
    assert_eq!(types(&sent(&events)), [PacketType::Connect]);
    assert_eq!((a.role(), a.version()), (RoleKind::Client, Some(V5)));

    let mut a = Connection::<Any>::detect_version();
    let events = feed(&mut a, [connect(V3, 0)]);
    assert_eq!(types(&received(&events)), [PacketType::Connect]);
    assert_eq!((a.role(), a.version()), (RoleKind::Server, Some(V3)));
    let events = a.send(connack(V3)).unwrap();
    assert_eq!(types(&sent(&events)), [PacketType::Connack]);
    assert_eq!(a.state(), ConnectionState::Connected);
}

/// [MQTT-3.1.2-2] an unsupported protocol level gets the CONNACK of the
/// Client's version (v3.1.1 return code 0x01, v5.0 Reason Code 0x84), then
/// the connection closes.
#[test]
fn unsupported_protocol_level() {
    // A CONNECT of level 3 (MQTT 3.1) and one of level 6.
    for (level, code, v3_answer) in [(3u8, 0x01, true), (6, 0x84, false)] {
        let mut bytes = wire([connect(V3, 0)]);
        bytes[8] = level;
        let mut s = Connection::<Server>::detect_version();
        let events = s.recv(&mut bytes);
        assert!(matches!(
            errors(&events)[..],
            [ConnectionError::Decode(DecodeError::UnsupportedProtocolLevel(l))] if l == level
        ));
        let answer = sent(&events);
        assert_eq!(answer.len(), 1);
        assert_eq!(answer[0].version() == V3, v3_answer);
        assert_eq!(connack_code(&events), Some(code));
        assert!(closes(&events));
        assert!(bytes.is_empty());
    }
    // A v5.0-only server receiving a v3.1.1 CONNECT.
    let mut s = Connection::<Server>::new(V5);
    let events = feed(&mut s, [connect(V3, 0)]);
    assert_eq!(connack_code(&events), Some(0x01));
}

/// [MQTT-3.1.4-1] a malformed CONNECT: v5.0 answers CONNACK with the Reason
/// Code (§4.13), v3.1.1 closes without a CONNACK.
#[test]
fn malformed_connect() {
    for v in [V3, V5] {
        let mut bytes = wire([connect(v, 0)]);
        bytes[9] |= 0x01; // the reserved connect flag [MQTT-3.1.2-3]
        let mut s = Connection::<Server>::detect_version();
        let events = s.recv(&mut bytes);
        assert!(matches!(errors(&events)[..], [ConnectionError::Decode(_)]));
        assert_eq!(connack_code(&events), (v == V5).then_some(0x81));
        assert!(closes(&events));
    }
}

/// recv takes every complete packet in order and leaves a partial one.
#[test]
fn partial_packets_wait() {
    let mut c = client(V5);
    let mut bytes = wire([
        publish(V5, "a", QoS::AtMostOnce, None),
        publish(V5, "b", QoS::AtMostOnce, None),
    ]);
    let whole = bytes.len();
    let tail = bytes.split_off(whole - 3);
    let events = c.recv(&mut bytes);
    assert_eq!(received(&events).len(), 1);
    assert!(!bytes.is_empty(), "the partial packet stays");
    bytes.extend_from_slice(&tail);
    let events = c.recv(&mut bytes);
    assert_eq!(received(&events).len(), 1);
    assert!(bytes.is_empty());
}

/// [MQTT-3.1.4-6] (v5.0), [MQTT-3.1.4-5] (v3.1.1): what the Client sent
/// after CONNECT is processed once the CONNACK accepts it, not before, and
/// never after a refusal.
#[test]
fn packets_after_connect_wait_for_the_connack() {
    for v in [V3, V5] {
        let mut s = Connection::<Server>::with_options(v, options());
        let events = feed(
            &mut s,
            [connect(v, 0), publish(v, "t", QoS::AtLeastOnce, Some(1))],
        );
        assert_eq!(types(&received(&events)), [PacketType::Connect]);
        assert!(sent(&events).is_empty(), "no PUBACK before the CONNACK");
        let events = send(&mut s, connack(v));
        assert_eq!(
            types(&sent(&events)),
            [PacketType::Connack, PacketType::Puback]
        );
        assert_eq!(types(&received(&events)), [PacketType::Publish]);

        let mut s = Connection::<Server>::with_options(v, options());
        feed(
            &mut s,
            [connect(v, 0), publish(v, "t", QoS::AtLeastOnce, Some(1))],
        );
        let refusal: GenericPacket = match v {
            V3 => v3_1_1::Packet::from(
                v3_1_1::Connack::builder()
                    .return_code(v3_1_1::ConnectReturnCode::NotAuthorized)
                    .build()
                    .unwrap(),
            )
            .into(),
            _ => v5_0::Packet::from(
                v5_0::Connack::builder()
                    .reason_code(v5_0::ConnectReasonCode::NotAuthorized)
                    .build()
                    .unwrap(),
            )
            .into(),
        };
        let events = send(&mut s, refusal);
        // [MQTT-3.2.2-7] (v5.0), [MQTT-3.2.2-5] (v3.1.1): close after it.
        assert_eq!(types(&sent(&events)), [PacketType::Connack]);
        assert!(received(&events).is_empty());
        assert!(closes(&events));
    }
}

/// [MQTT-3.2.2-2] (v5.0), [MQTT-3.2.2-1] (v3.1.1): Session Present is 0
/// after a Clean Start; [MQTT-3.2.2-4] (v5.0) a Client that gets it anyway
/// closes.
#[test]
fn session_present_after_clean_start() {
    for v in [V3, V5] {
        let present = connack_present(v);
        let mut s = Connection::<Server>::new(v);
        feed(&mut s, [connect(v, 0)]);
        let error = refused(&mut s, present.clone());
        assert!(
            matches!(error, SendError::Forbidden(rule) if rule.contains("MQTT-3.2.2-2")),
            "{error:?}"
        );

        let mut c = Connection::<Client>::new(v);
        send(&mut c, connect(v, 0));
        let events = feed(&mut c, [present]);
        assert!(matches!(
            errors(&events)[..],
            [ConnectionError::ProtocolError(_)]
        ));
        assert!(closes(&events));
    }
}

/// A CONNACK refusing the connection is delivered and closes.
#[test]
fn refused_connack_received() {
    let mut c = Connection::<Client>::new(V5);
    send(&mut c, connect(V5, 0));
    let refusal = v5_0::Connack::builder()
        .reason_code(v5_0::ConnectReasonCode::BadUserNameOrPassword)
        .build()
        .unwrap();
    let events = feed(&mut c, [v5_0::Packet::from(refusal).into()]);
    assert_eq!(types(&received(&events)), [PacketType::Connack]);
    assert!(closes(&events));
    assert_eq!(c.state(), ConnectionState::Closed);
}

/// After `notify_closed` the connection is ready for a new CONNECT.
#[test]
fn reconnect_after_close() {
    let mut c = client(V5);
    let _ = c.notify_closed();
    assert_eq!(c.state(), ConnectionState::Disconnected);
    let events = send(&mut c, connect(V5, 0));
    assert_eq!(types(&sent(&events)), [PacketType::Connect]);
    assert_eq!(c.state(), ConnectionState::Connecting);
}
