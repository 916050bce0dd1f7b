//! The body reader: nom parses the fields of one complete frame straight
//! from the receive buffer, and every string, binary value or payload it
//! yields is split off that buffer (zero-copy, one reference count each).

use bytes::{Buf, Bytes, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::Parser;

use super::varint::read_varint;
use crate::string::{BinaryData, MqttString};
use crate::{DecodeError, PacketId};

/// The fields of one frame (or of a property block inside it) not yet read,
/// at the front of the receive buffer. Never reads past its frame; when
/// dropped, it consumes what is left of the frame, so that after an error
/// exactly the offending packet has been taken off the buffer.
pub(crate) struct Reader<'a> {
    buf: &'a mut BytesMut,
    /// Bytes of this frame still in `buf`; never more than `buf.len()`.
    remaining: usize,
}

type NomResult<'a, T> = nom::IResult<&'a [u8], T, ()>;

impl<'a> Reader<'a> {
    /// A reader over the whole of `buf`.
    #[cfg(test)]
    pub(crate) fn new(buf: &'a mut BytesMut) -> Self {
        let remaining = buf.len();
        Reader { buf, remaining }
    }

    /// A reader over the first `len` bytes of `buf`; `len <= buf.len()`.
    #[inline(always)]
    pub(crate) fn with_len(buf: &'a mut BytesMut, len: usize) -> Self {
        debug_assert!(len <= buf.len());
        let remaining = len.min(buf.len());
        Reader { buf, remaining }
    }

    #[inline(always)]
    fn input(&self) -> &[u8] {
        &self.buf[..self.remaining]
    }

    #[inline(always)]
    fn consume<T>(&mut self, parsed: Result<(usize, T), DecodeError>) -> Result<T, DecodeError> {
        let (n, value) = parsed?;
        self.buf.advance(n);
        self.remaining -= n;
        Ok(value)
    }

    /// Runs a nom parser on the unread input, returning the value and how
    /// many bytes it took.
    #[inline(always)]
    fn parse<T>(
        &self,
        f: impl for<'i> FnOnce(&'i [u8]) -> NomResult<'i, T>,
    ) -> Result<(usize, T), DecodeError> {
        let input = self.input();
        let (rest, value) = f(input).map_err(|_| DecodeError::UnexpectedEnd)?;
        Ok((input.len() - rest.len(), value))
    }

    /// Bytes not yet read.
    #[inline(always)]
    pub(crate) fn remaining(&self) -> usize {
        self.remaining
    }

    /// Errs with [`DecodeError::TrailingBytes`] unless every byte was read.
    #[inline(always)]
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    #[inline(always)]
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        let parsed = self.parse(|i| be_u8(i));
        self.consume(parsed)
    }

    #[inline(always)]
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        let parsed = self.parse(|i| be_u16(i));
        self.consume(parsed)
    }

    #[inline(always)]
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        let parsed = self.parse(|i| be_u32(i));
        self.consume(parsed)
    }

    /// A Variable Byte Integer (§1.5.5).
    #[inline(always)]
    pub(crate) fn varint(&mut self) -> Result<u32, DecodeError> {
        let parsed = match read_varint(self.input())? {
            Some((value, n)) => Ok((n, value)),
            None => Err(DecodeError::UnexpectedEnd),
        };
        self.consume(parsed)
    }

    /// Checks that `n` more bytes belong to the frame.
    #[inline(always)]
    fn check_len(&self, n: usize) -> Result<(), DecodeError> {
        self.parse(|input| take(n).parse(input).map(|(rest, _)| (rest, ())))
            .map(|_| ())
    }

    /// The next `n` bytes, split off the buffer.
    #[inline(always)]
    pub(crate) fn bytes(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        self.check_len(n)?;
        self.remaining -= n;
        Ok(match n {
            0 => Bytes::new(),
            _ => self.buf.split_to(n).freeze(),
        })
    }

    /// Two Byte Integer length, then that many bytes.
    #[inline(always)]
    pub(crate) fn length_prefixed(&mut self) -> Result<Bytes, DecodeError> {
        let len = self.u16()?;
        self.bytes(usize::from(len))
    }

    /// A UTF-8 Encoded String (§1.5.4), validated.
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Result<MqttString, DecodeError> {
        let raw = self.length_prefixed()?;
        Ok(MqttString::from_bytes(raw)?)
    }

    /// Binary Data (§1.5.6).
    #[inline(always)]
    pub(crate) fn binary(&mut self) -> Result<BinaryData, DecodeError> {
        Ok(BinaryData::from_wire(self.length_prefixed()?))
    }

    /// A packet identifier of width `P`; 0 is refused [MQTT-2.2.1-3].
    #[inline(always)]
    pub(crate) fn packet_id<P: PacketId>(&mut self) -> Result<P, DecodeError> {
        let raw = if P::WIRE_LEN == 2 {
            u32::from(self.u16()?)
        } else {
            self.u32()?
        };
        P::from_u32(raw).ok_or(DecodeError::ZeroPacketId)
    }

    /// Everything not yet read, split off the buffer.
    #[inline(always)]
    pub(crate) fn rest(&mut self) -> Bytes {
        let n = self.remaining;
        // Cannot fail: `n` is exactly what is left.
        self.bytes(n).unwrap_or_default()
    }

    /// A reader over the next `n` bytes (a property block); this reader
    /// continues after them once the returned one is dropped.
    #[inline(always)]
    pub(crate) fn sub(&mut self, n: usize) -> Result<Reader<'_>, DecodeError> {
        self.check_len(n)?;
        self.remaining -= n;
        Ok(Reader {
            buf: self.buf,
            remaining: n,
        })
    }
}

impl Drop for Reader<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.buf.advance(self.remaining);
    }
}
