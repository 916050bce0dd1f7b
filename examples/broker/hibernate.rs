//! Hibernation (`--hibernate-after MS`): a connection quiet that long
//! (nothing read or written, nothing in flight or due: `mqtt_tokio::
//! Config::hibernate_after`) ends its task and keeps, in its slot, only
//! its core connection, its socket (out of tokio's reactor) and its
//! Will: no task, no queues, no buffers. Most
//! connections of a large broker are idle most of the time; this is what
//! brings an idle one's memory down to mosquitto's (Erlang brokers
//! hibernate their idle processes for the same reason).
//!
//! The sleeping connections live in one slab ([`Sleepers`]): chunks of
//! 128 KiB of slots, each a connection (its `Hibernated`, Will and
//! generation; 360 bytes) with no allocation of its own (its Client
//! Identifier is its connection's), the session holding only the slot's
//! number ([`Presence::Asleep`]). One thread watches their
//! sockets (epoll, through mio, the slot as token) and their Keep Alive
//! deadlines; a socket that turns readable (a packet or the peer's close)
//! or a deadline that passes sends the slot to a task of the runtime
//! ([`wake_on_signal`]), which [`wake`]s its connection. Routing a message
//! to it, a takeover of its session and a shutdown wake it too, under the
//! state lock: the woken connection is `Online` and ready before the lock
//! is released, with a new endpoint, the same generation and session.

use std::io;
use std::num::NonZeroU32;
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
use super::state::{Online, Presence, Session, Shared};

/// The longest the watching thread sleeps: a Keep Alive deadline is met
/// within this.
pub const TICK: Duration = Duration::from_millis(250);

/// Slots per chunk of the slab: as many as fill 128 KiB, one of
/// jemalloc's size classes (a chunk of 256 would round up to it anyway).
const CHUNK: usize = (128 << 10) / std::mem::size_of::<Option<Sleeper>>();

/// A session's hibernated connection: where it sleeps.
#[derive(Debug, Clone, Copy)]
pub struct Asleep {
    slot: u32,
    /// Its MQTT version.
    pub version: ProtocolVersion,
}

/// A sleeping connection, in its slot.
#[derive(Debug)]
pub struct Sleeper {
    hibernated: Hibernated<std::net::TcpStream>,
    /// Its Will Message and delay, until a normal DISCONNECT.
    will: Option<Box<(StoredMessage, u32)>>,
    /// The Client Identifier of its session where the connection does not
    /// say it (a v3.1.1 identifier the broker assigned): most sleepers
    /// keep no second copy of it.
    other_client: Option<Box<ClientId>>,
    generation: u64,
    version: ProtocolVersion,
}

impl Sleeper {
    fn new(
        hibernated: Hibernated<std::net::TcpStream>,
        will: Option<(StoredMessage, u32)>,
        client: ClientId,
        generation: u64,
        version: ProtocolVersion,
    ) -> Sleeper {
        let own = connection_client(&hibernated);
        Sleeper {
            other_client: (*client != *own).then(|| Box::new(client)),
            hibernated,
            will: will.map(Box::new),
            generation,
            version,
        }
    }

    /// Whether it is the connection of `client` of `generation`.
    fn is(&self, client: &str, generation: u64) -> bool {
        let own: &str = match &self.other_client {
            Some(other) => other,
            None => connection_client(&self.hibernated),
        };
        self.generation == generation && own == client
    }

    /// The Client Identifier of its session.
    fn client(&self) -> ClientId {
        match &self.other_client {
            Some(client) => (**client).clone(),
            None => ClientId::from(connection_client(&self.hibernated)),
        }
    }
}

/// The Client Identifier the connection says: its CONNECT's, or the one
/// its CONNACK assigned (v5.0).
fn connection_client(hibernated: &Hibernated<std::net::TcpStream>) -> &str {
    let conn = hibernated.connection();
    let id = conn.assigned_client_identifier();
    id.unwrap_or(conn.client_identifier()).as_str()
}

/// The slab: chunks of slots, each with its deadlines beside (for the
/// watching thread's scan, 4 bytes a slot: [`TICK`]s after the slab's
/// origin) and how many it holds; the free slots listed. A chunk emptied
/// is freed by [`Slab::shrink`] (after many connections left) and
/// allocated again when one of its slots is used.
#[derive(Debug)]
struct Slab<T> {
    chunks: Vec<Option<Chunk<T>>>,
    free: Vec<u32>,
    origin: Instant,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            chunks: Vec::new(),
            free: Vec::new(),
            origin: Instant::now(),
        }
    }
}

#[derive(Debug)]
struct Chunk<T> {
    slots: Box<[Option<T>]>,
    /// By slot: the tick of its deadline, plus one.
    deadlines: Box<[Option<NonZeroU32>]>,
    used: usize,
}

/// The tick of `at` after `origin`, plus one (saturating, after 34
/// years): rounded up for a deadline, down for the time of a scan, so that
/// no deadline is signalled before it passed.
fn tick(origin: Instant, at: Instant, round_up: bool) -> NonZeroU32 {
    let (since, tick) = (
        at.saturating_duration_since(origin).as_nanos(),
        TICK.as_nanos(),
    );
    let ticks = if round_up {
        since.div_ceil(tick)
    } else {
        since / tick
    };
    let ticks = u32::try_from(ticks).unwrap_or(u32::MAX - 1);
    NonZeroU32::MIN.saturating_add(ticks)
}

impl<T> Chunk<T> {
    fn new() -> Chunk<T> {
        Chunk {
            slots: (0..CHUNK).map(|_| None).collect(),
            deadlines: vec![None; CHUNK].into_boxed_slice(),
            used: 0,
        }
    }
}

/// The chunk of `slot`, and its index there.
fn place(slot: u32) -> (usize, usize) {
    (slot as usize / CHUNK, slot as usize % CHUNK)
}

impl<T> Slab<T> {
    /// Puts `value` in a free slot, with its `deadline`; the slot.
    fn insert(&mut self, value: T, deadline: Option<Instant>) -> u32 {
        let slot = self.free.pop().unwrap_or_else(|| {
            let first = self.chunks.len() * CHUNK;
            self.chunks.push(None);
            // Popped from the end: the lowest slot first.
            self.free
                .extend((first as u32..(first + CHUNK) as u32).rev());
            self.free.pop().expect("a chunk's slots")
        });
        let (c, i) = place(slot);
        let deadline = deadline.map(|at| tick(self.origin, at, true));
        let chunk = self.chunks[c].get_or_insert_with(Chunk::new);
        chunk.deadlines[i] = deadline;
        chunk.slots[i] = Some(value);
        chunk.used += 1;
        slot
    }

    fn get(&self, slot: u32) -> Option<&T> {
        let (c, i) = place(slot);
        self.chunks.get(c)?.as_ref()?.slots[i].as_ref()
    }

    fn take(&mut self, slot: u32) -> Option<T> {
        let (c, i) = place(slot);
        let chunk = self.chunks.get_mut(c)?.as_mut()?;
        let value = chunk.slots[i].take()?;
        chunk.deadlines[i] = None;
        chunk.used -= 1;
        self.free.push(slot);
        Some(value)
    }

    /// Frees the chunks that hold no connection.
    fn shrink(&mut self) {
        for chunk in &mut self.chunks {
            if chunk.as_ref().is_some_and(|c| c.used == 0) {
                *chunk = None;
            }
        }
    }

    /// Calls `due` with each slot whose deadline passed by `now`, and
    /// clears that deadline: each is due once.
    fn take_due(&mut self, now: Instant, mut due: impl FnMut(u32)) {
        let now = tick(self.origin, now, false);
        let chunks = self.chunks.iter_mut().enumerate();
        for (c, chunk) in chunks.filter_map(|(c, chunk)| Some((c, chunk.as_mut()?))) {
            for (i, deadline) in chunk.deadlines.iter_mut().enumerate() {
                if deadline.is_some_and(|at| at <= now) {
                    *deadline = None;
                    due((c * CHUNK + i) as u32);
                }
            }
        }
    }
}

/// The watch over the sleeping connections: their slab, their sockets in
/// a mio `Poll` run by one thread.
#[derive(Debug)]
pub struct Sleepers {
    registry: mio::Registry,
    slab: Arc<Mutex<Slab<Sleeper>>>,
    /// What the thread signals, for [`wake_on_signal`] (taken once).
    signals: Mutex<Option<mpsc::UnboundedReceiver<u32>>>,
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
        let slab = Arc::new(Mutex::new(Slab::default()));
        let (tx, rx) = mpsc::unbounded_channel();
        let watched = slab.clone();
        std::thread::Builder::new()
            .name("mqtt-hibernate".into())
            .spawn(move || watch(poll, &watched, &tx))?;
        Ok(Sleepers {
            registry,
            slab,
            signals: Mutex::new(Some(rx)),
        })
    }

    /// Puts `sleeper` in a slot, its socket watched; errs (giving it back)
    /// if epoll refuses the socket.
    #[allow(clippy::result_large_err)]
    fn insert(&self, sleeper: Sleeper) -> Result<u32, Sleeper> {
        let fd = sleeper.hibernated.transport().as_raw_fd();
        let mut slab = lock(&self.slab);
        let deadline = sleeper.hibernated.deadline();
        let slot = slab.insert(sleeper, deadline);
        let token = Token(slot as usize);
        match self
            .registry
            .register(&mut SourceFd(&fd), token, Interest::READABLE)
        {
            Ok(()) => Ok(slot),
            Err(_) => Err(slab.take(slot).expect("just inserted")),
        }
    }

    /// Takes the sleeper of `slot` out if it is the connection of `client`
    /// of `generation` (a slot freed and taken again holds another), its
    /// socket no longer watched (before it goes back to tokio).
    fn take_if(&self, slot: u32, client: &str, generation: u64) -> Option<Sleeper> {
        let mut slab = lock(&self.slab);
        if !slab.get(slot)?.is(client, generation) {
            return None;
        }
        let sleeper = slab.take(slot)?;
        drop(slab);
        let fd = sleeper.hibernated.transport().as_raw_fd();
        let _ = self.registry.deregister(&mut SourceFd(&fd));
        Some(sleeper)
    }

    /// Frees the slab's emptied chunks (after many connections left).
    pub fn shrink(&self) {
        lock(&self.slab).shrink();
    }

    /// The client and generation of the connection asleep in `slot`.
    fn occupant(&self, slot: u32) -> Option<(ClientId, u64)> {
        let slab = lock(&self.slab);
        let sleeper = slab.get(slot)?;
        Some((sleeper.client(), sleeper.generation))
    }
}

/// The watching thread: sends the slot of each connection whose socket
/// turned readable or whose deadline passed (its deadline then cleared:
/// signalled once).
fn watch(mut poll: Poll, slab: &Mutex<Slab<Sleeper>>, tx: &mpsc::UnboundedSender<u32>) {
    let mut events = Events::with_capacity(256);
    let mut next = Instant::now() + TICK;
    while !tx.is_closed() {
        let timeout = next.saturating_duration_since(Instant::now()).min(TICK);
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() != io::ErrorKind::Interrupted {
                eprintln!("broker: hibernated connections unwatched: {e}");
                return;
            }
        }
        for event in events.iter() {
            let _ = tx.send(event.token().0 as u32);
        }
        let now = Instant::now();
        if now < next {
            continue;
        }
        // The deadlines, scanned at most once per tick.
        next = now + TICK;
        lock(slab).take_due(now, |slot| {
            let _ = tx.send(slot);
        });
    }
}

/// Runs for the broker's life: wakes the connections the watching thread
/// signals (a stale signal, for a slot woken meanwhile or taken by
/// another connection, does at most a spurious wake).
pub async fn wake_on_signal(shared: Arc<Shared>) {
    let Some(sleepers) = &shared.sleepers else {
        return;
    };
    let Some(mut signals) = lock(&sleepers.signals).take() else {
        return;
    };
    while let Some(slot) = signals.recv().await {
        let Some((client, generation)) = sleepers.occupant(slot) else {
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
pub fn sleep(shared: &Arc<Shared>, mut accepted: Accepted, hibernated: Hibernated<TcpStream>) {
    let Some(me) = shared.me.upgrade() else {
        return;
    };
    let mut st = shared.lock();
    let ours = st
        .sessions
        .get_mut(&accepted.client)
        .filter(|s| s.generation == accepted.generation);
    // Else its session moved on (a takeover that gave up waiting for it).
    let Some(session) = ours else {
        drop(st);
        return close(me, accepted, hibernated);
    };
    let Presence::Online(online) = &mut session.presence else {
        drop(st);
        return close(me, accepted, hibernated);
    };
    let Online {
        endpoint,
        limbo,
        backlog,
        ended: watch,
        ..
    } = &mut **online;
    let sleepers = match &shared.sleepers {
        Some(sleepers) if limbo.is_empty() && !backlog.is_draining() => sleepers,
        _ => {
            // Woken in place: the limbo goes to the new endpoint (behind
            // the backlog, whose drainer hands back to the limbo what the
            // closed endpoint refused: `backlog.rs`). A new end signal: a
            // takeover that waits on the old one goes on and finds the new
            // endpoint.
            let (end, new_watch) = ended::ended();
            let old_end = std::mem::replace(&mut accepted.ended, end);
            let (client, generation) = (accepted.client.clone(), accepted.generation);
            *endpoint = start(me, hibernated, accepted);
            *watch = new_watch;
            drop(st);
            drop(old_end);
            super::state::go_online(shared, &client, generation);
            return;
        }
    };
    let Accepted {
        client,
        generation,
        version,
        will,
        ended,
        ..
    } = accepted;
    let sleeper = match hibernated.map_transport(TcpStream::into_std) {
        Ok(hibernated) => Sleeper::new(hibernated, will, client, generation, version),
        Err((_, conn)) => {
            // Out of the reactor it cannot go: it ends as if the network
            // connection broke.
            drop(st);
            let accepted = Accepted::woken(client, generation, version, will, ended);
            tokio::spawn(client::close_hibernated(me, accepted, conn));
            return;
        }
    };
    match sleepers.insert(sleeper) {
        Ok(slot) => {
            session.presence = Presence::Asleep(Asleep { slot, version });
            shared.stats.hibernated.fetch_add(1, Ordering::Relaxed);
        }
        // epoll refused the socket: awake it stays.
        Err(sleeper) => resume(me, sleeper, &mut session.presence),
    }
    drop(st);
    // A takeover waiting for this connection goes on: it finds the
    // session asleep (and wakes it).
    drop(ended);
}

/// Ends a hibernated connection whose session is no longer its own, as
/// if its network connection broke.
fn close(me: Arc<Shared>, accepted: Accepted, hibernated: Hibernated<TcpStream>) {
    let conn = hibernated.into_connection();
    tokio::spawn(client::close_hibernated(me, accepted, conn));
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

/// Starts a task for `sleeper`, its socket back in tokio's reactor, and
/// makes `presence` online and ready with its endpoint (and a new end
/// signal). If the reactor refuses the socket, the connection ends as if
/// the network connection broke, and `presence` stays as it was.
fn resume(me: Arc<Shared>, sleeper: Sleeper, presence: &mut Presence) {
    let client = sleeper.client();
    let Sleeper {
        hibernated,
        will,
        generation,
        version,
        ..
    } = sleeper;
    let (end, watch) = ended::ended();
    let accepted = Accepted::woken(client, generation, version, will.map(|w| *w), end);
    match hibernated.map_transport(TcpStream::from_std) {
        Ok(hibernated) => {
            *presence = Presence::online(start(me, hibernated, accepted), version, watch, true);
        }
        Err((_, conn)) => {
            tokio::spawn(client::close_hibernated(me, accepted, conn));
        }
    }
}

/// Wakes the sleeping connection of `session` (of `client`), under the
/// state lock: a task over the same connection and socket, and the
/// session `Online` and ready with its new endpoint before the lock is
/// released (same generation, same session). Does nothing to a session
/// that is not asleep. If the reactor refuses the socket, the connection
/// ends as if the network connection broke; until its session is handed
/// back, it stays `Asleep` with an empty slot, and what is routed to it
/// is dropped.
pub fn wake(shared: &Shared, session: &mut Session, client: &ClientId) {
    let Presence::Asleep(Asleep { slot, .. }) = session.presence else {
        return;
    };
    let (Some(sleepers), Some(me)) = (&shared.sleepers, shared.me.upgrade()) else {
        return;
    };
    let Some(sleeper) = sleepers.take_if(slot, client, session.generation) else {
        return;
    };
    shared.stats.hibernated.fetch_sub(1, Ordering::Relaxed);
    shared.stats.woken.fetch_add(1, Ordering::Relaxed);
    resume(me, sleeper, &mut session.presence);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(slab: &mut Slab<u32>, now: Instant) -> Vec<u32> {
        let mut due = Vec::new();
        slab.take_due(now, |slot| due.push(slot));
        due
    }

    /// A deadline is due at the first scan at or after it, never before,
    /// to the nanosecond, however it falls between ticks.
    #[test]
    fn deadlines_are_due_once_passed() {
        let mut slab = Slab::default();
        let origin = slab.origin;
        let nanos = |n: u64| origin + Duration::from_nanos(n);
        let tick = TICK.as_nanos() as u64;
        for (at, scans) in [(0, 0), (1, tick), (tick, tick), (tick + 1, 2 * tick)] {
            let slot = slab.insert(7, Some(nanos(at)));
            if scans > 0 {
                assert_eq!(due(&mut slab, nanos(scans - 1)), [], "{at} early");
            }
            assert_eq!(due(&mut slab, nanos(scans)), [slot], "{at}");
            slab.take(slot);
        }
        let slot = slab.insert(7, Some(origin - Duration::from_secs(1)));
        assert_eq!(due(&mut slab, origin), [slot], "already passed");
        let never = slab.insert(8, None);
        assert_eq!(due(&mut slab, nanos(u64::MAX)), [], "{never}: no deadline");
    }

    /// Slots are handed out lowest first and reused once taken; a taken
    /// slot's deadline is cleared; `shrink` frees only emptied chunks, and
    /// a freed chunk's slots work again.
    #[test]
    fn slab_reuses_slots_and_frees_emptied_chunks() {
        let mut slab = Slab::default();
        let at = slab.origin;
        let slots: Vec<u32> = (0..CHUNK as u32 + 2)
            .map(|v| slab.insert(v, None))
            .collect();
        assert_eq!(slots, (0..CHUNK as u32 + 2).collect::<Vec<_>>());
        assert_eq!(slab.chunks.len(), 2);
        assert_eq!(slab.take(1), Some(1));
        assert_eq!(
            (slab.take(1), slab.get(1), slab.get(0)),
            (None, None, Some(&0))
        );
        assert_eq!(slab.insert(77, Some(at)), 1, "the freed slot first");
        assert_eq!(slab.get(1), Some(&77));
        assert_eq!(due(&mut slab, at), [1]);
        assert_eq!(due(&mut slab, at), [], "once");
        assert_eq!(slab.take(1), Some(77));
        assert_eq!(slab.insert(78, Some(at)), 1);
        assert_eq!(slab.take(1), Some(78));
        assert_eq!(
            due(&mut slab, at),
            [],
            "a taken slot's deadline went with it"
        );
        for slot in CHUNK as u32..CHUNK as u32 + 2 {
            slab.take(slot);
        }
        slab.shrink();
        assert!(slab.chunks[0].is_some() && slab.chunks[1].is_none());
        assert_eq!(slab.get(CHUNK as u32), None);
        let again = slab.insert(5, None);
        assert_eq!(slab.get(again), Some(&5));
        for slot in 0..CHUNK as u32 {
            slab.take(slot);
        }
        slab.shrink();
        assert!(slab.chunks[0].is_none());
        assert_eq!(slab.get(again), Some(&5), "in a chunk still used");
    }
}
