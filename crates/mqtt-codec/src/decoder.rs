//! The streaming [`Decoder`]: frame first, then parse.

use bytes::{Buf, BytesMut};
use core::marker::PhantomData;

use crate::publish::TOPIC_AT;
use crate::wire::varint::read_varint;
use crate::wire::{cold, cold_path, publish_flags, FixedHeader, PacketType, VARINT_MAX};
use crate::{
    v3_1_1, v5_0, DecodeError, GenericPacket, GenericPacketView, PacketId, ProtocolVersion,
};

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
/// assert_eq!(publish.payload(), b"hi");
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
    /// not a CONNECT of a supported version. A packet that breaks a rule is
    /// taken off `buf`, exactly it.
    #[inline(always)]
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<GenericPacket<P>>, DecodeError> {
        if self.is_v3_publish(buf) {
            let Some((flags, start, end)) = self.publish_frame(buf)? else {
                return Ok(None);
            };
            let head = match v3_1_1::PublishView::<P>::parse_flags(flags, &buf[start..end]) {
                Ok(view) => *view.head(),
                Err(e) => {
                    // Exactly this packet is taken off the buffer.
                    buf.advance(end);
                    return Err(e);
                }
            };
            let mut frame = buf.split_to(end).freeze();
            frame.advance(start + TOPIC_AT);
            let publish = v3_1_1::Publish::from_head(&head, frame);
            return Ok(Some(GenericPacket::V3_1_1(v3_1_1::Packet::Publish(
                publish,
            ))));
        }
        self.decode_any(buf)
    }

    /// Whether `input` starts with a PUBLISH and the version is v3.1.1: the
    /// hot path, inlined into the caller with the packet type and version
    /// known, so that the packet is built in place. Every other packet
    /// takes the same steps out of line.
    #[inline(always)]
    fn is_v3_publish(&self, input: &[u8]) -> bool {
        let publish = input
            .first()
            .is_some_and(|&b| b >> 4 == PacketType::Publish as u8);
        publish & (self.version == Some(ProtocolVersion::V3_1_1))
    }

    /// The fixed header of the PUBLISH at the front of `input`, read here,
    /// as its type is known: its flags, and where its body starts and ends
    /// once all of it is there (`Ok(None)` until then). Errs as
    /// [`frame`](Self::frame) does.
    #[inline(always)]
    #[allow(clippy::type_complexity)]
    fn publish_frame(
        &self,
        input: &[u8],
    ) -> Result<Option<((bool, crate::QoS, bool), usize, usize)>, DecodeError> {
        let flags = publish_flags(input[0] & 0x0F)?;
        let Some((remaining, n)) = read_varint(&input[1..])? else {
            cold_path();
            return Ok(None);
        };
        let (start, end) = (1 + n, 1 + n + remaining as usize);
        if !self.complete(end, input.len())? {
            return Ok(None);
        }
        Ok(Some((flags, start, end)))
    }

    /// [`Decoder::decode`] for any packet: its view is read and checked,
    /// then the owned packet made from it and the frame taken off `buf`.
    #[inline(never)]
    fn decode_any(&mut self, buf: &mut BytesMut) -> Result<Option<GenericPacket<P>>, DecodeError> {
        let Some(header) = self.frame(buf)? else {
            return Ok(None);
        };
        let size = header.packet_len();
        let version = match self.version {
            Some(version) => version,
            None => self.detect(&header, &buf[header.header_len..size])?,
        };
        if header.packet_type == PacketType::Publish {
            return self.decode_publish(version, &header, buf).map(Some);
        }
        // Taken off whatever follows: exactly this packet, even on an error.
        let frame = buf.split_to(size).freeze();
        let view = GenericPacketView::parse(version, &header, &frame[header.header_len..])?;
        Ok(Some(view.to_owned(&frame)))
    }

    /// A PUBLISH of either version, read in place and then taken off `buf`
    /// as one `Bytes` from its Topic Name on (one reference count).
    #[inline(always)]
    fn decode_publish(
        &self,
        version: ProtocolVersion,
        header: &FixedHeader,
        buf: &mut BytesMut,
    ) -> Result<GenericPacket<P>, DecodeError> {
        let size = header.packet_len();
        let body = &buf[header.header_len..size];
        let head = match version {
            ProtocolVersion::V3_1_1 => {
                v3_1_1::PublishView::<P>::parse(header.flags, body).map(|v| *v.head())
            }
            ProtocolVersion::V5_0 => {
                v5_0::PublishView::<P>::parse(header.flags, body).map(|v| *v.head())
            }
        };
        let head = match head {
            Ok(head) => head,
            Err(e) => {
                buf.advance(size);
                return Err(e);
            }
        };
        let mut frame = buf.split_to(size).freeze();
        frame.advance(header.header_len + TOPIC_AT);
        Ok(match version {
            ProtocolVersion::V3_1_1 => GenericPacket::V3_1_1(v3_1_1::Packet::Publish(
                v3_1_1::Publish::from_head(&head, frame),
            )),
            ProtocolVersion::V5_0 => GenericPacket::V5_0(v5_0::Packet::Publish(
                v5_0::Publish::from_head(&head, frame),
            )),
        })
    }

    /// Reads the next complete packet at the front of `input` in place,
    /// without taking it or copying anything: the packet's view, and how
    /// many bytes it takes (advance past them for the next one). For
    /// routers, proxies and inspection tools that do not keep the packet;
    /// [`GenericPacketView::to_owned`] gives the owned packet.
    ///
    /// The checks are exactly those of [`decode`](Self::decode) (one
    /// parser does both), and so are the errors. `Ok(None)` while `input`
    /// holds only part of a packet.
    ///
    /// ```
    /// use mqtt_codec::{Decoder, GenericPacketView, ProtocolVersion, v3_1_1::PacketView};
    ///
    /// let mut decoder = Decoder::<u16>::new(ProtocolVersion::V3_1_1);
    /// let input = [0x30, 0x05, 0x00, 0x01, b'a', b'h', b'i', 0xC0, 0x00];
    /// let Some((GenericPacketView::V3_1_1(PacketView::Publish(publish)), used)) =
    ///     decoder.decode_view(&input)?
    /// else {
    ///     panic!("expected a PUBLISH");
    /// };
    /// assert_eq!((publish.topic_name(), publish.payload(), used), ("a", &b"hi"[..], 7));
    /// # Ok::<(), mqtt_codec::DecodeError>(())
    /// ```
    #[inline(always)]
    pub fn decode_view<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<Option<(GenericPacketView<'a, P>, usize)>, DecodeError> {
        if self.is_v3_publish(input) {
            let Some((flags, start, end)) = self.publish_frame(input)? else {
                return Ok(None);
            };
            let view = v3_1_1::PublishView::parse_flags(flags, &input[start..end])?;
            let view = GenericPacketView::V3_1_1(v3_1_1::PacketView::Publish(view));
            return Ok(Some((view, end)));
        }
        self.decode_view_any(input)
    }

    /// [`Decoder::decode_view`] for any packet.
    #[inline(never)]
    fn decode_view_any<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<Option<(GenericPacketView<'a, P>, usize)>, DecodeError> {
        let Some(header) = self.frame(input)? else {
            return Ok(None);
        };
        let size = header.packet_len();
        let body = &input[header.header_len..size];
        let version = match self.version {
            Some(version) => version,
            None => self.detect(&header, body)?,
        };
        Ok(Some((
            GenericPacketView::parse(version, &header, body)?,
            size,
        )))
    }

    /// The fixed header of the packet at the front of `buf`, once the whole
    /// packet is there: `Ok(None)` until then. Errs on a malformed fixed
    /// header, and on a packet larger than the maximum packet size as soon as
    /// its fixed header says so.
    #[inline(always)]
    fn frame(&self, buf: &[u8]) -> Result<Option<FixedHeader>, DecodeError> {
        let Some(header) = FixedHeader::parse(buf)? else {
            cold_path();
            return Ok(None);
        };
        Ok(self
            .complete(header.packet_len(), buf.len())?
            .then_some(header))
    }

    /// Whether a packet of `size` bytes (as its fixed header announces) is
    /// all there in a buffer of `available` bytes. Errs when it is larger
    /// than the maximum packet size, as soon as its fixed header says so.
    #[inline(always)]
    fn complete(&self, size: usize, available: usize) -> Result<bool, DecodeError> {
        if size > self.max_packet_size as usize {
            return Err(cold(DecodeError::PacketTooLarge {
                size: size as u64,
                max: self.max_packet_size,
            }));
        }
        if available < size {
            // No reserve here: a peer's header alone must not make us allocate.
            cold_path();
            return Ok(false);
        }
        Ok(true)
    }

    /// Reads the version from a CONNECT's Protocol Name and Level (§3.1.2.1,
    /// §3.1.2.2) and remembers it.
    #[cold]
    #[inline(never)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QoS;

    /// v3.1.1 PUBLISH QoS 1, DUP, topic "a/b", packet id 7, payload "hi",
    /// worked out from §3.3: the bytes of the fast path.
    const PUBLISH: [u8; 11] = [
        0x3A, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x07, b'h', b'i',
    ];
    const PINGREQ: [u8; 2] = [0xC0, 0x00];

    fn v3() -> Decoder<u16> {
        Decoder::new(ProtocolVersion::V3_1_1)
    }

    fn publish(packet: GenericPacket<u16>) -> v3_1_1::Publish<u16> {
        match packet {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => p,
            other => panic!("expected a v3.1.1 PUBLISH, got {other:?}"),
        }
    }

    /// The fast path decodes every field, and the topic and payload are
    /// slices of the receive buffer (zero-copy).
    #[test]
    fn publish_fields_and_zero_copy() {
        let mut buf = BytesMut::from(&PUBLISH[..]);
        let range = buf.as_ptr_range();
        let p = publish(v3().decode(&mut buf).unwrap().unwrap());
        assert!(p.dup() && !p.retain());
        assert_eq!(p.qos(), QoS::AtLeastOnce);
        assert_eq!(p.topic_name(), "a/b");
        assert_eq!(p.packet_id(), Some(7));
        assert_eq!(p.payload(), b"hi");
        assert!(range.contains(&p.topic_name().as_ptr()));
        assert!(range.contains(&p.payload().as_ptr()));
        assert!(buf.is_empty());
    }

    /// Each prefix of a PUBLISH is `Ok(None)` and consumes nothing; the
    /// whole of it then decodes like the packet given at once.
    #[test]
    fn publish_prefixes_wait() {
        let mut decoder = v3();
        for len in 0..PUBLISH.len() {
            let mut buf = BytesMut::from(&PUBLISH[..len]);
            assert_eq!(decoder.decode(&mut buf), Ok(None), "{len} bytes");
            assert_eq!(buf.len(), len);
        }
        let mut buf = BytesMut::from(&PUBLISH[..]);
        let whole =
            Decoder::<u16>::new(ProtocolVersion::V3_1_1).decode(&mut BytesMut::from(&PUBLISH[..]));
        assert_eq!(decoder.decode(&mut buf), whole);
    }

    /// [MQTT-3.3.2-2] A wildcard in the Topic Name is refused, and exactly
    /// the bad frame is consumed: the next packet still decodes.
    #[test]
    fn bad_publish_consumes_exactly_its_frame() {
        let mut bad = PUBLISH;
        bad[5] = b'+';
        let mut buf = BytesMut::from(&bad[..]);
        buf.extend_from_slice(&PINGREQ);
        let mut decoder = v3();
        assert_eq!(
            decoder.decode(&mut buf),
            Err(DecodeError::InvalidTopicName(
                crate::TopicError::WildcardInName
            ))
        );
        assert_eq!(&buf[..], PINGREQ);
        assert!(matches!(
            decoder.decode(&mut buf),
            Ok(Some(GenericPacket::V3_1_1(v3_1_1::Packet::Pingreq(_))))
        ));
    }

    /// [MQTT-3.3.1-4] QoS 3 is refused from the first byte, before the
    /// rest of the packet arrives; [MQTT-2.3.1-1] a zero packet id is
    /// refused once it has.
    #[test]
    fn publish_header_and_id_errors() {
        let mut buf = BytesMut::from(&[0x36][..]);
        assert_eq!(v3().decode(&mut buf), Err(DecodeError::InvalidQos));
        let mut zero = PUBLISH;
        zero[8] = 0;
        let mut buf = BytesMut::from(&zero[..]);
        assert_eq!(v3().decode(&mut buf), Err(DecodeError::ZeroPacketId));
        assert!(buf.is_empty());
    }

    /// The maximum packet size is checked from the fixed header alone, and
    /// nothing is consumed.
    #[test]
    fn publish_too_large_is_refused_before_buffering() {
        let mut decoder = v3().with_max_packet_size(10);
        let mut buf = BytesMut::from(&PUBLISH[..2]);
        assert_eq!(
            decoder.decode(&mut buf),
            Err(DecodeError::PacketTooLarge { size: 11, max: 10 })
        );
        assert_eq!(buf.len(), 2);
    }

    /// A PUBLISH while the version is being detected is not the CONNECT
    /// that must come first [MQTT-3.1.0-1]; the fast path is not taken.
    #[test]
    fn publish_before_version_is_known() {
        let mut buf = BytesMut::from(&PUBLISH[..]);
        assert_eq!(
            Decoder::<u16>::detect_version().decode(&mut buf),
            Err(DecodeError::ExpectedConnect(PacketType::Publish))
        );
    }

    /// The same bytes decode alike through the fast path and through the
    /// general dispatcher; a v5.0 decoder reads them as a v5.0 PUBLISH
    /// (the Property Length comes after the packet id there).
    #[test]
    fn fast_path_matches_the_dispatcher() {
        let mut buf = BytesMut::from(&PUBLISH[..]);
        let fast = v3().decode(&mut buf).unwrap().unwrap();
        let header = FixedHeader::parse(&PUBLISH).unwrap().unwrap();
        let frame = bytes::Bytes::copy_from_slice(&PUBLISH);
        let general = v3_1_1::PacketView::<u16>::parse(&header, &frame[header.header_len..])
            .unwrap()
            .to_owned(&frame);
        assert_eq!(fast, GenericPacket::V3_1_1(general));

        // v5.0: Property Length 0 inserted after the packet id.
        let v5_bytes = [
            0x3A, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x07, 0x00, b'h', b'i',
        ];
        let mut buf = BytesMut::from(&v5_bytes[..]);
        let Some(GenericPacket::V5_0(v5_0::Packet::Publish(p))) =
            Decoder::<u16>::new(ProtocolVersion::V5_0)
                .decode(&mut buf)
                .unwrap()
        else {
            panic!("expected a v5.0 PUBLISH");
        };
        assert_eq!(p.topic_name(), "a/b");
        assert_eq!(p.payload(), b"hi");
        assert!(buf.is_empty());
    }
}
