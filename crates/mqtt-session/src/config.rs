//! [`SessionConfig`]: the limits and policies a session starts with.

use core::num::NonZeroU16;

use crate::queue::{Limits, DEFAULT_QUEUE_MAX_BYTES, DEFAULT_QUEUE_MAX_MESSAGES};

/// How a [`Session`](crate::Session) bounds its pending queue, what it does
/// with QoS 0 messages while disconnected, and the Receive Maximum and
/// Session Expiry Interval it starts with.
///
/// Start from the default and set what differs:
///
/// ```
/// use core::num::NonZeroU16;
/// use mqtt_session::SessionConfig;
///
/// let mut config = SessionConfig::default();
/// config.queue_max_messages = 100;
/// config.queue_max_bytes = 64 * 1024;
/// config.receive_maximum = NonZeroU16::new(20).unwrap();
/// config.session_expiry_interval = 3600;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// The most messages the pending queue holds (default 10,000).
    pub queue_max_messages: usize,
    /// The most bytes, counted as encoded PUBLISH sizes, the pending queue
    /// holds (default 16 MiB).
    pub queue_max_bytes: usize,
    /// Whether a QoS 0 message published while disconnected is queued (the
    /// default) or refused with
    /// [`SessionError::NotConnected`](crate::SessionError::NotConnected).
    pub queue_qos0_offline: bool,
    /// Our Receive Maximum: how many QoS 1 and 2 PUBLISH packets the peer
    /// may leave unacknowledged (§3.1.2.11.3, §3.2.2.3.3); default 65,535,
    /// the value when the property is absent.
    pub receive_maximum: NonZeroU16,
    /// The Session Expiry Interval in seconds (§3.1.2.11.2): 0 (the default)
    /// ends the session with the network connection, `u32::MAX` never.
    pub session_expiry_interval: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            queue_max_messages: DEFAULT_QUEUE_MAX_MESSAGES,
            queue_max_bytes: DEFAULT_QUEUE_MAX_BYTES,
            queue_qos0_offline: true,
            receive_maximum: NonZeroU16::MAX,
            session_expiry_interval: 0,
        }
    }
}

impl SessionConfig {
    /// The bounds of the pending queue.
    pub(crate) fn queue_limits(&self) -> Limits {
        Limits {
            messages: self.queue_max_messages,
            bytes: self.queue_max_bytes,
        }
    }
}
