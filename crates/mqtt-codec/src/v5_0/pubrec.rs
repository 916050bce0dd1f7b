//! PUBREC (v5.0 §3.5): the first answer to a QoS 2 PUBLISH.

use super::ack::ack_packet;
use crate::properties::PubrecProperties;
use crate::v5_0::PubrecReasonCode;

ack_packet! {
    /// Acknowledges receipt of a QoS 2 PUBLISH, the first step of the QoS 2
    /// exchange (§3.5).
    ///
    /// ```
    /// use mqtt_codec::{Encode, v5_0::Pubrec};
    /// let mut buf = Vec::new();
    /// Pubrec::new(7u16).encode(&mut buf)?;
    /// assert_eq!(buf, [0x50, 0x02, 0x00, 0x07]);
    /// # Ok::<(), mqtt_codec::EncodeError>(())
    /// ```
    Pubrec, PubrecBuilder, PubrecView, Pubrec, PubrecReasonCode, PubrecReasonCode::Success,
    "PubrecReasonCode::Success", PubrecProperties, PubrecPropertiesView
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v5_0::test_util::{decode, round_trip};
    use crate::DecodeError;

    /// [MQTT-3.5.2-1] §3.5.2.1: Remaining Length 2 means Success.
    #[test]
    fn shortest_form() {
        round_trip(Pubrec::new(10u16), &[0x50, 0x02, 0x00, 0x0A]);
    }

    /// [MQTT-3.5.2-1] §3.5.2.2.1: a Reason Code alone, Remaining Length 3.
    #[test]
    fn reason_code_only() {
        let pubrec = Pubrec::<u16>::builder()
            .packet_id(10)
            .reason_code(PubrecReasonCode::QuotaExceeded)
            .build()
            .unwrap();
        round_trip(pubrec, &[0x50, 0x03, 0x00, 0x0A, 0x97]);
    }

    /// [MQTT-3.5.2-1] 0x02 is not in the PUBREC table.
    #[test]
    fn undefined_reason_code() {
        assert!(matches!(
            decode::<u16>(&[0x50, 0x03, 0x00, 0x0A, 0x02]),
            Err(DecodeError::InvalidReasonCode { .. })
        ));
    }
}
