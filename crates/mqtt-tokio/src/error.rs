//! [`Error`]: what an endpoint reports, and its conversion to
//! [`std::io::Error`].

use std::io;

use mqtt_codec::{GenericPacket, PacketId};
use mqtt_core::ConnectionError;
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
    /// The connection refused a packet we tried to send (nothing was sent),
    /// or the peer broke the protocol and the connection closed; see
    /// [`ConnectionError::reason_code`].
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// [`try_send`](crate::Endpoint::try_send) found the peer's Receive
    /// Maximum used up (§3.3.4), or the command channel full: nothing was
    /// sent, try again later or use [`send`](crate::Endpoint::send), which
    /// waits.
    #[error("the send quota or the command channel is full")]
    Full,
    /// The Server answered CONNECT with this refusing CONNACK return code
    /// (v3.1.1, §3.2.2.3) or Reason Code (v5.0, §3.2.2.2).
    #[error("the server refused the connection with code {0:#04x}")]
    Refused(u8),
    /// The network connection is closed (or the endpoint's driver ended).
    #[error("the connection is closed")]
    Closed,
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
            Error::Connection(e) => connection_error_kind(e),
            Error::Full => io::ErrorKind::WouldBlock,
            Error::Refused(_) => io::ErrorKind::ConnectionRefused,
            Error::Closed => io::ErrorKind::NotConnected,
        }
    }
}

/// The [`io::ErrorKind`] of a [`ConnectionError`]: `InvalidData` for what
/// the peer sent (it has a reason code), `TimedOut` for keep alive
/// timeouts, `WouldBlock` for a used up send quota, `InvalidInput` for a
/// packet refused on send.
pub fn connection_error_kind(e: &ConnectionError) -> io::ErrorKind {
    match e {
        ConnectionError::KeepAliveTimeout | ConnectionError::PingrespTimeout => {
            io::ErrorKind::TimedOut
        }
        ConnectionError::Session(SessionError::QuotaExceeded) => io::ErrorKind::WouldBlock,
        ConnectionError::Session(SessionError::NotConnected) => io::ErrorKind::NotConnected,
        e if e.reason_code().is_some() => io::ErrorKind::InvalidData,
        _ => io::ErrorKind::InvalidInput,
    }
}

/// A [`ConnectionError`] as an [`io::Error`] of the kind
/// [`connection_error_kind`] gives (the orphan rule forbids a `From` impl
/// here).
///
/// ```
/// use mqtt_core::ConnectionError;
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
        let e = ConnectionError::Session(SessionError::QuotaExceeded);
        assert_eq!(io_error(e).kind(), io::ErrorKind::WouldBlock);
    }
}

/// A packet that [`Endpoint::try_forward`](crate::Endpoint::try_forward) or
/// [`Endpoint::forward`](crate::Endpoint::forward) could not hand to the
/// driver, given back so that the caller can keep it elsewhere (a broker:
/// in the client's stored session) without having cloned it first.
#[derive(Debug)]
pub enum ForwardError<P: PacketId = u16> {
    /// The command channel has no room.
    Full(GenericPacket<P>),
    /// The connection is closed.
    Closed(GenericPacket<P>),
}

impl<P: PacketId> ForwardError<P> {
    /// The packet that was not forwarded.
    pub fn into_packet(self) -> GenericPacket<P> {
        match self {
            ForwardError::Full(p) | ForwardError::Closed(p) => p,
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

impl<P: PacketId> std::fmt::Display for ForwardError<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error().fmt(f)
    }
}

impl<P: PacketId> std::error::Error for ForwardError<P> {}
