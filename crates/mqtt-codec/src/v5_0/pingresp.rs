//! PINGRESP (v5.0 §3.13): no variable header, no payload.

use crate::encode::empty_body;
use crate::wire::PacketType;

/// The Server's answer to a PINGREQ [MQTT-3.12.4-1].
///
/// ```
/// use mqtt_codec::{Encode, v5_0::Pingresp};
/// let mut buf = Vec::new();
/// Pingresp.encode(&mut buf)?;
/// assert_eq!(buf, [0xD0, 0x00]);
/// # Ok::<(), mqtt_codec::EncodeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Pingresp;

empty_body!(Pingresp, PacketType::Pingresp);

#[cfg(test)]
mod tests {
    use super::Pingresp;
    use crate::v5_0::test_util::{decode, round_trip};
    use crate::wire::PacketType;
    use crate::DecodeError;

    #[test]
    fn exact_bytes() {
        round_trip::<u16>(Pingresp, &[0xD0, 0x00]);
    }

    /// The packet has no body: a byte after the fixed header is left over.
    #[test]
    fn a_body_is_refused() {
        assert_eq!(
            decode::<u16>(&[0xD0, 0x01, 0x00]),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    /// [MQTT-2.1.3-1] reserved flag bits must be 0.
    #[test]
    fn reserved_flags() {
        assert_eq!(
            decode::<u16>(&[0xD8, 0x00]),
            Err(DecodeError::InvalidFixedHeaderFlags {
                packet_type: PacketType::Pingresp,
                flags: 8,
            })
        );
    }
}
