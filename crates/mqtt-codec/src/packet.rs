//! [`GenericPacket`]: a packet of either version.

use crate::encode::sealed::Body;
use crate::wire::PacketType;
use crate::{v3_1_1, v5_0, PacketId, ProtocolVersion, QoS};

/// A control packet of MQTT v3.1.1 or v5.0, with packet identifiers of
/// width `P` (`u16`, or `u32` on extended links).
///
/// This is what a [`Decoder`](crate::Decoder) yields; it encodes like any
/// single packet through [`Encode`](crate::Encode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenericPacket<P: PacketId = u16> {
    /// A v3.1.1 packet.
    V3_1_1(v3_1_1::Packet<P>),
    /// A v5.0 packet.
    V5_0(v5_0::Packet<P>),
}

impl<P: PacketId> GenericPacket<P> {
    /// The version the packet belongs to.
    #[inline]
    pub fn version(&self) -> ProtocolVersion {
        match self {
            GenericPacket::V3_1_1(_) => ProtocolVersion::V3_1_1,
            GenericPacket::V5_0(_) => ProtocolVersion::V5_0,
        }
    }

    /// The control packet type.
    #[inline]
    pub fn packet_type(&self) -> PacketType {
        match self {
            GenericPacket::V3_1_1(p) => p.packet_type(),
            GenericPacket::V5_0(p) => p.packet_type(),
        }
    }

    /// The Packet Identifier the packet carries (§2.2.1): a PUBLISH at QoS
    /// 1 or 2, the acknowledgements, SUBSCRIBE, SUBACK, UNSUBSCRIBE and
    /// UNSUBACK; `None` for the others.
    #[inline]
    pub fn packet_id(&self) -> Option<P> {
        match self {
            GenericPacket::V3_1_1(p) => p.packet_id(),
            GenericPacket::V5_0(p) => p.packet_id(),
        }
    }

    /// The QoS of a PUBLISH, `None` for any other packet: what an adapter or
    /// a broker asks to know whether the packet takes send quota (§4.9).
    #[inline]
    pub fn publish_qos(&self) -> Option<QoS> {
        match self {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => Some(p.qos()),
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => Some(p.qos()),
            _ => None,
        }
    }
}

impl<P: PacketId> From<v3_1_1::Packet<P>> for GenericPacket<P> {
    fn from(p: v3_1_1::Packet<P>) -> Self {
        GenericPacket::V3_1_1(p)
    }
}

impl<P: PacketId> From<v5_0::Packet<P>> for GenericPacket<P> {
    fn from(p: v5_0::Packet<P>) -> Self {
        GenericPacket::V5_0(p)
    }
}

impl<P: PacketId> Body for GenericPacket<P> {
    #[inline]
    fn first_byte(&self) -> u8 {
        match self {
            GenericPacket::V3_1_1(p) => p.first_byte(),
            GenericPacket::V5_0(p) => p.first_byte(),
        }
    }
    #[inline]
    fn body_len(&self) -> usize {
        match self {
            GenericPacket::V3_1_1(p) => p.body_len(),
            GenericPacket::V5_0(p) => p.body_len(),
        }
    }
    #[inline]
    fn write_head<B: bytes::BufMut>(&self, buf: &mut B) {
        match self {
            GenericPacket::V3_1_1(p) => p.write_head(buf),
            GenericPacket::V5_0(p) => p.write_head(buf),
        }
    }
    #[inline]
    fn payload(&self) -> Option<&[u8]> {
        match self {
            GenericPacket::V3_1_1(p) => p.payload(),
            GenericPacket::V5_0(p) => p.payload(),
        }
    }
    #[inline]
    fn write_packet_head<B: bytes::BufMut>(&self, buf: &mut B, body_len: usize) {
        match self {
            GenericPacket::V3_1_1(p) => p.write_packet_head(buf, body_len),
            GenericPacket::V5_0(p) => p.write_packet_head(buf, body_len),
        }
    }
}

/// A control packet of either version, read in place: what
/// [`Decoder::decode_view`](crate::Decoder::decode_view) returns. See
/// [`v3_1_1::PacketView`] and [`v5_0::PacketView`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenericPacketView<'a, P: PacketId = u16> {
    /// A v3.1.1 packet.
    V3_1_1(v3_1_1::PacketView<'a, P>),
    /// A v5.0 packet.
    V5_0(v5_0::PacketView<'a, P>),
}

impl<'a, P: PacketId> GenericPacketView<'a, P> {
    /// Reads and checks the body of one complete packet of `version`.
    #[inline]
    pub(crate) fn parse(
        version: ProtocolVersion,
        header: &crate::wire::FixedHeader,
        body: &'a [u8],
    ) -> Result<Self, crate::DecodeError> {
        Ok(match version {
            ProtocolVersion::V3_1_1 => {
                GenericPacketView::V3_1_1(v3_1_1::PacketView::parse(header, body)?)
            }
            ProtocolVersion::V5_0 => {
                GenericPacketView::V5_0(v5_0::PacketView::parse(header, body)?)
            }
        })
    }

    /// The version the packet belongs to.
    #[inline]
    pub fn version(&self) -> ProtocolVersion {
        match self {
            GenericPacketView::V3_1_1(_) => ProtocolVersion::V3_1_1,
            GenericPacketView::V5_0(_) => ProtocolVersion::V5_0,
        }
    }

    /// The control packet type.
    #[inline]
    pub fn packet_type(&self) -> PacketType {
        match self {
            GenericPacketView::V3_1_1(p) => p.packet_type(),
            GenericPacketView::V5_0(p) => p.packet_type(),
        }
    }

    /// The owned packet, sharing `source` when the view was parsed from it
    /// (its fields are slices of `source`), copying them otherwise: give
    /// the bytes the view came from, as a [`Bytes`](https://docs.rs/bytes/1/bytes/struct.Bytes.html), to
    /// copy nothing.
    pub fn to_owned(&self, source: &bytes::Bytes) -> GenericPacket<P> {
        match self {
            GenericPacketView::V3_1_1(p) => GenericPacket::V3_1_1(p.to_owned(source)),
            GenericPacketView::V5_0(p) => GenericPacket::V5_0(p.to_owned(source)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PUBLISH's QoS in both versions; `None` for another packet.
    /// Moving a packet costs little: [`GenericPacket`] is at most 80 bytes
    /// for both identifier widths, whatever a v5.0 PUBLISH carries.
    #[test]
    fn packets_are_compact() {
        use core::mem::size_of;
        assert!(size_of::<GenericPacket<u16>>() <= 80);
        assert!(size_of::<GenericPacket<u32>>() <= 80);
        assert!(size_of::<crate::Message>() <= 72);
    }

    #[test]
    fn publish_qos() {
        let v3 = v3_1_1::Publish::<u16>::builder()
            .try_topic_name("t")
            .unwrap()
            .qos(QoS::ExactlyOnce)
            .packet_id(1)
            .build()
            .unwrap();
        let v5 = v5_0::Publish::<u16>::builder()
            .try_topic_name("t")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(
            GenericPacket::from(v3_1_1::Packet::from(v3)).publish_qos(),
            Some(QoS::ExactlyOnce)
        );
        assert_eq!(
            GenericPacket::from(v5_0::Packet::from(v5)).publish_qos(),
            Some(QoS::AtMostOnce)
        );
        let pingreq = GenericPacket::<u16>::from(v3_1_1::Packet::Pingreq(v3_1_1::Pingreq));
        assert_eq!(pingreq.publish_qos(), None);
    }

    /// §2.2.1: the packets that carry a Packet Identifier say
    /// which (id 7 in each), the others and a QoS 0 PUBLISH have none.
    #[test]
    fn packet_id_of_each_type() {
        let v3: &[(&[u8], Option<u16>)] = &[
            (&[0x32, 5, 0, 1, b't', 0, 7], Some(7)),
            (&[0x30, 3, 0, 1, b't'], None),
            (&[0x40, 2, 0, 7], Some(7)),
            (&[0x50, 2, 0, 7], Some(7)),
            (&[0x62, 2, 0, 7], Some(7)),
            (&[0x70, 2, 0, 7], Some(7)),
            (&[0x82, 6, 0, 7, 0, 1, b't', 0], Some(7)),
            (&[0x90, 3, 0, 7, 0], Some(7)),
            (&[0xA2, 5, 0, 7, 0, 1, b't'], Some(7)),
            (&[0xB0, 2, 0, 7], Some(7)),
            (&[0xC0, 0], None),
            (&[0xD0, 0], None),
            (&[0xE0, 0], None),
        ];
        let v5: &[(&[u8], Option<u16>)] = &[
            (&[0x34, 6, 0, 1, b't', 0, 7, 0], Some(7)),
            (&[0x30, 4, 0, 1, b't', 0], None),
            (&[0x40, 2, 0, 7], Some(7)),
            (&[0x82, 7, 0, 7, 0, 0, 1, b't', 0], Some(7)),
            (&[0x90, 4, 0, 7, 0, 0], Some(7)),
            (&[0xA2, 6, 0, 7, 0, 0, 1, b't'], Some(7)),
            (&[0xB0, 4, 0, 7, 0, 0], Some(7)),
            (&[0xE0, 0], None),
            (&[0xF0, 0], None),
        ];
        for (version, cases) in [(ProtocolVersion::V3_1_1, v3), (ProtocolVersion::V5_0, v5)] {
            for (bytes, id) in cases {
                let mut buf = bytes::BytesMut::from(*bytes);
                let packet = crate::Decoder::<u16>::new(version)
                    .decode(&mut buf)
                    .unwrap()
                    .unwrap();
                assert_eq!(packet.packet_id(), *id, "{packet:?}");
            }
        }
    }
}
