//! UNSUBSCRIBE (v3.1.1 §3.10).

use alloc::vec::Vec;
use bytes::{BufMut, Bytes};
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::source::Source;
use crate::wire::writer::{put_length_prefixed, put_packet_id};
use crate::wire::{PacketType, Reader};
use crate::{BuildError, DecodeError, PacketId, TopicFilter};

/// A client's request to end subscriptions.
///
/// ```
/// use mqtt_codec::{Encode, TopicFilter, v3_1_1::Unsubscribe};
/// let unsubscribe = Unsubscribe::<u16>::builder()
///     .packet_id(10)
///     .topic_filter(TopicFilter::new("a/+")?)
///     .build()?;
/// let mut buf = Vec::new();
/// unsubscribe.encode(&mut buf)?;
/// assert_eq!(buf, b"\xa2\x07\x00\x0a\x00\x03a/+");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Unsubscribe<P: PacketId = u16> {
    /// The packet identifier; never 0 [MQTT-2.3.1-1].
    #[builder(setter(into = false))]
    packet_id: P,
    /// The Topic Filters to unsubscribe from, in order; at least one
    /// [MQTT-3.10.3-2]. `topic_filter(...)` adds one at a time.
    #[builder(default, setter(each(name = "topic_filter", into)))]
    topic_filters: Vec<TopicFilter>,
}

impl<P: PacketId> UnsubscribeBuilder<P> {
    fn validate(&self) -> Result<(), BuildError> {
        if self.packet_id.is_some_and(|id| id.to_u32() == 0) {
            return Err(BuildError::Forbidden(
                "a packet identifier is never 0 [MQTT-2.3.1-1]",
            ));
        }
        if self.topic_filters.as_ref().is_none_or(Vec::is_empty) {
            return Err(BuildError::Forbidden(
                "an UNSUBSCRIBE holds at least one topic filter [MQTT-3.10.3-2]",
            ));
        }
        Ok(())
    }
}

impl<P: PacketId> Unsubscribe<P> {
    /// A builder; `packet_id` and at least one topic filter are required.
    pub fn builder() -> UnsubscribeBuilder<P> {
        UnsubscribeBuilder::default()
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> P {
        self.packet_id
    }
    /// The Topic Filters, in the order sent.
    pub fn topic_filters(&self) -> &[TopicFilter] {
        &self.topic_filters
    }
    /// Takes the Topic Filters out.
    pub fn into_topic_filters(self) -> Vec<TopicFilter> {
        self.topic_filters
    }

    /// The packet of a checked view whose slices lie in `src`.
    pub(crate) fn from_view(view: &UnsubscribeView<'_, P>, src: Source<'_>) -> Self {
        Unsubscribe {
            packet_id: view.packet_id,
            topic_filters: view.topic_filters().map(|f| src.topic_filter(f)).collect(),
        }
    }
}

/// An UNSUBSCRIBE read in place (see [`PacketView`](super::PacketView)): its
/// Topic Filters are slices of the bytes it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsubscribeView<'a, P: PacketId = u16> {
    packet_id: P,
    /// The checked payload.
    payload: &'a [u8],
}

impl<'a, P: PacketId> UnsubscribeView<'a, P> {
    /// Reads and checks the body.
    pub(crate) fn parse(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let payload = r.unread();
        while r.remaining() > 0 {
            // [MQTT-3.10.3-1]
            r.topic_filter()?;
        }
        if payload.is_empty() {
            // [MQTT-3.10.3-2]
            return Err(DecodeError::EmptyPayload(PacketType::Unsubscribe));
        }
        Ok(UnsubscribeView { packet_id, payload })
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> P {
        self.packet_id
    }
    /// The Topic Filters, in order.
    pub fn topic_filters(&self) -> impl Iterator<Item = &'a str> + 'a {
        let mut r = Reader::new(self.payload);
        core::iter::from_fn(move || Some(crate::string::checked_str(r.length_prefixed().ok()?)))
    }
    /// The owned packet, sharing `source` when the view was parsed from it
    /// (copying otherwise).
    pub fn to_owned(&self, source: &Bytes) -> Unsubscribe<P> {
        Unsubscribe::from_view(self, Source(source))
    }
}

impl<P: PacketId> Body for Unsubscribe<P> {
    #[inline]
    fn first_byte(&self) -> u8 {
        (PacketType::Unsubscribe as u8) << 4 | 0b0010
    }
    #[inline]
    fn body_len(&self) -> usize {
        P::WIRE_LEN
            + self
                .topic_filters
                .iter()
                .map(TopicFilter::encoded_len)
                .sum::<usize>()
    }
    #[inline]
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        put_packet_id(buf, self.packet_id);
        for filter in &self.topic_filters {
            put_length_prefixed(buf, filter.as_mqtt_string().as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topic::TopicError;
    use crate::v3_1_1::test_util::{decode, encode};
    use crate::v3_1_1::Packet;

    fn filter(s: &'static str) -> TopicFilter {
        TopicFilter::from_static(s).unwrap()
    }

    /// The non-normative example of §3.10.3.1 ("a/b", "c/d"), packet
    /// identifier 10.
    const EXAMPLE: &[u8] = &[
        0xA2, 0x0C, // UNSUBSCRIBE, flags 0010, remaining length 12
        0x00, 0x0A, // Packet Identifier 10
        0x00, 0x03, b'a', b'/', b'b', // "a/b"
        0x00, 0x03, b'c', b'/', b'd', // "c/d"
    ];

    #[test]
    fn encodes_and_decodes_exact_bytes() {
        let unsubscribe = Unsubscribe::<u16>::builder()
            .packet_id(10)
            .topic_filter(filter("a/b"))
            .topic_filter(filter("c/d"))
            .build()
            .unwrap();
        assert_eq!(encode(&unsubscribe), EXAMPLE);
        assert_eq!(
            decode::<u16>(EXAMPLE),
            Ok(Packet::Unsubscribe(unsubscribe.clone()))
        );
        assert_eq!(unsubscribe.packet_id(), 10);
        assert_eq!(unsubscribe.topic_filters(), [filter("a/b"), filter("c/d")]);
    }

    #[test]
    fn u32_packet_ids_take_four_bytes() {
        let bytes = [0xA2, 0x07, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01, b'#'];
        let unsubscribe = Unsubscribe::<u32>::builder()
            .packet_id(7u32)
            .topic_filters(alloc::vec![filter("#")])
            .build()
            .unwrap();
        assert_eq!(encode(&unsubscribe), bytes);
        assert_eq!(decode::<u32>(&bytes), Ok(Packet::Unsubscribe(unsubscribe)));
    }

    /// [MQTT-3.10.3-2] at least one Topic Filter.
    #[test]
    fn empty_payload_is_refused() {
        assert_eq!(
            decode::<u16>(&[0xA2, 0x02, 0x00, 0x0A]),
            Err(DecodeError::EmptyPayload(PacketType::Unsubscribe))
        );
        assert_eq!(
            Unsubscribe::<u16>::builder().packet_id(1).build(),
            Err(BuildError::Forbidden(
                "an UNSUBSCRIBE holds at least one topic filter [MQTT-3.10.3-2]"
            ))
        );
    }

    /// [MQTT-3.10.3-1], [MQTT-4.7.1-3], [MQTT-4.7.3-1]: each Topic Filter is
    /// a valid one.
    #[test]
    fn invalid_topic_filters_are_refused() {
        let cases: [(&[u8], DecodeError); 4] = [
            (
                b"a+",
                DecodeError::InvalidTopicFilter(TopicError::MisplacedWildcard),
            ),
            (b"", DecodeError::InvalidTopicFilter(TopicError::Empty)),
            (b"a\0", DecodeError::NullCharacter),
            (b"\xED\xA0\x80", DecodeError::InvalidUtf8),
        ];
        for (topic, err) in cases {
            let mut bytes = alloc::vec![0xA2, 4 + topic.len() as u8, 0x00, 0x0A, 0x00];
            bytes.push(topic.len() as u8);
            bytes.extend_from_slice(topic);
            assert_eq!(decode::<u16>(&bytes), Err(err), "{topic:?}");
        }
    }

    /// A Topic Filter cut short runs past the end.
    #[test]
    fn truncated_filter_is_refused() {
        assert_eq!(
            decode::<u16>(&[0xA2, 0x05, 0x00, 0x0A, 0x00, 0x02, b'a']),
            Err(DecodeError::UnexpectedEnd)
        );
    }

    /// [MQTT-2.3.1-1] the packet identifier is non-zero.
    #[test]
    fn zero_packet_id_is_refused() {
        assert_eq!(
            decode::<u16>(&[0xA2, 0x05, 0x00, 0x00, 0x00, 0x01, b'a']),
            Err(DecodeError::ZeroPacketId)
        );
        assert!(matches!(
            Unsubscribe::<u16>::builder()
                .packet_id(0)
                .topic_filter(filter("a"))
                .build(),
            Err(BuildError::Forbidden(_))
        ));
    }

    /// [MQTT-3.10.1-1], [MQTT-2.2.2-1], [MQTT-2.2.2-2]: UNSUBSCRIBE flags are 0010.
    #[test]
    fn other_fixed_header_flags_are_refused() {
        assert_eq!(
            decode::<u16>(&[0xA0, 0x05, 0x00, 0x0A, 0x00, 0x01, b'a']),
            Err(DecodeError::InvalidFixedHeaderFlags {
                packet_type: PacketType::Unsubscribe,
                flags: 0,
            })
        );
    }
}
