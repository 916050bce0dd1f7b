//! [`ConnectionOptions`]: the automation and limits a connection runs with.

use core::num::NonZeroU32;
use core::time::Duration;

use mqtt_session::SessionConfig;

/// The automatic chores a connection performs, and the limits it applies.
/// Every automation is off by default, except what the spec requires
/// (the PINGREQ timer of a Client with a non-zero Keep Alive, the 1.5 × Keep
/// Alive receive timeout of a Server).
///
/// ```
/// use std::time::Duration;
/// use mqtt_core::ConnectionOptions;
///
/// let mut options = ConnectionOptions::default();
/// options.auto_pub_response = true;
/// options.auto_ping_response = true;
/// options.pingresp_recv_timeout = Some(Duration::from_secs(10));
/// options.session.session_expiry_interval = 3600;
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConnectionOptions {
    /// Answer received PUBLISH, PUBREC and PUBREL packets automatically
    /// with PUBACK, PUBREC, PUBREL and PUBCOMP (§4.3). Off: the application
    /// sends them, with the reason codes and properties it chooses. A QoS 2
    /// PUBLISH received again before its PUBREL is always answered with
    /// PUBREC and never delivered twice [MQTT-4.3.3-10].
    pub auto_pub_response: bool,
    /// Server: answer PINGREQ with PINGRESP automatically [MQTT-3.12.4-1].
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
    /// Client: close when no PINGRESP arrives this long after a PINGREQ.
    /// `None` waits forever (the Server's keep alive timeout still applies).
    pub pingresp_recv_timeout: Option<Duration>,
    /// Accept PUBLISH while disconnected (before CONNECT, or between network
    /// connections): the session queues it and sends it after the next
    /// CONNACK. Off: such a PUBLISH is refused with an error. With it on, a
    /// connection that detected its version keeps that version when it
    /// closes, so that it can go on queueing.
    pub offline_publish: bool,
    /// The largest packet we accept, when the CONNECT (Client) or CONNACK
    /// (Server) we send does not announce a Maximum Packet Size
    /// (§3.1.2.11.4, §3.2.2.3.6), and on v3.1.1, which cannot announce it.
    /// Larger packets are refused from their fixed header (v5.0: DISCONNECT
    /// 0x95). `None`: no limit but MQTT's.
    pub maximum_packet_size: Option<NonZeroU32>,
    /// The session's limits and policies: queue bounds, QoS 0 while
    /// offline, and on v3.1.1 our Receive Maximum (on v5.0 it is the one
    /// the CONNECT or CONNACK we send announces).
    pub session: SessionConfig,
}
