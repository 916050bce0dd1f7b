//! [`Message`]: an Application Message, as an application publishes and
//! receives it, whatever the MQTT version.

use bytes::Bytes;
use core::fmt;

use crate::content::{Content, PayloadDebug};
use crate::properties::{
    MessageProperties, MessagePropertiesView, PayloadFormatIndicator, PublishProperties,
    PublishPropertiesView, SubscriptionIdentifier, Values,
};
use crate::publish::{self as common};
use crate::{BuildError, IntoTopicName, QoS, TopicError, TopicName};

/// An Application Message (§1.2): a Topic Name, a payload, a QoS, RETAIN,
/// and the properties a v5.0 PUBLISH carries from its publisher to its
/// subscribers (Payload Format Indicator, Message Expiry Interval, Content
/// Type, Response Topic, Correlation Data, User Properties).
///
/// It has no packet identifier, no DUP and no Topic Alias: those belong to
/// one PUBLISH on one connection, and the connection gives them when it
/// sends the message ([`v5_0::Publish::from_message`],
/// [`v3_1_1::Publish::from_message`]). Nor does it have a version: a v3.1.1
/// PUBLISH drops the properties, which v3.1.1 cannot carry. A Server that
/// delivers it to one subscriber may add the Subscription Identifiers of
/// that delivery ([`set_subscription_identifiers`](Self::set_subscription_identifiers)).
///
/// A message converts to and from a PUBLISH of either version without
/// copying: it holds its Topic Name, properties and payload as the PUBLISH
/// does. Building one from a `'static` Topic Name and a [`Bytes`] payload
/// allocates nothing; properties take two allocations when built (the builder keeps them boxed), one for their wire form.
///
/// ```
/// use mqtt_codec::{Message, MessageProperties, QoS, TopicName};
/// let message = Message::builder()
///     .topic_name(TopicName::from_static("sensors/abc/temp")?)
///     .qos(QoS::AtLeastOnce)
///     .payload(&b"21.5"[..])
///     .properties(MessageProperties {
///         content_type: Some("text/plain".try_into()?),
///         ..Default::default()
///     })
///     .build()?;
/// assert_eq!(message.topic_name(), "sensors/abc/temp");
/// assert_eq!(message.properties().content_type(), Some("text/plain"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`v5_0::Publish::from_message`]: crate::v5_0::Publish::from_message
/// [`v3_1_1::Publish::from_message`]: crate::v3_1_1::Publish::from_message
/// [`Bytes`]: https://docs.rs/bytes/1/bytes/struct.Bytes.html
#[derive(Clone)]
pub struct Message {
    content: Content,
    topic_len: u16,
    qos: QoS,
    /// RETAIN, and whether the property block holds Subscription
    /// Identifiers.
    flags: u8,
}

/// The builder of a [`Message`]: the Topic Name is required.
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct MessageBuilder {
    topic_name: Option<TopicName>,
    payload: Bytes,
    /// Boxed: most messages have none, and a builder moved from setter to
    /// setter should stay small.
    properties: Option<alloc::boxed::Box<MessageProperties>>,
    qos: QoS,
    retain: bool,
}

impl MessageBuilder {
    common::message_setters!();

    /// The properties (§3.3.2.3); v3.1.1 drops them.
    #[inline]
    pub fn properties(mut self, properties: MessageProperties) -> Self {
        self.properties = Some(alloc::boxed::Box::new(properties));
        self
    }

    /// Builds the message. Allocates nothing unless there are properties
    /// (the box the builder kept them in, and their wire form).
    ///
    /// Errs on a missing or empty Topic Name [MQTT-4.7.3-1], a property
    /// value the spec forbids (an empty Response Topic), and a payload
    /// marked UTF-8 that is not (§3.3.2.3.2).
    #[inline]
    pub fn build(self) -> Result<Message, BuildError> {
        let topic_name = common::required(self.topic_name)?;
        if topic_name.is_empty() {
            return Err(BuildError::Forbidden(
                "a Topic Name is at least one character long [MQTT-4.7.3-1]",
            ));
        }
        let props = match self.properties {
            None => bytes::BytesMut::new(),
            Some(properties) => {
                properties.validate()?;
                if properties.payload_format_indicator == Some(PayloadFormatIndicator::Utf8) {
                    check_utf8_payload(&self.payload)?;
                }
                properties.to_block()
            }
        };
        let topic = topic_name.into_bytes();
        Ok(Message {
            topic_len: topic.len() as u16,
            content: Content::built(topic, &props, self.payload),
            qos: self.qos,
            flags: common::flags(false, self.retain),
        })
    }
}

/// A payload marked as UTF-8 must be well-formed UTF-8 (§3.3.2.3.2,
/// §3.1.3.2.3).
pub(crate) fn check_utf8_payload(payload: &[u8]) -> Result<(), BuildError> {
    if core::str::from_utf8(payload).is_err() {
        return Err(BuildError::Forbidden(
            "a payload with Payload Format Indicator 1 is well-formed UTF-8 (§3.3.2.3.2)",
        ));
    }
    Ok(())
}

impl Message {
    /// A builder; `topic_name` is required.
    pub fn builder() -> MessageBuilder {
        MessageBuilder::default()
    }

    /// A QoS 0 message to `topic_name` with `payload` and no properties;
    /// allocates nothing.
    ///
    /// Errs on an empty Topic Name [MQTT-4.7.3-1].
    #[inline]
    pub fn new(topic_name: TopicName, payload: impl Into<Bytes>) -> Result<Self, BuildError> {
        if topic_name.is_empty() {
            return Err(BuildError::Forbidden(
                "a Topic Name is at least one character long [MQTT-4.7.3-1]",
            ));
        }
        let topic = topic_name.into_bytes();
        Ok(Message {
            topic_len: topic.len() as u16,
            content: Content::built(topic, &[], payload.into()),
            qos: QoS::AtMostOnce,
            flags: 0,
        })
    }

    /// The message of a topic-level publish: `payload` to `topic_name` at
    /// `qos`, the topic's retained message when `retain`, no properties.
    /// Allocates nothing for a [`TopicName`] (shared) or a `String` (taken
    /// over); a `&str` is copied. Errs on an invalid Topic Name (§4.7.3).
    pub fn from_parts(
        topic_name: impl IntoTopicName,
        qos: QoS,
        retain: bool,
        payload: impl Into<Bytes>,
    ) -> Result<Self, TopicError> {
        // A valid Topic Name is not empty [MQTT-4.7.3-1].
        let topic = topic_name.into_topic_name()?.into_bytes();
        Ok(Message {
            topic_len: topic.len() as u16,
            content: Content::built(topic, &[], payload.into()),
            qos,
            flags: common::flags(false, retain),
        })
    }

    common::message_accessors!();

    /// The properties, read in place.
    #[inline]
    pub fn properties(&self) -> MessagePropertiesView<'_> {
        MessagePropertiesView::from_checked(self.content.props(self.topic_len))
    }

    /// The Subscription Identifiers of one delivery, which a Server sends
    /// with the message (v5.0 [MQTT-3.3.4-3]); none unless set.
    pub fn subscription_identifiers(&self) -> Values<'_, SubscriptionIdentifier> {
        PublishPropertiesView::from_checked(self.content.props(self.topic_len))
            .subscription_identifiers()
    }

    /// Sets the Subscription Identifiers of the subscriptions this delivery
    /// matched, as a Server does for each subscriber (v5.0
    /// [MQTT-3.3.4-3]); a Client sends none [MQTT-3.3.4-6], and v3.1.1 has
    /// none. Allocates the new property block unless there are no
    /// properties left.
    pub fn set_subscription_identifiers(&mut self, ids: &[SubscriptionIdentifier]) {
        if self.flags & common::SUBIDS_IN_BLOCK == 0 && ids.is_empty() {
            return;
        }
        self.rebuild(self.properties().to_owned(), ids);
    }

    /// Replaces the property block by `properties` and `ids`.
    fn rebuild(&mut self, properties: MessageProperties, ids: &[SubscriptionIdentifier]) {
        let mut properties = PublishProperties::from(properties);
        properties.subscription_identifiers = ids.to_vec();
        self.content = self
            .content
            .with_props(self.topic_len, &properties.to_block());
        self.flags &= !common::SUBIDS_IN_BLOCK;
        if !ids.is_empty() {
            self.flags |= common::SUBIDS_IN_BLOCK;
        }
    }

    /// Bytes the PUBLISH of `version` that carries this message takes on
    /// the wire, fixed header included, with packet identifiers of width
    /// `P`: what a sender checks against the peer's Maximum Packet Size.
    pub fn packet_len<P: crate::PacketId>(&self, version: crate::ProtocolVersion) -> usize {
        let (topic, props, payload) = self.content.parts(self.topic_len);
        let id_len = if self.qos == QoS::AtMostOnce {
            0
        } else {
            P::WIRE_LEN
        };
        let props_len = match version {
            crate::ProtocolVersion::V3_1_1 => 0,
            crate::ProtocolVersion::V5_0 => {
                crate::wire::varint_len(props.len() as u32) + props.len()
            }
        };
        let body = 2 + topic.len() + id_len + props_len + payload.len();
        1 + crate::wire::varint_len(u32::try_from(body).unwrap_or(u32::MAX)) + body
    }

    /// Sets the QoS level.
    pub fn set_qos(&mut self, qos: QoS) {
        self.qos = qos;
    }

    /// Sets or removes the Message Expiry Interval, in seconds
    /// (§3.3.2.3.3): a sender that re-sends or forwards a stored message
    /// sets the part of the interval that is left [MQTT-3.3.2-6]. Allocates
    /// the new property block unless the message has no other properties
    /// and `seconds` is `None`.
    pub fn set_message_expiry_interval(&mut self, seconds: Option<u32>) {
        let mut properties = self.properties().to_owned();
        if properties.message_expiry_interval == seconds {
            return;
        }
        properties.message_expiry_interval = seconds;
        let ids: alloc::vec::Vec<_> = self.subscription_identifiers().collect();
        self.rebuild(properties, &ids);
    }

    /// Replaces the Topic Name; errs, changing nothing, on an empty one
    /// [MQTT-4.7.3-1]. Allocates when the message has properties (which
    /// follow the Topic Name in one buffer).
    pub fn set_topic_name(&mut self, topic_name: TopicName) -> Result<(), BuildError> {
        if topic_name.is_empty() {
            return Err(BuildError::Forbidden(
                "a Topic Name is at least one character long [MQTT-4.7.3-1]",
            ));
        }
        let props = self.content.props(self.topic_len);
        self.content = self.content.with_topic(&topic_name, props);
        self.topic_len = topic_name.as_mqtt_string().len() as u16;
        Ok(())
    }

    /// The parts, for a PUBLISH to take: the content, the Topic Name's
    /// length, the QoS and the flags (RETAIN, and whether the property
    /// block holds Subscription Identifiers).
    pub(crate) fn into_fields(self) -> (Content, u16, QoS, u8) {
        (self.content, self.topic_len, self.qos, self.flags)
    }

    /// A message of parts whose property block holds only message
    /// properties.
    pub(crate) fn from_fields(content: Content, topic_len: u16, qos: QoS, retain: bool) -> Self {
        Message {
            content,
            topic_len,
            qos,
            flags: common::flags(false, retain),
        }
    }

    /// A message of a PUBLISH's parts, leaving out of its property block
    /// what belongs to one delivery (Topic Alias, Subscription
    /// Identifiers): allocates a new block when it holds them and more.
    pub(crate) fn from_publish_parts(
        content: Content,
        topic_len: u16,
        qos: QoS,
        flags: u8,
    ) -> Self {
        let retain = flags & common::RETAIN != 0;
        if flags & (common::ALIAS_IN_BLOCK | common::SUBIDS_IN_BLOCK) == 0 {
            return Message::from_fields(content, topic_len, qos, retain);
        }
        let props = PublishPropertiesView::from_checked(content.props(topic_len));
        let kept = MessageProperties::from(props.to_owned());
        let content = content.with_props(topic_len, &kept.to_block());
        Message::from_fields(content, topic_len, qos, retain)
    }
}

/// Equal when the Topic Names, payloads, QoS, RETAIN, properties and
/// Subscription Identifiers are.
impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.qos == other.qos
            && self.retain() == other.retain()
            && self.content.topic(self.topic_len) == other.content.topic(other.topic_len)
            && self.payload() == other.payload()
            && (self.properties().as_bytes() == other.properties().as_bytes()
                || (self.properties().to_owned() == other.properties().to_owned()
                    && self
                        .subscription_identifiers()
                        .eq(other.subscription_identifiers())))
    }
}

impl Eq for Message {}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Message");
        s.field("topic_name", &self.topic_name())
            .field("qos", &self.qos)
            .field("retain", &self.retain());
        if !self.properties().is_empty() {
            s.field("properties", &self.properties());
        }
        if self.flags & common::SUBIDS_IN_BLOCK != 0 {
            s.field("subscription_identifiers", &self.subscription_identifiers());
        }
        s.field("payload", &PayloadDebug(self.payload())).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::UserProperty;
    use alloc::vec;
    use bytes::BytesMut;

    #[test]
    fn from_parts_takes_any_topic_name_and_checks_it() {
        let topic = TopicName::new("a/b").unwrap();
        let owned = alloc::string::String::from("a/b");
        let made = [
            Message::from_parts("a/b", QoS::AtLeastOnce, true, "x").unwrap(),
            Message::from_parts(owned.clone(), QoS::AtLeastOnce, true, "x").unwrap(),
            Message::from_parts(&owned, QoS::AtLeastOnce, true, "x").unwrap(),
            Message::from_parts(&topic, QoS::AtLeastOnce, true, "x").unwrap(),
            Message::from_parts(topic.clone(), QoS::AtLeastOnce, true, "x").unwrap(),
        ];
        for m in &made {
            assert_eq!(
                (m.topic_name(), m.qos(), m.retain()),
                ("a/b", QoS::AtLeastOnce, true)
            );
            assert_eq!(m.payload(), b"x");
            assert_eq!(m, &made[0]);
        }
        let shared = Message::from_parts(&topic, QoS::AtMostOnce, false, "").unwrap();
        assert_eq!(
            shared.topic_name().as_ptr(),
            topic.as_str().as_ptr(),
            "a TopicName is shared, not copied"
        );
        assert!(!Message::from_parts("a/b", QoS::AtMostOnce, false, "")
            .unwrap()
            .retain());
        assert_eq!(
            Message::from_parts("a/+", QoS::AtMostOnce, false, ""),
            Err(TopicError::WildcardInName)
        );
        assert_eq!(
            Message::from_parts("", QoS::AtMostOnce, false, ""),
            Err(TopicError::Empty)
        );
    }

    fn props() -> MessageProperties {
        MessageProperties {
            payload_format_indicator: Some(PayloadFormatIndicator::Utf8),
            message_expiry_interval: Some(60),
            content_type: Some("text/plain".try_into().unwrap()),
            response_topic: Some(TopicName::new("re/ply").unwrap()),
            correlation_data: Some((&b"id-1"[..]).try_into().unwrap()),
            user_properties: vec![
                UserProperty::new("k", "v").unwrap(),
                UserProperty::new("k", "w").unwrap(),
            ],
        }
    }

    #[test]
    fn built_with_every_property() {
        let message = Message::builder()
            .try_topic_name("a/b")
            .unwrap()
            .qos(QoS::ExactlyOnce)
            .retain(true)
            .properties(props())
            .payload("hi")
            .build()
            .unwrap();
        assert_eq!(message.topic_name(), "a/b");
        assert!(!message.topic_name_is_empty());
        assert_eq!(message.qos(), QoS::ExactlyOnce);
        assert!(message.retain());
        assert_eq!(message.payload(), b"hi");
        let view = message.properties();
        assert_eq!(
            view.payload_format_indicator(),
            Some(PayloadFormatIndicator::Utf8)
        );
        assert_eq!(view.message_expiry_interval(), Some(60));
        assert_eq!(view.content_type(), Some("text/plain"));
        assert_eq!(view.response_topic(), Some("re/ply"));
        assert_eq!(view.correlation_data(), Some(&b"id-1"[..]));
        assert_eq!(
            view.user_properties().collect::<vec::Vec<_>>(),
            [("k", "v"), ("k", "w")]
        );
        assert_eq!(view.to_owned(), props());
    }

    /// The length a PUBLISH of each version would take, as it encodes.
    #[test]
    fn packet_len_is_the_publish_length() {
        use crate::{v3_1_1, v5_0, Encode, ProtocolVersion};
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
            let mut message = Message::builder()
                .try_topic_name("a/b")
                .unwrap()
                .qos(qos)
                .properties(props())
                .payload(vec![7u8; 300])
                .build()
                .unwrap();
            message.set_qos(qos);
            let v3 = v3_1_1::Publish::<u32>::from_message(message.clone(), 1);
            let v5 = v5_0::Publish::<u16>::from_message(message.clone(), 1);
            assert_eq!(
                message.packet_len::<u32>(ProtocolVersion::V3_1_1),
                v3.encoded_len()
            );
            assert_eq!(
                message.packet_len::<u16>(ProtocolVersion::V5_0),
                v5.encoded_len()
            );
        }
    }

    #[test]
    fn builder_refusals() {
        assert_eq!(
            Message::builder().build(),
            Err(BuildError::MissingField("topic_name"))
        );
        assert!(Message::new(TopicName::empty(), "x").is_err());
        // §3.3.2.3.2 a payload marked UTF-8 must be UTF-8.
        let utf8 = MessageProperties {
            payload_format_indicator: Some(PayloadFormatIndicator::Utf8),
            ..Default::default()
        };
        assert!(Message::builder()
            .try_topic_name("t")
            .unwrap()
            .properties(utf8)
            .payload(&[0xFF][..])
            .build()
            .is_err());
        // [MQTT-4.7.3-1] an empty Response Topic.
        let empty = MessageProperties {
            response_topic: Some(TopicName::empty()),
            ..Default::default()
        };
        assert!(Message::builder()
            .try_topic_name("t")
            .unwrap()
            .properties(empty)
            .build()
            .is_err());
    }

    #[test]
    fn setters_keep_the_rest() {
        let mut message = Message::builder()
            .try_topic_name("a")
            .unwrap()
            .properties(props())
            .payload("p")
            .build()
            .unwrap();
        message.set_message_expiry_interval(Some(5));
        assert_eq!(message.properties().message_expiry_interval(), Some(5));
        assert_eq!(message.properties().content_type(), Some("text/plain"));
        message
            .set_topic_name(TopicName::new("b/c").unwrap())
            .unwrap();
        assert_eq!(message.topic_name(), "b/c");
        assert_eq!(message.properties().message_expiry_interval(), Some(5));
        assert!(message.set_topic_name(TopicName::empty()).is_err());
        message.set_qos(QoS::AtLeastOnce);
        message.set_retain(true);
        assert_eq!((message.qos(), message.retain()), (QoS::AtLeastOnce, true));
        message.set_message_expiry_interval(None);
        assert_eq!(message.properties().message_expiry_interval(), None);
        assert_eq!(message.payload(), b"p");
    }

    /// [MQTT-3.3.4-3] the Subscription Identifiers of a delivery are set,
    /// kept beside the other properties and through an expiry change, go
    /// out in a v5.0 PUBLISH, and come off again.
    #[test]
    fn subscription_identifiers_of_a_delivery() {
        use crate::v5_0;
        let ids = [
            SubscriptionIdentifier::new(7).unwrap(),
            SubscriptionIdentifier::new(300).unwrap(),
        ];
        let mut message = Message::builder()
            .try_topic_name("t")
            .unwrap()
            .properties(props())
            .build()
            .unwrap();
        let plain = message.clone();
        message.set_subscription_identifiers(&ids);
        assert_eq!(
            message.subscription_identifiers().collect::<vec::Vec<_>>(),
            ids
        );
        assert_eq!(message.properties().to_owned(), props());
        assert_ne!(message, plain);
        message.set_message_expiry_interval(Some(9));
        assert_eq!(message.subscription_identifiers().count(), 2);
        let publish = v5_0::Publish::<u16>::from_message(message.clone(), 1);
        assert_eq!(
            publish
                .properties()
                .subscription_identifiers()
                .collect::<vec::Vec<_>>(),
            ids
        );
        // A message of the PUBLISH leaves them out: they belong to one delivery.
        assert_eq!(publish.into_message().subscription_identifiers().count(), 0);
        message.set_subscription_identifiers(&[]);
        assert_eq!(message.subscription_identifiers().count(), 0);
        assert_eq!(message.properties().message_expiry_interval(), Some(9));
        let mut bare = Message::new(TopicName::new("t").unwrap(), "").unwrap();
        bare.set_subscription_identifiers(&ids[..1]);
        bare.set_subscription_identifiers(&[]);
        assert!(bare.properties().is_empty());
        // RETAIN is left as it was, set or not.
        for retain in [false, true] {
            let mut m = Message::new(TopicName::new("t").unwrap(), "").unwrap();
            m.set_retain(retain);
            m.set_subscription_identifiers(&ids);
            assert_eq!(m.retain(), retain);
            m.set_subscription_identifiers(&[]);
            assert_eq!(m.retain(), retain);
        }
    }

    /// Debug shows every field, the payload as a byte string.
    #[test]
    fn debug_shows_the_fields() {
        let mut message = Message::builder()
            .try_topic_name("a/b")
            .unwrap()
            .properties(MessageProperties {
                content_type: Some("text/plain".try_into().unwrap()),
                ..Default::default()
            })
            .payload(&b"hi\x01"[..])
            .build()
            .unwrap();
        message.set_subscription_identifiers(&[SubscriptionIdentifier::new(7).unwrap()]);
        let debug = alloc::format!("{message:?}");
        for part in ["\"a/b\"", "AtMostOnce", "text/plain", "(7)", "b\"hi\\x01\""] {
            assert!(debug.contains(part), "{part} in {debug}");
        }
    }

    #[test]
    fn equality_ignores_how_the_properties_are_ordered() {
        let a = Message::builder()
            .try_topic_name("t")
            .unwrap()
            .properties(props())
            .build()
            .unwrap();
        let mut block = BytesMut::new();
        // The same properties, User Properties first.
        let p = props();
        for u in &p.user_properties {
            MessageProperties {
                user_properties: vec![u.clone()],
                ..Default::default()
            }
            .encode_block(&mut block);
        }
        MessageProperties {
            user_properties: vec![],
            ..p
        }
        .encode_block(&mut block);
        let b = Message::from_fields(
            Content::built(Bytes::from_static(b"t"), &block, Bytes::new()),
            1,
            QoS::AtMostOnce,
            false,
        );
        assert_ne!(a.properties().as_bytes(), b.properties().as_bytes());
        assert_eq!(a, b);
    }
}
