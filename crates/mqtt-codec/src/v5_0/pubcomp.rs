//! PUBCOMP (v5.0 §3.7): the answer to a PUBREL.

use super::ack::ack_packet;
use crate::properties::PubcompProperties;
use crate::v5_0::PubcompReasonCode;

ack_packet! {
    /// Completes the QoS 2 exchange (§3.7).
    ///
    /// ```
    /// use mqtt_codec::{Encode, v5_0::Pubcomp};
    /// let mut buf = Vec::new();
    /// Pubcomp::new(7u16).encode(&mut buf)?;
    /// assert_eq!(buf, [0x70, 0x02, 0x00, 0x07]);
    /// # Ok::<(), mqtt_codec::EncodeError>(())
    /// ```
    Pubcomp, PubcompBuilder, PubcompView, Pubcomp, PubcompReasonCode, PubcompReasonCode::Success,
    "PubcompReasonCode::Success", PubcompProperties, PubcompPropertiesView
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v5_0::test_util::{decode, round_trip};
    use crate::{DecodeError, MqttString};

    /// [MQTT-3.7.2-1] §3.7.2.1: Remaining Length 2 means Success.
    #[test]
    fn shortest_form() {
        round_trip(Pubcomp::new(10u16), &[0x70, 0x02, 0x00, 0x0A]);
    }

    /// [MQTT-3.7.2-1] a Reason Code with properties.
    #[test]
    fn reason_code_and_properties() {
        let pubcomp = Pubcomp::<u16>::builder()
            .packet_id(10)
            .reason_code(PubcompReasonCode::PacketIdentifierNotFound)
            .properties(PubcompProperties {
                reason_string: Some(MqttString::try_from("x").unwrap()),
                ..Default::default()
            })
            .build()
            .unwrap();
        round_trip(
            pubcomp,
            &[0x70, 0x08, 0x00, 0x0A, 0x92, 0x04, 0x1F, 0x00, 0x01, b'x'],
        );
    }

    /// [MQTT-3.7.2-1] 0x10 is not a PUBCOMP code.
    #[test]
    fn undefined_reason_code() {
        assert!(matches!(
            decode::<u16>(&[0x70, 0x03, 0x00, 0x0A, 0x10]),
            Err(DecodeError::InvalidReasonCode { .. })
        ));
    }
}
