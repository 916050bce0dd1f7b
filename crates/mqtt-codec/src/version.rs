//! Protocol versions.

/// The MQTT version of a connection, as the CONNECT Protocol Level names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ProtocolVersion {
    /// MQTT v3.1.1 (Protocol Level 4).
    V3_1_1 = 4,
    /// MQTT v5.0 (Protocol Level 5).
    V5_0 = 5,
}

impl ProtocolVersion {
    /// The version with this Protocol Level, if the codec speaks it.
    pub const fn from_level(level: u8) -> Option<Self> {
        match level {
            4 => Some(ProtocolVersion::V3_1_1),
            5 => Some(ProtocolVersion::V5_0),
            _ => None,
        }
    }

    /// The Protocol Level byte of CONNECT.
    pub const fn level(self) -> u8 {
        self as u8
    }
}
