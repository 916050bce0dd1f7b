//! Errors of the core as [`std::io::Error`].

use std::io;

use mqtt_core::{ConnectionError, SendError};
use mqtt_session::SessionError;

/// Converts a [`ConnectionError`] into an [`io::Error`] whose source it is
/// (`err.get_ref()` and `downcast_ref::<ConnectionError>()` give it back):
///
/// - what the peer broke (the error has a v5.0 reason code):
///   [`io::ErrorKind::InvalidData`];
/// - a Keep Alive or PINGRESP timeout: [`io::ErrorKind::TimedOut`];
/// - packet identifiers used up: [`io::ErrorKind::WouldBlock`] (retry once
///   acknowledgements came);
/// - anything else (a queued message refused when it left the queue, an
///   invalid call): [`io::ErrorKind::InvalidInput`].
///
/// ```
/// use mqtt_std::mqtt_core::ConnectionError;
/// let err = mqtt_std::io_error(ConnectionError::KeepAliveTimeout);
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// ```
pub fn io_error(err: ConnectionError) -> io::Error {
    let kind = match &err {
        ConnectionError::KeepAliveTimeout | ConnectionError::PingrespTimeout => {
            io::ErrorKind::TimedOut
        }
        ConnectionError::Session(SessionError::PacketIdsExhausted) => io::ErrorKind::WouldBlock,
        e if e.reason_code().is_some() => io::ErrorKind::InvalidData,
        _ => io::ErrorKind::InvalidInput,
    };
    io::Error::new(kind, err)
}

/// Converts a [`SendError`] (a packet, message or acknowledgement the core
/// refused; nothing was sent) into an [`io::Error`] whose source it is:
/// [`io::ErrorKind::WouldBlock`] for a full session queue
/// ([`SendError::QueueFull`]: retry once acknowledgements came),
/// [`io::ErrorKind::InvalidInput`] for the rest.
///
/// ```
/// use mqtt_std::mqtt_core::SendError;
/// let err = mqtt_std::send_io_error(SendError::QueueFull);
/// assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
/// ```
pub fn send_io_error(err: SendError) -> io::Error {
    let kind = match err {
        SendError::QueueFull => io::ErrorKind::WouldBlock,
        _ => io::ErrorKind::InvalidInput,
    };
    io::Error::new(kind, err)
}

/// Whether a read with a deadline ended without data and without a fault:
/// the deadline passed (`WouldBlock` or `TimedOut`, by platform) or a
/// signal interrupted it. The caller carries on with its timers.
pub(crate) fn read_timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}
