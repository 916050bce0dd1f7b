//! PUBLISH (v5.0 §3.3).

use bytes::{BufMut, Bytes};
use core::fmt;
use core::num::NonZeroU16;

use crate::content::{Content, PayloadDebug};
use crate::encode::sealed::Body;
use crate::properties::{PayloadFormatIndicator, PublishProperties};
use crate::v3_1_1::publish::TOPIC_AT;
use crate::wire::writer::{put_length_prefixed, put_packet_id, put_publish_head};
use crate::wire::{cold, split, Reader};
use crate::{BuildError, DecodeError, EncodeError, PacketId, QoS, TopicName};

/// An application message, sent in either direction (§3.3).
///
/// A PUBLISH may carry an empty Topic Name only together with a Topic Alias
/// (§3.3.2.3.4): build one with `topic_name(TopicName::empty())` and a
/// `topic_alias` in the properties.
///
/// ```
/// use mqtt_codec::{Encode, QoS};
/// use mqtt_codec::v5_0::{Publish, PublishProperties, UserProperty};
/// let publish = Publish::<u16>::builder()
///     .try_topic_name("sensors/abc/temp")?
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
/// let mut buf = Vec::new();
/// publish.encode(&mut buf)?;
/// assert_eq!(buf.len(), publish.encoded_len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Publish<P: PacketId = u16> {
    dup: bool,
    qos: QoS,
    retain: bool,
    packet_id: Option<P>,
    properties: PublishProperties,
    content: Content,
}

crate::content::publish_builder! {
    /// DUP: set on a re-delivery [MQTT-3.3.1-1], never on QoS 0 [MQTT-3.3.1-2].
    #[builder(default)]
    pub(super) dup: bool,
    /// The QoS level (§3.3.1.2).
    #[builder(default)]
    pub(super) qos: QoS,
    /// RETAIN (§3.3.1.3).
    #[builder(default)]
    pub(super) retain: bool,
    /// The Topic Name (§3.3.2.1); [`TopicName::empty`] only with a Topic Alias.
    #[builder(try_setter)]
    pub(super) topic_name: TopicName,
    /// The Packet Identifier: present exactly when QoS > 0 [MQTT-2.2.1-2],
    /// [MQTT-2.2.1-3].
    #[builder(default, setter(strip_option, into = false))]
    pub(super) packet_id: Option<P>,
    /// The properties (§3.3.2.3).
    #[builder(default)]
    pub(super) properties: PublishProperties,
    /// The Application Message (§3.3.3).
    #[builder(default)]
    pub(super) payload: Bytes,
}

impl<P: PacketId> PublishBuilder<P> {
    /// Builds the PUBLISH.
    ///
    /// Errs on a missing Topic Name, and on what a sender must not send: a
    /// packet identifier that does not match the QoS, DUP on QoS 0, an
    /// empty Topic Name without a Topic Alias, a property value the spec
    /// forbids, a payload marked UTF-8 that is not.
    pub fn build(&self) -> Result<Publish<P>, BuildError> {
        let fields = self.build_fields()?;
        Ok(Publish {
            dup: fields.dup,
            qos: fields.qos,
            retain: fields.retain,
            packet_id: fields.packet_id,
            properties: fields.properties,
            content: Content::Parts {
                topic_name: fields.topic_name,
                payload: fields.payload,
            },
        })
    }

    fn validate(&self) -> Result<(), BuildError> {
        let qos = self.qos.unwrap_or_default();
        let has_id = matches!(self.packet_id, Some(Some(_)));
        if (qos == QoS::AtMostOnce) == has_id {
            return Err(BuildError::Forbidden(
                "a packet identifier is present exactly when QoS > 0 [MQTT-2.2.1-2], [MQTT-2.2.1-3]",
            ));
        }
        if qos == QoS::AtMostOnce && self.dup == Some(true) {
            return Err(BuildError::Forbidden(
                "DUP must be 0 on a QoS 0 PUBLISH [MQTT-3.3.1-2]",
            ));
        }
        let properties = self.properties.as_ref();
        if let Some(properties) = properties {
            properties.validate()?;
        }
        let has_alias = properties.is_some_and(|p| p.topic_alias.is_some());
        if self.topic_name.as_ref().is_some_and(TopicName::is_empty) && !has_alias {
            return Err(BuildError::Forbidden(
                "a zero-length Topic Name needs a Topic Alias (§3.3.2.3.4) [MQTT-4.7.3-1]",
            ));
        }
        let utf8 = properties.and_then(|p| p.payload_format_indicator)
            == Some(PayloadFormatIndicator::Utf8);
        if utf8 {
            let payload = self.payload.as_ref().map_or(&[][..], |p| &p[..]);
            check_utf8_payload(payload)?;
        }
        Ok(())
    }
}

/// A payload marked as UTF-8 must be well-formed UTF-8 (§3.3.2.3.2,
/// §3.1.3.2.3).
pub(super) fn check_utf8_payload(payload: &[u8]) -> Result<(), BuildError> {
    if core::str::from_utf8(payload).is_err() {
        return Err(BuildError::Forbidden(
            "a payload with Payload Format Indicator 1 is well-formed UTF-8 (§3.3.2.3.2)",
        ));
    }
    Ok(())
}

impl<P: PacketId> Publish<P> {
    /// A builder; `topic_name` is required, QoS > 0 requires `packet_id`.
    pub fn builder() -> PublishBuilder<P> {
        PublishBuilder::default()
    }

    crate::content::publish_accessors!();

    /// The Topic Alias, if any (a property, here for convenience).
    pub fn topic_alias(&self) -> Option<NonZeroU16> {
        self.properties.topic_alias
    }
    /// The properties.
    pub fn properties(&self) -> &PublishProperties {
        &self.properties
    }
    /// Replaces the Topic Name, as a sender that maps topics to aliases or
    /// a receiver that resolves an alias does (§3.3.2.3.4).
    ///
    /// Errs, changing nothing, on an empty name without a Topic Alias.
    pub fn set_topic_name(&mut self, topic_name: TopicName) -> Result<(), BuildError> {
        if topic_name.is_empty() && self.properties.topic_alias.is_none() {
            return Err(BuildError::Forbidden(
                "a zero-length Topic Name needs a Topic Alias (§3.3.2.3.4)",
            ));
        }
        self.content.set_topic_name(topic_name);
        Ok(())
    }
    /// Sets or removes the Message Expiry Interval, in seconds (§3.3.2.3.3):
    /// a sender that re-sends or forwards a stored message sets the part of
    /// the interval that is left [MQTT-3.3.2-6].
    pub fn set_message_expiry_interval(&mut self, seconds: Option<u32>) {
        self.properties.message_expiry_interval = seconds;
    }

    /// Sets or removes the Topic Alias (§3.3.2.3.4).
    ///
    /// Errs, changing nothing, on removing the alias of a PUBLISH whose
    /// Topic Name is empty.
    pub fn set_topic_alias(&mut self, alias: Option<NonZeroU16>) -> Result<(), BuildError> {
        if alias.is_none() && self.content.topic_bytes().is_empty() {
            return Err(BuildError::Forbidden(
                "a zero-length Topic Name needs a Topic Alias (§3.3.2.3.4)",
            ));
        }
        self.properties.topic_alias = alias;
        Ok(())
    }

    /// The Topic Name and packet identifier are located in place; then the
    /// packet is taken off the buffer as one `Bytes` from its Topic Name on
    /// (one reference count, see [`Content`]), and the properties are read
    /// out of it, their strings slices of it.
    #[inline(always)]
    pub(crate) fn decode(flags: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (dup, qos, retain) = crate::wire::publish_flags(flags)?;
        let body = r.unread();
        let topic = split::length_prefixed_at(body, 0)?;
        let (packet_id, properties_at) = split::publish_packet_id_at(body, qos, topic.end)?;
        r.skip(TOPIC_AT);
        let frame = r.rest();
        let mut rest = Reader::shared(&frame, properties_at - TOPIC_AT);
        let properties = PublishProperties::decode(&mut rest)?;
        let payload_at = frame.len() - rest.remaining();
        drop(rest);
        let topic_len = topic.end - topic.start;
        if topic_len == 0 {
            // §3.3.2.1: a Protocol Error unless a Topic Alias stands for it.
            if properties.topic_alias.is_none() {
                return Err(cold(DecodeError::EmptyTopicWithoutAlias));
            }
        } else {
            TopicName::check_wire(&frame[..topic_len])?;
        }
        Ok(Publish {
            dup,
            qos,
            retain,
            packet_id,
            properties,
            // A Two Byte Integer length, and a packet within
            // `MAX_PACKET_SIZE`.
            content: Content::decoded(frame, topic_len as u16, payload_at as u32),
        })
    }
}

impl<P: PacketId> fmt::Debug for Publish<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publish")
            .field("dup", &self.dup)
            .field("qos", &self.qos)
            .field("retain", &self.retain)
            .field("topic_name", &self.topic_name())
            .field("packet_id", &self.packet_id)
            .field("properties", &self.properties)
            .field("payload", &PayloadDebug(self.payload()))
            .finish()
    }
}

impl<P: PacketId> Publish<P> {
    /// The Remaining Length, given the Topic Name and payload.
    #[inline(always)]
    fn body_len_of(&self, topic: &[u8], payload: &[u8]) -> usize {
        2 + topic.len()
            + self.packet_id.map_or(0, |_| P::WIRE_LEN)
            + self.properties.encoded_len()
            + payload.len()
    }
}

impl<P: PacketId> Body for Publish<P> {
    #[inline]
    fn first_byte(&self) -> u8 {
        crate::wire::publish_first_byte(self.dup, self.qos, self.retain)
    }
    #[inline]
    fn body_len(&self) -> usize {
        let (topic, payload) = self.content.topic_and_payload();
        self.body_len_of(topic, payload)
    }
    #[inline]
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        put_length_prefixed(buf, self.content.topic_bytes());
        if let Some(id) = self.packet_id {
            put_packet_id(buf, id);
        }
        self.properties.encode(buf);
    }
    #[inline]
    fn payload(&self) -> Option<&[u8]> {
        Some(self.content.payload())
    }
    #[inline(always)]
    fn encode_packet<B: BufMut>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        let (topic, payload) = self.content.topic_and_payload();
        let body = self.body_len_of(topic, payload);
        // As `encode::encode_packet`, with the Topic Name and payload
        // fetched once.
        let total = crate::encode::check(body, 0, buf.remaining_mut())?;
        put_publish_head(buf, self.first_byte(), body, topic, self.packet_id);
        self.properties.encode(buf);
        buf.put_slice(payload);
        Ok(total)
    }
    #[inline(always)]
    fn write_packet_head<B: BufMut>(&self, buf: &mut B, body_len: usize) {
        put_publish_head(
            buf,
            self.first_byte(),
            body_len,
            self.content.topic_bytes(),
            self.packet_id,
        );
        self.properties.encode(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::UserProperty;
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
        let content_type = p.properties().content_type.as_ref().unwrap();
        assert_eq!(content_type, "x");
        for ptr in [
            p.topic_name().as_ptr(),
            content_type.as_str().as_ptr(),
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
            .properties(PublishProperties {
                topic_alias: alias(5),
                ..Default::default()
            })
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
        let base = || {
            let mut b = Publish::<u16>::builder();
            b.try_topic_name("t").unwrap();
            b
        };
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
    }
}
