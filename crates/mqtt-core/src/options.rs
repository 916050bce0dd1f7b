//! [`ConnectionOptions`]: the automation and limits a connection runs with.

use core::num::{NonZeroU16, NonZeroU32};
use core::time::Duration;

use mqtt_session::SessionConfig;

/// When a received QoS 1 or 2 PUBLISH is acknowledged (PUBACK, PUBREC),
/// and whether the rest of the QoS 2 exchange (PUBREL, PUBCOMP) runs by
/// itself (§4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AckPolicy {
    /// The application sends every PUBACK, PUBREC, PUBREL and PUBCOMP
    /// itself, with the reason codes and properties it chooses.
    Manual,
    /// The connection answers a QoS 1 or 2 PUBLISH as it arrives, and a
    /// PUBREC or PUBREL with PUBREL or PUBCOMP: the default.
    #[default]
    OnReceipt,
    /// The connection acknowledges a QoS 1 or 2 PUBLISH once the
    /// application says it has handled it
    /// ([`acknowledge`](crate::GenericConnection::acknowledge)), as a
    /// broker does after routing; a Client's acknowledgements still go in
    /// the order the PUBLISH packets arrived [MQTT-4.6.0-2],
    /// [MQTT-4.6.0-3]. PUBREL and PUBCOMP answers are automatic. A QoS 2
    /// PUBLISH received again before the application acknowledged the
    /// first is neither delivered nor answered at once: the PUBREC the
    /// acknowledgement sends answers both [MQTT-4.3.3-10].
    AfterHandling,
}

/// The automatic chores a connection performs, and the limits it applies.
///
/// The defaults are safe for both roles: received QoS 1 and 2 messages are
/// acknowledged on receipt ([`AckPolicy::OnReceipt`]), a Server answers
/// PINGREQ, a Client with a Keep Alive sends PINGREQ when it has sent
/// nothing for that long and closes when no PINGRESP comes within the Keep
/// Alive after it (§3.1.2.10), and a Server closes one and a half Keep
/// Alives after the last packet it received [MQTT-3.1.2-22]. Topic Alias
/// automation and publishing while disconnected are off.
///
/// ```
/// use std::time::Duration;
/// use mqtt_core::{AckPolicy, ConnectionOptions};
///
/// let mut options = ConnectionOptions::default();
/// assert_eq!(options.ack, AckPolicy::OnReceipt);
/// options.ack = AckPolicy::AfterHandling; // a broker: acknowledge after routing
/// options.pingresp_recv_timeout = Some(Duration::from_secs(10));
/// options.session.session_expiry_interval = 3600;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionOptions {
    /// When received QoS 1 and 2 messages are acknowledged (§4.3).
    /// Whatever the policy, a QoS 2 PUBLISH received again before its
    /// PUBREL is never delivered twice [MQTT-4.3.3-10], and is answered
    /// with PUBREC once the first was acknowledged.
    pub ack: AckPolicy,
    /// Server: answer PINGREQ with PINGRESP [MQTT-3.12.4-1]. On by
    /// default; off, the application answers.
    pub auto_ping_response: bool,
    /// v5.0: give every PUBLISH sent a Topic Alias, numbering new topics
    /// and, when all aliases the peer allows are used, replacing the least
    /// recently used mapping (§3.3.2.3.4).
    pub auto_map_topic_alias_send: bool,
    /// v5.0: send a PUBLISH whose topic already has an alias with the alias
    /// and an empty Topic Name; never creates a mapping.
    pub auto_replace_topic_alias_send: bool,
    /// Client: send PINGREQ after this long without sending anything. `None`
    /// uses the Server Keep Alive [MQTT-3.2.2-21], else the Keep Alive of
    /// the CONNECT; `Some(Duration::ZERO)` sends none.
    pub pingreq_send_interval: Option<Duration>,
    /// Client: close when no PINGRESP arrives this long after a PINGREQ
    /// (§3.1.2.10). `None` waits the Keep Alive in force;
    /// `Some(Duration::ZERO)` waits forever (the Server's keep alive
    /// timeout still applies).
    pub pingresp_recv_timeout: Option<Duration>,
    /// Accept PUBLISH while disconnected (before CONNECT, or between network
    /// connections): the session queues it and sends it after the next
    /// CONNACK. Off: such a PUBLISH is refused. With it on, a connection
    /// that detected its version keeps that version when it closes, so
    /// that it can go on queueing.
    pub offline_publish: bool,
    /// The largest packet we accept, when the CONNECT (Client) or CONNACK
    /// (Server) we send does not announce a Maximum Packet Size
    /// (§3.1.2.11.4, §3.2.2.3.6), and on v3.1.1, which cannot announce it.
    /// Larger packets are refused from their fixed header (v5.0: DISCONNECT
    /// 0x95). `None`: no limit but MQTT's.
    pub maximum_packet_size: Option<NonZeroU32>,
    /// The most QoS 1 and 2 messages we keep in flight (sent, not yet
    /// acknowledged), below the peer's Receive Maximum (§4.9); more wait in
    /// the session's queue. On v3.1.1, where a Server cannot announce one,
    /// it is the only limit: a broker that holds fewer may drop the excess
    /// and still acknowledge it (mosquitto's default is 20). `None`: the
    /// peer's Receive Maximum alone (v3.1.1: no limit).
    pub send_maximum: Option<NonZeroU16>,
    /// The most QoS 2 messages we keep in flight (PUBLISH sent until its
    /// PUBCOMP), below `send_maximum` and the peer's Receive Maximum; a QoS
    /// 2 message beyond them waits in the session's queue, with the
    /// messages published after it (their order is kept). For v3.1.1
    /// brokers that hold fewer QoS 2 flows than QoS 1: mosquitto takes 20
    /// per client, QoS 2 flows until their PUBREL and a QoS 1 PUBLISH only
    /// while it handles it, and drops the excess (so 19 here, with a
    /// larger `send_maximum`, keeps QoS 1 fast and loses nothing).
    /// `None`: no limit of its own.
    pub qos2_send_maximum: Option<NonZeroU16>,
    /// The session's limits and policies: the bounds of the queue of
    /// messages waiting for a connection or for send quota, and QoS 0
    /// while offline. Its `receive_maximum` is not used: on v5.0 ours is
    /// the one the CONNECT or CONNACK we send announces; v3.1.1 cannot
    /// announce one, so none is enforced there (the peer may leave any
    /// number of PUBLISH packets unacknowledged; an application that
    /// acknowledges late bounds what it holds by reading no further).
    pub session: SessionConfig,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            ack: AckPolicy::OnReceipt,
            auto_ping_response: true,
            auto_map_topic_alias_send: false,
            auto_replace_topic_alias_send: false,
            pingreq_send_interval: None,
            pingresp_recv_timeout: None,
            offline_publish: false,
            maximum_packet_size: None,
            send_maximum: None,
            qos2_send_maximum: None,
            session: SessionConfig::default(),
        }
    }
}

impl ConnectionOptions {
    /// Whether the connection answers PUBREC and PUBREL itself.
    pub(crate) fn automatic_flow(&self) -> bool {
        self.ack != AckPolicy::Manual
    }
}
