//! The broker's shared state: the sessions table, the router and the
//! retained store behind one `std::sync::Mutex` (never held across an
//! `.await`), the counters, and the delivery of routed copies.
//!
//! Delivery policy (overload): routing never waits on a subscriber. A copy
//! goes to its client's command channel if it has room; when it is full,
//! the copy waits in that connection's backlog, in order, forwarded by its
//! own task, and past the backlog's bounds (`--max-queued`,
//! `--max-queued-bytes`) it is dropped (`backlog.rs` says the rules). A QoS 1 or 2 copy whose connection closed first goes
//! into its session: into the limbo of the connection that holds the
//! session now, or its stored (offline) session, bounded by
//! `--max-queued`. Only a session that ended (Clean Start, expiry) loses
//! its copies, with its subscriptions.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use mqtt_codec::{Message, ProtocolVersion, QoS};
use mqtt_core::MonotonicTime;
use mqtt_core::{role, GenericConnection};
use mqtt_tokio::{ForwardError, ServerEndpoint};

use super::backlog::{self, Backlog, Limbo};
use super::budget::Budget;
use super::config::BrokerConfig;
use super::hibernate::{self, Asleep, Sleepers};
use super::message::StoredMessage;
use super::retained::RetainedStore;
use super::router::{ClientId, Route, Router};
use super::store::Store;

/// A Server connection whose network connection ended, holding an offline
/// session (its flows, packet identifiers and queue).
pub type StoredConnection = GenericConnection<role::Server, u16>;

/// Where a session's client is.
#[derive(Debug)]
pub enum Presence {
    /// Connected: messages go to its endpoint. Boxed: the session table
    /// holds every session, most of them asleep or offline where many
    /// connections are open.
    Online(Box<Online>),
    /// Disconnected: messages are queued in the stored connection's session.
    Offline(Box<StoredConnection>),
    /// Connected, its connection hibernated (`hibernate.rs`): a message
    /// for it, a takeover or a shutdown wakes it first
    /// ([`hibernate::wake`]).
    Asleep(Asleep),
}

/// A session's connection with a task.
#[derive(Debug)]
pub struct Online {
    /// The connection's handle.
    pub endpoint: ServerEndpoint,
    /// The MQTT version of the connection.
    pub version: ProtocolVersion,
    /// Changes (its sender is dropped) once the connection's task has
    /// handed the session back: for a session takeover to wait on.
    pub ended: super::ended::EndWatch,
    /// QoS 1 and 2 messages routed while the connection is not ready
    /// (before its CONNACK, or closed and not yet stored): forwarded
    /// after the CONNACK, or queued in the stored session.
    pub limbo: Limbo,
    /// Copies that found its command channel full, waiting in order
    /// for room (`backlog.rs`).
    pub backlog: Backlog,
    /// The CONNACK was sent: messages go to the endpoint.
    pub ready: bool,
}

impl Online {
    /// Whether copies go to its endpoint: its CONNACK was sent and its
    /// network connection is open.
    pub fn is_open(&self) -> bool {
        self.ready && !self.endpoint.is_closed()
    }
}

impl Presence {
    /// Online, with `endpoint` and `ended`, nothing waiting for it.
    pub fn online(
        endpoint: ServerEndpoint,
        version: ProtocolVersion,
        ended: super::ended::EndWatch,
        ready: bool,
    ) -> Presence {
        Presence::Online(Box::new(Online {
            endpoint,
            version,
            ended,
            limbo: Limbo::default(),
            backlog: Backlog::default(),
            ready,
        }))
    }
}

/// One session (§4.1): where its client is, and its Will waiting for the
/// Will Delay Interval.
#[derive(Debug)]
pub struct Session {
    /// Bumped at each connection that takes the session: timers started for
    /// an older generation do nothing.
    pub generation: u64,
    /// The session's own number: the generation of the connection that
    /// created it, kept when later connections resume it. A copy routed
    /// for it belongs to it whichever connection holds it when the copy
    /// comes back undelivered; a new session (Clean Start, expiry) has
    /// another number.
    pub id: u64,
    /// Online or offline.
    pub presence: Presence,
    /// The Will Message of a connection that closed without a normal
    /// DISCONNECT, waiting for its Will Delay Interval (§3.1.3.2.2).
    pub pending_will: Option<Box<StoredMessage>>,
    /// Kept in the store (`--store`): its Session Expiry Interval was
    /// above 0 when a connection took it.
    pub durable: bool,
}

/// What the mutex guards.
#[derive(Debug, Default)]
pub struct State {
    /// Sessions by Client Identifier.
    pub sessions: HashMap<ClientId, Session>,
    /// The subscriptions of every session.
    pub router: Router,
    /// The retained messages.
    pub retained: RetainedStore,
    next_generation: u64,
    routes: Vec<Route>,
}

/// One copy of a message for an online client, to forward after the lock.
#[derive(Debug)]
pub struct Delivery {
    /// The client.
    pub client: ClientId,
    /// Its session's generation when routed.
    pub generation: u64,
    /// Its session's [`id`](Session::id).
    pub session: u64,
    /// Its connection.
    pub endpoint: ServerEndpoint,
    /// The message, numbered by the connection.
    pub message: Message,
}

/// The broker's counters (for tests and the load report).
#[derive(Debug, Default)]
pub struct Stats {
    /// Network connections open now.
    pub connections: AtomicUsize,
    /// Network connections accepted since start.
    pub connections_total: AtomicU64,
    /// PUBLISH packets received from clients.
    pub messages_in: AtomicU64,
    /// PUBLISH packets handed to client connections.
    pub messages_out: AtomicU64,
    /// Copies not delivered: a full backlog, offline queue or limbo, QoS 0
    /// to a connection that closed, or a session that ended.
    pub dropped: AtomicU64,
    /// Of `dropped`, the copies dropped for a slow subscriber: past its
    /// backlog's bound.
    pub dropped_slow: AtomicU64,
    /// Copies that found their client's channel full and waited in its
    /// backlog.
    pub backlogged: AtomicU64,
    /// Connections cut as slow consumers: their backlog made no progress
    /// for the slow consumer timeout, or overflowed with `--overflow
    /// disconnect`.
    pub slow_consumers: AtomicU64,
    /// Of `connections`, those asleep (`--hibernate-after`).
    pub hibernated: AtomicUsize,
    /// Hibernated connections woken since start.
    pub woken: AtomicU64,
}

/// A snapshot of the counters and table sizes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Network connections open now.
    pub connections: usize,
    /// Network connections accepted since start.
    pub connections_total: u64,
    /// Sessions (online and offline).
    pub sessions: usize,
    /// Sessions whose client is offline.
    pub offline_sessions: usize,
    /// Subscriptions.
    pub subscriptions: usize,
    /// Retained messages.
    pub retained: usize,
    /// PUBLISH packets received.
    pub messages_in: u64,
    /// PUBLISH packets sent on (or queued for offline sessions).
    pub messages_out: u64,
    /// Copies dropped.
    pub dropped: u64,
    /// Of `dropped`, copies dropped for a slow subscriber.
    pub dropped_slow: u64,
    /// QoS 1 and 2 copies that waited in a slow subscriber's backlog.
    pub backlogged: u64,
    /// Connections cut as slow consumers.
    pub slow_consumers: u64,
    /// Bytes all backlogs hold now (against `--max-backlog-bytes`).
    pub backlog_bytes: usize,
    /// Connections asleep (`--hibernate-after`).
    pub hibernated: usize,
    /// Hibernated connections woken since start.
    pub woken: u64,
}

/// Everything the connection tasks share.
#[derive(Debug)]
pub struct Shared {
    /// The configuration.
    pub config: BrokerConfig,
    /// The counters.
    pub stats: Stats,
    /// The bytes all backlogs hold, against `--max-backlog-bytes`.
    pub budget: Arc<Budget>,
    /// The origin of the [`MonotonicTime`] given to stored connections.
    pub origin: Instant,
    /// The core options of every connection.
    pub options: mqtt_core::ConnectionOptions,
    /// The durable store (`--store`), if any.
    pub store: Option<Store>,
    /// The watch over hibernated connections (`--hibernate-after` above 0).
    pub sleepers: Option<Sleepers>,
    state: Mutex<State>,
    next_assigned: AtomicU64,
    /// This, for the tasks it spawns (backlog drainers).
    pub(super) me: Weak<Shared>,
}

impl Shared {
    /// A broker state with nothing in it, keeping what changes in `store`.
    pub fn new(config: BrokerConfig, store: Option<Store>) -> Arc<Shared> {
        Arc::new_cyclic(|me| Shared {
            options: super::options(&config),
            sleepers: (config.hibernate_after > 0)
                .then(Sleepers::start)
                .and_then(|started| {
                    started
                        .map_err(|e| eprintln!("broker: no hibernation: {e}"))
                        .ok()
                }),
            budget: Budget::new(config.max_backlog_bytes),
            config,
            store,
            stats: Stats::default(),
            origin: Instant::now(),
            state: Mutex::new(State::default()),
            next_assigned: AtomicU64::new(1),
            me: me.clone(),
        })
    }

    /// Locks the state. A panic in another task while it held the lock
    /// leaves the state usable (every change is complete before a call that
    /// could panic), so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `now` as the stored connections see time.
    pub fn monotonic(&self, now: Instant) -> MonotonicTime {
        MonotonicTime::from_instant(self.origin, now)
    }

    /// A new Client Identifier for a client that sent an empty one
    /// [MQTT-3.1.3-6], [MQTT-3.2.2-16].
    pub fn assign_client_id(&self) -> String {
        let n = self.next_assigned.fetch_add(1, Ordering::Relaxed);
        format!(
            "auto-{:x}-{n}",
            self.origin.elapsed().as_nanos() & 0xffff_ffff
        )
    }

    /// The Session Expiry Interval granted for `requested` seconds.
    pub fn session_expiry(&self, requested: u32) -> u32 {
        match self.config.max_session_expiry {
            Some(max) => requested.min(max),
            None => requested,
        }
    }

    /// The counters and table sizes now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let state = self.lock();
        let s = &self.stats;
        StatsSnapshot {
            connections: s.connections.load(Ordering::Relaxed),
            connections_total: s.connections_total.load(Ordering::Relaxed),
            sessions: state.sessions.len(),
            offline_sessions: state
                .sessions
                .values()
                .filter(|s| matches!(s.presence, Presence::Offline(_)))
                .count(),
            subscriptions: state.router.len(),
            retained: state.retained.len(),
            messages_in: s.messages_in.load(Ordering::Relaxed),
            messages_out: s.messages_out.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
            dropped_slow: s.dropped_slow.load(Ordering::Relaxed),
            backlogged: s.backlogged.load(Ordering::Relaxed),
            slow_consumers: s.slow_consumers.load(Ordering::Relaxed),
            backlog_bytes: self.budget.used(),
            hibernated: s.hibernated.load(Ordering::Relaxed),
            woken: s.woken.load(Ordering::Relaxed),
        }
    }
}

impl State {
    /// A new generation number for a connection that takes a session.
    pub fn next_generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    /// Routes `message`, published by `publisher`: stores it if retained,
    /// queues copies for offline sessions, and appends the copies for
    /// online clients to `out`, to forward once the lock is released.
    /// An expired message goes nowhere [MQTT-3.3.2-5].
    ///
    /// Each copy has QoS min(message, subscription) and RETAIN as published
    /// only with Retain As Published [MQTT-3.3.1-12], [MQTT-3.3.1-13].
    /// A copy for a connection whose backlog waits goes behind it, in order
    /// [MQTT-4.6.0-5], [MQTT-4.6.0-6].
    /// Returns how many copies were dropped (offline queue refusals).
    pub fn route(
        &mut self,
        shared: &Shared,
        message: &StoredMessage,
        publisher: &str,
        now: Instant,
        out: &mut Vec<Delivery>,
    ) -> u64 {
        if message.is_expired(now) {
            return 0;
        }
        let State {
            sessions,
            router,
            routes,
            ..
        } = self;
        routes.clear();
        let online = |client: &str| {
            sessions.get(client).is_some_and(|s| match &s.presence {
                Presence::Online(online) => online.is_open(),
                Presence::Asleep(_) => true,
                Presence::Offline(_) => false,
            })
        };
        router.route(
            &message.message().to_topic_name(),
            publisher,
            online,
            routes,
        );
        let mut dropped = 0;
        let mut queued = 0;
        for route in routes.drain(..) {
            let Some(session) = sessions.get_mut(&route.client) else {
                continue;
            };
            hibernate::wake(shared, session, &route.client);
            let qos = message.message().qos().min(route.qos);
            let retain = message.message().retain() && route.retain_as_published;
            // Journaled for the store; an offline session's copy below,
            // only if its queue takes it.
            let online = session.durable && matches!(session.presence, Presence::Online(_));
            if let (Some(store), QoS::AtLeastOnce | QoS::ExactlyOnce, true) =
                (&shared.store, qos, online)
            {
                let copy = message.delivery(qos, retain, &route.subscription_ids, now);
                store.journal(session, &route.client, &copy, now);
            }
            match &mut session.presence {
                Presence::Online(online) => {
                    let open = online.is_open();
                    if open && online.backlog.is_draining() {
                        let m = message.delivery(qos, retain, &route.subscription_ids, now);
                        let generation = session.generation;
                        backlog::enqueue(shared, &route.client, generation, online, m);
                    } else if open {
                        out.push(Delivery {
                            client: route.client,
                            generation: session.generation,
                            session: session.id,
                            endpoint: online.endpoint.clone(),
                            message: message.delivery(qos, retain, &route.subscription_ids, now),
                        });
                    } else if qos != QoS::AtMostOnce || online.ready {
                        // Not ready yet (before its CONNACK), or closed:
                        // closing, or hibernating (then the limbo goes to it
                        // when it wakes, QoS 0 too; closing, a QoS 0 copy
                        // goes no further than the session's queue).
                        if online.limbo.len() < shared.config.max_queued {
                            let m = message.delivery(qos, retain, &route.subscription_ids, now);
                            online.limbo.push(m);
                        } else {
                            dropped += 1;
                        }
                    }
                }
                // Not woken (its socket refused by the reactor): closing.
                Presence::Asleep(_) => dropped += 1,
                Presence::Offline(conn) => {
                    if qos == QoS::AtMostOnce {
                        // QoS 0 is not queued for offline sessions.
                        continue;
                    }
                    let delivery = message.delivery(qos, retain, &route.subscription_ids, now);
                    let store = shared.store.as_ref().filter(|_| session.durable);
                    let copy = store.map(|s| (s, delivery.clone()));
                    if queue(conn, delivery, shared.monotonic(now)) {
                        queued += 1;
                        if let Some((store, copy)) = copy {
                            let s = &*session;
                            store.journal(s, &route.client, &copy, now);
                        }
                    } else {
                        dropped += 1;
                    }
                }
            }
        }
        shared
            .stats
            .messages_out
            .fetch_add(queued, Ordering::Relaxed);
        dropped
    }

    /// Gives a copy that a connection of the session did not take (it
    /// closed, hibernated, or was cut as a slow consumer) to whoever holds
    /// its session `session` now: the limbo of that connection (stored with
    /// the session when its task ends, or forwarded if it hibernated and
    /// woke again) or of a new one not yet ready, the stored session of an
    /// offline client, or a connection that is ready (the caller forwards
    /// it there; behind its backlog if one waits), woken if asleep.
    /// Dropped only when that session ended (its subscriptions ended with
    /// it) or its queue is full; a QoS 0 copy also when the session is
    /// offline (it is not queued, and a limbo's goes no further than the
    /// session's queue).
    pub fn requeue(
        &mut self,
        shared: &Shared,
        client: &ClientId,
        session: u64,
        message: Message,
    ) -> Requeued {
        let Some(s) = self.sessions.get_mut(client) else {
            return Requeued::Dropped;
        };
        if s.id != session {
            return Requeued::Dropped;
        }
        hibernate::wake(shared, s, client);
        if let (Some(store), false) = (&shared.store, message.qos() == QoS::AtMostOnce) {
            // Journaled again: the export of the connection that did not
            // take it may have been written meanwhile, without it.
            store.journal(s, client, &message, Instant::now());
        }
        match &mut s.presence {
            Presence::Online(online) if online.is_open() => {
                if !online.backlog.is_draining() {
                    return Requeued::Forward {
                        endpoint: online.endpoint.clone(),
                        generation: s.generation,
                        message,
                    };
                }
                backlog::enqueue(shared, client, s.generation, online, message);
                Requeued::Kept
            }
            Presence::Online(online) => {
                if online.limbo.len() >= shared.config.max_queued {
                    return Requeued::Dropped;
                }
                online.limbo.push(message);
                Requeued::Kept
            }
            Presence::Offline(conn) => {
                if queue(conn, message, shared.monotonic(Instant::now())) {
                    Requeued::Kept
                } else {
                    Requeued::Dropped
                }
            }
            Presence::Asleep(_) => Requeued::Dropped,
        }
    }

    /// The MQTT version of the connection of `client` of `generation`, if
    /// it still holds the session.
    pub fn holder_version(&self, client: &ClientId, generation: u64) -> Option<ProtocolVersion> {
        let session = self.sessions.get(client)?;
        match &session.presence {
            _ if session.generation != generation => None,
            Presence::Online(online) => Some(online.version),
            Presence::Asleep(asleep) => Some(asleep.version),
            Presence::Offline(_) => None,
        }
    }
}

/// Where [`State::requeue`] put a copy.
#[derive(Debug)]
pub enum Requeued {
    /// In a limbo, a backlog or a stored session (or dropped by a
    /// backlog's bound, and counted).
    Kept,
    /// Nowhere: its session ended, or its queue is full.
    Dropped,
    /// To forward to the connection that holds the session now.
    Forward {
        /// That connection.
        endpoint: ServerEndpoint,
        /// Its generation.
        generation: u64,
        /// The copy.
        message: Message,
    },
}

/// The CONNACK of the connection of generation `generation` was sent:
/// forwards the copies routed meanwhile (its limbo), in order, and then
/// makes the connection ready, so that what is routed next goes to it
/// directly. Copies routed while the limbo is forwarded join the limbo and
/// follow; once a backlog waits, the rest of the limbo goes behind it. If
/// the connection closes first, the limbo stays for its stored session
/// (`client.rs::finish`).
pub fn go_online(shared: &Shared, client: &ClientId, generation: u64) {
    loop {
        let batch = {
            let mut state = shared.lock();
            let Some(session) = state.sessions.get_mut(client) else {
                return;
            };
            if session.generation != generation {
                return;
            }
            let id = session.id;
            let Presence::Online(online) = &mut session.presence else {
                return;
            };
            if online.endpoint.is_closed() {
                return;
            }
            if online.backlog.is_draining() {
                for message in online.limbo.take() {
                    backlog::enqueue(shared, client, generation, online, message);
                }
                online.ready = true;
                return;
            }
            if online.limbo.is_empty() {
                online.ready = true;
                return;
            }
            let endpoint = online.endpoint.clone();
            online
                .limbo
                .take()
                .into_iter()
                .map(|message| Delivery {
                    client: client.clone(),
                    generation,
                    session: id,
                    endpoint: endpoint.clone(),
                    message,
                })
                .collect::<Vec<_>>()
        };
        deliver(shared, batch);
    }
}

/// Queues `message` in an offline session (numbered by it); false if the
/// session refused it. A full queue (`--max-queued`, `--max-queued-bytes`)
/// refuses the new message: what was queued first is delivered first, as
/// mosquitto does.
pub fn queue(conn: &mut StoredConnection, message: Message, now: MonotonicTime) -> bool {
    conn.set_time(now);
    // Offline, publishing writes nothing: no events to handle.
    conn.publish(message).is_ok()
}

/// Forwards the copies routed under the lock, in order, following the
/// delivery policy of the module docs, without waiting: a copy that finds
/// its connection's channel full goes to its backlog, and so do the later
/// copies of this call for that connection.
/// Nothing QoS 1 or 2 is lost while its session exists (but for its
/// bounds); a QoS 0 copy is lost when its client is slow or closes
/// meanwhile.
pub fn deliver(shared: &Shared, deliveries: Vec<Delivery>) {
    let stats = &shared.stats;
    let mut sent = 0;
    // The connections (client, generation) whose copies went to their
    // backlog during this call: the next ones go behind.
    let mut behind: Vec<(ClientId, u64)> = Vec::new();
    for d in deliveries {
        let Delivery {
            client,
            mut generation,
            session,
            mut endpoint,
            mut message,
        } = d;
        loop {
            let full = behind.iter().any(|(c, g)| *c == client && *g == generation);
            let result = if full {
                Err(ForwardError::Full(message))
            } else {
                endpoint.try_forward(message)
            };
            let requeued = match result {
                Ok(()) => {
                    sent += 1;
                    break;
                }
                Err(ForwardError::Full(m)) => {
                    if !full {
                        behind.push((client.clone(), generation));
                    }
                    let mut state = shared.lock();
                    state.backlog(shared, &client, session, generation, m)
                }
                Err(ForwardError::Closed(m)) => {
                    let mut state = shared.lock();
                    state.requeue(shared, &client, session, m)
                }
            };
            match requeued {
                Requeued::Kept => break,
                Requeued::Dropped => {
                    stats.dropped.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                // The session moved to a new connection that is ready:
                // forward it there.
                Requeued::Forward {
                    endpoint: e,
                    generation: g,
                    message: m,
                } => (endpoint, generation, message) = (e, g, m),
            }
        }
    }
    stats.messages_out.fetch_add(sent, Ordering::Relaxed);
}

/// Stores (if retained) and routes `message` from `publisher`, then
/// forwards the copies, without waiting on any subscriber.
pub fn publish(shared: &Shared, message: StoredMessage, publisher: &str) {
    let now = Instant::now();
    let mut out = Vec::new();
    {
        let mut state = shared.lock();
        if message.message().retain() && shared.config.retain_available {
            // [MQTT-3.3.1-5], [MQTT-3.3.1-6], [MQTT-3.3.1-7]
            state.retained.set(message.clone());
            if let Some(store) = &shared.store {
                store.retain(&message);
            }
        }
        let dropped = state.route(shared, &message, publisher, now, &mut out);
        shared.stats.dropped.fetch_add(dropped, Ordering::Relaxed);
    }
    deliver(shared, out);
}
