//! Strategies for the fifteen MQTT v5.0 control packets, each built through
//! its public builder with typed properties and reason codes.

use mqtt_codec::properties::PayloadFormatIndicator;
use mqtt_codec::v5_0::{
    Auth, AuthReasonCode, Connack, Connect, ConnectReasonCode, Disconnect, DisconnectReasonCode,
    Packet, Pingreq, Pingresp, Puback, PubackReasonCode, Pubcomp, PubcompReasonCode, Publish,
    Pubrec, PubrecReasonCode, Pubrel, PubrelReasonCode, RetainHandling, Suback, SubackReasonCode,
    Subscribe, SubscriptionOptions, Unsuback, UnsubackReasonCode, Unsubscribe, Will,
};
use mqtt_codec::{MqttString, PacketId, QoS, TopicName};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use super::{
    binary, mqtt_string, packet_id, payload, props, qos, topic_filter_maybe_shared, topic_name,
};

/// A payload marked UTF-8 (Payload Format Indicator 1) must be UTF-8
/// (§3.3.2.3.2): replace ill-formed sequences.
fn utf8_if_marked(pfi: Option<PayloadFormatIndicator>, payload: &[u8]) -> Vec<u8> {
    if pfi == Some(PayloadFormatIndicator::Utf8) {
        String::from_utf8_lossy(payload).into_owned().into_bytes()
    } else {
        payload.to_vec()
    }
}

/// A Will with Will Properties (§3.1.3.2).
pub fn will() -> BoxedStrategy<Will> {
    (topic_name(), binary(), qos(), any::<bool>(), props::will())
        .prop_map(|(topic, payload, qos, retain, properties)| {
            let payload = utf8_if_marked(properties.payload_format_indicator, payload.as_bytes());
            Will::builder()
                .topic(topic)
                .payload(mqtt_codec::BinaryData::try_from(payload).expect("short"))
                .qos(qos)
                .retain(retain)
                .properties(properties)
                .build()
                .expect("valid will")
        })
        .boxed()
}

/// CONNECT (§3.1.2, §3.1.3). On v5.0 a password needs no user name.
pub fn connect() -> BoxedStrategy<Connect> {
    (
        mqtt_string(),
        any::<bool>(),
        any::<u16>(),
        props::connect(),
        option::of(will()),
        option::of(mqtt_string()),
        option::of(binary()),
    )
        .prop_map(
            |(client_id, clean, keep_alive, properties, will, user, password)| {
                let mut b = Connect::builder();
                b.client_id(client_id)
                    .clean_start(clean)
                    .keep_alive(keep_alive)
                    .properties(properties);
                if let Some(will) = will {
                    b.will(will);
                }
                if let Some(user) = user {
                    b.user_name(user);
                }
                if let Some(password) = password {
                    b.password(password);
                }
                b.build().expect("valid connect")
            },
        )
        .boxed()
}

/// CONNACK (§3.2): Session Present only with a success code [MQTT-3.2.2-6].
pub fn connack() -> BoxedStrategy<Connack> {
    (
        any::<bool>(),
        select(ConnectReasonCode::ALL),
        props::connack(),
    )
        .prop_map(|(session_present, code, properties)| {
            Connack::builder()
                .session_present(session_present && code.is_success())
                .reason_code(code)
                .properties(properties)
                .build()
                .expect("valid connack")
        })
        .boxed()
}

/// PUBLISH (§3.3): a packet id exactly when QoS > 0, DUP never on QoS 0,
/// an empty Topic Name only with a Topic Alias.
pub fn publish<P: PacketId>() -> BoxedStrategy<Publish<P>> {
    (
        (topic_name(), any::<bool>()),
        qos(),
        any::<bool>(),
        any::<bool>(),
        packet_id::<P>(),
        (props::publish(), proptest::option::of(props::nz16())),
        payload(),
    )
        .prop_map(
            |((topic, alias_only), qos, dup, retain, id, (properties, alias), payload)| {
                let topic = if alias_only && alias.is_some() {
                    TopicName::empty()
                } else {
                    topic
                };
                let payload = utf8_if_marked(properties.payload_format_indicator, &payload);
                let mut b = Publish::<P>::builder()
                    .topic_name(topic)
                    .qos(qos)
                    .retain(retain)
                    .properties(properties)
                    .payload(payload);
                if let Some(alias) = alias {
                    b = b.topic_alias(alias);
                }
                if qos != QoS::AtMostOnce {
                    b = b.packet_id(id).dup(dup);
                }
                b.build().expect("valid publish")
            },
        )
        .boxed()
}

/// Defines the strategy of one acknowledgement (PUBACK, PUBREC, PUBREL,
/// PUBCOMP): every reason code of its table, with or without properties.
macro_rules! ack {
    ($($name:ident => $ty:ident, $code:ident, $props:path);* $(;)?) => {
        $(
            #[doc = concat!("`", stringify!($ty), "` with every reason code of its table.")]
            pub fn $name<P: PacketId>() -> BoxedStrategy<$ty<P>> {
                (
                    packet_id::<P>(),
                    select($code::ALL),
                    prop_oneof![Just(None), $props().prop_map(Some)],
                )
                    .prop_map(|(id, code, properties)| {
                        let mut b = $ty::<P>::builder();
                        b.packet_id(id).reason_code(code);
                        if let Some(properties) = properties {
                            b.properties(properties);
                        }
                        b.build().expect("valid acknowledgement")
                    })
                    .boxed()
            }
        )*
    };
}

ack! {
    puback => Puback, PubackReasonCode, props::puback;
    pubrec => Pubrec, PubrecReasonCode, props::pubrec;
    pubrel => Pubrel, PubrelReasonCode, props::pubrel;
    pubcomp => Pubcomp, PubcompReasonCode, props::pubcomp;
}

/// Subscription Options (§3.8.3.1).
pub fn subscription_options() -> BoxedStrategy<SubscriptionOptions> {
    let handling = select(
        &[
            RetainHandling::SendAtSubscribe,
            RetainHandling::SendAtSubscribeIfNew,
            RetainHandling::DoNotSend,
        ][..],
    );
    (qos(), any::<bool>(), any::<bool>(), handling)
        .prop_map(
            |(qos, no_local, retain_as_published, retain_handling)| SubscriptionOptions {
                qos,
                no_local,
                retain_as_published,
                retain_handling,
            },
        )
        .boxed()
}

/// SUBSCRIBE (§3.8): at least one filter [MQTT-3.8.3-2], No Local never on
/// a Shared Subscription [MQTT-3.8.3-4].
pub fn subscribe<P: PacketId>() -> BoxedStrategy<Subscribe<P>> {
    (
        packet_id::<P>(),
        props::subscribe(),
        vec((topic_filter_maybe_shared(), subscription_options()), 1..5),
    )
        .prop_map(|(id, properties, subs)| {
            let mut b = Subscribe::<P>::builder();
            b.packet_id(id).properties(properties);
            for (filter, mut options) in subs {
                options.no_local &= !filter.is_shared();
                b.subscription((filter, options));
            }
            b.build().expect("valid subscribe")
        })
        .boxed()
}

/// SUBACK (§3.9): at least one reason code.
pub fn suback<P: PacketId>() -> BoxedStrategy<Suback<P>> {
    (
        packet_id::<P>(),
        props::suback(),
        vec(select(SubackReasonCode::ALL), 1..6),
    )
        .prop_map(|(id, properties, codes)| {
            let mut b = Suback::<P>::builder();
            b.packet_id(id).properties(properties);
            for code in codes {
                b.reason_code(code);
            }
            b.build().expect("valid suback")
        })
        .boxed()
}

/// UNSUBSCRIBE (§3.10): at least one filter [MQTT-3.10.3-2].
pub fn unsubscribe<P: PacketId>() -> BoxedStrategy<Unsubscribe<P>> {
    (
        packet_id::<P>(),
        props::unsubscribe(),
        vec(topic_filter_maybe_shared(), 1..5),
    )
        .prop_map(|(id, properties, filters)| {
            let mut b = Unsubscribe::<P>::builder();
            b.packet_id(id).properties(properties);
            for filter in filters {
                b.filter(filter);
            }
            b.build().expect("valid unsubscribe")
        })
        .boxed()
}

/// UNSUBACK (§3.11): at least one reason code.
pub fn unsuback<P: PacketId>() -> BoxedStrategy<Unsuback<P>> {
    (
        packet_id::<P>(),
        props::unsuback(),
        vec(select(UnsubackReasonCode::ALL), 1..6),
    )
        .prop_map(|(id, properties, codes)| {
            let mut b = Unsuback::<P>::builder();
            b.packet_id(id).properties(properties);
            for code in codes {
                b.reason_code(code);
            }
            b.build().expect("valid unsuback")
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

/// DISCONNECT (§3.14), with every reason code of its table.
pub fn disconnect() -> BoxedStrategy<Disconnect> {
    (
        select(DisconnectReasonCode::ALL),
        prop_oneof![Just(None), props::disconnect().prop_map(Some)],
    )
        .prop_map(|(code, properties)| {
            let mut b = Disconnect::builder();
            b.reason_code(code);
            if let Some(properties) = properties {
                b.properties(properties);
            }
            b.build().expect("valid disconnect")
        })
        .boxed()
}

/// AUTH (§3.15): anything but a bare Success carries an Authentication
/// Method (§3.15.2.2.2).
pub fn auth() -> BoxedStrategy<Auth> {
    (
        select(AuthReasonCode::ALL),
        prop_oneof![Just(None), props::auth().prop_map(Some)],
    )
        .prop_map(|(code, properties)| {
            let mut properties = properties.unwrap_or_default();
            let bare = code == AuthReasonCode::Success && properties.is_empty();
            if !bare && properties.authentication_method.is_none() {
                properties.authentication_method =
                    Some(MqttString::try_from("SCRAM-SHA-256").expect("valid"));
            }
            Auth::builder()
                .reason_code(code)
                .properties(properties)
                .build()
                .expect("valid auth")
        })
        .boxed()
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
        ("auth", auth().prop_map(Packet::from).boxed()),
    ]
}

/// Any v5.0 packet, each of the fifteen types equally likely.
pub fn packet<P: PacketId>() -> BoxedStrategy<Packet<P>> {
    proptest::strategy::Union::new(by_type::<P>().into_iter().map(|(_, s)| s)).boxed()
}
