//! PUBLISH (v3.1.1 §3.3).

use bytes::{BufMut, Bytes};
use core::fmt;

use crate::content::{Content, PayloadDebug};
use crate::encode::sealed::Body;
use crate::publish::{self as common, Head, TOPIC_AT};
use crate::source::Source;
use crate::wire::writer::{put_length_prefixed, put_packet_id, put_publish_head};
use crate::{BuildError, DecodeError, EncodeError, Message, PacketId, QoS, TopicName};

/// An application message, sent in either direction.
///
/// Building one from a `'static` Topic Name and a [`Bytes`] payload
/// allocates nothing:
///
/// ```
/// use mqtt_codec::{Encode, QoS, TopicName, v3_1_1::Publish};
/// let publish = Publish::<u16>::builder()
///     .topic_name(TopicName::from_static("sensors/abc/temp")?)
///     .qos(QoS::AtLeastOnce)
///     .packet_id(7)
///     .payload(&b"21.5"[..])
///     .build()?;
/// let mut buf = Vec::new();
/// publish.encode(&mut buf)?;
/// assert_eq!(buf.len(), publish.encoded_len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`Bytes`]: https://docs.rs/bytes/1/bytes/struct.Bytes.html
#[derive(Clone)]
pub struct Publish<P: PacketId = u16> {
    content: Content,
    /// 0 on QoS 0.
    packet_id: P,
    topic_len: u16,
    qos: QoS,
    /// DUP and RETAIN.
    flags: u8,
}

/// The builder of a [`Publish`]: the Topic Name is required, a QoS above 0
/// requires a packet identifier.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PublishBuilder<P: PacketId = u16> {
    topic_name: Option<TopicName>,
    payload: Bytes,
    packet_id: Option<P>,
    qos: QoS,
    dup: bool,
    retain: bool,
}

impl<P: PacketId> Default for PublishBuilder<P> {
    fn default() -> Self {
        PublishBuilder {
            topic_name: None,
            payload: Bytes::new(),
            packet_id: None,
            qos: QoS::AtMostOnce,
            dup: false,
            retain: false,
        }
    }
}

impl<P: PacketId> PublishBuilder<P> {
    common::publish_setters!();

    /// Builds the PUBLISH; allocates nothing.
    ///
    /// Errs on a missing Topic Name, and on what a sender must not send:
    /// a packet identifier of 0 or one that does not match the QoS, DUP on
    /// QoS 0, an empty Topic Name [MQTT-4.7.3-1].
    #[inline]
    pub fn build(self) -> Result<Publish<P>, BuildError> {
        let topic_name = common::required(self.topic_name)?;
        common::check_id_and_dup(self.qos, self.packet_id, self.dup)?;
        if topic_name.is_empty() {
            return Err(BuildError::Forbidden(
                "a topic name is at least one character long [MQTT-4.7.3-1]",
            ));
        }
        let topic = topic_name.into_bytes();
        Ok(Publish {
            topic_len: topic.len() as u16,
            content: Content::built(topic, &[], self.payload),
            packet_id: self.packet_id.unwrap_or_default(),
            qos: self.qos,
            flags: common::flags(self.dup, self.retain),
        })
    }
}

impl<P: PacketId> Publish<P> {
    /// A builder; `topic_name` is required, QoS > 0 requires `packet_id`.
    pub fn builder() -> PublishBuilder<P> {
        PublishBuilder::default()
    }

    common::publish_accessors!();

    /// The PUBLISH that carries `message`, with `packet_id` when its QoS
    /// is above 0 (take one from a packet identifier pool: 0 is no
    /// identifier [MQTT-2.3.1-1]; at QoS 0 it is ignored). v3.1.1 has no
    /// properties: the message's are dropped (left out in place, nothing
    /// copied), and a message with an empty Topic Name (never built, but a
    /// v5.0 PUBLISH that had only a Topic Alias) cannot be sent on v3.1.1.
    pub fn from_message(message: Message, packet_id: P) -> Self {
        let (content, topic_len, qos, flags) = message.into_fields();
        Publish {
            content: content.without_props(topic_len),
            packet_id: if qos == QoS::AtMostOnce {
                P::default()
            } else {
                packet_id
            },
            topic_len,
            qos,
            flags: flags & common::RETAIN,
        }
    }

    /// The message this PUBLISH carries: its Topic Name, payload, QoS and
    /// RETAIN, without packet identifier and DUP.
    pub fn into_message(self) -> Message {
        let retain = self.retain();
        Message::from_fields(self.content, self.topic_len, self.qos, retain)
    }

    /// The PUBLISH of a view whose slices lie in `src`.
    #[inline(always)]
    pub(crate) fn from_head(head: &Head<P>, frame: Bytes) -> Self {
        let at = |offset: u32| offset as usize - TOPIC_AT;
        Publish {
            content: Content::decoded(frame, at(head.payload_at), at(head.payload_at)),
            packet_id: head.packet_id,
            topic_len: head.topic_len,
            qos: head.qos,
            flags: head.flags,
        }
    }
}

/// A PUBLISH read in place (see [`PacketView`](super::PacketView)): its
/// Topic Name and payload are slices of the bytes it was parsed from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublishView<'a, P: PacketId = u16> {
    body: &'a [u8],
    head: Head<P>,
}

impl<'a, P: PacketId> PublishView<'a, P> {
    /// Reads and checks the body of a PUBLISH whose fixed header flags are
    /// `flags`: see [`Head::read`]; the Topic Name may not be empty.
    #[inline(always)]
    pub(crate) fn parse(flags: u8, body: &'a [u8]) -> Result<Self, DecodeError> {
        Self::parse_flags(crate::wire::publish_flags(flags)?, body)
    }

    /// [`parse`](Self::parse), given the flags checked already.
    #[inline(always)]
    pub(crate) fn parse_flags(
        flags: (bool, QoS, bool),
        body: &'a [u8],
    ) -> Result<Self, DecodeError> {
        let head = Head::read(flags, body)?;
        head.check_topic(body)?;
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
    /// The Topic Name.
    #[inline]
    pub fn topic_name(&self) -> &'a str {
        crate::string::checked_str(self.head.topic(self.body))
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

impl<P: PacketId> fmt::Debug for PublishView<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishView")
            .field("dup", &self.dup())
            .field("qos", &self.qos())
            .field("retain", &self.retain())
            .field("topic_name", &self.topic_name())
            .field("packet_id", &self.packet_id())
            .field("payload", &PayloadDebug(self.payload()))
            .finish()
    }
}

impl<P: PacketId> PartialEq for Publish<P> {
    fn eq(&self, other: &Self) -> bool {
        self.qos == other.qos
            && self.flags & (common::DUP | common::RETAIN)
                == other.flags & (common::DUP | common::RETAIN)
            && self.packet_id() == other.packet_id()
            && self.content.topic(self.topic_len) == other.content.topic(other.topic_len)
            && self.payload() == other.payload()
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
            .field("payload", &PayloadDebug(self.payload()))
            .finish()
    }
}

impl<P: PacketId> Publish<P> {
    /// The Remaining Length, given the Topic Name and payload.
    #[inline(always)]
    fn body_len_of(&self, topic: &[u8], payload: &[u8]) -> usize {
        let id_len = if self.qos == QoS::AtMostOnce {
            0
        } else {
            P::WIRE_LEN
        };
        2 + topic.len() + id_len + payload.len()
    }
}

impl<P: PacketId> Body for Publish<P> {
    #[inline]
    fn first_byte(&self) -> u8 {
        common::first_byte(self.qos, self.flags)
    }
    #[inline]
    fn body_len(&self) -> usize {
        let (topic, _, payload) = self.content.parts(self.topic_len);
        self.body_len_of(topic, payload)
    }
    #[inline]
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        put_length_prefixed(buf, self.content.topic(self.topic_len));
        if let Some(id) = self.packet_id() {
            put_packet_id(buf, id);
        }
    }
    #[inline]
    fn payload(&self) -> Option<&[u8]> {
        Some(self.content.payload())
    }
    #[inline(always)]
    fn encode_packet<B: BufMut>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        let (topic, _, payload) = self.content.parts(self.topic_len);
        let body = self.body_len_of(topic, payload);
        // As `encode::encode_packet`, with the Topic Name and payload
        // fetched once.
        let total = crate::encode::check(body, 0, buf.remaining_mut())?;
        put_publish_head(buf, self.first_byte(), body, topic, self.packet_id());
        buf.put_slice(payload);
        Ok(total)
    }
    #[inline(always)]
    fn write_packet_head<B: BufMut>(&self, buf: &mut B, body_len: usize) {
        put_publish_head(
            buf,
            self.first_byte(),
            body_len,
            self.content.topic(self.topic_len),
            self.packet_id(),
        );
    }
}
