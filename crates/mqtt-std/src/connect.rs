//! Client side of the endpoint: [`GenericEndpoint::connect`] and [`ConnectPacket`].

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId};
use mqtt_core::{role, ConnectionOptions, ConnectionState, GenericConnection};

use crate::{Deadline, GenericEndpoint};

/// A CONNECT packet: [`v3_1_1::Connect`], [`v5_0::Connect`], or a
/// [`GenericPacket`] holding one. Its version is the connection's.
pub trait ConnectPacket<P: PacketId> {
    /// The packet, of either version.
    fn into_packet(self) -> GenericPacket<P>;
}

impl<P: PacketId> ConnectPacket<P> for v3_1_1::Connect {
    fn into_packet(self) -> GenericPacket<P> {
        v3_1_1::Packet::from(self).into()
    }
}

impl<P: PacketId> ConnectPacket<P> for v5_0::Connect {
    fn into_packet(self) -> GenericPacket<P> {
        v5_0::Packet::from(self).into()
    }
}

impl<P: PacketId> ConnectPacket<P> for GenericPacket<P> {
    fn into_packet(self) -> GenericPacket<P> {
        self
    }
}

impl<P: PacketId> GenericEndpoint<role::Client, TcpStream, P> {
    /// Connects over TCP to `addr` (each address it resolves to in turn,
    /// with TCP_NODELAY), sends `connect`, and waits for the CONNACK; the
    /// whole within `timeout`. Returns the endpoint and the CONNACK (with
    /// enhanced authentication (§4.12), the AUTH that came first).
    ///
    /// Errs with [`io::ErrorKind::TimedOut`] when no CONNACK came in time,
    /// [`io::ErrorKind::ConnectionRefused`] when the CONNACK refused (the
    /// message shows it), or the error of the connect or the stream.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use mqtt_std::prelude::*;
    ///
    /// let connect = v5_0::Connect::builder().try_client_id("sensor-1")?.keep_alive(30).build()?;
    /// let (client, connack) = ClientEndpoint::connect(
    ///     "127.0.0.1:1883",
    ///     connect,
    ///     ConnectionOptions::default(),
    ///     Duration::from_secs(5),
    /// )?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect(
        addr: impl ToSocketAddrs,
        connect: impl ConnectPacket<P>,
        options: ConnectionOptions,
        timeout: Duration,
    ) -> io::Result<(Self, GenericPacket<P>)> {
        let deadline = Instant::now() + timeout;
        let stream = tcp_connect(addr, deadline)?;
        let left = deadline.saturating_duration_since(Instant::now());
        Self::handshake(stream, connect, options, left)
    }
}

impl<S: Read + Write + Deadline, P: PacketId> GenericEndpoint<role::Client, S, P> {
    /// Sends `connect` on `stream` (connected, nothing exchanged yet) and
    /// waits for the CONNACK within `timeout`; see
    /// [`connect`](GenericEndpoint::connect).
    pub fn handshake(
        stream: S,
        connect: impl ConnectPacket<P>,
        options: ConnectionOptions,
        timeout: Duration,
    ) -> io::Result<(Self, GenericPacket<P>)> {
        let packet = connect.into_packet();
        let conn = GenericConnection::with_options(packet.version(), options);
        let mut endpoint = GenericEndpoint::new(conn, stream);
        let connack = endpoint.connect_on_stream(packet, timeout)?;
        Ok((endpoint, connack))
    }

    /// Continues the session on a new network connection `stream`: closes
    /// the current one if open (without DISCONNECT, as a lost connection),
    /// sends `connect` (of the same version; Clean Session / Clean Start 0
    /// to resume the session) and waits for the CONNACK within `timeout`.
    /// With Session Present 1 the core re-sends the unacknowledged PUBLISH
    /// and PUBREL packets [MQTT-4.4.0-1]. Packets received on the old
    /// connection and not yet taken stay first in line for
    /// [`recv`](GenericEndpoint::recv).
    ///
    /// Errs like [`connect`](GenericEndpoint::connect).
    pub fn reconnect_on(
        &mut self,
        stream: S,
        connect: impl ConnectPacket<P>,
        timeout: Duration,
    ) -> io::Result<GenericPacket<P>> {
        self.replace_stream(stream)?;
        self.connect_on_stream(connect.into_packet(), timeout)
    }

    /// Sends CONNECT and waits for the CONNACK (or the first AUTH), the
    /// first packet of a connection [MQTT-3.2.0-1]; packets left from an
    /// earlier connection stay first in line.
    fn connect_on_stream(
        &mut self,
        connect: GenericPacket<P>,
        timeout: Duration,
    ) -> io::Result<GenericPacket<P>> {
        let stashed = self.stash_received();
        let first = self
            .send_generic(connect)
            .and_then(|()| self.recv_timeout(timeout));
        self.unstash_received(stashed);
        let packet = first?
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "no CONNACK arrived in time"))?;
        match self.connection().state() {
            ConnectionState::Connected | ConnectionState::Connecting => Ok(packet),
            _ => Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("the server refused the connection: {packet:?}"),
            )),
        }
    }
}

impl<P: PacketId> GenericEndpoint<role::Client, TcpStream, P> {
    /// [`reconnect_on`](GenericEndpoint::reconnect_on) a new TCP connection
    /// to `addr`, within `timeout`.
    pub fn reconnect(
        &mut self,
        addr: impl ToSocketAddrs,
        connect: impl ConnectPacket<P>,
        timeout: Duration,
    ) -> io::Result<GenericPacket<P>> {
        let deadline = Instant::now() + timeout;
        let stream = tcp_connect(addr, deadline)?;
        let left = deadline.saturating_duration_since(Instant::now());
        self.reconnect_on(stream, connect, left)
    }
}

/// Connects to each address `addr` resolves to in turn, until `deadline`;
/// sets TCP_NODELAY.
fn tcp_connect(addr: impl ToSocketAddrs, deadline: Instant) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
    for addr in addr.to_socket_addrs()? {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}
