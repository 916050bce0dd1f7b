//! [`ConnectionError`]: what a connection refuses or detects.

use mqtt_codec::wire::PacketType;
use mqtt_codec::{DecodeError, ProtocolVersion, QoS};
use mqtt_session::SessionError;

use crate::{ConnectionState, TopicAliasError};

/// Why a connection refused to send a packet, or why it is closing.
///
/// Reported in [`GenericEvent::NotifyError`](crate::GenericEvent::NotifyError).
/// When the peer broke the protocol, [`reason_code`](Self::reason_code) is
/// the v5.0 Reason Code of the DISCONNECT (or CONNACK) the connection sends
/// before it asks to close (§4.13).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    // ----- Detected on what the peer sent -----
    /// The bytes received are not a valid packet (Malformed Packet or
    /// Protocol Error, §4.13); the reason code is the decoder's.
    #[error("received an invalid packet: {0}")]
    Decode(#[from] DecodeError),
    /// The peer sent a packet that its role may not send, or not in this
    /// state, such as a second CONNECT [MQTT-3.1.0-2] or a PUBLISH before
    /// the CONNACK [MQTT-3.2.0-1] (0x82 Protocol Error).
    #[error("received {packet_type:?}, which is not allowed {state:?}")]
    UnexpectedPacket {
        /// The packet type received.
        packet_type: PacketType,
        /// The state of the connection when it arrived.
        state: ConnectionState,
    },
    /// The peer broke a rule of the spec, described with its statement id
    /// (0x82 Protocol Error).
    #[error("protocol error: {0}")]
    ProtocolError(&'static str),
    /// The peer made us hold more than a bound this implementation sets on
    /// what a peer may make it store, described here (0x97 Quota exceeded).
    #[error("quota exceeded: {0}")]
    QuotaExceeded(&'static str),
    /// A Topic Alias out of range or not mapped: received, above the maximum
    /// we announced [MQTT-3.3.2-10], [MQTT-3.3.2-12] (0x94 Topic Alias
    /// invalid) or with an empty Topic Name and no mapping (0x82, §3.3.4);
    /// on send, above the peer's maximum [MQTT-3.3.2-9], [MQTT-3.3.2-11] or
    /// never mapped.
    #[error("topic alias: {0}")]
    TopicAlias(#[from] TopicAliasError),
    /// A PUBLISH with a QoS above the Maximum QoS announced in CONNACK
    /// [MQTT-3.2.2-11] (0x9B QoS not supported).
    #[error("QoS {qos:?} exceeds the Maximum QoS {maximum:?}")]
    QosNotSupported {
        /// The QoS of the PUBLISH.
        qos: QoS,
        /// The Maximum QoS.
        maximum: QoS,
    },
    /// A retained PUBLISH where Retain Available is 0 [MQTT-3.2.2-14]
    /// (0x9A Retain not supported).
    #[error("retain is not available")]
    RetainNotSupported,
    /// The session refused what arrived: an acknowledgement of the wrong
    /// kind (0x82), more PUBLISH packets than our Receive Maximum (0x93,
    /// [MQTT-3.3.4-7], [MQTT-3.3.4-9]); or refused what we tried to send
    /// (identifiers exhausted or in use, send quota used up, queue full).
    #[error("session: {0}")]
    Session(#[from] SessionError),
    /// Server: nothing arrived for one and a half times the Keep Alive
    /// [MQTT-3.1.2-22] (v5.0) / [MQTT-3.1.2-24] (v3.1.1) (0x8D Keep Alive
    /// timeout).
    #[error("keep alive timeout: nothing received for 1.5 times the keep alive")]
    KeepAliveTimeout,
    /// Client: no PINGRESP arrived within the PINGRESP timeout (§3.1.2.10).
    #[error("no PINGRESP arrived in time")]
    PingrespTimeout,

    // ----- Refused on send (nothing was sent) -----
    /// The role of this connection never sends this packet type (§2.1.2,
    /// Table 2-1), or a v3.1.1 Server a DISCONNECT.
    #[error("a {role:?} does not send {packet_type:?}")]
    NotAllowedForRole {
        /// The packet type.
        packet_type: PacketType,
        /// The role of the connection.
        role: crate::RoleKind,
    },
    /// The packet may not be sent in the current state, such as a PUBLISH
    /// before CONNECT [MQTT-3.1.0-1], anything before the CONNACK by a
    /// Server [MQTT-3.2.0-1], a second CONNACK [MQTT-3.2.0-2], or anything
    /// after a DISCONNECT [MQTT-3.14.4-1].
    #[error("{packet_type:?} may not be sent {state:?}")]
    NotAllowedInState {
        /// The packet type.
        packet_type: PacketType,
        /// The current state.
        state: ConnectionState,
    },
    /// A packet of one MQTT version on a connection of the other.
    #[error("a {packet:?} packet on a {connection:?} connection")]
    VersionMismatch {
        /// The version of the connection.
        connection: ProtocolVersion,
        /// The version of the packet.
        packet: ProtocolVersion,
    },
    /// The packet is larger than the Maximum Packet Size the peer announced
    /// [MQTT-3.2.2-15], [MQTT-3.1.2-24], even without its Reason String and
    /// User Properties (0x95 Packet too large).
    #[error("a packet of {size} bytes exceeds the peer's Maximum Packet Size of {maximum}")]
    PacketTooLarge {
        /// The size of the packet.
        size: usize,
        /// The peer's Maximum Packet Size.
        maximum: u32,
    },
    /// A SUBSCRIBE with a wildcard where the Server announced Wildcard
    /// Subscription Available 0 (§3.2.2.3.11; 0xA2).
    #[error("wildcard subscriptions are not available")]
    WildcardSubscriptionNotAvailable,
    /// A SUBSCRIBE with a Subscription Identifier where the Server announced
    /// Subscription Identifiers Available 0 (§3.2.2.3.12; 0xA1).
    #[error("subscription identifiers are not available")]
    SubscriptionIdentifierNotAvailable,
    /// A shared subscription where the Server announced Shared Subscription
    /// Available 0 (§3.2.2.3.13; 0x9E).
    #[error("shared subscriptions are not available")]
    SharedSubscriptionNotAvailable,
    /// A packet that breaks a rule for its sender, described with the
    /// statement id (nothing was sent).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The call needs a state the connection is not in, described.
    #[error("invalid call: {0}")]
    InvalidCall(&'static str),
}

impl ConnectionError {
    /// The v5.0 Reason Code (§2.4) of the DISCONNECT (or CONNACK) a
    /// connection sends when it detects this error in what the peer sent:
    /// 0x81 Malformed Packet, 0x82 Protocol Error, 0x8D Keep Alive timeout,
    /// 0x93 Receive Maximum exceeded, 0x94 Topic Alias invalid, 0x97 Quota
    /// exceeded, 0x95 Packet
    /// too large, 0x9A Retain not supported, 0x9B QoS not supported, and the
    /// others the decoder names. `None` for an error that is not the peer's.
    pub fn reason_code(&self) -> Option<u8> {
        match self {
            ConnectionError::Decode(e) => Some(e.reason_code()),
            ConnectionError::UnexpectedPacket { .. } | ConnectionError::ProtocolError(_) => {
                Some(0x82)
            }
            ConnectionError::TopicAlias(e) => Some(e.reason_code().as_u8()),
            ConnectionError::QuotaExceeded(_) => Some(0x97),
            ConnectionError::QosNotSupported { .. } => Some(0x9B),
            ConnectionError::RetainNotSupported => Some(0x9A),
            ConnectionError::Session(e) => e.reason_code(),
            ConnectionError::KeepAliveTimeout => Some(0x8D),
            ConnectionError::PacketTooLarge { .. } => Some(0x95),
            ConnectionError::WildcardSubscriptionNotAvailable => Some(0xA2),
            ConnectionError::SubscriptionIdentifierNotAvailable => Some(0xA1),
            ConnectionError::SharedSubscriptionNotAvailable => Some(0x9E),
            ConnectionError::PingrespTimeout
            | ConnectionError::NotAllowedForRole { .. }
            | ConnectionError::NotAllowedInState { .. }
            | ConnectionError::VersionMismatch { .. }
            | ConnectionError::Forbidden(_)
            | ConnectionError::InvalidCall(_) => None,
        }
    }
}
