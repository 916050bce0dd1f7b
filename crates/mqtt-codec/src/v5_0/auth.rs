//! AUTH (v5.0 §3.15).

use bytes::{BufMut, Bytes};
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::properties::{AuthProperties, AuthPropertiesView};
use crate::source::Source;
use crate::v5_0::AuthReasonCode;
use crate::wire::{PacketType, Reader};
use crate::{BuildError, DecodeError};

/// The Property Identifier of Authentication Method (§3.15.2.2.2).
const AUTHENTICATION_METHOD: u8 = 0x15;

/// A step of enhanced authentication (§3.15, §4.12).
///
/// Encoded in the shortest form: Remaining Length 0 for Success without
/// properties (§3.15.2.1). Any other AUTH carries the Authentication Method
/// (§3.15.2.2.2).
///
/// ```
/// use mqtt_codec::{BinaryData, Encode};
/// use mqtt_codec::v5_0::{Auth, AuthProperties, AuthReasonCode};
/// let auth = Auth::builder()
///     .reason_code(AuthReasonCode::ContinueAuthentication)
///     .properties(AuthProperties {
///         authentication_method: Some("SCRAM-SHA-1".try_into()?),
///         authentication_data: Some(BinaryData::try_from(&b"client-first"[..])?),
///         ..Default::default()
///     })
///     .build()?;
/// let mut buf = Vec::new();
/// auth.encode(&mut buf)?;
/// assert_eq!(buf[..3], [0xF0, 0x1F, 0x18]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Auth {
    /// The Authenticate Reason Code (§3.15.2.1); Success unless set.
    #[builder(default = "AuthReasonCode::Success")]
    reason_code: AuthReasonCode,
    /// The AUTH Properties (§3.15.2.2).
    #[builder(default)]
    properties: AuthProperties,
}

impl AuthBuilder {
    fn validate(&self) -> Result<(), BuildError> {
        let reason_code = self.reason_code.unwrap_or(AuthReasonCode::Success);
        let properties = self.properties.clone().unwrap_or_default();
        properties.validate()?;
        let shortest = reason_code == AuthReasonCode::Success && properties.is_empty();
        if !shortest && properties.authentication_method.is_none() {
            return Err(BuildError::Forbidden(
                "an AUTH with a Reason Code or properties carries the Authentication Method (§3.15.2.2.2)",
            ));
        }
        Ok(())
    }
}

impl Default for Auth {
    /// Success without properties.
    fn default() -> Self {
        Auth {
            reason_code: AuthReasonCode::Success,
            properties: AuthProperties::default(),
        }
    }
}

impl Auth {
    /// A builder; every field has a default, but anything other than a bare
    /// Success needs `properties` with an Authentication Method.
    pub fn builder() -> AuthBuilder {
        AuthBuilder::default()
    }

    /// The Authenticate Reason Code.
    pub fn reason_code(&self) -> AuthReasonCode {
        self.reason_code
    }
    /// The AUTH Properties.
    pub fn properties(&self) -> &AuthProperties {
        &self.properties
    }

    /// The packet of a checked view whose slices lie in `src`.
    pub(crate) fn from_view(view: &AuthView<'_>, src: Source<'_>) -> Self {
        Auth {
            reason_code: view.reason_code,
            properties: AuthProperties::from_view(view.properties, src),
        }
    }
}

/// An AUTH read in place (see [`PacketView`](super::PacketView)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthView<'a> {
    reason_code: AuthReasonCode,
    properties: AuthPropertiesView<'a>,
}

impl<'a> AuthView<'a> {
    /// Reads and checks the body.
    pub(crate) fn parse(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        // Remaining Length 0: Success without properties (§3.15.2.1).
        if r.remaining() == 0 {
            return Ok(AuthView {
                reason_code: AuthReasonCode::Success,
                properties: AuthPropertiesView::default(),
            });
        }
        // [MQTT-3.15.2-1]
        let reason_code = AuthReasonCode::from_u8(r.u8()?)?;
        // Only the Reason Code and Property Length together may be left out.
        let properties = AuthPropertiesView::parse(r)?;
        // §3.15.2.2.2: omitting the Authentication Method is a Protocol Error.
        if properties.authentication_method().is_none() {
            return Err(DecodeError::MissingProperty(AUTHENTICATION_METHOD));
        }
        Ok(AuthView {
            reason_code,
            properties,
        })
    }

    /// The Authenticate Reason Code.
    pub fn reason_code(&self) -> AuthReasonCode {
        self.reason_code
    }
    /// The AUTH Properties.
    pub fn properties(&self) -> AuthPropertiesView<'a> {
        self.properties
    }
    /// The owned packet, sharing `source` when the view was parsed from it
    /// (copying otherwise).
    pub fn to_owned(&self, source: &Bytes) -> Auth {
        Auth::from_view(self, Source(source))
    }
}

impl Body for Auth {
    #[inline]
    fn first_byte(&self) -> u8 {
        (PacketType::Auth as u8) << 4
    }
    fn body_len(&self) -> usize {
        if self.reason_code == AuthReasonCode::Success && self.properties.is_empty() {
            0
        } else {
            1 + self.properties.encoded_len()
        }
    }
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        if self.body_len() > 0 {
            buf.put_u8(self.reason_code.as_u8());
            self.properties.encode(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v5_0::test_util::{decode, round_trip};
    use crate::{BinaryData, MqttString};

    fn method(s: &str) -> Option<MqttString> {
        Some(MqttString::try_from(s).unwrap())
    }

    /// §3.15.2.1: Remaining Length 0 is Success without properties.
    #[test]
    fn shortest_form() {
        round_trip::<u16>(Auth::default(), &[0xF0, 0x00]);
    }

    #[test]
    fn continue_authentication() {
        let auth = Auth::builder()
            .reason_code(AuthReasonCode::ContinueAuthentication)
            .properties(AuthProperties {
                authentication_method: method("abc"),
                authentication_data: Some(BinaryData::try_from(&[1u8, 2][..]).unwrap()),
                ..Default::default()
            })
            .build()
            .unwrap();
        round_trip::<u16>(
            auth,
            &[
                0xF0, 0x0D, 0x18, 0x0B, // Continue authentication, Property Length 11
                0x15, 0x00, 0x03, b'a', b'b', b'c', // Authentication Method
                0x16, 0x00, 0x02, 0x01, 0x02, // Authentication Data
            ],
        );
    }

    /// A Success with an Authentication Method is not the shortest form.
    #[test]
    fn success_with_method() {
        let auth = Auth::builder()
            .properties(AuthProperties {
                authentication_method: method("m"),
                ..Default::default()
            })
            .build()
            .unwrap();
        round_trip::<u16>(auth, &[0xF0, 0x06, 0x00, 0x04, 0x15, 0x00, 0x01, b'm']);
    }

    /// [MQTT-3.15.2-1] a code not in the AUTH table.
    #[test]
    fn undefined_reason_code() {
        assert!(matches!(
            decode::<u16>(&[0xF0, 0x02, 0x01, 0x00]),
            Err(DecodeError::InvalidReasonCode { code: 0x01, .. })
        ));
    }

    /// §3.15.2.2.2: an AUTH with properties but no Authentication Method.
    #[test]
    fn missing_method() {
        let err = decode::<u16>(&[0xF0, 0x02, 0x18, 0x00]).unwrap_err();
        assert_eq!(err, DecodeError::MissingProperty(0x15));
        assert_eq!(err.reason_code(), 0x82);
        assert!(matches!(
            Auth::builder()
                .reason_code(AuthReasonCode::ReAuthenticate)
                .build(),
            Err(BuildError::Forbidden(_))
        ));
    }

    /// §3.15.2.2.3: Authentication Data without a Method.
    #[test]
    fn data_without_method() {
        assert_eq!(
            decode::<u16>(&[0xF0, 0x05, 0x18, 0x03, 0x16, 0x00, 0x00]),
            Err(DecodeError::AuthenticationDataWithoutMethod)
        );
    }

    /// §3.15.2.1: only the Reason Code and Property Length together may be
    /// left out; a Reason Code alone lacks the Property Length.
    #[test]
    fn reason_code_without_property_length() {
        assert_eq!(
            decode::<u16>(&[0xF0, 0x01, 0x18]),
            Err(DecodeError::UnexpectedEnd)
        );
    }

    /// [MQTT-3.15.1-1] reserved flag bits.
    #[test]
    fn reserved_flags() {
        assert!(matches!(
            decode::<u16>(&[0xF2, 0x00]),
            Err(DecodeError::InvalidFixedHeaderFlags { .. })
        ));
    }
}
