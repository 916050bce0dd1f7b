//! SUBACK (v5.0 §3.9).

use alloc::vec::Vec;
use bytes::BufMut;
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::properties::SubackProperties;
use crate::v5_0::SubackReasonCode;
use crate::wire::writer::put_packet_id;
use crate::wire::{PacketType, Reader};
use crate::{BuildError, DecodeError, PacketId};

/// The Server's answer to a SUBSCRIBE: one Reason Code per Topic Filter, in
/// the order of the SUBSCRIBE [MQTT-3.9.3-1], [MQTT-3.8.4-6].
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
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Suback<P: PacketId = u16> {
    /// The Packet Identifier of the SUBSCRIBE answered [MQTT-3.8.4-2].
    #[builder(setter(into = false))]
    packet_id: P,
    /// The SUBACK Properties (§3.9.2.1).
    #[builder(default)]
    properties: SubackProperties,
    /// One Reason Code per Topic Filter of the SUBSCRIBE [MQTT-3.9.3-2].
    #[builder(default, setter(each(name = "reason_code")))]
    reason_codes: Vec<SubackReasonCode>,
}

impl<P: PacketId> SubackBuilder<P> {
    fn validate(&self) -> Result<(), BuildError> {
        if self.reason_codes.as_ref().is_none_or(Vec::is_empty) {
            return Err(BuildError::Forbidden(
                "a SUBACK has one Reason Code per Topic Filter, so at least one [MQTT-3.8.4-6]",
            ));
        }
        if let Some(properties) = &self.properties {
            properties.validate()?;
        }
        Ok(())
    }
}

impl<P: PacketId> Suback<P> {
    /// A builder; `packet_id` and at least one reason code are required.
    pub fn builder() -> SubackBuilder<P> {
        SubackBuilder::default()
    }

    /// The Packet Identifier.
    pub fn packet_id(&self) -> P {
        self.packet_id
    }
    /// The SUBACK Properties.
    pub fn properties(&self) -> &SubackProperties {
        &self.properties
    }
    /// The Reason Codes, one per Topic Filter of the SUBSCRIBE, in order.
    pub fn reason_codes(&self) -> &[SubackReasonCode] {
        &self.reason_codes
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let properties = SubackProperties::decode(r)?;
        let mut reason_codes = Vec::with_capacity(r.remaining());
        while r.remaining() > 0 {
            // [MQTT-3.9.3-2]
            reason_codes.push(SubackReasonCode::from_u8(r.u8()?)?);
        }
        // [MQTT-3.8.4-6]: a SUBSCRIBE has at least one Topic Filter.
        if reason_codes.is_empty() {
            return Err(DecodeError::EmptyPayload(PacketType::Suback));
        }
        Ok(Suback {
            packet_id,
            properties,
            reason_codes,
        })
    }
}

impl<P: PacketId> Body for Suback<P> {
    #[inline]
    fn first_byte(&self) -> u8 {
        (PacketType::Suback as u8) << 4
    }
    fn body_len(&self) -> usize {
        P::WIRE_LEN + self.properties.encoded_len() + self.reason_codes.len()
    }
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        put_packet_id(buf, self.packet_id);
        self.properties.encode(buf);
        for code in &self.reason_codes {
            buf.put_u8(code.as_u8());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v5_0::test_util::{decode, round_trip};
    use crate::MqttString;

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
