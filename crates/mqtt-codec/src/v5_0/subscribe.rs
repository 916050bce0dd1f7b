//! SUBSCRIBE (v5.0 §3.8).

use alloc::vec::Vec;
use bytes::{BufMut, Bytes};
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::properties::{SubscribeProperties, SubscribePropertiesView};
use crate::source::Source;
use crate::topic::SharedSubscription;
use crate::wire::writer::{put_length_prefixed, put_packet_id};
use crate::wire::{PacketType, Reader};
use crate::{BuildError, DecodeError, PacketId, QoS, TopicError, TopicFilter};

/// Whether retained messages are sent when a subscription is made (§3.8.3.1,
/// bits 4 and 5 of the Subscription Options).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum RetainHandling {
    /// 0: send retained messages at the time of the subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// 1: send them only if the subscription does not exist yet.
    SendAtSubscribeIfNew = 1,
    /// 2: do not send them at the time of the subscribe.
    DoNotSend = 2,
}

/// The Subscription Options byte that follows each Topic Filter (§3.8.3.1).
///
/// ```
/// use mqtt_codec::QoS;
/// use mqtt_codec::v5_0::{RetainHandling, SubscriptionOptions};
/// let options = SubscriptionOptions {
///     retain_handling: RetainHandling::DoNotSend,
///     ..SubscriptionOptions::new(QoS::AtLeastOnce)
/// };
/// assert_eq!(options.to_u8(), 0b0010_0001);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubscriptionOptions {
    /// Maximum QoS the Server may send Application Messages with.
    pub qos: QoS,
    /// No Local: do not forward messages this client published itself
    /// [MQTT-3.8.3-3]; never on a Shared Subscription [MQTT-3.8.3-4].
    pub no_local: bool,
    /// Retain As Published: keep the RETAIN flag of forwarded messages.
    pub retain_as_published: bool,
    /// When retained messages are sent.
    pub retain_handling: RetainHandling,
}

const QOS_MASK: u8 = 0b0000_0011;
const NO_LOCAL: u8 = 0b0000_0100;
const RETAIN_AS_PUBLISHED: u8 = 0b0000_1000;
const RETAIN_HANDLING_SHIFT: u8 = 4;
const RESERVED: u8 = 0b1100_0000;

impl SubscriptionOptions {
    /// Maximum QoS `qos`, the other options off.
    pub const fn new(qos: QoS) -> Self {
        SubscriptionOptions {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::SendAtSubscribe,
        }
    }

    /// The options byte on the wire.
    pub const fn to_u8(self) -> u8 {
        self.qos as u8
            | if self.no_local { NO_LOCAL } else { 0 }
            | if self.retain_as_published {
                RETAIN_AS_PUBLISHED
            } else {
                0
            }
            | (self.retain_handling as u8) << RETAIN_HANDLING_SHIFT
    }

    /// Reads an options byte.
    ///
    /// Errs with [`DecodeError::InvalidSubscriptionOptions`] (malformed) on a
    /// reserved bit set [MQTT-3.8.3-5], and with
    /// [`DecodeError::ForbiddenSubscriptionOption`] (a protocol error) on
    /// Retain Handling 3 or QoS 3 (§3.8.3.1).
    pub const fn from_u8(byte: u8) -> Result<Self, DecodeError> {
        if byte & RESERVED != 0 {
            return Err(DecodeError::InvalidSubscriptionOptions(byte));
        }
        let retain_handling = match byte >> RETAIN_HANDLING_SHIFT {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendAtSubscribeIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(DecodeError::ForbiddenSubscriptionOption(byte)),
        };
        let Ok(qos) = QoS::from_u8(byte & QOS_MASK) else {
            return Err(DecodeError::ForbiddenSubscriptionOption(byte));
        };
        Ok(SubscriptionOptions {
            qos,
            no_local: byte & NO_LOCAL != 0,
            retain_as_published: byte & RETAIN_AS_PUBLISHED != 0,
            retain_handling,
        })
    }
}

impl From<QoS> for SubscriptionOptions {
    fn from(qos: QoS) -> Self {
        SubscriptionOptions::new(qos)
    }
}

/// Checks the v5.0 rules a Topic Filter has beyond §4.7: a Shared
/// Subscription's ShareName and filter (§4.8.2).
pub(super) fn check_shared(filter: &TopicFilter) -> Result<(), TopicError> {
    SharedSubscription::parse(filter).map(|_| ())
}

/// A request to subscribe to one or more Topic Filters (§3.8).
///
/// ```
/// use mqtt_codec::{Encode, QoS};
/// use mqtt_codec::v5_0::{Subscribe, SubscribeProperties, SubscriptionIdentifier, SubscriptionOptions};
/// let subscribe = Subscribe::<u16>::builder()
///     .packet_id(10)
///     .properties(SubscribeProperties {
///         subscription_identifier: SubscriptionIdentifier::new(1),
///         ..Default::default()
///     })
///     .try_subscription("sport/tennis/#", QoS::AtLeastOnce)?
///     .try_subscription("$share/group/sport/+", SubscriptionOptions::new(QoS::ExactlyOnce))?
///     .build()?;
/// assert_eq!(subscribe.subscriptions().len(), 2);
/// let mut buf = Vec::new();
/// subscribe.encode(&mut buf)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Subscribe<P: PacketId = u16> {
    /// The Packet Identifier; non-zero [MQTT-2.2.1-3].
    #[builder(setter(into = false))]
    packet_id: P,
    /// The SUBSCRIBE Properties (§3.8.2.1).
    #[builder(default)]
    properties: SubscribeProperties,
    /// The Topic Filters with their options, at least one [MQTT-3.8.3-2].
    #[builder(default, setter(each(name = "subscription", into)))]
    subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
}

impl<P: PacketId> SubscribeBuilder<P> {
    /// Adds a subscription to `filter`, checking it as a Topic Filter
    /// (§4.7) and, when it starts with `$share/`, as a Shared Subscription
    /// (§4.8.2). `options` may be a [`QoS`].
    pub fn try_subscription<F>(
        &mut self,
        filter: F,
        options: impl Into<SubscriptionOptions>,
    ) -> Result<&mut Self, TopicError>
    where
        F: TryInto<TopicFilter>,
        TopicError: From<F::Error>,
    {
        let filter = filter.try_into()?;
        check_shared(&filter)?;
        Ok(self.subscription((filter, options.into())))
    }

    fn validate(&self) -> Result<(), BuildError> {
        let subscriptions = self.subscriptions.as_deref().unwrap_or_default();
        if subscriptions.is_empty() {
            return Err(BuildError::Forbidden(
                "a SUBSCRIBE has at least one Topic Filter [MQTT-3.8.3-2]",
            ));
        }
        for (filter, options) in subscriptions {
            if check_shared(filter).is_err() {
                return Err(BuildError::Forbidden(
                    "a Shared Subscription is $share/{ShareName}/{filter} [MQTT-4.8.2-1], [MQTT-4.8.2-2]",
                ));
            }
            if options.no_local && filter.is_shared() {
                return Err(BuildError::Forbidden(
                    "No Local is not allowed on a Shared Subscription [MQTT-3.8.3-4]",
                ));
            }
        }
        if let Some(properties) = &self.properties {
            properties.validate()?;
        }
        Ok(())
    }
}

impl<P: PacketId> Subscribe<P> {
    /// A builder; `packet_id` and at least one subscription are required.
    pub fn builder() -> SubscribeBuilder<P> {
        SubscribeBuilder::default()
    }

    /// The Packet Identifier.
    pub fn packet_id(&self) -> P {
        self.packet_id
    }
    /// The SUBSCRIBE Properties.
    pub fn properties(&self) -> &SubscribeProperties {
        &self.properties
    }
    /// The Topic Filters and their options, in order.
    pub fn subscriptions(&self) -> &[(TopicFilter, SubscriptionOptions)] {
        &self.subscriptions
    }
    /// Replaces the Packet Identifier.
    pub fn set_packet_id(&mut self, id: P) {
        self.packet_id = id;
    }

    /// The packet of a checked view whose slices lie in `src`.
    pub(crate) fn from_view(view: &SubscribeView<'_, P>, src: Source<'_>) -> Self {
        Subscribe {
            packet_id: view.packet_id,
            properties: SubscribeProperties::from_view(view.properties, src),
            subscriptions: view
                .subscriptions()
                .map(|(filter, options)| (src.topic_filter(filter), options))
                .collect(),
        }
    }
}

/// A SUBSCRIBE read in place (see [`PacketView`](super::PacketView)): its
/// Topic Filters are slices of the bytes it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscribeView<'a, P: PacketId = u16> {
    packet_id: P,
    properties: SubscribePropertiesView<'a>,
    /// The checked payload.
    payload: &'a [u8],
}

impl<'a, P: PacketId> SubscribeView<'a, P> {
    /// Reads and checks the body.
    pub(crate) fn parse(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let properties = SubscribePropertiesView::parse(r)?;
        let payload = r.unread();
        while r.remaining() > 0 {
            // [MQTT-3.8.3-1]
            let filter = r.topic_filter()?;
            let shared = SharedSubscription::split(filter.as_bytes())
                .map_err(DecodeError::InvalidTopicFilter)?;
            let options = SubscriptionOptions::from_u8(r.u8()?)?;
            // [MQTT-3.8.3-4]
            if options.no_local && shared.is_some() {
                return Err(DecodeError::NoLocalOnSharedSubscription);
            }
        }
        // [MQTT-3.8.3-2]
        if payload.is_empty() {
            return Err(DecodeError::EmptyPayload(PacketType::Subscribe));
        }
        Ok(SubscribeView {
            packet_id,
            properties,
            payload,
        })
    }

    /// The Packet Identifier.
    pub fn packet_id(&self) -> P {
        self.packet_id
    }
    /// The SUBSCRIBE Properties.
    pub fn properties(&self) -> SubscribePropertiesView<'a> {
        self.properties
    }
    /// The Topic Filters and their Subscription Options, in order.
    pub fn subscriptions(&self) -> impl Iterator<Item = (&'a str, SubscriptionOptions)> + 'a {
        let mut r = Reader::new(self.payload);
        core::iter::from_fn(move || {
            let filter = crate::string::checked_str(r.length_prefixed().ok()?);
            Some((filter, SubscriptionOptions::from_u8(r.u8().ok()?).ok()?))
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
    fn body_len(&self) -> usize {
        P::WIRE_LEN
            + self.properties.encoded_len()
            + self
                .subscriptions
                .iter()
                .map(|(filter, _)| filter.encoded_len() + 1)
                .sum::<usize>()
    }
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        put_packet_id(buf, self.packet_id);
        self.properties.encode(buf);
        for (filter, options) in &self.subscriptions {
            put_length_prefixed(buf, filter.as_mqtt_string().as_bytes());
            buf.put_u8(options.to_u8());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::SubscriptionIdentifier;
    use crate::v5_0::test_util::{decode, round_trip};

    /// The payload of the spec's example (§3.8.3): "a/b" QoS 1, "c/d" QoS 2,
    /// behind the variable header of §3.8.2 (Packet Identifier 10, no
    /// properties).
    #[test]
    fn spec_example() {
        let subscribe = Subscribe::<u16>::builder()
            .packet_id(10)
            .try_subscription("a/b", QoS::AtLeastOnce)
            .unwrap()
            .try_subscription("c/d", QoS::ExactlyOnce)
            .unwrap()
            .build()
            .unwrap();
        round_trip(
            subscribe,
            &[
                0x82, 0x0F, 0x00, 0x0A, 0x00, // header, Packet Identifier 10, no properties
                0x00, 0x03, b'a', b'/', b'b', 0x01, //
                0x00, 0x03, b'c', b'/', b'd', 0x02,
            ],
        );
    }

    #[test]
    fn every_option_and_a_subscription_identifier() {
        let options = SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            no_local: true,
            retain_as_published: true,
            retain_handling: RetainHandling::DoNotSend,
        };
        let subscribe = Subscribe::<u16>::builder()
            .packet_id(1)
            .properties(SubscribeProperties {
                subscription_identifier: SubscriptionIdentifier::new(200),
                ..Default::default()
            })
            .try_subscription("#", options)
            .unwrap()
            .build()
            .unwrap();
        round_trip(
            subscribe,
            &[
                0x82, 0x0A, 0x00, 0x01, // Packet Identifier 1
                0x03, 0x0B, 0xC8, 0x01, // Subscription Identifier 200 (varint)
                0x00, 0x01, b'#', 0x2D, // "#", QoS 1 | NL | RAP | RH 2
            ],
        );
    }

    #[test]
    fn options_byte_round_trips() {
        for byte in 0u8..=0xFF {
            match SubscriptionOptions::from_u8(byte) {
                Ok(options) => assert_eq!(options.to_u8(), byte),
                Err(_) => {
                    assert!(byte & 0xC0 != 0 || byte & 0x30 == 0x30 || byte & 0x03 == 0x03);
                }
            }
        }
    }

    /// [MQTT-3.8.3-5] reserved bits 6 and 7.
    #[test]
    fn reserved_option_bits() {
        for byte in [0x40, 0x80] {
            assert_eq!(
                decode::<u16>(&[0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', byte]),
                Err(DecodeError::InvalidSubscriptionOptions(byte))
            );
        }
    }

    /// §3.8.3.1: Retain Handling 3.
    #[test]
    fn retain_handling_3() {
        assert_eq!(
            decode::<u16>(&[0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x30]),
            Err(DecodeError::ForbiddenSubscriptionOption(0x30))
        );
    }

    /// §3.8.3.1: Maximum QoS 3.
    #[test]
    fn qos_3() {
        assert_eq!(
            decode::<u16>(&[0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x03]),
            Err(DecodeError::ForbiddenSubscriptionOption(0x03))
        );
    }

    /// [MQTT-3.8.3-2] at least one Topic Filter.
    #[test]
    fn empty_payload() {
        assert_eq!(
            decode::<u16>(&[0x82, 0x03, 0x00, 0x01, 0x00]),
            Err(DecodeError::EmptyPayload(PacketType::Subscribe))
        );
        assert!(matches!(
            Subscribe::<u16>::builder().packet_id(1).build(),
            Err(BuildError::Forbidden(_))
        ));
    }

    /// [MQTT-3.8.3-4] No Local on a Shared Subscription.
    #[test]
    fn no_local_on_shared() {
        let mut bytes = alloc::vec![0x82, 0x10, 0x00, 0x01, 0x00, 0x00, 0x0A];
        bytes.extend_from_slice(b"$share/g/a");
        bytes.push(0x04);
        let err = decode::<u16>(&bytes).unwrap_err();
        assert_eq!(err, DecodeError::NoLocalOnSharedSubscription);
        assert_eq!(err.reason_code(), 0x82);
        let options = SubscriptionOptions {
            no_local: true,
            ..Default::default()
        };
        assert!(matches!(
            Subscribe::<u16>::builder()
                .packet_id(1)
                .try_subscription("$share/g/a", options)
                .unwrap()
                .build(),
            Err(BuildError::Forbidden(_))
        ));
        // Without No Local it is fine.
        bytes[17] = 0x00;
        assert!(decode::<u16>(&bytes).is_ok());
    }

    /// [MQTT-4.8.2-1], [MQTT-4.8.2-2] a Shared Subscription's ShareName.
    #[test]
    fn invalid_shared_subscription() {
        let mut bytes = alloc::vec![0x82, 0x0F, 0x00, 0x01, 0x00, 0x00, 0x09];
        bytes.extend_from_slice(b"$share//a");
        bytes.push(0x00);
        assert_eq!(
            decode::<u16>(&bytes),
            Err(DecodeError::InvalidTopicFilter(TopicError::EmptyShareName))
        );
        assert!(Subscribe::<u16>::builder()
            .packet_id(1)
            .try_subscription("$share/+/a", QoS::AtMostOnce)
            .is_err());
    }

    /// [MQTT-4.7.1-1] a misplaced wildcard; [MQTT-4.7.3-1] an empty filter.
    #[test]
    fn invalid_filters() {
        assert_eq!(
            decode::<u16>(&[0x82, 0x08, 0x00, 0x01, 0x00, 0x00, 0x02, b'#', b'a', 0x00]),
            Err(DecodeError::InvalidTopicFilter(
                TopicError::MisplacedWildcard
            ))
        );
        assert_eq!(
            decode::<u16>(&[0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]),
            Err(DecodeError::InvalidTopicFilter(TopicError::Empty))
        );
    }

    /// [MQTT-3.8.3-1] the Topic Filter is a UTF-8 Encoded String.
    #[test]
    fn filter_utf8() {
        assert_eq!(
            decode::<u16>(&[0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 0xFE, 0x00]),
            Err(DecodeError::InvalidUtf8)
        );
    }

    /// A Topic Filter without its options byte.
    #[test]
    fn missing_options() {
        assert_eq!(
            decode::<u16>(&[0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, b'a']),
            Err(DecodeError::UnexpectedEnd)
        );
    }

    /// [MQTT-3.8.1-1] fixed header flags 0b0010.
    #[test]
    fn reserved_flags() {
        assert!(matches!(
            decode::<u16>(&[0x80, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', 0x00]),
            Err(DecodeError::InvalidFixedHeaderFlags { .. })
        ));
    }

    /// [MQTT-2.2.1-3] packet identifier 0.
    #[test]
    fn zero_packet_id() {
        assert_eq!(
            decode::<u16>(&[0x82, 0x07, 0x00, 0x00, 0x00, 0x00, 0x01, b'a', 0x00]),
            Err(DecodeError::ZeroPacketId)
        );
    }
}
