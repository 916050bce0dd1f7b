//! Errors of the codec: what decoding, encoding and building can refuse.

use crate::wire::PacketType;

/// Why a received byte stream is not a valid MQTT control packet.
///
/// The stream cannot be trusted after any of these: the caller closes the
/// network connection, on v5.0 after sending a CONNACK or DISCONNECT with
/// [`reason_code`](Self::reason_code) (MQTT v5.0 §4.13).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The packet is larger than the configured maximum packet size
    /// (0x95 Packet too large).
    #[error("packet of {size} bytes exceeds the maximum packet size of {max}")]
    PacketTooLarge {
        /// The size of the whole packet, as its fixed header announces it.
        size: u64,
        /// The configured maximum.
        max: u32,
    },
    /// A Variable Byte Integer is longer than four bytes or not in its
    /// shortest form (0x81 Malformed Packet).
    #[error("malformed variable byte integer")]
    MalformedVariableByteInteger,
    /// Packet type 0, or 15 (AUTH) on v3.1.1 (0x81).
    #[error("invalid control packet type {0}")]
    InvalidPacketType(u8),
    /// The reserved flag bits of the fixed header are not the ones the spec
    /// fixes for this packet type (0x81).
    #[error("invalid fixed header flags {flags:#06b} for {packet_type:?}")]
    InvalidFixedHeaderFlags {
        /// The packet type.
        packet_type: PacketType,
        /// The four flag bits received.
        flags: u8,
    },
    /// A QoS of 3 (0x81).
    #[error("invalid QoS 3")]
    InvalidQos,
    /// A field runs past the end of the packet (0x81).
    #[error("packet ends in the middle of a field")]
    UnexpectedEnd,
    /// Bytes are left over after the last field of the packet (0x81).
    #[error("{0} bytes left over after the end of the packet")]
    TrailingBytes(usize),
    /// A UTF-8 Encoded String is not well-formed UTF-8 (0x81).
    #[error("ill-formed UTF-8 string")]
    InvalidUtf8,
    /// A UTF-8 Encoded String contains U+0000 (0x81).
    #[error("UTF-8 string contains the null character U+0000")]
    NullCharacter,
    /// A Topic Name is not valid: a wildcard in it, or empty where it may not be (0x90 Topic Name invalid).
    #[error("invalid topic name: {0}")]
    InvalidTopicName(crate::topic::TopicError),
    /// A Topic Filter is not valid: empty, or a wildcard out of place (0x8F Topic Filter invalid).
    #[error("invalid topic filter: {0}")]
    InvalidTopicFilter(crate::topic::TopicError),
    /// A packet identifier of 0 where a non-zero one is required (0x82 Protocol Error).
    #[error("packet identifier 0")]
    ZeroPacketId,
    /// The CONNECT Protocol Name is not "MQTT" (0x84 Unsupported Protocol Version).
    #[error("invalid protocol name")]
    InvalidProtocolName,
    /// The CONNECT Protocol Level is not one this codec speaks (0x84).
    #[error("unsupported protocol level {0}")]
    UnsupportedProtocolLevel(u8),
    /// The connect flags break a rule of §3.1.2: the reserved bit, or Will
    /// QoS / Will Retain without the Will Flag, or a password without a user
    /// name on v3.1.1 (0x81).
    #[error("invalid connect flags {0:#010b}")]
    InvalidConnectFlags(u8),
    /// The CONNACK Connect Acknowledge Flags break a rule of §3.2.2.1: a
    /// reserved bit set, or Session Present with a failure code (0x81).
    #[error("invalid connect acknowledge flags {0:#010b}")]
    InvalidConnackFlags(u8),
    /// A reason code or return code that is not defined for this packet (0x81).
    #[error("reason code {code:#04x} is not defined for {packet_type:?}")]
    InvalidReasonCode {
        /// The packet type.
        packet_type: PacketType,
        /// The code received.
        code: u8,
    },
    /// A property identifier that is unknown or not allowed in this packet (0x81).
    #[error("property {id:#04x} is not allowed in {packet_type:?}")]
    PropertyNotAllowed {
        /// The packet type (CONNECT for Will Properties).
        packet_type: PacketType,
        /// The property identifier.
        id: u8,
    },
    /// A property that may appear once appears twice (0x82).
    #[error("property {0:#04x} appears more than once")]
    DuplicateProperty(u8),
    /// A property value that the spec forbids, such as 0 for Receive Maximum
    /// or 2 for a byte that may only be 0 or 1 (0x82).
    #[error("invalid value for property {0:#04x}")]
    InvalidPropertyValue(u8),
    /// Authentication Data without an Authentication Method (0x82).
    #[error("authentication data without an authentication method")]
    AuthenticationDataWithoutMethod,
    /// A Topic Alias of 0 (0x94 Topic Alias invalid).
    #[error("topic alias 0")]
    TopicAliasZero,
    /// A SUBSCRIBE, UNSUBSCRIBE, SUBACK or UNSUBACK that lists nothing (0x82).
    #[error("{0:?} with an empty payload")]
    EmptyPayload(PacketType),
    /// Subscription options with reserved bits set, or Retain Handling 3 (0x81).
    #[error("invalid subscription options {0:#010b}")]
    InvalidSubscriptionOptions(u8),
    /// Subscription options with Retain Handling 3 or Maximum QoS 3, which
    /// v5.0 names a Protocol Error (§3.8.3.1) (0x82).
    #[error("forbidden subscription option value {0:#010b}")]
    ForbiddenSubscriptionOption(u8),
    /// No Local on a shared subscription (0x82).
    #[error("no local set on a shared subscription")]
    NoLocalOnSharedSubscription,
    /// A v5.0 PUBLISH with a zero-length Topic Name and no Topic Alias
    /// (§3.3.2.1, §3.3.2.3.4; 0x82 Protocol Error).
    #[error("zero-length topic name without a topic alias")]
    EmptyTopicWithoutAlias,
    /// A property the packet must carry is absent, such as the
    /// Authentication Method of an AUTH (§3.15.2.2.2; 0x82).
    #[error("required property {0:#04x} is missing")]
    MissingProperty(u8),
    /// A packet other than CONNECT first, where the protocol version is
    /// still to be detected (0x82).
    #[error("the first packet must be CONNECT, got {0:?}")]
    ExpectedConnect(PacketType),
}

impl DecodeError {
    /// The MQTT v5.0 reason code that a CONNACK or DISCONNECT reports this
    /// error with (§4.13): 0x81 Malformed Packet, 0x82 Protocol Error, 0x84
    /// Unsupported Protocol Version, 0x8F Topic Filter invalid, 0x90 Topic Name
    /// invalid, 0x94 Topic Alias invalid or 0x95 Packet too large.
    pub fn reason_code(&self) -> u8 {
        match self {
            DecodeError::PacketTooLarge { .. } => 0x95,
            DecodeError::InvalidProtocolName | DecodeError::UnsupportedProtocolLevel(_) => 0x84,
            DecodeError::InvalidTopicName(_) => 0x90,
            DecodeError::InvalidTopicFilter(_) => 0x8F,
            DecodeError::TopicAliasZero => 0x94,
            DecodeError::ZeroPacketId
            | DecodeError::DuplicateProperty(_)
            | DecodeError::InvalidPropertyValue(_)
            | DecodeError::AuthenticationDataWithoutMethod
            | DecodeError::EmptyPayload(_)
            | DecodeError::NoLocalOnSharedSubscription
            | DecodeError::ForbiddenSubscriptionOption(_)
            | DecodeError::EmptyTopicWithoutAlias
            | DecodeError::MissingProperty(_)
            | DecodeError::ExpectedConnect(_) => 0x82,
            DecodeError::MalformedVariableByteInteger
            | DecodeError::InvalidPacketType(_)
            | DecodeError::InvalidFixedHeaderFlags { .. }
            | DecodeError::InvalidQos
            | DecodeError::UnexpectedEnd
            | DecodeError::TrailingBytes(_)
            | DecodeError::InvalidUtf8
            | DecodeError::NullCharacter
            | DecodeError::InvalidConnectFlags(_)
            | DecodeError::InvalidConnackFlags(_)
            | DecodeError::InvalidReasonCode { .. }
            | DecodeError::PropertyNotAllowed { .. }
            | DecodeError::InvalidSubscriptionOptions(_) => 0x81,
        }
    }
}

/// Why a packet could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The destination buffer cannot hold the packet.
    #[error("buffer has room for {available} bytes, the packet needs {needed}")]
    BufferTooSmall {
        /// Bytes the whole packet needs.
        needed: usize,
        /// Bytes the buffer can still take.
        available: usize,
    },
    /// The Remaining Length would exceed 268,435,455 bytes (§2.1.4).
    #[error("remaining length {0} exceeds the MQTT maximum of 268,435,455")]
    PacketTooLarge(usize),
}

/// Why a builder refused to build a packet: a field was missing, or the
/// values break a rule the spec sets for the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A required field was not set.
    #[error("required field `{0}` was not set")]
    MissingField(&'static str),
    /// The values break the rule described, which names its spec statement.
    #[error("{0}")]
    Forbidden(&'static str),
}

impl From<derive_builder::UninitializedFieldError> for BuildError {
    fn from(e: derive_builder::UninitializedFieldError) -> Self {
        BuildError::MissingField(e.field_name())
    }
}

/// Why a string or binary value cannot be carried in an MQTT packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// Longer than 65,535 bytes (§1.5.4, §1.5.6).
    #[error("{0} bytes is longer than the 65,535 an MQTT string or binary value can hold")]
    TooLong(usize),
    /// The string contains U+0000 [MQTT-1.5.4-2].
    #[error("string contains the null character U+0000")]
    NullCharacter,
    /// The bytes are not well-formed UTF-8 [MQTT-1.5.4-1].
    #[error("ill-formed UTF-8")]
    InvalidUtf8,
}

impl From<ValueError> for DecodeError {
    fn from(e: ValueError) -> Self {
        match e {
            ValueError::NullCharacter => DecodeError::NullCharacter,
            ValueError::InvalidUtf8 | ValueError::TooLong(_) => DecodeError::InvalidUtf8,
        }
    }
}
