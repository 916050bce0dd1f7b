//! What CONNECT and CONNACK announce, enforced on later sends (and, for a
//! Server, on what it receives).

use core::num::{NonZeroU16, NonZeroU32};

use super::*;
use crate::ConnectionError;
use mqtt_codec::{MqttString, TopicFilter};

fn client_v5(properties: v5_0::ConnackProperties) -> Connection<Client> {
    client_with(V5, options(), connect(V5, 0), connack_v5(properties))
}

fn server_v5(properties: v5_0::ConnackProperties) -> Connection<Server> {
    server_with(V5, options(), connect(V5, 0), connack_v5(properties))
}

/// [MQTT-3.2.2-11] a Client sends no PUBLISH above the Maximum QoS; a
/// Server receiving one disconnects with 0x9B.
#[test]
fn maximum_qos() {
    let properties = v5_0::ConnackProperties {
        maximum_qos: Some(QoS::AtLeastOnce),
        ..Default::default()
    };
    let mut c = client_v5(properties.clone());
    assert_eq!(c.maximum_qos(), QoS::AtLeastOnce);
    let id = c.acquire_packet_id().unwrap();
    let events = c.send(publish(V5, "t", QoS::ExactlyOnce, Some(id)));
    assert!(sent(&events).is_empty());
    assert!(matches!(
        errors(&events)[..],
        [ConnectionError::QosNotSupported { .. }]
    ));
    assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(id)));
    assert!(!c.session().packet_ids().is_in_use(id));

    let mut s = server_v5(properties);
    let events = feed(&mut s, [publish(V5, "t", QoS::ExactlyOnce, Some(1))]);
    assert_eq!(disconnect_code(&events), Some(0x9B));
    assert!(closes(&events));
}

/// [MQTT-3.2.2-14] no retained PUBLISH when Retain Available is 0; a
/// Server receiving one disconnects with 0x9A.
#[test]
fn retain_available() {
    let properties = v5_0::ConnackProperties {
        retain_available: Some(false),
        ..Default::default()
    };
    let retained: GenericPacket = v5_0::Packet::from(
        v5_0::Publish::<u16>::builder()
            .try_topic_name("t")
            .unwrap()
            .retain(true)
            .build()
            .unwrap(),
    )
    .into();
    let mut c = client_v5(properties.clone());
    assert!(!c.retain_available());
    let events = c.send(retained.clone());
    assert!(matches!(
        errors(&events)[..],
        [ConnectionError::RetainNotSupported]
    ));
    assert!(sent(&events).is_empty());

    let mut s = server_v5(properties);
    let events = feed(&mut s, [retained]);
    assert_eq!(disconnect_code(&events), Some(0x9A));
}

/// [MQTT-3.2.2-15] a Client sends no packet above the Server's Maximum
/// Packet Size; the refused PUBLISH gives its identifier back.
#[test]
fn client_respects_maximum_packet_size() {
    let mut c = client_v5(v5_0::ConnackProperties {
        maximum_packet_size: NonZeroU32::new(20),
        ..Default::default()
    });
    assert_eq!(c.peer_maximum_packet_size(), NonZeroU32::new(20));
    let id = c.acquire_packet_id().unwrap();
    let events = c.send(publish(V5, "a/long/topic/name", QoS::AtLeastOnce, Some(id)));
    assert!(sent(&events).is_empty(), "{events:?}");
    assert!(matches!(
        errors(&events)[..],
        [ConnectionError::PacketTooLarge { .. }]
    ));
    assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(id)));
    assert_eq!(c.session().in_flight_len(), 0);
    let events = c.send(publish(V5, "t", QoS::AtMostOnce, None));
    assert_eq!(types(&sent(&events)), [PacketType::Publish]);
}

/// [MQTT-3.1.2-24], [MQTT-3.1.2-25] a Server does not send a PUBLISH above
/// the Client's Maximum Packet Size: it is dropped as if sent.
#[test]
fn server_respects_maximum_packet_size() {
    let properties = v5_0::ConnectProperties {
        maximum_packet_size: NonZeroU32::new(20),
        ..Default::default()
    };
    let mut s = server_with(V5, options(), connect_v5(0, properties, true), connack(V5));
    let id = s.acquire_packet_id().unwrap();
    let events = s.send(publish(V5, "a/long/topic/name", QoS::ExactlyOnce, Some(id)));
    assert!(sent(&events).is_empty());
    assert!(events.contains(&GenericEvent::NotifyPacketIdReleased(id)));
    assert_eq!(s.session().in_flight_len(), 0);
}

/// [MQTT-3.4.2-2] (and the like for the other acknowledgements): a Reason
/// String or User Property that would exceed the peer's Maximum Packet Size
/// is left out; [MQTT-3.1.2-29] a Server leaves them out when the Client
/// asked for no problem information.
#[test]
fn problem_information_is_dropped_to_fit() {
    let puback = |id: u16| -> GenericPacket {
        v5_0::Packet::from(
            v5_0::Puback::builder()
                .packet_id(id)
                .reason_code(v5_0::PubackReasonCode::NoMatchingSubscribers)
                .properties(v5_0::PubackProperties {
                    reason_string: Some(MqttString::try_from("nobody is listening").unwrap()),
                    ..Default::default()
                })
                .build()
                .unwrap(),
        )
        .into()
    };
    let manual = ConnectionOptions::default();
    let mut c = client_with(
        V5,
        manual.clone(),
        connect(V5, 0),
        connack_v5(v5_0::ConnackProperties {
            maximum_packet_size: NonZeroU32::new(10),
            ..Default::default()
        }),
    );
    feed(&mut c, [publish(V5, "t", QoS::AtLeastOnce, Some(3))]);
    let events = c.send(puback(3));
    let [GenericPacket::V5_0(v5_0::Packet::Puback(a))] = &sent(&events)[..] else {
        panic!("{events:?}");
    };
    assert!(a.properties().is_empty());
    assert_eq!(
        a.reason_code(),
        v5_0::PubackReasonCode::NoMatchingSubscribers
    );

    let quiet = v5_0::ConnectProperties {
        request_problem_information: Some(false),
        ..Default::default()
    };
    let mut s = server_with(V5, manual, connect_v5(0, quiet, true), connack(V5));
    feed(&mut s, [publish(V5, "t", QoS::AtLeastOnce, Some(4))]);
    let events = s.send(puback(4));
    let [GenericPacket::V5_0(v5_0::Packet::Puback(a))] = &sent(&events)[..] else {
        panic!("{events:?}");
    };
    assert!(a.properties().is_empty());
}

/// [MQTT-3.1.2-29] a Client that asked for no problem information treats a
/// Reason String on a PUBACK as a Protocol Error (0x82).
#[test]
fn client_refuses_unrequested_problem_information() {
    let quiet = v5_0::ConnectProperties {
        request_problem_information: Some(false),
        ..Default::default()
    };
    let mut c = client_with(V5, options(), connect_v5(0, quiet, true), connack(V5));
    let id = c.acquire_packet_id().unwrap();
    c.send(publish(V5, "t", QoS::AtLeastOnce, Some(id)));
    let puback = v5_0::Puback::builder()
        .packet_id(id)
        .properties(v5_0::PubackProperties {
            reason_string: Some(MqttString::try_from("x").unwrap()),
            ..Default::default()
        })
        .build()
        .unwrap();
    let events = feed(&mut c, [v5_0::Packet::from(puback).into()]);
    assert_eq!(disconnect_code(&events), Some(0x82));
}

/// Our Maximum Packet Size (announced in CONNECT) limits what we accept:
/// larger packets are refused from their fixed header with 0x95 (§3.1.2.11.4).
#[test]
fn our_maximum_packet_size() {
    let properties = v5_0::ConnectProperties {
        maximum_packet_size: NonZeroU32::new(16),
        ..Default::default()
    };
    let mut c = client_with(V5, options(), connect_v5(0, properties, true), connack(V5));
    assert_eq!(c.maximum_packet_size(), 16);
    let events = feed(
        &mut c,
        [publish(V5, "a/long/topic/name", QoS::AtMostOnce, None)],
    );
    assert_eq!(disconnect_code(&events), Some(0x95));
    assert!(closes(&events));

    // v3.1.1 has no property: the option limits instead.
    let mut o = options();
    o.maximum_packet_size = NonZeroU32::new(16);
    let mut c = client_with(V3, o, connect(V3, 0), connack(V3));
    let events = feed(
        &mut c,
        [publish(V3, "a/long/topic/name", QoS::AtMostOnce, None)],
    );
    assert!(disconnect_code(&events).is_none() && closes(&events));
}

/// Wildcard, Subscription Identifier and Shared Subscription availability
/// (§3.2.2.3.11 to §3.2.2.3.13): refused on send by a Client, a Protocol
/// Error (0xA2, 0xA1, 0x9E) when a Server that announced it receives one.
#[test]
fn subscription_features() {
    let subscribe = |filter: &'static str, subscription_id: bool| -> GenericPacket {
        let mut b = v5_0::Subscribe::<u16>::builder();
        b.packet_id(1).subscription((
            TopicFilter::from_static(filter).unwrap(),
            v5_0::SubscriptionOptions::new(QoS::AtMostOnce),
        ));
        if subscription_id {
            b.properties(v5_0::SubscribeProperties {
                subscription_identifier: v5_0::SubscriptionIdentifier::new(7),
                ..Default::default()
            });
        }
        v5_0::Packet::from(b.build().unwrap()).into()
    };
    let off = v5_0::ConnackProperties {
        wildcard_subscription_available: Some(false),
        subscription_identifiers_available: Some(false),
        shared_subscription_available: Some(false),
        ..Default::default()
    };
    for (filter, id, code) in [
        ("a/#", false, 0xA2),
        ("a", true, 0xA1),
        ("$share/g/a", false, 0x9E),
    ] {
        let mut c = client_v5(off.clone());
        let events = c.send(subscribe(filter, id));
        assert!(sent(&events).is_empty(), "{filter}");
        assert_eq!(errors(&events)[0].reason_code(), Some(code));
        assert!(!c.session().packet_ids().is_in_use(1));

        let mut s = server_v5(off.clone());
        let events = feed(&mut s, [subscribe(filter, id)]);
        assert_eq!(disconnect_code(&events), Some(code), "{filter}");
    }
}

/// The getters report what CONNECT and CONNACK configured.
#[test]
fn configuration_getters() {
    let connect_properties = v5_0::ConnectProperties {
        receive_maximum: NonZeroU16::new(5),
        topic_alias_maximum: Some(3),
        session_expiry_interval: Some(100),
        ..Default::default()
    };
    let connack_properties = v5_0::ConnackProperties {
        receive_maximum: NonZeroU16::new(7),
        topic_alias_maximum: Some(9),
        assigned_client_identifier: Some(MqttString::try_from("auto-1").unwrap()),
        session_expiry_interval: Some(50),
        ..Default::default()
    };
    let c = client_with(
        V5,
        options(),
        connect_v5(30, connect_properties.clone(), true),
        connack_v5(connack_properties.clone()),
    );
    assert_eq!(c.receive_maximum().get(), 5);
    assert_eq!(c.peer_receive_maximum().get(), 7);
    assert_eq!(c.topic_alias_maximum(), 3);
    assert_eq!(c.peer_topic_alias_maximum(), 9);
    assert_eq!(c.assigned_client_identifier().unwrap(), "auto-1");
    assert_eq!(c.session_expiry_interval(), 50);
    assert_eq!(c.keep_alive(), 30);
    assert_eq!(c.client_identifier(), "c");

    let s = server_with(
        V5,
        options(),
        connect_v5(30, connect_properties, true),
        connack_v5(connack_properties),
    );
    assert_eq!(s.receive_maximum().get(), 7);
    assert_eq!(s.peer_receive_maximum().get(), 5);
    assert_eq!(s.topic_alias_maximum(), 9);
    assert_eq!(s.peer_topic_alias_maximum(), 3);
    assert_eq!(s.session().peer_receive_maximum().get(), 5);
}

/// A Server's successful CONNACK must be consistent with the CONNECT it
/// answers: the Will within the Maximum QoS [MQTT-3.2.2-12] and Retain
/// Available [MQTT-3.2.2-13], an Assigned Client Identifier for an empty
/// one [MQTT-3.2.2-16], Response Information only when requested
/// [MQTT-3.1.2-28]. A refusing CONNACK is always allowed.
#[test]
fn server_connack_consistency() {
    let will_connect = |qos: QoS, retain: bool| -> GenericPacket {
        let will = v5_0::Will::builder()
            .try_topic("w")
            .unwrap()
            .qos(qos)
            .retain(retain)
            .build()
            .unwrap();
        v5_0::Packet::from(
            v5_0::Connect::builder()
                .try_client_id("c")
                .unwrap()
                .will(Box::new(will))
                .build()
                .unwrap(),
        )
        .into()
    };
    let cases = [
        (
            will_connect(QoS::ExactlyOnce, false),
            v5_0::ConnackProperties {
                maximum_qos: Some(QoS::AtLeastOnce),
                ..Default::default()
            },
        ),
        (
            will_connect(QoS::AtMostOnce, true),
            v5_0::ConnackProperties {
                retain_available: Some(false),
                ..Default::default()
            },
        ),
        (
            v5_0::Packet::from(v5_0::Connect::builder().build().unwrap()).into(),
            v5_0::ConnackProperties::default(),
        ),
        (
            connect(V5, 0),
            v5_0::ConnackProperties {
                response_information: Some(MqttString::try_from("r/").unwrap()),
                ..Default::default()
            },
        ),
    ];
    for (connect, properties) in cases {
        let mut s = Connection::<Server>::new(V5);
        feed(&mut s, [connect]);
        let events = s.send(connack_v5(properties));
        assert!(sent(&events).is_empty(), "{events:?}");
        assert!(matches!(
            errors(&events)[..],
            [ConnectionError::Forbidden(_)]
        ));
        let refusal = v5_0::Connack::builder()
            .reason_code(v5_0::ConnectReasonCode::QoSNotSupported)
            .build()
            .unwrap();
        let events = s.send(v5_0::Packet::from(refusal).into());
        assert_eq!(types(&sent(&events)), [PacketType::Connack]);
        assert!(closes(&events));
    }
}

/// [MQTT-3.3.4-6] a Client sends no Subscription Identifier in PUBLISH; a
/// Server receiving one answers DISCONNECT 0x82.
#[test]
fn no_subscription_identifier_from_client() {
    let p = publish_v5(
        "t",
        QoS::AtMostOnce,
        None,
        v5_0::PublishProperties {
            subscription_identifiers: vec![v5_0::SubscriptionIdentifier::new(3).unwrap()],
            ..Default::default()
        },
    );
    let mut c = client(V5);
    let events = c.send(p.clone());
    assert!(sent(&events).is_empty());
    assert!(matches!(
        errors(&events)[..],
        [ConnectionError::Forbidden(_)]
    ));
    let mut s = server(V5);
    let events = feed(&mut s, [p.clone()]);
    assert_eq!(disconnect_code(&events), Some(0x82));
    // A Server may send it.
    let mut s = server(V5);
    assert_eq!(types(&sent(&s.send(p))), [PacketType::Publish]);
}
