//! CONNACK (v5.0 §3.2).

use bytes::{BufMut, Bytes};
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::properties::{ConnackProperties, ConnackPropertiesView};
use crate::source::Source;
use crate::v5_0::ConnectReasonCode;
use crate::wire::{PacketType, Reader};
use crate::{BuildError, DecodeError};

/// Bit 0 of the Connect Acknowledge Flags; bits 7-1 are reserved (§3.2.2.1).
const SESSION_PRESENT: u8 = 0b0000_0001;

/// The Server's answer to a CONNECT (§3.2).
///
/// ```
/// use mqtt_codec::Encode;
/// use mqtt_codec::v5_0::{Connack, ConnackProperties, ConnectReasonCode};
/// let connack = Connack::builder()
///     .session_present(true)
///     .properties(ConnackProperties { topic_alias_maximum: Some(10), ..Default::default() })
///     .build()?;
/// assert_eq!(connack.reason_code(), ConnectReasonCode::Success);
/// let mut buf = Vec::new();
/// connack.encode(&mut buf)?;
/// assert_eq!(buf, [0x20, 0x06, 0x01, 0x00, 0x03, 0x22, 0x00, 0x0A]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Connack {
    /// Session Present (§3.2.2.1.1): the Server resumes a Session; only
    /// with Success [MQTT-3.2.2-6].
    #[builder(default)]
    session_present: bool,
    /// The Connect Reason Code (§3.2.2.2); Success unless set.
    #[builder(default = "ConnectReasonCode::Success")]
    reason_code: ConnectReasonCode,
    /// The CONNACK Properties (§3.2.2.3).
    #[builder(default)]
    properties: ConnackProperties,
}

impl ConnackBuilder {
    fn validate(&self) -> Result<(), BuildError> {
        let failure = self.reason_code.is_some_and(ConnectReasonCode::is_failure);
        if failure && self.session_present == Some(true) {
            return Err(BuildError::Forbidden(
                "Session Present must be 0 with a failure Reason Code [MQTT-3.2.2-6]",
            ));
        }
        // Maximum QoS 2, Authentication Data without Method.
        if let Some(properties) = &self.properties {
            properties.validate()?;
        }
        Ok(())
    }
}

impl Connack {
    /// A builder; every field has a default (a Success without properties).
    pub fn builder() -> ConnackBuilder {
        ConnackBuilder::default()
    }

    /// Whether the Server resumes a Session.
    pub fn session_present(&self) -> bool {
        self.session_present
    }
    /// The Connect Reason Code.
    pub fn reason_code(&self) -> ConnectReasonCode {
        self.reason_code
    }
    /// The CONNACK Properties.
    pub fn properties(&self) -> &ConnackProperties {
        &self.properties
    }

    /// The packet of a checked view whose slices lie in `src`.
    pub(crate) fn from_view(view: &ConnackView<'_>, src: Source<'_>) -> Self {
        Connack {
            session_present: view.session_present,
            reason_code: view.reason_code,
            properties: ConnackProperties::from_view(view.properties, src),
        }
    }
}

/// A CONNACK read in place (see [`PacketView`](super::PacketView)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnackView<'a> {
    session_present: bool,
    reason_code: ConnectReasonCode,
    properties: ConnackPropertiesView<'a>,
}

impl<'a> ConnackView<'a> {
    /// Reads and checks the body.
    pub(crate) fn parse(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let flags = r.u8()?;
        // [MQTT-3.2.2-1]
        if flags & !SESSION_PRESENT != 0 {
            return Err(DecodeError::InvalidConnackFlags(flags));
        }
        let reason_code = ConnectReasonCode::from_u8(r.u8()?)?;
        let session_present = flags & SESSION_PRESENT != 0;
        // [MQTT-3.2.2-6]
        if session_present && reason_code.is_failure() {
            return Err(DecodeError::InvalidConnackFlags(flags));
        }
        Ok(ConnackView {
            session_present,
            reason_code,
            properties: ConnackPropertiesView::parse(r)?,
        })
    }

    /// Session Present (§3.2.2.1.1).
    pub fn session_present(&self) -> bool {
        self.session_present
    }
    /// The Connect Reason Code.
    pub fn reason_code(&self) -> ConnectReasonCode {
        self.reason_code
    }
    /// The CONNACK Properties.
    pub fn properties(&self) -> ConnackPropertiesView<'a> {
        self.properties
    }
    /// The owned packet, sharing `source` when the view was parsed from it
    /// (copying otherwise).
    pub fn to_owned(&self, source: &Bytes) -> Connack {
        Connack::from_view(self, Source(source))
    }
}

impl Body for Connack {
    #[inline]
    fn first_byte(&self) -> u8 {
        (PacketType::Connack as u8) << 4
    }
    #[inline]
    fn body_len(&self) -> usize {
        2 + self.properties.encoded_len()
    }
    #[inline]
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(u8::from(self.session_present));
        buf.put_u8(self.reason_code.as_u8());
        self.properties.encode(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v5_0::test_util::{decode, round_trip};
    use crate::{BinaryData, MqttString, QoS};
    use core::num::NonZeroU16;

    #[test]
    fn success_without_properties() {
        round_trip::<u16>(
            Connack::builder().build().unwrap(),
            &[0x20, 0x03, 0x00, 0x00, 0x00],
        );
    }

    #[test]
    fn session_present_with_properties() {
        let connack = Connack::builder()
            .session_present(true)
            .properties(ConnackProperties {
                receive_maximum: NonZeroU16::new(20),
                assigned_client_identifier: Some(MqttString::try_from("id").unwrap()),
                ..Default::default()
            })
            .build()
            .unwrap();
        // Assigned Client Identifier (0x12) before Receive Maximum (0x21).
        round_trip::<u16>(
            connack,
            &[
                0x20, 0x0B, 0x01, 0x00, 0x08, 0x12, 0x00, 0x02, b'i', b'd', 0x21, 0x00, 0x14,
            ],
        );
    }

    #[test]
    fn failure() {
        let connack = Connack::builder()
            .reason_code(ConnectReasonCode::NotAuthorized)
            .build()
            .unwrap();
        round_trip::<u16>(connack, &[0x20, 0x03, 0x00, 0x87, 0x00]);
    }

    /// [MQTT-3.2.2-1] reserved bits of the Connect Acknowledge Flags.
    #[test]
    fn reserved_flags() {
        assert_eq!(
            decode::<u16>(&[0x20, 0x03, 0x02, 0x00, 0x00]),
            Err(DecodeError::InvalidConnackFlags(0x02))
        );
        assert_eq!(
            decode::<u16>(&[0x20, 0x03, 0x81, 0x00, 0x00]),
            Err(DecodeError::InvalidConnackFlags(0x81))
        );
    }

    /// [MQTT-3.2.2-6] Session Present with a failure code.
    #[test]
    fn session_present_with_failure() {
        assert_eq!(
            decode::<u16>(&[0x20, 0x03, 0x01, 0x80, 0x00]),
            Err(DecodeError::InvalidConnackFlags(0x01))
        );
        assert!(matches!(
            Connack::builder()
                .session_present(true)
                .reason_code(ConnectReasonCode::ServerBusy)
                .build(),
            Err(BuildError::Forbidden(_))
        ));
    }

    /// [MQTT-3.2.2-8] a code not in the Connect Reason Code table.
    #[test]
    fn undefined_reason_code() {
        assert!(matches!(
            decode::<u16>(&[0x20, 0x03, 0x00, 0x01, 0x00]),
            Err(DecodeError::InvalidReasonCode { code: 0x01, .. })
        ));
    }

    /// [MQTT-2.2.2-1] the Property Length is required, even when 0.
    #[test]
    fn property_length_required() {
        assert_eq!(
            decode::<u16>(&[0x20, 0x02, 0x00, 0x00]),
            Err(DecodeError::UnexpectedEnd)
        );
    }

    /// §3.2.2.3.4: Maximum QoS 2 is a Protocol Error.
    #[test]
    fn maximum_qos_2() {
        assert_eq!(
            decode::<u16>(&[0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02]),
            Err(DecodeError::InvalidPropertyValue(0x24))
        );
        assert!(matches!(
            Connack::builder()
                .properties(ConnackProperties {
                    maximum_qos: Some(QoS::ExactlyOnce),
                    ..Default::default()
                })
                .build(),
            Err(BuildError::Forbidden(_))
        ));
    }

    /// §3.2.2.3.18: Authentication Data without Authentication Method.
    #[test]
    fn auth_data_without_method() {
        assert_eq!(
            decode::<u16>(&[0x20, 0x06, 0x00, 0x00, 0x03, 0x16, 0x00, 0x00]),
            Err(DecodeError::AuthenticationDataWithoutMethod)
        );
        assert!(matches!(
            Connack::builder()
                .properties(ConnackProperties {
                    authentication_data: Some(BinaryData::new()),
                    ..Default::default()
                })
                .build(),
            Err(BuildError::Forbidden(_))
        ));
    }
}
