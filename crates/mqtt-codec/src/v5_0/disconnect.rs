//! DISCONNECT (v5.0 §3.14).

use bytes::{BufMut, Bytes};
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::properties::{DisconnectProperties, DisconnectPropertiesView};
use crate::source::Source;
use crate::v5_0::DisconnectReasonCode;
use crate::wire::{PacketType, Reader};
use crate::{BuildError, DecodeError};

/// The last packet either side sends, with the reason the Network
/// Connection closes (§3.14).
///
/// Encoded in the shortest form: Remaining Length 0 for a Normal
/// disconnection without properties, 1 for a Reason Code without
/// properties (§3.14.2.1, §3.14.2.2.1).
///
/// Whether a Session Expiry Interval may be sent depends on who sends it
/// [MQTT-3.14.2-2] and on the CONNECT (§3.14.2.2.2): the connection checks
/// that, not this type.
///
/// ```
/// use mqtt_codec::Encode;
/// use mqtt_codec::v5_0::{Disconnect, DisconnectReasonCode};
/// let mut buf = Vec::new();
/// Disconnect::default().encode(&mut buf)?;
/// assert_eq!(buf, [0xE0, 0x00]);
/// buf.clear();
/// Disconnect::new(DisconnectReasonCode::DisconnectWithWillMessage).encode(&mut buf)?;
/// assert_eq!(buf, [0xE0, 0x01, 0x04]);
/// # Ok::<(), mqtt_codec::EncodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Disconnect {
    /// The Disconnect Reason Code (§3.14.2.1); Normal disconnection unless set.
    #[builder(default = "DisconnectReasonCode::NormalDisconnection")]
    reason_code: DisconnectReasonCode,
    /// The DISCONNECT Properties (§3.14.2.2).
    #[builder(default)]
    properties: DisconnectProperties,
}

impl DisconnectBuilder {
    fn validate(&self) -> Result<(), BuildError> {
        if let Some(properties) = &self.properties {
            properties.validate()?;
        }
        Ok(())
    }
}

impl Default for Disconnect {
    /// A Normal disconnection without properties.
    fn default() -> Self {
        Disconnect::new(DisconnectReasonCode::NormalDisconnection)
    }
}

impl Disconnect {
    /// A builder; every field has a default.
    pub fn builder() -> DisconnectBuilder {
        DisconnectBuilder::default()
    }

    /// A DISCONNECT with `reason_code` and no properties.
    pub fn new(reason_code: DisconnectReasonCode) -> Self {
        Disconnect {
            reason_code,
            properties: DisconnectProperties::default(),
        }
    }

    /// The Disconnect Reason Code.
    pub fn reason_code(&self) -> DisconnectReasonCode {
        self.reason_code
    }
    /// The DISCONNECT Properties.
    pub fn properties(&self) -> &DisconnectProperties {
        &self.properties
    }

    /// The packet of a checked view whose slices lie in `src`.
    pub(crate) fn from_view(view: &DisconnectView<'_>, src: Source<'_>) -> Self {
        Disconnect {
            reason_code: view.reason_code,
            properties: DisconnectProperties::from_view(view.properties, src),
        }
    }
}

/// A DISCONNECT read in place (see [`PacketView`](super::PacketView)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisconnectView<'a> {
    reason_code: DisconnectReasonCode,
    properties: DisconnectPropertiesView<'a>,
}

impl<'a> DisconnectView<'a> {
    /// Reads and checks the body.
    pub(crate) fn parse(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        // Remaining Length 0: Normal disconnection (§3.14.2.1).
        if r.remaining() == 0 {
            return Ok(DisconnectView {
                reason_code: DisconnectReasonCode::NormalDisconnection,
                properties: DisconnectPropertiesView::default(),
            });
        }
        // [MQTT-3.14.2-1]
        let reason_code = DisconnectReasonCode::from_u8(r.u8()?)?;
        // Remaining Length 1: no Property Length (§3.14.2.2.1).
        let properties = if r.remaining() == 0 {
            DisconnectPropertiesView::default()
        } else {
            DisconnectPropertiesView::parse(r)?
        };
        Ok(DisconnectView {
            reason_code,
            properties,
        })
    }

    /// The Disconnect Reason Code.
    pub fn reason_code(&self) -> DisconnectReasonCode {
        self.reason_code
    }
    /// The DISCONNECT Properties.
    pub fn properties(&self) -> DisconnectPropertiesView<'a> {
        self.properties
    }
    /// The owned packet, sharing `source` when the view was parsed from it
    /// (copying otherwise).
    pub fn to_owned(&self, source: &Bytes) -> Disconnect {
        Disconnect::from_view(self, Source(source))
    }
}

impl Body for Disconnect {
    #[inline]
    fn first_byte(&self) -> u8 {
        (PacketType::Disconnect as u8) << 4
    }
    fn body_len(&self) -> usize {
        if !self.properties.is_empty() {
            1 + self.properties.encoded_len()
        } else if self.reason_code == DisconnectReasonCode::NormalDisconnection {
            0
        } else {
            1
        }
    }
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        let len = self.body_len();
        if len > 0 {
            buf.put_u8(self.reason_code.as_u8());
        }
        if len > 1 {
            self.properties.encode(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v5_0::test_util::{decode, encode, round_trip};
    use crate::v5_0::Packet;
    use crate::MqttString;

    /// §3.14.2.1: Remaining Length 0 is a Normal disconnection.
    #[test]
    fn shortest_form() {
        round_trip::<u16>(Disconnect::default(), &[0xE0, 0x00]);
    }

    /// §3.14.2.2.1: a Reason Code alone, Remaining Length 1.
    #[test]
    fn reason_code_only() {
        round_trip::<u16>(
            Disconnect::new(DisconnectReasonCode::DisconnectWithWillMessage),
            &[0xE0, 0x01, 0x04],
        );
    }

    #[test]
    fn reason_code_and_properties() {
        let disconnect = Disconnect::builder()
            .reason_code(DisconnectReasonCode::ServerShuttingDown)
            .properties(DisconnectProperties {
                reason_string: Some(MqttString::try_from("bye").unwrap()),
                ..Default::default()
            })
            .build()
            .unwrap();
        round_trip::<u16>(
            disconnect,
            &[0xE0, 0x08, 0x8B, 0x06, 0x1F, 0x00, 0x03, b'b', b'y', b'e'],
        );
    }

    /// Longer forms of a Normal disconnection decode; the encoder then
    /// uses the shortest.
    #[test]
    fn longer_forms_decode() {
        let normal = Packet::<u16>::Disconnect(alloc::boxed::Box::default());
        assert_eq!(decode::<u16>(&[0xE0, 0x01, 0x00]), Ok(normal.clone()));
        assert_eq!(decode::<u16>(&[0xE0, 0x02, 0x00, 0x00]), Ok(normal.clone()));
        assert_eq!(encode(&normal), [0xE0, 0x00]);
    }

    /// [MQTT-3.14.2-1] a code not in the DISCONNECT table.
    #[test]
    fn undefined_reason_code() {
        assert!(matches!(
            decode::<u16>(&[0xE0, 0x01, 0x01]),
            Err(DecodeError::InvalidReasonCode { code: 0x01, .. })
        ));
    }

    /// [MQTT-3.14.1-1] reserved flag bits.
    #[test]
    fn reserved_flags() {
        assert!(matches!(
            decode::<u16>(&[0xE1, 0x00]),
            Err(DecodeError::InvalidFixedHeaderFlags { .. })
        ));
    }

    /// A property DISCONNECT may not carry (Receive Maximum, 0x21).
    #[test]
    fn foreign_property() {
        assert!(matches!(
            decode::<u16>(&[0xE0, 0x05, 0x00, 0x03, 0x21, 0x00, 0x01]),
            Err(DecodeError::PropertyNotAllowed { id: 0x21, .. })
        ));
    }

    /// §3.14.2.2.3: Reason String twice is a Protocol Error.
    #[test]
    fn duplicate_property() {
        assert_eq!(
            decode::<u16>(&[0xE0, 0x08, 0x00, 0x06, 0x1F, 0x00, 0x00, 0x1F, 0x00, 0x00]),
            Err(DecodeError::DuplicateProperty(0x1F))
        );
    }
}
