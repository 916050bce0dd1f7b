//! [`SessionError`]: what the session refuses, and why.

use mqtt_codec::wire::PacketType;
use mqtt_codec::DecodeError;

use crate::FlowState;

/// Why the session refused a call.
///
/// Packet identifiers appear as `u32`, whatever the identifier width of the
/// session. No error loses a stored message: a call that errs leaves the
/// session as it was, except where its documentation says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Every packet identifier is in use (§2.2.1): wait for an
    /// acknowledgement to release one.
    #[error("every packet identifier is in use")]
    PacketIdsExhausted,
    /// Packet identifier 0, which MQTT never uses [MQTT-2.2.1-3].
    #[error("packet identifier 0")]
    ZeroPacketId,
    /// The packet identifier is already in use [MQTT-2.2.1-3], [MQTT-2.2.1-4].
    #[error("packet identifier {0} is already in use")]
    PacketIdInUse(u32),
    /// An acknowledgement (PUBACK, PUBREC, PUBCOMP) or a PUBREL whose packet
    /// identifier matches no flow. On v5.0 a PUBREL or PUBCOMP answering it
    /// carries 0x92 Packet Identifier not found (§3.6.2.1, §3.7.2.1).
    #[error("packet identifier {0} matches no flow")]
    PacketIdNotFound(u32),
    /// An acknowledgement of the wrong kind for the flow of its identifier,
    /// such as a PUBACK for a QoS 2 PUBLISH (a Protocol Error, 0x82).
    #[error("{packet_type:?} for packet identifier {packet_id}, whose flow is {state:?}")]
    UnexpectedAck {
        /// The acknowledgement received.
        packet_type: PacketType,
        /// Its packet identifier.
        packet_id: u32,
        /// What the flow waits for.
        state: FlowState,
    },
    /// The peer sent more QoS 1 and QoS 2 PUBLISH packets than our Receive
    /// Maximum (this value) lets it have unacknowledged (§3.3.4; 0x93 Receive
    /// Maximum exceeded).
    #[error("the peer exceeded our Receive Maximum of {0}")]
    ReceiveMaximumExceeded(u16),
    /// The send quota is used up: the peer's Receive Maximum of QoS > 0
    /// PUBLISH packets are unacknowledged [MQTT-3.3.4-7], [MQTT-3.3.4-9], or
    /// stored messages wait to be re-sent first.
    #[error("the send quota is used up")]
    QuotaExceeded,
    /// The pending queue cannot take the message without dropping others.
    #[error("the pending queue is full")]
    QueueFull,
    /// The call needs a network connection and there is none.
    #[error("not connected")]
    NotConnected,
    /// A message without a Topic Name (from a v5.0 PUBLISH that had only a
    /// Topic Alias): the session stores full topic names, since aliases do
    /// not outlive a network connection (§3.3.2.3.4).
    #[error("a message without a Topic Name (a Topic Alias alone) cannot be stored")]
    TopicAliasOnly,
    /// The PUBLISH is larger than MQTT can frame (§2.1.4).
    #[error("a PUBLISH of {0} bytes is larger than MQTT can frame")]
    PacketTooLarge(usize),
    /// Exported bytes that are not a session of this library, or are damaged:
    /// the reason is described.
    #[error("invalid session state: {0}")]
    InvalidState(&'static str),
    /// Exported bytes of a format version this library does not read.
    #[error("unsupported session format version {0}")]
    UnsupportedFormat(u8),
    /// Exported bytes of a session with packet identifiers of another width.
    #[error("session has {found}-byte packet identifiers, expected {expected}")]
    PacketIdWidthMismatch {
        /// The width of `P` in bytes.
        expected: u8,
        /// The width in the exported bytes.
        found: u8,
    },
    /// A stored packet in exported bytes does not decode.
    #[error("stored packet does not decode: {0}")]
    Decode(#[from] DecodeError),
}

impl SessionError {
    /// The v5.0 Reason Code with which the core answers or disconnects on
    /// this error, where the spec names one: 0x92 Packet Identifier not found
    /// (in the PUBREL or PUBCOMP answering), 0x93 Receive Maximum exceeded and
    /// 0x82 Protocol Error (in a DISCONNECT, §4.13).
    pub fn reason_code(&self) -> Option<u8> {
        match self {
            SessionError::PacketIdNotFound(_) => Some(0x92),
            SessionError::ReceiveMaximumExceeded(_) => Some(0x93),
            SessionError::UnexpectedAck { .. } => Some(0x82),
            _ => None,
        }
    }
}
