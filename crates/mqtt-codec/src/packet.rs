//! [`GenericPacket`]: a packet of either version.

use crate::encode::sealed::Body;
use crate::wire::PacketType;
use crate::{v3_1_1, v5_0, PacketId, ProtocolVersion};

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
    pub fn version(&self) -> ProtocolVersion {
        match self {
            GenericPacket::V3_1_1(_) => ProtocolVersion::V3_1_1,
            GenericPacket::V5_0(_) => ProtocolVersion::V5_0,
        }
    }

    /// The control packet type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            GenericPacket::V3_1_1(p) => p.packet_type(),
            GenericPacket::V5_0(p) => p.packet_type(),
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
    fn payload(&self) -> Option<&bytes::Bytes> {
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
