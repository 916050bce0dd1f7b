//! Quality of Service levels (§4.3).

/// The delivery guarantee of a PUBLISH.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum QoS {
    /// QoS 0: at most once, no acknowledgement.
    #[default]
    AtMostOnce = 0,
    /// QoS 1: at least once, acknowledged by PUBACK.
    AtLeastOnce = 1,
    /// QoS 2: exactly once, through PUBREC, PUBREL and PUBCOMP.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS of the two low bits of `value`; errs on 3 [MQTT-3.3.1-4].
    #[inline]
    pub const fn from_u8(value: u8) -> Result<Self, crate::DecodeError> {
        match value {
            0 => Ok(QoS::AtMostOnce),
            1 => Ok(QoS::AtLeastOnce),
            2 => Ok(QoS::ExactlyOnce),
            _ => Err(crate::DecodeError::InvalidQos),
        }
    }
}

impl TryFrom<u8> for QoS {
    type Error = crate::DecodeError;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        QoS::from_u8(value)
    }
}
