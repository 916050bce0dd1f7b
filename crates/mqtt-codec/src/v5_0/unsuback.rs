//! UNSUBACK (v5.0 §3.11).

use alloc::vec::Vec;
use bytes::BufMut;
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::properties::UnsubackProperties;
use crate::v5_0::UnsubackReasonCode;
use crate::wire::writer::put_packet_id;
use crate::wire::{PacketType, Reader};
use crate::{BuildError, DecodeError, PacketId};

/// The Server's answer to an UNSUBSCRIBE: one Reason Code per Topic Filter,
/// in the order of the UNSUBSCRIBE [MQTT-3.11.3-1].
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
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Unsuback<P: PacketId = u16> {
    /// The Packet Identifier of the UNSUBSCRIBE answered.
    #[builder(setter(into = false))]
    packet_id: P,
    /// The UNSUBACK Properties (§3.11.2.1).
    #[builder(default)]
    properties: UnsubackProperties,
    /// One Reason Code per Topic Filter of the UNSUBSCRIBE [MQTT-3.11.3-2].
    #[builder(default, setter(each(name = "reason_code")))]
    reason_codes: Vec<UnsubackReasonCode>,
}

impl<P: PacketId> UnsubackBuilder<P> {
    fn validate(&self) -> Result<(), BuildError> {
        if self.reason_codes.as_ref().is_none_or(Vec::is_empty) {
            return Err(BuildError::Forbidden(
                "an UNSUBACK has one Reason Code per Topic Filter, so at least one [MQTT-3.11.3-1]",
            ));
        }
        if let Some(properties) = &self.properties {
            properties.validate()?;
        }
        Ok(())
    }
}

impl<P: PacketId> Unsuback<P> {
    /// A builder; `packet_id` and at least one reason code are required.
    pub fn builder() -> UnsubackBuilder<P> {
        UnsubackBuilder::default()
    }

    /// The Packet Identifier.
    pub fn packet_id(&self) -> P {
        self.packet_id
    }
    /// The UNSUBACK Properties.
    pub fn properties(&self) -> &UnsubackProperties {
        &self.properties
    }
    /// The Reason Codes, one per Topic Filter of the UNSUBSCRIBE, in order.
    pub fn reason_codes(&self) -> &[UnsubackReasonCode] {
        &self.reason_codes
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let properties = UnsubackProperties::decode(r)?;
        let mut reason_codes = Vec::with_capacity(r.remaining());
        while r.remaining() > 0 {
            // [MQTT-3.11.3-2]
            reason_codes.push(UnsubackReasonCode::from_u8(r.u8()?)?);
        }
        // [MQTT-3.11.3-1]: an UNSUBSCRIBE has at least one Topic Filter.
        if reason_codes.is_empty() {
            return Err(DecodeError::EmptyPayload(PacketType::Unsuback));
        }
        Ok(Unsuback {
            packet_id,
            properties,
            reason_codes,
        })
    }
}

impl<P: PacketId> Body for Unsuback<P> {
    #[inline]
    fn first_byte(&self) -> u8 {
        (PacketType::Unsuback as u8) << 4
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
