//! [`Deadline`]: what the endpoint needs of a stream beyond `Read + Write`.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A stream whose reads can be bounded in time, so that the endpoint wakes
/// up for its timers (PINGREQ to send, PINGRESP overdue) while it waits for
/// a packet.
///
/// [`TcpStream`] implements it with
/// [`set_read_timeout`](TcpStream::set_read_timeout) and
/// [`shutdown`](TcpStream::shutdown). A stream that cannot time out its reads
/// may implement [`set_read_deadline`](Deadline::set_read_deadline) as a
/// no-op: its timers then run only when something arrives or the
/// application calls the endpoint.
pub trait Deadline {
    /// Bounds the next reads to `timeout` (never zero); `None` blocks until
    /// data arrives. A read that times out errs with
    /// [`io::ErrorKind::WouldBlock`] or [`io::ErrorKind::TimedOut`].
    fn set_read_deadline(&mut self, timeout: Option<Duration>) -> io::Result<()>;

    /// Closes both directions of the stream. The default does nothing (the
    /// stream closes when dropped).
    fn shutdown(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Deadline for TcpStream {
    fn set_read_deadline(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        TcpStream::shutdown(self, Shutdown::Both)
    }
}

impl<T: Deadline + ?Sized> Deadline for &mut T {
    fn set_read_deadline(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_deadline(timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        (**self).shutdown()
    }
}
