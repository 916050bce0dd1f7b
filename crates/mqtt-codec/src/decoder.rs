//! The streaming [`Decoder`]: frame first, then parse.

use bytes::{Buf, BytesMut};
use core::marker::PhantomData;

use crate::wire::{FixedHeader, PacketType, Reader, VARINT_MAX};
use crate::{v3_1_1, v5_0, DecodeError, GenericPacket, PacketId, ProtocolVersion};

/// The largest packet MQTT can frame: a 5-byte fixed header and a Remaining
/// Length of 268,435,455.
pub const MAX_PACKET_SIZE: u32 = VARINT_MAX + 5;

/// Decodes a byte stream into packets, one complete packet per call.
///
/// Feed it the receive buffer: [`decode`](Decoder::decode) takes a complete
/// packet off the front, or leaves a partial one in place and returns
/// `Ok(None)`. The fixed header is checked against the maximum packet size
/// before the body is waited for, so a peer cannot make the caller buffer more
/// than that. Decoded strings and payloads are slices of the buffer (no copy).
///
/// ```
/// use bytes::BytesMut;
/// use mqtt_codec::{Decoder, GenericPacket, ProtocolVersion, v3_1_1::Packet};
///
/// let mut decoder = Decoder::<u16>::new(ProtocolVersion::V3_1_1);
/// // A PINGREQ, then the first half of a PUBLISH.
/// let mut buf = BytesMut::from(&[0xC0, 0x00, 0x30, 0x05, 0x00][..]);
/// assert!(matches!(decoder.decode(&mut buf)?, Some(GenericPacket::V3_1_1(Packet::Pingreq(_)))));
/// assert_eq!(decoder.decode(&mut buf)?, None); // waits for more bytes
/// buf.extend_from_slice(&[0x01, b'a', b'h', b'i']);
/// let Some(GenericPacket::V3_1_1(Packet::Publish(publish))) = decoder.decode(&mut buf)? else {
///     panic!("expected a PUBLISH");
/// };
/// assert_eq!(publish.topic_name(), "a");
/// assert_eq!(&publish.payload()[..], b"hi");
/// # Ok::<(), mqtt_codec::DecodeError>(())
/// ```
///
/// After an error the stream cannot be resynchronised: close the connection
/// (on v5.0 after sending [`DecodeError::reason_code`]).
#[derive(Debug, Clone)]
pub struct Decoder<P: PacketId = u16> {
    version: Option<ProtocolVersion>,
    max_packet_size: u32,
    _id: PhantomData<P>,
}

impl<P: PacketId> Decoder<P> {
    /// A decoder for a stream of known version.
    pub fn new(version: ProtocolVersion) -> Self {
        Decoder {
            version: Some(version),
            max_packet_size: MAX_PACKET_SIZE,
            _id: PhantomData,
        }
    }

    /// A decoder that learns the version from the first packet, which must be
    /// a CONNECT (as a server receives it) [MQTT-3.1.0-1].
    pub fn detect_version() -> Self {
        Decoder {
            version: None,
            max_packet_size: MAX_PACKET_SIZE,
            _id: PhantomData,
        }
    }

    /// Sets the largest packet (whole packet, fixed header included) the
    /// decoder accepts; larger ones are refused from their fixed header with
    /// [`DecodeError::PacketTooLarge`]. Values above [`MAX_PACKET_SIZE`]
    /// (the default) act as it.
    pub fn with_max_packet_size(mut self, max: u32) -> Self {
        self.max_packet_size = max;
        self
    }

    /// The configured maximum packet size.
    pub fn max_packet_size(&self) -> u32 {
        self.max_packet_size
    }

    /// Changes the maximum packet size, e.g. once CONNECT or CONNACK has
    /// announced it.
    pub fn set_max_packet_size(&mut self, max: u32) {
        self.max_packet_size = max;
    }

    /// The version, once known.
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    /// Fixes the version (for a client, the one it sent in CONNECT).
    pub fn set_version(&mut self, version: ProtocolVersion) {
        self.version = Some(version);
    }

    /// Takes the next complete packet off the front of `buf`.
    ///
    /// `Ok(None)` while `buf` holds only part of a packet (which stays in
    /// place). Errs when the packet breaks a rule of the spec, is larger than
    /// the maximum packet size, or, while the version is being detected, is
    /// not a CONNECT of a supported version.
    #[inline]
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<GenericPacket<P>>, DecodeError> {
        let Some(header) = FixedHeader::parse(buf)? else {
            return Ok(None);
        };
        let size = header.packet_len();
        if size > self.max_packet_size as usize {
            return Err(DecodeError::PacketTooLarge {
                size: size as u64,
                max: self.max_packet_size,
            });
        }
        if buf.len() < size {
            // No reserve here: a peer's header alone must not make us allocate.
            return Ok(None);
        }
        let version = match self.version {
            Some(version) => version,
            None => self.detect(&header, &buf[header.header_len..size])?,
        };
        buf.advance(header.header_len);
        // The reader takes exactly this packet off `buf`, even on an error.
        let mut body = Reader::with_len(buf, header.remaining_length as usize);
        Ok(Some(match version {
            ProtocolVersion::V3_1_1 => {
                GenericPacket::V3_1_1(v3_1_1::Packet::decode(&header, &mut body)?)
            }
            ProtocolVersion::V5_0 => GenericPacket::V5_0(v5_0::Packet::decode(&header, &mut body)?),
        }))
    }

    /// Reads the version from a CONNECT's Protocol Name and Level (§3.1.2.1,
    /// §3.1.2.2) and remembers it.
    fn detect(
        &mut self,
        header: &FixedHeader,
        body: &[u8],
    ) -> Result<ProtocolVersion, DecodeError> {
        if header.packet_type != PacketType::Connect {
            return Err(DecodeError::ExpectedConnect(header.packet_type));
        }
        let Some((name, rest)) = body.split_at_checked(6) else {
            return Err(DecodeError::UnexpectedEnd);
        };
        if name != b"\x00\x04MQTT" {
            return Err(DecodeError::InvalidProtocolName);
        }
        let level = *rest.first().ok_or(DecodeError::UnexpectedEnd)?;
        let version = ProtocolVersion::from_level(level)
            .ok_or(DecodeError::UnsupportedProtocolLevel(level))?;
        self.version = Some(version);
        Ok(version)
    }
}
