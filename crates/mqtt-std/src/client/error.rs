//! [`Error`]: why a call of the blocking [`Client`](crate::Client) failed,
//! or why its connection ended.

use std::fmt;
use std::io;

use mqtt_core::tracker::Failure;
use mqtt_core::{ConnectionError, SendError};

/// Why a call of [`Client`](crate::Client) failed, or why its network
/// connection ended ([`ClientState`](crate::ClientState) carries it).
/// Converts to [`io::Error`] (`?` in a function returning `io::Result`).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Connecting, reading or writing the socket failed (kind
    /// `ConnectionRefused` when no broker listens, `TimedOut` past the
    /// connect timeout, `UnexpectedEof` when the broker closed the
    /// connection).
    Io(io::Error),
    /// The options cannot be used: a URL that is not `mqtt://host[:port]`,
    /// or a CONNECT field the codec refuses (a Client Identifier or User
    /// Name that is not valid UTF-8 of at most 65,535 bytes, say).
    InvalidOptions(String),
    /// The connection refused a message or request, naming the rule
    /// ([`SendError::rule`]): over the broker's Maximum Packet Size or
    /// Maximum QoS, the session's queue full ([`SendError::QueueFull`]), ...
    /// Nothing was sent.
    Send(SendError),
    /// The broker broke the protocol (see
    /// [`ConnectionError::reason_code`]), or a keep alive timeout closed
    /// the connection.
    Connection(ConnectionError),
    /// [`try_publish`](crate::Client::try_publish) found the command queue
    /// full: nothing was queued.
    Full,
    /// The broker refused the CONNECT with this CONNACK return code
    /// (v3.1.1, §3.2.2.3) or Reason Code (v5.0, §3.2.2.2).
    Refused(u8),
    /// The client has ended ([`disconnect`](crate::Client::disconnect),
    /// reconnection off or given up), or the network connection ended
    /// before a SUBSCRIBE or UNSUBSCRIBE was answered (§4.4: they are not
    /// sent again; call again).
    Closed,
    /// The broker answered with this failing Reason Code (v5.0 PUBACK,
    /// PUBREC, PUBCOMP, SUBACK or UNSUBACK, ≥ 0x80, §2.4).
    Rejected(u8),
    /// The message's flow ended without its acknowledgement: the broker
    /// had no session for it after a reconnection (Session Present 0), or
    /// the connection refused it as it left the session's queue.
    NotDelivered,
    /// A Topic Name or Topic Filter is invalid (§4.7).
    Topic(mqtt_codec::TopicError),
    /// A packet or message could not be built from what was given.
    Build(mqtt_codec::BuildError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O: {e}"),
            Error::InvalidOptions(why) => write!(f, "invalid client options: {why}"),
            Error::Send(e) => write!(f, "refused by the connection: {e}"),
            Error::Connection(e) => write!(f, "connection error: {e}"),
            Error::Full => f.write_str("the command queue is full"),
            Error::Refused(code) => {
                write!(f, "the broker refused the connection with code {code:#04x}")
            }
            Error::Closed => f.write_str("the client is closed"),
            Error::Rejected(code) => {
                write!(f, "the broker rejected it with reason code {code:#04x}")
            }
            Error::NotDelivered => f.write_str("the message was not delivered: its session ended"),
            Error::Topic(e) => write!(f, "invalid topic: {e}"),
            Error::Build(e) => write!(f, "invalid packet: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Send(e) => Some(e),
            Error::Connection(e) => Some(e),
            Error::Topic(e) => Some(e),
            Error::Build(e) => Some(e),
            _ => None,
        }
    }
}

impl Error {
    /// The [`io::ErrorKind`] this error converts to.
    pub fn io_kind(&self) -> io::ErrorKind {
        match self {
            Error::Io(e) => e.kind(),
            Error::Send(e) => crate::send_io_error(e.clone()).kind(),
            Error::Connection(e) => crate::io_error(e.clone()).kind(),
            Error::Full => io::ErrorKind::WouldBlock,
            Error::Refused(_) => io::ErrorKind::ConnectionRefused,
            Error::Closed => io::ErrorKind::NotConnected,
            Error::Rejected(_) => io::ErrorKind::PermissionDenied,
            Error::NotDelivered => io::ErrorKind::Interrupted,
            Error::InvalidOptions(_) | Error::Topic(_) | Error::Build(_) => {
                io::ErrorKind::InvalidInput
            }
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(e) => e,
            other => io::Error::new(other.io_kind(), other),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<SendError> for Error {
    fn from(e: SendError) -> Self {
        Error::Send(e)
    }
}

impl From<ConnectionError> for Error {
    fn from(e: ConnectionError) -> Self {
        Error::Connection(e)
    }
}

impl From<mqtt_codec::TopicError> for Error {
    fn from(e: mqtt_codec::TopicError) -> Self {
        Error::Topic(e)
    }
}

impl From<mqtt_codec::BuildError> for Error {
    fn from(e: mqtt_codec::BuildError) -> Self {
        Error::Build(e)
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Rejected(code) => Error::Rejected(code),
            Failure::NotDelivered => Error::NotDelivered,
            _ => Error::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_and_convertible() {
        assert_eq!(
            Error::Refused(5).to_string(),
            "the broker refused the connection with code 0x05"
        );
        let e: io::Error = Error::Full.into();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        let e: io::Error = Error::Io(io::ErrorKind::UnexpectedEof.into()).into();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let e = Error::from(ConnectionError::KeepAliveTimeout);
        assert_eq!(e.io_kind(), io::ErrorKind::TimedOut);
        assert!(matches!(
            Error::from(Failure::Rejected(0x87)),
            Error::Rejected(0x87)
        ));
        assert!(matches!(Error::from(Failure::Closed), Error::Closed));
    }
}
