//! The broker's shared state: the sessions table, the router and the
//! retained store behind one `std::sync::Mutex` (never held across an
//! `.await`), the counters, and the delivery of routed copies.
//!
//! Delivery policy (overload): a copy goes to its client's command channel;
//! when that channel is full, the copy waits for room, whatever its QoS:
//! the publisher's task waits with it, so its connection is not read
//! meanwhile (back-pressure). A client that takes nothing for
//! `--slow-consumer-timeout` is cut (counted in `slow_consumers`); a QoS 0
//! copy for it is then dropped (counted in `dropped`), and a QoS 1 or 2
//! copy goes into its session, like
//! every copy whose connection closed first: into the limbo of the
//! connection that holds the session now, or its stored (offline) session,
//! bounded by `--max-queued`. Only a session that ended (Clean Start,
//! expiry) loses its copies, with its subscriptions.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mqtt_codec::v5_0::DisconnectReasonCode;
use mqtt_codec::{v5_0, GenericPacket, Message, ProtocolVersion, QoS};
use mqtt_core::MonotonicTime;
use mqtt_core::{role, GenericConnection};
use mqtt_tokio::{ForwardError, ServerEndpoint};
use tokio::sync::watch;

use super::config::BrokerConfig;
use super::message::StoredMessage;
use super::retained::RetainedStore;
use super::router::{ClientId, Route, Router};

/// A Server connection whose network connection ended, holding an offline
/// session (its flows, packet identifiers and queue).
pub type StoredConnection = GenericConnection<role::Server, u16>;

/// Where a session's client is.
#[derive(Debug)]
pub enum Presence {
    /// Connected: messages go to its endpoint.
    Online {
        /// The connection's handle.
        endpoint: ServerEndpoint,
        /// The MQTT version of the connection.
        version: ProtocolVersion,
        /// Changes (its sender is dropped) once the connection's task has
        /// handed the session back: for a session takeover to wait on.
        ended: watch::Receiver<()>,
        /// QoS 1 and 2 messages routed while the connection is not ready
        /// (before its CONNACK, or closed and not yet stored): forwarded
        /// after the CONNACK, or queued in the stored session.
        limbo: Vec<Message>,
        /// The CONNACK was sent: messages go to the endpoint.
        ready: bool,
    },
    /// Disconnected: messages are queued in the stored connection's session.
    Offline(Box<StoredConnection>),
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
    pub pending_will: Option<StoredMessage>,
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
    /// Copies not delivered: QoS 0 to a full channel, a full offline
    /// queue or limbo, or a session that ended.
    pub dropped: AtomicU64,
    /// Connections cut because they took nothing for the slow consumer
    /// timeout.
    pub slow_consumers: AtomicU64,
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
    /// Connections cut as slow consumers.
    pub slow_consumers: u64,
}

/// Everything the connection tasks share.
#[derive(Debug)]
pub struct Shared {
    /// The configuration.
    pub config: BrokerConfig,
    /// The counters.
    pub stats: Stats,
    /// The origin of the [`MonotonicTime`] given to stored connections.
    pub origin: Instant,
    /// The core options of every connection.
    pub options: mqtt_core::ConnectionOptions,
    state: Mutex<State>,
    next_assigned: AtomicU64,
}

impl Shared {
    /// A broker state with nothing in it.
    pub fn new(config: BrokerConfig) -> Arc<Shared> {
        Arc::new(Shared {
            options: super::options(&config),
            config,
            stats: Stats::default(),
            origin: Instant::now(),
            state: Mutex::new(State::default()),
            next_assigned: AtomicU64::new(1),
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
            slow_consumers: s.slow_consumers.load(Ordering::Relaxed),
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
                Presence::Online {
                    endpoint, ready, ..
                } => *ready && !endpoint.is_closed(),
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
            let qos = message.message().qos().min(route.qos);
            let retain = message.message().retain() && route.retain_as_published;
            match &mut session.presence {
                Presence::Online {
                    endpoint,
                    limbo,
                    ready,
                    ..
                } => {
                    if *ready && !endpoint.is_closed() {
                        out.push(Delivery {
                            client: route.client,
                            generation: session.generation,
                            session: session.id,
                            endpoint: endpoint.clone(),
                            message: message.delivery(qos, retain, &route.subscription_ids, now),
                        });
                    } else if qos != QoS::AtMostOnce {
                        if limbo.len() < shared.config.max_queued {
                            limbo.push(message.delivery(qos, retain, &route.subscription_ids, now));
                        } else {
                            dropped += 1;
                        }
                    }
                }
                Presence::Offline(conn) => {
                    if qos == QoS::AtMostOnce {
                        // QoS 0 is not queued for offline sessions.
                        continue;
                    }
                    let delivery = message.delivery(qos, retain, &route.subscription_ids, now);
                    if queue(conn, delivery, shared.monotonic(now)) {
                        queued += 1;
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

    /// Gives a QoS 1 or 2 copy that the connection of `generation` did not
    /// take (it closed, or was cut as a slow consumer) to whoever holds its
    /// session `session` now: the limbo of that connection (stored with the
    /// session when its task ends) or of a new one not yet ready, the
    /// stored session of an offline client, or a newer connection that is
    /// ready (the caller forwards it there). Dropped only when that session
    /// ended (its subscriptions ended with it) or its queue is full.
    pub fn requeue(
        &mut self,
        shared: &Shared,
        client: &ClientId,
        session: u64,
        generation: u64,
        message: Message,
    ) -> Requeued {
        let Some(s) = self.sessions.get_mut(client) else {
            return Requeued::Dropped;
        };
        if s.id != session {
            return Requeued::Dropped;
        }
        match &mut s.presence {
            Presence::Online {
                endpoint,
                ready: true,
                ..
            } if s.generation != generation && !endpoint.is_closed() => Requeued::Forward {
                endpoint: endpoint.clone(),
                generation: s.generation,
                message,
            },
            Presence::Online { limbo, .. } => {
                if limbo.len() >= shared.config.max_queued {
                    return Requeued::Dropped;
                }
                limbo.push(message);
                Requeued::Kept
            }
            Presence::Offline(conn) => {
                if queue(conn, message, shared.monotonic(Instant::now())) {
                    Requeued::Kept
                } else {
                    Requeued::Dropped
                }
            }
        }
    }

    /// The MQTT version of the connection of `client` of `generation`, if
    /// it still holds the session.
    pub fn holder_version(&self, client: &ClientId, generation: u64) -> Option<ProtocolVersion> {
        match self.sessions.get(client)? {
            Session {
                generation: g,
                presence: Presence::Online { version, .. },
                ..
            } if *g == generation => Some(*version),
            _ => None,
        }
    }
}

/// Where [`State::requeue`] put a copy.
#[derive(Debug)]
pub enum Requeued {
    /// In a limbo or a stored session.
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
/// follow. If the connection closes first, the limbo stays for its stored
/// session (`client.rs::finish`).
pub async fn go_online(shared: &Shared, client: &ClientId, generation: u64) {
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
            let Presence::Online {
                endpoint,
                limbo,
                ready,
                ..
            } = &mut session.presence
            else {
                return;
            };
            if endpoint.is_closed() {
                return;
            }
            if limbo.is_empty() {
                *ready = true;
                return;
            }
            let endpoint = endpoint.clone();
            std::mem::take(limbo)
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
        deliver(shared, batch).await;
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

/// Cuts the connection of `client` of `generation`, which took nothing for
/// the slow consumer timeout: a v5.0 client is first sent DISCONNECT 0x97
/// (Quota exceeded) if its channel has room for it (a client that does not
/// read will not see it); then the network connection is aborted. Its
/// unsent copies come back with its session.
fn cut_slow_consumer(
    shared: &Shared,
    client: &ClientId,
    generation: u64,
    endpoint: &ServerEndpoint,
) {
    let Some(version) = shared.lock().holder_version(client, generation) else {
        return;
    };
    if endpoint.is_closed() {
        return;
    }
    if version == ProtocolVersion::V5_0 {
        let disconnect = v5_0::Disconnect::new(DisconnectReasonCode::QuotaExceeded);
        let _ = endpoint.try_forward(GenericPacket::V5_0(v5_0::Packet::from(disconnect)));
    }
    endpoint.abort();
    shared.stats.slow_consumers.fetch_add(1, Ordering::Relaxed);
    if shared.config.verbose {
        println!("{client}: cut, a slow consumer");
    }
}

/// Hands one copy to its connection following the delivery policy (see the
/// module docs): waits for room in its channel up to the slow consumer
/// timeout, then cuts the client. Gives the copy back when the connection
/// did not take it (it closed, or was cut).
async fn forward_copy(
    shared: &Shared,
    client: &ClientId,
    generation: u64,
    endpoint: &ServerEndpoint,
    message: Message,
) -> Result<(), Message> {
    let message = match endpoint.try_forward(message) {
        Ok(()) => return Ok(()),
        Err(ForwardError::Closed(m)) => return Err(m),
        Err(ForwardError::Full(m)) => m,
    };
    let wait = Duration::from_secs(shared.config.slow_consumer_timeout);
    match endpoint.forward_timeout(message, wait).await {
        Ok(()) => Ok(()),
        Err(ForwardError::Full(m)) => {
            cut_slow_consumer(shared, client, generation, endpoint);
            Err(m)
        }
        Err(ForwardError::Closed(m)) => Err(m),
    }
}

/// Forwards the copies routed under the lock, in order, following the
/// delivery policy of the module docs: nothing QoS 1 or 2 is lost while its
/// session exists (but for a full queue); a QoS 0 copy is lost only when its
/// client is cut as a slow consumer or closes meanwhile.
pub async fn deliver(shared: &Shared, deliveries: Vec<Delivery>) {
    let mut sent = 0;
    for d in deliveries {
        let Delivery {
            client,
            mut generation,
            session,
            mut endpoint,
            mut message,
        } = d;
        loop {
            message = match forward_copy(shared, &client, generation, &endpoint, message).await {
                Ok(()) => {
                    sent += 1;
                    break;
                }
                // QoS 0 is not kept for a connection that closed or was cut.
                Err(m) if m.qos() == QoS::AtMostOnce => {
                    shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Err(m) => m,
            };
            let requeued = shared
                .lock()
                .requeue(shared, &client, session, generation, message);
            match requeued {
                Requeued::Kept => break,
                Requeued::Dropped => {
                    shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
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
    shared.stats.messages_out.fetch_add(sent, Ordering::Relaxed);
}

/// Stores (if retained) and routes `message` from `publisher`, then
/// forwards the copies.
pub async fn publish(shared: &Shared, message: StoredMessage, publisher: &str) {
    let now = Instant::now();
    let mut out = Vec::new();
    {
        let mut state = shared.lock();
        if message.message().retain() && shared.config.retain_available {
            // [MQTT-3.3.1-5], [MQTT-3.3.1-6], [MQTT-3.3.1-7]
            state.retained.set(message.clone());
        }
        let dropped = state.route(shared, &message, publisher, now, &mut out);
        shared.stats.dropped.fetch_add(dropped, Ordering::Relaxed);
    }
    deliver(shared, out).await;
}
