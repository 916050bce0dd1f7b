//! PINGREQ (v3.1.1 §3.12): no variable header, no payload.

use crate::encode::empty_body;
use crate::wire::PacketType;

/// A keep-alive probe from the client (§3.1.2.10); the server answers with
/// PINGRESP [MQTT-3.12.4-1].
///
/// ```
/// use mqtt_codec::{Encode, v3_1_1::Pingreq};
/// let mut buf = Vec::new();
/// Pingreq.encode(&mut buf)?;
/// assert_eq!(buf, [0xC0, 0x00]);
/// # Ok::<(), mqtt_codec::EncodeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Pingreq;

empty_body!(Pingreq, PacketType::Pingreq);

#[cfg(test)]
mod tests {
    use super::Pingreq;
    use crate::v3_1_1::test_util::{decode, encode};
    use crate::v3_1_1::Packet;
    use crate::wire::PacketType;
    use crate::DecodeError;

    #[test]
    fn encodes_and_decodes_exact_bytes() {
        assert_eq!(encode(&Pingreq), [0xC0, 0x00]);
        assert_eq!(decode::<u16>(&[0xC0, 0x00]), Ok(Packet::Pingreq(Pingreq)));
    }

    /// The packet has no body: a byte after the fixed header is left over.
    #[test]
    fn a_body_is_refused() {
        assert_eq!(
            decode::<u16>(&[0xC0, 0x01, 0x00]),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    /// [MQTT-2.2.2-1] reserved flag bits must be 0.
    #[test]
    fn reserved_flags_are_refused() {
        assert_eq!(
            decode::<u16>(&[0xC1, 0x00]),
            Err(DecodeError::InvalidFixedHeaderFlags {
                packet_type: PacketType::Pingreq,
                flags: 1,
            })
        );
    }
}
