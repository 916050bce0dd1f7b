//! PUBLISH (v3.1.1 §3.3).

use bytes::{BufMut, Bytes};
use core::fmt;

use crate::content::{Content, PayloadDebug};
use crate::encode::sealed::Body;
use crate::wire::writer::{put_length_prefixed, put_packet_id, put_publish_head};
use crate::wire::{split, Reader};
use crate::{BuildError, DecodeError, EncodeError, PacketId, QoS, TopicName};

/// An application message, sent in either direction.
///
/// ```
/// use mqtt_codec::{Encode, QoS, v3_1_1::Publish};
/// let publish = Publish::<u16>::builder()
///     .try_topic_name("sensors/abc/temp")?
///     .qos(QoS::AtLeastOnce)
///     .packet_id(7)
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
    content: Content,
}

crate::content::publish_builder! {
    /// Set on a re-delivery [MQTT-3.3.1-1]; never on QoS 0 [MQTT-3.3.1-2].
    #[builder(default)]
    pub(super) dup: bool,
    /// The QoS level (§4.3).
    #[builder(default)]
    pub(super) qos: QoS,
    /// Whether the server keeps the message for future subscribers (§3.3.1.3).
    #[builder(default)]
    pub(super) retain: bool,
    /// Where the message goes; never empty in v3.1.1 [MQTT-4.7.3-1].
    #[builder(try_setter)]
    pub(super) topic_name: TopicName,
    /// Present exactly when QoS > 0 [MQTT-2.3.1-1], [MQTT-2.3.1-5].
    #[builder(default, setter(strip_option, into = false))]
    pub(super) packet_id: Option<P>,
    /// The application message, carried as is.
    #[builder(default)]
    pub(super) payload: Bytes,
}

impl<P: PacketId> PublishBuilder<P> {
    /// Builds the PUBLISH.
    ///
    /// Errs on a missing Topic Name, and on what a sender must not send:
    /// a packet identifier of 0 or one that does not match the QoS, DUP on
    /// QoS 0, an empty Topic Name.
    pub fn build(&self) -> Result<Publish<P>, BuildError> {
        let fields = self.build_fields()?;
        Ok(Publish {
            dup: fields.dup,
            qos: fields.qos,
            retain: fields.retain,
            packet_id: fields.packet_id,
            content: Content::Parts {
                topic_name: fields.topic_name,
                payload: fields.payload,
            },
        })
    }

    fn validate(&self) -> Result<(), BuildError> {
        let qos = self.qos.unwrap_or_default();
        let has_id = matches!(self.packet_id, Some(Some(_)));
        if matches!(self.packet_id, Some(Some(id)) if id.to_u32() == 0) {
            return Err(BuildError::Forbidden(
                "a packet identifier is non-zero [MQTT-2.3.1-1]",
            ));
        }
        if (qos == QoS::AtMostOnce) == has_id {
            return Err(BuildError::Forbidden(
                "a packet identifier is present exactly when QoS > 0 [MQTT-2.3.1-1], [MQTT-2.3.1-5]",
            ));
        }
        if qos == QoS::AtMostOnce && self.dup == Some(true) {
            return Err(BuildError::Forbidden(
                "DUP must be 0 on a QoS 0 PUBLISH [MQTT-3.3.1-2]",
            ));
        }
        if self.topic_name.as_ref().is_some_and(TopicName::is_empty) {
            return Err(BuildError::Forbidden(
                "a topic name is at least one character long [MQTT-4.7.3-1]",
            ));
        }
        Ok(())
    }
}

impl<P: PacketId> Publish<P> {
    /// A builder; `topic_name` is required, QoS > 0 requires `packet_id`.
    pub fn builder() -> PublishBuilder<P> {
        PublishBuilder::default()
    }

    crate::content::publish_accessors!();

    /// Decodes the body at the front of `r`; see [`Head`].
    #[inline(always)]
    pub(crate) fn decode(flags: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let head = Head::read(crate::wire::publish_flags(flags)?, r.unread())?;
        r.skip(TOPIC_AT);
        Ok(head.into_publish(r.rest()))
    }
}

/// Where the Topic Name starts in the body: after its two-byte length.
pub(crate) const TOPIC_AT: usize = 2;

/// The fixed header flags and variable header of a PUBLISH, read and checked
/// in place, before any byte is taken off the receive buffer. The body is
/// then taken off as one `Bytes` that holds both the Topic Name and the
/// payload (one reference count, see [`Content`]).
pub(crate) struct Head<P> {
    dup: bool,
    qos: QoS,
    retain: bool,
    packet_id: Option<P>,
    topic_len: u16,
    /// Where the payload starts, counted from the Topic Name.
    payload_at: u32,
}

impl<P: PacketId> Head<P> {
    /// Reads the PUBLISH whose fixed header flags are `(dup, qos, retain)`
    /// (as [`publish_flags`](crate::wire::publish_flags) checked them) and
    /// whose whole body is `body`.
    ///
    /// Errs on a Topic Name that breaks the rules of §4.7 or §1.5.4, a
    /// packet identifier of 0 [MQTT-2.3.1-1], and a body too short for what
    /// it announces.
    #[inline(always)]
    pub(crate) fn read(
        (dup, qos, retain): (bool, QoS, bool),
        body: &[u8],
    ) -> Result<Self, DecodeError> {
        let topic = split::length_prefixed_at(body, 0)?;
        TopicName::check_wire(&body[topic.clone()])?;
        let (packet_id, payload_at) = split::publish_packet_id_at(body, qos, topic.end)?;
        Ok(Head {
            dup,
            qos,
            retain,
            packet_id,
            // A Two Byte Integer length, and a packet within `MAX_PACKET_SIZE`.
            topic_len: (topic.end - TOPIC_AT) as u16,
            payload_at: (payload_at - TOPIC_AT) as u32,
        })
    }

    /// The PUBLISH, given the body from its Topic Name on, taken off the
    /// receive buffer.
    #[inline(always)]
    pub(crate) fn into_publish(self, frame: Bytes) -> Publish<P> {
        Publish {
            dup: self.dup,
            qos: self.qos,
            retain: self.retain,
            packet_id: self.packet_id,
            content: Content::decoded(frame, self.topic_len, self.payload_at),
        }
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
            .field("payload", &PayloadDebug(self.payload()))
            .finish()
    }
}

impl<P: PacketId> Publish<P> {
    /// The Remaining Length, given the Topic Name and payload.
    #[inline(always)]
    fn body_len_of(&self, topic: &[u8], payload: &[u8]) -> usize {
        2 + topic.len() + self.packet_id.map_or(0, |_| P::WIRE_LEN) + payload.len()
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
    }
}
