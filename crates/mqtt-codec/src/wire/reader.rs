//! The body reader: the one parser of every packet. nom reads the fields of
//! one complete frame, a borrowed `&[u8]`, and every string, binary value
//! or payload it yields is a slice of that frame (zero-copy). Packet views
//! are built from what it reads; owned packets are made from the views (see
//! [`Source`](crate::source::Source)), so each rule of the spec is checked
//! in one place for both.

use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::Parser;

use super::cold;
use super::varint::read_varint;
use crate::{string, DecodeError, PacketId};

/// The fields of one frame (or of a property block inside it) not yet read.
/// Never reads past its frame.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
}

type NomResult<'a, T> = nom::IResult<&'a [u8], T, ()>;

impl<'a> Reader<'a> {
    /// A reader over the whole of `input`.
    #[inline(always)]
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Reader { input }
    }

    /// The bytes of the frame not yet read.
    #[inline(always)]
    pub(crate) fn unread(&self) -> &'a [u8] {
        self.input
    }

    /// Runs a nom parser on the unread input and moves past what it took.
    #[inline(always)]
    fn parse<T>(
        &mut self,
        f: impl for<'i> FnOnce(&'i [u8]) -> NomResult<'i, T>,
    ) -> Result<T, DecodeError> {
        let Ok((rest, value)) = f(self.input) else {
            return Err(cold(DecodeError::UnexpectedEnd));
        };
        self.input = rest;
        Ok(value)
    }

    /// Bytes not yet read.
    #[inline(always)]
    pub(crate) fn remaining(&self) -> usize {
        self.input.len()
    }

    /// Errs with [`DecodeError::TrailingBytes`] unless every byte was read.
    #[inline(always)]
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(cold(DecodeError::TrailingBytes(n))),
        }
    }

    #[inline(always)]
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        self.parse(|i| be_u8(i))
    }

    #[inline(always)]
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        self.parse(|i| be_u16(i))
    }

    #[inline(always)]
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.parse(|i| be_u32(i))
    }

    /// A Variable Byte Integer (§1.5.5).
    #[inline(always)]
    pub(crate) fn varint(&mut self) -> Result<u32, DecodeError> {
        match read_varint(self.input)? {
            Some((value, n)) => {
                self.input = self.input.get(n..).unwrap_or_default();
                Ok(value)
            }
            None => Err(cold(DecodeError::UnexpectedEnd)),
        }
    }

    /// The next `n` bytes.
    #[inline(always)]
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let taken: NomResult<'a, &'a [u8]> = take(n).parse(self.input);
        let Ok((rest, bytes)) = taken else {
            return Err(cold(DecodeError::UnexpectedEnd));
        };
        self.input = rest;
        Ok(bytes)
    }

    /// Two Byte Integer length, then that many bytes.
    #[inline(always)]
    pub(crate) fn length_prefixed(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u16()?;
        self.bytes(usize::from(len))
    }

    /// A UTF-8 Encoded String (§1.5.4), checked.
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Result<&'a str, DecodeError> {
        self.string_bytes().map(string::checked_str)
    }

    /// The bytes of a UTF-8 Encoded String (§1.5.4), checked: for a caller
    /// that checks without reading it.
    #[inline(always)]
    pub(crate) fn string_bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let raw = self.length_prefixed()?;
        string::validate_str(raw)?;
        Ok(raw)
    }

    /// A Topic Name: a UTF-8 Encoded String, not empty and without
    /// wildcards (§4.7).
    #[inline]
    pub(crate) fn topic_name(&mut self) -> Result<&'a str, DecodeError> {
        let s = self.string()?;
        crate::TopicName::check_name(s.as_bytes()).map_err(DecodeError::InvalidTopicName)?;
        Ok(s)
    }

    /// A Topic Filter: a UTF-8 Encoded String, not empty, with wildcards
    /// only where §4.7.1 allows them.
    #[inline]
    pub(crate) fn topic_filter(&mut self) -> Result<&'a str, DecodeError> {
        let s = self.string()?;
        crate::TopicFilter::check_filter(s.as_bytes()).map_err(DecodeError::InvalidTopicFilter)?;
        Ok(s)
    }

    /// Binary Data (§1.5.6).
    #[inline(always)]
    pub(crate) fn binary(&mut self) -> Result<&'a [u8], DecodeError> {
        self.length_prefixed()
    }

    /// A packet identifier of width `P`; 0 is refused [MQTT-2.2.1-3].
    #[inline(always)]
    pub(crate) fn packet_id<P: PacketId>(&mut self) -> Result<P, DecodeError> {
        let id = super::split::packet_id_at(self.input, 0)?;
        self.input = self.input.get(P::WIRE_LEN..).unwrap_or_default();
        Ok(id)
    }

    /// Everything not yet read.
    #[inline(always)]
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields read in order, a property block and the rest: each a slice of
    /// the input.
    #[test]
    fn reads_fields_blocks_and_the_rest() {
        let input = [
            0x00, 0x02, b'h', b'i', // length-prefixed "hi"
            0x07, // a byte
            0x03, 0x01, b'x', 0x09, // a 3-byte block: a byte, then "x", then 0x09
            b'p', b'a', b'y', // the rest
        ];
        let range = input.as_ptr_range();
        let mut r = Reader::new(&input);
        let hi = r.string().unwrap();
        assert_eq!(hi, "hi");
        assert!(range.contains(&hi.as_ptr()));
        assert_eq!(r.u8(), Ok(0x07));
        let len = usize::from(r.u8().unwrap());
        let mut block = Reader::new(r.bytes(len).unwrap());
        assert_eq!(block.u8(), Ok(0x01));
        assert_eq!(block.bytes(1).unwrap(), b"x");
        assert_eq!(block.remaining(), 1);
        assert_eq!(block.finish(), Err(DecodeError::TrailingBytes(1)));
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.rest(), b"pay");
        assert_eq!(r.finish(), Ok(()));
    }

    /// Fields that run past the end, a zero packet id, a bad string.
    #[test]
    fn short_and_bad_fields_are_refused() {
        assert_eq!(Reader::new(&[0x00]).u16(), Err(DecodeError::UnexpectedEnd));
        assert_eq!(
            Reader::new(&[0x00, 0x03, b'a']).length_prefixed(),
            Err(DecodeError::UnexpectedEnd)
        );
        assert_eq!(
            Reader::new(&[0x00, 0x00]).packet_id::<u16>(),
            Err(DecodeError::ZeroPacketId)
        );
        assert_eq!(
            Reader::new(&[0x00, 0x01, 0x00]).string(),
            Err(DecodeError::NullCharacter)
        );
        assert_eq!(
            Reader::new(&[0x80]).varint(),
            Err(DecodeError::UnexpectedEnd)
        );
        assert_eq!(
            Reader::new(&[1, 2]).bytes(3),
            Err(DecodeError::UnexpectedEnd)
        );
    }

    #[test]
    fn empty_fields() {
        let mut r = Reader::new(&[0x00, 0x00]);
        assert_eq!(r.binary(), Ok(&b""[..]));
        assert!(r.rest().is_empty());
        assert_eq!(r.finish(), Ok(()));
    }
}
