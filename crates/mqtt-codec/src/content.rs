//! The Topic Name and payload of a PUBLISH, as both versions hold them.

use bytes::{Buf, Bytes};
use core::fmt;

use crate::TopicName;

/// Where a PUBLISH keeps its Topic Name and payload.
///
/// A built PUBLISH holds the two buffers it was given. A decoded one holds
/// the one slice of the receive buffer that both lie in: taking the packet
/// off the buffer then costs one reference count, not one per field, and
/// nothing is copied.
#[derive(Clone)]
pub(crate) enum Content {
    /// Built: a Topic Name and a payload, each its own buffer.
    Parts {
        /// The Topic Name.
        topic_name: TopicName,
        /// The payload.
        payload: Bytes,
    },
    /// Decoded: `frame[..topic_len]` is a checked Topic Name, or empty
    /// where a v5.0 Topic Alias stands for it, and `frame[payload_at..]` is
    /// the payload.
    Frame {
        /// The packet from its Topic Name to its end.
        frame: Bytes,
        /// The length of the Topic Name at the front of `frame`.
        topic_len: u16,
        /// Where the payload starts in `frame`.
        payload_at: u32,
    },
}

impl Content {
    /// A decoded PUBLISH's content, from its frame and the offsets its
    /// decoder checked: `frame[..topic_len]` passed the Topic Name rules
    /// and `payload_at <= frame.len()`.
    #[inline(always)]
    pub(crate) fn decoded(frame: Bytes, topic_len: u16, payload_at: u32) -> Self {
        Content::Frame {
            frame,
            topic_len,
            payload_at,
        }
    }

    /// The bytes of the Topic Name.
    #[inline(always)]
    pub(crate) fn topic_bytes(&self) -> &[u8] {
        match self {
            Content::Parts { topic_name, .. } => topic_name.as_mqtt_string().as_bytes(),
            Content::Frame {
                frame, topic_len, ..
            } => frame.get(..usize::from(*topic_len)).unwrap_or_default(),
        }
    }

    /// The bytes of the Topic Name and the payload, fetched together (one
    /// look at how they are held), as the encoder wants them.
    /// [`topic_bytes`](Self::topic_bytes) and [`payload`](Self::payload) are
    /// their own matches: reading one half of this pair measured about
    /// 0.5 ns slower per decoded packet.
    #[inline(always)]
    pub(crate) fn topic_and_payload(&self) -> (&[u8], &[u8]) {
        match self {
            Content::Parts {
                topic_name,
                payload,
            } => (topic_name.as_mqtt_string().as_bytes(), payload),
            Content::Frame {
                frame,
                topic_len,
                payload_at,
            } => (
                frame.get(..usize::from(*topic_len)).unwrap_or_default(),
                frame.get(*payload_at as usize..).unwrap_or_default(),
            ),
        }
    }

    /// The Topic Name as a string (checked when built or decoded).
    #[inline(always)]
    pub(crate) fn topic_str(&self) -> &str {
        crate::string::checked_str(self.topic_bytes())
    }

    /// The Topic Name as its own value, sharing the buffer.
    pub(crate) fn to_topic_name(&self) -> TopicName {
        match self {
            Content::Parts { topic_name, .. } => topic_name.clone(),
            Content::Frame {
                frame, topic_len, ..
            } => TopicName::from_checked_wire(frame.slice(..usize::from(*topic_len))),
        }
    }

    /// The payload.
    #[inline(always)]
    pub(crate) fn payload(&self) -> &[u8] {
        match self {
            Content::Parts { payload, .. } => payload,
            Content::Frame {
                frame, payload_at, ..
            } => frame.get(*payload_at as usize..).unwrap_or_default(),
        }
    }

    /// The payload as its own value, sharing the buffer.
    pub(crate) fn payload_bytes(&self) -> Bytes {
        match self {
            Content::Parts { payload, .. } => payload.clone(),
            Content::Frame {
                frame, payload_at, ..
            } => frame.slice(*payload_at as usize..),
        }
    }

    /// Takes the payload out.
    pub(crate) fn into_payload(self) -> Bytes {
        match self {
            Content::Parts { payload, .. } => payload,
            Content::Frame {
                mut frame,
                payload_at,
                ..
            } => {
                frame.advance(payload_at as usize);
                frame
            }
        }
    }

    /// Takes the Topic Name and the payload out.
    pub(crate) fn into_parts(self) -> (TopicName, Bytes) {
        match self {
            Content::Parts {
                topic_name,
                payload,
            } => (topic_name, payload),
            Content::Frame { .. } => (self.to_topic_name(), self.into_payload()),
        }
    }

    /// Replaces the Topic Name; the payload stays where it is.
    pub(crate) fn set_topic_name(&mut self, topic_name: TopicName) {
        match self {
            Content::Parts { topic_name: t, .. } => *t = topic_name,
            Content::Frame { .. } => {
                *self = Content::Parts {
                    topic_name,
                    payload: self.payload_bytes(),
                }
            }
        }
    }
}

/// The builder both versions' `Publish` have, derived from a struct of the
/// fields it sets (given as the macro's input, each `pub(super)`). That
/// struct is named `Publish` too, so that the builder's generated docs name
/// the type it builds; `PublishBuilder::build` (written by each version,
/// with its `validate`) turns it into the real `Publish`.
macro_rules! publish_builder {
    ($($fields:tt)*) => {
        pub use fields::PublishBuilder;

        /// The builder's fields (see `content::publish_builder`).
        mod fields {
            use super::*;

            #[derive(derive_builder::Builder)]
            #[builder(
                name = "PublishBuilder",
                public,
                no_std,
                setter(into),
                field(vis = "pub(super)"),
                build_fn(
                    vis = "pub(super)",
                    name = "build_fields",
                    validate = "Self::validate",
                    error = "BuildError"
                )
            )]
            pub(super) struct Publish<P: PacketId> {
                $($fields)*
            }
        }
    };
}
pub(crate) use publish_builder;

/// The accessors both versions' `Publish` share: flags, packet identifier,
/// Topic Name and payload. Expands inside `impl<P: PacketId> Publish<P>`.
macro_rules! publish_accessors {
    () => {
        /// The DUP flag: this may be a re-delivery.
        pub fn dup(&self) -> bool {
            self.dup
        }
        /// The QoS level.
        pub fn qos(&self) -> QoS {
            self.qos
        }
        /// The RETAIN flag.
        pub fn retain(&self) -> bool {
            self.retain
        }
        /// The packet identifier, present when QoS > 0.
        pub fn packet_id(&self) -> Option<P> {
            self.packet_id
        }
        /// The Topic Name (on v5.0, empty when a Topic Alias stands for it).
        /// Free for plain ASCII; other text is checked as UTF-8 again on
        /// each call.
        #[inline]
        pub fn topic_name(&self) -> &str {
            self.content.topic_str()
        }
        /// The Topic Name as a value of its own, sharing the packet's buffer
        /// (one reference count): for a store or a map key.
        pub fn to_topic_name(&self) -> TopicName {
            self.content.to_topic_name()
        }
        /// The payload: the Application Message.
        #[inline]
        pub fn payload(&self) -> &[u8] {
            self.content.payload()
        }
        /// The payload as a value of its own, sharing the packet's buffer
        /// (one reference count, no copy).
        pub fn payload_bytes(&self) -> Bytes {
            self.content.payload_bytes()
        }
        /// Takes the payload out (no copy).
        pub fn into_payload(self) -> Bytes {
            self.content.into_payload()
        }
        /// Takes the Topic Name and the payload out (no copy).
        pub fn into_parts(self) -> (TopicName, Bytes) {
            self.content.into_parts()
        }
        /// Sets the DUP flag, as a sender does when it re-sends
        /// [MQTT-3.3.1-1]. Ignored on QoS 0 [MQTT-3.3.1-2].
        pub fn set_dup(&mut self, dup: bool) {
            self.dup = dup && self.qos != QoS::AtMostOnce;
        }
        /// Replaces the packet identifier of a QoS > 0 PUBLISH; ignored on
        /// QoS 0.
        pub fn set_packet_id(&mut self, id: P) {
            if self.qos != QoS::AtMostOnce {
                self.packet_id = Some(id);
            }
        }
    };
}
pub(crate) use publish_accessors;

impl Default for Content {
    fn default() -> Self {
        Content::Parts {
            topic_name: TopicName::empty(),
            payload: Bytes::new(),
        }
    }
}

/// Equal when the Topic Names and payloads are, however they are held.
impl PartialEq for Content {
    fn eq(&self, other: &Self) -> bool {
        self.topic_bytes() == other.topic_bytes() && self.payload() == other.payload()
    }
}

impl Eq for Content {}

impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Content")
            .field("topic_name", &self.topic_str())
            .field("payload", &PayloadDebug(self.payload()))
            .finish()
    }
}

/// The payload as [`Bytes`] prints it: a byte string literal.
pub(crate) struct PayloadDebug<'a>(pub(crate) &'a [u8]);

impl fmt::Debug for PayloadDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&Bytes::copy_from_slice(self.0), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded() -> Content {
        // Topic "a/b", a 2-byte packet id, then the payload "hi".
        Content::decoded(Bytes::from_static(b"a/b\x00\x07hi"), 3, 5)
    }

    #[test]
    fn a_decoded_frame_reads_like_its_parts() {
        let frame = decoded();
        let parts = Content::Parts {
            topic_name: TopicName::new("a/b").unwrap(),
            payload: Bytes::from_static(b"hi"),
        };
        assert_eq!(frame, parts);
        assert_eq!(frame.topic_str(), "a/b");
        assert_eq!(frame.topic_bytes(), b"a/b");
        assert_eq!(frame.payload(), b"hi");
        assert_eq!(frame.payload_bytes(), &b"hi"[..]);
        assert_eq!(frame.to_topic_name(), "a/b");
        assert_eq!(frame.clone().into_payload(), &b"hi"[..]);
        let (topic, payload) = frame.into_parts();
        assert_eq!((topic.as_str(), &payload[..]), ("a/b", &b"hi"[..]));
    }

    #[test]
    fn values_taken_out_share_the_frame() {
        let frame = decoded();
        let Content::Frame { frame: ref buf, .. } = frame else {
            unreachable!()
        };
        let range = buf.as_ptr_range();
        assert!(range.contains(&frame.payload_bytes().as_ptr()));
        assert!(range.contains(&frame.to_topic_name().as_str().as_ptr()));
    }

    #[test]
    fn a_new_topic_name_keeps_the_payload() {
        let mut content = decoded();
        content.set_topic_name(TopicName::new("x").unwrap());
        assert_eq!(content.topic_str(), "x");
        assert_eq!(content.payload(), b"hi");
    }

    #[test]
    fn a_non_ascii_topic_reads_back() {
        let content = Content::decoded(Bytes::from("é/ü".as_bytes()), 5, 5);
        assert_eq!(content.topic_str(), "é/ü");
        assert_eq!(content.payload(), b"");
    }
}
