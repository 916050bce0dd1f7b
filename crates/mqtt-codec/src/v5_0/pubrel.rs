//! PUBREL (v5.0 §3.6): the answer to a PUBREC.

use super::ack::ack_packet;
use crate::properties::PubrelProperties;
use crate::v5_0::PubrelReasonCode;

ack_packet! {
    /// Releases a QoS 2 message, the second step of the QoS 2 exchange
    /// (§3.6). Its fixed header flags are 0b0010 [MQTT-3.6.1-1].
    ///
    /// ```
    /// use mqtt_codec::{Encode, v5_0::Pubrel};
    /// let mut buf = Vec::new();
    /// Pubrel::new(7u16).encode(&mut buf)?;
    /// assert_eq!(buf, [0x62, 0x02, 0x00, 0x07]);
    /// # Ok::<(), mqtt_codec::EncodeError>(())
    /// ```
    Pubrel, PubrelBuilder, PubrelView, Pubrel, PubrelReasonCode, PubrelReasonCode::Success,
    "PubrelReasonCode::Success", PubrelProperties, PubrelPropertiesView
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v5_0::test_util::{decode, round_trip};
    use crate::DecodeError;

    /// [MQTT-3.6.2-1] §3.6.2.1: Remaining Length 2 means Success.
    #[test]
    fn shortest_form() {
        round_trip(Pubrel::new(10u16), &[0x62, 0x02, 0x00, 0x0A]);
    }

    /// [MQTT-3.6.2-1] a Reason Code alone, Remaining Length 3.
    #[test]
    fn reason_code_only() {
        let pubrel = Pubrel::<u16>::builder()
            .packet_id(10)
            .reason_code(PubrelReasonCode::PacketIdentifierNotFound)
            .build()
            .unwrap();
        round_trip(pubrel, &[0x62, 0x03, 0x00, 0x0A, 0x92]);
    }

    /// [MQTT-3.6.1-1] flags other than 0b0010 are malformed.
    #[test]
    fn reserved_flags() {
        for first in [0x60, 0x63, 0x6A] {
            assert!(matches!(
                decode::<u16>(&[first, 0x02, 0x00, 0x0A]),
                Err(DecodeError::InvalidFixedHeaderFlags { .. })
            ));
        }
    }

    /// [MQTT-3.6.2-1] 0x80 is not a PUBREL code.
    #[test]
    fn undefined_reason_code() {
        assert!(matches!(
            decode::<u16>(&[0x62, 0x03, 0x00, 0x0A, 0x80]),
            Err(DecodeError::InvalidReasonCode { .. })
        ));
    }
}
