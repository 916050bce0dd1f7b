//! SUBACK (v5.0 §3.9).

super::reason_list::reason_list_packet! {
    /// The Server's answer to a SUBSCRIBE: one Reason Code per Topic Filter,
    /// in the order of the SUBSCRIBE [MQTT-3.9.3-1], [MQTT-3.8.4-6]; each one
    /// from the SUBACK table [MQTT-3.9.3-2].
    ///
    /// ```
    /// use mqtt_codec::Encode;
    /// use mqtt_codec::v5_0::{Suback, SubackReasonCode};
    /// let suback = Suback::<u16>::builder()
    ///     .packet_id(10)
    ///     .reason_code(SubackReasonCode::GrantedQoS1)
    ///     .reason_code(SubackReasonCode::NotAuthorized)
    ///     .build()?;
    /// let mut buf = Vec::new();
    /// suback.encode(&mut buf)?;
    /// assert_eq!(buf, [0x90, 0x05, 0x00, 0x0A, 0x00, 0x01, 0x87]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    Suback, SubackBuilder, SubackView, Suback, SubackReasonCode, SubackProperties, SubackPropertiesView,
    empty_rule = "a SUBACK has one Reason Code per Topic Filter, so at least one [MQTT-3.8.4-6]"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v5_0::test_util::{decode, round_trip};
    use crate::v5_0::{SubackProperties, SubackReasonCode};
    use crate::wire::PacketType;
    use crate::MqttString;
    use crate::{BuildError, DecodeError};

    #[test]
    fn every_granted_qos_and_a_failure() {
        let suback = Suback::<u16>::builder()
            .packet_id(10)
            .reason_code(SubackReasonCode::GrantedQoS0)
            .reason_code(SubackReasonCode::GrantedQoS1)
            .reason_code(SubackReasonCode::GrantedQoS2)
            .reason_code(SubackReasonCode::UnspecifiedError)
            .build()
            .unwrap();
        round_trip(
            suback,
            &[0x90, 0x07, 0x00, 0x0A, 0x00, 0x00, 0x01, 0x02, 0x80],
        );
    }

    #[test]
    fn with_reason_string() {
        let suback = Suback::<u16>::builder()
            .packet_id(1)
            .properties(SubackProperties {
                reason_string: Some(MqttString::try_from("no").unwrap()),
                ..Default::default()
            })
            .reason_code(SubackReasonCode::TopicFilterInvalid)
            .build()
            .unwrap();
        round_trip(
            suback,
            &[
                0x90, 0x09, 0x00, 0x01, 0x05, 0x1F, 0x00, 0x02, b'n', b'o', 0x8F,
            ],
        );
    }

    /// [MQTT-3.9.3-2] a code not in the SUBACK table (QoS 3 is not one).
    #[test]
    fn undefined_reason_code() {
        assert!(matches!(
            decode::<u16>(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x03]),
            Err(DecodeError::InvalidReasonCode { code: 0x03, .. })
        ));
    }

    /// [MQTT-3.8.4-6] one code per Topic Filter: never none.
    #[test]
    fn empty_payload() {
        assert_eq!(
            decode::<u16>(&[0x90, 0x03, 0x00, 0x01, 0x00]),
            Err(DecodeError::EmptyPayload(PacketType::Suback))
        );
        assert!(matches!(
            Suback::<u16>::builder().packet_id(1).build(),
            Err(BuildError::Forbidden(_))
        ));
    }
}
