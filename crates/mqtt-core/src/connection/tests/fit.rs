//! Reason String and User Property left out of a v5.0 packet they would
//! take past the receiver's Maximum Packet Size, one test per packet type
//! (the statements of §3.2.2.3.9 to §3.15.2.2.5).

use core::num::NonZeroU32;

use super::auth::{auth_connect, method};
use super::*;
use mqtt_codec::properties::UserProperty;
use mqtt_codec::{MqttString, TopicFilter};

/// What problem information a packet carries.
#[derive(Clone, Copy, Debug)]
enum Problem {
    None,
    ReasonString,
    UserProperty,
}

/// Longer than the room [`strips_to_fit`] leaves.
const LONG: &str = "a problem description of sixty-four bytes, far more than allowed";

impl Problem {
    fn reason_string(self) -> Option<MqttString> {
        matches!(self, Problem::ReasonString).then(|| MqttString::try_from(LONG).unwrap())
    }

    fn user_properties(self) -> Vec<UserProperty> {
        match self {
            Problem::UserProperty => vec![UserProperty::new("diagnostic", LONG).unwrap()],
            _ => Vec::new(),
        }
    }
}

/// Sends `packet(problem)` on a connection whose peer's Maximum Packet Size
/// leaves room for the packet without problem information but not with it:
/// it goes out as `packet(Problem::None)`, not refused; with room for the
/// property, it goes out as it is.
fn strips_to_fit<R: Role>(
    connection: impl Fn(usize) -> Connection<R>,
    packet: impl Fn(Problem) -> GenericPacket,
) {
    let bare = packet(Problem::None);
    let max = bare.encoded_len() + 16;
    for problem in [Problem::ReasonString, Problem::UserProperty] {
        let full = packet(problem);
        assert!(full.encoded_len() > max, "{problem:?}");
        let mut c = connection(max);
        let events = send(&mut c, full.clone());
        assert!(errors(&events).is_empty(), "{problem:?}: {events:?}");
        assert_eq!(sent(&events), std::slice::from_ref(&bare), "{problem:?}");

        let mut c = connection(full.encoded_len());
        let events = send(&mut c, full.clone());
        assert_eq!(sent(&events), [full], "{problem:?}: room for it");
    }
}

fn limit(max: usize) -> Option<NonZeroU32> {
    NonZeroU32::new(u32::try_from(max).unwrap())
}

/// A connected Client, without automatic answers, whose Server announced
/// the Maximum Packet Size `max`.
fn client_limited(max: usize) -> Connection<Client> {
    client_with(
        V5,
        manual(),
        connect(V5, 0),
        connack_v5(v5_0::ConnackProperties {
            maximum_packet_size: limit(max),
            ..Default::default()
        }),
    )
}

/// The CONNECT of a Client with the Maximum Packet Size `max`.
fn connect_limited(max: usize) -> GenericPacket {
    let properties = v5_0::ConnectProperties {
        maximum_packet_size: limit(max),
        ..Default::default()
    };
    connect_v5(0, properties, true)
}

/// A connected Server, without automatic answers, whose Client announced
/// the Maximum Packet Size `max`.
fn server_limited(max: usize) -> Connection<Server> {
    server_with(V5, manual(), connect_limited(max), connack(V5))
}

/// A Server, without automatic answers, that received `connect` and has
/// not answered it yet.
fn connecting(connect: GenericPacket) -> Connection<Server> {
    let mut s = Connection::<Server>::with_options(V5, manual());
    let events = feed(&mut s, [connect]);
    assert!(errors(&events).is_empty(), "{events:?}");
    s
}

/// A connection that received a QoS 1 (or 2) PUBLISH with identifier 1.
fn received_publish<R: Role>(mut c: Connection<R>, qos: QoS) -> Connection<R> {
    let events = feed(&mut c, [publish(V5, "t", qos, Some(1))]);
    assert_eq!(types(&received(&events)), [PacketType::Publish]);
    c
}

/// A connection that sent a QoS 2 PUBLISH with identifier 1 and received
/// its PUBREC: its PUBREL is due.
fn pubrel_due<R: Role>(mut c: Connection<R>) -> Connection<R> {
    assert_eq!(c.acquire_packet_id().unwrap(), 1);
    let events = send(&mut c, publish(V5, "t", QoS::ExactlyOnce, Some(1)));
    assert_eq!(types(&sent(&events)), [PacketType::Publish]);
    let events = feed(&mut c, [v5_0::Packet::from(v5_0::Pubrec::new(1)).into()]);
    assert!(errors(&events).is_empty(), "{events:?}");
    c
}

/// A connection that received a QoS 2 PUBLISH with identifier 1, answered
/// PUBREC and received the PUBREL: its PUBCOMP is due.
fn pubcomp_due<R: Role>(c: Connection<R>) -> Connection<R> {
    let mut c = received_publish(c, QoS::ExactlyOnce);
    send(&mut c, v5_0::Packet::from(v5_0::Pubrec::new(1)).into());
    let events = feed(&mut c, [v5_0::Packet::from(v5_0::Pubrel::new(1)).into()]);
    assert_eq!(types(&received(&events)), [PacketType::Pubrel]);
    c
}

/// A v5.0 `$ack` with identifier 1, Reason Code `$code` where it has one,
/// and the problem information of `problem`.
macro_rules! ack {
    ($ack:ident, $properties:ident $(, $code:expr)?) => {
        |problem: Problem| -> GenericPacket {
            v5_0::Packet::from(
                v5_0::$ack::builder()
                    .packet_id(1)
                    $(.reason_code($code))?
                    .properties(v5_0::$properties {
                        reason_string: problem.reason_string(),
                        user_properties: problem.user_properties(),
                    })
                    .build()
                    .unwrap(),
            )
            .into()
        }
    };
}

/// [MQTT-3.4.2-2] Reason String, [MQTT-3.4.2-3] User Property: left out of
/// a PUBACK they would take past the receiver's Maximum Packet Size, by
/// either sender.
#[test]
fn puback_fits() {
    let puback = ack!(
        Puback,
        PubackProperties,
        v5_0::PubackReasonCode::NoMatchingSubscribers
    );
    strips_to_fit(
        |max| received_publish(client_limited(max), QoS::AtLeastOnce),
        puback,
    );
    strips_to_fit(
        |max| received_publish(server_limited(max), QoS::AtLeastOnce),
        puback,
    );
}

/// [MQTT-3.5.2-2] Reason String, [MQTT-3.5.2-3] User Property: the same
/// for PUBREC.
#[test]
fn pubrec_fits() {
    let pubrec = ack!(
        Pubrec,
        PubrecProperties,
        v5_0::PubrecReasonCode::NoMatchingSubscribers
    );
    strips_to_fit(
        |max| received_publish(client_limited(max), QoS::ExactlyOnce),
        pubrec,
    );
    strips_to_fit(
        |max| received_publish(server_limited(max), QoS::ExactlyOnce),
        pubrec,
    );
}

/// [MQTT-3.6.2-2] Reason String, [MQTT-3.6.2-3] User Property: the same
/// for PUBREL.
#[test]
fn pubrel_fits() {
    let pubrel = ack!(Pubrel, PubrelProperties);
    strips_to_fit(|max| pubrel_due(client_limited(max)), pubrel);
    strips_to_fit(|max| pubrel_due(server_limited(max)), pubrel);
}

/// [MQTT-3.7.2-2] Reason String, [MQTT-3.7.2-3] User Property: the same
/// for PUBCOMP.
#[test]
fn pubcomp_fits() {
    let pubcomp = ack!(Pubcomp, PubcompProperties);
    strips_to_fit(|max| pubcomp_due(client_limited(max)), pubcomp);
    strips_to_fit(|max| pubcomp_due(server_limited(max)), pubcomp);
}

/// [MQTT-3.9.2-1] Reason String, [MQTT-3.9.2-2] User Property: left out of
/// a Server's SUBACK they would take past the Client's Maximum Packet Size;
/// the Reason Codes stay.
#[test]
fn suback_fits() {
    let subscribed = |max: usize| {
        let mut s = server_limited(max);
        let subscribe = v5_0::Subscribe::<u16>::builder()
            .packet_id(1)
            .subscription((
                TopicFilter::from_static("a/+").unwrap(),
                v5_0::SubscriptionOptions::new(QoS::AtLeastOnce),
            ))
            .build()
            .unwrap();
        feed(&mut s, [v5_0::Packet::from(subscribe).into()]);
        s
    };
    strips_to_fit(subscribed, |problem| {
        v5_0::Packet::from(
            v5_0::Suback::builder()
                .packet_id(1)
                .reason_codes(vec![
                    v5_0::SubackReasonCode::GrantedQoS1,
                    v5_0::SubackReasonCode::NotAuthorized,
                ])
                .properties(v5_0::SubackProperties {
                    reason_string: problem.reason_string(),
                    user_properties: problem.user_properties(),
                })
                .build()
                .unwrap(),
        )
        .into()
    });
}

/// [MQTT-3.11.2-1] Reason String, [MQTT-3.11.2-2] User Property: the same
/// for UNSUBACK.
#[test]
fn unsuback_fits() {
    let unsubscribed = |max: usize| {
        let mut s = server_limited(max);
        let unsubscribe = v5_0::Unsubscribe::<u16>::builder()
            .packet_id(1)
            .try_filter("a/+")
            .unwrap()
            .build()
            .unwrap();
        feed(&mut s, [v5_0::Packet::from(unsubscribe).into()]);
        s
    };
    strips_to_fit(unsubscribed, |problem| {
        v5_0::Packet::from(
            v5_0::Unsuback::builder()
                .packet_id(1)
                .reason_codes(vec![v5_0::UnsubackReasonCode::NoSubscriptionExisted])
                .properties(v5_0::UnsubackProperties {
                    reason_string: problem.reason_string(),
                    user_properties: problem.user_properties(),
                })
                .build()
                .unwrap(),
        )
        .into()
    });
}

/// [MQTT-3.14.2-3] Reason String, [MQTT-3.14.2-4] User Property: left out
/// of a DISCONNECT they would take past the receiver's Maximum Packet Size,
/// by either sender; the Reason Code and the other properties stay.
#[test]
fn disconnect_fits() {
    let disconnect = |code: v5_0::DisconnectReasonCode| {
        move |problem: Problem| -> GenericPacket {
            v5_0::Packet::from(
                v5_0::Disconnect::builder()
                    .reason_code(code)
                    .properties(v5_0::DisconnectProperties {
                        server_reference: (code == v5_0::DisconnectReasonCode::UseAnotherServer)
                            .then(|| MqttString::try_from("other").unwrap()),
                        reason_string: problem.reason_string(),
                        user_properties: problem.user_properties(),
                        ..Default::default()
                    })
                    .build()
                    .unwrap(),
            )
            .into()
        }
    };
    strips_to_fit(
        client_limited,
        disconnect(v5_0::DisconnectReasonCode::NormalDisconnection),
    );
    strips_to_fit(
        server_limited,
        disconnect(v5_0::DisconnectReasonCode::UseAnotherServer),
    );
}

/// [MQTT-3.15.2-2] Reason String, [MQTT-3.15.2-3] User Property: left out
/// of an AUTH they would take past the receiver's Maximum Packet Size (the
/// Server's, before the CONNACK; the Client's, re-authenticating); the
/// Authentication Method and Data stay.
#[test]
fn auth_fits() {
    let auth = |code: v5_0::AuthReasonCode| {
        move |problem: Problem| -> GenericPacket {
            v5_0::Packet::from(
                v5_0::Auth::builder()
                    .reason_code(code)
                    .properties(v5_0::AuthProperties {
                        authentication_method: method(),
                        authentication_data: Some(b"data".to_vec().try_into().unwrap()),
                        reason_string: problem.reason_string(),
                        user_properties: problem.user_properties(),
                    })
                    .build()
                    .unwrap(),
            )
            .into()
        }
    };
    let authenticating_server = |max: usize| {
        connecting(connect_v5(
            0,
            v5_0::ConnectProperties {
                authentication_method: method(),
                maximum_packet_size: limit(max),
                ..Default::default()
            },
            true,
        ))
    };
    strips_to_fit(
        authenticating_server,
        auth(v5_0::AuthReasonCode::ContinueAuthentication),
    );
    let reauthenticating_client = |max: usize| {
        client_with(
            V5,
            manual(),
            auth_connect(),
            connack_v5(v5_0::ConnackProperties {
                authentication_method: method(),
                maximum_packet_size: limit(max),
                ..Default::default()
            }),
        )
    };
    strips_to_fit(
        reauthenticating_client,
        auth(v5_0::AuthReasonCode::ReAuthenticate),
    );
}

/// [MQTT-3.2.2-19] Reason String, [MQTT-3.2.2-20] User Property: left out
/// of a CONNACK they would take past the Maximum Packet Size of the
/// CONNECT; the Reason Code and the other properties stay.
#[test]
fn connack_fits() {
    strips_to_fit(
        |max| connecting(connect_limited(max)),
        |problem| {
            v5_0::Packet::from(
                v5_0::Connack::builder()
                    .properties(v5_0::ConnackProperties {
                        topic_alias_maximum: Some(5),
                        reason_string: problem.reason_string(),
                        user_properties: problem.user_properties(),
                        ..Default::default()
                    })
                    .build()
                    .unwrap(),
            )
            .into()
        },
    );
}
