//! The Topic Name, properties and payload of a PUBLISH or [`Message`], as
//! both versions hold them.
//!
//! [`Message`]: crate::Message

use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;

use crate::TopicName;

/// Where a PUBLISH or a message keeps its Topic Name, its property block
/// (the properties as on the wire, without their Property Length) and its
/// payload. The owner keeps the Topic Name's length beside it (a field here
/// would make every owner 8 bytes larger).
///
/// A built one holds two buffers: the Topic Name followed by the property
/// block, and the payload. A decoded one holds the one slice of the receive
/// buffer that all three lie in: taking the packet off the buffer then
/// costs one reference count, not one per field, and nothing is copied.
/// Either way the properties are read in place through a view, never
/// parsed into fields.
#[derive(Clone)]
pub(crate) enum Content {
    /// Built: `head` is the Topic Name, then the property block.
    Parts {
        /// The Topic Name, then the property block.
        head: Bytes,
        /// The payload.
        payload: Bytes,
    },
    /// Decoded: the packet from its Topic Name to its end. The property
    /// block is `frame[props_at..payload_at]`, the payload
    /// `frame[payload_at..]`; between the Topic Name and `props_at` lie the
    /// packet identifier and Property Length, which the owner holds itself.
    Frame {
        /// The packet from its Topic Name on.
        frame: Bytes,
        /// Where the property block starts.
        props_at: u32,
        /// Where the payload starts (and the property block ends).
        payload_at: u32,
    },
}

impl Default for Content {
    fn default() -> Self {
        Content::Parts {
            head: Bytes::new(),
            payload: Bytes::new(),
        }
    }
}

/// `bytes[from..to]`, empty when out of range (never, for the offsets a
/// decoder checked).
#[inline(always)]
fn range(bytes: &[u8], from: usize, to: usize) -> &[u8] {
    bytes.get(from..to).unwrap_or_default()
}

impl Content {
    /// A decoded PUBLISH's content, from its frame and the offsets its
    /// decoder checked.
    #[inline(always)]
    pub(crate) fn decoded(frame: Bytes, props_at: usize, payload_at: usize) -> Self {
        // A packet fits MAX_PACKET_SIZE, well below u32::MAX.
        Content::Frame {
            frame,
            props_at: props_at as u32,
            payload_at: payload_at as u32,
        }
    }

    /// A built one: `topic`, the property block `props`, and `payload`.
    /// Allocates only when there are properties (to put them after the
    /// Topic Name).
    pub(crate) fn built(topic: Bytes, props: &[u8], payload: Bytes) -> Self {
        let head = if props.is_empty() {
            topic
        } else {
            let mut head = BytesMut::with_capacity(topic.len() + props.len());
            head.put_slice(&topic);
            head.put_slice(props);
            head.freeze()
        };
        Content::Parts { head, payload }
    }

    /// The Topic Name, the property block and the payload, fetched together
    /// (one look at how they are held).
    #[inline(always)]
    pub(crate) fn parts(&self, topic_len: u16) -> (&[u8], &[u8], &[u8]) {
        let topic_len = usize::from(topic_len);
        match self {
            Content::Parts { head, payload } => (
                range(head, 0, topic_len),
                range(head, topic_len, head.len()),
                payload,
            ),
            Content::Frame {
                frame,
                props_at,
                payload_at,
            } => (
                range(frame, 0, topic_len),
                range(frame, *props_at as usize, *payload_at as usize),
                range(frame, *payload_at as usize, frame.len()),
            ),
        }
    }

    /// The bytes of the Topic Name.
    #[inline(always)]
    pub(crate) fn topic(&self, topic_len: u16) -> &[u8] {
        let (head, _) = self.head_and_payload();
        range(head, 0, usize::from(topic_len))
    }

    /// The property block.
    #[inline(always)]
    pub(crate) fn props(&self, topic_len: u16) -> &[u8] {
        self.parts(topic_len).1
    }

    /// The buffer the Topic Name starts, and the payload.
    #[inline(always)]
    fn head_and_payload(&self) -> (&Bytes, &[u8]) {
        match self {
            Content::Parts { head, payload } => (head, payload),
            Content::Frame {
                frame, payload_at, ..
            } => (frame, range(frame, *payload_at as usize, frame.len())),
        }
    }

    /// The payload.
    #[inline(always)]
    pub(crate) fn payload(&self) -> &[u8] {
        self.head_and_payload().1
    }

    /// The Topic Name as a value of its own, sharing the buffer.
    pub(crate) fn topic_name(&self, topic_len: u16) -> TopicName {
        let (head, _) = self.head_and_payload();
        TopicName::from_checked_wire(head.slice(..usize::from(topic_len).min(head.len())))
    }

    /// The payload as its own value, sharing the buffer.
    pub(crate) fn payload_bytes(&self) -> Bytes {
        match self {
            Content::Parts { payload, .. } => payload.clone(),
            Content::Frame {
                frame, payload_at, ..
            } => frame.slice((*payload_at as usize).min(frame.len())..),
        }
    }

    /// Takes the payload out.
    pub(crate) fn into_payload(self) -> Bytes {
        match self {
            Content::Parts { payload, .. } => payload,
            Content::Frame { .. } => self.payload_bytes(),
        }
    }

    /// The same Topic Name and payload with the property block `props`
    /// (which may be a part of this one's). Allocates when `props` is not
    /// empty.
    pub(crate) fn with_props(&self, topic_len: u16, props: &[u8]) -> Self {
        let topic = self
            .topic_name(topic_len)
            .as_mqtt_string()
            .clone()
            .into_bytes();
        Content::built(topic, props, self.payload_bytes())
    }

    /// The Topic Name `topic` and the property block `props` (which may be
    /// a part of this one's), with this payload. Allocates when `props` is
    /// not empty.
    pub(crate) fn with_topic(&self, topic: &TopicName, props: &[u8]) -> Self {
        let topic = topic.as_mqtt_string().clone().into_bytes();
        Content::built(topic, props, self.payload_bytes())
    }

    /// The same without properties, as a v3.1.1 PUBLISH carries it: the
    /// property block is dropped in place (no copy, no allocation).
    pub(crate) fn without_props(self, topic_len: u16) -> Self {
        match self {
            Content::Parts { head, payload } if head.len() > usize::from(topic_len) => {
                Content::Parts {
                    head: head.slice(..usize::from(topic_len)),
                    payload,
                }
            }
            Content::Frame {
                frame, payload_at, ..
            } => Content::Frame {
                frame,
                props_at: payload_at,
                payload_at,
            },
            parts => parts,
        }
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
        // Topic "a/b", a 2-byte packet id and Property Length 1, a
        // one-byte property block, then the payload "hi".
        Content::decoded(Bytes::from_static(b"a/b\x00\x07\x01\x01\x01hi"), 7, 8)
    }

    #[test]
    fn a_decoded_frame_reads_like_its_parts() {
        let frame = decoded();
        let parts = Content::built(
            Bytes::from_static(b"a/b"),
            &[0x01, 0x01],
            Bytes::from_static(b"hi"),
        );
        assert_eq!(frame.parts(3), (&b"a/b"[..], &[0x01][..], &b"hi"[..]));
        assert_eq!(parts.parts(3), (&b"a/b"[..], &[0x01, 0x01][..], &b"hi"[..]));
        assert_eq!(frame.topic(3), b"a/b");
        assert_eq!(frame.payload(), b"hi");
        assert_eq!(frame.props(3), [0x01]);
        assert_eq!(frame.topic_name(3).as_str(), "a/b");
        assert_eq!(frame.payload_bytes(), "hi");
        assert_eq!(frame.clone().into_payload(), "hi");
        assert_ne!(frame.parts(3), parts.parts(3));
        let same = Content::built(
            Bytes::from_static(b"a/b"),
            &[0x01],
            Bytes::from_static(b"hi"),
        );
        assert_eq!(frame.parts(3), same.parts(3));
    }

    #[test]
    fn a_decoded_frame_shares_its_buffer() {
        let frame = decoded();
        let Content::Frame { frame: bytes, .. } = &frame else {
            unreachable!()
        };
        let range = bytes.as_ptr_range();
        assert!(range.contains(&frame.payload_bytes().as_ptr()));
        assert!(range.contains(&frame.topic_name(3).as_str().as_ptr()));
    }

    #[test]
    fn properties_are_replaced_or_dropped_and_the_rest_kept() {
        let content = decoded();
        let bare = content.clone().without_props(3);
        assert_eq!(bare.parts(3), (&b"a/b"[..], &[][..], &b"hi"[..]));
        let other = content.with_props(3, &[0x02, 0, 0, 0, 1]);
        assert_eq!(other.parts(3).1, [0x02, 0, 0, 0, 1]);
        assert_eq!(other.payload(), b"hi");
        let renamed = content.with_topic(&TopicName::new("x").unwrap(), &[]);
        assert_eq!(renamed.parts(1), (&b"x"[..], &[][..], &b"hi"[..]));
        let built = Content::built(Bytes::from_static(b"t"), &[1, 1], Bytes::new());
        assert_eq!(built.without_props(1).parts(1).1, b"");
    }

    #[test]
    fn a_non_ascii_topic_reads_back() {
        let content = Content::decoded(Bytes::from("é/ü".as_bytes()), 5, 5);
        assert_eq!(content.topic_name(5).as_str(), "é/ü");
        assert_eq!(content.payload(), b"");
    }
}
