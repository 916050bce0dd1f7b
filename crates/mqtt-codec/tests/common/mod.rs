//! Shared proptest strategies and checks for the integration tests.
//!
//! Every packet is built through its public builder, so a generated packet
//! is valid by construction: what a sender may send. Strategies are generic
//! over the packet identifier width `P` (`u16` or `u32`).
//!
//! Each test binary uses a different part of this module.
#![allow(dead_code)]

pub mod mutate;
pub mod props;
pub mod v3;
pub mod v5;

use bytes::{Bytes, BytesMut};
use mqtt_codec::{
    BinaryData, Decoder, Encode, GenericPacket, MqttString, PacketId, ProtocolVersion, QoS,
    TopicFilter, TopicName,
};
use proptest::prelude::*;
use proptest::sample::select;

/// Both protocol versions.
pub const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];

/// A non-zero packet identifier of width `P`, with the edges (1 and the
/// largest) drawn often.
pub fn packet_id<P: PacketId>() -> BoxedStrategy<P> {
    let max = P::MAX.to_u32();
    prop_oneof![
        1 => Just(1u32),
        1 => Just(max),
        6 => 1..=max,
    ]
    .prop_map(|v| P::from_u32(v).expect("1..=MAX is a valid packet id"))
    .boxed()
}

/// Any QoS level.
pub fn qos() -> impl Strategy<Value = QoS> + Clone {
    select(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][..])
}

/// Text for a UTF-8 Encoded String: mostly ASCII, sometimes any character
/// but U+0000 [MQTT-1.5.4-2] (Rust `char`s are never surrogates, so the
/// result is well-formed [MQTT-1.5.4-1]); U+FEFF is kept [MQTT-1.5.4-3].
pub fn text(max: usize) -> BoxedStrategy<String> {
    prop_oneof![
        4 => proptest::string::string_regex(&format!("[a-zA-Z0-9 _./-]{{0,{max}}}")).unwrap(),
        1 => proptest::string::string_regex(&format!("[^\\x00]{{0,{max}}}")).unwrap(),
        1 => Just("\u{FEFF}\u{10FFFF}é中".to_owned()),
    ]
    .boxed()
}

/// A UTF-8 Encoded String (§1.5.4).
pub fn mqtt_string() -> BoxedStrategy<MqttString> {
    text(12)
        .prop_map(|s| MqttString::try_from(s).expect("generated strings are valid"))
        .boxed()
}

/// A non-empty UTF-8 Encoded String.
pub fn non_empty_string() -> BoxedStrategy<MqttString> {
    text(12)
        .prop_map(|s| if s.is_empty() { "x".to_owned() } else { s })
        .prop_map(|s| MqttString::try_from(s).expect("generated strings are valid"))
        .boxed()
}

/// Arbitrary bytes, at most `max` of them.
pub fn bytes(max: usize) -> BoxedStrategy<Bytes> {
    proptest::collection::vec(any::<u8>(), 0..=max)
        .prop_map(Bytes::from)
        .boxed()
}

/// A PUBLISH payload: mostly short, sometimes long enough for a Remaining
/// Length of two or three bytes (§2.1.4).
pub fn payload() -> BoxedStrategy<Bytes> {
    prop_oneof![
        15 => bytes(64),
        1 => (any::<u8>(), 100..17_000usize).prop_map(|(b, n)| Bytes::from(vec![b; n])),
    ]
    .boxed()
}

/// Binary Data (§1.5.6).
pub fn binary() -> BoxedStrategy<BinaryData> {
    bytes(16)
        .prop_map(|b| BinaryData::try_from(b).expect("short binary data is valid"))
        .boxed()
}

/// One topic level without wildcards or separators.
fn level() -> BoxedStrategy<String> {
    prop_oneof![
        6 => proptest::string::string_regex("[a-z0-9_ -]{0,6}").unwrap(),
        1 => proptest::string::string_regex("[^\\x00+#/]{0,4}").unwrap(),
        1 => Just("$SYS".to_owned()),
    ]
    .boxed()
}

/// A Topic Name (§4.7): levels without wildcards, at least one character
/// [MQTT-4.7.3-1].
pub fn topic_name() -> BoxedStrategy<TopicName> {
    proptest::collection::vec(level(), 1..5)
        .prop_map(|levels| {
            let s = levels.join("/");
            let s = if s.is_empty() { "t".to_owned() } else { s };
            TopicName::new(s.as_str()).expect("generated topic names are valid")
        })
        .boxed()
}

/// A Topic Filter (§4.7): `+` only as a whole level, `#` only as the whole
/// last level [MQTT-4.7.1-2], [MQTT-4.7.1-3]. Never a `$share/` filter.
pub fn topic_filter() -> BoxedStrategy<TopicFilter> {
    let filter_level = prop_oneof![4 => level(), 1 => Just("+".to_owned())];
    (proptest::collection::vec(filter_level, 1..5), any::<bool>())
        .prop_map(|(levels, hash)| {
            let mut s = levels.join("/");
            if hash {
                s.push_str(if s.is_empty() { "#" } else { "/#" });
            }
            if s.is_empty() || s.starts_with("$share/") {
                s.insert(0, 'x');
            }
            TopicFilter::new(s.as_str()).expect("generated topic filters are valid")
        })
        .boxed()
}

/// A Topic Filter, sometimes a v5.0 Shared Subscription
/// `$share/{ShareName}/{filter}` (§4.8.2).
pub fn topic_filter_maybe_shared() -> BoxedStrategy<TopicFilter> {
    prop_oneof![
        4 => topic_filter(),
        1 => ("[a-z0-9]{1,5}", topic_filter()).prop_map(|(group, filter)| {
            TopicFilter::new(format!("$share/{group}/{filter}").as_str())
                .expect("generated shared filters are valid")
        }),
    ]
    .boxed()
}

/// Encodes `packet` three ways and checks they agree: `encode` returns the
/// length it wrote, `encoded_len` announces it, and `encode_vectored`'s
/// head followed by its payload gives the same bytes.
pub fn encode<T: Encode>(packet: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    let written = packet.encode(&mut buf).expect("a built packet encodes");
    assert_eq!(written, buf.len(), "encode returns the bytes written");
    assert_eq!(packet.encoded_len(), buf.len(), "encoded_len is exact");
    let mut head = Vec::new();
    let payload = packet
        .encode_vectored(&mut head)
        .expect("a built packet encodes vectored");
    if let Some(payload) = payload {
        head.extend_from_slice(payload);
    }
    assert_eq!(head, buf, "encode_vectored head + payload == encode");
    buf
}

/// Checks that `packet`, of `version`, encodes consistently and decodes
/// back to itself through a [`Decoder`], consuming exactly its bytes; and
/// that the packet wrapped in its version's `Packet` (`V`) and in
/// [`GenericPacket`] encodes to the same bytes.
pub fn assert_round_trip<P, T, V>(packet: T, version: ProtocolVersion) -> Result<(), TestCaseError>
where
    P: PacketId,
    T: Encode + Into<V>,
    V: Encode + Into<GenericPacket<P>>,
{
    let bytes = encode(&packet);
    let wrapped: V = packet.into();
    prop_assert_eq!(&encode(&wrapped), &bytes);
    let generic: GenericPacket<P> = wrapped.into();
    prop_assert_eq!(generic.version(), version);
    prop_assert_eq!(&encode(&generic), &bytes);
    let mut buf = BytesMut::from(&bytes[..]);
    let decoded = Decoder::<P>::new(version).decode(&mut buf);
    prop_assert_eq!(decoded, Ok(Some(generic)), "bytes {:02x?}", bytes);
    prop_assert!(buf.is_empty(), "{} bytes left over", buf.len());
    Ok(())
}

/// Decodes every packet of `buf` with `decoder` until it needs more bytes
/// or errs, checking that `Ok(None)` leaves `buf` untouched and that a
/// packet always consumes bytes. Returns the packets and the error, if any.
pub fn decode_all<P: PacketId>(
    decoder: &mut Decoder<P>,
    buf: &mut BytesMut,
) -> Result<(Vec<GenericPacket<P>>, Option<mqtt_codec::DecodeError>), TestCaseError> {
    let mut packets = Vec::new();
    loop {
        let before = buf.clone();
        match decoder.decode(buf) {
            Ok(Some(packet)) => {
                prop_assert!(buf.len() < before.len(), "a packet consumes bytes");
                packets.push(packet);
            }
            Ok(None) => {
                prop_assert_eq!(&before, &*buf, "Ok(None) leaves the buffer as it was");
                return Ok((packets, None));
            }
            Err(e) => return Ok((packets, Some(e))),
        }
    }
}

/// Checks a packet the decoder returned: it encodes consistently, its
/// bytes decode to an equal packet, and that one encodes to the same bytes.
pub fn assert_reencodes<P: PacketId>(packet: &GenericPacket<P>) -> Result<(), TestCaseError> {
    let bytes = encode(packet);
    let mut buf = BytesMut::from(&bytes[..]);
    let again = Decoder::<P>::new(packet.version()).decode(&mut buf);
    prop_assert_eq!(
        again.as_ref(),
        Ok(&Some(packet.clone())),
        "bytes {:02x?}",
        bytes
    );
    prop_assert!(buf.is_empty(), "{} bytes left over", buf.len());
    if let Ok(Some(again)) = again {
        prop_assert_eq!(encode(&again), bytes);
    }
    Ok(())
}

/// The bytes of `packets`, one after the other.
pub fn concat<T: Encode>(packets: &[T]) -> Vec<u8> {
    packets.iter().flat_map(|p| encode(p)).collect()
}
