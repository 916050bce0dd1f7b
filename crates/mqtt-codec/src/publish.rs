//! What both versions' PUBLISH share: the fixed header flags as they are
//! kept, the parse of the variable header ([`Head`]), and the accessors and
//! builder written once for both.

use core::num::NonZeroU16;

use crate::wire::{split, PacketType};
use crate::{DecodeError, PacketId, QoS, TopicName};

/// DUP, as in the first byte (§3.3.1.1).
pub(crate) const DUP: u8 = 0b1000;
/// RETAIN, as in the first byte (§3.3.1.3).
pub(crate) const RETAIN: u8 = 0b0001;
/// A v5.0 property block holds a Topic Alias (equal to the one the PUBLISH
/// holds): to be left out where the alias is not wanted.
pub(crate) const ALIAS_IN_BLOCK: u8 = 0b1_0000;
/// A v5.0 property block holds Subscription Identifiers: to be left out of
/// a [`Message`](crate::Message).
pub(crate) const SUBIDS_IN_BLOCK: u8 = 0b10_0000;

/// The first byte of a PUBLISH of `qos` whose kept flags are `flags`.
#[inline(always)]
pub(crate) fn first_byte(qos: QoS, flags: u8) -> u8 {
    (PacketType::Publish as u8) << 4 | flags & (DUP | RETAIN) | (qos as u8) << 1
}

/// The kept flags of `dup` and `retain`.
#[inline(always)]
pub(crate) fn flags(dup: bool, retain: bool) -> u8 {
    u8::from(dup) << 3 | u8::from(retain)
}

/// The variable header of a PUBLISH, read and checked in place: where its
/// fields lie in the body (the bytes after the fixed header), and what
/// they say. A view keeps it beside the body; an owned PUBLISH takes the
/// body as one `Bytes` and keeps the offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head<P> {
    /// The packet identifier; 0 on QoS 0.
    pub(crate) packet_id: P,
    /// Where the property block starts in the body (v3.1.1: the payload).
    pub(crate) props_at: u32,
    /// Where the payload starts in the body.
    pub(crate) payload_at: u32,
    /// The length of the Topic Name, at `body[2..]`.
    pub(crate) topic_len: u16,
    /// The Topic Alias (v5.0).
    pub(crate) topic_alias: Option<NonZeroU16>,
    /// The QoS.
    pub(crate) qos: QoS,
    /// DUP, RETAIN, and what the property block holds.
    pub(crate) flags: u8,
}

/// Where the Topic Name starts in the body: after its two-byte length.
pub(crate) const TOPIC_AT: usize = 2;

impl<P: PacketId> Head<P> {
    /// Reads the Topic Name and packet identifier of a PUBLISH whose fixed
    /// header flags (as [`publish_flags`](crate::wire::publish_flags)
    /// checked them) are `(dup, qos, retain)` and whose whole body is
    /// `body`; the property block (v5.0) or payload starts at `props_at` of
    /// the result.
    ///
    /// Errs on a body too short for what it announces, and a packet
    /// identifier of 0
    /// [MQTT-2.3.1-1]; a non-empty Topic Name is checked against §4.7 and
    /// §1.5.4 (v3.1.1 refuses an empty one, v5.0 allows it with a Topic
    /// Alias: its caller decides).
    #[inline(always)]
    pub(crate) fn read(
        (dup, qos, retain): (bool, QoS, bool),
        body: &[u8],
    ) -> Result<Self, DecodeError> {
        let topic = split::length_prefixed_at(body, 0)?;
        let (packet_id, after) = split::publish_packet_id_at::<P>(body, qos, topic.end)?;
        Ok(Head {
            packet_id: packet_id.unwrap_or_default(),
            props_at: after as u32,
            payload_at: after as u32,
            // A Two Byte Integer length.
            topic_len: (topic.end - TOPIC_AT) as u16,
            topic_alias: None,
            qos,
            flags: self::flags(dup, retain),
        })
    }

    /// The Topic Name's bytes in `body`.
    #[inline(always)]
    pub(crate) fn topic<'a>(&self, body: &'a [u8]) -> &'a [u8] {
        body.get(TOPIC_AT..TOPIC_AT + usize::from(self.topic_len))
            .unwrap_or_default()
    }

    /// Checks the Topic Name: not empty, no wildcards, a UTF-8 string.
    #[inline(always)]
    pub(crate) fn check_topic(&self, body: &[u8]) -> Result<(), DecodeError> {
        TopicName::check_wire(self.topic(body))
    }

    /// The packet identifier, present when QoS > 0.
    #[inline(always)]
    pub(crate) fn packet_id(&self) -> Option<P> {
        (self.qos != QoS::AtMostOnce).then_some(self.packet_id)
    }
}

/// The setters both versions' PUBLISH builders and the [`Message`](crate::Message)
/// builder share, for a builder struct with the fields `topic_name:
/// Option<TopicName>`, `payload: Bytes`, `qos: QoS` and `retain: bool`.
/// Written by hand rather than derived: each setter takes and returns the
/// builder by value and is inlined, and `build` moves the fields, so that
/// a chain of setters is compiled into the fields themselves, with nothing
/// cloned or copied on the way.
macro_rules! message_setters {
    () => {
        /// The Topic Name (§3.3.2.1). A [`TopicName::from_static`] copies
        /// nothing.
        #[inline]
        pub fn topic_name(mut self, topic_name: impl Into<TopicName>) -> Self {
            self.topic_name = Some(topic_name.into());
            self
        }
        /// The Topic Name from anything that converts into one, such as a
        /// `&str` (copied); errs on what is not a valid Topic Name.
        #[inline]
        pub fn try_topic_name<T: TryInto<TopicName>>(
            self,
            topic_name: T,
        ) -> Result<Self, T::Error> {
            Ok(self.topic_name(topic_name.try_into()?))
        }
        /// The QoS level (§4.3); 0 when not set.
        #[inline]
        pub fn qos(mut self, qos: QoS) -> Self {
            self.qos = qos;
            self
        }
        /// RETAIN (§3.3.1.3); 0 when not set.
        #[inline]
        pub fn retain(mut self, retain: bool) -> Self {
            self.retain = retain;
            self
        }
        /// The payload, the Application Message (§3.3.3); empty when not
        /// set. A [`Bytes`] is taken as it is, without a copy.
        ///
        /// [`Bytes`]: https://docs.rs/bytes/1/bytes/struct.Bytes.html
        #[inline]
        pub fn payload(mut self, payload: impl Into<Bytes>) -> Self {
            self.payload = payload.into();
            self
        }
    };
}
pub(crate) use message_setters;

/// The setters both versions' PUBLISH builders have past
/// [`message_setters`]: DUP and the packet identifier.
macro_rules! publish_setters {
    () => {
        $crate::publish::message_setters!();

        /// DUP: set on a re-delivery [MQTT-3.3.1-1], never on QoS 0
        /// [MQTT-3.3.1-2].
        #[inline]
        pub fn dup(mut self, dup: bool) -> Self {
            self.dup = dup;
            self
        }
        /// The packet identifier: present exactly when QoS > 0
        /// [MQTT-2.2.1-2], [MQTT-2.2.1-3].
        #[inline]
        pub fn packet_id(mut self, packet_id: P) -> Self {
            self.packet_id = Some(packet_id);
            self
        }
    };
}
pub(crate) use publish_setters;

/// The Topic Name a builder was given, or the error of a missing one.
#[inline]
pub(crate) fn required(topic_name: Option<TopicName>) -> Result<TopicName, crate::BuildError> {
    topic_name.ok_or(crate::BuildError::MissingField("topic_name"))
}

/// The accessors that both versions' `Publish` and [`Message`](crate::Message)
/// share: flags, Topic Name and payload. Expands inside their `impl`.
macro_rules! message_accessors {
    () => {
        /// The QoS level.
        #[inline]
        pub fn qos(&self) -> QoS {
            self.qos
        }
        /// The RETAIN flag.
        #[inline]
        pub fn retain(&self) -> bool {
            self.flags & $crate::publish::RETAIN != 0
        }
        /// The Topic Name (on a v5.0 PUBLISH, empty when a Topic Alias
        /// stands for it). Free for plain ASCII; other text is checked as
        /// UTF-8 again on each call.
        #[inline]
        pub fn topic_name(&self) -> &str {
            $crate::string::checked_str(self.content.topic(self.topic_len))
        }
        /// Whether the Topic Name is empty: a v5.0 PUBLISH whose Topic
        /// Alias stands for it (§3.3.2.3.4). Reads no text.
        #[inline]
        pub fn topic_name_is_empty(&self) -> bool {
            self.topic_len == 0
        }
        /// The Topic Name as a value of its own, sharing the buffer (one
        /// reference count): for a store or a map key.
        pub fn to_topic_name(&self) -> TopicName {
            self.content.topic_name(self.topic_len)
        }
        /// The payload: the Application Message.
        #[inline]
        pub fn payload(&self) -> &[u8] {
            self.content.payload()
        }
        /// The payload as a value of its own, sharing the buffer (one
        /// reference count, no copy).
        pub fn payload_bytes(&self) -> Bytes {
            self.content.payload_bytes()
        }
        /// Takes the payload out (no copy).
        pub fn into_payload(self) -> Bytes {
            self.content.into_payload()
        }
        /// Takes the Topic Name and the payload out (no copy).
        pub fn into_parts(self) -> (TopicName, Bytes) {
            (self.to_topic_name(), self.content.into_payload())
        }
        /// Sets the RETAIN flag (§3.3.1.3).
        pub fn set_retain(&mut self, retain: bool) {
            self.flags = self.flags & !$crate::publish::RETAIN | u8::from(retain);
        }
    };
}
pub(crate) use message_accessors;

/// The accessors of both versions' `Publish` past [`message_accessors`]:
/// DUP and the packet identifier.
macro_rules! publish_accessors {
    () => {
        $crate::publish::message_accessors!();

        /// The DUP flag: this may be a re-delivery.
        #[inline]
        pub fn dup(&self) -> bool {
            self.flags & $crate::publish::DUP != 0
        }
        /// The packet identifier, present when QoS > 0.
        #[inline]
        pub fn packet_id(&self) -> Option<P> {
            (self.qos != QoS::AtMostOnce).then_some(self.packet_id)
        }
        /// Sets the DUP flag, as a sender does when it re-sends
        /// [MQTT-3.3.1-1]. Ignored on QoS 0 [MQTT-3.3.1-2].
        pub fn set_dup(&mut self, dup: bool) {
            let dup = dup && self.qos != QoS::AtMostOnce;
            self.flags = self.flags & !$crate::publish::DUP | u8::from(dup) << 3;
        }
        /// Replaces the packet identifier of a QoS > 0 PUBLISH; ignored on
        /// QoS 0.
        pub fn set_packet_id(&mut self, id: P) {
            if self.qos != QoS::AtMostOnce {
                self.packet_id = id;
            }
        }
    };
}
pub(crate) use publish_accessors;

/// The checks a builder makes of the packet identifier and DUP, the same
/// on both versions.
pub(crate) fn check_id_and_dup<P: PacketId>(
    qos: QoS,
    packet_id: Option<P>,
    dup: bool,
) -> Result<(), crate::BuildError> {
    if packet_id.is_some_and(|id| id.to_u32() == 0) {
        return Err(crate::BuildError::Forbidden(
            "a packet identifier is non-zero [MQTT-2.2.1-3], [MQTT-2.3.1-1]",
        ));
    }
    if (qos == QoS::AtMostOnce) == packet_id.is_some() {
        return Err(crate::BuildError::Forbidden(
            "a packet identifier is present exactly when QoS > 0 [MQTT-2.2.1-2], [MQTT-2.2.1-3]",
        ));
    }
    if qos == QoS::AtMostOnce && dup {
        return Err(crate::BuildError::Forbidden(
            "DUP must be 0 on a QoS 0 PUBLISH [MQTT-3.3.1-2]",
        ));
    }
    Ok(())
}
