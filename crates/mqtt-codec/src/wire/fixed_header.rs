//! The fixed header (MQTT v5.0 §2.1, v3.1.1 §2.2), read by hand before any
//! byte of the body is buffered.

use super::varint::read_varint;
use crate::{DecodeError, QoS};

/// The MQTT Control Packet type: the high four bits of the first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// Connection request.
    Connect = 1,
    /// Connect acknowledgement.
    Connack = 2,
    /// Publish message.
    Publish = 3,
    /// Publish acknowledgement (QoS 1).
    Puback = 4,
    /// Publish received (QoS 2, part 1).
    Pubrec = 5,
    /// Publish release (QoS 2, part 2).
    Pubrel = 6,
    /// Publish complete (QoS 2, part 3).
    Pubcomp = 7,
    /// Subscribe request.
    Subscribe = 8,
    /// Subscribe acknowledgement.
    Suback = 9,
    /// Unsubscribe request.
    Unsubscribe = 10,
    /// Unsubscribe acknowledgement.
    Unsuback = 11,
    /// Ping request.
    Pingreq = 12,
    /// Ping response.
    Pingresp = 13,
    /// Disconnect notification.
    Disconnect = 14,
    /// Authentication exchange (v5.0 only).
    Auth = 15,
}

impl PacketType {
    /// The packet type encoded in the high nibble `value`, if it names one.
    pub const fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            1 => PacketType::Connect,
            2 => PacketType::Connack,
            3 => PacketType::Publish,
            4 => PacketType::Puback,
            5 => PacketType::Pubrec,
            6 => PacketType::Pubrel,
            7 => PacketType::Pubcomp,
            8 => PacketType::Subscribe,
            9 => PacketType::Suback,
            10 => PacketType::Unsubscribe,
            11 => PacketType::Unsuback,
            12 => PacketType::Pingreq,
            13 => PacketType::Pingresp,
            14 => PacketType::Disconnect,
            15 => PacketType::Auth,
            _ => return None,
        })
    }

    /// The flag bits the spec fixes for this type, or `None` for PUBLISH,
    /// whose flags carry DUP, QoS and RETAIN (v5.0 §2.1.3, v3.1.1 §2.2.2).
    pub const fn fixed_flags(self) -> Option<u8> {
        match self {
            PacketType::Publish => None,
            PacketType::Pubrel | PacketType::Subscribe | PacketType::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }
}

/// A parsed fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHeader {
    /// The packet type.
    pub packet_type: PacketType,
    /// The four low bits of the first byte.
    pub flags: u8,
    /// The number of bytes after the fixed header.
    pub remaining_length: u32,
    /// The length of the fixed header itself (2 to 5 bytes).
    pub header_len: usize,
}

impl FixedHeader {
    /// The length of the whole packet: fixed header plus remaining length.
    pub fn packet_len(&self) -> usize {
        self.header_len + self.remaining_length as usize
    }

    /// Parses the fixed header at the start of `buf`.
    ///
    /// `Ok(None)` when `buf` ends inside the header. Errs on packet type 0,
    /// on flags that differ from the ones the spec fixes, on PUBLISH QoS 3 or DUP on QoS 0, and
    /// on a malformed Remaining Length. AUTH is accepted here; the caller
    /// refuses it on v3.1.1.
    #[inline(always)]
    pub fn parse(buf: &[u8]) -> Result<Option<FixedHeader>, DecodeError> {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        let Some(packet_type) = PacketType::from_u8(first >> 4) else {
            return Err(super::cold(DecodeError::InvalidPacketType(first >> 4)));
        };
        let flags = first & 0x0F;
        match packet_type.fixed_flags() {
            Some(fixed) if fixed != flags => {
                return Err(super::cold(DecodeError::InvalidFixedHeaderFlags {
                    packet_type,
                    flags,
                }));
            }
            // PUBLISH: its flags are checked as the fast path checks them.
            None => {
                publish_flags(flags)?;
            }
            _ => {}
        }
        Ok(
            read_varint(&buf[1..])?.map(|(remaining_length, n)| FixedHeader {
                packet_type,
                flags,
                remaining_length,
                header_len: 1 + n,
            }),
        )
    }
}

/// DUP, QoS and RETAIN from the flags of a PUBLISH fixed header (§3.3.1).
///
/// Errs on QoS 3 [MQTT-3.3.1-4] and on DUP set with QoS 0 [MQTT-3.3.1-2].
#[inline(always)]
pub(crate) fn publish_flags(flags: u8) -> Result<(bool, QoS, bool), DecodeError> {
    let qos = match (flags >> 1) & 0b11 {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        2 => QoS::ExactlyOnce,
        _ => return Err(super::cold(DecodeError::InvalidQos)),
    };
    let dup = flags & 0b1000 != 0;
    if dup && qos == QoS::AtMostOnce {
        return Err(super::cold(DecodeError::InvalidFixedHeaderFlags {
            packet_type: PacketType::Publish,
            flags,
        }));
    }
    Ok((dup, qos, flags & 1 != 0))
}
