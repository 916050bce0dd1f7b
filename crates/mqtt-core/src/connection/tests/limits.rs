//! What CONNECT and CONNACK announce, enforced on later sends (and, for a
//! Server, on what it receives).

use core::num::{NonZeroU16, NonZeroU32};

use super::*;
use crate::{ConnectionError, SendError};
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
    assert_eq!(
        refused(&mut c, publish(V5, "t", QoS::ExactlyOnce, Some(id))),
        SendError::QosNotSupported {
            qos: QoS::ExactlyOnce,
            maximum: QoS::AtLeastOnce
        }
    );
    // The identifier stays the application's, to use or release.
    assert!(c.session().packet_ids().is_in_use(id));
    let message = mqtt_codec::Message::builder()
        .try_topic_name("t")
        .unwrap()
        .qos(QoS::ExactlyOnce)
        .build()
        .unwrap();
    let before = format!("{c:?}");
    assert!(matches!(
        c.publish(message),
        Err(SendError::QosNotSupported { .. })
    ));
    assert_eq!(format!("{c:?}"), before, "publish refused changes nothing");
    assert_eq!(
        c.release_packet_id(id),
        [GenericEvent::NotifyPacketIdReleased(id)]
    );

    let mut s = server_v5(properties);
    let events = feed(&mut s, [publish(V5, "t", QoS::ExactlyOnce, Some(1))]);
    assert_eq!(disconnect_code(&events), Some(0x9B));
    assert!(closes(&events));
}

/// [MQTT-3.2.2-10] a Server that announced a Maximum QoS below 2 still
/// accepts a SUBSCRIBE requesting QoS 0, 1 and 2 (delivered, no DISCONNECT),
/// and answers it; its Client may send one.
#[test]
fn subscribe_above_maximum_qos_accepted() {
    let subscribe: GenericPacket = v5_0::Packet::from(
        v5_0::Subscribe::<u16>::builder()
            .packet_id(1)
            .try_subscription("q/0", QoS::AtMostOnce)
            .unwrap()
            .try_subscription("q/1", QoS::AtLeastOnce)
            .unwrap()
            .try_subscription("q/2", QoS::ExactlyOnce)
            .unwrap()
            .build()
            .unwrap(),
    )
    .into();
    for maximum in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        let properties = v5_0::ConnackProperties {
            maximum_qos: Some(maximum),
            ..Default::default()
        };
        let mut c = client_v5(properties.clone());
        let events = send(&mut c, subscribe.clone());
        assert_eq!(sent(&events), std::slice::from_ref(&subscribe));

        let mut s = server_v5(properties);
        let events = feed(&mut s, [subscribe.clone()]);
        assert!(errors(&events).is_empty(), "{events:?}");
        assert_eq!(received(&events), std::slice::from_ref(&subscribe));
        assert!(sent(&events).is_empty() && !closes(&events));
        let granted = match maximum {
            QoS::AtMostOnce => v5_0::SubackReasonCode::GrantedQoS0,
            _ => v5_0::SubackReasonCode::GrantedQoS1,
        };
        let suback = v5_0::Suback::<u16>::builder()
            .packet_id(1)
            .reason_codes(vec![v5_0::SubackReasonCode::GrantedQoS0, granted, granted])
            .build()
            .unwrap();
        let events = send(&mut s, v5_0::Packet::from(suback).into());
        assert_eq!(types(&sent(&events)), [PacketType::Suback]);
        assert_eq!(s.state(), ConnectionState::Connected);
    }
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
    assert_eq!(
        refused(&mut c, retained.clone()),
        SendError::RetainNotSupported
    );

    let mut s = server_v5(properties);
    let events = feed(&mut s, [retained]);
    assert_eq!(disconnect_code(&events), Some(0x9A));
}

/// [MQTT-3.2.2-15] a Client sends no packet above the Server's Maximum
/// Packet Size; the refused PUBLISH leaves its identifier to the
/// application.
#[test]
fn client_respects_maximum_packet_size() {
    let mut c = client_v5(v5_0::ConnackProperties {
        maximum_packet_size: NonZeroU32::new(20),
        ..Default::default()
    });
    assert_eq!(c.peer_maximum_packet_size(), NonZeroU32::new(20));
    let id = c.acquire_packet_id().unwrap();
    let too_large = publish(V5, "a/long/topic/name", QoS::AtLeastOnce, Some(id));
    assert_eq!(
        refused(&mut c, too_large.clone()),
        SendError::PacketTooLarge {
            size: too_large.encoded_len(),
            maximum: 20
        }
    );
    assert!(c.session().packet_ids().is_in_use(id));
    assert_eq!(c.session().in_flight_len(), 0);
    let events = send(&mut c, publish(V5, "t", QoS::AtLeastOnce, Some(id)));
    assert_eq!(types(&sent(&events)), [PacketType::Publish]);
}

/// [MQTT-3.1.2-24], [MQTT-3.1.2-25] a Server does not send a PUBLISH above
/// the Client's Maximum Packet Size: handed in, it is refused (for the
/// application to discard) and no flow starts.
#[test]
fn server_respects_maximum_packet_size() {
    let properties = v5_0::ConnectProperties {
        maximum_packet_size: NonZeroU32::new(20),
        ..Default::default()
    };
    let mut s = server_with(V5, options(), connect_v5(0, properties, true), connack(V5));
    let id = s.acquire_packet_id().unwrap();
    let too_large = publish(V5, "a/long/topic/name", QoS::ExactlyOnce, Some(id));
    assert!(matches!(
        refused(&mut s, too_large),
        SendError::PacketTooLarge { maximum: 20, .. }
    ));
    assert_eq!(s.session().in_flight_len(), 0);
    assert!(s.session().packet_ids().is_in_use(id));
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
    let mut c = client_with(
        V5,
        manual(),
        connect(V5, 0),
        connack_v5(v5_0::ConnackProperties {
            maximum_packet_size: NonZeroU32::new(10),
            ..Default::default()
        }),
    );
    feed(&mut c, [publish(V5, "t", QoS::AtLeastOnce, Some(3))]);
    let events = send(&mut c, puback(3));
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
    let mut s = server_with(V5, manual(), connect_v5(0, quiet, true), connack(V5));
    feed(&mut s, [publish(V5, "t", QoS::AtLeastOnce, Some(4))]);
    let events = send(&mut s, puback(4));
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
    send(&mut c, publish(V5, "t", QoS::AtLeastOnce, Some(id)));
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
    for (filter, id, code, error) in [
        (
            "a/#",
            false,
            0xA2,
            SendError::WildcardSubscriptionNotAvailable,
        ),
        (
            "a",
            true,
            0xA1,
            SendError::SubscriptionIdentifierNotAvailable,
        ),
        (
            "$share/g/a",
            false,
            0x9E,
            SendError::SharedSubscriptionNotAvailable,
        ),
    ] {
        let mut c = client_v5(off.clone());
        assert_eq!(refused(&mut c, subscribe(filter, id)), error, "{filter}");
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
        assert!(matches!(
            refused(&mut s, connack_v5(properties)),
            SendError::Forbidden(_)
        ));
        let refusal = v5_0::Connack::builder()
            .reason_code(v5_0::ConnectReasonCode::QoSNotSupported)
            .build()
            .unwrap();
        let events = send(&mut s, v5_0::Packet::from(refusal).into());
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
    let error = refused(&mut c, p.clone());
    assert!(
        matches!(error, SendError::Forbidden(rule) if rule.contains("MQTT-3.3.4-6")),
        "{error:?}"
    );
    let mut s = server(V5);
    let events = feed(&mut s, [p.clone()]);
    assert_eq!(disconnect_code(&events), Some(0x82));
    // A Server may send it.
    let mut s = server(V5);
    assert_eq!(types(&sent(&send(&mut s, p))), [PacketType::Publish]);
}

/// A client with offline publish that sent its CONNECT, queued `queued`
/// (while Maximum QoS and Retain Available are the defaults), then received
/// a CONNACK with `properties`; the events of the CONNACK.
fn queued_then_connack(
    queued: Vec<GenericPacket>,
    properties: v5_0::ConnackProperties,
) -> (Connection<Client>, Vec<Event>) {
    let mut o = options();
    o.offline_publish = true;
    let mut c = Connection::<Client>::with_options(V5, o);
    send(&mut c, connect(V5, 0));
    for p in queued {
        let events = send(&mut c, p);
        assert!(events.is_empty(), "queued: {events:?}");
    }
    let events = feed(&mut c, [connack_v5(properties)]);
    (c, events)
}

/// The Topic Names of the PUBLISH packets among `packets`.
fn topics(packets: &[GenericPacket]) -> Vec<String> {
    packets
        .iter()
        .filter_map(|p| match p {
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => Some(p.topic_name().to_string()),
            _ => None,
        })
        .collect()
}

/// [MQTT-3.2.2-11] a PUBLISH queued while offline is checked against the
/// Maximum QoS of the CONNACK when it leaves the queue: one above it is
/// refused (`Refused(QosNotSupported)`, its flow ended, its identifier
/// released), the messages behind it are sent with the identifiers they
/// were queued with (fuzz reproducer
/// `regressions/connection/queued-publish-above-maximum-qos`).
#[test]
fn queued_publish_above_maximum_qos() {
    let queued = vec![
        publish(V5, "two", QoS::ExactlyOnce, Some(1)),
        publish(V5, "one", QoS::AtLeastOnce, Some(2)),
        publish(V5, "zero", QoS::AtMostOnce, None),
    ];
    let (c, events) = queued_then_connack(
        queued,
        v5_0::ConnackProperties {
            maximum_qos: Some(QoS::AtLeastOnce),
            ..Default::default()
        },
    );
    assert_eq!(
        errors(&events),
        [ConnectionError::Refused(SendError::QosNotSupported {
            qos: QoS::ExactlyOnce,
            maximum: QoS::AtLeastOnce,
        })]
    );
    let sent = sent(&events);
    assert_eq!(topics(&sent), ["one", "zero"]);
    for p in &sent {
        if let GenericPacket::V5_0(v5_0::Packet::Publish(p)) = p {
            assert!(p.qos() <= c.maximum_qos());
        }
    }
    let GenericPacket::V5_0(v5_0::Packet::Publish(one)) = &sent[0] else {
        panic!("{sent:?}")
    };
    assert_eq!(
        one.packet_id(),
        Some(2),
        "the identifier it was queued with"
    );
    // The refused message left no flow, identifier or queue entry; the QoS 1
    // one holds the only identifier.
    assert_eq!(c.session().queue_len(), 0);
    assert_eq!(c.session().in_flight_len(), 1);
    assert_eq!(c.session().packet_ids().iter().collect::<Vec<_>>(), [2]);
    assert_eq!(released(&events), [1]);
}

/// [MQTT-3.2.2-14] a retained PUBLISH queued while offline is refused when
/// it leaves the queue if the CONNACK says Retain Available 0
/// (`RetainNotSupported`); the others are sent (fuzz reproducer
/// `regressions/connection/queued-retain-without-retain-available`).
#[test]
fn queued_retain_without_retain_available() {
    let retained = |topic: &str, qos: QoS, id: Option<u16>| -> GenericPacket {
        let mut b = v5_0::Publish::<u16>::builder()
            .try_topic_name(topic)
            .unwrap()
            .qos(qos)
            .retain(true);
        if let Some(id) = id {
            b = b.packet_id(id);
        }
        v5_0::Packet::from(b.build().unwrap()).into()
    };
    let queued = vec![
        retained("r0", QoS::AtMostOnce, None),
        publish(V5, "plain", QoS::AtMostOnce, None),
        retained("r1", QoS::AtLeastOnce, Some(1)),
    ];
    let (c, events) = queued_then_connack(
        queued,
        v5_0::ConnackProperties {
            retain_available: Some(false),
            ..Default::default()
        },
    );
    assert_eq!(
        errors(&events),
        [
            ConnectionError::Refused(SendError::RetainNotSupported),
            ConnectionError::Refused(SendError::RetainNotSupported)
        ]
    );
    assert_eq!(released(&events), [1]);
    assert_eq!(topics(&sent(&events)), ["plain"]);
    assert_eq!(c.session().queue_len(), 0);
    assert_eq!(c.session().in_flight_len(), 0);
    assert!(c.session().packet_ids().is_empty());
}

/// [MQTT-3.2.2-11], [MQTT-3.2.2-14] within the CONNACK's limits, queued
/// messages are sent as they are.
#[test]
fn queued_publish_within_limits() {
    let (c, events) = queued_then_connack(
        vec![publish(V5, "one", QoS::AtLeastOnce, Some(1))],
        v5_0::ConnackProperties {
            maximum_qos: Some(QoS::AtLeastOnce),
            retain_available: Some(false),
            ..Default::default()
        },
    );
    assert!(errors(&events).is_empty(), "{events:?}");
    assert_eq!(topics(&sent(&events)), ["one"]);
    assert_eq!(c.session().in_flight_len(), 1);
}

/// A PUBLISH with the application's Topic Alias and `topic` (empty: the
/// alias alone).
fn aliased(topic: &str, alias: u16, qos: QoS, id: Option<u16>) -> GenericPacket {
    publish_aliased(topic, alias, qos, id)
}

/// [MQTT-3.2.2-15] a PUBLISH with the application's Topic Alias and its
/// Topic Name is measured with the alias, as it is sent: one byte over the
/// Server's Maximum Packet Size is refused (nothing changed: its identifier
/// still the application's, its alias not recorded), one that fits
/// exactly is sent (fuzz reproducer
/// `regressions/connection/explicit-topic-alias-exceeds-maximum-packet-size`).
#[test]
fn explicit_topic_alias_counts_in_maximum_packet_size() {
    let packet = aliased("a/topic", 1, QoS::AtLeastOnce, Some(1));
    let with_alias = packet.encoded_len();
    let client = |max: usize| {
        client_v5(v5_0::ConnackProperties {
            maximum_packet_size: NonZeroU32::new(max as u32),
            topic_alias_maximum: Some(4),
            ..Default::default()
        })
    };

    let mut c = client(with_alias - 1);
    let id = c.acquire_packet_id().unwrap();
    assert_eq!(
        refused(&mut c, aliased("a/topic", 1, QoS::AtLeastOnce, Some(id))),
        SendError::PacketTooLarge {
            size: with_alias,
            maximum: (with_alias - 1) as u32,
        }
    );
    assert!(c.session().packet_ids().is_in_use(id));
    assert_eq!(c.session().in_flight_len(), 0);
    // The peer never learnt the mapping: the alias alone is refused.
    assert_eq!(
        refused(&mut c, aliased("", 1, QoS::AtMostOnce, None)),
        SendError::TopicAlias(crate::TopicAliasError::Unmapped(1))
    );

    let mut c = client(with_alias);
    let id = c.acquire_packet_id().unwrap();
    let events = send(&mut c, aliased("a/topic", 1, QoS::AtLeastOnce, Some(id)));
    assert!(errors(&events).is_empty(), "{events:?}");
    match &sent(&events)[..] {
        [p @ GenericPacket::V5_0(v5_0::Packet::Publish(publish))] => {
            assert_eq!(p.encoded_len(), with_alias);
            assert_eq!(publish.topic_alias(), NonZeroU16::new(1));
        }
        other => panic!("{other:?}"),
    }
    // Recorded: the alias alone is sent now.
    let events = send(&mut c, aliased("", 1, QoS::AtMostOnce, None));
    assert!(errors(&events).is_empty(), "{events:?}");
}

/// [MQTT-3.2.2-15] the size with the application's Topic Alias is exact
/// where the alias makes the Remaining Length need one more byte (127 to
/// 130): one byte over the maximum is refused at once, as an error of the
/// call, never later as an event.
#[test]
fn explicit_topic_alias_size_across_a_varint_boundary() {
    for len in 110..=125 {
        let topic = "t".repeat(len);
        let with_alias = aliased(&topic, 1, QoS::AtLeastOnce, Some(1)).encoded_len();
        for (max, fits) in [(with_alias - 1, false), (with_alias, true)] {
            let mut c = client_v5(v5_0::ConnackProperties {
                maximum_packet_size: NonZeroU32::new(max as u32),
                topic_alias_maximum: Some(4),
                ..Default::default()
            });
            let packet = aliased(&topic, 1, QoS::AtLeastOnce, Some(1));
            if fits {
                let events = send(&mut c, packet);
                assert!(errors(&events).is_empty(), "{len}: {events:?}");
                assert_eq!(sent(&events)[0].encoded_len(), with_alias);
            } else {
                assert_eq!(
                    refused(&mut c, packet),
                    SendError::PacketTooLarge {
                        size: with_alias,
                        maximum: max as u32
                    },
                    "topic of {len} bytes"
                );
            }
        }
    }
}

/// [MQTT-3.1.2-24] the same on a Server: a PUBLISH with its Topic Alias and
/// Topic Name above the Client's Maximum Packet Size is refused, no flow
/// started, for the application to discard [MQTT-3.1.2-25].
#[test]
fn server_explicit_topic_alias_counts_in_maximum_packet_size() {
    let with_alias = aliased("a/topic", 1, QoS::ExactlyOnce, Some(1)).encoded_len();
    let properties = v5_0::ConnectProperties {
        maximum_packet_size: NonZeroU32::new((with_alias - 1) as u32),
        topic_alias_maximum: Some(4),
        ..Default::default()
    };
    let mut s = server_with(V5, options(), connect_v5(0, properties, true), connack(V5));
    let id = s.acquire_packet_id().unwrap();
    assert!(matches!(
        refused(&mut s, aliased("a/topic", 1, QoS::ExactlyOnce, Some(id))),
        SendError::PacketTooLarge { .. }
    ));
    assert!(s.session().packet_ids().is_in_use(id));
    assert_eq!(s.session().in_flight_len(), 0);
}

/// A Server keeps the identifiers of SUBSCRIBE and UNSUBSCRIBE packets it
/// has not answered, to check its SUBACK and UNSUBACK ([MQTT-2.2.1-6],
/// [MQTT-2.3.1-7]); a peer that sends more than 65,536 unanswered ones is
/// disconnected with 0x97 Quota exceeded instead of making it store more.
/// Answering one makes room again.
#[test]
fn unanswered_sub_requests_are_bounded() {
    for v in [V3, V5] {
        let props: &[u8] = if v == V5 { &[0] } else { &[] };
        // Hand-written, for speed: SUBSCRIBE "a" QoS 0, UNSUBSCRIBE "a".
        let request = |first: u8, id: u16, payload: &[u8]| {
            let mut p = vec![first, (2 + props.len() + payload.len()) as u8];
            p.extend_from_slice(&id.to_be_bytes());
            p.extend_from_slice(props);
            p.extend_from_slice(payload);
            p
        };
        let subscribe = |id| request(0x82, id, &[0, 1, b'a', 0]);
        let unsubscribe = |id| request(0xA2, id, &[0, 1, b'a']);
        let mut s = server(v);
        let mut buf: BytesMut = (1..=u16::MAX).flat_map(subscribe).collect();
        buf.extend_from_slice(&unsubscribe(1));
        let events = s.recv(&mut buf);
        assert!(errors(&events).is_empty(), "{:?}", errors(&events));
        assert_eq!(received(&events).len(), 65_536);

        let suback: GenericPacket = match v {
            V3 => v3_1_1::Packet::from(
                v3_1_1::Suback::<u16>::builder()
                    .packet_id(5)
                    .return_code(v3_1_1::SubackReturnCode::Success(QoS::AtMostOnce))
                    .build()
                    .unwrap(),
            )
            .into(),
            _ => v5_0::Packet::from(
                v5_0::Suback::<u16>::builder()
                    .packet_id(5)
                    .reason_code(v5_0::SubackReasonCode::GrantedQoS0)
                    .build()
                    .unwrap(),
            )
            .into(),
        };
        let events = send(&mut s, suback);
        assert_eq!(types(&sent(&events)), [PacketType::Suback]);
        let events = s.recv(&mut BytesMut::from(&unsubscribe(2)[..]));
        assert!(errors(&events).is_empty(), "room again: {events:?}");

        let events = s.recv(&mut BytesMut::from(&unsubscribe(3)[..]));
        assert!(matches!(
            errors(&events)[..],
            [crate::ConnectionError::QuotaExceeded(_)]
        ));
        assert_eq!(disconnect_code(&events), (v == V5).then_some(0x97));
        assert!(closes(&events));
    }
}
