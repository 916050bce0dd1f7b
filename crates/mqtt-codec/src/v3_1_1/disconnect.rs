//! DISCONNECT (v3.1.1 §3.14): no variable header, no payload.

use crate::encode::empty_body;
use crate::wire::PacketType;

/// The client's last packet: it closes the connection cleanly, and the
/// server discards the Will Message (§3.14.4).
///
/// ```
/// use mqtt_codec::{Encode, v3_1_1::Disconnect};
/// let mut buf = Vec::new();
/// Disconnect.encode(&mut buf)?;
/// assert_eq!(buf, [0xE0, 0x00]);
/// # Ok::<(), mqtt_codec::EncodeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Disconnect;

empty_body!(Disconnect, PacketType::Disconnect);

#[cfg(test)]
mod tests {
    use super::Disconnect;
    use crate::v3_1_1::test_util::{decode, encode};
    use crate::v3_1_1::Packet;
    use crate::wire::PacketType;
    use crate::DecodeError;

    #[test]
    fn encodes_and_decodes_exact_bytes() {
        assert_eq!(encode(&Disconnect), [0xE0, 0x00]);
        assert_eq!(
            decode::<u16>(&[0xE0, 0x00]),
            Ok(Packet::Disconnect(Disconnect))
        );
    }

    /// The packet has no body: a byte after the fixed header is left over.
    #[test]
    fn a_body_is_refused() {
        assert_eq!(
            decode::<u16>(&[0xE0, 0x01, 0x00]),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    /// [MQTT-3.14.1-1], [MQTT-2.2.2-1] reserved flag bits must be 0.
    #[test]
    fn reserved_flags_are_refused() {
        assert_eq!(
            decode::<u16>(&[0xE1, 0x00]),
            Err(DecodeError::InvalidFixedHeaderFlags {
                packet_type: PacketType::Disconnect,
                flags: 1,
            })
        );
    }
}
