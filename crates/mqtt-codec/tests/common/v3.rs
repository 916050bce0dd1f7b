//! Strategies for the fourteen MQTT v3.1.1 control packets, each built
//! through its public builder.

use mqtt_codec::v3_1_1::{
    Connack, Connect, ConnectReturnCode, Disconnect, Packet, Pingreq, Pingresp, Puback, Pubcomp,
    Publish, Pubrec, Pubrel, Suback, SubackReturnCode, Subscribe, Subscription, Unsuback,
    Unsubscribe, Will,
};
use mqtt_codec::PacketId;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use super::{binary, mqtt_string, packet_id, payload, qos, topic_filter, topic_name};

/// A Will (§3.1.3.2, §3.1.3.3).
pub fn will() -> BoxedStrategy<Will> {
    (topic_name(), binary(), qos(), any::<bool>())
        .prop_map(|(topic, message, qos, retain)| {
            Will::builder()
                .topic(topic)
                .message(message)
                .qos(qos)
                .retain(retain)
                .build()
                .expect("valid will")
        })
        .boxed()
}

/// CONNECT (§3.1). A password only with a user name [MQTT-3.1.2-22], an
/// empty client id only with CleanSession [MQTT-3.1.3-7].
pub fn connect() -> BoxedStrategy<Connect> {
    (
        mqtt_string(),
        any::<bool>(),
        any::<u16>(),
        option::of(will()),
        option::of(mqtt_string()),
        option::of(binary()),
    )
        .prop_map(|(client_id, clean, keep_alive, will, user, password)| {
            let mut b = Connect::builder();
            b.clean_session(clean || client_id.is_empty())
                .client_id(client_id)
                .keep_alive(keep_alive);
            if let Some(will) = will {
                b.will(will);
            }
            if let Some(user) = user {
                b.user_name(user);
                if let Some(password) = password {
                    b.password(password);
                }
            }
            b.build().expect("valid connect")
        })
        .boxed()
}

/// Every Connect Return code (§3.2.2.3).
pub fn connect_return_code() -> impl Strategy<Value = ConnectReturnCode> + Clone {
    select(
        &[
            ConnectReturnCode::Accepted,
            ConnectReturnCode::UnacceptableProtocolVersion,
            ConnectReturnCode::IdentifierRejected,
            ConnectReturnCode::ServerUnavailable,
            ConnectReturnCode::BadUserNameOrPassword,
            ConnectReturnCode::NotAuthorized,
        ][..],
    )
}

/// CONNACK (§3.2); Session Present only when accepted [MQTT-3.2.2-4].
pub fn connack() -> BoxedStrategy<Connack> {
    (any::<bool>(), connect_return_code())
        .prop_map(|(session_present, code)| {
            Connack::builder()
                .session_present(session_present && code.is_success())
                .return_code(code)
                .build()
                .expect("valid connack")
        })
        .boxed()
}

/// PUBLISH (§3.3): a packet id exactly when QoS > 0, DUP never on QoS 0.
pub fn publish<P: PacketId>() -> BoxedStrategy<Publish<P>> {
    (
        topic_name(),
        qos(),
        any::<bool>(),
        any::<bool>(),
        packet_id::<P>(),
        payload(),
    )
        .prop_map(|(topic, qos, dup, retain, id, payload)| {
            let mut b = Publish::<P>::builder()
                .topic_name(topic)
                .qos(qos)
                .retain(retain)
                .payload(payload);
            if qos != mqtt_codec::QoS::AtMostOnce {
                b = b.packet_id(id).dup(dup);
            }
            b.build().expect("valid publish")
        })
        .boxed()
}

/// PUBACK (§3.4).
pub fn puback<P: PacketId>() -> BoxedStrategy<Puback<P>> {
    packet_id::<P>()
        .prop_map(|id| {
            Puback::builder()
                .packet_id(id)
                .build()
                .expect("valid puback")
        })
        .boxed()
}

/// PUBREC (§3.5).
pub fn pubrec<P: PacketId>() -> BoxedStrategy<Pubrec<P>> {
    packet_id::<P>()
        .prop_map(|id| {
            Pubrec::builder()
                .packet_id(id)
                .build()
                .expect("valid pubrec")
        })
        .boxed()
}

/// PUBREL (§3.6).
pub fn pubrel<P: PacketId>() -> BoxedStrategy<Pubrel<P>> {
    packet_id::<P>()
        .prop_map(|id| {
            Pubrel::builder()
                .packet_id(id)
                .build()
                .expect("valid pubrel")
        })
        .boxed()
}

/// PUBCOMP (§3.7).
pub fn pubcomp<P: PacketId>() -> BoxedStrategy<Pubcomp<P>> {
    packet_id::<P>()
        .prop_map(|id| {
            Pubcomp::builder()
                .packet_id(id)
                .build()
                .expect("valid pubcomp")
        })
        .boxed()
}

/// SUBSCRIBE (§3.8): at least one subscription [MQTT-3.8.3-3].
pub fn subscribe<P: PacketId>() -> BoxedStrategy<Subscribe<P>> {
    (packet_id::<P>(), vec((topic_filter(), qos()), 1..5))
        .prop_map(|(id, subs)| {
            let mut b = Subscribe::<P>::builder();
            b.packet_id(id);
            for (filter, qos) in subs {
                b.subscription(Subscription::new(filter, qos));
            }
            b.build().expect("valid subscribe")
        })
        .boxed()
}

/// A SUBACK return code (§3.9.3).
pub fn suback_return_code() -> impl Strategy<Value = SubackReturnCode> + Clone {
    prop_oneof![
        3 => qos().prop_map(SubackReturnCode::Success),
        1 => Just(SubackReturnCode::Failure),
    ]
}

/// SUBACK (§3.9): at least one return code.
pub fn suback<P: PacketId>() -> BoxedStrategy<Suback<P>> {
    (packet_id::<P>(), vec(suback_return_code(), 1..6))
        .prop_map(|(id, codes)| {
            let mut b = Suback::<P>::builder();
            b.packet_id(id);
            for code in codes {
                b.return_code(code);
            }
            b.build().expect("valid suback")
        })
        .boxed()
}

/// UNSUBSCRIBE (§3.10): at least one filter [MQTT-3.10.3-2].
pub fn unsubscribe<P: PacketId>() -> BoxedStrategy<Unsubscribe<P>> {
    (packet_id::<P>(), vec(topic_filter(), 1..5))
        .prop_map(|(id, filters)| {
            let mut b = Unsubscribe::<P>::builder();
            b.packet_id(id);
            for filter in filters {
                b.topic_filter(filter);
            }
            b.build().expect("valid unsubscribe")
        })
        .boxed()
}

/// UNSUBACK (§3.11).
pub fn unsuback<P: PacketId>() -> BoxedStrategy<Unsuback<P>> {
    packet_id::<P>()
        .prop_map(|id| {
            Unsuback::builder()
                .packet_id(id)
                .build()
                .expect("valid unsuback")
        })
        .boxed()
}

/// PINGREQ (§3.12).
pub fn pingreq() -> BoxedStrategy<Pingreq> {
    Just(Pingreq).boxed()
}

/// PINGRESP (§3.13).
pub fn pingresp() -> BoxedStrategy<Pingresp> {
    Just(Pingresp).boxed()
}

/// DISCONNECT (§3.14).
pub fn disconnect() -> BoxedStrategy<Disconnect> {
    Just(Disconnect).boxed()
}

/// Every packet type with its strategy, named as in the spec (lower case).
pub fn by_type<P: PacketId>() -> Vec<(&'static str, BoxedStrategy<Packet<P>>)> {
    vec![
        ("connect", connect().prop_map(Packet::from).boxed()),
        ("connack", connack().prop_map(Packet::from).boxed()),
        ("publish", publish::<P>().prop_map(Packet::from).boxed()),
        ("puback", puback::<P>().prop_map(Packet::from).boxed()),
        ("pubrec", pubrec::<P>().prop_map(Packet::from).boxed()),
        ("pubrel", pubrel::<P>().prop_map(Packet::from).boxed()),
        ("pubcomp", pubcomp::<P>().prop_map(Packet::from).boxed()),
        ("subscribe", subscribe::<P>().prop_map(Packet::from).boxed()),
        ("suback", suback::<P>().prop_map(Packet::from).boxed()),
        (
            "unsubscribe",
            unsubscribe::<P>().prop_map(Packet::from).boxed(),
        ),
        ("unsuback", unsuback::<P>().prop_map(Packet::from).boxed()),
        ("pingreq", pingreq().prop_map(Packet::from).boxed()),
        ("pingresp", pingresp().prop_map(Packet::from).boxed()),
        ("disconnect", disconnect().prop_map(Packet::from).boxed()),
    ]
}

/// Any v3.1.1 packet, each of the fourteen types equally likely.
pub fn packet<P: PacketId>() -> BoxedStrategy<Packet<P>> {
    proptest::strategy::Union::new(by_type::<P>().into_iter().map(|(_, s)| s)).boxed()
}
