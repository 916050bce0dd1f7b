//! The broker's shared state: the sessions table, the router and the
//! retained store behind one `std::sync::Mutex` (never held across an
//! `.await`), and the counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mqtt_codec::{GenericPacket, ProtocolVersion, QoS};
use mqtt_core::MonotonicTime;
use mqtt_core::{role, GenericConnection};
use mqtt_tokio::ServerEndpoint;
use tokio::sync::watch;

use super::config::BrokerConfig;
use super::message::Message;
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
        limbo: Vec<GenericPacket<u16>>,
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
    /// Online or offline.
    pub presence: Presence,
    /// The Will Message of a connection that closed without a normal
    /// DISCONNECT, waiting for its Will Delay Interval (§3.1.3.2.2).
    pub pending_will: Option<Message>,
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
    /// Its connection.
    pub endpoint: ServerEndpoint,
    /// The PUBLISH.
    pub packet: GenericPacket<u16>,
    /// Its QoS.
    pub qos: QoS,
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
    /// Copies not delivered: a slow consumer's full channel, a full
    /// offline queue, or a message refused by the connection.
    pub dropped: AtomicU64,
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
        message: &Message,
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
        router.route(&message.topic, publisher, online, routes);
        let mut dropped = 0;
        let mut queued = 0;
        for route in routes.drain(..) {
            let Some(session) = sessions.get_mut(&route.client) else {
                continue;
            };
            let qos = message.qos.min(route.qos);
            let retain = message.retain && route.retain_as_published;
            match &mut session.presence {
                Presence::Online {
                    endpoint,
                    version,
                    limbo,
                    ready,
                    ..
                } => {
                    let packet =
                        message.to_publish(*version, qos, retain, &route.subscription_ids, now);
                    if *ready && !endpoint.is_closed() {
                        out.push(Delivery {
                            client: route.client,
                            generation: session.generation,
                            endpoint: endpoint.clone(),
                            packet,
                            qos,
                        });
                    } else if qos != QoS::AtMostOnce && limbo.len() < shared.config.max_queued {
                        limbo.push(packet);
                    }
                }
                Presence::Offline(conn) => {
                    if qos == QoS::AtMostOnce {
                        // QoS 0 is not queued for offline sessions.
                        continue;
                    }
                    let Some(version) = conn.version() else {
                        continue;
                    };
                    let packet =
                        message.to_publish(version, qos, retain, &route.subscription_ids, now);
                    if queue(conn, packet, shared.monotonic(now)) {
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

    /// Queues a QoS 1 or 2 message that could not be forwarded because the
    /// network connection of generation `generation` closed: into its
    /// limbo, or its stored session. Returns false if it was dropped.
    pub fn requeue(
        &mut self,
        shared: &Shared,
        client: &ClientId,
        generation: u64,
        packet: GenericPacket<u16>,
    ) -> bool {
        let Some(session) = self.sessions.get_mut(client) else {
            return false;
        };
        if session.generation != generation {
            return false;
        }
        match &mut session.presence {
            Presence::Online { limbo, .. } => {
                if limbo.len() >= shared.config.max_queued {
                    return false;
                }
                limbo.push(packet);
                true
            }
            Presence::Offline(conn) => queue(conn, packet, shared.monotonic(Instant::now())),
        }
    }
}

/// The CONNACK of the connection of generation `generation` was sent:
/// messages now go to it, starting with those routed meanwhile.
pub fn go_online(shared: &Shared, client: &ClientId, generation: u64) {
    let mut state = shared.lock();
    let Some(session) = state.sessions.get_mut(client) else {
        return;
    };
    if session.generation != generation {
        return;
    }
    if let Presence::Online {
        endpoint,
        limbo,
        ready,
        ..
    } = &mut session.presence
    {
        *ready = true;
        let mut sent = 0;
        let mut closed = Vec::new();
        for packet in limbo.drain(..) {
            // Under the lock, so that they go before what is routed next;
            // a full channel drops the copy (a slow consumer); a closed
            // connection keeps it for its stored session.
            match endpoint.try_forward(packet.clone()) {
                Ok(()) => sent += 1,
                Err(mqtt_tokio::Error::Closed) => closed.push(packet),
                Err(_) => {
                    shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        *limbo = closed;
        shared.stats.messages_out.fetch_add(sent, Ordering::Relaxed);
    }
}

/// Queues `packet` in an offline session; false if the session refused it.
/// A full queue refuses the new message (the session's `try_publish`): what
/// was queued first is delivered first, as mosquitto does.
pub fn queue(conn: &mut StoredConnection, packet: GenericPacket<u16>, now: MonotonicTime) -> bool {
    conn.set_time(now);
    let events = conn.send(packet);
    !events
        .iter()
        .any(|e| matches!(e, mqtt_core::GenericEvent::NotifyError(_)))
}

/// How long a forward to a slow consumer may wait for room in its channel
/// before the copy is dropped.
pub const SLOW_CONSUMER: Duration = Duration::from_secs(1);

/// Forwards the copies routed under the lock. A client whose channel stays
/// full for [`SLOW_CONSUMER`] loses that copy (counted as dropped); a QoS 1
/// or 2 copy for a connection that just closed goes into its session.
pub async fn deliver(shared: &Shared, deliveries: Vec<Delivery>) {
    let mut sent = 0;
    for d in deliveries {
        let packet = d.packet;
        let result = match d.endpoint.try_forward(packet.clone()) {
            Err(mqtt_tokio::Error::Full) => {
                match tokio::time::timeout(SLOW_CONSUMER, d.endpoint.forward(packet.clone())).await
                {
                    Ok(r) => r,
                    Err(_) => Err(mqtt_tokio::Error::Full),
                }
            }
            r => r,
        };
        match result {
            Ok(()) => sent += 1,
            Err(mqtt_tokio::Error::Closed) if d.qos != QoS::AtMostOnce => {
                let kept = shared
                    .lock()
                    .requeue(shared, &d.client, d.generation, packet);
                if !kept {
                    shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(mqtt_tokio::Error::Closed) => {}
            Err(_) => {
                shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    shared.stats.messages_out.fetch_add(sent, Ordering::Relaxed);
}

/// Stores (if retained) and routes `message` from `publisher`, then
/// forwards the copies.
pub async fn publish(shared: &Shared, message: Message, publisher: &str) {
    let now = Instant::now();
    let mut out = Vec::new();
    {
        let mut state = shared.lock();
        if message.retain && shared.config.retain_available {
            // [MQTT-3.3.1-5], [MQTT-3.3.1-6], [MQTT-3.3.1-7]
            state.retained.set(message.clone());
        }
        let dropped = state.route(shared, &message, publisher, now, &mut out);
        shared.stats.dropped.fetch_add(dropped, Ordering::Relaxed);
    }
    deliver(shared, out).await;
}
