//! [`Config`]: the adapter's own limits (the protocol's are in
//! [`ConnectionOptions`](mqtt_core::ConnectionOptions)).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Buffer sizes and timeouts of an endpoint's driver task. None of them is a
/// rule of MQTT; they bound the memory an endpoint uses. The messages that
/// wait for the peer's Receive Maximum wait in the connection's session
/// queue, bounded by
/// [`ConnectionOptions::session`](mqtt_core::ConnectionOptions::session).
///
/// They are bounds, not reservations: the queues allocate as packets wait
/// and give their memory back when drained, and a connection waiting for
/// its next packet holds no read buffer, so an idle connection costs the
/// same whatever the capacities.
///
/// ```
/// let mut config = mqtt_tokio::Config::default();
/// config.incoming_capacity = 16;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Commands (send, close, ...) that may wait in the queue to the
    /// driver; [`send`](crate::Endpoint::send) waits for room.
    pub command_capacity: usize,
    /// Received packets that may wait in the queue to
    /// [`Incoming`](crate::Incoming).
    pub incoming_capacity: usize,
    /// Received packets the driver holds beyond that queue before it
    /// stops reading the socket. It keeps reading up to this many, so that
    /// acknowledgements still arrive (and free send quota for the messages
    /// queued in the session) while the application is busy.
    pub max_pending: usize,
    /// Bytes of encoded packets not yet written above which the driver
    /// takes no more commands until the socket drains.
    pub write_high_water: usize,
    /// The most bytes read from the transport at once while part of a
    /// packet is buffered (a read that starts a packet takes at most 8 KiB,
    /// on the stack, and keeps only what arrived).
    pub read_chunk: usize,
    /// How long a graceful close waits for the messages queued in the
    /// session to go out, and then for the last bytes (the DISCONNECT) to
    /// be written before it drops the socket.
    pub close_timeout: Duration,
    /// Server: how long a network connection may take to deliver its
    /// CONNECT before it is dropped (a client that connects and sends
    /// nothing, or half a packet, holds no endpoint for long). `None`: no
    /// limit.
    pub connect_timeout: Option<Duration>,
    /// How long a server's TLS or WebSocket handshake may take.
    pub handshake_timeout: Duration,
    /// Server, [`Server::serve_with`](crate::Server::serve_with): a
    /// connection quiet this long (nothing read or written, and
    /// [`is_quiet`](mqtt_core::GenericConnection::is_quiet)) hibernates:
    /// its driver stops with the transport open and hands the connection
    /// over ([`Incoming::take_hibernated`](crate::Incoming::take_hibernated)),
    /// for the application to keep without a task until the peer sends
    /// again or a message is due, and then to
    /// [`wake`](crate::Hibernated::wake_with). Checked four times per
    /// period: a connection hibernates between one and one and a quarter
    /// periods after its last packet. `None` (the default): never.
    pub hibernate_after: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            command_capacity: 64,
            incoming_capacity: 256,
            max_pending: 4096,
            write_high_water: 256 * 1024,
            read_chunk: 16 * 1024,
            close_timeout: Duration::from_secs(5),
            connect_timeout: Some(Duration::from_secs(10)),
            handshake_timeout: Duration::from_secs(10),
            hibernate_after: None,
        }
    }
}

impl Config {
    /// The default, in one `Arc` that every client keeping it shares (a
    /// client holds its `Config` for its life: 112 bytes of heap each).
    pub(crate) fn shared_default() -> Arc<Config> {
        static DEFAULT: OnceLock<Arc<Config>> = OnceLock::new();
        DEFAULT.get_or_init(Default::default).clone()
    }
}
