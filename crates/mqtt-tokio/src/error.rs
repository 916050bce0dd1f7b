//! [`Error`]: what an endpoint reports, and its conversion to
//! [`std::io::Error`].

use std::io;

use mqtt_codec::GenericPacket;
use mqtt_core::{ConnectionError, SendError};
use mqtt_session::SessionError;

/// Why a call on an endpoint failed, or why its network connection ended.
///
/// Converts to [`std::io::Error`] (`?` in a function returning
/// `io::Result`), keeping this error as the inner one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading, writing or connecting the transport failed.
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    /// The connection refused a packet, message or acknowledgement we
    /// tried to send, naming the rule ([`SendError::rule`]); nothing was
    /// sent. [`SendError::QueueFull`]: the session's queue of messages
    /// waiting for the peer's Receive Maximum is full; try again once
    /// acknowledgements came.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The peer broke the protocol and the connection closed (see
    /// [`ConnectionError::reason_code`]), or a call the connection does
    /// not allow now (packet identifiers used up, a session import after
    /// the CONNACK).
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// [`try_send`](crate::Endpoint::try_send) found the command channel
    /// full: nothing was sent, try again later or use
    /// [`send`](crate::Endpoint::send), which waits for room.
    #[error("the command channel is full")]
    Full,
    /// The Server answered CONNECT with this refusing CONNACK return code
    /// (v3.1.1, §3.2.2.3) or Reason Code (v5.0, §3.2.2.2).
    #[error("the server refused the connection with code {0:#04x}")]
    Refused(u8),
    /// The network connection is closed (or the endpoint's driver ended).
    #[error("the connection is closed")]
    Closed,
    /// The broker answered with this failing Reason Code (v5.0 PUBACK,
    /// PUBREC or PUBCOMP, ≥ 0x80, §2.4): the message was not accepted.
    #[error("the broker rejected the message with reason code {0:#04x}")]
    Rejected(u8),
    /// The message's flow ended without its acknowledgement: the broker
    /// had no session for it after a reconnection (Session Present 0), or
    /// the connection refused it as it left the session's queue (a new
    /// CONNACK's limits forbid it).
    #[error("the message was not delivered: its session ended first")]
    NotDelivered,
    /// A Topic Name or Topic Filter given to [`Client`](crate::Client) is
    /// invalid (§4.7).
    #[error(transparent)]
    Topic(#[from] mqtt_codec::TopicError),
    /// A packet or message could not be built from what was given.
    #[error(transparent)]
    Build(#[from] mqtt_codec::BuildError),
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(e) => e,
            other => io::Error::new(other.io_kind(), other),
        }
    }
}

impl Error {
    /// The [`io::ErrorKind`] this error converts to.
    pub fn io_kind(&self) -> io::ErrorKind {
        match self {
            Error::Io(e) => e.kind(),
            Error::Send(e) => send_error_kind(e),
            Error::Connection(e) => connection_error_kind(e),
            Error::Full => io::ErrorKind::WouldBlock,
            Error::Refused(_) => io::ErrorKind::ConnectionRefused,
            Error::Closed => io::ErrorKind::NotConnected,
            Error::Rejected(_) => io::ErrorKind::PermissionDenied,
            Error::NotDelivered => io::ErrorKind::Interrupted,
            Error::Topic(_) | Error::Build(_) => io::ErrorKind::InvalidInput,
        }
    }
}

/// The [`io::ErrorKind`] of a [`ConnectionError`]: `InvalidData` for what
/// the peer sent (it has a reason code), `TimedOut` for keep alive
/// timeouts, `WouldBlock` for packet identifiers used up, `InvalidInput`
/// for the rest.
pub fn connection_error_kind(e: &ConnectionError) -> io::ErrorKind {
    match e {
        ConnectionError::KeepAliveTimeout | ConnectionError::PingrespTimeout => {
            io::ErrorKind::TimedOut
        }
        ConnectionError::Session(SessionError::PacketIdsExhausted) => io::ErrorKind::WouldBlock,
        e if e.reason_code().is_some() => io::ErrorKind::InvalidData,
        _ => io::ErrorKind::InvalidInput,
    }
}

/// The [`io::ErrorKind`] of a [`SendError`]: `WouldBlock` for a full
/// session queue ([`SendError::QueueFull`]), `InvalidInput` for the rest.
pub fn send_error_kind(e: &SendError) -> io::ErrorKind {
    match e {
        SendError::QueueFull => io::ErrorKind::WouldBlock,
        _ => io::ErrorKind::InvalidInput,
    }
}

/// A [`ConnectionError`] as an [`io::Error`] of the kind
/// [`connection_error_kind`] gives (the orphan rule forbids a `From` impl
/// here).
///
/// ```
/// use mqtt_tokio::ConnectionError;
/// let e = mqtt_tokio::io_error(ConnectionError::KeepAliveTimeout);
/// assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
/// ```
pub fn io_error(e: ConnectionError) -> io::Error {
    io::Error::new(connection_error_kind(&e), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(Error::Full.io_kind(), io::ErrorKind::WouldBlock);
        assert_eq!(
            io::Error::from(Error::Closed).kind(),
            io::ErrorKind::NotConnected
        );
        assert_eq!(
            io::Error::from(Error::Refused(0x87)).kind(),
            io::ErrorKind::ConnectionRefused
        );
        let e = ConnectionError::ProtocolError("test");
        assert_eq!(io_error(e).kind(), io::ErrorKind::InvalidData);
        let e = ConnectionError::InvalidCall("test");
        assert_eq!(io_error(e).kind(), io::ErrorKind::InvalidInput);
        let e = ConnectionError::Session(SessionError::PacketIdsExhausted);
        assert_eq!(io_error(e).kind(), io::ErrorKind::WouldBlock);
        let e = io::Error::from(Error::Send(SendError::QueueFull));
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        let e = Error::Send(SendError::RetainNotSupported);
        assert_eq!(e.io_kind(), io::ErrorKind::InvalidInput);
    }
}

/// What [`Endpoint::try_forward`](crate::Endpoint::try_forward) or
/// [`Endpoint::forward`](crate::Endpoint::forward) could not hand to the
/// driver, given back so that the caller can keep it elsewhere (a broker:
/// in the client's stored session) without having cloned it first: a
/// [`GenericPacket`] (the default) or a [`Message`](mqtt_codec::Message).
#[derive(Debug)]
pub enum ForwardError<T = GenericPacket<u16>> {
    /// The command channel has no room.
    Full(T),
    /// The connection is closed.
    Closed(T),
}

impl<T> ForwardError<T> {
    /// What was not forwarded.
    pub fn into_inner(self) -> T {
        match self {
            ForwardError::Full(t) | ForwardError::Closed(t) => t,
        }
    }

    /// The matching [`Error`]: [`Error::Full`] or [`Error::Closed`].
    pub fn error(&self) -> Error {
        match self {
            ForwardError::Full(_) => Error::Full,
            ForwardError::Closed(_) => Error::Closed,
        }
    }
}

impl<P: mqtt_codec::PacketId> ForwardError<GenericPacket<P>> {
    /// The packet that was not forwarded.
    pub fn into_packet(self) -> GenericPacket<P> {
        self.into_inner()
    }
}

impl<T> std::fmt::Display for ForwardError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error().fmt(f)
    }
}

impl<T: std::fmt::Debug> std::error::Error for ForwardError<T> {}
