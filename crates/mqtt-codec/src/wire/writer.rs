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
