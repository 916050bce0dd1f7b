//! Framing properties of the streaming `Decoder`: a byte stream split at
//! arbitrary points decodes to the same packets as the whole stream; version
//! detection from a CONNECT gives the packets a known version gives; and a
//! packet above the maximum packet size is refused from its fixed header
//! alone, before its body arrives.

mod common;

use bytes::BytesMut;
use common::{concat, decode_all, encode, v3, v5};
use mqtt_codec::{DecodeError, Decoder, Encode, GenericPacket, PacketId, ProtocolVersion};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

/// Feeds `bytes` to a fresh decoder in pieces cut at `cuts`, decoding
/// whatever is complete after each piece, and checks the result is
/// `expected`, with nothing left over.
fn assert_split_decodes<P: PacketId>(
    mut decoder: Decoder<P>,
    bytes: &[u8],
    cuts: &[Index],
    expected: &[GenericPacket<P>],
) -> Result<(), TestCaseError> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    cuts.push(bytes.len());
    cuts.sort_unstable();
    let mut buf = BytesMut::new();
    let mut packets = Vec::new();
    let mut start = 0;
    for cut in cuts {
        buf.extend_from_slice(&bytes[start..cut]);
        start = cut;
        let (mut decoded, error) = decode_all(&mut decoder, &mut buf)?;
        prop_assert_eq!(error, None);
        packets.append(&mut decoded);
    }
    prop_assert_eq!(packets, expected);
    prop_assert!(buf.is_empty());
    Ok(())
}

/// Splitting a stream of `packets` anywhere gives the same packets as
/// decoding it whole.
fn split_stream<P, T>(
    packets: Vec<T>,
    cuts: Vec<Index>,
    version: ProtocolVersion,
) -> Result<(), TestCaseError>
where
    P: PacketId,
    T: Encode + Into<GenericPacket<P>>,
{
    let bytes = concat(&packets);
    let expected: Vec<GenericPacket<P>> = packets.into_iter().map(Into::into).collect();
    assert_split_decodes(Decoder::<P>::new(version), &bytes, &[], &expected)?;
    assert_split_decodes(Decoder::<P>::new(version), &bytes, &cuts, &expected)?;
    // One byte at a time: every cut at once.
    let mut decoder = Decoder::<P>::new(version);
    let mut buf = BytesMut::new();
    let mut decoded = Vec::new();
    for &b in &bytes {
        buf.extend_from_slice(&[b]);
        if let Some(packet) = decoder
            .decode(&mut buf)
            .map_err(|e| TestCaseError::fail(e.to_string()))?
        {
            decoded.push(packet);
        }
    }
    prop_assert_eq!(decoded, expected);
    Ok(())
}

/// The whole encoded packet is larger than `max`: the decoder refuses it
/// from at most its first five bytes (its fixed header), with the size the
/// header announces (v5.0 §3.1.2.11.4, §3.2.2.3.6: 0x95 Packet too large); at `max` = its length it
/// is accepted.
fn too_large<P: PacketId>(packet: GenericPacket<P>, max: Index) -> Result<(), TestCaseError> {
    let bytes = encode(&packet);
    let len = bytes.len();
    let max = max.index(len) as u32; // 0..len: always too small
    let mut decoder = Decoder::<P>::new(packet.version()).with_max_packet_size(max);
    let mut buf = BytesMut::from(&bytes[..len.min(5)]);
    prop_assert_eq!(
        decoder.decode(&mut buf),
        Err(DecodeError::PacketTooLarge {
            size: len as u64,
            max
        })
    );
    let mut decoder = Decoder::<P>::new(packet.version()).with_max_packet_size(len as u32);
    let mut buf = BytesMut::from(&bytes[..]);
    prop_assert_eq!(decoder.decode(&mut buf), Ok(Some(packet)));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn v3_split_u16(p in vec(v3::packet::<u16>(), 1..6), cuts in vec(any::<Index>(), 0..8)) {
        split_stream::<u16, _>(p, cuts, ProtocolVersion::V3_1_1)?;
    }
    #[test]
    fn v3_split_u32(p in vec(v3::packet::<u32>(), 1..6), cuts in vec(any::<Index>(), 0..8)) {
        split_stream::<u32, _>(p, cuts, ProtocolVersion::V3_1_1)?;
    }
    #[test]
    fn v5_split_u16(p in vec(v5::packet::<u16>(), 1..6), cuts in vec(any::<Index>(), 0..8)) {
        split_stream::<u16, _>(p, cuts, ProtocolVersion::V5_0)?;
    }
    #[test]
    fn v5_split_u32(p in vec(v5::packet::<u32>(), 1..6), cuts in vec(any::<Index>(), 0..8)) {
        split_stream::<u32, _>(p, cuts, ProtocolVersion::V5_0)?;
    }

    /// [MQTT-3.1.0-1] A server that does not know the version learns it from
    /// the first CONNECT and then decodes the rest as a decoder of that
    /// version would, however the stream is split.
    #[test]
    fn v3_detected(
        c in v3::connect(),
        p in vec(v3::packet::<u16>(), 0..4),
        cuts in vec(any::<Index>(), 0..6),
    ) {
        let mut packets = vec![mqtt_codec::v3_1_1::Packet::from(c)];
        packets.extend(p);
        let bytes = concat(&packets);
        let expected: Vec<GenericPacket> = packets.into_iter().map(Into::into).collect();
        assert_split_decodes(Decoder::<u16>::detect_version(), &bytes, &cuts, &expected)?;
    }
    #[test]
    fn v5_detected(
        c in v5::connect(),
        p in vec(v5::packet::<u32>(), 0..4),
        cuts in vec(any::<Index>(), 0..6),
    ) {
        let mut packets = vec![mqtt_codec::v5_0::Packet::from(c)];
        packets.extend(p);
        let bytes = concat(&packets);
        let expected: Vec<GenericPacket<u32>> = packets.into_iter().map(Into::into).collect();
        assert_split_decodes(Decoder::<u32>::detect_version(), &bytes, &cuts, &expected)?;
    }

    #[test]
    fn v3_too_large_u16(p in v3::packet::<u16>(), max in any::<Index>()) {
        too_large(p.into(), max)?;
    }
    #[test]
    fn v3_too_large_u32(p in v3::packet::<u32>(), max in any::<Index>()) {
        too_large(p.into(), max)?;
    }
    #[test]
    fn v5_too_large_u16(p in v5::packet::<u16>(), max in any::<Index>()) {
        too_large(p.into(), max)?;
    }
    #[test]
    fn v5_too_large_u32(p in v5::packet::<u32>(), max in any::<Index>()) {
        too_large(p.into(), max)?;
    }
}
