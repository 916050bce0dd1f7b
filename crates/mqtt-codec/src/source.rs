//! [`Source`]: how a packet view becomes an owned packet.
//!
//! A view's fields are slices of the bytes it was parsed from. Given those
//! bytes as a [`Bytes`], each field becomes a `Bytes` of its own that shares
//! them (one reference count, no copy). A slice that does not lie in them
//! (a view parsed from other bytes) is copied instead: never a panic.

use bytes::Bytes;

use crate::{BinaryData, MqttString, TopicFilter, TopicName};

/// The bytes a view was parsed from.
#[derive(Clone, Copy)]
pub(crate) struct Source<'b>(pub(crate) &'b Bytes);

impl Source<'_> {
    /// Where `part` lies in the source, if it does.
    #[inline]
    pub(crate) fn offset_of(&self, part: &[u8]) -> Option<usize> {
        let base = self.0.as_ptr() as usize;
        let at = (part.as_ptr() as usize).checked_sub(base)?;
        (at + part.len() <= self.0.len()).then_some(at)
    }

    /// `part` as a `Bytes`: shared with the source when it lies in it,
    /// copied otherwise.
    #[inline]
    pub(crate) fn bytes(&self, part: &[u8]) -> Bytes {
        if part.is_empty() {
            return Bytes::new();
        }
        match self.offset_of(part) {
            Some(at) => self.0.slice(at..at + part.len()),
            None => Bytes::copy_from_slice(part),
        }
    }

    /// A string the view checked.
    #[inline]
    pub(crate) fn string(&self, s: &str) -> MqttString {
        MqttString::from_checked(self.bytes(s.as_bytes()))
    }

    /// Binary Data the view read.
    #[inline]
    pub(crate) fn binary(&self, b: &[u8]) -> BinaryData {
        BinaryData::from_wire(self.bytes(b))
    }

    /// A Topic Name the view checked.
    #[inline]
    pub(crate) fn topic_name(&self, s: &str) -> TopicName {
        TopicName::from_checked_wire(self.bytes(s.as_bytes()))
    }

    /// A Topic Filter the view checked.
    #[inline]
    pub(crate) fn topic_filter(&self, s: &str) -> TopicFilter {
        TopicFilter::from_checked(self.string(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_the_source_are_shared_others_copied() {
        let source = Bytes::from_static(b"hello world");
        let src = Source(&source);
        let shared = src.bytes(&source[6..]);
        assert_eq!(shared, "world");
        assert_eq!(shared.as_ptr(), source[6..].as_ptr());
        let other = b"world";
        let copied = src.bytes(other);
        assert_eq!(copied, "world");
        assert_ne!(copied.as_ptr(), other.as_ptr());
        assert_eq!(src.offset_of(&source[11..]), Some(11));
        assert!(src.bytes(&[]).is_empty());
    }
}
