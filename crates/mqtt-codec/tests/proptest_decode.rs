//! Decoding arbitrary bytes never panics, for both versions, both packet
//! identifier widths and version detection; `Ok(None)` never consumes a
//! byte; and whatever decodes re-encodes to bytes that decode to the same
//! packet.
//!
//! Inputs are random bytes, and valid packet streams with a few random
//! mutations (a flipped byte, an inserted or removed byte, a cut), which
//! reach far deeper into the packet decoders than random bytes do.

mod common;

use bytes::BytesMut;
use common::mutate::{input, valid_stream};
use common::{assert_reencodes, decode_all};
use mqtt_codec::{Decoder, GenericPacket, PacketId, ProtocolVersion};
use proptest::prelude::*;
use proptest::sample::Index;

/// Runs `decoder` over `bytes`; checks the invariants of `decode_all` and
/// re-encodes each packet; returns the packets.
fn run<P: PacketId>(
    mut decoder: Decoder<P>,
    bytes: &[u8],
) -> Result<Vec<GenericPacket<P>>, TestCaseError> {
    let mut buf = BytesMut::from(bytes);
    let (packets, _error) = decode_all(&mut decoder, &mut buf)?;
    for packet in &packets {
        if let Some(version) = decoder.version() {
            prop_assert_eq!(packet.version(), version);
        }
        assert_reencodes(packet)?;
    }
    Ok(packets)
}

/// Runs every decoder configuration over `bytes`.
fn run_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    for version in common::VERSIONS {
        run(Decoder::<u16>::new(version), bytes)?;
        run(Decoder::<u32>::new(version), bytes)?;
    }
    let packets = run(Decoder::<u16>::detect_version(), bytes)?;
    if let Some(first) = packets.first() {
        // [MQTT-3.1.0-1] detection accepts only a CONNECT first.
        prop_assert_eq!(first.packet_type(), mqtt_codec::wire::PacketType::Connect);
    }
    run(Decoder::<u32>::detect_version(), bytes)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// No input makes any decoder panic; see `run_all` for what is checked.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in input()) {
        run_all(&bytes)?;
    }
}

proptest! {
    /// Every prefix of a valid stream is either decoded or waited on, and a
    /// wait never consumes bytes.
    #[test]
    fn prefixes_wait_without_consuming(bytes in valid_stream(), cut in any::<Index>()) {
        let cut = cut.index(bytes.len() + 1);
        run_all(&bytes[..cut])?;
    }
}

/// A detecting decoder refuses anything but a CONNECT of a supported
/// version first [MQTT-3.1.0-1], and keeps the version it found.
#[test]
fn detection_needs_connect_first() {
    let mut decoder = Decoder::<u16>::detect_version();
    let mut buf = BytesMut::from(&[0xC0, 0x00][..]);
    assert!(decoder.decode(&mut buf).is_err());
    assert_eq!(decoder.version(), None);

    // CONNECT with Protocol Level 3 (MQTT 3.1) is not supported.
    let mut decoder = Decoder::<u16>::detect_version();
    let mut buf = BytesMut::from(&b"\x10\x0c\x00\x04MQTT\x03\x02\x00\x3c\x00\x00"[..]);
    assert!(decoder.decode(&mut buf).is_err());
    assert_eq!(decoder.version(), None);
    assert_eq!(ProtocolVersion::from_level(3), None);
}
