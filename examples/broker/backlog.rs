//! Per-connection backlogs: the copies for a client whose command channel
//! is full, kept in order and forwarded by one drainer task per
//! backlogged connection, so that routing never waits on one subscriber
//! (no head-of-line blocking: its publisher and the other subscribers go
//! on at full rate).
//!
//! QoS 0 copies wait here too, within the same bounds, as mosquitto keeps
//! them up to `max_queued_messages`: the channel (256 commands) holds a
//! millisecond of a flood, and a subscriber's connection task that waits
//! a few milliseconds for a core would otherwise lose what its publishers
//! routed meanwhile.
//!
//! Rules (the module docs of the broker say them for users):
//! - a copy for a ready connection goes to its channel at once
//!   ([`ServerEndpoint::try_forward`]); when the channel is full, it goes
//!   to the connection's [`Backlog`] (counted in `backlogged`), which
//!   starts its drainer;
//! - while a backlog has a drainer, every later copy for that connection
//!   goes behind it, so a subscriber receives the copies in the order they
//!   were routed [MQTT-4.6.0-5] (v3.1.1), [MQTT-4.6.0-6] (v5.0);
//! - a backlog holds at most `--max-queued` messages and
//!   `--max-queued-bytes` (encoded PUBLISH sizes); past that, a copy is
//!   dropped (counted in `dropped_slow`), or with `--overflow disconnect`
//!   (QoS 1 and 2 copies only) the client is cut (v5.0: DISCONNECT 0x97 first, if its channel has
//!   room) and the copies go to its session;
//! - the drainer forwards the backlog in order, [`DRAIN_BATCH`] copies
//!   per turn of the lock, waiting for room; if no room comes for
//!   `--slow-consumer-timeout`, it cuts the client the same way;
//! - the QoS 1 and 2 copies of a connection that closed or was cut (the
//!   drainer's ones in hand, then the backlog) go to the front of its
//!   limbo, which goes into its stored session when its task ends
//!   (`client.rs::finish` waits for the drainer first), bounded by the
//!   session queue; its QoS 0 copies are dropped (counted in `dropped`).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use mqtt_codec::v5_0::DisconnectReasonCode;
use mqtt_codec::{v5_0, GenericPacket, Message, ProtocolVersion, QoS};
use mqtt_tokio::{ForwardError, ServerEndpoint};
use tokio::task::JoinHandle;

use super::budget::Charge;
use super::config::Overflow;
use super::router::ClientId;
use super::state::{Online, Presence, Requeued, Shared, State};

/// Copies the drainer takes from the backlog per turn of the lock.
pub const DRAIN_BATCH: usize = 64;

/// The copies waiting for room in one connection's command channel:
/// allocated while any wait or a drainer runs (or the client was cut),
/// so that a session in the table holds 8 bytes for it, not 64.
#[derive(Debug, Default)]
pub struct Backlog(Option<Box<Queue>>);

#[derive(Debug, Default)]
struct Queue {
    messages: VecDeque<Message>,
    /// Encoded PUBLISH sizes of `messages`, charged to the broker's
    /// [`Budget`](super::budget::Budget).
    charge: Charge,
    /// A drainer runs (it may hold the copy before `messages` in hand):
    /// later copies go behind it.
    draining: bool,
    /// The drainer, for `client.rs::finish` to wait for.
    drainer: Option<JoinHandle<()>>,
    /// The client was cut for an overflow: copies go to the limbo.
    cut: bool,
}

impl Backlog {
    /// Whether copies for the connection go behind this backlog.
    pub fn is_draining(&self) -> bool {
        self.0.as_ref().is_some_and(|q| q.draining)
    }

    /// The drainer, if one runs: `client.rs::finish` waits for it to hand
    /// the backlog back before it stores the session.
    pub fn take_drainer(&mut self) -> Option<JoinHandle<()>> {
        self.0.as_mut()?.drainer.take()
    }

    /// Takes every waiting copy, in order (the drainer's one in hand is
    /// not among them).
    pub fn take_all(&mut self) -> VecDeque<Message> {
        let Some(q) = &mut self.0 else {
            return VecDeque::new();
        };
        q.charge.sub(q.charge.bytes());
        let all = std::mem::take(&mut q.messages);
        self.shrink();
        all
    }

    /// Takes up to `n` copies from the front, in order.
    fn pop_batch(&mut self, n: usize, version: ProtocolVersion) -> Vec<Message> {
        let Some(q) = &mut self.0 else {
            return Vec::new();
        };
        let n = n.min(q.messages.len());
        let batch: Vec<Message> = q.messages.drain(..n).collect();
        let len: usize = batch.iter().map(|m| m.packet_len::<u16>(version)).sum();
        q.charge.sub(len);
        batch
    }

    /// The drainer ended.
    fn drained(&mut self) {
        if let Some(q) = &mut self.0 {
            q.draining = false;
            q.drainer = None;
        }
        self.shrink();
    }

    /// Frees the queue once it holds nothing and no drainer runs.
    fn shrink(&mut self) {
        let idle = |q: &Queue| q.messages.is_empty() && !q.draining && !q.cut;
        if self.0.as_deref().is_some_and(idle) {
            self.0 = None;
        }
    }
}

/// The QoS 1 and 2 copies routed to a connection that is not ready (before
/// its CONNACK), closed (for its stored session) or hibernating (for when
/// it wakes): allocated only while any wait, so that a session in the
/// table holds 8 bytes for it, not 24.
#[derive(Debug, Default)]
// The box is the point: 8 bytes inline where a `Vec` takes 24.
#[allow(clippy::box_collection)]
pub struct Limbo(Option<Box<Vec<Message>>>);

impl Limbo {
    /// How many copies wait.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |v| v.len())
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a copy at the end.
    pub fn push(&mut self, message: Message) {
        self.0.get_or_insert_with(Default::default).push(message);
    }

    /// Takes every copy, in order, freeing the memory.
    pub fn take(&mut self) -> Vec<Message> {
        self.0.take().map(|v| *v).unwrap_or_default()
    }

    /// Puts `front` before the copies waiting.
    fn put_front(&mut self, mut front: Vec<Message>) {
        front.append(&mut self.take());
        if !front.is_empty() {
            self.0 = Some(Box::new(front));
        }
    }
}

/// Puts `message` behind the backlog of `online`, the connection of
/// `client` of `generation` (under the lock), starting the drainer if none
/// runs; past the backlog's bound, drops it (counted) or, with `--overflow
/// disconnect`, cuts the client and keeps it in the limbo (QoS 1 and 2, as
/// far as the limbo has room).
pub fn enqueue(
    shared: &Shared,
    client: &ClientId,
    generation: u64,
    online: &mut Online,
    message: Message,
) {
    let config = &shared.config;
    let stats = &shared.stats;
    let Online {
        endpoint,
        version,
        backlog,
        limbo,
        ..
    } = online;
    let backlog = backlog.0.get_or_insert_with(Default::default);
    if !backlog.cut {
        let len = message.packet_len::<u16>(*version);
        let fits = backlog.messages.len() < config.max_queued
            && backlog.charge.bytes() + len <= config.max_queued_bytes;
        if fits {
            backlog.messages.push_back(message);
            backlog.charge.add(&shared.budget, len);
            stats.backlogged.fetch_add(1, Ordering::Relaxed);
            if !backlog.draining {
                backlog.draining = true;
                if let Some(shared) = shared.me.upgrade() {
                    let (client, endpoint) = (client.clone(), endpoint.clone());
                    let task = drain(shared, client, generation, endpoint, *version);
                    backlog.drainer = Some(tokio::spawn(task));
                }
            }
            return;
        }
        if config.overflow == Overflow::Drop || message.qos() == QoS::AtMostOnce {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
            stats.dropped_slow.fetch_add(1, Ordering::Relaxed);
            return;
        }
        cut(shared, client, endpoint, *version);
        backlog.cut = true;
    }
    if message.qos() == QoS::AtMostOnce {
        stats.dropped.fetch_add(1, Ordering::Relaxed);
    } else if limbo.len() < config.max_queued {
        limbo.push(message);
    } else {
        stats.dropped.fetch_add(1, Ordering::Relaxed);
        stats.dropped_slow.fetch_add(1, Ordering::Relaxed);
    }
}

/// Forwards the backlog of the connection of `client` of `generation`, in
/// order, until it is empty; cuts the client when no room comes for the
/// slow consumer timeout; hands what it did not forward back (see the
/// module docs).
async fn drain(
    shared: Arc<Shared>,
    client: ClientId,
    generation: u64,
    endpoint: ServerEndpoint,
    version: ProtocolVersion,
) {
    let wait = Duration::from_secs(shared.config.slow_consumer_timeout);
    let mut sent = 0;
    'drain: loop {
        let batch = {
            let mut st = shared.lock();
            let Some((backlog, _)) = st.backlog_of(&client, generation) else {
                // Its session was discarded (a new one took its place).
                break;
            };
            let batch = backlog.pop_batch(DRAIN_BATCH, version);
            if batch.is_empty() {
                backlog.drained();
                break;
            }
            batch
        };
        let mut batch = batch.into_iter();
        while let Some(next) = batch.next() {
            let result = match endpoint.try_forward(next) {
                Err(ForwardError::Full(m)) => endpoint.forward_timeout(m, wait).await,
                other => other,
            };
            let unsent = match result {
                Ok(()) => {
                    sent += 1;
                    continue;
                }
                Err(ForwardError::Full(m)) => {
                    cut_slow_consumer(&shared, &client, generation, &endpoint);
                    m
                }
                Err(ForwardError::Closed(m)) => m,
            };
            hand_back(
                &shared,
                &client,
                generation,
                std::iter::once(unsent).chain(batch),
            );
            break 'drain;
        }
    }
    shared.stats.messages_out.fetch_add(sent, Ordering::Relaxed);
}

/// Puts the copies `first` (taken from the backlog, not forwarded) and
/// the backlog of the connection of `client` of `generation`, which closed
/// or was cut, in front of its limbo (copies routed after it closed), for
/// its stored session; drops the QoS 0 ones (counted).
fn hand_back(
    shared: &Shared,
    client: &ClientId,
    generation: u64,
    first: impl Iterator<Item = Message>,
) {
    let mut st = shared.lock();
    let Some((backlog, limbo)) = st.backlog_of(client, generation) else {
        let lost = first.count() as u64;
        shared.stats.dropped.fetch_add(lost, Ordering::Relaxed);
        return;
    };
    let mut qos0 = 0;
    let front: Vec<Message> = first
        .chain(backlog.take_all())
        .filter(|m| {
            let keep = m.qos() != QoS::AtMostOnce;
            qos0 += u64::from(!keep);
            keep
        })
        .collect();
    shared.stats.dropped.fetch_add(qos0, Ordering::Relaxed);
    limbo.put_front(front);
    backlog.drained();
    // The endpoint that refused them hibernated, and the connection woke
    // with another (`hibernate.rs`): the limbo goes to that one.
    let woken = matches!(
        st.sessions.get(client).map(|s| &s.presence),
        Some(Presence::Online(online)) if online.is_open()
    );
    drop(st);
    if woken {
        super::state::go_online(shared, client, generation);
    }
}

impl State {
    /// The backlog and limbo of the connection of `client` of
    /// `generation`, if it still holds the session.
    pub fn backlog_of(
        &mut self,
        client: &ClientId,
        generation: u64,
    ) -> Option<(&mut Backlog, &mut Limbo)> {
        let session = self.sessions.get_mut(client)?;
        if session.generation != generation {
            return None;
        }
        match &mut session.presence {
            Presence::Online(online) => Some((&mut online.backlog, &mut online.limbo)),
            Presence::Offline(_) | Presence::Asleep(_) => None,
        }
    }

    /// A copy that found the channel of the connection of `generation`
    /// full: behind its backlog if that connection still holds the session
    /// `session` and is open ([`Requeued::Kept`], also when the backlog's
    /// bound dropped it, counted), else to whoever holds the session now
    /// ([`requeue`](Self::requeue)); a QoS 0 one is then dropped.
    pub fn backlog(
        &mut self,
        shared: &Shared,
        client: &ClientId,
        session: u64,
        generation: u64,
        message: Message,
    ) -> Requeued {
        if let Some(s) = self.sessions.get_mut(client) {
            if let Presence::Online(online) = &mut s.presence {
                if s.id == session && s.generation == generation && !online.endpoint.is_closed() {
                    enqueue(shared, client, generation, online, message);
                    return Requeued::Kept;
                }
            }
        }
        if message.qos() == QoS::AtMostOnce {
            // QoS 0 is not kept for a connection that closed.
            return Requeued::Dropped;
        }
        self.requeue(shared, client, session, message)
    }
}

/// Cuts the connection of `endpoint` now (under the lock or not): a v5.0
/// client is first sent DISCONNECT 0x97 (Quota exceeded) if its channel
/// has room for it (a client that does not read will not see it); then
/// the network connection is aborted. Its unsent copies come back with its
/// session.
pub fn cut(
    shared: &Shared,
    client: &ClientId,
    endpoint: &ServerEndpoint,
    version: ProtocolVersion,
) {
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

/// [`cut`] the connection of `client` of `generation`, which took nothing
/// for the slow consumer timeout, if it still holds the session.
fn cut_slow_consumer(
    shared: &Shared,
    client: &ClientId,
    generation: u64,
    endpoint: &ServerEndpoint,
) {
    let Some(version) = shared.lock().holder_version(client, generation) else {
        return;
    };
    cut(shared, client, endpoint, version);
}
