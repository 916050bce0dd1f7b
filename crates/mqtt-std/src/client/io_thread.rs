//! The loop of one network connection, on the client's I/O thread:
//! read → `recv` → handle the events → write, with the core's timers and
//! the handles' commands.
//!
//! Two threads per connection. A reader thread blocks in `read` on a
//! `try_clone` of the socket and hands each chunk to the [`Mailbox`]; the
//! I/O thread owns the connection and the writing side, and sleeps in the
//! mailbox until a chunk, a command, a stop or the next timer's deadline
//! (from the core's [`TimerTable`](mqtt_core::TimerTable)). A command thus
//! goes out at once, not after a read timeout, and an idle client wakes
//! only for its keep alive. To end a connection the I/O thread shuts the
//! socket down, which ends the reader's `read`.

use std::io::{self, Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::mpsc::TrySendError;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, Encode, GenericPacket, ProtocolVersion};
use mqtt_core::tracker::{subscribe_packet, unsubscribe_packet};
use mqtt_core::{ConnectionError, ConnectionState, GenericEvent, MonotonicTime, TimerTable};

use super::mailbox::{Next, Read, Want};
use super::supervisor::Runner;
use super::{reply, send_answer, Command, Delivered, Error, Shared};

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;
/// Received messages held while [`Messages`](crate::Messages) is full,
/// beyond which the I/O thread stops taking what the reader read.
const MAX_PENDING: usize = 1024;

/// One network connection: the socket's writing side and what the loop
/// keeps about it.
pub(super) struct Link {
    pub(super) stream: TcpStream,
    out: BytesMut,
    pub(super) rbuf: BytesMut,
    pub(super) timers: TimerTable<Instant>,
    /// The CONNACK, once received.
    pub(super) connack: Option<GenericPacket>,
    /// The socket is shut down and the core told.
    pub(super) closed: bool,
    /// Why it closed, when it was not asked to.
    pub(super) reason: Option<Error>,
    last_error: Option<ConnectionError>,
}

impl Link {
    pub(super) fn new(stream: TcpStream) -> Self {
        Link {
            stream,
            out: BytesMut::new(),
            rbuf: BytesMut::new(),
            timers: TimerTable::new(),
            connack: None,
            closed: false,
            reason: None,
            last_error: None,
        }
    }
}

/// The reader thread of connection `generation`: blocks in `read` and
/// hands each chunk to the mailbox, until the end of the stream.
pub(super) fn reader(mut stream: TcpStream, generation: u64, shared: Arc<Shared>) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let read = match stream.read(&mut buf) {
            Ok(0) => Read::End(None),
            Ok(n) => Read::Data(bytes::Bytes::copy_from_slice(&buf[..n])),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Read::End(Some(e)),
        };
        let end = matches!(read, Read::End(_));
        if !shared.mailbox.push_read(generation, read) || end {
            return;
        }
    }
}

impl Runner {
    /// Runs the established connection `link` until it ends. Returns
    /// whether the application ended the client (disconnect, or every
    /// handle and the messages dropped).
    pub(super) fn drive(&mut self, link: &mut Link) -> bool {
        let mut stopping = false;
        let mut drain_until = None;
        loop {
            self.fire_timers(link);
            self.deliver_pending();
            if link.closed {
                return stopping;
            }
            if let Some(until) = drain_until {
                let queued = self.conn.session().queue_len() > 0;
                if !queued || Instant::now() >= until {
                    self.disconnect(link);
                    return true;
                }
            }
            let want = Want {
                reads: self.pending.len() < MAX_PENDING,
                commands: !stopping,
                stop: !stopping,
            };
            let deadline = link
                .timers
                .next_deadline()
                .into_iter()
                .chain(drain_until)
                .min();
            match self.shared.mailbox.next(deadline, want) {
                Next::Read(Read::Data(bytes)) => {
                    link.rbuf.extend_from_slice(&bytes);
                    self.set_time();
                    let events = self.conn.recv(&mut link.rbuf);
                    self.handle(link, events);
                }
                Next::Read(Read::End(error)) => {
                    let error = error.unwrap_or_else(|| io::ErrorKind::UnexpectedEof.into());
                    link.reason.get_or_insert(Error::Io(error));
                    self.close_link(link);
                }
                Next::Command(command) => self.on_command(link, command),
                Next::Stop | Next::Abandoned => {
                    // The messages waiting for the broker's Receive
                    // Maximum go out first, within the close timeout.
                    stopping = true;
                    drain_until = Some(Instant::now() + self.options.close_timeout);
                }
                Next::Room | Next::Timeout => {}
            }
        }
    }

    /// Sends DISCONNECT (v5.0: Normal Disconnection, so the Will Message
    /// is discarded [MQTT-3.14.4-3]) and closes.
    fn disconnect(&mut self, link: &mut Link) {
        let disconnect = match self.conn.version() {
            Some(ProtocolVersion::V3_1_1) => Some(GenericPacket::V3_1_1(v3_1_1::Disconnect.into())),
            Some(ProtocolVersion::V5_0) => Some(GenericPacket::V5_0(
                v5_0::Disconnect::new(v5_0::DisconnectReasonCode::NormalDisconnection).into(),
            )),
            None => None,
        };
        if let (Some(packet), ConnectionState::Connected) = (disconnect, self.conn.state()) {
            self.set_time();
            if let Ok(events) = self.conn.send(packet) {
                self.handle(link, events);
            }
        }
        self.close_link(link);
    }

    /// Fires the timers whose time has come, the earliest first.
    pub(super) fn fire_timers(&mut self, link: &mut Link) {
        while !link.closed {
            let Some(kind) = link.timers.expired(Instant::now()) else {
                return;
            };
            self.set_time();
            let events = self.conn.notify_timer_fired(kind);
            self.handle(link, events);
        }
    }

    fn on_command(&mut self, link: &mut Link, command: Command) {
        self.set_time();
        match command {
            Command::Publish { message, reply: r } => match self.conn.publish(message) {
                Ok(published) => {
                    let answer_now = match (published.packet_id, r) {
                        (Some(id), Some(r)) => {
                            self.tracker.wait_publish(id, r);
                            None
                        }
                        (_, r) => r,
                    };
                    self.handle(link, published.events);
                    if let Some(r) = answer_now {
                        reply(r, Ok(Delivered::Sent));
                    }
                }
                Err(e) => {
                    if let Some(r) = r {
                        reply(r, Err(Error::Send(e)));
                    }
                }
            },
            Command::Subscribe {
                subscriptions,
                reply: r,
            } => {
                let version = self.conn.version();
                let build = |id| subscribe_packet(version?, id, &subscriptions).ok();
                match self.send_request(link, build) {
                    Ok((id, events)) => {
                        self.tracker.wait_subscribe(id, subscriptions, Some(r));
                        self.handle(link, events);
                    }
                    Err(e) => reply(r, Err(e)),
                }
            }
            Command::Unsubscribe { filters, reply: r } => {
                let version = self.conn.version();
                let build = |id| unsubscribe_packet(version?, id, &filters).ok();
                match self.send_request(link, build) {
                    Ok((id, events)) => {
                        self.tracker.wait_unsubscribe(id, filters, r);
                        self.handle(link, events);
                    }
                    Err(e) => reply(r, Err(e)),
                }
            }
        }
    }

    /// Hands the connection the packet `build` makes with a new packet
    /// identifier; returns the identifier and the events to handle once
    /// the caller waits for the answer. Gives the identifier back when the
    /// packet is refused.
    pub(super) fn send_request(
        &mut self,
        link: &mut Link,
        build: impl FnOnce(u16) -> Option<GenericPacket>,
    ) -> Result<(u16, Vec<GenericEvent>), Error> {
        let id = self.conn.acquire_packet_id()?;
        let sent = match build(id) {
            Some(packet) => self.conn.send(packet).map_err(Error::Send),
            None => Err(Error::Closed),
        };
        match sent {
            Ok(events) => Ok((id, events)),
            Err(e) => {
                let events = self.conn.release_packet_id(id);
                self.handle(link, events);
                Err(e)
            }
        }
    }

    /// Handles the events of one call, in order, then writes.
    pub(super) fn handle(&mut self, link: &mut Link, events: Vec<GenericEvent>) {
        let mut close = false;
        for event in events {
            match event {
                // A SUBSCRIBE or UNSUBSCRIBE not written has its identifier
                // released by the tracker when the connection ends.
                // A packet the connection accepted but that cannot be
                // encoded is dropped, as mqtt-tokio's driver does (a stored
                // PUBLISH goes again on the next connection).
                GenericEvent::RequestSendPacket { packet, .. } => {
                    if !link.closed {
                        let _ = packet.encode(&mut link.out);
                    }
                }
                GenericEvent::NotifyPacketReceived(packet) => self.received(link, packet),
                GenericEvent::NotifyPacketIdReleased(id) => {
                    if let Some(answer) = self.tracker.on_released(id) {
                        send_answer(answer);
                    }
                }
                timer @ (GenericEvent::RequestTimerReset { .. }
                | GenericEvent::RequestTimerCancel(_)) => {
                    link.timers.apply(&timer, Instant::now());
                }
                // A queued message refused as it left the queue: its
                // identifier is released, which answers its caller.
                GenericEvent::NotifyError(ConnectionError::Refused(_)) => {}
                GenericEvent::NotifyError(e) => link.last_error = Some(e),
                GenericEvent::RequestClose => close = true,
            }
        }
        if !link.closed && !link.out.is_empty() {
            let written = link.stream.write_all(&link.out);
            link.out.clear();
            if let Err(e) = written {
                link.reason.get_or_insert(Error::Io(e));
                close = true;
            }
        }
        if close {
            if let Some(e) = link.last_error.take() {
                link.reason.get_or_insert(Error::Connection(e));
            }
            self.close_link(link);
        }
    }

    /// A received packet: the CONNACK is kept, a message goes to the
    /// application, an acknowledgement answers its caller.
    fn received(&mut self, link: &mut Link, packet: GenericPacket) {
        match packet {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => self.deliver(p.into_message()),
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => self.deliver(p.into_message()),
            p if p.packet_type() == PacketType::Connack => link.connack = Some(p),
            p => {
                if let Some(answer) = self.tracker.on_packet(&p) {
                    send_answer(answer);
                }
            }
        }
    }

    /// Hands a message to [`Messages`](crate::Messages), behind those
    /// waiting for room.
    fn deliver(&mut self, message: mqtt_codec::Message) {
        if self.incoming.is_some() {
            self.pending.push_back(message);
            self.deliver_pending();
        }
    }

    /// Hands over the messages waiting, while `Messages` has room.
    pub(super) fn deliver_pending(&mut self) {
        // Set before trying, so that a message taken meanwhile wakes us.
        self.shared.blocked.store(true, Ordering::SeqCst);
        while let Some(message) = self.pending.pop_front() {
            let Some(incoming) = &self.incoming else {
                self.pending.clear();
                break;
            };
            match incoming.try_send(message) {
                Ok(()) => {}
                Err(TrySendError::Full(message)) => {
                    self.pending.push_front(message);
                    return;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.incoming = None;
                    self.pending.clear();
                }
            }
        }
        self.shared.blocked.store(false, Ordering::SeqCst);
    }

    /// Shuts the socket down (which ends the reader), fails the requests
    /// that are not sent again, and tells the core; once.
    pub(super) fn close_link(&mut self, link: &mut Link) {
        if link.closed {
            return;
        }
        link.closed = true;
        let _ = link.stream.shutdown(Shutdown::Both);
        link.timers.clear();
        let conn = &mut self.conn;
        let answers = self
            .tracker
            .connection_ended(|id| drop(conn.release_packet_id(id)));
        answers.into_iter().for_each(send_answer);
        self.set_time();
        let events = self.conn.notify_closed();
        self.handle(link, events);
    }

    pub(super) fn set_time(&mut self) {
        let now = MonotonicTime::from_instant(self.origin, Instant::now());
        self.conn.set_time(now);
    }
}
