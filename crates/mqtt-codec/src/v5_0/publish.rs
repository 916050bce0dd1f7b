//! PUBLISH (v5.0 §3.3).

use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;
use core::num::NonZeroU16;

use crate::content::{Content, PayloadDebug};
use crate::encode::sealed::Body;
use crate::message::check_utf8_payload;
use crate::properties::block::{first, Entries};
use crate::properties::{PublishProperties, PublishPropertiesView, TOPIC_ALIAS};
use crate::publish::{self as common, Head, TOPIC_AT};
use crate::source::Source;
use crate::wire::varint::put_varint;
use crate::wire::writer::{put_length_prefixed, put_packet_id, put_publish_head};
use crate::wire::{cold, varint_len, Reader};
use crate::{BuildError, DecodeError, EncodeError, Message, PacketId, QoS, TopicName};

/// An application message, sent in either direction (§3.3).
///
/// It keeps its properties as a block in wire form, read in place through
/// [`properties`](Self::properties): decoding a PUBLISH allocates nothing,
/// whatever properties it carries. The Topic Alias, which belongs to one
/// connection, is kept apart ([`topic_alias`](Self::topic_alias)).
///
/// A PUBLISH may carry an empty Topic Name only together with a Topic Alias
/// (§3.3.2.3.4): build one with `topic_name(TopicName::empty())` and a
/// `topic_alias`.
///
/// ```
/// use mqtt_codec::{Encode, QoS, TopicName};
/// use mqtt_codec::v5_0::{Publish, PublishProperties, UserProperty};
/// let publish = Publish::<u16>::builder()
///     .topic_name(TopicName::from_static("sensors/abc/temp")?)
///     .qos(QoS::AtLeastOnce)
///     .packet_id(7)
///     .properties(PublishProperties {
///         message_expiry_interval: Some(60),
///         content_type: Some("text/plain".try_into()?),
///         user_properties: vec![UserProperty::new("unit", "C")?],
///         ..Default::default()
///     })
///     .payload(&b"21.5"[..])
///     .build()?;
/// assert_eq!(publish.properties().content_type(), Some("text/plain"));
/// let mut buf = Vec::new();
/// publish.encode(&mut buf)?;
/// assert_eq!(buf.len(), publish.encoded_len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Publish<P: PacketId = u16> {
    content: Content,
    /// 0 on QoS 0.
    packet_id: P,
    topic_len: u16,
    topic_alias: Option<NonZeroU16>,
    qos: QoS,
    /// DUP, RETAIN, and what the property block holds.
    flags: u8,
}

/// The builder of a [`Publish`]: the Topic Name is required (empty only
/// with a Topic Alias), a QoS above 0 requires a packet identifier.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PublishBuilder<P: PacketId = u16> {
    topic_name: Option<TopicName>,
    payload: Bytes,
    /// Boxed: most messages have none, and a builder moved from setter to
    /// setter should stay small.
    properties: Option<alloc::boxed::Box<PublishProperties>>,
    packet_id: Option<P>,
    topic_alias: Option<NonZeroU16>,
    qos: QoS,
    dup: bool,
    retain: bool,
}

impl<P: PacketId> Default for PublishBuilder<P> {
    fn default() -> Self {
        PublishBuilder {
            topic_name: None,
            payload: Bytes::new(),
            properties: None,
            packet_id: None,
            topic_alias: None,
            qos: QoS::AtMostOnce,
            dup: false,
            retain: false,
        }
    }
}

impl<P: PacketId> PublishBuilder<P> {
    common::publish_setters!();

    /// The Topic Alias (§3.3.2.3.4), never 0 [MQTT-3.3.2-8].
    #[inline]
    pub fn topic_alias(mut self, topic_alias: NonZeroU16) -> Self {
        self.topic_alias = Some(topic_alias);
        self
    }

    /// The other properties (§3.3.2.3).
    #[inline]
    pub fn properties(mut self, properties: PublishProperties) -> Self {
        self.properties = Some(alloc::boxed::Box::new(properties));
        self
    }

    /// Builds the PUBLISH. Allocates nothing unless there are properties
    /// (the box the builder kept them in, and their wire form).
    ///
    /// Errs on a missing Topic Name, and on what a sender must not send: a
    /// packet identifier of 0 or one that does not match the QoS, DUP on
    /// QoS 0, an empty Topic Name without a Topic Alias, a property value
    /// the spec forbids, a payload marked UTF-8 that is not.
    #[inline]
    pub fn build(self) -> Result<Publish<P>, BuildError> {
        let topic_name = common::required(self.topic_name)?;
        common::check_id_and_dup(self.qos, self.packet_id, self.dup)?;
        if topic_name.is_empty() && self.topic_alias.is_none() {
            return Err(BuildError::Forbidden(
                "a zero-length Topic Name needs a Topic Alias (§3.3.2.3.4) [MQTT-4.7.3-1]",
            ));
        }
        let mut flags = common::flags(self.dup, self.retain);
        let props = match self.properties {
            None => bytes::BytesMut::new(),
            Some(properties) => {
                check_properties(&properties, &self.payload)?;
                if !properties.subscription_identifiers.is_empty() {
                    flags |= common::SUBIDS_IN_BLOCK;
                }
                properties.to_block()
            }
        };
        let topic = topic_name.into_bytes();
        Ok(Publish {
            topic_len: topic.len() as u16,
            content: Content::built(topic, &props, self.payload),
            packet_id: self.packet_id.unwrap_or_default(),
            topic_alias: self.topic_alias,
            qos: self.qos,
            flags,
        })
    }
}

/// What a sender must not send in `properties` of a PUBLISH carrying
/// `payload`: a value the spec forbids, a payload marked UTF-8 that is not
/// (§3.3.2.3.2).
fn check_properties(properties: &PublishProperties, payload: &[u8]) -> Result<(), BuildError> {
    properties.validate()?;
    if properties.payload_format_indicator == Some(crate::properties::PayloadFormatIndicator::Utf8)
    {
        check_utf8_payload(payload)?;
    }
    Ok(())
}

/// `block` without its Topic Alias: empty (no allocation) when it held
/// nothing else.
fn without_alias(block: &[u8]) -> BytesMut {
    let mut kept = BytesMut::new();
    for (id, raw) in Entries::new(block) {
        if id != TOPIC_ALIAS {
            kept.put_u8(id);
            kept.put_slice(raw);
        }
    }
    kept
}

/// The error of a Topic Name left empty without a Topic Alias.
const EMPTY_TOPIC: BuildError =
    BuildError::Forbidden("a zero-length Topic Name needs a Topic Alias (§3.3.2.3.4)");

impl<P: PacketId> Publish<P> {
    /// A builder; `topic_name` is required, QoS > 0 requires `packet_id`.
    pub fn builder() -> PublishBuilder<P> {
        PublishBuilder::default()
    }

    common::publish_accessors!();

    /// The Topic Alias, if any (§3.3.2.3.4).
    #[inline]
    pub fn topic_alias(&self) -> Option<NonZeroU16> {
        self.topic_alias
    }

    /// The properties but Topic Alias, read in place.
    #[inline]
    pub fn properties(&self) -> PublishPropertiesView<'_> {
        PublishPropertiesView::from_checked(self.content.props(self.topic_len))
    }

    /// The PUBLISH that carries `message`, with `packet_id` when its QoS is
    /// above 0 (take one from a packet identifier pool: 0 is no identifier
    /// [MQTT-2.2.1-3]; at QoS 0 it is ignored), and the message's
    /// Subscription Identifiers if it has any. Copies and allocates
    /// nothing.
    pub fn from_message(message: Message, packet_id: P) -> Self {
        let (content, topic_len, qos, flags) = message.into_fields();
        Publish {
            content,
            packet_id: if qos == QoS::AtMostOnce {
                P::default()
            } else {
                packet_id
            },
            topic_len,
            topic_alias: None,
            qos,
            flags: flags & (common::RETAIN | common::SUBIDS_IN_BLOCK),
        }
    }

    /// The message this PUBLISH carries, without what belongs to this one
    /// delivery: packet identifier, DUP, Topic Alias and Subscription
    /// Identifiers. No copy, unless the property block holds a Topic Alias
    /// or Subscription Identifiers and other properties (then the other
    /// properties are copied into a block of their own). A PUBLISH whose
    /// Topic Name a Topic Alias stands for gives a message with an empty
    /// Topic Name: resolve the alias first ([`set_topic_name`](Self::set_topic_name)).
    pub fn into_message(self) -> Message {
        Message::from_publish_parts(self.content, self.topic_len, self.qos, self.flags)
    }

    /// Replaces the Topic Name, as a sender that maps topics to aliases or
    /// a receiver that resolves an alias does (§3.3.2.3.4). Emptying it
    /// copies nothing; a new name copies nothing but when the PUBLISH has
    /// properties besides the Topic Alias (they follow the name in one
    /// buffer).
    ///
    /// Errs, changing nothing, on an empty name without a Topic Alias.
    pub fn set_topic_name(&mut self, topic_name: TopicName) -> Result<(), BuildError> {
        if topic_name.is_empty() {
            if self.topic_alias.is_none() {
                return Err(EMPTY_TOPIC);
            }
            if let Content::Parts { head, payload } = &self.content {
                let props = head.slice(usize::from(self.topic_len).min(head.len())..);
                self.content = Content::Parts {
                    head: props,
                    payload: payload.clone(),
                };
            }
            // A decoded frame keeps its property block where it is.
            self.topic_len = 0;
            return Ok(());
        }
        let props = self.content.props(self.topic_len);
        self.content = if self.flags & common::ALIAS_IN_BLOCK != 0 {
            self.flags &= !common::ALIAS_IN_BLOCK;
            self.content.with_topic(&topic_name, &without_alias(props))
        } else {
            self.content.with_topic(&topic_name, props)
        };
        self.topic_len = topic_name.as_mqtt_string().len() as u16;
        Ok(())
    }

    /// Sets or removes the Message Expiry Interval, in seconds
    /// (§3.3.2.3.3): a sender that re-sends or forwards a stored message
    /// sets the part of the interval that is left [MQTT-3.3.2-6].
    /// Allocates the new property block.
    pub fn set_message_expiry_interval(&mut self, seconds: Option<u32>) {
        let mut properties = self.properties().to_owned();
        if properties.message_expiry_interval == seconds {
            return;
        }
        properties.message_expiry_interval = seconds;
        self.set_properties(&properties);
    }

    /// Replaces the properties but Topic Alias; allocates the new property
    /// block unless `properties` is empty.
    ///
    /// Errs, changing nothing, on a value a sender must not send, or a
    /// payload marked UTF-8 that is not.
    pub fn set_properties_checked(
        &mut self,
        properties: &PublishProperties,
    ) -> Result<(), BuildError> {
        check_properties(properties, self.payload())?;
        self.set_properties(properties);
        Ok(())
    }

    fn set_properties(&mut self, properties: &PublishProperties) {
        self.content = self
            .content
            .with_props(self.topic_len, &properties.to_block());
        self.flags &= !(common::ALIAS_IN_BLOCK | common::SUBIDS_IN_BLOCK);
        if !properties.subscription_identifiers.is_empty() {
            self.flags |= common::SUBIDS_IN_BLOCK;
        }
    }

    /// Sets or removes the Topic Alias (§3.3.2.3.4). Copies nothing,
    /// unless a received PUBLISH's alias is changed and it has other
    /// properties.
    ///
    /// Errs, changing nothing, on removing the alias of a PUBLISH whose
    /// Topic Name is empty.
    pub fn set_topic_alias(&mut self, alias: Option<NonZeroU16>) -> Result<(), BuildError> {
        if alias.is_none() && self.topic_len == 0 {
            return Err(EMPTY_TOPIC);
        }
        if alias != self.topic_alias && self.flags & common::ALIAS_IN_BLOCK != 0 {
            let kept = without_alias(self.content.props(self.topic_len));
            self.content = self.content.with_props(self.topic_len, &kept);
            self.flags &= !common::ALIAS_IN_BLOCK;
        }
        self.topic_alias = alias;
        Ok(())
    }

    /// The PUBLISH of a checked head, given the body from its Topic Name
    /// on.
    #[inline(always)]
    pub(crate) fn from_head(head: &Head<P>, frame: Bytes) -> Self {
        let at = |offset: u32| offset as usize - TOPIC_AT;
        Publish {
            content: Content::decoded(frame, at(head.props_at), at(head.payload_at)),
            packet_id: head.packet_id,
            topic_len: head.topic_len,
            topic_alias: head.topic_alias,
            qos: head.qos,
            flags: head.flags,
        }
    }

    /// The Topic Alias that the encoding adds after the property block:
    /// the PUBLISH's own, unless the block holds it already.
    #[inline(always)]
    fn added_alias(&self) -> Option<NonZeroU16> {
        self.topic_alias
            .filter(|_| self.flags & common::ALIAS_IN_BLOCK == 0)
    }

    /// The Property Length, given the property block.
    #[inline(always)]
    fn props_len(&self, block: &[u8]) -> usize {
        block.len() + if self.added_alias().is_some() { 3 } else { 0 }
    }
}

/// A PUBLISH read in place (see [`PacketView`](super::PacketView)): its
/// Topic Name, properties and payload are slices of the bytes it was parsed
/// from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublishView<'a, P: PacketId = u16> {
    body: &'a [u8],
    head: Head<P>,
}

impl<'a, P: PacketId> PublishView<'a, P> {
    /// Reads and checks the body of a PUBLISH whose fixed header flags are
    /// `flags`: see [`Head::read`], then the properties, then the Topic
    /// Name, which may be empty only with a Topic Alias (§3.3.2.1).
    #[inline(always)]
    pub(crate) fn parse(flags: u8, body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut head = Head::<P>::read(crate::wire::publish_flags(flags)?, body)?;
        let mut r = Reader::new(body.get(head.props_at as usize..).unwrap_or_default());
        let len = r.varint()? as usize;
        let block = r.bytes(len)?;
        let seen = PublishPropertiesView::check(block)?;
        head.props_at = (body.len() - r.remaining() - len) as u32;
        head.payload_at = (body.len() - r.remaining()) as u32;
        if seen != 0 {
            head.read_block(block, seen);
        }
        if head.topic_len == 0 {
            if head.topic_alias.is_none() {
                return Err(cold(DecodeError::EmptyTopicWithoutAlias));
            }
        } else {
            head.check_topic(body)?;
        }
        Ok(PublishView { body, head })
    }

    /// The checked variable header.
    #[inline(always)]
    pub(crate) fn head(&self) -> &Head<P> {
        &self.head
    }

    /// The DUP flag.
    pub fn dup(&self) -> bool {
        self.head.flags & common::DUP != 0
    }
    /// The QoS level.
    pub fn qos(&self) -> QoS {
        self.head.qos
    }
    /// The RETAIN flag.
    pub fn retain(&self) -> bool {
        self.head.flags & common::RETAIN != 0
    }
    /// The packet identifier, present when QoS > 0.
    pub fn packet_id(&self) -> Option<P> {
        self.head.packet_id()
    }
    /// The Topic Name, empty when a Topic Alias stands for it.
    #[inline]
    pub fn topic_name(&self) -> &'a str {
        crate::string::checked_str(self.head.topic(self.body))
    }
    /// The Topic Alias, if any.
    pub fn topic_alias(&self) -> Option<NonZeroU16> {
        self.head.topic_alias
    }
    /// The properties but Topic Alias.
    #[inline]
    pub fn properties(&self) -> PublishPropertiesView<'a> {
        PublishPropertiesView::from_checked(
            self.body
                .get(self.head.props_at as usize..self.head.payload_at as usize)
                .unwrap_or_default(),
        )
    }
    /// The payload.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        self.body
            .get(self.head.payload_at as usize..)
            .unwrap_or_default()
    }

    /// The owned PUBLISH, sharing `source` when the view was parsed from
    /// it (copying otherwise).
    pub fn to_owned(&self, source: &Bytes) -> Publish<P> {
        self.owned_in(Source(source))
    }

    pub(crate) fn owned_in(&self, src: Source<'_>) -> Publish<P> {
        let frame = src.bytes(self.body.get(TOPIC_AT..).unwrap_or_default());
        Publish::from_head(&self.head, frame)
    }
}

impl<P: PacketId> Head<P> {
    /// Notes what a checked property block holds: the Topic Alias, and
    /// whether it has Subscription Identifiers. `seen` has bit `id` set for
    /// each identifier in it.
    #[inline]
    fn read_block(&mut self, block: &[u8], seen: u64) {
        if seen & (1 << TOPIC_ALIAS) != 0 {
            self.topic_alias = first::<NonZeroU16>(block, TOPIC_ALIAS);
            self.flags |= common::ALIAS_IN_BLOCK;
        }
        if seen & (1 << 0x0B) != 0 {
            self.flags |= common::SUBIDS_IN_BLOCK;
        }
    }
}

impl<P: PacketId> fmt::Debug for PublishView<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishView")
            .field("dup", &self.dup())
            .field("qos", &self.qos())
            .field("retain", &self.retain())
            .field("topic_name", &self.topic_name())
            .field("packet_id", &self.packet_id())
            .field("topic_alias", &self.topic_alias())
            .field("properties", &self.properties())
            .field("payload", &PayloadDebug(self.payload()))
            .finish()
    }
}

/// Equal when every field is, the properties compared by value (their
/// order on the wire aside).
impl<P: PacketId> PartialEq for Publish<P> {
    fn eq(&self, other: &Self) -> bool {
        let (topic, block, payload) = self.content.parts(self.topic_len);
        let (o_topic, o_block, o_payload) = other.content.parts(other.topic_len);
        self.qos == other.qos
            && self.flags & (common::DUP | common::RETAIN)
                == other.flags & (common::DUP | common::RETAIN)
            && self.packet_id() == other.packet_id()
            && self.topic_alias == other.topic_alias
            && topic == o_topic
            && payload == o_payload
            && (block == o_block || self.properties().to_owned() == other.properties().to_owned())
    }
}

impl<P: PacketId> Eq for Publish<P> {}

impl<P: PacketId> fmt::Debug for Publish<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publish")
            .field("dup", &self.dup())
            .field("qos", &self.qos)
            .field("retain", &self.retain())
            .field("topic_name", &self.topic_name())
            .field("packet_id", &self.packet_id())
            .field("topic_alias", &self.topic_alias)
            .field("properties", &self.properties())
            .field("payload", &PayloadDebug(self.payload()))
            .finish()
    }
}

impl<P: PacketId> Publish<P> {
    /// The Remaining Length, given the Topic Name, property block and
    /// payload.
    #[inline(always)]
    fn body_len_of(&self, topic: &[u8], block: &[u8], payload: &[u8]) -> usize {
        let id_len = if self.qos == QoS::AtMostOnce {
            0
        } else {
            P::WIRE_LEN
        };
        let props = self.props_len(block);
        2 + topic.len() + id_len + varint_len(props as u32) + props + payload.len()
    }

    /// Writes the Property Length and the properties.
    #[inline(always)]
    fn write_props<B: BufMut>(&self, buf: &mut B, block: &[u8]) {
        put_varint(buf, self.props_len(block) as u32);
        buf.put_slice(block);
        if let Some(alias) = self.added_alias() {
            buf.put_u8(TOPIC_ALIAS);
            buf.put_u16(alias.get());
        }
    }
}

impl<P: PacketId> Body for Publish<P> {
    #[inline]
    fn first_byte(&self) -> u8 {
        common::first_byte(self.qos, self.flags)
    }
    #[inline]
    fn body_len(&self) -> usize {
        let (topic, block, payload) = self.content.parts(self.topic_len);
        self.body_len_of(topic, block, payload)
    }
    #[inline]
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        let (topic, block, _) = self.content.parts(self.topic_len);
        put_length_prefixed(buf, topic);
        if let Some(id) = self.packet_id() {
            put_packet_id(buf, id);
        }
        self.write_props(buf, block);
    }
    #[inline]
    fn payload(&self) -> Option<&[u8]> {
        Some(self.content.payload())
    }
    #[inline(always)]
    fn encode_packet<B: BufMut>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        let (topic, block, payload) = self.content.parts(self.topic_len);
        let body = self.body_len_of(topic, block, payload);
        // As `encode::encode_packet`, with the fields fetched once.
        let total = crate::encode::check(body, 0, buf.remaining_mut())?;
        put_publish_head(buf, self.first_byte(), body, topic, self.packet_id());
        self.write_props(buf, block);
        buf.put_slice(payload);
        Ok(total)
    }
    #[inline(always)]
    fn write_packet_head<B: BufMut>(&self, buf: &mut B, body_len: usize) {
        let (topic, block, _) = self.content.parts(self.topic_len);
        put_publish_head(buf, self.first_byte(), body_len, topic, self.packet_id());
        self.write_props(buf, block);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::{PayloadFormatIndicator, UserProperty};
    use crate::topic::TopicError;
    use crate::v5_0::test_util::{decode, round_trip};
    use crate::v5_0::Packet;
    use crate::MqttString;
    use alloc::vec;

    fn alias(n: u16) -> Option<NonZeroU16> {
        NonZeroU16::new(n)
    }

    #[test]
    fn qos0_without_properties() {
        let publish = Publish::<u16>::builder()
            .try_topic_name("a/b")
            .unwrap()
            .payload(&b"hi"[..])
            .build()
            .unwrap();
        // Topic "a/b", Property Length 0, payload "hi".
        round_trip(
            publish,
            &[0x30, 0x08, 0x00, 0x03, b'a', b'/', b'b', 0x00, b'h', b'i'],
        );
    }

    #[test]
    fn qos1_with_message_expiry() {
        let publish = Publish::<u16>::builder()
            .try_topic_name("a/b")
            .unwrap()
            .qos(QoS::AtLeastOnce)
            .retain(true)
            .packet_id(10)
            .properties(PublishProperties {
                message_expiry_interval: Some(60),
                ..Default::default()
            })
            .payload(&b"hi"[..])
            .build()
            .unwrap();
        round_trip(
            publish,
            &[
                0x33, 0x0F, // PUBLISH, QoS 1, RETAIN; Remaining Length 15
                0x00, 0x03, b'a', b'/', b'b', // Topic Name
                0x00, 0x0A, // Packet Identifier
                0x05, 0x02, 0x00, 0x00, 0x00, 0x3C, // Message Expiry Interval 60
                b'h', b'i',
            ],
        );
    }

    /// A decoded PUBLISH's Topic Name, properties and payload are all slices
    /// of the received packet, and read back as the built one's.
    #[test]
    fn decoded_fields_are_slices_of_the_packet() {
        let bytes = bytes::BytesMut::from(
            &[
                0x30, 0x0C, // PUBLISH, QoS 0; Remaining Length 12
                0x00, 0x01, b't', // Topic Name
                0x04, 0x03, 0x00, 0x01, b'x', // Content Type "x"
                b'p', b'a', b'y', 0x00, // payload
            ][..],
        );
        let range = bytes.as_ptr_range();
        let mut buf = bytes;
        let Ok(Some(crate::GenericPacket::V5_0(Packet::Publish(p)))) =
            crate::Decoder::<u16>::new(crate::ProtocolVersion::V5_0).decode(&mut buf)
        else {
            panic!("a PUBLISH");
        };
        assert!(buf.is_empty());
        assert_eq!((p.topic_name(), p.payload()), ("t", &b"pay\x00"[..]));
        let content_type = p.properties().content_type().unwrap();
        assert_eq!(content_type, "x");
        for ptr in [
            p.topic_name().as_ptr(),
            content_type.as_ptr(),
            p.payload().as_ptr(),
        ] {
            assert!(range.contains(&ptr));
        }
    }

    /// The benchmark's message: Message Expiry, Content Type and one User
    /// Property, encoded in identifier order; QoS 2 with DUP.
    #[test]
    fn qos2_dup_with_properties() {
        let publish = Publish::<u16>::builder()
            .try_topic_name("t")
            .unwrap()
            .qos(QoS::ExactlyOnce)
            .dup(true)
            .packet_id(0x0102)
            .properties(PublishProperties {
                message_expiry_interval: Some(1),
                content_type: Some(MqttString::try_from("j").unwrap()),
                user_properties: vec![UserProperty::new("k", "v").unwrap()],
                ..Default::default()
            })
            .build()
            .unwrap();
        round_trip(
            publish,
            &[
                0x3C, 0x16, // PUBLISH, DUP, QoS 2; Remaining Length 22
                0x00, 0x01, b't', 0x01, 0x02, // Topic Name, Packet Identifier
                0x10, // Property Length 16
                0x02, 0x00, 0x00, 0x00, 0x01, // Message Expiry Interval 1
                0x03, 0x00, 0x01, b'j', // Content Type "j"
                0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
            ],
        );
    }

    /// §3.3.2.3.4: an empty Topic Name with a Topic Alias.
    #[test]
    fn empty_topic_with_alias() {
        let publish = Publish::<u16>::builder()
            .topic_name(TopicName::empty())
            .topic_alias(alias(5).unwrap())
            .build()
            .unwrap();
        round_trip(publish, &[0x30, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x05]);
    }

    /// 4-byte packet identifiers on extended links.
    #[test]
    fn u32_packet_id() {
        let publish = Publish::<u32>::builder()
            .try_topic_name("t")
            .unwrap()
            .qos(QoS::AtLeastOnce)
            .packet_id(0x0001_0000)
            .build()
            .unwrap();
        round_trip(
            publish,
            &[0x32, 0x08, 0x00, 0x01, b't', 0x00, 0x01, 0x00, 0x00, 0x00],
        );
    }

    /// §3.3.2.1: a zero-length Topic Name without a Topic Alias is a
    /// Protocol Error.
    #[test]
    fn empty_topic_without_alias() {
        let err = decode::<u16>(&[0x30, 0x03, 0x00, 0x00, 0x00]).unwrap_err();
        assert_eq!(err, DecodeError::EmptyTopicWithoutAlias);
        assert_eq!(err.reason_code(), 0x82);
    }

    /// [MQTT-3.3.2-2] no wildcards in a Topic Name.
    #[test]
    fn wildcard_in_topic_name() {
        assert_eq!(
            decode::<u16>(&[0x30, 0x04, 0x00, 0x01, b'#', 0x00]),
            Err(DecodeError::InvalidTopicName(TopicError::WildcardInName))
        );
        assert_eq!(
            decode::<u16>(&[0x30, 0x06, 0x00, 0x03, b'a', b'/', b'+', 0x00]),
            Err(DecodeError::InvalidTopicName(TopicError::WildcardInName))
        );
    }

    /// [MQTT-3.3.2-1] the Topic Name is a UTF-8 Encoded String.
    #[test]
    fn topic_name_is_utf8() {
        assert_eq!(
            decode::<u16>(&[0x30, 0x04, 0x00, 0x01, 0xFF, 0x00]),
            Err(DecodeError::InvalidUtf8)
        );
    }

    /// [MQTT-3.3.2-8] Topic Alias 0.
    #[test]
    fn topic_alias_zero() {
        assert_eq!(
            decode::<u16>(&[0x30, 0x07, 0x00, 0x01, b't', 0x03, 0x23, 0x00, 0x00]),
            Err(DecodeError::TopicAliasZero)
        );
    }

    /// [MQTT-3.3.1-4] QoS 3.
    #[test]
    fn qos_3() {
        assert_eq!(
            decode::<u16>(&[0x36, 0x06, 0x00, 0x01, b't', 0x00, 0x01, 0x00]),
            Err(DecodeError::InvalidQos)
        );
    }

    /// [MQTT-3.3.1-2] DUP on QoS 0.
    #[test]
    fn dup_on_qos0() {
        assert!(matches!(
            decode::<u16>(&[0x38, 0x04, 0x00, 0x01, b't', 0x00]),
            Err(DecodeError::InvalidFixedHeaderFlags { .. })
        ));
    }

    /// [MQTT-2.2.1-3] a QoS 1 PUBLISH with packet identifier 0.
    #[test]
    fn zero_packet_id() {
        assert_eq!(
            decode::<u16>(&[0x32, 0x06, 0x00, 0x01, b't', 0x00, 0x00, 0x00]),
            Err(DecodeError::ZeroPacketId)
        );
    }

    /// [MQTT-2.2.2-1] the Property Length is always there, even as 0.
    #[test]
    fn property_length_required() {
        assert_eq!(
            decode::<u16>(&[0x30, 0x03, 0x00, 0x01, b't']),
            Err(DecodeError::UnexpectedEnd)
        );
    }

    /// Decoding is zero-copy and keeps the payload as the rest of the frame;
    /// an empty payload is valid (§3.3.3).
    #[test]
    fn empty_payload() {
        let Ok(Packet::Publish(p)) = decode::<u16>(&[0x30, 0x04, 0x00, 0x01, b't', 0x00]) else {
            panic!("a PUBLISH");
        };
        assert!(p.payload().is_empty());
    }

    #[test]
    fn builder_refusals() {
        let base = || Publish::<u16>::builder().try_topic_name("t").unwrap();
        // [MQTT-2.2.1-2] no packet identifier on QoS 0.
        assert!(matches!(
            base().packet_id(1).build(),
            Err(BuildError::Forbidden(_))
        ));
        // [MQTT-2.2.1-3] QoS > 0 needs one.
        assert!(matches!(
            base().qos(QoS::AtLeastOnce).build(),
            Err(BuildError::Forbidden(_))
        ));
        // [MQTT-3.3.1-2] DUP on QoS 0.
        assert!(matches!(
            base().dup(true).build(),
            Err(BuildError::Forbidden(_))
        ));
        // §3.3.2.3.4 empty topic without alias.
        assert!(matches!(
            Publish::<u16>::builder()
                .topic_name(TopicName::empty())
                .build(),
            Err(BuildError::Forbidden(_))
        ));
        // [MQTT-4.7.3-1] an empty Response Topic.
        assert!(matches!(
            base()
                .properties(PublishProperties {
                    response_topic: Some(TopicName::empty()),
                    ..Default::default()
                })
                .build(),
            Err(BuildError::Forbidden(_))
        ));
        // §3.3.2.3.2 a UTF-8 payload that is not UTF-8.
        assert!(matches!(
            base()
                .properties(PublishProperties {
                    payload_format_indicator: Some(PayloadFormatIndicator::Utf8),
                    ..Default::default()
                })
                .payload(&[0xFF][..])
                .build(),
            Err(BuildError::Forbidden(_))
        ));
        // The topic is required.
        assert_eq!(
            Publish::<u16>::builder().build(),
            Err(BuildError::MissingField("topic_name"))
        );
    }

    #[test]
    fn topic_alias_setters_keep_the_invariant() {
        let mut p = Publish::<u16>::builder()
            .try_topic_name("t")
            .unwrap()
            .build()
            .unwrap();
        assert!(p.set_topic_name(TopicName::empty()).is_err());
        p.set_topic_alias(alias(3)).unwrap();
        p.set_topic_name(TopicName::empty()).unwrap();
        assert_eq!(p.topic_alias(), alias(3));
        assert!(p.set_topic_alias(None).is_err());
        assert!(p.topic_name().is_empty());
        assert!(p.topic_name_is_empty());
    }
}
