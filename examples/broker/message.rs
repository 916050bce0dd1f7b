//! The application messages the broker keeps and forwards, independent of
//! the MQTT version they arrived in (v5.0 §3.3, v3.1.1 §3.3).
//!
//! A [`StoredMessage`] is the codec's [`Message`] with the time the broker
//! got it. It is made once per received PUBLISH
//! ([`StoredMessage::from_publish`]) or Will ([`StoredMessage::from_will`])
//! and turned into one [`Message`] per subscriber with
//! [`StoredMessage::delivery`], which the subscriber's connection numbers
//! and writes in its own version. The message shares the received packet's
//! buffers: receiving copies nothing, and a delivery copies no topic or
//! payload (only the property block, when the expiry left or Subscription
//! Identifiers change it).

use std::time::{Duration, Instant};

use mqtt_codec::properties::{PayloadFormatIndicator, SubscriptionIdentifier};
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, Message, MessageProperties, QoS};

/// An application message as the broker keeps it: the codec [`Message`]
/// (Topic Name, payload, QoS, RETAIN, v5.0 message properties; empty
/// properties for a v3.1.1 message) and when the broker got it.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    message: Message,
    /// When the broker got it: the Message Expiry Interval counts from here.
    pub received: Instant,
}

impl StoredMessage {
    /// Keeps `message`, received at `received`. A payload marked as UTF-8
    /// that is not (§3.3.2.3.2, which decoding lets through) loses the
    /// indicator here, once: the broker may refuse such a message with
    /// Reason Code 0x99 (§4.13); this one forwards it without the
    /// indicator. `message` has a Topic Name (see [`from_publish`](Self::from_publish)).
    pub fn new(message: Message, received: Instant) -> StoredMessage {
        let message = if payload_format_is_valid(
            message.properties().payload_format_indicator(),
            message.payload(),
        ) {
            message
        } else {
            without_format_indicator(message)
        };
        StoredMessage { message, received }
    }

    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The message, to lower its QoS or clear RETAIN where the Server
    /// cannot honour them (a v3.1.1 Will, connect.rs).
    pub fn message_mut(&mut self) -> &mut Message {
        &mut self.message
    }

    /// The message of a received PUBLISH (either version), stamped with
    /// `received`; `None` for any other packet, and for a v5.0 PUBLISH whose
    /// Topic Name is still empty (a Topic Alias the connection did not
    /// resolve, §3.3.2.3.4).
    ///
    /// The Topic Alias and any Subscription Identifiers are not kept: they
    /// belong to one connection.
    pub fn from_publish(packet: GenericPacket<u16>, received: Instant) -> Option<StoredMessage> {
        let message = match packet {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => p.into_message(),
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) if !p.topic_name().is_empty() => {
                p.into_message()
            }
            _ => return None,
        };
        Some(StoredMessage::new(message, received))
    }

    /// The Will Message of a CONNECT (either version), if it has one, with
    /// its v5.0 Will Delay Interval in seconds (0 when absent, and always on
    /// v3.1.1) (v5.0 §3.1.3.2.2, §3.1.2.5). `None` for a CONNECT without a
    /// Will and for any other packet.
    ///
    /// The Will Properties but the Will Delay Interval become the message's
    /// properties (copied: wills are rare), forwarded as a PUBLISH's are.
    pub fn from_will(
        connect: &GenericPacket<u16>,
        received: Instant,
    ) -> Option<(StoredMessage, u32)> {
        let (will, delay) = match connect {
            GenericPacket::V3_1_1(v3_1_1::Packet::Connect(c)) => {
                let will = c.will()?;
                let message = Message::builder()
                    .topic_name(will.topic().clone())
                    .qos(will.qos())
                    .retain(will.retain())
                    .payload(will.message().clone().into_bytes());
                (message, 0)
            }
            GenericPacket::V5_0(v5_0::Packet::Connect(c)) => {
                let will = c.will()?;
                let p = will.properties();
                let payload = will.payload().clone().into_bytes();
                let properties = MessageProperties {
                    payload_format_indicator: p
                        .payload_format_indicator
                        .filter(|_| payload_format_is_valid(p.payload_format_indicator, &payload)),
                    message_expiry_interval: p.message_expiry_interval,
                    content_type: p.content_type.clone(),
                    response_topic: p.response_topic.clone(),
                    correlation_data: p.correlation_data.clone(),
                    user_properties: p.user_properties.clone(),
                };
                let message = Message::builder()
                    .topic_name(will.topic().clone())
                    .qos(will.qos())
                    .retain(will.retain())
                    .properties(properties)
                    .payload(payload);
                (message, p.will_delay_interval.unwrap_or(0))
            }
            _ => return None,
        };
        // Only an empty Will Topic fails [MQTT-4.7.3-1]: no Will then.
        let message = will.build().ok()?;
        Some((StoredMessage::new(message, received), delay))
    }

    /// Whether its Message Expiry Interval has passed at `now`: the broker
    /// then deletes it instead of delivering it [MQTT-3.3.2-5]. A message
    /// without an interval never expires.
    pub fn is_expired(&self, now: Instant) -> bool {
        match self.message.properties().message_expiry_interval() {
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
        let interval = self.message.properties().message_expiry_interval()?;
        let waited = now.saturating_duration_since(self.received);
        let left = Duration::from_secs(interval.into()).saturating_sub(waited);
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        Some(u32::try_from(secs).unwrap_or(u32::MAX))
    }

    /// The message that delivers it to one subscriber, for its connection
    /// to publish (which numbers it at QoS 1 and 2, maps a Topic Alias, and
    /// drops the properties on v3.1.1).
    ///
    /// Call once per subscriber with what the subscription decided: `qos`
    /// (the granted QoS, already lowered to the message's, §3.8.4), `retain`
    /// (the RETAIN flag to send, [MQTT-3.3.1-12], [MQTT-3.3.1-13]) and the
    /// `subscription_ids` of the matching subscriptions ([MQTT-3.3.4-3]; 0
    /// and values over 268,435,455 are left out). The Message Expiry
    /// Interval is what is left at `now` [MQTT-3.3.2-6]; the other
    /// properties are forwarded unaltered [MQTT-3.3.2-4], [MQTT-3.3.2-15],
    /// [MQTT-3.3.2-16], [MQTT-3.3.2-17], [MQTT-3.3.2-20].
    ///
    /// Copies no topic or payload; writes a new property block only when
    /// the message has an expiry or the delivery has Subscription
    /// Identifiers.
    pub fn delivery(
        &self,
        qos: QoS,
        retain: bool,
        subscription_ids: &[u32],
        now: Instant,
    ) -> Message {
        let mut message = self.message.clone();
        message.set_qos(qos);
        message.set_retain(retain);
        if let Some(left) = self.remaining_expiry(now) {
            message.set_message_expiry_interval(Some(left));
        }
        let ids: Vec<_> = subscription_ids
            .iter()
            .filter_map(|&id| SubscriptionIdentifier::new(id))
            .collect();
        message.set_subscription_identifiers(&ids);
        message
    }
}

/// Whether a payload is what its Payload Format Indicator says: one marked
/// as UTF-8 must be well-formed UTF-8 (§3.3.2.3.2).
fn payload_format_is_valid(indicator: Option<PayloadFormatIndicator>, payload: &[u8]) -> bool {
    indicator != Some(PayloadFormatIndicator::Utf8) || std::str::from_utf8(payload).is_ok()
}

/// `message` without its Payload Format Indicator; the Topic Name and
/// payload are shared, not copied.
fn without_format_indicator(message: Message) -> Message {
    let mut properties = message.properties().to_owned();
    properties.payload_format_indicator = None;
    let rebuilt = Message::builder()
        .topic_name(message.to_topic_name())
        .qos(message.qos())
        .retain(message.retain())
        .properties(properties)
        .payload(message.payload_bytes())
        .build();
    // Cannot fail: the same Topic Name and checked properties, one fewer.
    rebuilt.unwrap_or(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{Bytes, BytesMut};
    use mqtt_codec::properties::UserProperty;
    use mqtt_codec::{BinaryData, Decoder, MqttString, ProtocolVersion, TopicName};
    use std::num::NonZeroU16;

    fn topic(s: &str) -> TopicName {
        TopicName::new(s).unwrap()
    }

    fn s(v: &str) -> MqttString {
        MqttString::try_from(v).unwrap()
    }

    fn v5_publish(properties: v5_0::PublishProperties) -> GenericPacket<u16> {
        let publish = v5_0::Publish::<u16>::builder()
            .topic_name(topic("a/b"))
            .qos(QoS::ExactlyOnce)
            .packet_id(9)
            .retain(true)
            .topic_alias(NonZeroU16::new(3).unwrap())
            .properties(properties)
            .payload(Bytes::from_static(b"hi"))
            .build()
            .unwrap();
        v5_0::Packet::Publish(publish).into()
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
            user_properties: vec![
                UserProperty::new("k", "1").unwrap(),
                UserProperty::new("a", "2").unwrap(),
                UserProperty::new("k", "3").unwrap(),
            ],
        }
    }

    /// The one packet of `bytes`, decoded as `version`.
    fn decode(version: ProtocolVersion, bytes: &[u8]) -> GenericPacket<u16> {
        let mut buf = BytesMut::from(bytes);
        let packet = Decoder::<u16>::new(version).decode(&mut buf).unwrap();
        assert!(buf.is_empty());
        packet.unwrap()
    }

    fn v5_of(packet: GenericPacket<u16>) -> v5_0::Publish<u16> {
        match packet {
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => p,
            other => panic!("not a v5.0 PUBLISH: {other:?}"),
        }
    }

    fn message(expiry: Option<u32>, received: Instant) -> StoredMessage {
        let message = Message::builder()
            .topic_name(topic("a/b"))
            .qos(QoS::ExactlyOnce)
            .retain(true)
            .properties(MessageProperties {
                message_expiry_interval: expiry,
                ..Default::default()
            })
            .payload(Bytes::from_static(b"hi"))
            .build()
            .unwrap();
        StoredMessage::new(message, received)
    }

    #[test]
    fn from_publish_v3() {
        let now = Instant::now();
        let publish = v3_1_1::Publish::<u16>::builder()
            .topic_name(topic("x/y"))
            .qos(QoS::AtLeastOnce)
            .packet_id(5)
            .retain(true)
            .payload(Bytes::from_static(b"p"))
            .build()
            .unwrap();
        let packet = v3_1_1::Packet::Publish(publish).into();
        let stored = StoredMessage::from_publish(packet, now).unwrap();
        let m = stored.message();
        assert_eq!(m.topic_name(), "x/y");
        assert_eq!(m.payload(), b"p");
        assert_eq!(m.qos(), QoS::AtLeastOnce);
        assert!(m.retain());
        assert_eq!(stored.received, now);
        assert!(m.properties().is_empty());
    }

    /// The properties a server forwards are kept, the per-connection ones
    /// (Topic Alias, Subscription Identifiers) are not; the payload is
    /// shared with the received packet, not copied.
    #[test]
    fn from_publish_v5() {
        let now = Instant::now();
        let packet = v5_publish(full_properties());
        let payload = v5_of(packet.clone()).payload().as_ptr();
        let stored = StoredMessage::from_publish(packet, now).unwrap();
        let m = stored.message();
        assert_eq!(m.topic_name(), "a/b");
        assert_eq!(m.qos(), QoS::ExactlyOnce);
        assert!(m.retain());
        assert_eq!(m.payload().as_ptr(), payload);
        assert_eq!(
            m.properties().to_owned(),
            MessageProperties::from(full_properties())
        );
        let users: Vec<_> = m.properties().user_properties().collect();
        assert_eq!(users, [("k", "1"), ("a", "2"), ("k", "3")]);
    }

    /// Other packets, and a PUBLISH whose alias was not resolved, are no message.
    #[test]
    fn from_publish_refuses_other_packets() {
        let now = Instant::now();
        let ping: GenericPacket<u16> = v5_0::Packet::Pingresp(v5_0::Pingresp).into();
        assert!(StoredMessage::from_publish(ping, now).is_none());
        let unresolved = v5_0::Publish::<u16>::builder()
            .topic_name(TopicName::empty())
            .topic_alias(NonZeroU16::new(1).unwrap())
            .build()
            .unwrap();
        let unresolved = v5_0::Packet::Publish(unresolved).into();
        assert!(StoredMessage::from_publish(unresolved, now).is_none());
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
        let (stored, delay) =
            StoredMessage::from_will(&v3_1_1::Packet::from(connect).into(), now).unwrap();
        assert_eq!(delay, 0);
        let m = stored.message();
        assert_eq!(m.topic_name(), "c/status");
        assert_eq!(m.payload(), b"gone");
        assert_eq!(m.qos(), QoS::AtLeastOnce);
        assert!(m.retain());

        let no_will = v3_1_1::Connect::builder()
            .try_client_id("c")
            .unwrap()
            .build()
            .unwrap();
        assert!(StoredMessage::from_will(&v3_1_1::Packet::from(no_will).into(), now).is_none());
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
        let (stored, delay) =
            StoredMessage::from_will(&v5_0::Packet::from(connect).into(), now).unwrap();
        assert_eq!(delay, 30);
        let m = stored.message();
        assert_eq!(m.topic_name(), "c/status");
        assert_eq!(m.payload(), b"gone");
        assert_eq!(m.qos(), QoS::ExactlyOnce);
        assert!(!m.retain());
        assert_eq!(
            m.properties().to_owned(),
            MessageProperties {
                message_expiry_interval: Some(100),
                content_type: Some(s("text/plain")),
                user_properties: vec![UserProperty::new("u", "v").unwrap()],
                ..Default::default()
            }
        );

        let no_will = v5_0::Connect::builder()
            .try_client_id("c")
            .unwrap()
            .build()
            .unwrap();
        assert!(StoredMessage::from_will(&v5_0::Packet::from(no_will).into(), now).is_none());
        assert!(StoredMessage::from_will(&v5_publish(Default::default()), now).is_none());
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

    /// A delivery has the topic, payload, QoS and RETAIN asked for; a
    /// v3.1.1 subscriber's connection drops the properties.
    #[test]
    fn delivery_qos_and_retain() {
        let now = Instant::now();
        let m = StoredMessage::from_publish(v5_publish(full_properties()), now).unwrap();
        let d = m.delivery(QoS::AtLeastOnce, false, &[1], now);
        assert_eq!(d.topic_name(), "a/b");
        assert_eq!(d.payload(), b"hi");
        assert_eq!(d.qos(), QoS::AtLeastOnce);
        assert!(!d.retain());
        let p = v3_1_1::Publish::from_message(d, 5u16);
        assert_eq!((p.topic_name(), p.payload()), ("a/b", &b"hi"[..]));
        let d = m.delivery(QoS::AtMostOnce, true, &[], now);
        assert_eq!(d.qos(), QoS::AtMostOnce);
        assert!(d.retain());
    }

    /// [MQTT-3.3.2-4], [MQTT-3.3.2-15], [MQTT-3.3.2-16], [MQTT-3.3.2-17],
    /// [MQTT-3.3.2-18], [MQTT-3.3.2-20] properties forwarded unaltered;
    /// [MQTT-3.3.2-6] the expiry left; [MQTT-3.3.4-3] the subscription
    /// identifiers; no Topic Alias.
    #[test]
    fn delivery_forwards_properties() {
        let t0 = Instant::now();
        let m = StoredMessage::from_publish(v5_publish(full_properties()), t0).unwrap();
        let later = t0 + Duration::from_secs(15);
        let d = m.delivery(QoS::ExactlyOnce, true, &[7, 3], later);
        assert_eq!(d.topic_name(), "a/b");
        assert_eq!(d.qos(), QoS::ExactlyOnce);
        assert!(d.retain());
        // The payload is shared, not copied.
        assert_eq!(d.payload().as_ptr(), m.message().payload().as_ptr());
        let p = v5_0::Publish::from_message(d, 9u16);
        assert_eq!(p.topic_alias(), None);
        let mut expected = full_properties();
        expected.message_expiry_interval = Some(45);
        expected.subscription_identifiers = vec![
            SubscriptionIdentifier::new(7).unwrap(),
            SubscriptionIdentifier::new(3).unwrap(),
        ];
        assert_eq!(p.properties().to_owned(), expected);
        // The stored message is left as it was.
        assert_eq!(m.message().properties().message_expiry_interval(), Some(60));
    }

    /// Without expiry or Subscription Identifiers the properties are the
    /// message's; invalid subscription identifiers are left out.
    #[test]
    fn delivery_without_changes() {
        let now = Instant::now();
        let m = message(None, now);
        let d = m.delivery(QoS::AtMostOnce, false, &[0], now);
        assert!(d.properties().is_empty());
        assert_eq!(d.subscription_identifiers().count(), 0);
        let d = m.delivery(QoS::AtLeastOnce, true, &[], now);
        assert_eq!(d.properties().message_expiry_interval(), None);
    }

    /// A PUBLISH or Will whose payload is wrongly marked as UTF-8 (which
    /// decoding lets through, §3.3.2.3.2) is still delivered, without the
    /// indicator.
    #[test]
    fn invalid_utf8_payload_forwarded_without_indicator() {
        let now = Instant::now();
        let publish = decode(
            ProtocolVersion::V5_0,
            &[
                0x30, 0x08, // PUBLISH, QoS 0; Remaining Length 8
                0x00, 0x01, b't', // Topic Name
                0x02, 0x01, 0x01, // Payload Format Indicator 1 (UTF-8)
                0xFF, 0xFE, // payload
            ],
        );
        let m = StoredMessage::from_publish(publish, now).unwrap();
        assert_eq!(m.message().properties().payload_format_indicator(), None);
        let d = m.delivery(QoS::AtMostOnce, false, &[2], now);
        assert_eq!(d.properties().payload_format_indicator(), None);
        assert_eq!(
            d.subscription_identifiers().collect::<Vec<_>>(),
            [SubscriptionIdentifier::new(2).unwrap()]
        );
        assert_eq!(d.payload(), &[0xFF, 0xFE]);

        let connect = decode(
            ProtocolVersion::V5_0,
            &[
                0x10, 0x18, // CONNECT; Remaining Length 24
                0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // protocol name, level
                0x04, 0x00, 0x00, 0x00, // Will Flag; Keep Alive 0; no properties
                0x00, 0x01, b'c', // Client Identifier
                0x02, 0x01, 0x01, // Will Properties: Payload Format Indicator 1
                0x00, 0x01, b'w', // Will Topic
                0x00, 0x02, 0xFF, 0xFE, // Will Payload
            ],
        );
        let (will, _) = StoredMessage::from_will(&connect, now).unwrap();
        assert_eq!(will.message().properties().payload_format_indicator(), None);
        assert_eq!(will.message().payload(), &[0xFF, 0xFE]);
    }
}
