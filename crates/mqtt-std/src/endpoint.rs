//! [`GenericEndpoint`]: a connection of the core driven over a blocking
//! stream.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, ProtocolVersion};
use mqtt_core::{
    role, ConnectionError, ConnectionState, GenericConnection, GenericEvent, Role, TimerTable,
};
use mqtt_session::SessionError;

use crate::{io_error, Deadline};

mod drive;
mod send;

/// Bytes asked of the stream per read.
const READ_CHUNK: usize = 16 * 1024;
/// The shortest read timeout: a poll of what already arrived.
const POLL: Duration = Duration::from_micros(1);
/// Events kept for [`GenericEndpoint::take_events`]; older ones are dropped.
const MAX_KEPT_EVENTS: usize = 1024;

/// An MQTT connection of role `R` over a blocking stream `S`, with packet
/// identifiers of width `P`: it writes what the core asks to send, feeds
/// the core what arrives, runs its timers, and hands the application the
/// packets it must see.
///
/// - [`publish`](Self::publish) a [`Message`](mqtt_codec::Message) (the
///   core numbers it), or [`send`](Self::send) a packet. Beyond the peer's
///   Receive Maximum a QoS 1 or 2 PUBLISH waits in the core's session
///   queue and goes out as acknowledgements arrive (§4.9).
/// - [`acknowledge`](Self::acknowledge) a received QoS 1 or 2 PUBLISH once
///   handled, with [`AckPolicy::AfterHandling`](mqtt_core::AckPolicy).
/// - [`recv`](Self::recv) (or [`recv_timeout`](Self::recv_timeout)) the next
///   packet received; acknowledgements and PINGRESP the core answers itself
///   (as [`ConnectionOptions`](mqtt_core::ConnectionOptions) says) are sent
///   meanwhile.
/// - [`close`](Self::close) with DISCONNECT. Dropping the endpoint closes the
///   stream without DISCONNECT (a Server then publishes the Will Message).
///
/// **Timers.** Keep alive runs while the application is inside a call: in
/// `recv`, reads time out at the next timer, so a PINGREQ goes out and a
/// missing PINGRESP closes the connection on time. An application that only
/// calls `send` has its due timers run (and what arrived meanwhile read) at
/// its next `send`; one that stays away from the endpoint longer than the
/// Keep Alive must call [`recv_timeout`](Self::recv_timeout) now and then.
///
/// Events the application does not receive as packets (packet identifiers
/// released, errors not fatal to the connection) are kept, the last
/// 1024, for [`take_events`](Self::take_events).
#[derive(Debug)]
pub struct GenericEndpoint<R: Role, S = TcpStream, P: PacketId = u16> {
    conn: GenericConnection<R, P>,
    stream: S,
    read_buf: BytesMut,
    /// Packet heads (and whole packets without a payload) not written yet.
    out: BytesMut,
    /// Packet identifiers to release if `out` cannot be written.
    out_release: Vec<P>,
    received: VecDeque<GenericPacket<P>>,
    kept: VecDeque<GenericEvent<P>>,
    /// The timers the core asked for, as deadlines.
    timers: TimerTable<Instant>,
    origin: Instant,
    closed: bool,
    /// Why the connection closed, if the core reported it.
    close_error: Option<ConnectionError>,
    /// The kind of the stream error that closed it, if one did.
    close_io: Option<io::ErrorKind>,
    timeout: Option<Duration>,
}

/// [`GenericEndpoint`] with `u16` packet identifiers.
pub type Endpoint<R, S = TcpStream> = GenericEndpoint<R, S, u16>;
/// A Client endpoint with `u16` packet identifiers; see
/// [`connect`](GenericEndpoint::connect).
pub type ClientEndpoint<S = TcpStream> = GenericEndpoint<role::Client, S, u16>;
/// A Server endpoint with `u16` packet identifiers; see
/// [`accept`](GenericEndpoint::accept).
pub type ServerEndpoint<S = TcpStream> = GenericEndpoint<role::Server, S, u16>;

impl<R: Role, S: Read + Write + Deadline, P: PacketId> GenericEndpoint<R, S, P> {
    /// Drives `conn` over `stream`, which is connected and on which nothing
    /// was exchanged yet (or which matches the state of `conn`).
    pub fn new(conn: GenericConnection<R, P>, stream: S) -> Self {
        GenericEndpoint {
            conn,
            stream,
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            out: BytesMut::with_capacity(256),
            out_release: Vec::new(),
            received: VecDeque::new(),
            kept: VecDeque::new(),
            timers: TimerTable::new(),
            origin: Instant::now(),
            closed: false,
            close_error: None,
            close_io: None,
            timeout: None,
        }
    }

    /// Waits for the next packet the application must see (any packet the
    /// peer sent that passed the core's checks: PUBLISH, SUBACK, PUBACK,
    /// DISCONNECT, ...), answering and timing what the core automates
    /// meanwhile. Bounded by [`set_timeout`](Self::set_timeout) if set
    /// ([`io::ErrorKind::TimedOut`]).
    ///
    /// Packets that arrived before the connection closed are returned
    /// first; then it errs: [`io::ErrorKind::ConnectionAborted`] when the
    /// peer or [`close`](Self::close) closed it, the error of the core
    /// ([`io_error`]) when a protocol error or timeout did, or the stream's.
    pub fn recv(&mut self) -> io::Result<GenericPacket<P>> {
        match self.timeout {
            Some(timeout) => self.recv_timeout(timeout)?.ok_or_else(|| {
                io::Error::new(io::ErrorKind::TimedOut, "no packet arrived in time")
            }),
            None => loop {
                if let Some(packet) = self.recv_until(None)? {
                    return Ok(packet);
                }
            },
        }
    }

    /// [`recv`](Self::recv), returning `Ok(None)` when no packet arrived
    /// within `timeout`. With [`Duration::ZERO`] it handles what already
    /// arrived and runs due timers, with one minimal read wait (a socket
    /// read timeout of 1 µs, which the kernel may round up to a few
    /// milliseconds).
    pub fn recv_timeout(&mut self, timeout: Duration) -> io::Result<Option<GenericPacket<P>>> {
        self.recv_until(Some(Instant::now() + timeout))
    }

    /// Closes gracefully: first lets the messages waiting in the session's
    /// queue for the peer's Receive Maximum go out, reading
    /// acknowledgements, at most for the [`set_timeout`](Self::set_timeout)
    /// (what is still queued then stays in the session); then sends a
    /// DISCONNECT of the connection's version (v5.0: reason code 0x00, so
    /// the Server discards the Will Message [MQTT-3.14.4-3]) if the core
    /// allows it now (it refuses, for instance, on a v3.1.1 Server, which
    /// sends none), and closes the stream. Closing a closed endpoint does
    /// nothing. Errs with the stream's error.
    pub fn close(&mut self) -> io::Result<()> {
        let deadline = self.timeout.map(|t| Instant::now() + t);
        while !self.closed
            && self.conn.state() == ConnectionState::Connected
            && self.conn.session().queue_len() > 0
            && deadline.is_none_or(|d| Instant::now() < d)
        {
            self.step(deadline)?;
        }
        if self.closed {
            return Ok(());
        }
        let disconnect: Option<GenericPacket<P>> = match self.conn.version() {
            Some(ProtocolVersion::V5_0) => Some(
                v5_0::Packet::from(v5_0::Disconnect::new(
                    v5_0::DisconnectReasonCode::NormalDisconnection,
                ))
                .into(),
            ),
            Some(ProtocolVersion::V3_1_1) => Some(v3_1_1::Packet::from(v3_1_1::Disconnect).into()),
            None => None,
        };
        if let Some(disconnect) = disconnect {
            self.set_time();
            // Refused where the connection may send none (a v3.1.1 Server).
            if let Ok(events) = self.conn.send(disconnect) {
                self.handle(events)?;
            }
        }
        self.close_stream()
    }

    /// Takes a packet identifier for a PUBLISH (QoS 1 or 2), SUBSCRIBE or
    /// UNSUBSCRIBE; see [`GenericConnection::acquire_packet_id`]. When all
    /// are in use, reads and handles what arrives until an acknowledgement
    /// frees one, at most for the [`set_timeout`](Self::set_timeout) (then
    /// errs with [`io::ErrorKind::TimedOut`]); errs with
    /// [`io::ErrorKind::WouldBlock`] when not connected.
    pub fn acquire_packet_id(&mut self) -> io::Result<P> {
        let deadline = self.timeout.map(|t| Instant::now() + t);
        loop {
            match self.conn.acquire_packet_id() {
                Ok(id) => return Ok(id),
                Err(ConnectionError::Session(SessionError::PacketIdsExhausted))
                    if !self.closed && self.conn.state() == ConnectionState::Connected =>
                {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no packet identifier freed in time",
                        ));
                    }
                    self.step(deadline)?;
                }
                Err(e) => return Err(io_error(e)),
            }
        }
    }

    /// Bounds [`recv`](Self::recv), and the waits of [`send`](Self::send)
    /// and [`publish`](Self::publish) for room in a full session queue and
    /// of [`acquire_packet_id`](Self::acquire_packet_id) for a free
    /// identifier; `None` (the default) waits as long as the connection
    /// lives.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The events the application did not receive as packets
    /// ([`GenericEvent::NotifyPacketIdReleased`],
    /// [`GenericEvent::NotifyError`]), oldest first, up to the last 1024.
    pub fn take_events(&mut self) -> Vec<GenericEvent<P>> {
        self.kept.drain(..).collect()
    }

    /// Whether the network connection is closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The MQTT version (a Server learns it from the CONNECT).
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.conn.version()
    }

    /// The core's connection: what CONNECT and CONNACK configured, the
    /// session, the state.
    pub fn connection(&self) -> &GenericConnection<R, P> {
        &self.conn
    }

    /// The core's connection, to change its options or session. Events its
    /// methods return are not handled by the endpoint.
    pub fn connection_mut(&mut self) -> &mut GenericConnection<R, P> {
        &mut self.conn
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream, e.g. to set a write timeout. Reading or writing it
    /// directly breaks the connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Takes the endpoint apart: the core's connection (with its session)
    /// and the stream.
    pub fn into_parts(self) -> (GenericConnection<R, P>, S) {
        (self.conn, self.stream)
    }

    /// Closes the current stream if open (without DISCONNECT) and drives
    /// the connection over `stream` from now on.
    pub(crate) fn replace_stream(&mut self, stream: S) -> io::Result<()> {
        self.close_stream()?;
        self.stream = stream;
        self.closed = false;
        self.close_error = None;
        self.close_io = None;
        self.read_buf.clear();
        self.out.clear();
        self.out_release.clear();
        self.timers.clear();
        Ok(())
    }

    /// Takes the packets received and not yet returned.
    pub(crate) fn stash_received(&mut self) -> VecDeque<GenericPacket<P>> {
        std::mem::take(&mut self.received)
    }

    /// Puts `stashed` back in front of the packets received since.
    pub(crate) fn unstash_received(&mut self, mut stashed: VecDeque<GenericPacket<P>>) {
        stashed.append(&mut self.received);
        self.received = stashed;
    }
}
