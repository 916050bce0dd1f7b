//! The borrowed view (`Decoder::decode_view`) and the owned decoder
//! (`Decoder::decode`) are one parser: for every packet of both versions
//! and both identifier widths, under every split of the stream, they give
//! the same packets (a PUBLISH compared field by field), consume the same
//! bytes, and return the same error for the same bad bytes. And a
//! [`Message`] goes to a PUBLISH of either version, to bytes, back to a
//! PUBLISH and back to the same message (v3.1.1 without its properties).

mod common;

use bytes::{Bytes, BytesMut};
use common::mutate::input;
use common::{concat, decode_all, encode, props, topic_name, v3, v5, VERSIONS};
use mqtt_codec::{
    v3_1_1, v5_0, DecodeError, Decoder, GenericPacket, GenericPacketView, Message,
    MessageProperties, PacketId, ProtocolVersion, QoS,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

/// Reads every packet of `input` with views, as a router does: each view
/// made owned by copying (not from the bytes it came from, so that this
/// path is independent of the owned decoder's), with the bytes it used.
/// Stops at the first error, or where a packet is not complete.
#[allow(clippy::type_complexity)]
fn views<P: PacketId>(
    decoder: &mut Decoder<P>,
    input: &[u8],
) -> (Vec<(GenericPacket<P>, usize)>, usize, Option<DecodeError>) {
    let mut at = 0;
    let mut packets = Vec::new();
    loop {
        match decoder.decode_view(&input[at..]) {
            Ok(Some((view, used))) => {
                check_view_fields(&view);
                packets.push((view.to_owned(&Bytes::new()), used));
                at += used;
            }
            Ok(None) => return (packets, at, None),
            Err(e) => return (packets, at, Some(e)),
        }
    }
}

/// A PUBLISH view reads, field by field, as the owned PUBLISH made of it.
fn check_view_fields<P: PacketId>(view: &GenericPacketView<'_, P>) {
    match view {
        GenericPacketView::V3_1_1(v3_1_1::PacketView::Publish(v)) => {
            let p = v.to_owned(&Bytes::new());
            assert_eq!(v.topic_name(), p.topic_name());
            assert_eq!(v.payload(), p.payload());
            assert_eq!(v.packet_id(), p.packet_id());
            assert_eq!(
                (v.qos(), v.dup(), v.retain()),
                (p.qos(), p.dup(), p.retain())
            );
        }
        GenericPacketView::V5_0(v5_0::PacketView::Publish(v)) => {
            let p = v.to_owned(&Bytes::new());
            assert_eq!(v.topic_name(), p.topic_name());
            assert_eq!(v.payload(), p.payload());
            assert_eq!(v.packet_id(), p.packet_id());
            assert_eq!(
                (v.qos(), v.dup(), v.retain()),
                (p.qos(), p.dup(), p.retain())
            );
            assert_eq!(v.topic_alias(), p.topic_alias());
            assert_eq!(v.properties().to_owned(), p.properties().to_owned());
            let props = v.properties();
            assert_eq!(
                props.user_properties().collect::<Vec<_>>(),
                p.properties().user_properties().collect::<Vec<_>>()
            );
            assert_eq!(
                props.subscription_identifiers().collect::<Vec<_>>(),
                p.properties()
                    .subscription_identifiers()
                    .collect::<Vec<_>>()
            );
        }
        _ => {}
    }
}

/// Feeds `bytes` in pieces cut at `cuts` to both decoders; checks they give
/// the same packets, the same error, and that each owned packet equals the
/// expected one (when given).
fn agree<P: PacketId>(
    version: Option<ProtocolVersion>,
    bytes: &[u8],
    cuts: &[Index],
    expected: Option<&[GenericPacket<P>]>,
) -> Result<(), TestCaseError> {
    let new = || match version {
        Some(v) => Decoder::<P>::new(v),
        None => Decoder::<P>::detect_version(),
    };
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    cuts.push(bytes.len());
    cuts.sort_unstable();
    let (mut owned_decoder, mut view_decoder) = (new(), new());
    let (mut buf, mut owned, mut owned_error) = (BytesMut::new(), Vec::new(), None);
    let (mut viewed, mut view_error, mut view_at) = (Vec::new(), None, 0);
    let mut start = 0;
    for cut in cuts {
        buf.extend_from_slice(&bytes[start..cut]);
        start = cut;
        if owned_error.is_none() {
            let (mut packets, error) = decode_all(&mut owned_decoder, &mut buf)?;
            owned.append(&mut packets);
            owned_error = error;
        }
        if view_error.is_none() {
            let (mut packets, used, error) = views(&mut view_decoder, &bytes[view_at..cut]);
            view_at += used;
            viewed.append(&mut packets);
            view_error = error;
        }
    }
    let viewed_packets: Vec<GenericPacket<P>> = viewed.iter().map(|(p, _)| p.clone()).collect();
    prop_assert_eq!(&viewed_packets, &owned);
    prop_assert_eq!(&view_error, &owned_error);
    if owned_error.is_none() {
        // The same bytes used, the partial packet left over by both.
        prop_assert_eq!(view_at, bytes.len() - buf.len());
    }
    if let Some(expected) = expected {
        prop_assert_eq!(&owned[..], expected);
        for ((_, used), packet) in viewed.iter().zip(expected) {
            prop_assert_eq!(*used, encode(packet).len());
        }
    }
    Ok(())
}

/// Any of the packet streams of one version and width.
fn stream<P: PacketId>(version: ProtocolVersion) -> BoxedStrategy<Vec<GenericPacket<P>>> {
    match version {
        ProtocolVersion::V3_1_1 => vec(v3::packet::<P>(), 1..5)
            .prop_map(|p| p.into_iter().map(Into::into).collect())
            .boxed(),
        ProtocolVersion::V5_0 => vec(v5::packet::<P>(), 1..5)
            .prop_map(|p| p.into_iter().map(Into::into).collect())
            .boxed(),
    }
}

fn split_agrees<P: PacketId>(
    version: ProtocolVersion,
    packets: Vec<GenericPacket<P>>,
    cuts: Vec<Index>,
) -> Result<(), TestCaseError> {
    let bytes = concat(&packets);
    agree::<P>(Some(version), &bytes, &[], Some(&packets))?;
    agree::<P>(Some(version), &bytes, &cuts, Some(&packets))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Valid streams of each version and width, whole and split anywhere.
    #[test]
    fn view_and_owned_agree_v3_u16(p in stream::<u16>(ProtocolVersion::V3_1_1), cuts in vec(any::<Index>(), 0..6)) {
        split_agrees(ProtocolVersion::V3_1_1, p, cuts)?;
    }
    #[test]
    fn view_and_owned_agree_v3_u32(p in stream::<u32>(ProtocolVersion::V3_1_1), cuts in vec(any::<Index>(), 0..6)) {
        split_agrees(ProtocolVersion::V3_1_1, p, cuts)?;
    }
    #[test]
    fn view_and_owned_agree_v5_u16(p in stream::<u16>(ProtocolVersion::V5_0), cuts in vec(any::<Index>(), 0..6)) {
        split_agrees(ProtocolVersion::V5_0, p, cuts)?;
    }
    #[test]
    fn view_and_owned_agree_v5_u32(p in stream::<u32>(ProtocolVersion::V5_0), cuts in vec(any::<Index>(), 0..6)) {
        split_agrees(ProtocolVersion::V5_0, p, cuts)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Bad bytes: both decoders of every configuration give the same
    /// packets, then the same error.
    #[test]
    fn same_error_for_the_same_bytes(bytes in input(), cuts in vec(any::<Index>(), 0..3)) {
        for version in VERSIONS {
            agree::<u16>(Some(version), &bytes, &cuts, None)?;
            agree::<u32>(Some(version), &bytes, &cuts, None)?;
        }
        agree::<u16>(None, &bytes, &cuts, None)?;
    }
}

/// A [`Message`] with any message properties (a payload marked UTF-8 is).
fn message() -> BoxedStrategy<Message> {
    (
        topic_name(),
        common::qos(),
        any::<bool>(),
        props::publish(),
        common::payload(),
    )
        .prop_map(|(topic, qos, retain, properties, payload)| {
            let properties = MessageProperties::from(properties);
            let utf8 = properties.payload_format_indicator
                == Some(mqtt_codec::properties::PayloadFormatIndicator::Utf8);
            let payload = if utf8 {
                Bytes::from(String::from_utf8_lossy(&payload).into_owned())
            } else {
                payload
            };
            Message::builder()
                .topic_name(topic)
                .qos(qos)
                .retain(retain)
                .properties(properties)
                .payload(payload)
                .build()
                .expect("a valid message")
        })
        .boxed()
}

/// The message through a PUBLISH of `version` with identifier `id`, its
/// bytes, the decoder, and back.
fn round_trip<P: PacketId>(message: &Message, version: ProtocolVersion, id: P) -> Message {
    let packet: GenericPacket<P> = match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Publish::from_message(message.clone(), id).into(),
        ProtocolVersion::V5_0 => v5_0::Publish::from_message(message.clone(), id).into(),
    };
    let mut buf = BytesMut::from(&encode(&packet)[..]);
    let decoded = Decoder::<P>::new(version).decode(&mut buf);
    assert!(buf.is_empty());
    match decoded {
        Ok(Some(GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)))) => {
            assert_eq!(
                p.packet_id(),
                (message.qos() != QoS::AtMostOnce).then_some(id)
            );
            p.into_message()
        }
        Ok(Some(GenericPacket::V5_0(v5_0::Packet::Publish(p)))) => {
            assert_eq!(
                p.packet_id(),
                (message.qos() != QoS::AtMostOnce).then_some(id)
            );
            p.into_message()
        }
        other => panic!("not a PUBLISH: {other:?}"),
    }
}

proptest! {
    /// Message → PUBLISH → bytes → PUBLISH → Message is the identity on
    /// v5.0, and drops only the properties on v3.1.1 (which has none).
    #[test]
    fn message_round_trips(message in message(), id in common::packet_id::<u32>()) {
        prop_assert_eq!(&round_trip::<u32>(&message, ProtocolVersion::V5_0, id), &message);
        let short = u16::try_from(id % 65_535 + 1).expect("in range");
        prop_assert_eq!(&round_trip::<u16>(&message, ProtocolVersion::V5_0, short), &message);
        let bare = Message::builder()
            .topic_name(message.to_topic_name())
            .qos(message.qos())
            .retain(message.retain())
            .payload(message.payload_bytes())
            .build()
            .expect("a valid message");
        prop_assert_eq!(&round_trip::<u16>(&message, ProtocolVersion::V3_1_1, short), &bare);
    }
}

/// A PUBLISH's Topic Alias and Subscription Identifiers belong to one
/// delivery: its message leaves them out and keeps the other properties,
/// and a PUBLISH made of the message again has none of them.
#[test]
fn a_message_leaves_out_what_belongs_to_one_delivery() {
    use core::num::NonZeroU16;
    use mqtt_codec::properties::{PublishProperties, SubscriptionIdentifier, UserProperty};
    let publish = v5_0::Publish::<u16>::builder()
        .try_topic_name("a/b")
        .unwrap()
        .topic_alias(NonZeroU16::new(3).unwrap())
        .properties(PublishProperties {
            content_type: Some("text/plain".try_into().unwrap()),
            subscription_identifiers: vec![SubscriptionIdentifier::new(7).unwrap()],
            user_properties: vec![UserProperty::new("k", "v").unwrap()],
            ..Default::default()
        })
        .payload("hi")
        .build()
        .unwrap();
    // Decoded, so that the alias and identifier lie in the property block.
    let mut buf = BytesMut::from(&encode(&publish)[..]);
    let Ok(Some(GenericPacket::V5_0(v5_0::Packet::Publish(decoded)))) =
        Decoder::<u16>::new(ProtocolVersion::V5_0).decode(&mut buf)
    else {
        panic!("a PUBLISH")
    };
    assert_eq!(decoded.topic_alias(), NonZeroU16::new(3));
    for p in [publish, decoded] {
        let message = p.into_message();
        assert_eq!(message.properties().content_type(), Some("text/plain"));
        assert_eq!(
            message.properties().user_properties().collect::<Vec<_>>(),
            [("k", "v")]
        );
        let again = v5_0::Publish::<u16>::from_message(message, 1);
        assert_eq!(again.topic_alias(), None);
        assert_eq!(again.properties().subscription_identifiers().count(), 0);
        let bytes = encode(&again);
        // 0x0B and 0x23 nowhere in the property block.
        let props = &bytes[2 + 2 + 3..bytes.len() - 2];
        assert!(!props.windows(2).any(|w| w == [0x0B, 0x07] || w[0] == 0x23));
    }
}
