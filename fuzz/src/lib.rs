// The checks the fuzz targets run, one public function per target.
//
// This file is also compiled into `crates/mqtt-codec/tests/seed_corpus.rs`
// (through `#[path]`), which replays the committed seeds and regressions
// through exactly these checks in an ordinary `cargo test`. So: no
// crate-level attributes here, and only `mqtt_codec` and `bytes`.
//
// Input layout:
// - `decode_v3`: the bytes are a v3.1.1 stream, 2-byte packet identifiers.
// - `decode_v5`: the first byte chooses the identifier width (bit 0: 0 for
//   `u16`, 1 for `u32`); the rest is a v5.0 stream.
// - `roundtrip`: the first byte chooses the version (bit 0: 0 for v3.1.1,
//   1 for v5.0) and the width (bit 1: 0 for `u16`, 1 for `u32`); the rest is
//   the stream.
// - `detect`: the bytes are a stream whose version a server learns from
//   its first packet, which must be a CONNECT.
// - `view`: as `roundtrip`, and bit 2 of the first byte set makes the
//   decoders learn the version from a CONNECT first instead.

use bytes::{Bytes, BytesMut};
use mqtt_codec::wire::{FixedHeader, PacketType};
use mqtt_codec::{Decoder, Encode, GenericPacket, PacketId, ProtocolVersion};

/// Decodes `data` with `decoder` until it needs more bytes or errs, and
/// returns the packets. Panics when the decoder breaks its contract: a
/// packet must consume exactly the bytes its fixed header announces,
/// `Ok(None)` must leave the buffer untouched, and every packet must be of
/// the decoder's version.
pub fn decode_stream<P: PacketId>(decoder: &mut Decoder<P>, data: &[u8]) -> Vec<GenericPacket<P>> {
    let mut buf = BytesMut::from(data);
    let mut packets = Vec::new();
    loop {
        let before = buf.clone();
        match decoder.decode(&mut buf) {
            Ok(Some(packet)) => {
                let header = FixedHeader::parse(&before)
                    .expect("a decoded packet has a valid fixed header")
                    .expect("a decoded packet has a whole fixed header");
                assert_eq!(
                    before.len() - buf.len(),
                    header.packet_len(),
                    "a packet consumes exactly its own bytes"
                );
                assert_eq!(packet.packet_type(), header.packet_type);
                assert_eq!(Some(packet.version()), decoder.version());
                packets.push(packet);
            }
            Ok(None) => {
                assert_eq!(before, buf, "Ok(None) leaves the buffer as it was");
                return packets;
            }
            Err(_) => return packets,
        }
    }
}

/// Encodes `packet`, checking `encoded_len` and that `encode_vectored`
/// gives the same bytes.
pub fn encode<T: Encode>(packet: &T) -> Vec<u8> {
    let mut buf = Vec::with_capacity(packet.encoded_len());
    let written = packet.encode(&mut buf).expect("a decoded packet encodes");
    assert_eq!(written, buf.len(), "encode returns the bytes written");
    assert_eq!(packet.encoded_len(), buf.len(), "encoded_len is exact");
    let mut head = Vec::new();
    let payload = packet
        .encode_vectored(&mut head)
        .expect("a decoded packet encodes vectored");
    if let Some(payload) = payload {
        head.extend_from_slice(payload);
    }
    assert_eq!(head, buf, "encode_vectored head + payload == encode");
    buf
}

/// decode → encode → decode gives an equal packet, consuming every byte,
/// and the second encode gives the same bytes as the first.
pub fn check_reencode<P: PacketId>(packet: &GenericPacket<P>) {
    let bytes = encode(packet);
    let mut buf = BytesMut::from(&bytes[..]);
    let again = Decoder::<P>::new(packet.version()).decode(&mut buf);
    match again {
        Ok(Some(again)) => {
            assert_eq!(&again, packet, "re-encoded bytes {bytes:02x?}");
            assert!(
                buf.is_empty(),
                "{} bytes left after {bytes:02x?}",
                buf.len()
            );
            assert_eq!(encode(&again), bytes, "the second encode differs");
        }
        other => panic!("re-encoded {packet:?} as {bytes:02x?}, which decodes to {other:?}"),
    }
}

// Each target returns how many packets it decoded, so that the seed replay
// can check the seeds are the valid streams they should be.

/// Target `decode_v3`.
pub fn decode_v3(data: &[u8]) -> usize {
    decode_stream(&mut Decoder::<u16>::new(ProtocolVersion::V3_1_1), data).len()
}

/// Target `decode_v5`.
pub fn decode_v5(data: &[u8]) -> usize {
    let Some((&selector, data)) = data.split_first() else {
        return 0;
    };
    if selector & 1 == 0 {
        decode_stream(&mut Decoder::<u16>::new(ProtocolVersion::V5_0), data).len()
    } else {
        decode_stream(&mut Decoder::<u32>::new(ProtocolVersion::V5_0), data).len()
    }
}

fn roundtrip_with<P: PacketId>(version: ProtocolVersion, data: &[u8]) -> usize {
    let packets = decode_stream(&mut Decoder::<P>::new(version), data);
    for packet in &packets {
        check_reencode(packet);
    }
    packets.len()
}

/// Target `roundtrip`.
pub fn roundtrip(data: &[u8]) -> usize {
    let Some((&selector, data)) = data.split_first() else {
        return 0;
    };
    let version = if selector & 1 == 0 {
        ProtocolVersion::V3_1_1
    } else {
        ProtocolVersion::V5_0
    };
    if selector & 2 == 0 {
        roundtrip_with::<u16>(version, data)
    } else {
        roundtrip_with::<u32>(version, data)
    }
}

/// Target `detect`.
pub fn detect(data: &[u8]) -> usize {
    let mut decoder = Decoder::<u16>::detect_version();
    let packets = decode_stream(&mut decoder, data);
    // With nothing decoded, more bytes were needed or the first packet was
    // refused; the version may still be known, from a CONNECT whose
    // Protocol Name and Level were read but whose rest was malformed.
    if let Some(first) = packets.first() {
        assert_eq!(first.packet_type(), PacketType::Connect, "[MQTT-3.1.0-1]");
        assert_eq!(decoder.version(), Some(first.version()));
    }
    for packet in &packets {
        check_reencode(packet);
    }
    packets.len()
}

/// Reads `data` with views (`Decoder::decode_view`), as a router does, and
/// with the owned decoder, and checks that they agree: the same packets
/// (each view made owned both sharing the input and copying it), the same
/// bytes used, and the same error at the same packet.
fn view_with<P: PacketId>(new: impl Fn() -> Decoder<P>, data: &[u8]) -> usize {
    let mut owned_decoder = new();
    let mut buf = BytesMut::from(data);
    let mut owned = Vec::new();
    let owned_error = loop {
        match owned_decoder.decode(&mut buf) {
            Ok(Some(packet)) => owned.push(packet),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let source = Bytes::copy_from_slice(data);
    let mut view_decoder = new();
    let mut at = 0;
    let mut viewed = 0;
    let view_error = loop {
        match view_decoder.decode_view(&source[at..]) {
            Ok(Some((view, used))) => {
                let shared = view.to_owned(&source);
                let copied = view.to_owned(&Bytes::new());
                assert_eq!(shared, copied, "shared and copied views agree");
                assert_eq!(Some(&shared), owned.get(viewed), "view and owned agree");
                assert_eq!(view.packet_type(), shared.packet_type());
                at += used;
                viewed += 1;
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    assert_eq!(viewed, owned.len(), "as many packets either way");
    assert_eq!(view_error, owned_error, "the same error for the same bytes");
    if view_error.is_none() {
        assert_eq!(at, data.len() - buf.len(), "the same bytes used");
    }
    assert_eq!(view_decoder.version(), owned_decoder.version());
    viewed
}

/// Target `view`.
pub fn view(data: &[u8]) -> usize {
    let Some((&selector, data)) = data.split_first() else {
        return 0;
    };
    let version = if selector & 1 == 0 {
        ProtocolVersion::V3_1_1
    } else {
        ProtocolVersion::V5_0
    };
    let detect = selector & 4 != 0;
    if selector & 2 == 0 {
        view_with(
            || match detect {
                true => Decoder::<u16>::detect_version(),
                false => Decoder::<u16>::new(version),
            },
            data,
        )
    } else {
        view_with(
            || match detect {
                true => Decoder::<u32>::detect_version(),
                false => Decoder::<u32>::new(version),
            },
            data,
        )
    }
}
