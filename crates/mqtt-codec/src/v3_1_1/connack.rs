//! CONNACK (v3.1.1 §3.2).

use bytes::BufMut;
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::wire::{PacketType, Reader};
use crate::{BuildError, DecodeError};

/// The Connect Return code of a CONNACK (§3.2.2.3, Table 3.1). Values 6 to
/// 255 are reserved and refused when decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum ConnectReturnCode {
    /// 0x00 Connection accepted.
    #[default]
    Accepted = 0,
    /// 0x01 The server does not support the requested protocol level
    /// [MQTT-3.1.2-2].
    UnacceptableProtocolVersion = 1,
    /// 0x02 The client identifier is well-formed UTF-8 but not allowed
    /// [MQTT-3.1.3-8], [MQTT-3.1.3-9].
    IdentifierRejected = 2,
    /// 0x03 The network connection is up but the MQTT service is not.
    ServerUnavailable = 3,
    /// 0x04 The user name or password is malformed.
    BadUserNameOrPassword = 4,
    /// 0x05 The client is not authorized to connect.
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    /// The return code `value`; errs with [`DecodeError::InvalidReasonCode`]
    /// on the reserved values 6 to 255.
    #[inline]
    pub const fn from_u8(value: u8) -> Result<Self, DecodeError> {
        Ok(match value {
            0 => ConnectReturnCode::Accepted,
            1 => ConnectReturnCode::UnacceptableProtocolVersion,
            2 => ConnectReturnCode::IdentifierRejected,
            3 => ConnectReturnCode::ServerUnavailable,
            4 => ConnectReturnCode::BadUserNameOrPassword,
            5 => ConnectReturnCode::NotAuthorized,
            code => {
                return Err(DecodeError::InvalidReasonCode {
                    packet_type: PacketType::Connack,
                    code,
                });
            }
        })
    }

    /// The byte on the wire.
    #[inline]
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// Whether the connection is accepted (code 0). On any other code the
    /// server closes the connection [MQTT-3.2.2-5].
    #[inline]
    pub const fn is_success(self) -> bool {
        matches!(self, ConnectReturnCode::Accepted)
    }
}

impl TryFrom<u8> for ConnectReturnCode {
    type Error = DecodeError;
    fn try_from(value: u8) -> Result<Self, DecodeError> {
        ConnectReturnCode::from_u8(value)
    }
}

impl From<ConnectReturnCode> for u8 {
    fn from(code: ConnectReturnCode) -> u8 {
        code.as_u8()
    }
}

/// The server's answer to a CONNECT.
///
/// ```
/// use mqtt_codec::{Encode, v3_1_1::{Connack, ConnectReturnCode}};
/// let connack = Connack::builder()
///     .session_present(true)
///     .return_code(ConnectReturnCode::Accepted)
///     .build()?;
/// let mut buf = Vec::new();
/// connack.encode(&mut buf)?;
/// assert_eq!(buf, [0x20, 0x02, 0x01, 0x00]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Connack {
    /// Session Present: the server resumes a stored session
    /// [MQTT-3.2.2-1] to [MQTT-3.2.2-3]; always 0 with a refusal
    /// [MQTT-3.2.2-4].
    #[builder(default)]
    session_present: bool,
    /// The Connect Return code; defaults to
    /// [`Accepted`](ConnectReturnCode::Accepted).
    #[builder(default)]
    return_code: ConnectReturnCode,
}

impl ConnackBuilder {
    fn validate(&self) -> Result<(), BuildError> {
        let refused = self.return_code.is_some_and(|c| !c.is_success());
        if refused && self.session_present == Some(true) {
            return Err(BuildError::Forbidden(
                "Session Present must be 0 with a non-zero return code [MQTT-3.2.2-4]",
            ));
        }
        Ok(())
    }
}

impl Connack {
    /// A builder; both fields have defaults (an accepted new session).
    pub fn builder() -> ConnackBuilder {
        ConnackBuilder::default()
    }

    /// Whether the server holds a session for this client (§3.2.2.2).
    pub fn session_present(&self) -> bool {
        self.session_present
    }
    /// The Connect Return code.
    pub fn return_code(&self) -> ConnectReturnCode {
        self.return_code
    }

    /// Reads and checks the body; a CONNACK holds no slices, so it is its
    /// own view.
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let flags = r.u8()?;
        if flags & 0xFE != 0 {
            // §3.2.2.1: bits 7-1 are reserved and 0.
            return Err(DecodeError::InvalidConnackFlags(flags));
        }
        let return_code = ConnectReturnCode::from_u8(r.u8()?)?;
        let session_present = flags & 1 != 0;
        if session_present && !return_code.is_success() {
            // [MQTT-3.2.2-4]
            return Err(DecodeError::InvalidConnackFlags(flags));
        }
        Ok(Connack {
            session_present,
            return_code,
        })
    }
}

impl Body for Connack {
    #[inline]
    fn first_byte(&self) -> u8 {
        (PacketType::Connack as u8) << 4
    }
    #[inline]
    fn body_len(&self) -> usize {
        2
    }
    #[inline]
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(u8::from(self.session_present));
        buf.put_u8(self.return_code.as_u8());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v3_1_1::test_util::{decode, encode};
    use crate::v3_1_1::Packet;

    #[test]
    fn encodes_and_decodes_exact_bytes() {
        let cases = [
            (false, ConnectReturnCode::Accepted, [0x20, 0x02, 0x00, 0x00]),
            (true, ConnectReturnCode::Accepted, [0x20, 0x02, 0x01, 0x00]),
            (
                false,
                ConnectReturnCode::NotAuthorized,
                [0x20, 0x02, 0x00, 0x05],
            ),
        ];
        for (session_present, return_code, bytes) in cases {
            let connack = Connack::builder()
                .session_present(session_present)
                .return_code(return_code)
                .build()
                .unwrap();
            assert_eq!(connack.session_present(), session_present);
            assert_eq!(connack.return_code(), return_code);
            assert_eq!(encode(&connack), bytes);
            assert_eq!(decode::<u16>(&bytes), Ok(Packet::Connack(connack)));
        }
    }

    #[test]
    fn return_codes_0_to_5() {
        for value in 0..=5u8 {
            let code = ConnectReturnCode::from_u8(value).unwrap();
            assert_eq!(code.as_u8(), value);
            assert_eq!(code.is_success(), value == 0);
        }
    }

    /// Table 3.1: return codes 6 to 255 are reserved.
    #[test]
    fn reserved_return_codes_are_refused() {
        for code in [6u8, 0x80, 0xFF] {
            assert_eq!(
                decode::<u16>(&[0x20, 0x02, 0x00, code]),
                Err(DecodeError::InvalidReasonCode {
                    packet_type: PacketType::Connack,
                    code,
                })
            );
        }
    }

    /// §3.2.2.1: bits 7-1 of the Connect Acknowledge Flags are reserved and 0.
    #[test]
    fn reserved_acknowledge_flags_are_refused() {
        for flags in [0x02u8, 0x80, 0xFF] {
            assert_eq!(
                decode::<u16>(&[0x20, 0x02, flags, 0x00]),
                Err(DecodeError::InvalidConnackFlags(flags))
            );
        }
    }

    /// [MQTT-3.2.2-4] Session Present is 0 when the return code is not 0.
    #[test]
    fn session_present_with_refusal_is_refused() {
        assert_eq!(
            decode::<u16>(&[0x20, 0x02, 0x01, 0x02]),
            Err(DecodeError::InvalidConnackFlags(0x01))
        );
        assert!(matches!(
            Connack::builder()
                .session_present(true)
                .return_code(ConnectReturnCode::IdentifierRejected)
                .build(),
            Err(BuildError::Forbidden(_))
        ));
    }

    #[test]
    fn short_and_long_bodies_are_refused() {
        assert_eq!(
            decode::<u16>(&[0x20, 0x01, 0x00]),
            Err(DecodeError::UnexpectedEnd)
        );
        assert_eq!(
            decode::<u16>(&[0x20, 0x03, 0x00, 0x00, 0x00]),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    /// [MQTT-2.2.2-1], [MQTT-2.2.2-2] reserved fixed header flags are refused.
    #[test]
    fn reserved_fixed_header_flags_are_refused() {
        assert_eq!(
            decode::<u16>(&[0x28, 0x02, 0x00, 0x00]),
            Err(DecodeError::InvalidFixedHeaderFlags {
                packet_type: PacketType::Connack,
                flags: 0x08,
            })
        );
    }
}
