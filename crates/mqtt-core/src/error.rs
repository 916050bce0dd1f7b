//! [`ConnectionError`]: what a connection refuses or detects.

use mqtt_codec::wire::PacketType;
use mqtt_codec::{DecodeError, ProtocolVersion, QoS};
use mqtt_session::SessionError;

use crate::{ConnectionState, RoleKind, TopicAliasError};

/// What went wrong on a connection: mostly what the peer did.
///
/// Reported in [`GenericEvent::NotifyError`](crate::GenericEvent::NotifyError).
/// When the peer broke the protocol, [`reason_code`](Self::reason_code) is
/// the v5.0 Reason Code of the DISCONNECT (or CONNACK) the connection sends
/// before it asks to close (§4.13). What the application may not send is a
/// [`SendError`], returned by the call that tried.
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

    /// A SUBSCRIBE with a wildcard where we announced Wildcard Subscription
    /// Available 0 (§3.2.2.3.11; 0xA2).
    #[error("wildcard subscriptions are not available")]
    WildcardSubscriptionNotAvailable,
    /// A SUBSCRIBE with a Subscription Identifier where we announced
    /// Subscription Identifiers Available 0 (§3.2.2.3.12; 0xA1).
    #[error("subscription identifiers are not available")]
    SubscriptionIdentifierNotAvailable,
    /// A shared subscription where we announced Shared Subscription
    /// Available 0 (§3.2.2.3.13; 0x9E).
    #[error("shared subscriptions are not available")]
    SharedSubscriptionNotAvailable,
    /// A message that waited in the session's queue could not be sent
    /// when it left it (the limits of the connection changed meanwhile):
    /// its flow ended, as if it had been sent and refused.
    #[error("a queued message was not sent: {0}")]
    Refused(SendError),
    /// A packet of one MQTT version where the connection speaks the other.
    #[error("a {packet:?} packet on a {connection:?} connection")]
    VersionMismatch {
        /// The version of the connection.
        connection: ProtocolVersion,
        /// The version of the packet.
        packet: ProtocolVersion,
    },
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
            ConnectionError::WildcardSubscriptionNotAvailable => Some(0xA2),
            ConnectionError::SubscriptionIdentifierNotAvailable => Some(0xA1),
            ConnectionError::SharedSubscriptionNotAvailable => Some(0x9E),
            ConnectionError::PingrespTimeout
            | ConnectionError::Refused(_)
            | ConnectionError::VersionMismatch { .. }
            | ConnectionError::InvalidCall(_) => None,
        }
    }
}

/// Why a packet or message was not sent: the rule it would break, named by
/// [`rule`](Self::rule). Nothing changed: no event, no packet identifier
/// taken or released, the session as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The role of this connection never sends this packet type (§2.1.2,
    /// Table 2-1), such as a CONNACK from a Client, or a DISCONNECT from a
    /// v3.1.1 Server.
    #[error("a {role:?} does not send {packet_type:?}")]
    NotAllowedForRole {
        /// The packet type.
        packet_type: PacketType,
        /// The role of the connection.
        role: RoleKind,
    },
    /// The packet may not be sent in the current state, such as anything
    /// but CONNECT first [MQTT-3.1.0-1], a second CONNECT [MQTT-3.1.0-2],
    /// anything before the CONNACK by a Server [MQTT-3.2.0-1], a second
    /// CONNACK [MQTT-3.2.0-2], or anything after a DISCONNECT
    /// [MQTT-3.14.4-1]; or a PUBLISH while disconnected without
    /// [`offline_publish`](crate::ConnectionOptions::offline_publish).
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
    /// User Properties.
    #[error("a packet of {size} bytes exceeds the peer's Maximum Packet Size of {maximum}")]
    PacketTooLarge {
        /// The size of the packet.
        size: usize,
        /// The peer's Maximum Packet Size.
        maximum: u32,
    },
    /// A PUBLISH with a QoS above the Server's Maximum QoS [MQTT-3.2.2-11].
    #[error("QoS {qos:?} exceeds the Server's Maximum QoS {maximum:?}")]
    QosNotSupported {
        /// The QoS of the PUBLISH.
        qos: QoS,
        /// The Maximum QoS.
        maximum: QoS,
    },
    /// A retained PUBLISH where the Server's Retain Available is 0
    /// [MQTT-3.2.2-14].
    #[error("the Server does not retain messages")]
    RetainNotSupported,
    /// A Topic Alias above the peer's Topic Alias Maximum [MQTT-3.3.2-9],
    /// [MQTT-3.3.2-11], or an alias alone that was never mapped.
    #[error("topic alias: {0}")]
    TopicAlias(#[from] TopicAliasError),
    /// A SUBSCRIBE with a wildcard where the Server announced Wildcard
    /// Subscription Available 0 (§3.2.2.3.11).
    #[error("wildcard subscriptions are not available")]
    WildcardSubscriptionNotAvailable,
    /// A SUBSCRIBE with a Subscription Identifier where the Server announced
    /// Subscription Identifiers Available 0 (§3.2.2.3.12).
    #[error("subscription identifiers are not available")]
    SubscriptionIdentifierNotAvailable,
    /// A shared subscription where the Server announced Shared Subscription
    /// Available 0 (§3.2.2.3.13).
    #[error("shared subscriptions are not available")]
    SharedSubscriptionNotAvailable,
    /// The queue of messages that wait for send quota or for a connection
    /// is full ([`SessionConfig`](mqtt_session::SessionConfig)'s bounds).
    #[error("the queue of messages waiting to be sent is full")]
    QueueFull,
    /// The session refused: packet identifiers used up or in use, a zero
    /// identifier, an acknowledgement of no flow, a message too large for
    /// MQTT or for the queue, a message without a Topic Name.
    #[error("session: {0}")]
    Session(SessionError),
    /// A rule for the sender, described with its statement id.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
}

impl From<SessionError> for SendError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::QueueFull => SendError::QueueFull,
            error => SendError::Session(error),
        }
    }
}

impl SendError {
    /// The rule the packet would have broken: statement ids or the section
    /// of the spec, or the option that refused it.
    pub fn rule(&self) -> &'static str {
        match self {
            SendError::NotAllowedForRole { .. } => "§2.1.2 (Table 2-1)",
            SendError::NotAllowedInState { .. } => {
                "[MQTT-3.1.0-1], [MQTT-3.1.0-2], [MQTT-3.2.0-1], [MQTT-3.2.0-2], [MQTT-3.14.4-1]"
            }
            SendError::VersionMismatch { .. } => "§3.1.2.2 (one version per connection)",
            SendError::PacketTooLarge { .. } => "[MQTT-3.2.2-15], [MQTT-3.1.2-24]",
            SendError::QosNotSupported { .. } => "[MQTT-3.2.2-11]",
            SendError::RetainNotSupported => "[MQTT-3.2.2-14]",
            SendError::TopicAlias(_) => "[MQTT-3.3.2-9], [MQTT-3.3.2-11] (§3.3.2.3.4)",
            SendError::WildcardSubscriptionNotAvailable => "§3.2.2.3.11",
            SendError::SubscriptionIdentifierNotAvailable => "§3.2.2.3.12",
            SendError::SharedSubscriptionNotAvailable => "§3.2.2.3.13",
            SendError::QueueFull => "SessionConfig::queue_max_messages, queue_max_bytes",
            SendError::Session(_) => "§2.2.1, §4.3 (the session)",
            SendError::Forbidden(rule) => rule,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full queue is its own refusal; the session's other refusals are
    /// wrapped.
    #[test]
    fn session_errors_convert() {
        assert_eq!(
            SendError::from(SessionError::QueueFull),
            SendError::QueueFull
        );
        assert_eq!(
            SendError::from(SessionError::PacketIdInUse(3)),
            SendError::Session(SessionError::PacketIdInUse(3))
        );
    }

    /// Each refusal names its rule: the statement ids of the spec, the
    /// section, or the option.
    #[test]
    fn refusals_name_their_rule() {
        assert_eq!(
            SendError::QosNotSupported {
                qos: QoS::ExactlyOnce,
                maximum: QoS::AtMostOnce
            }
            .rule(),
            "[MQTT-3.2.2-11]"
        );
        assert_eq!(SendError::RetainNotSupported.rule(), "[MQTT-3.2.2-14]");
        assert!(SendError::QueueFull.rule().contains("queue_max_messages"));
        let rule = "a rule [MQTT-3.3.4-6]";
        assert_eq!(SendError::Forbidden(rule).rule(), rule);
    }

    /// What the peer did maps to the v5.0 Reason Code of the DISCONNECT
    /// (§4.13); a queued message refused later is no fault of the peer.
    #[test]
    fn reason_codes() {
        assert_eq!(
            ConnectionError::QuotaExceeded("x").reason_code(),
            Some(0x97)
        );
        assert_eq!(ConnectionError::KeepAliveTimeout.reason_code(), Some(0x8D));
        let refused = ConnectionError::Refused(SendError::RetainNotSupported);
        assert_eq!(refused.reason_code(), None);
        assert_eq!(ConnectionError::PingrespTimeout.reason_code(), None);
    }
}
