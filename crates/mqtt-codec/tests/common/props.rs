//! Strategies for the v5.0 property sets (§2.2.2), each holding only values
//! a sender may send (the sets' `validate` accepts them).

use std::num::{NonZeroU16, NonZeroU32};

use mqtt_codec::properties::{
    AuthProperties, ConnackProperties, ConnectProperties, DisconnectProperties, PubackProperties,
    PubcompProperties, PublishProperties, PubrecProperties, PubrelProperties, SubackProperties,
    SubscribeProperties, SubscriptionIdentifier, UnsubackProperties, UnsubscribeProperties,
    UserProperty, WillProperties,
};
use mqtt_codec::{MqttString, QoS};
use proptest::collection::vec;
use proptest::option::weighted;
use proptest::prelude::*;
use proptest::sample::select;

use super::{binary, mqtt_string, topic_name};

/// How often an optional property is present.
const P: f64 = 0.3;

/// User Properties: a few pairs, names may repeat (§3.1.2.11.8).
pub fn user_properties() -> BoxedStrategy<Vec<UserProperty>> {
    prop_oneof![
        2 => Just(Vec::new()),
        1 => vec((mqtt_string(), mqtt_string()), 1..3).prop_map(|pairs| {
            pairs
                .into_iter()
                .map(|(name, value)| UserProperty { name, value })
                .collect()
        }),
    ]
    .boxed()
}

/// A Subscription Identifier, 1 to 268,435,455 (§3.8.2.1.2).
pub fn subscription_identifier() -> BoxedStrategy<SubscriptionIdentifier> {
    prop_oneof![
        Just(1u32),
        Just(127u32),
        Just(128u32),
        Just(SubscriptionIdentifier::MAX),
        1..=SubscriptionIdentifier::MAX,
    ]
    .prop_map(|v| SubscriptionIdentifier::new(v).expect("in range"))
    .boxed()
}

pub fn nz16() -> BoxedStrategy<NonZeroU16> {
    (1..=u16::MAX)
        .prop_map(|v| NonZeroU16::new(v).expect("non-zero"))
        .boxed()
}

fn nz32() -> BoxedStrategy<NonZeroU32> {
    (1..=u32::MAX)
        .prop_map(|v| NonZeroU32::new(v).expect("non-zero"))
        .boxed()
}

fn opt<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    weighted(P, s)
}

/// Authentication Data needs an Authentication Method (§3.1.2.11.10).
fn fix_auth(method: &mut Option<MqttString>, data: &Option<mqtt_codec::BinaryData>) {
    if data.is_some() && method.is_none() {
        *method = Some(MqttString::try_from("SCRAM-SHA-1").expect("valid"));
    }
}

/// CONNECT Properties (§3.1.2.11).
pub fn connect() -> BoxedStrategy<ConnectProperties> {
    (
        opt(any::<u32>()),
        opt(mqtt_string()),
        opt(binary()),
        opt(any::<bool>()),
        opt(any::<bool>()),
        opt(nz16()),
        opt(any::<u16>()),
        user_properties(),
        opt(nz32()),
    )
        .prop_map(|(sei, mut method, data, rpi, rri, rm, tam, up, mps)| {
            fix_auth(&mut method, &data);
            ConnectProperties {
                session_expiry_interval: sei,
                authentication_method: method,
                authentication_data: data,
                request_problem_information: rpi,
                request_response_information: rri,
                receive_maximum: rm,
                topic_alias_maximum: tam,
                user_properties: up,
                maximum_packet_size: mps,
            }
        })
        .boxed()
}

/// A Payload Format Indicator.
pub fn payload_format() -> impl Strategy<Value = mqtt_codec::properties::PayloadFormatIndicator> {
    use mqtt_codec::properties::PayloadFormatIndicator as F;
    select(&[F::Unspecified, F::Utf8][..])
}

/// Will Properties (§3.1.3.2). A UTF-8 Payload Format Indicator constrains
/// the Will payload: the Will strategy fixes the payload up.
pub fn will() -> BoxedStrategy<WillProperties> {
    (
        opt(payload_format()),
        opt(any::<u32>()),
        opt(mqtt_string()),
        opt(topic_name()),
        opt(binary()),
        opt(any::<u32>()),
        user_properties(),
    )
        .prop_map(|(pfi, mei, ct, rt, cd, wdi, up)| WillProperties {
            payload_format_indicator: pfi,
            message_expiry_interval: mei,
            content_type: ct,
            response_topic: rt,
            correlation_data: cd,
            will_delay_interval: wdi,
            user_properties: up,
        })
        .boxed()
}

/// CONNACK Properties (§3.2.2.3); Maximum QoS is 0 or 1 (§3.2.2.3.4).
pub fn connack() -> BoxedStrategy<ConnackProperties> {
    let first = (
        opt(any::<u32>()),
        opt(mqtt_string()),
        opt(any::<u16>()),
        opt(mqtt_string()),
        opt(binary()),
        opt(mqtt_string()),
        opt(mqtt_string()),
        opt(mqtt_string()),
    );
    let second = (
        opt(nz16()),
        opt(any::<u16>()),
        opt(select(&[QoS::AtMostOnce, QoS::AtLeastOnce][..])),
        opt(any::<bool>()),
        user_properties(),
        opt(nz32()),
        opt(any::<bool>()),
        opt(any::<bool>()),
        opt(any::<bool>()),
    );
    (first, second)
        .prop_map(
            |(
                (sei, aci, ska, mut am, ad, ri, sr, rs),
                (rm, tam, mq, ra, up, mps, wsa, sia, ssa),
            )| {
                fix_auth(&mut am, &ad);
                ConnackProperties {
                    session_expiry_interval: sei,
                    assigned_client_identifier: aci,
                    server_keep_alive: ska,
                    authentication_method: am,
                    authentication_data: ad,
                    response_information: ri,
                    server_reference: sr,
                    reason_string: rs,
                    receive_maximum: rm,
                    topic_alias_maximum: tam,
                    maximum_qos: mq,
                    retain_available: ra,
                    user_properties: up,
                    maximum_packet_size: mps,
                    wildcard_subscription_available: wsa,
                    subscription_identifiers_available: sia,
                    shared_subscription_available: ssa,
                }
            },
        )
        .boxed()
}

/// PUBLISH Properties (§3.3.2.3) but Topic Alias, which the PUBLISH
/// strategy adds itself and fixes up the topic with (an empty one needs a
/// Topic Alias), and a UTF-8 payload.
pub fn publish() -> BoxedStrategy<PublishProperties> {
    (
        opt(payload_format()),
        opt(any::<u32>()),
        opt(mqtt_string()),
        opt(topic_name()),
        opt(binary()),
        prop_oneof![3 => Just(Vec::new()), 1 => vec(subscription_identifier(), 1..3)],
        user_properties(),
    )
        .prop_map(|(pfi, mei, ct, rt, cd, sids, up)| PublishProperties {
            payload_format_indicator: pfi,
            message_expiry_interval: mei,
            content_type: ct,
            response_topic: rt,
            correlation_data: cd,
            subscription_identifiers: sids,
            user_properties: up,
        })
        .boxed()
}

macro_rules! reason_string_and_user_properties {
    ($($name:ident => $ty:ident),* $(,)?) => {
        $(
            #[doc = concat!("`", stringify!($ty), "`: Reason String and User Properties.")]
            pub fn $name() -> BoxedStrategy<$ty> {
                (opt(mqtt_string()), user_properties())
                    .prop_map(|(reason_string, user_properties)| $ty {
                        reason_string,
                        user_properties,
                    })
                    .boxed()
            }
        )*
    };
}

reason_string_and_user_properties! {
    puback => PubackProperties,
    pubrec => PubrecProperties,
    pubrel => PubrelProperties,
    pubcomp => PubcompProperties,
    suback => SubackProperties,
    unsuback => UnsubackProperties,
}

/// SUBSCRIBE Properties (§3.8.2.1).
pub fn subscribe() -> BoxedStrategy<SubscribeProperties> {
    (opt(subscription_identifier()), user_properties())
        .prop_map(
            |(subscription_identifier, user_properties)| SubscribeProperties {
                subscription_identifier,
                user_properties,
            },
        )
        .boxed()
}

/// UNSUBSCRIBE Properties (§3.10.2.1).
pub fn unsubscribe() -> BoxedStrategy<UnsubscribeProperties> {
    user_properties()
        .prop_map(|user_properties| UnsubscribeProperties { user_properties })
        .boxed()
}

/// DISCONNECT Properties (§3.14.2.2).
pub fn disconnect() -> BoxedStrategy<DisconnectProperties> {
    (
        opt(any::<u32>()),
        opt(mqtt_string()),
        opt(mqtt_string()),
        user_properties(),
    )
        .prop_map(|(sei, sr, rs, up)| DisconnectProperties {
            session_expiry_interval: sei,
            server_reference: sr,
            reason_string: rs,
            user_properties: up,
        })
        .boxed()
}

/// AUTH Properties (§3.15.2.2).
pub fn auth() -> BoxedStrategy<AuthProperties> {
    (
        opt(mqtt_string()),
        opt(binary()),
        opt(mqtt_string()),
        user_properties(),
    )
        .prop_map(|(mut am, ad, rs, up)| {
            fix_auth(&mut am, &ad);
            AuthProperties {
                authentication_method: am,
                authentication_data: ad,
                reason_string: rs,
                user_properties: up,
            }
        })
        .boxed()
}
