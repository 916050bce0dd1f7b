//! The application messages the broker keeps and forwards, independent of
//! the MQTT version they arrived in (v5.0 §3.3, v3.1.1 §3.3).
//!
//! A [`Message`] is made once per received PUBLISH ([`Message::from_publish`])
//! or Will ([`Message::from_will`]) and turned into one PUBLISH per
//! subscriber with [`Message::to_publish`]. Its topic, payload and string
//! properties are reference-counted buffers, so both directions copy no bytes.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mqtt_codec::properties::{PayloadFormatIndicator, SubscriptionIdentifier, UserProperty};
use mqtt_codec::{
    v3_1_1, v5_0, BinaryData, GenericPacket, MqttString, ProtocolVersion, QoS, TopicName,
};

/// An application message as the broker keeps it, independent of the MQTT
/// version it arrived in.
#[derive(Debug, Clone)]
pub struct Message {
    /// The full Topic Name (aliases already resolved by the connection).
    pub topic: TopicName,
    /// The Application Message.
    pub payload: Bytes,
    /// The QoS it was published with.
    pub qos: QoS,
    /// The RETAIN flag it was published with.
    pub retain: bool,
    /// The v5.0 properties forwarded to subscribers.
    pub properties: MessageProperties,
    /// When the broker got it: the Message Expiry Interval counts from here.
    pub received: Instant,
}

/// The v5.0 PUBLISH (or Will) properties a broker forwards to subscribers
/// unaltered [MQTT-3.3.2-4], [MQTT-3.3.2-15], [MQTT-3.3.2-16],
/// [MQTT-3.3.2-17], [MQTT-3.3.2-20]; the Message Expiry Interval is forwarded
/// as what is left of it [MQTT-3.3.2-6]. Empty for a v3.1.1 message.
#[derive(Debug, Clone, Default)]
pub struct MessageProperties {
    /// Payload Format Indicator (§3.3.2.3.2).
    pub payload_format_indicator: Option<PayloadFormatIndicator>,
    /// Message Expiry Interval in seconds, counted from [`Message::received`]
    /// (§3.3.2.3.3).
    pub message_expiry_interval: Option<u32>,
    /// Content Type (§3.3.2.3.9).
    pub content_type: Option<MqttString>,
    /// Response Topic (§3.3.2.3.5).
    pub response_topic: Option<TopicName>,
    /// Correlation Data (§3.3.2.3.6).
    pub correlation_data: Option<Bytes>,
    /// User Properties as (name, value), in the order they came in
    /// [MQTT-3.3.2-18].
    pub user_properties: Vec<(MqttString, MqttString)>,
}

/// The [`MessageProperties`] of PUBLISH or Will Properties `$p`: the two
/// codec types carry them under the same field names.
macro_rules! message_properties {
    ($p:expr) => {
        MessageProperties {
            payload_format_indicator: $p.payload_format_indicator,
            message_expiry_interval: $p.message_expiry_interval,
            content_type: $p.content_type.clone(),
            response_topic: $p.response_topic.clone(),
            correlation_data: $p.correlation_data.as_ref().map(|d| d.clone().into_bytes()),
            user_properties: pairs(&$p.user_properties),
        }
    };
}

impl MessageProperties {
    fn from_publish(p: &v5_0::PublishProperties) -> Self {
        message_properties!(p)
    }

    fn from_will(p: &v5_0::WillProperties) -> Self {
        message_properties!(p)
    }
}

fn pairs(user_properties: &[UserProperty]) -> Vec<(MqttString, MqttString)> {
    user_properties
        .iter()
        .map(|u| (u.name.clone(), u.value.clone()))
        .collect()
}

impl Message {
    /// The message of a received PUBLISH (either version), stamped with
    /// `received`; `None` for any other packet, and for a v5.0 PUBLISH whose
    /// Topic Name is still empty (a Topic Alias the connection did not
    /// resolve, §3.3.2.3.4).
    ///
    /// The Topic Alias and any Subscription Identifiers are not kept: they
    /// belong to one connection.
    pub fn from_publish(packet: &GenericPacket<u16>, received: Instant) -> Option<Message> {
        match packet {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => Some(Message {
                topic: p.to_topic_name(),
                payload: p.payload_bytes(),
                qos: p.qos(),
                retain: p.retain(),
                properties: MessageProperties::default(),
                received,
            }),
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) if !p.topic_name().is_empty() => {
                Some(Message {
                    topic: p.to_topic_name(),
                    payload: p.payload_bytes(),
                    qos: p.qos(),
                    retain: p.retain(),
                    properties: MessageProperties::from_publish(p.properties()),
                    received,
                })
            }
            _ => None,
        }
    }

    /// The Will Message of a CONNECT (either version), if it has one, with
    /// its v5.0 Will Delay Interval in seconds (0 when absent, and always on
    /// v3.1.1) (v5.0 §3.1.3.2.2, §3.1.2.5). `None` for a CONNECT without a
    /// Will and for any other packet.
    pub fn from_will(connect: &GenericPacket<u16>, received: Instant) -> Option<(Message, u32)> {
        match connect {
            GenericPacket::V3_1_1(v3_1_1::Packet::Connect(c)) => {
                let will = c.will()?;
                let message = Message {
                    topic: will.topic().clone(),
                    payload: will.message().clone().into_bytes(),
                    qos: will.qos(),
                    retain: will.retain(),
                    properties: MessageProperties::default(),
                    received,
                };
                Some((message, 0))
            }
            GenericPacket::V5_0(v5_0::Packet::Connect(c)) => {
                let will = c.will()?;
                let message = Message {
                    topic: will.topic().clone(),
                    payload: will.payload().clone().into_bytes(),
                    qos: will.qos(),
                    retain: will.retain(),
                    properties: MessageProperties::from_will(will.properties()),
                    received,
                };
                let delay = will.properties().will_delay_interval.unwrap_or(0);
                Some((message, delay))
            }
            _ => None,
        }
    }

    /// Whether its Message Expiry Interval has passed at `now`: the broker
    /// then deletes it instead of delivering it [MQTT-3.3.2-5]. A message
    /// without an interval never expires.
    pub fn is_expired(&self, now: Instant) -> bool {
        match self.properties.message_expiry_interval {
            None => false,
            Some(interval) => {
                now.saturating_duration_since(self.received) >= Duration::from_secs(interval.into())
            }
        }
    }

    /// The Message Expiry Interval left at `now`, in seconds, to forward
    /// [MQTT-3.3.2-6]; `None` without expiry. It is rounded up, so a message
    /// that has not expired never gets 0 (which a receiver would read as
    /// "expires now"); an expired one gets `Some(0)`.
    pub fn remaining_expiry(&self, now: Instant) -> Option<u32> {
        let interval = Duration::from_secs(self.properties.message_expiry_interval?.into());
        let waited = now.saturating_duration_since(self.received);
        let left = interval.saturating_sub(waited);
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        Some(u32::try_from(secs).unwrap_or(u32::MAX))
    }

    /// Whether the payload is what its Payload Format Indicator says: a
    /// payload marked as UTF-8 must be well-formed UTF-8 (§3.3.2.3.2). The
    /// broker may refuse a message that is not with Reason Code 0x99
    /// (§4.13); [`Message::to_publish`] forwards it without the indicator.
    pub fn payload_format_is_valid(&self) -> bool {
        self.properties.payload_format_indicator != Some(PayloadFormatIndicator::Utf8)
            || std::str::from_utf8(&self.payload).is_ok()
    }

    /// The PUBLISH that delivers it to a subscriber of `version`.
    ///
    /// Call once per subscriber with what the subscription decided: `qos`
    /// (the granted QoS, already lowered to the message's, §3.8.4), `retain`
    /// (the RETAIN flag to send, [MQTT-3.3.1-12], [MQTT-3.3.1-13]) and the
    /// `subscription_ids` of the matching subscriptions (v5.0 only,
    /// [MQTT-3.3.4-3]; 0 and values over 268,435,455 are left out). The
    /// Message Expiry Interval is what is left at `now` [MQTT-3.3.2-6]; the
    /// other properties are forwarded unaltered [MQTT-3.3.2-4],
    /// [MQTT-3.3.2-15], [MQTT-3.3.2-16], [MQTT-3.3.2-17], [MQTT-3.3.2-20].
    /// No Topic Alias: the connection maps aliases itself. DUP is 0. A QoS > 0
    /// PUBLISH carries packet identifier 1 as a placeholder that the
    /// connection replaces. A v3.1.1 subscriber gets no properties.
    ///
    /// Never fails: a payload marked as UTF-8 that is not (see
    /// [`Message::payload_format_is_valid`]) is sent without the indicator.
    /// Only a `Message` built by hand with an empty topic cannot be sent; it
    /// yields a PINGRESP, which a subscriber ignores.
    pub fn to_publish(
        &self,
        version: ProtocolVersion,
        qos: QoS,
        retain: bool,
        subscription_ids: &[u32],
        now: Instant,
    ) -> GenericPacket<u16> {
        let built = match version {
            ProtocolVersion::V3_1_1 => self.to_v3(qos, retain).map(GenericPacket::from),
            ProtocolVersion::V5_0 => self
                .to_v5(qos, retain, subscription_ids, now)
                .map(GenericPacket::from),
        };
        built.unwrap_or(match version {
            ProtocolVersion::V3_1_1 => v3_1_1::Packet::Pingresp(v3_1_1::Pingresp).into(),
            ProtocolVersion::V5_0 => v5_0::Packet::Pingresp(v5_0::Pingresp).into(),
        })
    }

    fn to_v3(&self, qos: QoS, retain: bool) -> Result<v3_1_1::Packet<u16>, mqtt_codec::BuildError> {
        let mut b = v3_1_1::Publish::<u16>::builder();
        b.topic_name(self.topic.clone())
            .qos(qos)
            .retain(retain)
            .payload(self.payload.clone());
        if qos != QoS::AtMostOnce {
            b.packet_id(1);
        }
        Ok(v3_1_1::Packet::Publish(b.build()?))
    }

    fn to_v5(
        &self,
        qos: QoS,
        retain: bool,
        subscription_ids: &[u32],
        now: Instant,
    ) -> Result<v5_0::Packet<u16>, mqtt_codec::BuildError> {
        let p = &self.properties;
        let mut properties = v5_0::PublishProperties {
            payload_format_indicator: p.payload_format_indicator,
            message_expiry_interval: self.remaining_expiry(now),
            content_type: p.content_type.clone(),
            // An empty Response Topic cannot be sent [MQTT-4.7.3-1]; only a
            // hand-built message can hold one.
            response_topic: p.response_topic.clone().filter(|t| !t.is_empty()),
            correlation_data: p
                .correlation_data
                .as_ref()
                .and_then(|d| BinaryData::from_bytes(d.clone()).ok()),
            subscription_identifiers: subscription_ids
                .iter()
                .filter_map(|&id| SubscriptionIdentifier::new(id))
                .collect(),
            topic_alias: None,
            user_properties: p
                .user_properties
                .iter()
                .map(|(name, value)| UserProperty {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
        };
        if !self.payload_format_is_valid() {
            properties.payload_format_indicator = None;
        }
        let mut b = v5_0::Publish::<u16>::builder();
        b.topic_name(self.topic.clone())
            .qos(qos)
            .retain(retain)
            .properties(properties)
            .payload(self.payload.clone());
        if qos != QoS::AtMostOnce {
            b.packet_id(1);
        }
        Ok(v5_0::Packet::Publish(b.build()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(s: &str) -> TopicName {
        TopicName::new(s).unwrap()
    }

    fn s(v: &str) -> MqttString {
        MqttString::try_from(v).unwrap()
    }

    fn v5_publish(properties: v5_0::PublishProperties) -> GenericPacket<u16> {
        let mut b = v5_0::Publish::<u16>::builder();
        b.topic_name(topic("a/b"))
            .qos(QoS::ExactlyOnce)
            .packet_id(9)
            .retain(true)
            .properties(properties)
            .payload(Bytes::from_static(b"hi"));
        v5_0::Packet::Publish(b.build().unwrap()).into()
    }

    fn full_properties() -> v5_0::PublishProperties {
        v5_0::PublishProperties {
            payload_format_indicator: Some(PayloadFormatIndicator::Utf8),
            message_expiry_interval: Some(60),
            content_type: Some(s("text/plain")),
            response_topic: Some(topic("reply/here")),
            correlation_data: Some(
                BinaryData::from_bytes(Bytes::from_static(b"\x01\x02")).unwrap(),
            ),
            subscription_identifiers: vec![SubscriptionIdentifier::new(4).unwrap()],
            topic_alias: std::num::NonZeroU16::new(3),
            user_properties: vec![
                UserProperty::new("k", "1").unwrap(),
                UserProperty::new("a", "2").unwrap(),
                UserProperty::new("k", "3").unwrap(),
            ],
        }
    }

    fn v5_of(packet: GenericPacket<u16>) -> v5_0::Publish<u16> {
        match packet {
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => p,
            other => panic!("not a v5.0 PUBLISH: {other:?}"),
        }
    }

    fn v3_of(packet: GenericPacket<u16>) -> v3_1_1::Publish<u16> {
        match packet {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => p,
            other => panic!("not a v3.1.1 PUBLISH: {other:?}"),
        }
    }

    fn message(expiry: Option<u32>, received: Instant) -> Message {
        Message {
            topic: topic("a/b"),
            payload: Bytes::from_static(b"hi"),
            qos: QoS::ExactlyOnce,
            retain: true,
            properties: MessageProperties {
                message_expiry_interval: expiry,
                ..Default::default()
            },
            received,
        }
    }

    #[test]
    fn from_publish_v3() {
        let now = Instant::now();
        let mut b = v3_1_1::Publish::<u16>::builder();
        b.topic_name(topic("x/y"))
            .qos(QoS::AtLeastOnce)
            .packet_id(5)
            .retain(true)
            .payload(Bytes::from_static(b"p"));
        let packet = v3_1_1::Packet::Publish(b.build().unwrap()).into();
        let m = Message::from_publish(&packet, now).unwrap();
        assert_eq!(m.topic, "x/y");
        assert_eq!(&m.payload[..], b"p");
        assert_eq!(m.qos, QoS::AtLeastOnce);
        assert!(m.retain);
        assert_eq!(m.received, now);
        assert!(m.properties.user_properties.is_empty());
        assert_eq!(m.properties.message_expiry_interval, None);
    }

    /// The properties a server forwards are kept, the per-connection ones
    /// (Topic Alias, Subscription Identifiers) are not.
    #[test]
    fn from_publish_v5() {
        let now = Instant::now();
        let m = Message::from_publish(&v5_publish(full_properties()), now).unwrap();
        assert_eq!(m.topic, "a/b");
        assert_eq!(m.qos, QoS::ExactlyOnce);
        assert!(m.retain);
        let p = &m.properties;
        assert_eq!(
            p.payload_format_indicator,
            Some(PayloadFormatIndicator::Utf8)
        );
        assert_eq!(p.message_expiry_interval, Some(60));
        assert_eq!(p.content_type.as_ref().unwrap(), "text/plain");
        assert_eq!(p.response_topic.as_ref().unwrap(), "reply/here");
        assert_eq!(&p.correlation_data.as_ref().unwrap()[..], b"\x01\x02");
        let users: Vec<_> = p
            .user_properties
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(users, [("k", "1"), ("a", "2"), ("k", "3")]);
    }

    /// Other packets, and a PUBLISH whose alias was not resolved, are no message.
    #[test]
    fn from_publish_refuses_other_packets() {
        let now = Instant::now();
        let ping: GenericPacket<u16> = v5_0::Packet::Pingresp(v5_0::Pingresp).into();
        assert!(Message::from_publish(&ping, now).is_none());
        let unresolved = v5_0::Publish::<u16>::builder()
            .topic_name(TopicName::empty())
            .properties(v5_0::PublishProperties {
                topic_alias: std::num::NonZeroU16::new(1),
                ..Default::default()
            })
            .build()
            .unwrap();
        let unresolved = v5_0::Packet::Publish(unresolved).into();
        assert!(Message::from_publish(&unresolved, now).is_none());
    }

    #[test]
    fn from_will_v3() {
        let now = Instant::now();
        let will = v3_1_1::Will::builder()
            .try_topic("c/status")
            .unwrap()
            .try_message(&b"gone"[..])
            .unwrap()
            .qos(QoS::AtLeastOnce)
            .retain(true)
            .build()
            .unwrap();
        let connect = v3_1_1::Connect::builder()
            .try_client_id("c")
            .unwrap()
            .will(will)
            .build()
            .unwrap();
        let (m, delay) = Message::from_will(&v3_1_1::Packet::from(connect).into(), now).unwrap();
        assert_eq!(delay, 0);
        assert_eq!(m.topic, "c/status");
        assert_eq!(&m.payload[..], b"gone");
        assert_eq!(m.qos, QoS::AtLeastOnce);
        assert!(m.retain);

        let no_will = v3_1_1::Connect::builder()
            .try_client_id("c")
            .unwrap()
            .build()
            .unwrap();
        assert!(Message::from_will(&v3_1_1::Packet::from(no_will).into(), now).is_none());
    }

    /// The Will Properties become the message's and the Will Delay Interval
    /// is returned (v5.0 §3.1.3.2).
    #[test]
    fn from_will_v5() {
        let now = Instant::now();
        let will = v5_0::Will::builder()
            .try_topic("c/status")
            .unwrap()
            .try_payload(&b"gone"[..])
            .unwrap()
            .qos(QoS::ExactlyOnce)
            .properties(v5_0::WillProperties {
                will_delay_interval: Some(30),
                message_expiry_interval: Some(100),
                content_type: Some(s("text/plain")),
                user_properties: vec![UserProperty::new("u", "v").unwrap()],
                ..Default::default()
            })
            .build()
            .unwrap();
        let connect = v5_0::Connect::builder()
            .try_client_id("c")
            .unwrap()
            .will(Box::new(will))
            .build()
            .unwrap();
        let (m, delay) = Message::from_will(&v5_0::Packet::from(connect).into(), now).unwrap();
        assert_eq!(delay, 30);
        assert_eq!(m.topic, "c/status");
        assert_eq!(&m.payload[..], b"gone");
        assert_eq!(m.qos, QoS::ExactlyOnce);
        assert!(!m.retain);
        assert_eq!(m.properties.message_expiry_interval, Some(100));
        assert_eq!(m.properties.content_type.as_ref().unwrap(), "text/plain");
        assert_eq!(m.properties.user_properties.len(), 1);

        let no_will = v5_0::Connect::builder()
            .try_client_id("c")
            .unwrap()
            .build()
            .unwrap();
        assert!(Message::from_will(&v5_0::Packet::from(no_will).into(), now).is_none());
        assert!(Message::from_will(&v5_publish(Default::default()), now).is_none());
    }

    /// [MQTT-3.3.2-5] a message expires once its interval has passed; one
    /// without an interval never does.
    #[test]
    fn expiry() {
        let t0 = Instant::now();
        let m = message(Some(10), t0);
        assert!(!m.is_expired(t0));
        assert!(!m.is_expired(t0 + Duration::from_millis(9_999)));
        assert!(m.is_expired(t0 + Duration::from_secs(10)));
        assert!(m.is_expired(t0 + Duration::from_secs(1_000)));
        let forever = message(None, t0);
        assert!(!forever.is_expired(t0 + Duration::from_secs(1_000_000)));
        assert_eq!(forever.remaining_expiry(t0), None);
        // A `now` before `received` (clock races between threads) is "no time passed".
        assert!(!message(Some(5), t0 + Duration::from_secs(1)).is_expired(t0));
    }

    /// [MQTT-3.3.2-6] the interval left, rounded up so that a live message
    /// never gets 0.
    #[test]
    fn remaining_expiry() {
        let t0 = Instant::now();
        let m = message(Some(10), t0);
        assert_eq!(m.remaining_expiry(t0), Some(10));
        assert_eq!(
            m.remaining_expiry(t0 + Duration::from_millis(500)),
            Some(10)
        );
        assert_eq!(m.remaining_expiry(t0 + Duration::from_secs(4)), Some(6));
        assert_eq!(
            m.remaining_expiry(t0 + Duration::from_millis(9_999)),
            Some(1)
        );
        assert_eq!(m.remaining_expiry(t0 + Duration::from_secs(11)), Some(0));
        let max = message(Some(u32::MAX), t0);
        assert_eq!(max.remaining_expiry(t0), Some(u32::MAX));
    }

    /// A v3.1.1 subscriber gets the topic, payload, QoS and RETAIN asked
    /// for, a placeholder packet identifier on QoS > 0, and no properties.
    #[test]
    fn to_publish_v3() {
        let now = Instant::now();
        let m = Message::from_publish(&v5_publish(full_properties()), now).unwrap();
        let p = v3_of(m.to_publish(ProtocolVersion::V3_1_1, QoS::AtLeastOnce, false, &[1], now));
        assert_eq!(p.topic_name(), "a/b");
        assert_eq!(p.payload(), b"hi");
        assert_eq!(p.qos(), QoS::AtLeastOnce);
        assert!(!p.retain());
        assert!(!p.dup());
        assert_eq!(p.packet_id(), Some(1));
        let p = v3_of(m.to_publish(ProtocolVersion::V3_1_1, QoS::AtMostOnce, true, &[], now));
        assert_eq!(p.qos(), QoS::AtMostOnce);
        assert!(p.retain());
        assert_eq!(p.packet_id(), None);
    }

    /// [MQTT-3.3.2-4], [MQTT-3.3.2-15], [MQTT-3.3.2-16], [MQTT-3.3.2-17],
    /// [MQTT-3.3.2-18], [MQTT-3.3.2-20] properties forwarded unaltered;
    /// [MQTT-3.3.2-6] the expiry left; [MQTT-3.3.4-3] the subscription
    /// identifiers; no Topic Alias.
    #[test]
    fn to_publish_v5_forwards_properties() {
        let t0 = Instant::now();
        let m = Message::from_publish(&v5_publish(full_properties()), t0).unwrap();
        let later = t0 + Duration::from_secs(15);
        let p = v5_of(m.to_publish(
            ProtocolVersion::V5_0,
            QoS::ExactlyOnce,
            true,
            &[7, 3],
            later,
        ));
        assert_eq!(p.topic_name(), "a/b");
        assert_eq!(p.payload(), b"hi");
        assert_eq!(p.qos(), QoS::ExactlyOnce);
        assert!(p.retain());
        assert_eq!(p.packet_id(), Some(1));
        let mut expected = full_properties();
        expected.message_expiry_interval = Some(45);
        expected.topic_alias = None;
        expected.subscription_identifiers = vec![
            SubscriptionIdentifier::new(7).unwrap(),
            SubscriptionIdentifier::new(3).unwrap(),
        ];
        assert_eq!(p.properties(), &expected);
        // The payload is shared, not copied.
        assert_eq!(p.payload().as_ptr(), m.payload.as_ptr());
    }

    /// QoS downgrade and RETAIN as the caller decides ([MQTT-3.3.1-12]);
    /// invalid subscription identifiers are left out.
    #[test]
    fn to_publish_v5_qos_and_retain() {
        let now = Instant::now();
        let m = message(None, now);
        let p = v5_of(m.to_publish(ProtocolVersion::V5_0, QoS::AtMostOnce, false, &[0], now));
        assert_eq!(p.qos(), QoS::AtMostOnce);
        assert!(!p.retain());
        assert_eq!(p.packet_id(), None);
        assert!(p.properties().is_empty());
        let p = v5_of(m.to_publish(ProtocolVersion::V5_0, QoS::AtLeastOnce, true, &[], now));
        assert_eq!(p.qos(), QoS::AtLeastOnce);
        assert!(p.retain());
        assert_eq!(p.properties().message_expiry_interval, None);
    }

    /// A payload wrongly marked as UTF-8 (which decoding lets through) is
    /// still delivered, without the indicator.
    #[test]
    fn to_publish_invalid_utf8_payload() {
        let now = Instant::now();
        let mut m = message(None, now);
        m.payload = Bytes::from_static(&[0xFF, 0xFE]);
        m.properties.payload_format_indicator = Some(PayloadFormatIndicator::Utf8);
        assert!(!m.payload_format_is_valid());
        let p = v5_of(m.to_publish(ProtocolVersion::V5_0, QoS::AtMostOnce, false, &[], now));
        assert_eq!(p.properties().payload_format_indicator, None);
        assert_eq!(p.payload(), &[0xFF, 0xFE]);
    }

    /// A hand-built message with an empty topic yields no PUBLISH, and no panic.
    #[test]
    fn to_publish_empty_topic_does_not_panic() {
        let now = Instant::now();
        let mut m = message(None, now);
        m.topic = TopicName::empty();
        for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0] {
            let packet = m.to_publish(version, QoS::AtMostOnce, false, &[], now);
            assert!(Message::from_publish(&packet, now).is_none());
        }
    }
}
