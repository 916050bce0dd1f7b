//! Errors of the core as [`std::io::Error`].

use std::io;

use mqtt_core::ConnectionError;
use mqtt_session::SessionError;

/// Converts a [`ConnectionError`] into an [`io::Error`] whose source it is
/// (`err.get_ref()` and `downcast_ref::<ConnectionError>()` give it back):
///
/// - what the peer broke (the error has a v5.0 reason code):
///   [`io::ErrorKind::InvalidData`];
/// - a Keep Alive or PINGRESP timeout: [`io::ErrorKind::TimedOut`];
/// - packet identifiers or the send quota used up, a full queue:
///   [`io::ErrorKind::WouldBlock`] (retry once acknowledgements came);
/// - a packet refused on send (role, state, limits of the CONNACK):
///   [`io::ErrorKind::InvalidInput`].
///
/// ```
/// use mqtt_core::ConnectionError;
/// let err = mqtt_std::io_error(ConnectionError::KeepAliveTimeout);
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// ```
pub fn io_error(err: ConnectionError) -> io::Error {
    let kind = match &err {
        ConnectionError::KeepAliveTimeout | ConnectionError::PingrespTimeout => {
            io::ErrorKind::TimedOut
        }
        ConnectionError::Session(
            SessionError::PacketIdsExhausted
            | SessionError::QuotaExceeded
            | SessionError::QueueFull,
        ) => io::ErrorKind::WouldBlock,
        e if e.reason_code().is_some() => io::ErrorKind::InvalidData,
        _ => io::ErrorKind::InvalidInput,
    };
    io::Error::new(kind, err)
}
