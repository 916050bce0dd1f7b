//! The body reader: nom parses the fields of one complete frame straight
//! from the receive buffer, and every string, binary value or payload it
//! yields is split off that buffer (zero-copy, one reference count each). It
//! also reads a frame already taken off the buffer as one `Bytes` (a v5.0
//! PUBLISH's properties), slicing its fields out of it.

use bytes::{Buf, Bytes, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::Parser;

use super::varint::read_varint;
use super::{cold, cold_path};
use crate::string::{BinaryData, MqttString};
use crate::{DecodeError, PacketId};

/// The fields of one frame (or of a property block inside it) not yet read,
/// at the front of the receive buffer. Never reads past its frame; when
/// dropped, it consumes what is left of the frame, so that after an error
/// exactly the offending packet has been taken off the buffer.
///
/// Fixed-size fields are read in place: the reader only moves a pending
/// offset, and takes bytes off `buf` when it splits a field off it (one
/// `split_to` per string, binary or payload, and no separate advance) or when
/// it is dropped.
pub(crate) struct Reader<'a> {
    src: Source<'a>,
    /// Bytes at the front of the source already read (for a buffer, not yet
    /// taken off it).
    pos: usize,
    /// Where this frame ends in the source: `pos <= end <= len`.
    end: usize,
}

/// What a [`Reader`] reads.
enum Source<'a> {
    /// The receive buffer: fields are split off its front.
    Buffer(&'a mut BytesMut),
    /// A frame already taken off it: fields are slices of it, and it is
    /// left as it is.
    Frame(&'a Bytes),
}

type NomResult<'a, T> = nom::IResult<&'a [u8], T, ()>;

impl<'a> Reader<'a> {
    /// A reader over the whole of `buf`.
    #[cfg(test)]
    pub(crate) fn new(buf: &'a mut BytesMut) -> Self {
        let end = buf.len();
        Reader {
            src: Source::Buffer(buf),
            pos: 0,
            end,
        }
    }

    /// A reader over `buf[start..end]`, which the caller has checked to be
    /// in bounds; when dropped it takes `buf[..end]` off `buf` (the fixed
    /// header at `buf[..start]` included).
    #[inline(always)]
    pub(crate) fn framed(buf: &'a mut BytesMut, start: usize, end: usize) -> Self {
        debug_assert!(start <= end && end <= buf.len());
        let end = end.min(buf.len());
        Reader {
            src: Source::Buffer(buf),
            pos: start.min(end),
            end,
        }
    }

    /// A reader over `frame[start..]`; its fields are slices of `frame`,
    /// which it leaves as it is.
    #[inline(always)]
    pub(crate) fn shared(frame: &'a Bytes, start: usize) -> Self {
        let end = frame.len();
        Reader {
            src: Source::Frame(frame),
            pos: start.min(end),
            end,
        }
    }

    /// The bytes of the frame not yet read.
    #[inline(always)]
    pub(crate) fn unread(&self) -> &[u8] {
        self.input()
    }

    #[inline(always)]
    fn input(&self) -> &[u8] {
        let all: &[u8] = match &self.src {
            Source::Buffer(buf) => buf,
            Source::Frame(frame) => frame,
        };
        &all[self.pos..self.end]
    }

    #[inline(always)]
    fn consume<T>(&mut self, parsed: Result<(usize, T), DecodeError>) -> Result<T, DecodeError> {
        let (n, value) = parsed?;
        self.pos += n;
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
        let Ok((rest, value)) = f(input) else {
            return Err(cold(DecodeError::UnexpectedEnd));
        };
        Ok((input.len() - rest.len(), value))
    }

    /// Bytes not yet read.
    #[inline(always)]
    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
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
            None => Err(cold(DecodeError::UnexpectedEnd)),
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
    #[cfg(test)]
    pub(crate) fn bytes(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        self.check_len(n)?;
        Ok(self.split(n))
    }

    /// Splits the next `n` bytes, known to be in the frame, off the buffer,
    /// with the bytes read before them: one `split_to`, no separate advance.
    /// From a shared frame, slices them out of it.
    #[inline(always)]
    fn split(&mut self, n: usize) -> Bytes {
        if n == 0 {
            cold_path();
            return Bytes::new();
        }
        let at = self.pos + n;
        match &mut self.src {
            Source::Buffer(buf) => {
                let mut field = buf.split_to(at).freeze();
                field.advance(self.pos);
                self.end -= at;
                self.pos = 0;
                field
            }
            Source::Frame(frame) => {
                let field = frame.slice(self.pos..at);
                self.pos = at;
                field
            }
        }
    }

    /// Two Byte Integer length, then that many bytes.
    #[inline(always)]
    pub(crate) fn length_prefixed(&mut self) -> Result<Bytes, DecodeError> {
        let field = super::split::length_prefixed_at(self.input(), 0)?;
        self.pos += field.start;
        Ok(self.split(field.len()))
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
        let id = super::split::packet_id_at(self.input(), 0)?;
        self.pos += P::WIRE_LEN;
        Ok(id)
    }

    /// Skips `n` bytes that the caller located in [`Reader::unread`].
    #[inline(always)]
    pub(crate) fn skip(&mut self, n: usize) {
        debug_assert!(n <= self.remaining());
        self.pos = (self.pos + n).min(self.end);
    }

    /// Everything not yet read, split off the buffer.
    #[inline(always)]
    pub(crate) fn rest(&mut self) -> Bytes {
        self.split(self.remaining())
    }

    /// A reader over the next `n` bytes (a property block); this reader
    /// continues after them once the returned one is dropped.
    #[inline(always)]
    pub(crate) fn sub(&mut self, n: usize) -> Result<Reader<'_>, DecodeError> {
        self.check_len(n)?;
        let (pos, end) = (self.pos, self.pos + n);
        let src = match &mut self.src {
            Source::Buffer(buf) => {
                // The sub-reader starts where this one is, and takes its
                // bytes off `buf` together with those this one has read;
                // this one continues after them.
                self.end -= end;
                self.pos = 0;
                Source::Buffer(buf)
            }
            Source::Frame(frame) => {
                self.pos = end;
                Source::Frame(frame)
            }
        };
        Ok(Reader { src, pos, end })
    }
}

impl Drop for Reader<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        if let Source::Buffer(buf) = &mut self.src {
            if self.end != 0 {
                buf.advance(self.end);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields read in place, fields split off, a property block and the
    /// rest: the values, and the buffer left holding only what follows the
    /// frame.
    #[test]
    fn reads_split_and_sub_blocks_leave_what_follows() {
        let mut buf = BytesMut::from(
            &[
                0xAA, // not part of the frame: a fixed header byte
                0x00, 0x02, b'h', b'i', // length-prefixed "hi"
                0x07, // a byte
                0x03, 0x01, b'x', 0x09, // a 3-byte block: a byte, then "x", then 0x09
                b'p', b'a', b'y', // the rest
                0xEE, // the next packet
            ][..],
        );
        let range = buf.as_ptr_range();
        let end = buf.len() - 1;
        {
            let mut r = Reader::framed(&mut buf, 1, end);
            let hi = r.length_prefixed().unwrap();
            assert_eq!(hi, &b"hi"[..]);
            assert!(range.contains(&hi.as_ptr()));
            assert_eq!(r.u8(), Ok(0x07));
            let len = usize::from(r.u8().unwrap());
            {
                let mut block = r.sub(len).unwrap();
                assert_eq!(block.u8(), Ok(0x01));
                assert_eq!(block.bytes(1).unwrap(), &b"x"[..]);
                assert_eq!(block.remaining(), 1);
                // Dropped with a byte unread: the block is consumed anyway.
            }
            assert_eq!(r.remaining(), 3);
            let rest = r.rest();
            assert_eq!(rest, &b"pay"[..]);
            assert!(range.contains(&rest.as_ptr()));
            assert_eq!(r.finish(), Ok(()));
        }
        assert_eq!(&buf[..], [0xEE]);
    }

    /// Over a shared frame, fields and property blocks are slices of it, and
    /// the frame is left whole, whatever was read.
    #[test]
    fn a_shared_frame_is_sliced_not_consumed() {
        let frame = Bytes::from_static(&[
            0xAA, // skipped: the reader starts after it
            0x00, 0x02, b'h', b'i', // length-prefixed "hi"
            0x03, 0x01, b'x', 0x09, // a 3-byte block
            b'p', b'a', b'y', // the rest
        ]);
        let range = frame.as_ptr_range();
        let mut r = Reader::shared(&frame, 1);
        let hi = r.length_prefixed().unwrap();
        assert_eq!(hi, &b"hi"[..]);
        assert!(range.contains(&hi.as_ptr()));
        let len = usize::from(r.u8().unwrap());
        {
            let mut block = r.sub(len).unwrap();
            assert_eq!(block.u8(), Ok(0x01));
            assert_eq!(block.bytes(1).unwrap(), &b"x"[..]);
            assert_eq!(block.remaining(), 1);
        }
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.unread(), b"pay");
        assert_eq!(r.rest(), &b"pay"[..]);
        assert_eq!(r.remaining(), 0);
        drop(r);
        assert_eq!(frame.len(), 12);
        assert_eq!(
            Reader::shared(&frame, 9).bytes(4),
            Err(DecodeError::UnexpectedEnd)
        );
    }

    /// Dropped after an error, a reader takes exactly its frame off the
    /// buffer, whatever it had read or split before.
    #[test]
    fn drop_consumes_exactly_the_frame() {
        let frame = [0x30, 0x00, 0x01, b't', 0x00, 0x00, 0x42];
        for reads in 0..4 {
            let mut buf = BytesMut::from(&frame[..]);
            buf.extend_from_slice(&[0xC0, 0x00]);
            {
                let mut r = Reader::framed(&mut buf, 1, frame.len());
                if reads > 0 {
                    r.u8().unwrap();
                }
                if reads > 1 {
                    r.bytes(2).unwrap();
                }
                if reads > 2 {
                    assert_eq!(r.packet_id::<u16>(), Err(DecodeError::ZeroPacketId));
                }
                assert_eq!(r.bytes(100), Err(DecodeError::UnexpectedEnd));
            }
            assert_eq!(&buf[..], [0xC0, 0x00], "after {reads} reads");
        }
    }

    /// Empty fields are not split off the buffer, and an empty rest leaves
    /// the reader finished.
    #[test]
    fn empty_fields() {
        let mut buf = BytesMut::from(&[0x00, 0x00][..]);
        {
            let mut r = Reader::new(&mut buf);
            assert_eq!(r.length_prefixed().unwrap(), Bytes::new());
            assert!(r.rest().is_empty());
            assert_eq!(r.finish(), Ok(()));
        }
        assert!(buf.is_empty());
    }
}
