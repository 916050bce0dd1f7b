//! Helpers that write the shared field types; sizes are checked before by
//! the caller, so nothing here fails.

use bytes::BufMut;

use crate::PacketId;

/// Two Byte Integer length, then the bytes. The caller ensures `len <= 65_535`
/// (the string and binary types guarantee it).
#[inline]
pub(crate) fn put_length_prefixed<B: BufMut>(buf: &mut B, bytes: &[u8]) {
    buf.put_u16(bytes.len() as u16);
    buf.put_slice(bytes);
}

/// A packet identifier in its wire width.
#[inline]
pub(crate) fn put_packet_id<B: BufMut, P: PacketId>(buf: &mut B, id: P) {
    if P::WIRE_LEN == 2 {
        buf.put_u16(id.to_u32() as u16);
    } else {
        buf.put_u32(id.to_u32());
    }
}

/// Writes the part of a PUBLISH before its properties (v5.0) or payload: the
/// fixed header (`first_byte`, then `body_len` as the Remaining Length), the
/// Topic Name and the packet identifier, in four writes: the fixed header
/// and topic length as one small array, the topic, the identifier. The
/// caller ensures `body_len <= VARINT_MAX`.
#[inline(always)]
pub(crate) fn put_publish_head<B: BufMut, P: PacketId>(
    buf: &mut B,
    first_byte: u8,
    body_len: usize,
    topic: &[u8],
    packet_id: Option<P>,
) {
    let [t0, t1] = (topic.len() as u16).to_be_bytes();
    // One fixed-size array per Remaining Length size: each write is a
    // single store, not a copy of a computed length.
    let len = body_len as u32;
    let byte = |shift: u32| (len >> shift) as u8 & 0x7F;
    if len < 0x80 {
        buf.put_slice(&[first_byte, len as u8, t0, t1]);
    } else if len < 0x4000 {
        buf.put_slice(&[first_byte, byte(0) | 0x80, byte(7), t0, t1]);
    } else if len < 0x20_0000 {
        buf.put_slice(&[first_byte, byte(0) | 0x80, byte(7) | 0x80, byte(14), t0, t1]);
    } else {
        buf.put_slice(&[
            first_byte,
            byte(0) | 0x80,
            byte(7) | 0x80,
            byte(14) | 0x80,
            byte(21),
            t0,
            t1,
        ]);
    }
    put_short(buf, topic);
    if let Some(id) = packet_id {
        put_packet_id(buf, id);
    }
}

/// Writes `bytes`, when they are few in fixed-size pieces (16 bytes at a
/// time, then 8, 4, 2 and 1 as needed): a few stores instead of a call to
/// copy a length known only at run time.
#[inline(always)]
fn put_short<B: BufMut>(buf: &mut B, bytes: &[u8]) {
    if bytes.len() > 64 {
        buf.put_slice(bytes);
        return;
    }
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        let mut block = [0u8; 16];
        block.copy_from_slice(chunk);
        buf.put_slice(&block);
    }
    let mut rest = chunks.remainder();
    if let Some((word, tail)) = rest.split_first_chunk::<8>() {
        buf.put_slice(word);
        rest = tail;
    }
    if let Some((word, tail)) = rest.split_first_chunk::<4>() {
        buf.put_slice(word);
        rest = tail;
    }
    if let Some((pair, tail)) = rest.split_first_chunk::<2>() {
        buf.put_slice(pair);
        rest = tail;
    }
    if let Some(&byte) = rest.first() {
        buf.put_u8(byte);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::write_fixed_header;
    use crate::wire::VARINT_MAX;
    use alloc::vec::Vec;

    /// What [`put_publish_head`] must write, field by field (§2.1, §3.3.2).
    fn reference<P: PacketId>(first: u8, body_len: usize, topic: &[u8], id: Option<P>) -> Vec<u8> {
        let mut out = Vec::new();
        write_fixed_header(&mut out, first, body_len);
        put_length_prefixed(&mut out, topic);
        if let Some(id) = id {
            put_packet_id(&mut out, id);
        }
        out
    }

    /// Every Remaining Length size (Table 1-1 boundaries), short and long
    /// topics, no identifier and both identifier widths.
    #[test]
    fn publish_head_matches_the_field_by_field_encoding() {
        let topic: Vec<u8> = (0..300u32).map(|i| b'a' + (i % 26) as u8).collect();
        let lens = [
            0,
            127,
            128,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            VARINT_MAX as usize,
        ];
        for body_len in lens {
            for topic_len in [0, 1, 16, 64, 65, 300] {
                let topic = &topic[..topic_len];
                let mut out = Vec::new();
                put_publish_head::<_, u16>(&mut out, 0x30, body_len, topic, None);
                assert_eq!(out, reference::<u16>(0x30, body_len, topic, None));
                let mut out = Vec::new();
                put_publish_head(&mut out, 0x3B, body_len, topic, Some(0x1234u16));
                assert_eq!(out, reference(0x3B, body_len, topic, Some(0x1234u16)));
                let mut out = Vec::new();
                put_publish_head(&mut out, 0x34, body_len, topic, Some(0x0102_0304u32));
                assert_eq!(out, reference(0x34, body_len, topic, Some(0x0102_0304u32)));
            }
        }
    }
}
