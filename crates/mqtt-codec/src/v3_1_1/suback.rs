//! SUBACK (v3.1.1 §3.9).

use alloc::vec::Vec;
use bytes::BufMut;
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::wire::writer::put_packet_id;
use crate::wire::{PacketType, Reader};
use crate::{BuildError, DecodeError, PacketId, QoS};

/// The answer to one subscription of a SUBSCRIBE (§3.9.3): the maximum QoS
/// granted, or a failure. Other values are reserved [MQTT-3.9.3-2].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubackReturnCode {
    /// 0x00, 0x01, 0x02: success, with the maximum QoS granted
    /// [MQTT-3.8.4-5].
    Success(QoS),
    /// 0x80: the subscription failed.
    Failure,
}

impl SubackReturnCode {
    /// The return code `value`; errs with [`DecodeError::InvalidReasonCode`]
    /// on a reserved value [MQTT-3.9.3-2].
    #[inline]
    pub const fn from_u8(value: u8) -> Result<Self, DecodeError> {
        Ok(match value {
            0 => SubackReturnCode::Success(QoS::AtMostOnce),
            1 => SubackReturnCode::Success(QoS::AtLeastOnce),
            2 => SubackReturnCode::Success(QoS::ExactlyOnce),
            0x80 => SubackReturnCode::Failure,
            code => {
                return Err(DecodeError::InvalidReasonCode {
                    packet_type: PacketType::Suback,
                    code,
                });
            }
        })
    }

    /// The byte on the wire.
    #[inline]
    pub const fn as_u8(self) -> u8 {
        match self {
            SubackReturnCode::Success(qos) => qos as u8,
            SubackReturnCode::Failure => 0x80,
        }
    }

    /// Whether the subscription was granted.
    #[inline]
    pub const fn is_success(self) -> bool {
        matches!(self, SubackReturnCode::Success(_))
    }

    /// The maximum QoS granted, on success.
    #[inline]
    pub const fn granted_qos(self) -> Option<QoS> {
        match self {
            SubackReturnCode::Success(qos) => Some(qos),
            SubackReturnCode::Failure => None,
        }
    }
}

impl From<QoS> for SubackReturnCode {
    fn from(qos: QoS) -> Self {
        SubackReturnCode::Success(qos)
    }
}

impl TryFrom<u8> for SubackReturnCode {
    type Error = DecodeError;
    fn try_from(value: u8) -> Result<Self, DecodeError> {
        SubackReturnCode::from_u8(value)
    }
}

impl From<SubackReturnCode> for u8 {
    fn from(code: SubackReturnCode) -> u8 {
        code.as_u8()
    }
}

/// The server's answer to a SUBSCRIBE: one return code per subscription,
/// in the same order [MQTT-3.9.3-1], [MQTT-3.8.4-5].
///
/// ```
/// use mqtt_codec::{Encode, QoS, v3_1_1::{Suback, SubackReturnCode}};
/// let suback = Suback::<u16>::builder()
///     .packet_id(10)
///     .return_code(SubackReturnCode::Success(QoS::AtLeastOnce))
///     .return_code(SubackReturnCode::Failure)
///     .build()?;
/// let mut buf = Vec::new();
/// suback.encode(&mut buf)?;
/// assert_eq!(buf, [0x90, 0x04, 0x00, 0x0A, 0x01, 0x80]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Suback<P: PacketId = u16> {
    /// The packet identifier of the SUBSCRIBE answered [MQTT-3.8.4-2].
    #[builder(setter(into = false))]
    packet_id: P,
    /// One return code per subscription, in order; at least one.
    /// `return_code(...)` adds one at a time.
    #[builder(default, setter(each(name = "return_code")))]
    return_codes: Vec<SubackReturnCode>,
}

impl<P: PacketId> SubackBuilder<P> {
    fn validate(&self) -> Result<(), BuildError> {
        if self.packet_id.is_some_and(|id| id.to_u32() == 0) {
            return Err(BuildError::Forbidden(
                "a packet identifier is never 0 [MQTT-2.3.1-1]",
            ));
        }
        if self.return_codes.as_ref().is_none_or(Vec::is_empty) {
            return Err(BuildError::Forbidden(
                "a SUBACK holds a return code for each subscription, so at least one [MQTT-3.8.4-5]",
            ));
        }
        Ok(())
    }
}

impl<P: PacketId> Suback<P> {
    /// A builder; `packet_id` and at least one return code are required.
    pub fn builder() -> SubackBuilder<P> {
        SubackBuilder::default()
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> P {
        self.packet_id
    }
    /// The return codes, in the order of the SUBSCRIBE's subscriptions.
    pub fn return_codes(&self) -> &[SubackReturnCode] {
        &self.return_codes
    }

    /// The packet of a checked view.
    pub(crate) fn from_view(view: &SubackView<'_, P>) -> Self {
        Suback {
            packet_id: view.packet_id,
            return_codes: view.return_codes().collect(),
        }
    }
}

/// A SUBACK read in place (see [`PacketView`](super::PacketView)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubackView<'a, P: PacketId = u16> {
    packet_id: P,
    /// Checked return codes.
    codes: &'a [u8],
}

impl<'a, P: PacketId> SubackView<'a, P> {
    /// Reads and checks the body.
    pub(crate) fn parse(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let codes = r.rest();
        for &code in codes {
            // [MQTT-3.9.3-2]
            SubackReturnCode::from_u8(code)?;
        }
        if codes.is_empty() {
            // [MQTT-3.8.4-5]: one per subscription, and a SUBSCRIBE has at
            // least one [MQTT-3.8.3-3].
            return Err(DecodeError::EmptyPayload(PacketType::Suback));
        }
        Ok(SubackView { packet_id, codes })
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> P {
        self.packet_id
    }
    /// The return codes, in the order of the SUBSCRIBE's subscriptions.
    pub fn return_codes(&self) -> impl Iterator<Item = SubackReturnCode> + 'a {
        self.codes
            .iter()
            .filter_map(|&code| SubackReturnCode::from_u8(code).ok())
    }
    /// The owned packet.
    pub fn to_owned(&self) -> Suback<P> {
        Suback::from_view(self)
    }
}

impl<P: PacketId> Body for Suback<P> {
    #[inline]
    fn first_byte(&self) -> u8 {
        (PacketType::Suback as u8) << 4
    }
    #[inline]
    fn body_len(&self) -> usize {
        P::WIRE_LEN + self.return_codes.len()
    }
    #[inline]
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        put_packet_id(buf, self.packet_id);
        for code in &self.return_codes {
            buf.put_u8(code.as_u8());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v3_1_1::test_util::{decode, encode};
    use crate::v3_1_1::Packet;

    /// Every allowed return code (§3.9.3), packet identifier 10.
    const ALL_CODES: &[u8] = &[0x90, 0x06, 0x00, 0x0A, 0x00, 0x01, 0x02, 0x80];

    #[test]
    fn encodes_and_decodes_exact_bytes() {
        let suback = Suback::<u16>::builder()
            .packet_id(10)
            .return_codes(alloc::vec![
                SubackReturnCode::Success(QoS::AtMostOnce),
                SubackReturnCode::Success(QoS::AtLeastOnce),
                SubackReturnCode::Success(QoS::ExactlyOnce),
                SubackReturnCode::Failure,
            ])
            .build()
            .unwrap();
        assert_eq!(encode(&suback), ALL_CODES);
        assert_eq!(decode::<u16>(ALL_CODES), Ok(Packet::Suback(suback.clone())));
        assert_eq!(suback.packet_id(), 10);
        assert_eq!(
            suback.return_codes()[2].granted_qos(),
            Some(QoS::ExactlyOnce)
        );
        assert!(!suback.return_codes()[3].is_success());
    }

    #[test]
    fn u32_packet_ids_take_four_bytes() {
        let bytes = [0x90, 0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        let suback = Suback::<u32>::builder()
            .packet_id(u32::MAX)
            .return_code(SubackReturnCode::Success(QoS::AtLeastOnce))
            .build()
            .unwrap();
        assert_eq!(encode(&suback), bytes);
        assert_eq!(decode::<u32>(&bytes), Ok(Packet::Suback(suback)));
    }

    /// [MQTT-3.9.3-2] return codes other than 0x00, 0x01, 0x02 and 0x80.
    #[test]
    fn reserved_return_codes_are_refused() {
        for code in [0x03u8, 0x7F, 0x81, 0xFF] {
            assert_eq!(
                decode::<u16>(&[0x90, 0x04, 0x00, 0x0A, 0x00, code]),
                Err(DecodeError::InvalidReasonCode {
                    packet_type: PacketType::Suback,
                    code,
                })
            );
        }
    }

    /// A SUBACK without return codes is refused: it answers a SUBSCRIBE,
    /// which has at least one subscription (§3.8.3), with one code per
    /// subscription (§3.8.4; which codes the Server sends is checked by the
    /// example broker's tests).
    #[test]
    fn empty_payload_is_refused() {
        assert_eq!(
            decode::<u16>(&[0x90, 0x02, 0x00, 0x0A]),
            Err(DecodeError::EmptyPayload(PacketType::Suback))
        );
        assert!(matches!(
            Suback::<u16>::builder().packet_id(1).build(),
            Err(BuildError::Forbidden(_))
        ));
    }

    /// [MQTT-2.3.1-7] the identifier is the SUBSCRIBE's, so never 0.
    #[test]
    fn zero_packet_id_is_refused() {
        assert_eq!(
            decode::<u16>(&[0x90, 0x03, 0x00, 0x00, 0x00]),
            Err(DecodeError::ZeroPacketId)
        );
    }

    /// [MQTT-2.2.2-1], [MQTT-2.2.2-2] reserved fixed header flags are refused.
    #[test]
    fn reserved_fixed_header_flags_are_refused() {
        assert_eq!(
            decode::<u16>(&[0x92, 0x03, 0x00, 0x0A, 0x00]),
            Err(DecodeError::InvalidFixedHeaderFlags {
                packet_type: PacketType::Suback,
                flags: 0x02,
            })
        );
    }
}
