//! The client's I/O thread: the first attempt (in the caller's thread),
//! then one network connection at a time and, between them, the backoff
//! of the shared [`Reconnect`](mqtt_core::Reconnect). The session, the
//! waiting calls and the received messages pass from one connection to
//! the next.

use std::collections::VecDeque;
use std::io::{self, Read as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mqtt_codec::v5_0::SubscriptionOptions;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, Message, ProtocolVersion, TopicFilter};
use mqtt_core::tracker::Tracker;
use mqtt_core::{role, ConnectionState, GenericConnection};

use super::io_thread::{reader, Link};
use super::mailbox::{Next, Want};
use super::{reply, send_answer, ClientOptions, ClientState, Command, Error, Replies, Shared};

/// The I/O thread's side of a client: the connection of the core (with
/// its session) and everything that outlives one network connection.
pub(crate) struct Runner {
    pub(super) options: ClientOptions,
    pub(super) shared: Arc<Shared>,
    pub(super) conn: GenericConnection<role::Client, u16>,
    pub(super) tracker: Tracker<u16, Replies>,
    /// `None` once the [`Messages`](crate::Messages) is dropped.
    pub(super) incoming: Option<SyncSender<Message>>,
    /// Received messages waiting for room in `incoming`.
    pub(super) pending: VecDeque<Message>,
    /// Where the pending messages go when the client ends.
    pub(super) leftover: Arc<Mutex<VecDeque<Message>>>,
    pub(super) origin: Instant,
    /// The Client Identifier to resume with (made up on v3.1.1 when
    /// empty, or the one the server assigned).
    client_id: String,
    /// Whether a connection was established: later CONNECTs resume.
    connected_once: bool,
    generation: u64,
}

impl Runner {
    pub(super) fn new(
        options: ClientOptions,
        shared: Arc<Shared>,
        incoming: SyncSender<Message>,
        leftover: Arc<Mutex<VecDeque<Message>>>,
    ) -> Self {
        let client_id = match (options.configured_client_id(), options.protocol_version()) {
            ("", ProtocolVersion::V3_1_1) => made_up_client_id(),
            (id, _) => id.to_owned(),
        };
        let conn = GenericConnection::with_options(
            options.protocol_version(),
            options.settings.connection_options(),
        );
        Runner {
            tracker: Tracker::new(options.settings.resubscribe),
            options,
            shared,
            conn,
            incoming: Some(incoming),
            pending: VecDeque::new(),
            leftover,
            origin: Instant::now(),
            client_id,
            connected_once: false,
            generation: 0,
        }
    }

    /// One attempt, in the calling thread: TCP, CONNECT, CONNACK, within
    /// the connect timeout. Returns the established connection, its reader
    /// thread started, the subscriptions made again if the broker kept no
    /// session.
    pub(super) fn attempt(&mut self) -> Result<Link, Error> {
        let deadline = Instant::now() + self.options.settings.connect_timeout;
        let connect = self
            .options
            .connect_packet(self.connected_once, &self.client_id)?;
        let stream = tcp_connect(self.options.address(), deadline)?;
        stream.set_nodelay(self.options.settings.nodelay)?;
        // A write that blocks this long means the broker is gone.
        stream.set_write_timeout(Some(
            self.options
                .settings
                .connect_timeout
                .max(Duration::from_secs(10)),
        ))?;
        let mut link = Link::new(stream);
        self.set_time();
        let events = self.conn.send(connect)?;
        self.handle(&mut link, events);
        if !self.connected_once && !self.options.settings.subscriptions.is_empty() {
            // Right after the CONNECT, before the CONNACK (§3.1.4).
            self.subscribe_untracked(&mut link, self.options.settings.subscriptions.clone());
        }
        if let Err(e) = self
            .await_connack(&mut link, deadline)
            .and_then(|()| self.read_on(&link))
        {
            self.close_link(&mut link);
            return Err(e);
        }
        let session_present = self.conn.session_present();
        if let Some(Some(assigned)) = link.connack.as_ref().map(assigned_client_id) {
            self.client_id = assigned;
        }
        self.connected_once = true;
        self.shared
            .state
            .set(ClientState::Connected { session_present });
        // A new session has none of the client's subscriptions (§3.2.2.1.1).
        if let Some(subscriptions) = self.tracker.resubscriptions(session_present) {
            self.subscribe_untracked(&mut link, subscriptions);
        }
        Ok(link)
    }

    /// Sends a SUBSCRIBE whose answer nobody waits for (its granted
    /// filters are recorded, to subscribe again).
    fn subscribe_untracked(
        &mut self,
        link: &mut Link,
        subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
    ) {
        let version = self.conn.version();
        let build = |id| mqtt_core::tracker::subscribe_packet(version?, id, &subscriptions).ok();
        if let Ok((id, events)) = self.send_request(link, build) {
            self.tracker.wait_subscribe(id, subscriptions, None);
            self.handle(link, events);
        }
    }

    /// Starts the reader thread of the established connection `link`.
    fn read_on(&mut self, link: &Link) -> Result<(), Error> {
        link.stream.set_read_timeout(None)?;
        self.generation += 1;
        self.shared.mailbox.start_connection(self.generation);
        let stream = link.stream.try_clone()?;
        let (generation, shared) = (self.generation, self.shared.clone());
        std::thread::Builder::new()
            .name("mqtt-std-reader".into())
            .spawn(move || reader(stream, generation, shared))?;
        Ok(())
    }

    /// Reads until the CONNACK established the connection, with read
    /// timeouts at the next timer or the deadline.
    fn await_connack(&mut self, link: &mut Link, deadline: Instant) -> Result<(), Error> {
        let mut buf = [0u8; 4096];
        while self.conn.state() != ConnectionState::Connected {
            self.fire_timers(link);
            if link.closed {
                let code = link.connack.as_ref().and_then(connack_code);
                return Err(match (code, link.reason.take()) {
                    (Some(code), _) if code != 0 => Error::Refused(code),
                    (_, Some(reason)) => reason,
                    _ => Error::Closed,
                });
            }
            let now = Instant::now();
            if now >= deadline {
                self.close_link(link);
                return Err(timed_out());
            }
            let until = link
                .timers
                .next_deadline()
                .map_or(deadline, |t| t.min(deadline));
            let wait = until
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            link.stream.set_read_timeout(Some(wait))?;
            match link.stream.read(&mut buf) {
                Ok(0) => {
                    link.reason = Some(Error::Io(io::ErrorKind::UnexpectedEof.into()));
                    self.close_link(link);
                }
                Ok(n) => {
                    link.rbuf.extend_from_slice(&buf[..n]);
                    self.set_time();
                    let events = self.conn.recv(&mut link.rbuf);
                    self.handle(link, events);
                }
                Err(e) if crate::error::read_timed_out(&e) => {}
                Err(e) => {
                    link.reason = Some(Error::Io(e));
                    self.close_link(link);
                }
            }
        }
        Ok(())
    }

    /// The thread: runs each connection until it ends, then reconnects
    /// with backoff. The delays grow with every attempt until a connection
    /// lasts the backoff's cap; the client gives up after the backoff's
    /// maximum of failed attempts in a row.
    pub(super) fn run(mut self, mut link: Link) {
        let mut streak = 0u32;
        loop {
            let started = Instant::now();
            let by_user = self.drive(&mut link);
            let mut reason = link.reason.take().map(Arc::new);
            let Some(reconnect) = self.options.settings.reconnect else {
                return self.end(reason);
            };
            if by_user || self.shared.mailbox.stopping() {
                return self.end(reason);
            }
            streak = reconnect.after(streak, started.elapsed());
            let mut failures = 0u32;
            loop {
                if !reconnect.allows(failures) {
                    return self.end(reason);
                }
                let delay = reconnect.jittered(streak);
                streak = streak.saturating_add(1);
                self.shared.state.set(ClientState::Reconnecting {
                    attempt: failures,
                    delay,
                    reason: reason.clone(),
                });
                if self.sleep(delay) {
                    return self.end(reason);
                }
                match self.attempt() {
                    Ok(next) => {
                        link = next;
                        break;
                    }
                    Err(e) => {
                        reason = Some(Arc::new(e));
                        failures = failures.saturating_add(1);
                    }
                }
            }
        }
    }

    /// Waits `delay` between attempts; true when the client is to end
    /// meanwhile (disconnect, or nobody holds a handle or the messages).
    fn sleep(&mut self, delay: Duration) -> bool {
        let until = Instant::now() + delay;
        let want = Want {
            reads: false,
            commands: false,
            stop: true,
        };
        loop {
            match self.shared.mailbox.next(Some(until), want) {
                Next::Stop | Next::Abandoned => return true,
                Next::Timeout => return false,
                Next::Room => self.deliver_pending(),
                Next::Read(_) | Next::Command(_) => {}
            }
        }
    }

    /// The client ends: callers still waiting and calls still queued learn
    /// it, the messages not yet handed over go to the leftovers of
    /// `Messages`, the state says why.
    fn end(mut self, reason: Option<Arc<Error>>) {
        self.tracker.close().into_iter().for_each(send_answer);
        for command in self.shared.mailbox.close() {
            match command {
                Command::Publish { reply: r, .. } => {
                    if let Some(r) = r {
                        reply(r, Err(Error::Closed));
                    }
                }
                Command::Subscribe { reply: r, .. } => reply(r, Err(Error::Closed)),
                Command::Unsubscribe { reply: r, .. } => reply(r, Err(Error::Closed)),
            }
        }
        let mut leftover = self.leftover.lock().unwrap_or_else(|e| e.into_inner());
        leftover.extend(self.pending.drain(..));
        drop(leftover);
        // The state first: whoever sees the end of `Messages` (after what
        // the channel holds) finds it closed.
        self.shared.state.set(ClientState::Closed { reason });
        drop(self.incoming.take());
    }
}

/// Connects to each address `addr` resolves to in turn, until `deadline`.
fn tcp_connect(addr: impl ToSocketAddrs, deadline: Instant) -> Result<TcpStream, Error> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
    for addr in addr.to_socket_addrs()? {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out());
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(Error::Io(last))
}

fn connack_code(packet: &GenericPacket) -> Option<u8> {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Connack(c)) => Some(c.return_code().as_u8()),
        GenericPacket::V5_0(v5_0::Packet::Connack(c)) => Some(c.reason_code().as_u8()),
        _ => None,
    }
}

/// A v5.0 CONNACK's Assigned Client Identifier.
fn assigned_client_id(packet: &GenericPacket) -> Option<String> {
    match packet {
        GenericPacket::V5_0(v5_0::Packet::Connack(c)) => {
            let assigned = c.properties().assigned_client_identifier.as_ref();
            assigned.map(|id| id.as_str().to_owned())
        }
        _ => None,
    }
}

/// A Client Identifier for a v3.1.1 client that gave none: a server must
/// refuse an empty one with Clean Session 0 [MQTT-3.1.3-8], and a
/// reconnection resumes with Clean Session 0.
fn made_up_client_id() -> String {
    use std::hash::BuildHasher;
    let bits = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
    format!("mqtt-std-{bits:016x}")
}

fn timed_out() -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::TimedOut,
        "no connection and CONNACK within the connect timeout",
    ))
}
