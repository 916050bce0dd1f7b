//! Tests of the property sets: exact bytes both ways, the §2.2.2.2 table,
//! and one test per rule a property's section states.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Debug;
use core::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;

use super::*;
use crate::wire::{PacketType, Reader};
use crate::{BuildError, DecodeError, QoS, TopicError, TopicName};

/// What the tests need of every property set.
trait Set: Sized + Debug + PartialEq + Default {
    fn dec(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
    fn enc(&self) -> Vec<u8>;
    fn empty(&self) -> bool;
}

macro_rules! impl_set {
    ($($ty:ident),* $(,)?) => {$(
        impl Set for $ty {
            fn dec(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                $ty::decode(r)
            }
            fn enc(&self) -> Vec<u8> {
                let mut buf = Vec::with_capacity(self.encoded_len());
                self.encode(&mut buf);
                assert_eq!(buf.len(), self.encoded_len(), "encoded_len of {self:?}");
                buf
            }
            fn empty(&self) -> bool {
                self.is_empty()
            }
        }
    )*};
}

impl_set! {
    ConnectProperties,
    WillProperties,
    ConnackProperties,
    PublishProperties,
    PubackProperties,
    PubrecProperties,
    PubrelProperties,
    PubcompProperties,
    SubscribeProperties,
    SubackProperties,
    UnsubscribeProperties,
    UnsubackProperties,
    DisconnectProperties,
    AuthProperties,
}

/// Decodes a property block (Property Length first) that is the whole of `bytes`.
fn decode<T: Set>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let props = T::dec(&mut r)?;
    r.finish()?;
    Ok(props)
}

/// Property Length, then `props`.
fn block(props: &[u8]) -> Vec<u8> {
    assert!(props.len() < 0x80);
    let mut out = vec![props.len() as u8];
    out.extend_from_slice(props);
    out
}

/// Decodes `block(props)` and checks that encoding gives the same bytes back.
fn round_trip<T: Set>(props: &[u8]) -> Result<T, DecodeError> {
    let bytes = block(props);
    let decoded = decode::<T>(&bytes)?;
    assert_eq!(decoded.enc(), bytes, "re-encoding {decoded:?}");
    Ok(decoded)
}

// ---------------------------------------------------------------- the table

/// The sets, as the §2.2.2.2 table names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum S {
    Connect,
    Connack,
    Publish,
    Will,
    Puback,
    Pubrec,
    Pubrel,
    Pubcomp,
    Subscribe,
    Suback,
    Unsubscribe,
    Unsuback,
    Disconnect,
    Auth,
}

const ALL_SETS: [S; 14] = [
    S::Connect,
    S::Connack,
    S::Publish,
    S::Will,
    S::Puback,
    S::Pubrec,
    S::Pubrel,
    S::Pubcomp,
    S::Subscribe,
    S::Suback,
    S::Unsubscribe,
    S::Unsuback,
    S::Disconnect,
    S::Auth,
];

/// The 27 properties of §2.2.2.2: identifier, a valid value, and the packets
/// (and Will Properties) the table allows it in.
const TABLE: [(u8, &[u8], &[S]); 27] = {
    use S::*;
    [
        (0x01, &[0x01], &[Publish, Will]),
        (0x02, &[0, 0, 0, 60], &[Publish, Will]),
        (0x03, &[0, 4, b'j', b's', b'o', b'n'], &[Publish, Will]),
        (0x08, &[0, 3, b'a', b'/', b'b'], &[Publish, Will]),
        (0x09, &[0, 2, 0xDE, 0xAD], &[Publish, Will]),
        (0x0B, &[0x80, 0x01], &[Publish, Subscribe]),
        (0x11, &[0, 0, 0x0E, 0x10], &[Connect, Connack, Disconnect]),
        (0x12, &[0, 2, b'i', b'd'], &[Connack]),
        (0x13, &[0, 30], &[Connack]),
        (
            0x15,
            &[0, 5, b'S', b'C', b'R', b'A', b'M'],
            &[Connect, Connack, Auth],
        ),
        (0x16, &[0, 1, 0x01], &[Connect, Connack, Auth]),
        (0x17, &[0], &[Connect]),
        (0x18, &[0, 0, 0, 5], &[Will]),
        (0x19, &[1], &[Connect]),
        (0x1A, &[0, 1, b'r'], &[Connack]),
        (0x1C, &[0, 1, b's'], &[Connack, Disconnect]),
        (
            0x1F,
            &[0, 2, b'o', b'k'],
            &[
                Connack, Puback, Pubrec, Pubrel, Pubcomp, Suback, Unsuback, Disconnect, Auth,
            ],
        ),
        (0x21, &[0, 10], &[Connect, Connack]),
        (0x22, &[0, 5], &[Connect, Connack]),
        (0x23, &[0, 1], &[Publish]),
        (0x24, &[1], &[Connack]),
        (0x25, &[0], &[Connack]),
        (
            0x26,
            &[0, 1, b'k', 0, 1, b'v'],
            &[
                Connect,
                Connack,
                Publish,
                Will,
                Puback,
                Pubrec,
                Pubrel,
                Pubcomp,
                Subscribe,
                Suback,
                Unsubscribe,
                Unsuback,
                Disconnect,
                Auth,
            ],
        ),
        (0x27, &[0, 0, 1, 0], &[Connect, Connack]),
        (0x28, &[1], &[Connack]),
        (0x29, &[1], &[Connack]),
        (0x2A, &[1], &[Connack]),
    ]
};

/// A valid Authentication Method property, which Authentication Data needs.
const METHOD: &[u8] = &[0x15, 0, 5, b'S', b'C', b'R', b'A', b'M'];

/// The property `id` with a valid `value`; Authentication Data comes after
/// a method.
fn property(id: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if id == 0x16 {
        out.extend_from_slice(METHOD);
    }
    out.push(id);
    out.extend_from_slice(value);
    out
}

/// Decodes `props` (and re-encodes, if it decodes) in the set `s`.
fn try_in(s: S, props: &[u8]) -> Result<(), DecodeError> {
    fn go<T: Set>(props: &[u8]) -> Result<(), DecodeError> {
        let p = round_trip::<T>(props)?;
        assert_eq!(p.empty(), props.is_empty());
        Ok(())
    }
    match s {
        S::Connect => go::<ConnectProperties>(props),
        S::Connack => go::<ConnackProperties>(props),
        // Through a whole PUBLISH, which keeps the Topic Alias apart.
        S::Publish => {
            let mut bytes = vec![0x30, 0x00, 0x00, 0x01, b't'];
            bytes.extend_from_slice(&block(props));
            bytes[1] = (bytes.len() - 2) as u8;
            let publish = crate::v5_0::test_util::decode::<u16>(&bytes)?;
            assert_eq!(crate::v5_0::test_util::encode(&publish), bytes);
            Ok(())
        }
        S::Will => go::<WillProperties>(props),
        S::Puback => go::<PubackProperties>(props),
        S::Pubrec => go::<PubrecProperties>(props),
        S::Pubrel => go::<PubrelProperties>(props),
        S::Pubcomp => go::<PubcompProperties>(props),
        S::Subscribe => go::<SubscribeProperties>(props),
        S::Suback => go::<SubackProperties>(props),
        S::Unsubscribe => go::<UnsubscribeProperties>(props),
        S::Unsuback => go::<UnsubackProperties>(props),
        S::Disconnect => go::<DisconnectProperties>(props),
        S::Auth => go::<AuthProperties>(props),
    }
}

fn packet_type(s: S) -> PacketType {
    match s {
        S::Connect | S::Will => PacketType::Connect,
        S::Connack => PacketType::Connack,
        S::Publish => PacketType::Publish,
        S::Puback => PacketType::Puback,
        S::Pubrec => PacketType::Pubrec,
        S::Pubrel => PacketType::Pubrel,
        S::Pubcomp => PacketType::Pubcomp,
        S::Subscribe => PacketType::Subscribe,
        S::Suback => PacketType::Suback,
        S::Unsubscribe => PacketType::Unsubscribe,
        S::Unsuback => PacketType::Unsuback,
        S::Disconnect => PacketType::Disconnect,
        S::Auth => PacketType::Auth,
    }
}

/// §2.2.2.2: each of the 27 properties is accepted (and round-trips) in
/// exactly the packets the table lists, and is a Malformed Packet
/// (`PropertyNotAllowed`, 0x81) in every other one.
#[test]
fn table_2_2_2_2_allowed_in_exactly_the_listed_sets() {
    for (id, value, allowed) in TABLE {
        for s in ALL_SETS {
            if allowed.contains(&s) {
                assert_eq!(
                    try_in(s, &property(id, value)),
                    Ok(()),
                    "{id:#04x} in {s:?}"
                );
            } else {
                let mut bare = vec![id];
                bare.extend_from_slice(value);
                assert_eq!(
                    try_in(s, &bare),
                    Err(DecodeError::PropertyNotAllowed {
                        packet_type: packet_type(s),
                        id
                    }),
                    "{id:#04x} in {s:?}"
                );
            }
        }
    }
}

/// §2.2.2.2: identifiers the table does not define are refused in every set,
/// including a first byte that starts a multi-byte identifier.
#[test]
fn undefined_identifiers_are_refused_everywhere() {
    let defined: Vec<u8> = TABLE.iter().map(|(id, _, _)| *id).collect();
    for id in (0..=0xFFu8).filter(|id| !defined.contains(id)) {
        for s in ALL_SETS {
            assert_eq!(
                try_in(s, &[id, 0x01, 0x00, 0x00, 0x00]),
                Err(DecodeError::PropertyNotAllowed {
                    packet_type: packet_type(s),
                    id
                }),
                "{id:#04x} in {s:?}"
            );
        }
    }
    assert_eq!(
        try_in(S::Publish, &[0x81, 0x00, 0x01]),
        Err(DecodeError::PropertyNotAllowed {
            packet_type: PacketType::Publish,
            id: 0x81
        })
    );
}

/// Every property that is not User Property (nor Subscription Identifier in
/// PUBLISH) is a Protocol Error (`DuplicateProperty`, 0x82) when it appears
/// twice, as each property's section states (§3.1.2.11.2–.10, §3.1.3.2.2–.7,
/// §3.2.2.3.2–.18, §3.3.2.3.2–.9, §3.4.2.2.2, §3.5.2.2.2, §3.6.2.2.2,
/// §3.7.2.2.2, §3.8.2.1.2, §3.9.2.1.2, §3.11.2.1.2, §3.14.2.2.2–.5,
/// §3.15.2.2.2–.4).
#[test]
fn non_repeatable_properties_twice_are_a_protocol_error() {
    for (id, value, allowed) in TABLE {
        for &s in allowed {
            let mut props = property(id, value);
            props.push(id);
            props.extend_from_slice(value);
            let result = try_in(s, &props);
            if id == 0x26 || (id == 0x0B && s == S::Publish) {
                assert_eq!(result, Ok(()), "{id:#04x} twice in {s:?}");
            } else {
                assert_eq!(
                    result,
                    Err(DecodeError::DuplicateProperty(id)),
                    "{id:#04x} twice in {s:?}"
                );
            }
        }
    }
}

// ------------------------------------------------------------- exact bytes

/// The PUBLISH properties of the benchmark, worked out by hand: Message
/// Expiry Interval 3600, Content Type "text/plain", User Property ("k", "v").
#[test]
fn publish_properties_exact_bytes_both_ways() {
    #[rustfmt::skip]
    let bytes: &[u8] = &[
        25,                                   // Property Length
        0x02, 0x00, 0x00, 0x0E, 0x10,         // Message Expiry Interval 3600
        0x03, 0x00, 0x0A, b't', b'e', b'x', b't', b'/', b'p', b'l', b'a', b'i', b'n',
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v',
    ];
    let props = PublishProperties {
        message_expiry_interval: Some(3600),
        content_type: Some("text/plain".try_into().unwrap()),
        user_properties: vec![UserProperty::new("k", "v").unwrap()],
        ..Default::default()
    };
    assert_eq!(props.encoded_len(), bytes.len());
    assert_eq!(props.properties_len(), 25);
    assert_eq!(props.enc(), bytes);
    assert_eq!(decode::<PublishProperties>(bytes), Ok(props));
}

/// Every PUBLISH property at once, set in no particular order: encoded in
/// identifier order; repeated ones keep their order [MQTT-3.3.2-18].
#[test]
fn publish_all_properties_exact_bytes() {
    let props = PublishProperties {
        user_properties: vec![
            UserProperty::new("b", "2").unwrap(),
            UserProperty::new("a", "1").unwrap(),
            UserProperty::new("b", "2").unwrap(),
        ],
        subscription_identifiers: vec![
            SubscriptionIdentifier::new(300).unwrap(),
            SubscriptionIdentifier::new(1).unwrap(),
        ],
        correlation_data: Some((&[0xAB][..]).try_into().unwrap()),
        response_topic: Some(TopicName::new("r").unwrap()),
        content_type: Some("t".try_into().unwrap()),
        message_expiry_interval: Some(0x0A0B0C0D),
        payload_format_indicator: Some(PayloadFormatIndicator::Utf8),
    };
    #[rustfmt::skip]
    let body: &[u8] = &[
        0x01, 0x01,
        0x02, 0x0A, 0x0B, 0x0C, 0x0D,
        0x03, 0x00, 0x01, b't',
        0x08, 0x00, 0x01, b'r',
        0x09, 0x00, 0x01, 0xAB,
        0x0B, 0xAC, 0x02,                     // 300 = 0b10_0101100
        0x0B, 0x01,
        0x26, 0x00, 0x01, b'b', 0x00, 0x01, b'2',
        0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'1',
        0x26, 0x00, 0x01, b'b', 0x00, 0x01, b'2',
    ];
    assert_eq!(props.enc(), block(body));
    assert_eq!(decode::<PublishProperties>(&block(body)), Ok(props));
}

/// [MQTT-2.2.2-1] no properties: a Property Length of 0.
#[test]
fn no_properties_is_a_zero_length() {
    let props = ConnackProperties::default();
    assert!(props.is_empty());
    assert_eq!(props.encoded_len(), 1);
    assert_eq!(props.enc(), [0x00]);
    assert_eq!(decode::<ConnackProperties>(&[0x00]), Ok(props));
}

/// A Property Length of 128 or more takes a two-byte Variable Byte Integer.
#[test]
fn long_property_length() {
    let value = "x".repeat(200);
    let props = UnsubscribeProperties {
        user_properties: vec![UserProperty::new("n", value.as_str()).unwrap()],
    };
    let bytes = props.enc();
    let n = 1 + 3 + 2 + 200;
    assert_eq!(&bytes[..2], &[(n & 0x7F) as u8 | 0x80, (n >> 7) as u8]);
    assert_eq!(bytes.len(), 2 + n);
    assert_eq!(decode::<UnsubscribeProperties>(&bytes), Ok(props));
}

/// Decoding stops at the Property Length: what follows belongs to the packet.
#[test]
fn decoding_reads_exactly_the_property_length() {
    let frame = [0x05, 0x02, 0x00, 0x00, 0x00, 0x07, b'p', b'a', b'y'];
    let mut r = Reader::new(&frame);
    let props = PublishProperties::decode(&mut r).unwrap();
    assert_eq!(props.message_expiry_interval, Some(7));
    assert_eq!(r.rest(), b"pay");
}

/// A PUBLISH's Topic Alias is checked in its block like any property, but
/// kept apart from the others (the PUBLISH holds it): neither the view nor
/// the owned set has it.
#[test]
fn publish_topic_alias_is_checked_but_kept_apart() {
    let block = [0x23, 0x00, 0x07, 0x02, 0x00, 0x00, 0x00, 0x09];
    let seen = PublishPropertiesView::check(&block).unwrap();
    assert_eq!(seen, 1 << 0x23 | 1 << 0x02);
    let view = PublishPropertiesView::from_checked(&block);
    assert_eq!(view.message_expiry_interval(), Some(9));
    assert_eq!(
        view.to_owned(),
        PublishProperties {
            message_expiry_interval: Some(9),
            ..Default::default()
        }
    );
    assert_eq!(
        PublishPropertiesView::check(&[0x23, 0, 1, 0x23, 0, 2]),
        Err(DecodeError::DuplicateProperty(0x23))
    );
}

/// A property that runs past the Property Length is malformed, even when
/// the packet has more bytes after it.
#[test]
fn property_past_the_property_length_is_malformed() {
    let frame = [0x02, 0x02, 0x00, 0x00, 0x00, 0x05];
    let mut r = Reader::new(&frame);
    assert_eq!(
        PublishProperties::decode(&mut r),
        Err(DecodeError::UnexpectedEnd)
    );
    // A Property Length longer than the packet.
    assert_eq!(
        decode::<PublishProperties>(&[0x05, 0x23, 0x00]),
        Err(DecodeError::UnexpectedEnd)
    );
    // An empty packet where the Property Length should be.
    assert_eq!(
        decode::<PublishProperties>(&[]),
        Err(DecodeError::UnexpectedEnd)
    );
}

/// [MQTT-1.5.5-1] the Property Length is a Variable Byte Integer in its
/// shortest form.
#[test]
fn property_length_non_minimal_is_malformed() {
    assert_eq!(
        decode::<PubackProperties>(&[0x80, 0x00]),
        Err(DecodeError::MalformedVariableByteInteger)
    );
}

/// Decoded strings and binaries are slices of the received frame.
#[test]
fn decoding_is_zero_copy() {
    let frame = Bytes::from(block(&[
        0x03, 0x00, 0x01, b't', 0x09, 0x00, 0x01, 0xAB, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v',
    ]));
    let range = frame.as_ptr_range();
    let view = PublishPropertiesView::parse(&mut Reader::new(&frame)).unwrap();
    for s in [
        view.content_type().unwrap().as_bytes(),
        view.correlation_data().unwrap(),
        view.user_properties().next().unwrap().1.as_bytes(),
    ] {
        assert!(range.contains(&s.as_ptr()));
    }
    let props = PublishProperties::from_view(view, crate::source::Source(&frame));
    let ct = props.content_type.as_ref().unwrap().as_bytes();
    let cd = props.correlation_data.as_ref().unwrap().as_bytes();
    let up = &props.user_properties[0];
    for s in [ct, cd, up.name.as_bytes(), up.value.as_bytes()] {
        assert!(range.contains(&s.as_ptr()));
    }
}

/// No heap allocation for the vectors when nothing repeats.
#[test]
fn no_allocation_without_repeated_properties() {
    let props = decode::<PublishProperties>(&block(&[0x02, 0, 0, 0, 1])).unwrap();
    assert_eq!(props.user_properties.capacity(), 0);
    assert_eq!(props.subscription_identifiers.capacity(), 0);
}

// ------------------------------------------------------------- value rules

/// Byte properties that are 0 or 1 refuse other values: Request Response
/// Information (§3.1.2.11.6), Request Problem Information (§3.1.2.11.7),
/// Retain Available (§3.2.2.3.5), Wildcard Subscription Available
/// (§3.2.2.3.11), Subscription Identifiers Available (§3.2.2.3.12), Shared
/// Subscription Available (§3.2.2.3.13), Payload Format Indicator (§3.3.2.3.2,
/// §3.1.3.2.3), Maximum QoS (§3.2.2.3.4).
#[test]
fn byte_properties_refuse_values_other_than_0_and_1() {
    let cases = [
        (S::Connect, 0x19),
        (S::Connect, 0x17),
        (S::Connack, 0x25),
        (S::Connack, 0x28),
        (S::Connack, 0x29),
        (S::Connack, 0x2A),
        (S::Connack, 0x24),
        (S::Publish, 0x01),
        (S::Will, 0x01),
    ];
    for (s, id) in cases {
        assert_eq!(try_in(s, &[id, 0]), Ok(()), "{id:#04x} = 0");
        assert_eq!(try_in(s, &[id, 1]), Ok(()), "{id:#04x} = 1");
        for bad in [2, 3, 0x80, 0xFF] {
            assert_eq!(
                try_in(s, &[id, bad]),
                Err(DecodeError::InvalidPropertyValue(id)),
                "{id:#04x} = {bad}"
            );
        }
    }
}

#[test]
fn byte_properties_decode_to_their_meaning() {
    let c = decode::<ConnackProperties>(&block(&[0x24, 0, 0x25, 1, 0x28, 0, 0x2A, 1])).unwrap();
    assert_eq!(c.maximum_qos, Some(QoS::AtMostOnce));
    assert_eq!(c.retain_available, Some(true));
    assert_eq!(c.wildcard_subscription_available, Some(false));
    assert_eq!(c.subscription_identifiers_available, None);
    assert_eq!(c.shared_subscription_available, Some(true));
    let p = decode::<PublishProperties>(&block(&[0x01, 0])).unwrap();
    assert_eq!(
        p.payload_format_indicator,
        Some(PayloadFormatIndicator::Unspecified)
    );
}

/// Receive Maximum 0 is a Protocol Error (§3.1.2.11.3, §3.2.2.3.3).
#[test]
fn receive_maximum_zero_is_a_protocol_error() {
    for s in [S::Connect, S::Connack] {
        assert_eq!(
            try_in(s, &[0x21, 0, 0]),
            Err(DecodeError::InvalidPropertyValue(0x21))
        );
    }
    let c = decode::<ConnectProperties>(&block(&[0x21, 0xFF, 0xFF])).unwrap();
    assert_eq!(c.receive_maximum, NonZeroU16::new(65_535));
}

/// Maximum Packet Size 0 is a Protocol Error (§3.1.2.11.4, §3.2.2.3.6).
#[test]
fn maximum_packet_size_zero_is_a_protocol_error() {
    for s in [S::Connect, S::Connack] {
        assert_eq!(
            try_in(s, &[0x27, 0, 0, 0, 0]),
            Err(DecodeError::InvalidPropertyValue(0x27))
        );
    }
    let c = decode::<ConnectProperties>(&block(&[0x27, 0xFF, 0xFF, 0xFF, 0xFF])).unwrap();
    assert_eq!(c.maximum_packet_size, NonZeroU32::new(u32::MAX));
}

/// [MQTT-3.3.2-8] a Topic Alias of 0 is refused (0x94 Topic Alias invalid).
#[test]
fn topic_alias_zero_is_refused() {
    let err = decode::<PublishProperties>(&block(&[0x23, 0, 0])).unwrap_err();
    assert_eq!(err, DecodeError::TopicAliasZero);
    assert_eq!(err.reason_code(), 0x94);
}

/// A Subscription Identifier of 0 is a Protocol Error (§3.3.2.3.8,
/// §3.8.2.1.2); its value is a Variable Byte Integer [MQTT-1.5.5-1].
#[test]
fn subscription_identifier_rules() {
    for s in [S::Publish, S::Subscribe] {
        assert_eq!(
            try_in(s, &[0x0B, 0x00]),
            Err(DecodeError::InvalidPropertyValue(0x0B))
        );
        assert_eq!(
            try_in(s, &[0x0B, 0x80, 0x00]),
            Err(DecodeError::MalformedVariableByteInteger)
        );
        assert_eq!(try_in(s, &[0x0B, 0x80]), Err(DecodeError::UnexpectedEnd));
    }
    let max = decode::<SubscribeProperties>(&block(&[0x0B, 0xFF, 0xFF, 0xFF, 0x7F])).unwrap();
    assert_eq!(
        max.subscription_identifier.map(SubscriptionIdentifier::get),
        Some(268_435_455)
    );
    assert_eq!(
        max.enc(),
        block(&[0x0B, 0xFF, 0xFF, 0xFF, 0x7F]),
        "four-byte varint"
    );
}

#[test]
fn subscription_identifier_range() {
    assert!(SubscriptionIdentifier::new(0).is_none());
    assert_eq!(SubscriptionIdentifier::new(1).map(|s| s.get()), Some(1));
    assert_eq!(
        SubscriptionIdentifier::new(SubscriptionIdentifier::MAX).map(|s| s.get()),
        Some(268_435_455)
    );
    assert!(SubscriptionIdentifier::new(268_435_456).is_none());
    assert!(SubscriptionIdentifier::new(u32::MAX).is_none());
}

/// [MQTT-3.3.2-14] a Response Topic with a wildcard is refused; it is a
/// Topic Name, so not empty either [MQTT-4.7.3-1]; both in PUBLISH and in
/// the Will Properties (§3.1.3.2.6).
#[test]
fn response_topic_must_be_a_topic_name() {
    for s in [S::Publish, S::Will] {
        for (bad, why) in [
            (&b"a/+"[..], TopicError::WildcardInName),
            (b"a/#", TopicError::WildcardInName),
            (b"", TopicError::Empty),
        ] {
            let mut props = vec![0x08, 0, bad.len() as u8];
            props.extend_from_slice(bad);
            assert_eq!(
                try_in(s, &props),
                Err(DecodeError::InvalidTopicName(why)),
                "{bad:?} in {s:?}"
            );
        }
    }
    assert_eq!(
        decode::<PublishProperties>(&block(&[0x08, 0, 2, b'a', b'+'])).map(|_| ()),
        Err(DecodeError::InvalidTopicName(TopicError::WildcardInName))
    );
}

/// [MQTT-3.3.2-13] [MQTT-3.3.2-19] Response Topic and Content Type are
/// UTF-8 Encoded Strings: ill-formed UTF-8 [MQTT-1.5.4-1] and U+0000
/// [MQTT-1.5.4-2] are refused; so for every string property.
#[test]
fn string_properties_must_be_utf8_strings() {
    let strings = [
        (S::Publish, 0x03),
        (S::Publish, 0x08),
        (S::Connack, 0x12),
        (S::Connect, 0x15),
        (S::Connack, 0x1A),
        (S::Disconnect, 0x1C),
        (S::Puback, 0x1F),
    ];
    for (s, id) in strings {
        assert_eq!(
            try_in(s, &[id, 0, 2, 0xC0, 0x80]),
            Err(DecodeError::InvalidUtf8),
            "{id:#04x}"
        );
        assert_eq!(
            try_in(s, &[id, 0, 2, b'a', 0]),
            Err(DecodeError::NullCharacter),
            "{id:#04x}"
        );
    }
    // Both strings of a User Property (§1.5.7).
    assert_eq!(
        try_in(S::Suback, &[0x26, 0, 1, b'k', 0, 1, 0xFF]),
        Err(DecodeError::InvalidUtf8)
    );
    assert_eq!(
        try_in(S::Suback, &[0x26, 0, 1, 0, 0, 1, b'v']),
        Err(DecodeError::NullCharacter)
    );
}

/// A string or binary value longer than the Property Length is malformed.
#[test]
fn truncated_values_are_malformed() {
    for props in [
        &[0x03, 0, 5, b'a'][..],
        &[0x09, 0, 2, 0xAB],
        &[0x02, 0, 0],
        &[0x23, 0],
        &[0x01],
        &[0x26, 0, 1, b'k'],
    ] {
        assert_eq!(
            try_in(S::Publish, props),
            Err(DecodeError::UnexpectedEnd),
            "{props:02x?}"
        );
    }
}

/// Authentication Data without an Authentication Method is a Protocol Error
/// (§3.1.2.11.10); likewise in CONNACK and AUTH. Order does not matter
/// (§2.2.2.2): data before method is valid.
#[test]
fn authentication_data_needs_a_method() {
    for s in [S::Connect, S::Connack, S::Auth] {
        assert_eq!(
            try_in(s, &[0x16, 0, 1, 0xAA]),
            Err(DecodeError::AuthenticationDataWithoutMethod),
            "{s:?}"
        );
        assert_eq!(try_in(s, METHOD), Ok(()), "{s:?}");
    }
    let mut data_first = vec![0x16, 0, 1, 0xAA];
    data_first.extend_from_slice(METHOD);
    let a = decode::<AuthProperties>(&block(&data_first)).unwrap();
    assert_eq!(a.authentication_method.as_ref().unwrap(), "SCRAM");
    assert_eq!(a.authentication_data.as_ref().unwrap().as_bytes(), [0xAA]);
    // Re-encoded in identifier order: the method first.
    let mut method_first = METHOD.to_vec();
    method_first.extend_from_slice(&[0x16, 0, 1, 0xAA]);
    assert_eq!(a.enc(), block(&method_first));
    assert_eq!(
        DecodeError::AuthenticationDataWithoutMethod.reason_code(),
        0x82
    );
}

/// User Properties repeat, same names included, and keep their order
/// [MQTT-3.3.2-17] [MQTT-3.3.2-18] [MQTT-3.1.3-10].
#[test]
fn user_properties_keep_order_and_duplicates() {
    #[rustfmt::skip]
    let props = [
        0x26, 0, 1, b'z', 0, 1, b'1',
        0x26, 0, 1, b'a', 0, 1, b'2',
        0x26, 0, 1, b'z', 0, 1, b'1',
    ];
    let w = round_trip::<WillProperties>(&props).unwrap();
    let pairs: Vec<(&str, &str)> = w
        .user_properties
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(pairs, [("z", "1"), ("a", "2"), ("z", "1")]);
}

/// Decoded errors map to the reason codes §2.2.2.2 and the property
/// sections name: 0x81 for a property not allowed, 0x82 for the rest.
#[test]
fn property_errors_map_to_reason_codes() {
    let not_allowed = try_in(S::Puback, &[0x01, 0x00]).unwrap_err();
    assert_eq!(not_allowed.reason_code(), 0x81);
    assert_eq!(DecodeError::DuplicateProperty(0x1F).reason_code(), 0x82);
    assert_eq!(DecodeError::InvalidPropertyValue(0x21).reason_code(), 0x82);
}

// ---------------------------------------------------------- sender checks

#[test]
fn validate_refuses_what_a_sender_must_not_send() {
    let ok = ConnackProperties {
        maximum_qos: Some(QoS::AtLeastOnce),
        authentication_method: Some("SCRAM".try_into().unwrap()),
        authentication_data: Some((&[1u8][..]).try_into().unwrap()),
        ..Default::default()
    };
    assert_eq!(ok.validate(), Ok(()));

    // Maximum QoS is 0 or 1 (§3.2.2.3.4).
    let qos2 = ConnackProperties {
        maximum_qos: Some(QoS::ExactlyOnce),
        ..Default::default()
    };
    assert!(matches!(qos2.validate(), Err(BuildError::Forbidden(_))));

    // Authentication Data without a method (§3.1.2.11.10).
    for data_only in [
        ConnectProperties {
            authentication_data: Some((&[1u8][..]).try_into().unwrap()),
            ..Default::default()
        }
        .validate(),
        AuthProperties {
            authentication_data: Some((&[1u8][..]).try_into().unwrap()),
            ..Default::default()
        }
        .validate(),
    ] {
        assert!(matches!(data_only, Err(BuildError::Forbidden(_))));
    }

    // The empty Topic Name is no Response Topic [MQTT-4.7.3-1].
    let empty_topic = PublishProperties {
        response_topic: Some(TopicName::empty()),
        ..Default::default()
    };
    assert!(matches!(
        empty_topic.validate(),
        Err(BuildError::Forbidden(_))
    ));
    assert_eq!(PublishProperties::default().validate(), Ok(()));
}

// --------------------------------------------------------------- proptest

mod prop {
    use super::*;
    use crate::MqttString;
    use alloc::string::String;
    use proptest::prelude::*;

    fn string() -> impl Strategy<Value = MqttString> {
        "[^\u{0}]{0,8}".prop_map(|s: String| MqttString::try_from(s).unwrap())
    }

    fn topic() -> impl Strategy<Value = TopicName> {
        "[a-z/]{1,8}".prop_map(|s: String| TopicName::new(s).unwrap())
    }

    fn binary() -> impl Strategy<Value = crate::BinaryData> {
        proptest::collection::vec(any::<u8>(), 0..8)
            .prop_map(|b| crate::BinaryData::try_from(b).unwrap())
    }

    fn user_properties() -> impl Strategy<Value = Vec<UserProperty>> {
        proptest::collection::vec(
            (string(), string()).prop_map(|(name, value)| UserProperty { name, value }),
            0..3,
        )
    }

    fn sub_id() -> impl Strategy<Value = SubscriptionIdentifier> {
        (1..=SubscriptionIdentifier::MAX).prop_map(|v| SubscriptionIdentifier::new(v).unwrap())
    }

    fn publish() -> impl Strategy<Value = PublishProperties> {
        (
            proptest::option::of(prop_oneof![
                Just(PayloadFormatIndicator::Unspecified),
                Just(PayloadFormatIndicator::Utf8)
            ]),
            proptest::option::of(any::<u32>()),
            proptest::option::of(string()),
            proptest::option::of(topic()),
            proptest::option::of(binary()),
            proptest::collection::vec(sub_id(), 0..3),
            user_properties(),
        )
            .prop_map(|(pfi, mei, ct, rt, cd, si, up)| PublishProperties {
                payload_format_indicator: pfi,
                message_expiry_interval: mei,
                content_type: ct,
                response_topic: rt,
                correlation_data: cd,
                subscription_identifiers: si,
                user_properties: up,
            })
    }

    fn connack() -> impl Strategy<Value = ConnackProperties> {
        (
            (
                proptest::option::of(any::<u32>()),
                proptest::option::of(string()),
                proptest::option::of(any::<u16>()),
                proptest::option::of((string(), proptest::option::of(binary()))),
                proptest::option::of(string()),
                proptest::option::of(string()),
                proptest::option::of(string()),
            ),
            (
                proptest::option::of(any::<NonZeroU16>()),
                proptest::option::of(any::<u16>()),
                proptest::option::of(prop_oneof![Just(QoS::AtMostOnce), Just(QoS::AtLeastOnce)]),
                proptest::option::of(any::<bool>()),
                user_properties(),
                proptest::option::of(any::<NonZeroU32>()),
                proptest::array::uniform3(proptest::option::of(any::<bool>())),
            ),
        )
            .prop_map(
                |((sei, aci, ska, auth, ri, sr, rs), (rm, tam, mq, ra, up, mps, avail))| {
                    let (authentication_method, authentication_data) = match auth {
                        Some((m, d)) => (Some(m), d),
                        None => (None, None),
                    };
                    ConnackProperties {
                        session_expiry_interval: sei,
                        assigned_client_identifier: aci,
                        server_keep_alive: ska,
                        authentication_method,
                        authentication_data,
                        response_information: ri,
                        server_reference: sr,
                        reason_string: rs,
                        receive_maximum: rm,
                        topic_alias_maximum: tam,
                        maximum_qos: mq,
                        retain_available: ra,
                        user_properties: up,
                        maximum_packet_size: mps,
                        wildcard_subscription_available: avail[0],
                        subscription_identifiers_available: avail[1],
                        shared_subscription_available: avail[2],
                    }
                },
            )
    }

    /// Decodes `bytes` as `T`; if it decodes, encoding and decoding again
    /// gives the same value.
    fn reencodes<T: Set>(bytes: &[u8]) {
        if let Ok(p) = decode::<T>(bytes) {
            let again = p.enc();
            assert_eq!(decode::<T>(&again).as_ref(), Ok(&p));
        }
    }

    proptest! {
        #[test]
        fn publish_round_trips(p in publish()) {
            prop_assert_eq!(p.validate(), Ok(()));
            prop_assert_eq!(decode::<PublishProperties>(&p.enc()), Ok(p));
        }

        #[test]
        fn connack_round_trips(p in connack()) {
            prop_assert_eq!(p.validate(), Ok(()));
            prop_assert_eq!(decode::<ConnackProperties>(&p.enc()), Ok(p));
        }

        /// Arbitrary bytes never panic, in any set; what decodes re-encodes.
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..48)) {
            let bytes = block(&body);
            reencodes::<ConnectProperties>(&bytes);
            reencodes::<WillProperties>(&bytes);
            reencodes::<ConnackProperties>(&bytes);
            reencodes::<PublishProperties>(&bytes);
            reencodes::<PubackProperties>(&bytes);
            reencodes::<PubrecProperties>(&bytes);
            reencodes::<PubrelProperties>(&bytes);
            reencodes::<PubcompProperties>(&bytes);
            reencodes::<SubscribeProperties>(&bytes);
            reencodes::<SubackProperties>(&bytes);
            reencodes::<UnsubscribeProperties>(&bytes);
            reencodes::<UnsubackProperties>(&bytes);
            reencodes::<DisconnectProperties>(&bytes);
            reencodes::<AuthProperties>(&bytes);
            // Also with a raw (possibly wrong) Property Length.
            reencodes::<PublishProperties>(&body);
            reencodes::<ConnackProperties>(&body);
        }
    }
}

/// [MQTT-1.5.7-1] Both strings of a UTF-8 String Pair follow the rules of a
/// UTF-8 Encoded String; a pair that breaks them is malformed.
#[test]
fn string_pair_strings_are_checked() {
    assert_eq!(
        decode::<PubackProperties>(&block(&[0x26, 0x00, 0x01, b'k', 0x00, 0x01, 0x00])),
        Err(DecodeError::NullCharacter)
    );
    assert_eq!(
        decode::<PubackProperties>(&block(&[0x26, 0x00, 0x01, 0xFF, 0x00, 0x01, b'v'])),
        Err(DecodeError::InvalidUtf8)
    );
}
