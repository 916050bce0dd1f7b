//! Encoding: every packet type implements [`Encode`].

use bytes::BufMut;

use crate::wire::varint::put_varint;
use crate::wire::{varint_len, VARINT_MAX};
use crate::EncodeError;

pub(crate) mod sealed {
    use bytes::BufMut;

    /// What a packet type supplies to be encoded; sealed, so that only this
    /// crate's packets (which uphold the spec's rules) can be encoded.
    pub trait Body {
        /// Packet type and flags: the first byte of the fixed header.
        fn first_byte(&self) -> u8;
        /// The Remaining Length: the variable header plus the payload.
        fn body_len(&self) -> usize;
        /// Writes the variable header and the payload, except what
        /// [`payload`](Body::payload) returns.
        fn write_head<B: BufMut>(&self, buf: &mut B);
        /// A payload written after the rest, and handed out uncopied by
        /// [`Encode::encode_vectored`](super::Encode::encode_vectored).
        fn payload(&self) -> Option<&[u8]> {
            None
        }
        /// Writes the fixed header, whose Remaining Length is `body_len`
        /// (what [`body_len`](Body::body_len) returns, computed once by the
        /// caller), then [`write_head`](Body::write_head). PUBLISH writes
        /// its own in fewer steps.
        #[inline]
        fn write_packet_head<B: BufMut>(&self, buf: &mut B, body_len: usize) {
            super::write_fixed_header(buf, self.first_byte(), body_len);
            self.write_head(buf);
        }
        /// [`Encode::encode`](super::Encode::encode). PUBLISH has it
        /// always inlined into the caller (a call that returns the `Result`
        /// through memory costs about a third of encoding a small PUBLISH);
        /// for the other packets inlining it all only makes the caller
        /// bigger and slower, so the optimizer decides.
        #[inline]
        fn encode_packet<B: BufMut>(&self, buf: &mut B) -> Result<usize, crate::EncodeError> {
            super::encode_packet(self, buf)
        }
    }
}

/// Encodes a packet into the caller's buffer.
///
/// ```
/// use mqtt_codec::{Encode, v3_1_1::Pingreq};
/// let mut buf = Vec::with_capacity(Pingreq.encoded_len());
/// Pingreq.encode(&mut buf).unwrap();
/// assert_eq!(buf, [0xC0, 0x00]);
/// ```
pub trait Encode: sealed::Body {
    /// Bytes the whole packet takes, fixed header included: reserve this much
    /// before [`encode`](Encode::encode).
    #[inline]
    fn encoded_len(&self) -> usize {
        let body = self.body_len();
        1 + varint_len(u32::try_from(body).unwrap_or(u32::MAX)) + body
    }

    /// Writes the whole packet to `buf` and returns its length.
    ///
    /// Errs, writing nothing, when the Remaining Length would exceed
    /// 268,435,455 (§2.1.4) or `buf` has not room for the whole packet.
    #[inline(always)]
    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        self.encode_packet(buf)
    }

    /// Writes the packet except a PUBLISH payload, and returns that payload,
    /// to be written after the head as its own chunk (a vectored write),
    /// without copying it. For other packets this equals
    /// [`encode`](Encode::encode) and returns `None`.
    ///
    /// Errs like [`encode`](Encode::encode).
    #[inline]
    fn encode_vectored<B: BufMut>(&self, head: &mut B) -> Result<Option<&[u8]>, EncodeError> {
        let payload = self.payload();
        let body = self.body_len();
        check(body, payload.map_or(0, <[u8]>::len), head.remaining_mut())?;
        self.write_packet_head(head, body);
        Ok(payload)
    }
}

impl<T: sealed::Body> Encode for T {}

impl<T: sealed::Body + ?Sized> sealed::Body for alloc::boxed::Box<T> {
    #[inline]
    fn first_byte(&self) -> u8 {
        (**self).first_byte()
    }
    #[inline]
    fn body_len(&self) -> usize {
        (**self).body_len()
    }
    #[inline]
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        (**self).write_head(buf)
    }
    #[inline]
    fn payload(&self) -> Option<&[u8]> {
        (**self).payload()
    }
    #[inline]
    fn write_packet_head<B: BufMut>(&self, buf: &mut B, body_len: usize) {
        (**self).write_packet_head(buf, body_len)
    }
}

/// The whole packet's length for a body of `body` bytes, checked against
/// the largest Remaining Length (§2.1.4) and against the `available` room
/// for all of it but `skipped` bytes (a payload written apart).
#[inline]
pub(crate) fn check(body: usize, skipped: usize, available: usize) -> Result<usize, EncodeError> {
    if body > VARINT_MAX as usize {
        return Err(EncodeError::PacketTooLarge(body));
    }
    // Cannot overflow: `body` is at most VARINT_MAX.
    let total = 1 + varint_len(body as u32) + body;
    let needed = total - skipped;
    if available < needed {
        return Err(EncodeError::BufferTooSmall { needed, available });
    }
    Ok(total)
}

/// What [`Encode::encode`] does, for [`sealed::Body::encode_packet`].
#[inline(always)]
pub(crate) fn encode_packet<T, B>(packet: &T, buf: &mut B) -> Result<usize, EncodeError>
where
    T: sealed::Body + ?Sized,
    B: BufMut,
{
    let body = packet.body_len();
    let total = check(body, 0, buf.remaining_mut())?;
    packet.write_packet_head(buf, body);
    if let Some(payload) = packet.payload() {
        buf.put_slice(payload);
    }
    Ok(total)
}

/// The fixed header: `first_byte`, then `body_len` as the Remaining Length.
#[inline]
pub(crate) fn write_fixed_header<B: BufMut>(buf: &mut B, first_byte: u8, body_len: usize) {
    buf.put_u8(first_byte);
    put_varint(buf, body_len as u32);
}

/// Implements [`sealed::Body`] for a packet with no variable header and no
/// payload (PINGREQ, PINGRESP, v3.1.1 DISCONNECT).
macro_rules! empty_body {
    ($ty:ty, $packet_type:expr) => {
        impl $crate::encode::sealed::Body for $ty {
            #[inline]
            fn first_byte(&self) -> u8 {
                ($packet_type as u8) << 4
            }
            #[inline]
            fn body_len(&self) -> usize {
                0
            }
            #[inline]
            fn write_head<B: bytes::BufMut>(&self, _buf: &mut B) {}
        }
    };
}
pub(crate) use empty_body;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v3_1_1::Publish;
    use crate::QoS;

    fn publish() -> Publish<u16> {
        Publish::builder()
            .try_topic_name("a/b")
            .unwrap()
            .qos(QoS::AtLeastOnce)
            .packet_id(7)
            .payload(&b"hi"[..])
            .build()
            .unwrap()
    }

    /// A buffer without room for the whole packet is refused before
    /// anything is written; the vectored form needs room for the head only.
    #[test]
    fn buffer_too_small_writes_nothing() {
        let packet = publish();
        // 2 bytes of fixed header, 5 of topic, 2 of packet id, 2 of payload.
        assert_eq!(packet.encoded_len(), 11);
        let mut small = [0u8; 10];
        let mut out = &mut small[..];
        assert_eq!(
            packet.encode(&mut out),
            Err(EncodeError::BufferTooSmall {
                needed: 11,
                available: 10
            })
        );
        assert_eq!(small, [0; 10]);

        let mut head = [0u8; 9];
        let mut out = &mut head[..];
        assert_eq!(packet.encode_vectored(&mut out), Ok(Some(packet.payload())));
        assert_eq!(head, [0x32, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x07]);
        let mut out = &mut head[..8];
        assert_eq!(
            packet.encode_vectored(&mut out),
            Err(EncodeError::BufferTooSmall {
                needed: 9,
                available: 8
            })
        );
    }
}
