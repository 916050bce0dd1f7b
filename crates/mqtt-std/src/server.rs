//! Server side: [`GenericEndpoint::accept`].

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use mqtt_codec::{GenericPacket, PacketId};
use mqtt_core::{role, ConnectionOptions, GenericConnection};

use crate::{Deadline, GenericEndpoint};

/// How often a listener is polled while accepting with a timeout.
const ACCEPT_POLL: Duration = Duration::from_millis(1);

impl<P: PacketId> GenericEndpoint<role::Server, TcpStream, P> {
    /// Accepts one TCP connection from `listener` (with TCP_NODELAY) and
    /// waits for its CONNECT, whose version (v3.1.1 or v5.0) the endpoint
    /// takes (§3.1.2.2); the whole within `timeout`. Returns the endpoint
    /// and the CONNECT; answer it with a CONNACK through
    /// [`send`](GenericEndpoint::send).
    ///
    /// The listener is polled in non-blocking mode and left blocking.
    /// Errs with [`io::ErrorKind::TimedOut`] when nothing came in time, or
    /// with the core's error when the first packet is not a valid CONNECT
    /// (the core has answered as the spec asks and closed).
    ///
    /// ```no_run
    /// use std::net::TcpListener;
    /// use std::time::Duration;
    /// use mqtt_std::prelude::*;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// let mut options = ConnectionOptions::default();
    /// options.ack = AckPolicy::AfterHandling; // `acknowledge` once handled
    /// let (mut server, connect) = ServerEndpoint::accept(&listener, options, Duration::from_secs(5))?;
    /// if let GenericPacket::V5_0(_) = connect {
    ///     server.send(v5_0::Connack::builder().build()?)?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn accept(
        listener: &TcpListener,
        options: ConnectionOptions,
        timeout: Duration,
    ) -> io::Result<(Self, GenericPacket<P>)> {
        let deadline = Instant::now() + timeout;
        listener.set_nonblocking(true)?;
        let accepted = loop {
            match listener.accept() {
                Ok((stream, _)) => break Ok(stream),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        break Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no connection arrived in time",
                        ));
                    }
                    std::thread::sleep(ACCEPT_POLL);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        listener.set_nonblocking(false)?;
        let stream = accepted?;
        stream.set_nonblocking(false)?;
        stream.set_nodelay(true)?;
        let left = deadline.saturating_duration_since(Instant::now());
        Self::handshake(stream, options, left)
    }
}

impl<S: Read + Write + Deadline, P: PacketId> GenericEndpoint<role::Server, S, P> {
    /// Waits within `timeout` for the CONNECT on `stream` (connected,
    /// nothing exchanged yet) and learns the version from it; see
    /// [`accept`](GenericEndpoint::accept).
    pub fn handshake(
        stream: S,
        options: ConnectionOptions,
        timeout: Duration,
    ) -> io::Result<(Self, GenericPacket<P>)> {
        let conn = GenericConnection::<role::Server, P>::detect_version_with_options(options);
        let mut endpoint = GenericEndpoint::new(conn, stream);
        let connect = endpoint
            .recv_timeout(timeout)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "no CONNECT arrived in time"))?;
        Ok((endpoint, connect))
    }
}
