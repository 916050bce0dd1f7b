//! UNSUBACK (v5.0 §3.11).

super::reason_list::reason_list_packet! {
    /// The Server's answer to an UNSUBSCRIBE: one Reason Code per Topic
    /// Filter, in the order of the UNSUBSCRIBE [MQTT-3.11.3-1]; each one from
    /// the UNSUBACK table [MQTT-3.11.3-2].
    ///
    /// ```
    /// use mqtt_codec::Encode;
    /// use mqtt_codec::v5_0::{Unsuback, UnsubackReasonCode};
    /// let unsuback = Unsuback::<u16>::builder()
    ///     .packet_id(10)
    ///     .reason_code(UnsubackReasonCode::Success)
    ///     .build()?;
    /// let mut buf = Vec::new();
    /// unsuback.encode(&mut buf)?;
    /// assert_eq!(buf, [0xB0, 0x04, 0x00, 0x0A, 0x00, 0x00]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    Unsuback, UnsubackBuilder, UnsubackView, Unsuback, UnsubackReasonCode, UnsubackProperties, UnsubackPropertiesView,
    empty_rule = "an UNSUBACK has one Reason Code per Topic Filter, so at least one [MQTT-3.11.3-1]"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v5_0::test_util::{decode, round_trip};
    use crate::v5_0::UnsubackReasonCode;
    use crate::wire::PacketType;
    use crate::{BuildError, DecodeError};

    #[test]
    fn two_codes() {
        let unsuback = Unsuback::<u16>::builder()
            .packet_id(10)
            .reason_code(UnsubackReasonCode::Success)
            .reason_code(UnsubackReasonCode::NoSubscriptionExisted)
            .build()
            .unwrap();
        round_trip(unsuback, &[0xB0, 0x05, 0x00, 0x0A, 0x00, 0x00, 0x11]);
    }

    /// 4-byte packet identifiers on extended links.
    #[test]
    fn u32_packet_id() {
        let unsuback = Unsuback::<u32>::builder()
            .packet_id(0x0A00_0000)
            .reason_code(UnsubackReasonCode::NotAuthorized)
            .build()
            .unwrap();
        round_trip(unsuback, &[0xB0, 0x06, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x87]);
    }

    /// [MQTT-3.11.3-2] a code not in the UNSUBACK table.
    #[test]
    fn undefined_reason_code() {
        assert!(matches!(
            decode::<u16>(&[0xB0, 0x04, 0x00, 0x01, 0x00, 0x01]),
            Err(DecodeError::InvalidReasonCode { code: 0x01, .. })
        ));
    }

    /// [MQTT-3.11.3-1] one code per Topic Filter: never none.
    #[test]
    fn empty_payload() {
        assert_eq!(
            decode::<u16>(&[0xB0, 0x03, 0x00, 0x01, 0x00]),
            Err(DecodeError::EmptyPayload(PacketType::Unsuback))
        );
        assert!(matches!(
            Unsuback::<u16>::builder().packet_id(1).build(),
            Err(BuildError::Forbidden(_))
        ));
    }
}
