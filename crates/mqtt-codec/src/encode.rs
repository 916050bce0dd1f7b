//! Encoding: every packet type implements [`Encode`].

use bytes::{BufMut, Bytes};

use crate::wire::varint::put_varint;
use crate::wire::{varint_len, VARINT_MAX};
use crate::EncodeError;

pub(crate) mod sealed {
    use bytes::{BufMut, Bytes};

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
        fn payload(&self) -> Option<&Bytes> {
            None
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
    #[inline]
    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        let total = self.check(buf)?;
        write_header(self, buf);
        self.write_head(buf);
        if let Some(payload) = self.payload() {
            buf.put_slice(payload);
        }
        Ok(total)
    }

    /// Writes the packet except a PUBLISH payload, and returns that payload,
    /// to be written after the head as its own chunk (a vectored write),
    /// without copying it. For other packets this equals
    /// [`encode`](Encode::encode) and returns `None`.
    ///
    /// Errs like [`encode`](Encode::encode).
    #[inline]
    fn encode_vectored<B: BufMut>(&self, head: &mut B) -> Result<Option<&Bytes>, EncodeError> {
        let payload = self.payload();
        let skipped = payload.map_or(0, Bytes::len);
        check_remaining_len(self.body_len())?;
        let needed = self.encoded_len() - skipped;
        if head.remaining_mut() < needed {
            return Err(EncodeError::BufferTooSmall {
                needed,
                available: head.remaining_mut(),
            });
        }
        write_header(self, head);
        self.write_head(head);
        Ok(payload)
    }

    #[doc(hidden)]
    #[inline]
    fn check<B: BufMut>(&self, buf: &B) -> Result<usize, EncodeError> {
        check_remaining_len(self.body_len())?;
        let total = self.encoded_len();
        if buf.remaining_mut() < total {
            return Err(EncodeError::BufferTooSmall {
                needed: total,
                available: buf.remaining_mut(),
            });
        }
        Ok(total)
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
    fn payload(&self) -> Option<&Bytes> {
        (**self).payload()
    }
}

#[inline]
fn check_remaining_len(body: usize) -> Result<(), EncodeError> {
    if body > VARINT_MAX as usize {
        return Err(EncodeError::PacketTooLarge(body));
    }
    Ok(())
}

#[inline]
fn write_header<T: sealed::Body + ?Sized, B: BufMut>(packet: &T, buf: &mut B) {
    buf.put_u8(packet.first_byte());
    put_varint(buf, packet.body_len() as u32);
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

/// A payload chunk [`Encode::encode_vectored`] may hand out, if any, as
/// `Bytes` (re-exported so callers can name the type).
pub type Payload = Bytes;
