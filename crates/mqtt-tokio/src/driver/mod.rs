//! The driver task: owns a [`GenericConnection`] and the transport, and
//! runs the loop read → `recv` → handle events → write, with the commands
//! of the endpoint handles and the timers the connection asks for.
//!
//! It never awaits the application: received packets wait in a bounded
//! queue that it hands over when the [`Incoming`](crate::Incoming) queue
//! has room, and writes go through a buffer drained when the socket is
//! writable. It keeps no queue of messages: a PUBLISH beyond the peer's
//! Receive Maximum waits in the connection's session queue.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant as StdInstant;

use bytes::BytesMut;
use mqtt_codec::v5_0::SubscriptionOptions;
use mqtt_codec::v5_0::{PubackProperties, PubackReasonCode};
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, Message, PacketId, TopicFilter};
use mqtt_core::role::Role;
use mqtt_core::{ConnectionError, ConnectionState, GenericConnection, MonotonicTime};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::queue::{self, Fifo};
use crate::{Config, Error, Status};

mod commands;
mod events;
mod out;
mod read;
pub(crate) mod tracker;

use read::read_some;
use tracker::{Delivered, Granted, LazyTracker};

/// Commands taken at once before the driver writes.
const COMMAND_BATCH: usize = 64;

/// The checks of a hibernation period (`Config::hibernate_after`): a
/// connection hibernates at most this fraction of a period late.
const HIBERNATE_CHECKS: u32 = 4;

/// An emptied write buffer larger than this is freed (after a burst).
const OUT_KEEP: usize = 16 * 1024;

/// A reply channel.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// Where the answer to a `Send` goes: `None` for a forward.
pub(crate) type SendReply<P> = Option<Reply<Option<P>>>;

/// A v5.0 Reason Code and properties to acknowledge with.
pub(crate) type Answer = Box<(PubackReasonCode, PubackProperties)>;

/// What an endpoint handle asks its driver. Nearly every command is a
/// `Send` or a `Publish`, so boxing them would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Command<P: PacketId> {
    /// Send a packet; `assign_id`: give a QoS 1 or 2 PUBLISH a new packet
    /// identifier. The answer is the PUBLISH's packet identifier; `None`:
    /// a forward, whose outcome nobody waits for.
    Send {
        packet: GenericPacket<P>,
        assign_id: bool,
        reply: SendReply<P>,
    },
    /// Publish a message, numbered by the connection; the answer is its
    /// packet identifier (`None`: a forward).
    Publish {
        message: Message,
        reply: SendReply<P>,
    },
    /// Acknowledge a received QoS 1 or 2 PUBLISH (Success without an
    /// answer); nobody waits for the outcome.
    Acknowledge(P, Option<Answer>),
    /// Replace the connection's session by an exported one (before CONNACK).
    ImportSession(Vec<u8>, Reply<()>),
    AcquirePacketId(Reply<P>),
    ReleasePacketId(P),
    Status(Reply<Status>),
    /// DISCONNECT (where the connection may send one), then shut down.
    Close(Reply<()>),
    /// High-level client: publish a message, numbered by the connection;
    /// the answer comes when its flow ends (at once for QoS 0).
    PublishAcked {
        message: Message,
        reply: Reply<Delivered>,
    },
    /// High-level client: a SUBSCRIBE of the connection's version; the
    /// answer is its SUBACK's.
    Subscribe {
        subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
        reply: Reply<Vec<Granted>>,
    },
    /// High-level client: an UNSUBSCRIBE; the answer is its UNSUBACK's
    /// Reason Codes (v3.1.1: Success for each).
    Unsubscribe {
        filters: Vec<TopicFilter>,
        reply: Reply<Vec<u8>>,
    },
}

/// What a high-level client's driver hands to the driver of its next
/// network connection: the channels to the handles, the packets not yet
/// delivered, and who waits for what.
pub(crate) struct Handover<P: PacketId> {
    pub(crate) cmd_rx: queue::Receiver<Command<P>>,
    pub(crate) incoming_tx: queue::Sender<GenericPacket<P>>,
    pub(crate) pending: Fifo<GenericPacket<P>>,
    pub(crate) tracker: LazyTracker<P>,
    /// The application closed the client, or dropped every handle and the
    /// receiver: no reconnection.
    pub(crate) ended: bool,
}

impl<P: PacketId> Handover<P> {
    /// A new client's: the channels (the command sender and the incoming
    /// receiver go to the application) and an empty tracker.
    pub(crate) fn new(
        config: &Config,
        resubscribe: bool,
    ) -> (
        Self,
        queue::Sender<Command<P>>,
        queue::Receiver<GenericPacket<P>>,
    ) {
        let (tx, cmd_rx) = queue::bounded(config.command_capacity);
        let (incoming_tx, rx) = queue::bounded(config.incoming_capacity);
        let handover = Handover {
            cmd_rx,
            incoming_tx,
            pending: Fifo::default(),
            tracker: LazyTracker::new(resubscribe),
            ended: false,
        };
        (handover, tx, rx)
    }
}

/// What the driver leaves when it ends.
pub(crate) struct Finished<R: Role, P: PacketId> {
    /// `None` when the connection hibernated.
    pub(crate) connection: Option<GenericConnection<R, P>>,
    pub(crate) leftover: VecDeque<GenericPacket<P>>,
    pub(crate) reason: Option<Error>,
    /// A high-level client's state, for its next network connection or its
    /// end (`None` for an endpoint).
    pub(crate) handover: Option<Handover<P>>,
    /// The connection hibernated (`Config::hibernate_after`): a boxed
    /// [`Hibernated`](crate::Hibernated) of the transport's type, and no
    /// `connection` here.
    pub(crate) hibernated: Option<Box<dyn std::any::Any + Send>>,
}

pub(crate) struct Driver<R: Role, P: PacketId, S> {
    pub(crate) conn: GenericConnection<R, P>,
    read: ReadHalf<S>,
    write: WriteHalf<S>,
    /// Shared by the connections of a server, and by a client's.
    config: Arc<Config>,
    rbuf: BytesMut,
    out: out::Out,
    /// Bytes queued into `out` and written, since the start.
    queued: u64,
    written: u64,
    /// Identifiers to release if the packet ending at that offset is never
    /// written.
    out_ids: Fifo<(u64, P)>,
    /// Received packets that found the incoming queue full.
    pending: Fifo<GenericPacket<P>>,
    /// Forwarded packets and messages the connection refused.
    pub(crate) dropped: u64,
    /// Queued messages refused as they left the session's queue.
    pub(crate) refused: u64,
    timers: crate::timers::Timers,
    /// The sleep of the close deadline, or before that of the CONNECT
    /// (CONNACK) deadline: created on first use, freed while no deadline
    /// runs.
    close_sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// When the network connection is dropped if no CONNECT arrived
    /// (Server, `Config::connect_timeout`), or no CONNACK (a high-level
    /// client, its `connect_timeout`).
    connect_deadline: Option<Instant>,
    cmd_rx: queue::Receiver<Command<P>>,
    incoming_tx: queue::Sender<GenericPacket<P>>,
    /// The application dropped its `Incoming`: received packets are dropped.
    discard_incoming: bool,
    cmds_closed: bool,
    /// Client: the caller of connect, waiting for the CONNACK.
    connect_reply: Option<Reply<GenericPacket<P>>>,
    connack: Option<Box<GenericPacket<P>>>,
    close_replies: Vec<Reply<()>>,
    /// A close was asked for while messages waited in the session's queue:
    /// they go out first, until this deadline at most, then the close.
    draining: Option<Instant>,
    /// A close was asked for: flush what is buffered, then shut down.
    closing: Option<Instant>,
    eof: bool,
    /// Bytes were written since the last flush (TLS and WebSocket buffer
    /// them until flushed).
    unflushed: bool,
    /// Boxed: rare, and every connection's future would hold its size.
    last_error: Option<Box<ConnectionError>>,
    /// The events of a `publish_into`, reused from call to call.
    scratch: Vec<mqtt_core::GenericEvent<P>>,
    reason: Option<Error>,
    /// A high-level client's waiting calls and subscriptions; with it, the
    /// driver hands its channels over when the network connection ends
    /// without a close.
    tracker: Option<LazyTracker<P>>,
    /// Bytes read since the start, wrapping: with `written`, whether the
    /// connection did anything since `hibernate_mark` was taken.
    read_bytes: u32,
    hibernate_mark: u32,
    /// Started by `serve_with` (which can hand the transport back), with
    /// `Config::hibernate_after`: may hibernate.
    pub(crate) can_hibernate: bool,
    /// Quiet quarters of `Config::hibernate_after` counted, the current one
    /// included; 0: no check armed. With a check armed, the close sleep's
    /// deadline is the check's.
    hibernate_quarters: u8,
    /// It hibernated: the loop ended with the transport open.
    hibernated: bool,
}

/// The origin of every connection's [`MonotonicTime`]: the process's
/// first use. One for all, so that a connection's clock runs on across
/// drivers (a client's reconnection, a hibernated connection woken).
pub(crate) fn origin() -> StdInstant {
    static ORIGIN: std::sync::OnceLock<StdInstant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(StdInstant::now)
}

/// Now, on every connection's clock (from [`origin`]).
pub(crate) fn monotonic_now() -> MonotonicTime {
    MonotonicTime::from_instant(origin(), StdInstant::now())
}

/// When the next hibernation check of a period of `after` is due.
fn next_hibernate_check(after: std::time::Duration) -> Instant {
    Instant::now() + after / HIBERNATE_CHECKS
}

/// A client's connection attempt took longer than its connect timeout.
pub(crate) fn connect_timed_out() -> Error {
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "no connection and CONNACK within the connect timeout",
    ))
}

fn is_connack<P: PacketId>(packet: &GenericPacket<P>) -> bool {
    matches!(
        packet,
        GenericPacket::V3_1_1(v3_1_1::Packet::Connack(_))
            | GenericPacket::V5_0(v5_0::Packet::Connack(_))
    )
}

fn connack_code<P: PacketId>(packet: &GenericPacket<P>) -> Option<u8> {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Connack(c)) => Some(c.return_code().as_u8()),
        GenericPacket::V5_0(v5_0::Packet::Connack(c)) => Some(c.reason_code().as_u8()),
        _ => None,
    }
}

/// Writes some of `out`, or flushes the transport when `out` is empty
/// (TLS and WebSocket buffer what is written). `Some(n)`: `n` bytes were
/// written; `None`: flushed. Cancel-safe. A poll, as are the driver's
/// other waits: its `select!` holds them all, in every connection.
fn drive_write<'a, W: AsyncWrite + Unpin>(
    w: &'a mut W,
    out: &'a mut out::Out,
) -> impl Future<Output = std::io::Result<Option<usize>>> + 'a {
    std::future::poll_fn(move |cx| {
        if out.is_empty() {
            std::pin::pin!(w.flush()).poll(cx).map_ok(|()| None)
        } else {
            out.poll_write_to(cx, w).map_ok(Some)
        }
    })
}

impl<R, P, S> Driver<R, P, S>
where
    R: Role,
    P: PacketId + Send + 'static,
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    pub(crate) fn new(
        conn: GenericConnection<R, P>,
        stream: S,
        config: Arc<Config>,
        cmd_rx: queue::Receiver<Command<P>>,
        incoming_tx: queue::Sender<GenericPacket<P>>,
    ) -> Self {
        let (read, write) = tokio::io::split(stream);
        let connect_deadline = match (R::KIND, config.connect_timeout) {
            (mqtt_core::RoleKind::Server, Some(limit)) => Some(Instant::now() + limit),
            _ => None,
        };
        Driver {
            conn,
            read,
            write,
            rbuf: BytesMut::new(),
            config,
            out: out::Out::default(),
            queued: 0,
            written: 0,
            out_ids: Fifo::default(),
            pending: Fifo::default(),
            dropped: 0,
            refused: 0,
            timers: Default::default(),
            close_sleep: None,
            connect_deadline,
            cmd_rx,
            incoming_tx,
            discard_incoming: false,
            cmds_closed: false,
            connect_reply: None,
            connack: None,
            close_replies: Vec::new(),
            draining: None,
            closing: None,
            eof: false,
            unflushed: false,
            last_error: None,
            scratch: Vec::new(),
            reason: None,
            tracker: None,
            read_bytes: 0,
            hibernate_mark: 0,
            can_hibernate: false,
            hibernate_quarters: 0,
            hibernated: false,
        }
    }

    /// A high-level client's driver for a new network connection, taking
    /// over from the last one (or from [`Handover::new`]).
    pub(crate) fn resume(
        conn: GenericConnection<R, P>,
        stream: S,
        config: Arc<Config>,
        handover: Handover<P>,
    ) -> Self {
        let mut driver = Self::new(conn, stream, config, handover.cmd_rx, handover.incoming_tx);
        driver.pending = handover.pending;
        driver.tracker = Some(handover.tracker);
        driver
    }

    /// A woken hibernated connection's driver: its timers' deadlines.
    pub(crate) fn woken(&mut self, timers: mqtt_core::TimerTable<Instant>) {
        self.timers = crate::timers::Timers::from_table(timers);
    }

    /// Sends the CONNECT of a Client; `reply` gets the CONNACK once the
    /// connection is established, or the error that ended it before (the
    /// driver then ends too).
    pub(crate) fn start_connect(
        &mut self,
        connect: GenericPacket<P>,
        reply: Reply<GenericPacket<P>>,
    ) {
        match self.send_now(connect) {
            Ok(()) => self.connect_reply = Some(reply),
            Err(e) => {
                let _ = reply.send(Err(e));
                self.start_close();
            }
        }
    }

    /// Client: drops the network connection with a [`connect_timed_out`]
    /// error if the CONNACK has not come by `deadline`.
    pub(crate) fn connack_by(&mut self, deadline: Instant) {
        self.connect_deadline = Some(deadline);
    }

    /// Waiting for the peer's CONNECT (Server) or CONNACK (Client).
    fn awaiting_connect(&self) -> bool {
        self.connect_reply.is_some() || self.conn.state() == ConnectionState::Disconnected
    }

    fn now(&mut self) {
        self.conn.set_time(monotonic_now());
    }

    /// The task: the loop, then the close; returns the connection when
    /// the transport is closed. Not an `async fn run(mut self)`, whose
    /// future would hold the driver twice (the argument and its `mut`
    /// binding): the block captures it once.
    #[allow(clippy::manual_async_fn)]
    pub(crate) fn run(mut self) -> impl std::future::Future<Output = Box<Finished<R, P>>> + Send {
        async move {
            self.drive().await;
            self.shutdown().await;
            self.finish()
        }
    }

    /// [`run`](Self::run) in a future that hands the end to `done`
    /// rather than returning it: for a driver run inside the application's
    /// task. The block works on the captured driver in place.
    #[allow(clippy::manual_async_fn)]
    pub(crate) fn run_into(
        mut self,
        done: oneshot::Sender<Box<Finished<R, P>>>,
    ) -> impl std::future::Future<Output = ()> + Send
    where
        S: Unpin,
    {
        async move {
            self.drive().await;
            if self.hibernated {
                let _ = done.send(self.into_hibernated());
                return;
            }
            self.shutdown().await;
            let _ = done.send(self.finish());
        }
    }

    /// The end of a driver that hibernated: the connection, the transport
    /// in one piece again and the timers' deadlines, for
    /// [`Hibernated::wake_with`](crate::Hibernated::wake_with).
    fn into_hibernated(self) -> Box<Finished<R, P>>
    where
        S: Unpin,
    {
        tracing::debug!("hibernated");
        let mut conn = self.conn;
        conn.shrink_to_fit();
        let hibernated = crate::hibernate::Hibernated {
            connection: conn,
            transport: self.read.unsplit(self.write),
            timers: self.timers.into_table().map(crate::hibernate::Asleep::new),
            config: self.config,
        };
        Box::new(Finished {
            connection: None,
            leftover: VecDeque::new(),
            reason: None,
            handover: None,
            hibernated: Some(Box::new(hibernated)),
        })
    }

    /// The loop, until the transport is closed.
    async fn drive(&mut self) {
        loop {
            if let Some(deadline) = self.closing {
                let flushed = self.out.is_empty() && !self.unflushed;
                if flushed || self.eof || Instant::now() >= deadline {
                    break;
                }
            } else if self.eof || self.hibernated {
                break;
            }
            let open = self.closing.is_none();
            let room = self.pending.len() < self.config.max_pending.max(1);
            let can_read = open && !self.eof && room;
            let deliver_now = !self.pending.is_empty();
            let watch_incoming = open && self.cmds_closed && !self.discard_incoming;
            // A high-level client's calls wait for the CONNACK.
            let connecting = self.tracker.is_some() && self.connect_reply.is_some();
            let can_cmd = open
                && !connecting
                && self.draining.is_none()
                && !self.cmds_closed
                && self.out.len() < self.config.write_high_water;
            let connect_by = self
                .connect_deadline
                .filter(|_| open && self.awaiting_connect());
            let wake_at = self.closing.or(self.draining).or(connect_by);
            let wake_at = wake_at.or_else(|| self.hibernate_check_at(open));
            if wake_at.is_none() {
                // The CONNECT (CONNACK) came: no timer held meanwhile.
                self.close_sleep = None;
            }
            let close_at = wake_at.unwrap_or_else(Instant::now);
            let close_sleep = &mut self.close_sleep;
            tokio::select! {
                r = drive_write(&mut self.write, &mut self.out),
                    if !self.out.is_empty() || (self.unflushed && !self.eof) =>
                {
                    match r {
                        Ok(Some(n)) => self.on_written(Ok(n)),
                        Ok(None) => self.unflushed = false,
                        Err(e) => self.io_failed(e),
                    }
                }
                r = read_some(&mut self.read, &mut self.rbuf, self.config.read_chunk), if can_read => {
                    self.on_read(r);
                }
                delivered = self.incoming_tx.send_from(&mut self.pending),
                    if deliver_now || watch_incoming =>
                {
                    if !delivered {
                        self.discard_incoming = true;
                        self.pending.take();
                    }
                }
                cmd = self.cmd_rx.recv(), if can_cmd => {
                    match cmd {
                        Some(cmd) => {
                            self.on_command(cmd);
                            self.drain_commands();
                        }
                        None => self.cmds_closed = true,
                    }
                }
                kind = self.timers.next(), if open && self.timers.any_armed() => {
                    self.now();
                    tracing::trace!(?kind, "timer fired");
                    let events = self.conn.notify_timer_fired(kind);
                    self.handle(events);
                }
                () = crate::timers::sleep_in(close_sleep, close_at), if wake_at.is_some() => {
                    if open && self.draining.is_some() {
                        tracing::debug!("queued messages not sent before the close");
                        self.start_close();
                    } else if open && connect_by.is_none() {
                        self.hibernate_if_quiet();
                    } else if open && self.connect_reply.is_some() {
                        tracing::debug!("no CONNACK in time");
                        self.reason = Some(connect_timed_out());
                        self.abort_now();
                    } else if open {
                        tracing::debug!("no CONNECT in time");
                        self.reason = Some(Error::Io(std::io::ErrorKind::TimedOut.into()));
                        self.abort_now();
                    }
                }
                // Endpoint::abort, which must not wait behind the commands.
                () = self.cmd_rx.aborted(), if !self.eof => self.abort_now(),
            }
            if self.closing.is_none() {
                if self.draining.is_some() {
                    self.close_when_sent();
                } else if self.cmds_closed && self.discard_incoming {
                    // Nobody holds a handle or the receiver any more.
                    self.close_when_sent();
                }
            }
        }
    }

    /// When to check next whether the connection may hibernate: the
    /// deadline of the check armed, or a quarter of
    /// `Config::hibernate_after` from now (marking what was read and
    /// written until now). `None` where it may not (not a `serve_with`
    /// server connection, not connected, closing).
    fn hibernate_check_at(&mut self, open: bool) -> Option<Instant> {
        let after = self.config.hibernate_after.filter(|_| self.can_hibernate)?;
        if !open || self.eof || self.conn.state() != ConnectionState::Connected {
            return None;
        }
        match &self.close_sleep {
            Some(sleep) if self.hibernate_quarters > 0 => Some(sleep.deadline()),
            _ => {
                self.hibernate_quarters = 1;
                self.hibernate_mark = self.activity();
                Some(next_hibernate_check(after))
            }
        }
    }

    /// What was read and written, as one wrapping count.
    fn activity(&self) -> u32 {
        self.read_bytes.wrapping_add(self.written as u32)
    }

    /// A hibernation check is due. Nothing read or written since the mark:
    /// one more quiet quarter (the next check a quarter from now); the
    /// fourth in a row ends the loop (with the transport open) if nothing
    /// waits in either direction, the connection
    /// [`is_quiet`](GenericConnection::is_quiet) and no command is queued
    /// (the command queue is closed in the same step: a later command
    /// errs as on a closed connection). So a connection hibernates between
    /// one and one and a quarter periods after its last packet. Else the
    /// count starts again.
    fn hibernate_if_quiet(&mut self) {
        let unchanged = self.activity() == self.hibernate_mark;
        if unchanged && u32::from(self.hibernate_quarters) < HIBERNATE_CHECKS {
            self.hibernate_quarters += 1;
            if let (Some(sleep), Some(after)) = (&mut self.close_sleep, self.config.hibernate_after)
            {
                sleep.as_mut().reset(next_hibernate_check(after));
            }
            return;
        }
        let quiet = unchanged
            && self.out.is_empty()
            && !self.unflushed
            && self.rbuf.is_empty()
            && self.pending.is_empty()
            && self.out_ids.is_empty()
            && self.close_replies.is_empty()
            && self.conn.is_quiet();
        if quiet && self.cmd_rx.close_if_empty() {
            self.hibernated = true;
        } else {
            // Marked again at the next turn, with a new deadline.
            self.hibernate_quarters = 0;
        }
    }

    fn on_written(&mut self, r: std::io::Result<usize>) {
        match r {
            Ok(0) => self.io_failed(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                self.written += n as u64;
                self.unflushed = true;
                while self
                    .out_ids
                    .front()
                    .is_some_and(|(end, _)| *end <= self.written)
                {
                    self.out_ids.pop_front();
                }
                self.out.shrink(OUT_KEEP);
            }
            Err(e) => self.io_failed(e),
        }
    }

    fn on_read(&mut self, r: std::io::Result<usize>) {
        match r {
            Ok(0) => {
                if self.closing.is_none() {
                    tracing::debug!("the peer closed the network connection");
                    if self.reason.is_none() && self.conn.state() != ConnectionState::Closed {
                        self.reason = Some(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
                    }
                }
                self.eof = true;
            }
            Ok(n) => {
                self.read_bytes = self.read_bytes.wrapping_add(n as u32);
                self.now();
                let events = self.conn.recv(&mut self.rbuf);
                if self.rbuf.is_empty() {
                    // Let go of the bytes the received packets share.
                    self.rbuf = BytesMut::new();
                }
                self.handle(events);
            }
            Err(e) => self.io_failed(e),
        }
    }

    /// The transport failed: nothing more can be written.
    fn io_failed(&mut self, e: std::io::Error) {
        tracing::debug!(error = %e, "transport error");
        if self.reason.is_none() {
            self.reason = Some(Error::Io(e));
        }
        self.out.clear();
        self.eof = true;
    }

    /// Shuts the transport down (by the close deadline). Borrows `self`:
    /// the loop's future then holds one driver, not a second one moved
    /// into this future.
    async fn shutdown(&mut self) {
        if !self.eof {
            let deadline = self.closing.unwrap_or_else(Instant::now);
            let _ = tokio::time::timeout_at(deadline, self.write.shutdown()).await;
        }
    }

    /// Answers whatever still waits, and hands over the connection.
    fn finish(mut self) -> Box<Finished<R, P>> {
        // What was never written releases the identifiers it asked to.
        for (_, id) in self.out_ids.take() {
            let _ = self.conn.release_packet_id(id);
        }
        self.now();
        let _ = self.conn.notify_closed();
        let reason = self.reason.take();
        tracing::info!(reason = ?reason, "disconnected");
        if let Some(reply) = self.connect_reply.take() {
            let code = self.connack.as_deref().and_then(connack_code);
            let e = match (code, &reason) {
                (Some(code), _) if code != 0 => Error::Refused(code),
                (_, Some(Error::Connection(e))) => Error::Connection(e.clone()),
                (_, Some(Error::Io(e))) if e.kind() == std::io::ErrorKind::TimedOut => {
                    connect_timed_out()
                }
                _ => Error::Closed,
            };
            let _ = reply.send(Err(e));
        }
        let closed_by_user = !self.close_replies.is_empty();
        for reply in self.close_replies.drain(..) {
            let _ = reply.send(Ok(()));
        }
        if let Some(mut tracker) = self.tracker.take() {
            if let Some(made) = tracker.made() {
                let conn = &mut self.conn;
                tracker::send_all(made.connection_ended(|id| drop(conn.release_packet_id(id))));
            }
            let gone = self.cmds_closed && self.discard_incoming;
            return Box::new(Finished {
                connection: Some(self.conn),
                leftover: VecDeque::new(),
                reason,
                hibernated: None,
                handover: Some(Handover {
                    cmd_rx: self.cmd_rx,
                    incoming_tx: self.incoming_tx,
                    pending: self.pending,
                    tracker,
                    ended: closed_by_user || gone,
                }),
            });
        }
        self.refuse_commands();
        let leftover = if self.discard_incoming {
            VecDeque::new()
        } else {
            self.pending.take()
        };
        Box::new(Finished {
            connection: Some(self.conn),
            leftover,
            reason,
            handover: None,
            hibernated: None,
        })
    }

    /// Closes the command channel and answers what waits in it: the
    /// connection is over.
    fn refuse_commands(&mut self) {
        self.cmd_rx.close();
        while let Some(cmd) = self.cmd_rx.try_recv() {
            match cmd {
                Command::Send {
                    reply: Some(reply), ..
                } => {
                    let _ = reply.send(Err(Error::Closed));
                }
                Command::Send {
                    packet,
                    reply: None,
                    ..
                } => self.keep_forwarded(packet),
                Command::Publish {
                    reply: Some(reply), ..
                } => {
                    let _ = reply.send(Err(Error::Closed));
                }
                Command::Publish {
                    message,
                    reply: None,
                } => self.keep_forwarded_message(message),
                Command::Acknowledge(id, answer) => {
                    // A QoS 2 acknowledgement goes after the next CONNACK.
                    let _ = self.acknowledge(id, answer);
                }
                Command::Close(reply) | Command::ImportSession(_, reply) => {
                    let _ = reply.send(Err(Error::Closed));
                }
                Command::AcquirePacketId(reply) => {
                    let _ = reply.send(Err(Error::Closed));
                }
                Command::Status(reply) => {
                    let _ = reply.send(Ok(self.status()));
                }
                Command::ReleasePacketId(id) => {
                    let _ = self.conn.release_packet_id(id);
                }
                Command::PublishAcked { reply, .. } => {
                    let _ = reply.send(Err(Error::Closed));
                }
                Command::Subscribe { reply, .. } => {
                    let _ = reply.send(Err(Error::Closed));
                }
                Command::Unsubscribe { reply, .. } => {
                    let _ = reply.send(Err(Error::Closed));
                }
            }
        }
    }
}
