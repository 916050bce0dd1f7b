//! UNSUBSCRIBE (v5.0 §3.10).

use alloc::vec::Vec;
use bytes::{BufMut, Bytes};
use derive_builder::Builder;

use super::subscribe::check_shared;
use crate::encode::sealed::Body;
use crate::properties::{UnsubscribeProperties, UnsubscribePropertiesView};
use crate::source::Source;
use crate::topic::SharedSubscription;
use crate::wire::writer::{put_length_prefixed, put_packet_id};
use crate::wire::{PacketType, Reader};
use crate::{BuildError, DecodeError, PacketId, TopicError, TopicFilter};

/// A request to remove one or more subscriptions (§3.10).
///
/// ```
/// use mqtt_codec::Encode;
/// use mqtt_codec::v5_0::Unsubscribe;
/// let unsubscribe = Unsubscribe::<u16>::builder()
///     .packet_id(10)
///     .try_filter("a/b")?
///     .try_filter("c/d")?
///     .build()?;
/// let mut buf = Vec::new();
/// unsubscribe.encode(&mut buf)?;
/// assert_eq!(buf.len(), 15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Unsubscribe<P: PacketId = u16> {
    /// The Packet Identifier; non-zero [MQTT-2.2.1-3].
    #[builder(setter(into = false))]
    packet_id: P,
    /// The UNSUBSCRIBE Properties (§3.10.2.1).
    #[builder(default)]
    properties: UnsubscribeProperties,
    /// The Topic Filters, at least one [MQTT-3.10.3-2].
    #[builder(default, setter(each(name = "filter")))]
    filters: Vec<TopicFilter>,
}

impl<P: PacketId> UnsubscribeBuilder<P> {
    /// Adds `filter`, checking it as a Topic Filter (§4.7) and, when it
    /// starts with `$share/`, as a Shared Subscription (§4.8.2).
    pub fn try_filter<F>(&mut self, filter: F) -> Result<&mut Self, TopicError>
    where
        F: TryInto<TopicFilter>,
        TopicError: From<F::Error>,
    {
        let filter = filter.try_into()?;
        check_shared(&filter)?;
        Ok(self.filter(filter))
    }

    fn validate(&self) -> Result<(), BuildError> {
        let filters = self.filters.as_deref().unwrap_or_default();
        if filters.is_empty() {
            return Err(BuildError::Forbidden(
                "an UNSUBSCRIBE has at least one Topic Filter [MQTT-3.10.3-2]",
            ));
        }
        if filters.iter().any(|f| check_shared(f).is_err()) {
            return Err(BuildError::Forbidden(
                "a Shared Subscription is $share/{ShareName}/{filter} [MQTT-4.8.2-1], [MQTT-4.8.2-2]",
            ));
        }
        if let Some(properties) = &self.properties {
            properties.validate()?;
        }
        Ok(())
    }
}

impl<P: PacketId> Unsubscribe<P> {
    /// A builder; `packet_id` and at least one filter are required.
    pub fn builder() -> UnsubscribeBuilder<P> {
        UnsubscribeBuilder::default()
    }

    /// The Packet Identifier.
    pub fn packet_id(&self) -> P {
        self.packet_id
    }
    /// The UNSUBSCRIBE Properties.
    pub fn properties(&self) -> &UnsubscribeProperties {
        &self.properties
    }
    /// The Topic Filters, in order.
    pub fn filters(&self) -> &[TopicFilter] {
        &self.filters
    }
    /// Replaces the Packet Identifier.
    pub fn set_packet_id(&mut self, id: P) {
        self.packet_id = id;
    }

    /// The packet of a checked view whose slices lie in `src`.
    pub(crate) fn from_view(view: &UnsubscribeView<'_, P>, src: Source<'_>) -> Self {
        Unsubscribe {
            packet_id: view.packet_id,
            properties: UnsubscribeProperties::from_view(view.properties, src),
            filters: view.filters().map(|f| src.topic_filter(f)).collect(),
        }
    }
}

/// An UNSUBSCRIBE read in place (see [`PacketView`](super::PacketView)): its
/// Topic Filters are slices of the bytes it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsubscribeView<'a, P: PacketId = u16> {
    packet_id: P,
    properties: UnsubscribePropertiesView<'a>,
    /// The checked payload.
    payload: &'a [u8],
}

impl<'a, P: PacketId> UnsubscribeView<'a, P> {
    /// Reads and checks the body.
    pub(crate) fn parse(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let properties = UnsubscribePropertiesView::parse(r)?;
        let payload = r.unread();
        while r.remaining() > 0 {
            // [MQTT-3.10.3-1]
            let filter = r.topic_filter()?;
            SharedSubscription::split(filter.as_bytes())
                .map_err(DecodeError::InvalidTopicFilter)?;
        }
        // [MQTT-3.10.3-2]
        if payload.is_empty() {
            return Err(DecodeError::EmptyPayload(PacketType::Unsubscribe));
        }
        Ok(UnsubscribeView {
            packet_id,
            properties,
            payload,
        })
    }

    /// The Packet Identifier.
    pub fn packet_id(&self) -> P {
        self.packet_id
    }
    /// The UNSUBSCRIBE Properties.
    pub fn properties(&self) -> UnsubscribePropertiesView<'a> {
        self.properties
    }
    /// The Topic Filters, in order.
    pub fn filters(&self) -> impl Iterator<Item = &'a str> + 'a {
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
    fn body_len(&self) -> usize {
        P::WIRE_LEN
            + self.properties.encoded_len()
            + self
                .filters
                .iter()
                .map(TopicFilter::encoded_len)
                .sum::<usize>()
    }
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        put_packet_id(buf, self.packet_id);
        self.properties.encode(buf);
        for filter in &self.filters {
            put_length_prefixed(buf, filter.as_mqtt_string().as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::UserProperty;
    use crate::v5_0::test_util::{decode, round_trip};
    use alloc::vec;

    /// The payload of the spec's example (§3.10.3): "a/b" and "c/d".
    #[test]
    fn spec_example() {
        let unsubscribe = Unsubscribe::<u16>::builder()
            .packet_id(10)
            .try_filter("a/b")
            .unwrap()
            .try_filter("c/d")
            .unwrap()
            .build()
            .unwrap();
        round_trip(
            unsubscribe,
            &[
                0xA2, 0x0D, 0x00, 0x0A, 0x00, // Packet Identifier 10, no properties
                0x00, 0x03, b'a', b'/', b'b', //
                0x00, 0x03, b'c', b'/', b'd',
            ],
        );
    }

    #[test]
    fn with_user_property() {
        let unsubscribe = Unsubscribe::<u16>::builder()
            .packet_id(1)
            .properties(UnsubscribeProperties {
                user_properties: vec![UserProperty::new("a", "b").unwrap()],
            })
            .try_filter("$share/g/#")
            .unwrap()
            .build()
            .unwrap();
        let mut bytes = vec![
            0xA2, 0x16, 0x00, 0x01, 0x07, 0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b',
        ];
        bytes.extend_from_slice(b"\x00\x0A$share/g/#");
        round_trip(unsubscribe, &bytes);
    }

    /// [MQTT-3.10.3-2] at least one Topic Filter.
    #[test]
    fn empty_payload() {
        assert_eq!(
            decode::<u16>(&[0xA2, 0x03, 0x00, 0x01, 0x00]),
            Err(DecodeError::EmptyPayload(PacketType::Unsubscribe))
        );
        assert!(matches!(
            Unsubscribe::<u16>::builder().packet_id(1).build(),
            Err(BuildError::Forbidden(_))
        ));
    }

    /// [MQTT-3.10.3-1] Topic Filters are UTF-8 Encoded Strings;
    /// [MQTT-4.7.1-2] and a `+` takes a whole level.
    #[test]
    fn invalid_filters() {
        assert_eq!(
            decode::<u16>(&[0xA2, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00]),
            Err(DecodeError::NullCharacter)
        );
        assert_eq!(
            decode::<u16>(&[0xA2, 0x07, 0x00, 0x01, 0x00, 0x00, 0x02, b'a', b'+']),
            Err(DecodeError::InvalidTopicFilter(
                TopicError::MisplacedWildcard
            ))
        );
    }

    /// [MQTT-3.10.1-1] fixed header flags 0b0010.
    #[test]
    fn reserved_flags() {
        assert!(matches!(
            decode::<u16>(&[0xA0, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, b'a']),
            Err(DecodeError::InvalidFixedHeaderFlags { .. })
        ));
    }

    /// A length prefix that runs past the end.
    #[test]
    fn truncated_filter() {
        assert_eq!(
            decode::<u16>(&[0xA2, 0x06, 0x00, 0x01, 0x00, 0x00, 0x02, b'a']),
            Err(DecodeError::UnexpectedEnd)
        );
    }
}
