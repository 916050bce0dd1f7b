//! The body reader: nom parses the fields of one complete frame, and every
//! string, binary value or payload it yields is a slice of that frame.

use bytes::Bytes;
use nom::Parser;
use nom::bytes::complete::take;
use nom::number::complete::{be_u8, be_u16, be_u32};

use super::varint::read_varint;
use crate::string::{BinaryData, MqttString};
use crate::{DecodeError, PacketId};

/// The fields of one packet body not yet read. Never reads past the frame.
pub(crate) struct Reader<'a> {
    frame: &'a Bytes,
    rest: &'a [u8],
}

type NomResult<'a, T> = nom::IResult<&'a [u8], T, ()>;

impl<'a> Reader<'a> {
    /// A reader over the whole of `frame`.
    pub(crate) fn new(frame: &'a Bytes) -> Self {
        Reader { frame, rest: frame }
    }

    #[inline]
    fn step<T>(&mut self, parsed: NomResult<'a, T>) -> Result<T, DecodeError> {
        let (rest, value) = parsed.map_err(|_| DecodeError::UnexpectedEnd)?;
        self.rest = rest;
        Ok(value)
    }

    /// Bytes not yet read.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Errs with [`DecodeError::TrailingBytes`] unless every byte was read.
    #[inline]
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.rest.len() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        let parsed = be_u8(self.rest);
        self.step(parsed)
    }

    #[inline]
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        let parsed = be_u16(self.rest);
        self.step(parsed)
    }

    #[inline]
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        let parsed = be_u32(self.rest);
        self.step(parsed)
    }

    /// A Variable Byte Integer (§1.5.5).
    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u32, DecodeError> {
        match read_varint(self.rest)? {
            Some((value, n)) => {
                self.rest = &self.rest[n..];
                Ok(value)
            }
            None => Err(DecodeError::UnexpectedEnd),
        }
    }

    /// The next `n` bytes, as a slice of the frame.
    #[inline]
    pub(crate) fn bytes(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        let parsed = take(n).parse(self.rest);
        let slice = self.step(parsed)?;
        Ok(self.frame.slice_ref(slice))
    }

    /// Two Byte Integer length, then that many bytes.
    #[inline]
    pub(crate) fn length_prefixed(&mut self) -> Result<Bytes, DecodeError> {
        let len = self.u16()?;
        self.bytes(usize::from(len))
    }

    /// A UTF-8 Encoded String (§1.5.4), validated.
    #[inline]
    pub(crate) fn string(&mut self) -> Result<MqttString, DecodeError> {
        let raw = self.length_prefixed()?;
        Ok(MqttString::from_bytes(raw)?)
    }

    /// Binary Data (§1.5.6).
    #[inline]
    pub(crate) fn binary(&mut self) -> Result<BinaryData, DecodeError> {
        Ok(BinaryData::from_wire(self.length_prefixed()?))
    }

    /// A packet identifier of width `P`; 0 is refused [MQTT-2.2.1-3].
    #[inline]
    pub(crate) fn packet_id<P: PacketId>(&mut self) -> Result<P, DecodeError> {
        let raw = if P::WIRE_LEN == 2 {
            u32::from(self.u16()?)
        } else {
            self.u32()?
        };
        P::from_u32(raw).ok_or(DecodeError::ZeroPacketId)
    }

    /// Everything not yet read, as a slice of the frame.
    #[inline]
    pub(crate) fn rest(&mut self) -> Bytes {
        let rest = core::mem::take(&mut self.rest);
        if rest.is_empty() {
            Bytes::new()
        } else {
            self.frame.slice_ref(rest)
        }
    }

    /// A reader over the next `n` bytes (a property block), which this reader skips.
    #[inline]
    pub(crate) fn sub(&mut self, n: usize) -> Result<Reader<'a>, DecodeError> {
        let parsed = take(n).parse(self.rest);
        let slice = self.step(parsed)?;
        Ok(Reader {
            frame: self.frame,
            rest: slice,
        })
    }
}
