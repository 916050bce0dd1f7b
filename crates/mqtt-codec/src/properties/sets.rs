//! The property set of each packet (v5.0 §2.2.2.2 and the Properties
//! section of each packet), in identifier order.

use alloc::vec::Vec;
use core::num::{NonZeroU16, NonZeroU32};

use super::block::Values;
use super::properties;
use super::{PayloadFormatIndicator, SubscriptionIdentifier, UserProperty};
use crate::{BinaryData, MqttString, QoS, TopicName};

properties! {
    /// CONNECT Properties (§3.1.2.11).
    pub struct ConnectProperties, view ConnectPropertiesView for Connect where auth(authentication_method = 0x15, authentication_data = 0x16) {
        /// Session Expiry Interval in seconds; absent means 0, the session
        /// ends with the connection (§3.1.2.11.2).
        session_expiry_interval: Option<u32> as Option<u32> = 0x11,
        /// Authentication Method: the extended authentication to use (§3.1.2.11.9).
        authentication_method: Option<MqttString> as Option<&'a str> = 0x15,
        /// Authentication Data, only with an Authentication Method (§3.1.2.11.10).
        authentication_data: Option<BinaryData> as Option<&'a [u8]> = 0x16,
        /// Request Problem Information: whether the Server may send Reason
        /// Strings and User Properties on failures; absent means true (§3.1.2.11.7).
        request_problem_information: Option<bool> as Option<bool> = 0x17,
        /// Request Response Information: asks for Response Information in
        /// CONNACK; absent means false (§3.1.2.11.6).
        request_response_information: Option<bool> as Option<bool> = 0x19,
        /// Receive Maximum: QoS 1 and 2 PUBLISHes the Client processes at once;
        /// absent means 65,535 (§3.1.2.11.3).
        receive_maximum: Option<NonZeroU16> as Option<NonZeroU16> = 0x21,
        /// Topic Alias Maximum: the highest Topic Alias the Client accepts;
        /// absent means 0, none (§3.1.2.11.5).
        topic_alias_maximum: Option<u16> as Option<u16> = 0x22,
        /// User Properties, in order (§3.1.2.11.8).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
        /// Maximum Packet Size the Client accepts; absent means no limit (§3.1.2.11.4).
        maximum_packet_size: Option<NonZeroU32> as Option<NonZeroU32> = 0x27,
    }
}

properties! {
    /// Will Properties, in the CONNECT payload (§3.1.3.2).
    pub struct WillProperties, view WillPropertiesView for Connect {
        /// Payload Format Indicator of the Will Message (§3.1.3.2.3).
        payload_format_indicator: Option<PayloadFormatIndicator> as Option<PayloadFormatIndicator> = 0x01,
        /// Message Expiry Interval of the Will Message in seconds (§3.1.3.2.4).
        message_expiry_interval: Option<u32> as Option<u32> = 0x02,
        /// Content Type of the Will Message (§3.1.3.2.5).
        content_type: Option<MqttString> as Option<&'a str> = 0x03,
        /// Response Topic: the Topic Name for a response (§3.1.3.2.6).
        response_topic: Option<TopicName> as Option<&'a str> = 0x08,
        /// Correlation Data, to match a response to its request (§3.1.3.2.7).
        correlation_data: Option<BinaryData> as Option<&'a [u8]> = 0x09,
        /// Will Delay Interval in seconds; absent means 0 (§3.1.3.2.2).
        will_delay_interval: Option<u32> as Option<u32> = 0x18,
        /// User Properties, in order [MQTT-3.1.3-10] (§3.1.3.2.8).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

properties! {
    /// CONNACK Properties (§3.2.2.3).
    pub struct ConnackProperties, view ConnackPropertiesView for Connack where auth(authentication_method = 0x15, authentication_data = 0x16) {
        /// Session Expiry Interval the Server uses, if not the Client's (§3.2.2.3.2).
        session_expiry_interval: Option<u32> as Option<u32> = 0x11,
        /// Assigned Client Identifier, when the Client sent an empty one
        /// [MQTT-3.2.2-16] (§3.2.2.3.7).
        assigned_client_identifier: Option<MqttString> as Option<&'a str> = 0x12,
        /// Server Keep Alive, which replaces the Client's Keep Alive
        /// [MQTT-3.2.2-21] (§3.2.2.3.14).
        server_keep_alive: Option<u16> as Option<u16> = 0x13,
        /// Authentication Method (§3.2.2.3.17).
        authentication_method: Option<MqttString> as Option<&'a str> = 0x15,
        /// Authentication Data (§3.2.2.3.18).
        authentication_data: Option<BinaryData> as Option<&'a [u8]> = 0x16,
        /// Response Information, the basis of a Response Topic (§3.2.2.3.15).
        response_information: Option<MqttString> as Option<&'a str> = 0x1A,
        /// Server Reference: another Server to use (§3.2.2.3.16).
        server_reference: Option<MqttString> as Option<&'a str> = 0x1C,
        /// Reason String: diagnostics for humans (§3.2.2.3.9).
        reason_string: Option<MqttString> as Option<&'a str> = 0x1F,
        /// Receive Maximum: QoS 1 and 2 PUBLISHes the Server processes at
        /// once; absent means 65,535 (§3.2.2.3.3).
        receive_maximum: Option<NonZeroU16> as Option<NonZeroU16> = 0x21,
        /// Topic Alias Maximum: the highest Topic Alias the Server accepts;
        /// absent means 0 (§3.2.2.3.8).
        topic_alias_maximum: Option<u16> as Option<u16> = 0x22,
        /// Maximum QoS the Server supports, 0 or 1; absent means 2 (§3.2.2.3.4).
        maximum_qos: Option<QoS> as Option<QoS> = 0x24,
        /// Retain Available; absent means true (§3.2.2.3.5).
        retain_available: Option<bool> as Option<bool> = 0x25,
        /// User Properties, in order (§3.2.2.3.10).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
        /// Maximum Packet Size the Server accepts; absent means no limit (§3.2.2.3.6).
        maximum_packet_size: Option<NonZeroU32> as Option<NonZeroU32> = 0x27,
        /// Wildcard Subscription Available; absent means true (§3.2.2.3.11).
        wildcard_subscription_available: Option<bool> as Option<bool> = 0x28,
        /// Subscription Identifiers Available; absent means true (§3.2.2.3.12).
        subscription_identifiers_available: Option<bool> as Option<bool> = 0x29,
        /// Shared Subscription Available; absent means true (§3.2.2.3.13).
        shared_subscription_available: Option<bool> as Option<bool> = 0x2A,
    }
}

/// The identifier of Topic Alias (§3.3.2.3.4), which a PUBLISH keeps apart
/// from its other properties (see [`crate::v5_0::Publish::topic_alias`]).
pub(crate) const TOPIC_ALIAS: u8 = 0x23;

properties! {
    /// The properties of an Application Message (§3.3.2.3): what a PUBLISH
    /// carries from its publisher to its subscribers. PUBLISH adds the
    /// Subscription Identifiers and the Topic Alias of one delivery.
    pub struct MessageProperties, view MessagePropertiesView for Publish {
        /// Payload Format Indicator (§3.3.2.3.2), forwarded unaltered [MQTT-3.3.2-4].
        payload_format_indicator: Option<PayloadFormatIndicator> as Option<PayloadFormatIndicator> = 0x01,
        /// Message Expiry Interval in seconds (§3.3.2.3.3).
        message_expiry_interval: Option<u32> as Option<u32> = 0x02,
        /// Content Type (§3.3.2.3.9).
        content_type: Option<MqttString> as Option<&'a str> = 0x03,
        /// Response Topic: the Topic Name for a response, without wildcards
        /// [MQTT-3.3.2-14] (§3.3.2.3.5).
        response_topic: Option<TopicName> as Option<&'a str> = 0x08,
        /// Correlation Data, to match a response to its request (§3.3.2.3.6).
        correlation_data: Option<BinaryData> as Option<&'a [u8]> = 0x09,
        /// User Properties, in order [MQTT-3.3.2-18] (§3.3.2.3.7).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

properties! {
    /// PUBLISH Properties (§3.3.2.3), but Topic Alias, which the PUBLISH
    /// holds itself ([`crate::v5_0::Publish::topic_alias`]).
    pub struct PublishProperties, view PublishPropertiesView for Publish also(0x23: NonZeroU16) {
        /// Payload Format Indicator (§3.3.2.3.2), forwarded unaltered [MQTT-3.3.2-4].
        payload_format_indicator: Option<PayloadFormatIndicator> as Option<PayloadFormatIndicator> = 0x01,
        /// Message Expiry Interval in seconds (§3.3.2.3.3).
        message_expiry_interval: Option<u32> as Option<u32> = 0x02,
        /// Content Type (§3.3.2.3.9).
        content_type: Option<MqttString> as Option<&'a str> = 0x03,
        /// Response Topic: the Topic Name for a response, without wildcards
        /// [MQTT-3.3.2-14] (§3.3.2.3.5).
        response_topic: Option<TopicName> as Option<&'a str> = 0x08,
        /// Correlation Data, to match a response to its request (§3.3.2.3.6).
        correlation_data: Option<BinaryData> as Option<&'a [u8]> = 0x09,
        /// Subscription Identifiers of the subscriptions the message matched,
        /// sent by the Server only (§3.3.2.3.8).
        subscription_identifiers: Vec<SubscriptionIdentifier> as Values<'a, SubscriptionIdentifier> = 0x0B,
        /// User Properties, in order [MQTT-3.3.2-18] (§3.3.2.3.7).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

properties! {
    /// PUBACK Properties (§3.4.2.2).
    pub struct PubackProperties, view PubackPropertiesView for Puback {
        /// Reason String: diagnostics for humans (§3.4.2.2.2).
        reason_string: Option<MqttString> as Option<&'a str> = 0x1F,
        /// User Properties, in order (§3.4.2.2.3).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

properties! {
    /// PUBREC Properties (§3.5.2.2).
    pub struct PubrecProperties, view PubrecPropertiesView for Pubrec {
        /// Reason String: diagnostics for humans (§3.5.2.2.2).
        reason_string: Option<MqttString> as Option<&'a str> = 0x1F,
        /// User Properties, in order (§3.5.2.2.3).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

properties! {
    /// PUBREL Properties (§3.6.2.2).
    pub struct PubrelProperties, view PubrelPropertiesView for Pubrel {
        /// Reason String: diagnostics for humans (§3.6.2.2.2).
        reason_string: Option<MqttString> as Option<&'a str> = 0x1F,
        /// User Properties, in order (§3.6.2.2.3).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

properties! {
    /// PUBCOMP Properties (§3.7.2.2).
    pub struct PubcompProperties, view PubcompPropertiesView for Pubcomp {
        /// Reason String: diagnostics for humans (§3.7.2.2.2).
        reason_string: Option<MqttString> as Option<&'a str> = 0x1F,
        /// User Properties, in order (§3.7.2.2.3).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

properties! {
    /// SUBSCRIBE Properties (§3.8.2.1).
    pub struct SubscribeProperties, view SubscribePropertiesView for Subscribe {
        /// Subscription Identifier, at most once (§3.8.2.1.2).
        subscription_identifier: Option<SubscriptionIdentifier> as Option<SubscriptionIdentifier> = 0x0B,
        /// User Properties, in order (§3.8.2.1.3).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

properties! {
    /// SUBACK Properties (§3.9.2.1).
    pub struct SubackProperties, view SubackPropertiesView for Suback {
        /// Reason String: diagnostics for humans (§3.9.2.1.2).
        reason_string: Option<MqttString> as Option<&'a str> = 0x1F,
        /// User Properties, in order (§3.9.2.1.3).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

properties! {
    /// UNSUBSCRIBE Properties (§3.10.2.1).
    pub struct UnsubscribeProperties, view UnsubscribePropertiesView for Unsubscribe {
        /// User Properties, in order (§3.10.2.1.2).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

properties! {
    /// UNSUBACK Properties (§3.11.2.1).
    pub struct UnsubackProperties, view UnsubackPropertiesView for Unsuback {
        /// Reason String: diagnostics for humans (§3.11.2.1.2).
        reason_string: Option<MqttString> as Option<&'a str> = 0x1F,
        /// User Properties, in order (§3.11.2.1.3).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

properties! {
    /// DISCONNECT Properties (§3.14.2.2).
    pub struct DisconnectProperties, view DisconnectPropertiesView for Disconnect {
        /// Session Expiry Interval, sent by the Client only [MQTT-3.14.2-2]
        /// (§3.14.2.2.2).
        session_expiry_interval: Option<u32> as Option<u32> = 0x11,
        /// Server Reference: another Server to use (§3.14.2.2.5).
        server_reference: Option<MqttString> as Option<&'a str> = 0x1C,
        /// Reason String: diagnostics for humans (§3.14.2.2.3).
        reason_string: Option<MqttString> as Option<&'a str> = 0x1F,
        /// User Properties, in order (§3.14.2.2.4).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

properties! {
    /// AUTH Properties (§3.15.2.2).
    pub struct AuthProperties, view AuthPropertiesView for Auth where auth(authentication_method = 0x15, authentication_data = 0x16) {
        /// Authentication Method; an AUTH packet with properties must carry it
        /// (§3.15.2.2.2).
        authentication_method: Option<MqttString> as Option<&'a str> = 0x15,
        /// Authentication Data (§3.15.2.2.3).
        authentication_data: Option<BinaryData> as Option<&'a [u8]> = 0x16,
        /// Reason String: diagnostics for humans (§3.15.2.2.4).
        reason_string: Option<MqttString> as Option<&'a str> = 0x1F,
        /// User Properties, in order (§3.15.2.2.5).
        user_properties: Vec<UserProperty> as Values<'a, UserProperty> = 0x26,
    }
}

impl From<MessageProperties> for PublishProperties {
    fn from(m: MessageProperties) -> Self {
        PublishProperties {
            payload_format_indicator: m.payload_format_indicator,
            message_expiry_interval: m.message_expiry_interval,
            content_type: m.content_type,
            response_topic: m.response_topic,
            correlation_data: m.correlation_data,
            subscription_identifiers: Vec::new(),
            user_properties: m.user_properties,
        }
    }
}

/// Drops the Subscription Identifiers, which belong to one delivery.
impl From<PublishProperties> for MessageProperties {
    fn from(p: PublishProperties) -> Self {
        MessageProperties {
            payload_format_indicator: p.payload_format_indicator,
            message_expiry_interval: p.message_expiry_interval,
            content_type: p.content_type,
            response_topic: p.response_topic,
            correlation_data: p.correlation_data,
            user_properties: p.user_properties,
        }
    }
}
