//! PUBREL (v3.1.1 §3.6).

use super::id_only::id_only_packet;
use crate::wire::PacketType;

id_only_packet! {
    /// The answer to a PUBREC (§4.3.3): its receiver answers it with
    /// PUBCOMP. Its fixed header flags are 0010 [MQTT-3.6.1-1].
    ///
    /// ```
    /// use mqtt_codec::{Encode, v3_1_1::Pubrel};
    /// let mut buf = Vec::new();
    /// Pubrel::new(10u16).encode(&mut buf)?;
    /// assert_eq!(buf, [0x62, 0x02, 0x00, 0x0A]);
    /// # Ok::<(), mqtt_codec::EncodeError>(())
    /// ```
    Pubrel, PubrelBuilder, PacketType::Pubrel, 0b0010
}

#[cfg(test)]
mod tests {
    super::super::id_only::id_only_tests!(Pubrel, Pubrel, 0x62);

    /// [MQTT-3.6.1-1] PUBREL flags other than 0010 are malformed.
    #[test]
    fn other_flags_are_refused() {
        use crate::wire::PacketType;
        for first in [0x60u8, 0x63, 0x6A] {
            assert_eq!(
                decode::<u16>(&[first, 0x02, 0x00, 0x01]),
                Err(DecodeError::InvalidFixedHeaderFlags {
                    packet_type: PacketType::Pubrel,
                    flags: first & 0x0F,
                })
            );
        }
    }
}
