//! Hibernation (`--hibernate-after MS`): a connection quiet that long
//! (nothing read or written, nothing in flight or due: `mqtt_tokio::
//! Config::hibernate_after`) ends its task and keeps, in its session's
//! [`Presence::Asleep`], only its core connection, its socket (out of
//! tokio's reactor) and its Will: no task, no queues, no buffers. Most
//! connections of a large broker are idle most of the time; this is what
//! brings an idle one's memory down to mosquitto's (Erlang brokers
//! hibernate their idle processes for the same reason).
//!
//! One thread ([`Sleepers`]) watches the sockets of the sleeping
//! connections (epoll, through mio) and their Keep Alive deadlines; a
//! socket that turns readable (a packet or the peer's close) or a deadline
//! that passes sends the connection's generation to a task of the runtime
//! ([`wake_on_signal`]), which [`wake`]s it. Routing a message to it, a
//! takeover of its session and a shutdown wake it too, under the state
//! lock: the woken connection is `Online` and ready before the lock is
//! released, with a new endpoint, the same generation and session.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use mqtt_codec::ProtocolVersion;
use mqtt_tokio::{Hibernated, ServerEndpoint};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::client;
use super::connect::Accepted;
use super::ended;
use super::message::StoredMessage;
use super::router::ClientId;
use super::state::{Presence, Session, Shared};

/// The longest the watching thread sleeps: a Keep Alive deadline is met
/// within this.
pub const TICK: Duration = Duration::from_millis(250);

/// A hibernated connection, in its session.
#[derive(Debug)]
pub struct Asleep {
    /// `None` once it is being woken or closed.
    hibernated: Option<Hibernated<std::net::TcpStream>>,
    /// Its MQTT version.
    pub version: ProtocolVersion,
    /// Its Will Message and delay, until a normal DISCONNECT.
    will: Option<Box<(StoredMessage, u32)>>,
}

/// A Keep Alive deadline and the generation of its connection.
type Deadline = (Instant, u64);

/// The watch over the sleeping connections: their sockets in a mio
/// `Poll` run by one thread, their deadlines, and which session each
/// generation is.
#[derive(Debug)]
pub struct Sleepers {
    registry: mio::Registry,
    deadlines: Arc<Mutex<BTreeSet<Deadline>>>,
    /// The Client Identifier of each sleeping connection's generation.
    clients: Mutex<HashMap<u64, ClientId>>,
    /// What the thread signals, for [`wake_on_signal`] (taken once).
    signals: Mutex<Option<mpsc::UnboundedReceiver<u64>>>,
}

/// Locks `m`, ignoring poisoning (nothing panics while these are held).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sleepers {
    /// Starts the watching thread. It ends once [`wake_on_signal`]'s
    /// receiver is gone (within [`TICK`]).
    pub fn start() -> io::Result<Sleepers> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let deadlines = Arc::new(Mutex::new(BTreeSet::new()));
        let (tx, rx) = mpsc::unbounded_channel();
        let watched = deadlines.clone();
        std::thread::Builder::new()
            .name("mqtt-hibernate".into())
            .spawn(move || watch(poll, &watched, &tx))?;
        Ok(Sleepers {
            registry,
            deadlines,
            clients: Mutex::new(HashMap::new()),
            signals: Mutex::new(Some(rx)),
        })
    }

    /// Watches the socket of `hibernated`, of `client`'s connection of
    /// `generation`, and its deadline.
    fn watch(
        &self,
        hibernated: &Hibernated<std::net::TcpStream>,
        client: &ClientId,
        generation: u64,
    ) -> io::Result<()> {
        let fd = hibernated.transport().as_raw_fd();
        let token = Token(generation as usize);
        self.registry
            .register(&mut SourceFd(&fd), token, Interest::READABLE)?;
        if let Some(at) = hibernated.deadline() {
            lock(&self.deadlines).insert((at, generation));
        }
        lock(&self.clients).insert(generation, client.clone());
        Ok(())
    }

    /// Stops watching `hibernated` (before its socket goes back to tokio).
    fn unwatch(&self, hibernated: &Hibernated<std::net::TcpStream>, generation: u64) {
        let fd = hibernated.transport().as_raw_fd();
        let _ = self.registry.deregister(&mut SourceFd(&fd));
        if let Some(at) = hibernated.deadline() {
            lock(&self.deadlines).remove(&(at, generation));
        }
        lock(&self.clients).remove(&generation);
    }

    /// The client whose connection of `generation` sleeps.
    fn client(&self, generation: u64) -> Option<ClientId> {
        lock(&self.clients).get(&generation).cloned()
    }
}

/// The watching thread: sends the generation of each connection whose
/// socket turned readable or whose deadline passed.
fn watch(mut poll: Poll, deadlines: &Mutex<BTreeSet<Deadline>>, tx: &mpsc::UnboundedSender<u64>) {
    let mut events = Events::with_capacity(256);
    while !tx.is_closed() {
        let next = lock(deadlines).first().map(|(at, _)| *at);
        let timeout = next.map_or(TICK, |at| {
            at.saturating_duration_since(Instant::now()).min(TICK)
        });
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() != io::ErrorKind::Interrupted {
                eprintln!("broker: hibernated connections unwatched: {e}");
                return;
            }
        }
        for event in events.iter() {
            let _ = tx.send(event.token().0 as u64);
        }
        let now = Instant::now();
        let mut due = lock(deadlines);
        while let Some(&(at, generation)) = due.first() {
            if at > now {
                break;
            }
            due.pop_first();
            let _ = tx.send(generation);
        }
    }
}

/// Runs for the broker's life: wakes the connections the watching thread
/// signals (a stale signal, for a connection woken meanwhile, does
/// nothing).
pub async fn wake_on_signal(shared: Arc<Shared>) {
    let Some(sleepers) = &shared.sleepers else {
        return;
    };
    let Some(mut signals) = lock(&sleepers.signals).take() else {
        return;
    };
    while let Some(generation) = signals.recv().await {
        let Some(client) = sleepers.client(generation) else {
            continue;
        };
        let mut st = shared.lock();
        if let Some(session) = st.sessions.get_mut(&client) {
            if session.generation == generation {
                wake(&shared, session, &client);
            }
        }
    }
}

/// The connection of `accepted` hibernated. If its session is still its
/// own and nothing waits for it, it sleeps there, watched. If copies came
/// back to its limbo or backlog meanwhile (routed as it hibernated), it
/// is woken at once in place, and they go to it, in order. If its session
/// moved on (a takeover that gave up waiting), it closes.
pub fn sleep(shared: &Arc<Shared>, accepted: Accepted, hibernated: Hibernated<TcpStream>) {
    let Some(me) = shared.me.upgrade() else {
        return;
    };
    let mut st = shared.lock();
    let Some(session) = st
        .sessions
        .get_mut(&accepted.client)
        .filter(|s| s.generation == accepted.generation)
    else {
        drop(st);
        let conn = hibernated.into_connection();
        tokio::spawn(client::close_hibernated(me, accepted, conn));
        return;
    };
    let Presence::Online {
        endpoint,
        limbo,
        backlog,
        ..
    } = &mut session.presence
    else {
        unreachable!("a connection's session is online until its task ends");
    };
    if !limbo.is_empty() || backlog.is_draining() {
        // Woken in place: the limbo goes to the new endpoint (behind the
        // backlog, whose drainer hands back to the limbo what the closed
        // endpoint refused: `backlog.rs`).
        let (client, generation) = (accepted.client.clone(), accepted.generation);
        *endpoint = start(me, hibernated, accepted);
        drop(st);
        super::state::go_online(shared, &client, generation);
        return;
    }
    let Accepted {
        client,
        generation,
        version,
        will,
        ended,
        ..
    } = accepted;
    let asleep = match hibernated.map_transport(TcpStream::into_std) {
        Ok(hibernated) => Asleep {
            hibernated: Some(hibernated),
            version,
            will: will.map(Box::new),
        },
        Err((_, conn)) => {
            // Out of the reactor it cannot go: it ends as if the network
            // connection broke.
            drop(st);
            let accepted = Accepted::woken(client, generation, version, will, ended);
            tokio::spawn(client::close_hibernated(me, accepted, conn));
            return;
        }
    };
    let watched = match (&shared.sleepers, &asleep.hibernated) {
        (Some(sleepers), Some(h)) => sleepers.watch(h, &client, generation).is_ok(),
        _ => false,
    };
    session.presence = Presence::Asleep(Box::new(asleep));
    shared.stats.hibernated.fetch_add(1, Ordering::Relaxed);
    if !watched {
        wake(shared, session, &client);
    }
    drop(st);
    // A takeover waiting for this connection goes on: it finds the
    // session asleep (and wakes it).
    drop(ended);
}

/// A task for the connection of `accepted`, woken over `hibernated`: its
/// endpoint.
fn start(me: Arc<Shared>, hibernated: Hibernated<TcpStream>, accepted: Accepted) -> ServerEndpoint {
    let mut endpoint = None;
    let task = hibernated.wake_with(|e, incoming| {
        endpoint = Some(e.clone());
        client::resumed(me, e, incoming, accepted)
    });
    tokio::spawn(task);
    endpoint.expect("wake_with calls its handler")
}

/// Wakes the sleeping connection of `session` (of `client`), under the
/// state lock: a task over the same connection and socket, and the
/// session `Online` and ready with its new endpoint before the lock is
/// released (same generation, same session). Does nothing to a session
/// that is not asleep.
pub fn wake(shared: &Shared, session: &mut Session, client: &ClientId) {
    let Presence::Asleep(asleep) = &mut session.presence else {
        return;
    };
    let (Some(hibernated), Some(me)) = (asleep.hibernated.take(), shared.me.upgrade()) else {
        return;
    };
    if let Some(sleepers) = &shared.sleepers {
        sleepers.unwatch(&hibernated, session.generation);
    }
    shared.stats.hibernated.fetch_sub(1, Ordering::Relaxed);
    shared.stats.woken.fetch_add(1, Ordering::Relaxed);
    let version = asleep.version;
    let (end, watch) = ended::ended();
    let will = asleep.will.take().map(|w| *w);
    let accepted = Accepted::woken(client.clone(), session.generation, version, will, end);
    match hibernated.map_transport(TcpStream::from_std) {
        Ok(hibernated) => {
            session.presence = Presence::Online {
                endpoint: start(me, hibernated, accepted),
                version,
                ended: watch,
                limbo: Vec::new(),
                backlog: Default::default(),
                ready: true,
            };
        }
        Err((_, conn)) => {
            // Back into the reactor it cannot go: it ends as if the network
            // connection broke (the session, `Asleep` without its
            // connection until then, drops what is routed to it).
            tokio::spawn(client::close_hibernated(me, accepted, conn));
        }
    }
}
