//! SUBSCRIBE (v3.1.1 §3.8).

use alloc::vec::Vec;
use bytes::{BufMut, Bytes};
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::source::Source;
use crate::wire::writer::{put_length_prefixed, put_packet_id};
use crate::wire::{PacketType, Reader};
use crate::{BuildError, DecodeError, PacketId, QoS, TopicFilter};

/// One Topic Filter / Requested QoS pair of a SUBSCRIBE (§3.8.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subscription {
    /// The Topic Filter [MQTT-3.8.3-1].
    pub filter: TopicFilter,
    /// The maximum QoS at which the server may send matching messages.
    pub qos: QoS,
}

impl Subscription {
    /// The pair `filter`, `qos`.
    pub fn new(filter: TopicFilter, qos: QoS) -> Self {
        Subscription { filter, qos }
    }

    /// Bytes on the wire: the filter with its length prefix, and the
    /// Requested QoS byte.
    fn encoded_len(&self) -> usize {
        self.filter.encoded_len() + 1
    }
}

impl From<(TopicFilter, QoS)> for Subscription {
    fn from((filter, qos): (TopicFilter, QoS)) -> Self {
        Subscription { filter, qos }
    }
}

/// A client's request to receive the messages published to topics that
/// match its filters.
///
/// ```
/// use mqtt_codec::{Encode, QoS, TopicFilter, v3_1_1::Subscribe};
/// let subscribe = Subscribe::<u16>::builder()
///     .packet_id(10)
///     .subscription((TopicFilter::new("a/+")?, QoS::AtLeastOnce))
///     .build()?;
/// let mut buf = Vec::new();
/// subscribe.encode(&mut buf)?;
/// assert_eq!(buf, b"\x82\x08\x00\x0a\x00\x03a/+\x01");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Subscribe<P: PacketId = u16> {
    /// The packet identifier; never 0 [MQTT-2.3.1-1].
    #[builder(setter(into = false))]
    packet_id: P,
    /// The Topic Filter / QoS pairs, in order; at least one [MQTT-3.8.3-3].
    /// `subscription(...)` adds one at a time.
    #[builder(default, setter(each(name = "subscription", into)))]
    subscriptions: Vec<Subscription>,
}

impl<P: PacketId> SubscribeBuilder<P> {
    fn validate(&self) -> Result<(), BuildError> {
        if self.packet_id.is_some_and(|id| id.to_u32() == 0) {
            return Err(BuildError::Forbidden(
                "a packet identifier is never 0 [MQTT-2.3.1-1]",
            ));
        }
        if self.subscriptions.as_ref().is_none_or(Vec::is_empty) {
            return Err(BuildError::Forbidden(
                "a SUBSCRIBE holds at least one subscription [MQTT-3.8.3-3]",
            ));
        }
        Ok(())
    }
}

impl<P: PacketId> Subscribe<P> {
    /// A builder; `packet_id` and at least one subscription are required.
    pub fn builder() -> SubscribeBuilder<P> {
        SubscribeBuilder::default()
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> P {
        self.packet_id
    }
    /// The subscriptions, in the order sent; the SUBACK answers them in
    /// this order [MQTT-3.9.3-1].
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.subscriptions
    }
    /// Takes the subscriptions out.
    pub fn into_subscriptions(self) -> Vec<Subscription> {
        self.subscriptions
    }

    /// The packet of a checked view whose slices lie in `src`.
    pub(crate) fn from_view(view: &SubscribeView<'_, P>, src: Source<'_>) -> Self {
        Subscribe {
            packet_id: view.packet_id,
            subscriptions: view
                .subscriptions()
                .map(|(filter, qos)| Subscription {
                    filter: src.topic_filter(filter),
                    qos,
                })
                .collect(),
        }
    }
}

/// A SUBSCRIBE read in place (see [`PacketView`](super::PacketView)): its
/// Topic Filters are slices of the bytes it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscribeView<'a, P: PacketId = u16> {
    packet_id: P,
    /// The checked payload.
    payload: &'a [u8],
}

impl<'a, P: PacketId> SubscribeView<'a, P> {
    /// Reads and checks the body.
    pub(crate) fn parse(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let payload = r.unread();
        while r.remaining() > 0 {
            // [MQTT-3.8.3-1]
            r.topic_filter()?;
            let requested = r.u8()?;
            if requested & 0b1111_1100 != 0 {
                // [MQTT-3-8.3-4]
                return Err(DecodeError::InvalidSubscriptionOptions(requested));
            }
            QoS::from_u8(requested)?;
        }
        if payload.is_empty() {
            // [MQTT-3.8.3-3]
            return Err(DecodeError::EmptyPayload(PacketType::Subscribe));
        }
        Ok(SubscribeView { packet_id, payload })
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> P {
        self.packet_id
    }
    /// The Topic Filters and their requested QoS, in order.
    pub fn subscriptions(&self) -> impl Iterator<Item = (&'a str, QoS)> + 'a {
        let mut r = Reader::new(self.payload);
        core::iter::from_fn(move || {
            let filter = crate::string::checked_str(r.length_prefixed().ok()?);
            Some((filter, QoS::from_u8(r.u8().ok()?).ok()?))
        })
    }
    /// The owned packet, sharing `source` when the view was parsed from it
    /// (copying otherwise).
    pub fn to_owned(&self, source: &Bytes) -> Subscribe<P> {
        Subscribe::from_view(self, Source(source))
    }
}

impl<P: PacketId> Body for Subscribe<P> {
    #[inline]
    fn first_byte(&self) -> u8 {
        (PacketType::Subscribe as u8) << 4 | 0b0010
    }
    #[inline]
    fn body_len(&self) -> usize {
        P::WIRE_LEN
            + self
                .subscriptions
                .iter()
                .map(Subscription::encoded_len)
                .sum::<usize>()
    }
    #[inline]
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        put_packet_id(buf, self.packet_id);
        for s in &self.subscriptions {
            put_length_prefixed(buf, s.filter.as_mqtt_string().as_bytes());
            buf.put_u8(s.qos as u8);
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

    /// The non-normative example of §3.8.3.1 ("a/b" QoS 1, "c/d" QoS 2),
    /// with packet identifier 10.
    const EXAMPLE: &[u8] = &[
        0x82, 0x0E, // SUBSCRIBE, flags 0010, remaining length 14
        0x00, 0x0A, // Packet Identifier 10
        0x00, 0x03, b'a', b'/', b'b', 0x01, // "a/b", QoS 1
        0x00, 0x03, b'c', b'/', b'd', 0x02, // "c/d", QoS 2
    ];

    fn example() -> Subscribe<u16> {
        Subscribe::builder()
            .packet_id(10)
            .subscription((filter("a/b"), QoS::AtLeastOnce))
            .subscription(Subscription::new(filter("c/d"), QoS::ExactlyOnce))
            .build()
            .unwrap()
    }

    #[test]
    fn encodes_and_decodes_exact_bytes() {
        let subscribe = example();
        assert_eq!(encode(&subscribe), EXAMPLE);
        assert_eq!(
            decode::<u16>(EXAMPLE),
            Ok(Packet::Subscribe(subscribe.clone()))
        );
        assert_eq!(subscribe.packet_id(), 10);
        assert_eq!(subscribe.subscriptions()[1].filter, "c/d");
        assert_eq!(subscribe.subscriptions()[1].qos, QoS::ExactlyOnce);
    }

    #[test]
    fn u32_packet_ids_take_four_bytes() {
        let bytes = [
            0x82, 0x0A, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, b'a', b'/', b'#', 0x00,
        ];
        let subscribe = Subscribe::<u32>::builder()
            .packet_id(0x0001_0000u32)
            .subscriptions(alloc::vec![Subscription::new(
                filter("a/#"),
                QoS::AtMostOnce
            )])
            .build()
            .unwrap();
        assert_eq!(encode(&subscribe), bytes);
        assert_eq!(decode::<u32>(&bytes), Ok(Packet::Subscribe(subscribe)));
    }

    /// [MQTT-3.8.3-3] at least one Topic Filter / QoS pair.
    #[test]
    fn empty_payload_is_refused() {
        assert_eq!(
            decode::<u16>(&[0x82, 0x02, 0x00, 0x0A]),
            Err(DecodeError::EmptyPayload(PacketType::Subscribe))
        );
        assert_eq!(
            Subscribe::<u16>::builder().packet_id(1).build(),
            Err(BuildError::Forbidden(
                "a SUBSCRIBE holds at least one subscription [MQTT-3.8.3-3]"
            ))
        );
    }

    /// [MQTT-3-8.3-4] the upper six bits of the Requested QoS byte are 0.
    #[test]
    fn reserved_requested_qos_bits_are_refused() {
        for byte in [0x04u8, 0x41, 0x80, 0xFC] {
            let bytes = [0x82, 0x06, 0x00, 0x0A, 0x00, 0x01, b'a', byte];
            assert_eq!(
                decode::<u16>(&bytes),
                Err(DecodeError::InvalidSubscriptionOptions(byte))
            );
        }
    }

    /// [MQTT-3-8.3-4] a Requested QoS of 3 is malformed.
    #[test]
    fn requested_qos_3_is_refused() {
        let bytes = [0x82, 0x06, 0x00, 0x0A, 0x00, 0x01, b'a', 0x03];
        assert_eq!(decode::<u16>(&bytes), Err(DecodeError::InvalidQos));
    }

    /// [MQTT-3.8.3-1], [MQTT-4.7.1-2], [MQTT-4.7.1-3], [MQTT-4.7.3-1]: each
    /// Topic Filter is a valid one.
    #[test]
    fn invalid_topic_filters_are_refused() {
        let cases: [(&[u8], DecodeError); 4] = [
            (
                b"a#",
                DecodeError::InvalidTopicFilter(TopicError::MisplacedWildcard),
            ),
            (
                b"#/a",
                DecodeError::InvalidTopicFilter(TopicError::MisplacedWildcard),
            ),
            (b"", DecodeError::InvalidTopicFilter(TopicError::Empty)),
            (b"\xFF", DecodeError::InvalidUtf8),
        ];
        for (topic, err) in cases {
            let mut bytes = alloc::vec![0x82, 5 + topic.len() as u8, 0x00, 0x0A, 0x00];
            bytes.push(topic.len() as u8);
            bytes.extend_from_slice(topic);
            bytes.push(0x00);
            assert_eq!(decode::<u16>(&bytes), Err(err), "{topic:?}");
        }
    }

    /// A filter without its Requested QoS byte runs past the end.
    #[test]
    fn missing_requested_qos_is_refused() {
        let bytes = [0x82, 0x05, 0x00, 0x0A, 0x00, 0x01, b'a'];
        assert_eq!(decode::<u16>(&bytes), Err(DecodeError::UnexpectedEnd));
    }

    /// [MQTT-2.3.1-1] the packet identifier is non-zero.
    #[test]
    fn zero_packet_id_is_refused() {
        let bytes = [0x82, 0x06, 0x00, 0x00, 0x00, 0x01, b'a', 0x00];
        assert_eq!(decode::<u16>(&bytes), Err(DecodeError::ZeroPacketId));
        assert!(matches!(
            Subscribe::<u16>::builder()
                .packet_id(0)
                .subscription((filter("a"), QoS::AtMostOnce))
                .build(),
            Err(BuildError::Forbidden(_))
        ));
    }

    /// [MQTT-3.8.1-1], [MQTT-2.2.2-1], [MQTT-2.2.2-2]: SUBSCRIBE flags are 0010.
    #[test]
    fn other_fixed_header_flags_are_refused() {
        let bytes = [0x80, 0x06, 0x00, 0x0A, 0x00, 0x01, b'a', 0x00];
        assert_eq!(
            decode::<u16>(&bytes),
            Err(DecodeError::InvalidFixedHeaderFlags {
                packet_type: PacketType::Subscribe,
                flags: 0,
            })
        );
    }
}
