//! [`ConnectionState`]: where a connection is in its life.

/// Where a connection is in its life (§3.1, §3.2, §3.14).
///
/// A connection object outlives network connections: after
/// [`notify_closed`](crate::GenericConnection::notify_closed) it is
/// `Disconnected` again, keeps its session, and a Client may send a new
/// CONNECT on a new network connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ConnectionState {
    /// No CONNECT sent or received on the current network connection.
    #[default]
    Disconnected,
    /// CONNECT sent (Client) or received (Server), no CONNACK yet; enhanced
    /// authentication (§4.12) happens here.
    Connecting,
    /// A CONNACK with Success was received (Client) or sent (Server).
    Connected,
    /// A DISCONNECT was sent or received, a refusing CONNACK was sent or
    /// received, a timeout fired, or a protocol error was detected: nothing
    /// more may be sent on this network connection [MQTT-3.14.4-1]; close it
    /// and call [`notify_closed`](crate::GenericConnection::notify_closed).
    Closed,
}
