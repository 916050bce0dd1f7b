//! PUBACK (v5.0 §3.4): the answer to a QoS 1 PUBLISH.

use super::ack::ack_packet;
use crate::properties::PubackProperties;
use crate::v5_0::PubackReasonCode;

ack_packet! {
    /// Acknowledges a QoS 1 PUBLISH (§3.4).
    ///
    /// ```
    /// use mqtt_codec::{Encode, v5_0::Puback};
    /// let mut buf = Vec::new();
    /// Puback::new(7u16).encode(&mut buf)?;
    /// assert_eq!(buf, [0x40, 0x02, 0x00, 0x07]); // the shortest form
    /// # Ok::<(), mqtt_codec::EncodeError>(())
    /// ```
    Puback, PubackBuilder, PubackView, Puback, PubackReasonCode, PubackReasonCode::Success,
    "PubackReasonCode::Success", PubackProperties, PubackPropertiesView
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::PubackProperties;
    use crate::v5_0::test_util::{decode, encode, round_trip};
    use crate::v5_0::Packet;
    use crate::{DecodeError, MqttString};

    /// [MQTT-3.4.2-1] Remaining Length 2: Success without properties, and
    /// the encoder picks this shortest form.
    #[test]
    fn shortest_form() {
        round_trip(Puback::new(1u16), &[0x40, 0x02, 0x00, 0x01]);
    }

    /// §3.4.2.2.1: Remaining Length 3, a Reason Code without Property Length.
    #[test]
    fn reason_code_without_properties() {
        let puback = Puback::<u16>::builder()
            .packet_id(0x1234)
            .reason_code(PubackReasonCode::NoMatchingSubscribers)
            .build()
            .unwrap();
        round_trip(puback, &[0x40, 0x03, 0x12, 0x34, 0x10]);
    }

    #[test]
    fn reason_code_and_properties() {
        let properties = PubackProperties {
            reason_string: Some(MqttString::try_from("ok").unwrap()),
            ..Default::default()
        };
        let puback = Puback::<u16>::builder()
            .packet_id(1)
            .reason_code(PubackReasonCode::NoMatchingSubscribers)
            .properties(properties)
            .build()
            .unwrap();
        round_trip(
            puback,
            &[
                0x40, 0x09, 0x00, 0x01, 0x10, 0x05, 0x1F, 0x00, 0x02, b'o', b'k',
            ],
        );
    }

    /// A Success code with an explicit empty Property Length (Remaining
    /// Length 4) decodes like the shortest form, which the encoder then uses.
    #[test]
    fn longer_forms_of_success_decode() {
        let shortest = Packet::Puback(Puback::new(1u16));
        assert_eq!(
            decode::<u16>(&[0x40, 0x03, 0x00, 0x01, 0x00]),
            Ok(shortest.clone())
        );
        assert_eq!(
            decode::<u16>(&[0x40, 0x04, 0x00, 0x01, 0x00, 0x00]),
            Ok(shortest.clone())
        );
        assert_eq!(encode(&shortest), [0x40, 0x02, 0x00, 0x01]);
    }

    /// 4-byte packet identifiers on extended links.
    #[test]
    fn u32_packet_id() {
        round_trip(
            Puback::new(0x0102_0304u32),
            &[0x40, 0x04, 0x01, 0x02, 0x03, 0x04],
        );
    }

    /// [MQTT-3.4.2-1] a code not in the PUBACK table is refused.
    #[test]
    fn undefined_reason_code() {
        assert!(matches!(
            decode::<u16>(&[0x40, 0x03, 0x00, 0x01, 0x01]),
            Err(DecodeError::InvalidReasonCode { .. })
        ));
    }

    /// [MQTT-2.2.1-3] packet identifier 0.
    #[test]
    fn zero_packet_id() {
        assert_eq!(
            decode::<u16>(&[0x40, 0x02, 0x00, 0x00]),
            Err(DecodeError::ZeroPacketId)
        );
    }

    /// [MQTT-2.1.3-1] reserved flag bits of the fixed header.
    #[test]
    fn reserved_flags() {
        assert!(matches!(
            decode::<u16>(&[0x42, 0x02, 0x00, 0x01]),
            Err(DecodeError::InvalidFixedHeaderFlags { .. })
        ));
    }

    #[test]
    fn truncated_and_trailing() {
        assert_eq!(
            decode::<u16>(&[0x40, 0x01, 0x00]),
            Err(DecodeError::UnexpectedEnd)
        );
        // A Property Length running past the end.
        assert_eq!(
            decode::<u16>(&[0x40, 0x05, 0x00, 0x01, 0x10, 0x03, 0x1F]),
            Err(DecodeError::UnexpectedEnd)
        );
        // A byte after the properties.
        assert_eq!(
            decode::<u16>(&[0x40, 0x05, 0x00, 0x01, 0x10, 0x00, 0xFF]),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    /// A property PUBACK may not carry (Topic Alias) is refused.
    #[test]
    fn foreign_property() {
        assert!(matches!(
            decode::<u16>(&[0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01]),
            Err(DecodeError::PropertyNotAllowed { id: 0x23, .. })
        ));
    }
}
