//! One task per network connection: waits for the CONNECT, answers it, then
//! handles what the client sends until the connection closes, and hands
//! the session back (stored offline, or ended).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use mqtt_codec::v5_0::DisconnectReasonCode;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket};
use mqtt_core::role;
use mqtt_tokio::{Incoming, ServerEndpoint};
use tokio::net::TcpStream;

use super::connect::{self, Accepted};
use super::hibernate;
use super::message::StoredMessage;
use super::router::ClientId;
use super::state::{self, Presence, Shared, StoredConnection};
use super::store::acks::PendingAcks;
use super::subscribe;
use super::will;

/// Decrements the open connection count when the task ends, however.
struct ConnectionGuard<'a>(&'a Shared);

impl Drop for ConnectionGuard<'_> {
    fn drop(&mut self) {
        self.0.stats.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How the client ended the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// No DISCONNECT: the network connection closed or broke.
    Abnormal,
    /// DISCONNECT 0x00 (v5.0) or any DISCONNECT (v3.1.1): the Will is
    /// deleted [MQTT-3.1.2-10], [MQTT-3.14.4-3].
    Normal,
    /// v5.0 DISCONNECT with another reason (0x04 Disconnect with Will
    /// Message, or an error): the Will is published.
    WithWill,
}

/// Serves one network connection (the caller counted it in
/// `stats.connections`; it is uncounted when it closes). The calls
/// that are not on the per-message path are boxed: the future of this
/// task lives as long as the connection, and an idle connection's memory
/// is mostly its size. Not an `async fn`, whose future would hold its
/// arguments twice: the block captures them once.
#[allow(clippy::manual_async_fn)]
pub fn serve(
    shared: Arc<Shared>,
    endpoint: ServerEndpoint,
    mut incoming: Incoming<role::Server>,
    peer: SocketAddr,
) -> impl std::future::Future<Output = ()> + Send {
    async move {
        let guard = ConnectionGuard(&shared);
        // The driver drops a connection whose CONNECT does not come within
        // `--connect-timeout` (`Config::connect_timeout`), and the connection
        // refuses any other first packet itself (§3.1).
        // In a block, and boxed: what lives on across the connection's
        // life is in this task's future, for every idle connection.
        let accepted = {
            let Some(connect) = incoming.recv().await else {
                return;
            };
            let accepted = Box::pin(connect::accept(&shared, &endpoint, &connect)).await;
            let Some(accepted) = accepted else {
                return;
            };
            Box::new(accepted)
        };
        if accepted.refused {
            let conn = incoming.into_connection().await;
            Box::pin(finish(&shared, *accepted, conn, Ending::Abnormal)).await;
            return;
        }
        if shared.config.verbose {
            println!(
                "{}: connected from {peer} ({:?}, session present {})",
                accepted.client, accepted.version, accepted.session_present
            );
        }
        if connected(&shared, &endpoint, incoming, accepted).await {
            // Open still, asleep.
            std::mem::forget(guard);
        }
    }
}

/// Serves a connection woken from hibernation (`hibernate.rs`), counted
/// in `stats.connections` since it was accepted, as [`serve`] does once
/// it is connected.
#[allow(clippy::manual_async_fn)]
pub fn resumed(
    shared: Arc<Shared>,
    endpoint: ServerEndpoint,
    incoming: Incoming<role::Server>,
    accepted: Accepted,
) -> impl std::future::Future<Output = ()> + Send {
    async move {
        let guard = ConnectionGuard(&shared);
        if connected(&shared, &endpoint, incoming, Box::new(accepted)).await {
            std::mem::forget(guard);
        }
    }
}

/// Ends a hibernated connection that could not be woken or slept (its
/// socket refused by the reactor, or its session gone): as if its network
/// connection broke.
pub async fn close_hibernated(shared: Arc<Shared>, accepted: Accepted, conn: StoredConnection) {
    let _guard = ConnectionGuard(&shared);
    finish(&shared, accepted, Some(conn), Ending::Abnormal).await;
}

/// Handles a connected client's packets until its connection closes, then
/// hands its session back; or until it hibernates (its driver quiet for
/// `--hibernate-after`), then puts it to sleep in its session: true.
async fn connected(
    shared: &Arc<Shared>,
    endpoint: &ServerEndpoint,
    mut incoming: Incoming<role::Server>,
    accepted: Box<Accepted>,
) -> bool {
    let ending = handle(shared, endpoint, &mut incoming, &accepted.client).await;
    if ending == Ending::Abnormal {
        if let Some(hibernated) = incoming.take_hibernated::<TcpStream>().await {
            hibernate::sleep(shared, *accepted, hibernated);
            return true;
        }
    }
    let reason = incoming.close_reason().map(|e| e.to_string());
    let conn = incoming.into_connection().await;
    if shared.config.verbose {
        let why = reason.unwrap_or_else(|| format!("{ending:?}"));
        println!("{}: disconnected ({why})", accepted.client);
    }
    Box::pin(finish(shared, *accepted, conn, ending)).await;
    false
}

/// What a connection's loop waits for.
enum Next {
    /// A commit came while acknowledgements wait for one.
    Committed,
    /// A packet, or `None`: the connection closed.
    Packet(Option<GenericPacket<u16>>),
}

/// Handles what the client sends until the connection closes; returns how
/// it ended.
async fn handle(
    shared: &Shared,
    endpoint: &ServerEndpoint,
    incoming: &mut Incoming<role::Server>,
    client: &ClientId,
) -> Ending {
    let mut ending = Ending::Abnormal;
    let mut acks = PendingAcks::new(shared);
    let most_waiting = usize::from(shared.config.receive_maximum.max(1));
    loop {
        // A poll rather than a `select!`, whose futures every idle
        // connection's task would hold: commits first, so that waiting
        // acknowledgements go out under a flood of PUBLISH packets.
        let next = std::future::poll_fn(|cx| {
            if acks.poll_committed(cx).is_ready() {
                return Poll::Ready(Next::Committed);
            }
            if acks.holds(most_waiting) {
                // Woken by the commit.
                return Poll::Pending;
            }
            incoming.poll_recv(cx).map(Next::Packet)
        })
        .await;
        let packet = match next {
            Next::Committed => {
                // Boxed: only with a store; every connection's future would
                // hold its 192 bytes.
                Box::pin(acks.send_committed(endpoint)).await;
                continue;
            }
            Next::Packet(None) => break,
            Next::Packet(Some(packet)) => packet,
        };
        let publish_id = match &packet {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => Some(p.packet_id()),
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => Some(p.packet_id()),
            _ => None,
        };
        if let Some(id) = publish_id {
            if let Some(id) = on_publish(shared, client, packet, id, &mut acks) {
                let _ = endpoint.acknowledge(id).await;
            }
            if shared.budget.is_over() {
                // Past `--max-backlog-bytes`: TCP slows this publisher.
                Box::pin(shared.budget.wait_for_room(endpoint)).await;
            }
            continue;
        }
        match &packet {
            GenericPacket::V3_1_1(v3_1_1::Packet::Subscribe(_))
            | GenericPacket::V5_0(v5_0::Packet::Subscribe(_)) => {
                Box::pin(subscribe::on_subscribe(shared, endpoint, client, packet)).await;
            }
            GenericPacket::V3_1_1(v3_1_1::Packet::Unsubscribe(_))
            | GenericPacket::V5_0(v5_0::Packet::Unsubscribe(_)) => {
                Box::pin(subscribe::on_unsubscribe(shared, endpoint, client, packet)).await;
            }
            GenericPacket::V3_1_1(v3_1_1::Packet::Disconnect(_)) => ending = Ending::Normal,
            GenericPacket::V5_0(v5_0::Packet::Disconnect(d)) => {
                ending = if d.reason_code() == DisconnectReasonCode::NormalDisconnection {
                    Ending::Normal
                } else {
                    Ending::WithWill
                };
            }
            _ => {}
        }
    }
    ending
}

/// Routes a PUBLISH received from `client`; returns its packet identifier
/// when it is to be acknowledged now (QoS 1 and 2: PUBACK or PUBREC, sent
/// by the connection, which runs with
/// [`AckPolicy::AfterHandling`](mqtt_tokio::AckPolicy::AfterHandling)).
/// Not `async`: the packet is gone before the caller awaits the
/// acknowledgement, so no connection's future holds it.
///
/// Acknowledging after routing (and, if retained, storing) means that a
/// publisher holding its PUBACK knows a subscriber arriving next sees the
/// retained message, and that a v5.0 one never has more unhandled messages
/// here than our Receive Maximum, which makes the back-pressure reach it
/// (§4.9); a v3.1.1 one, which cannot be told a Receive Maximum, is held
/// by TCP once that many acknowledgements wait for a commit.
/// The connection answers PUBREL with PUBCOMP itself, and a QoS 2 PUBLISH
/// re-sent before that is neither delivered again nor answered twice
/// [MQTT-4.3.3-10]. A closed connection needs no acknowledgement. With
/// `--durability message` the acknowledgement waits in `acks` for the
/// commit of what the PUBLISH changed, while the next ones are routed.
fn on_publish(
    shared: &Shared,
    client: &ClientId,
    packet: GenericPacket<u16>,
    packet_id: Option<u16>,
    acks: &mut PendingAcks,
) -> Option<u16> {
    shared.stats.messages_in.fetch_add(1, Ordering::Relaxed);
    if let Some(message) = StoredMessage::from_publish(packet, Instant::now()) {
        state::publish(shared, message, client);
    }
    // `--durability message`: acknowledged once committed, in order.
    packet_id.filter(|&id| acks.ack_now(shared, id))
}

/// Hands the session back once the network connection closed: stores it
/// offline if it persists (v3.1.1 Clean Session 0, v5.0 Session Expiry
/// Interval > 0), else ends it and its subscriptions; publishes the Will of
/// an abnormal close now, or after its Will Delay Interval (§3.1.2.5).
async fn finish(
    shared: &Arc<Shared>,
    accepted: Accepted,
    conn: Option<StoredConnection>,
    ending: Ending,
) {
    let Accepted {
        client,
        generation,
        version,
        will,
        unresumed,
        ended,
        ..
    } = accepted;
    // A session that could not be resumed is stored as it was (the new
    // connection holds nothing of it).
    let conn = match unresumed {
        Some(stored) => Some(*stored),
        None => conn,
    };
    let expiry = conn
        .as_ref()
        .map_or(0, |c| shared.session_expiry(c.session_expiry_interval()));
    let will = if ending == Ending::Normal { None } else { will };
    let will_delay = will.as_ref().map_or(0, |(_, delay)| *delay);
    // The backlog's drainer hands back what it did not forward (to the
    // front of the limbo) before the session is stored: the connection is
    // closed, so it ends at once.
    let drainer = shared
        .lock()
        .backlog_of(&client, generation)
        .and_then(|(backlog, _)| backlog.take_drainer());
    if let Some(drainer) = drainer {
        let _ = drainer.await;
    }
    let mut will_now = None;
    {
        let mut st = shared.lock();
        let st = &mut *st;
        let ours = st
            .sessions
            .get(&client)
            .is_some_and(|s| s.generation == generation);
        match conn {
            _ if !ours => will_now = will.map(|(m, _)| m),
            Some(mut conn) if expiry > 0 => {
                if conn.version().is_none() && conn.session().is_empty() {
                    // A connection that learnt its version from the CONNECT
                    // may forget it when it closes with a session holding
                    // nothing at all (not with offline publish on, as
                    // here): one of the version, to queue messages in. A
                    // session holding anything (flows, queued messages,
                    // received QoS 2 identifiers [MQTT-4.3.3-10]) keeps
                    // its version and is stored as it is.
                    let mut options = shared.options.clone();
                    options.session.session_expiry_interval = expiry;
                    conn = StoredConnection::with_options(version, options);
                }
                let now = shared.monotonic(Instant::now());
                if let Some(session) = st.sessions.get_mut(&client) {
                    if let Presence::Online(online) = &mut session.presence {
                        // The backlog is empty once its drainer ended.
                        let waiting = online.backlog.take_all().into_iter();
                        for message in waiting.chain(online.limbo.take()) {
                            if !state::queue(&mut conn, message, now) {
                                shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    // Its empty identifier sets (8 KiB each once used)
                    // are not kept while it is offline.
                    conn.shrink_to_fit();
                    session.presence = Presence::Offline(Box::new(conn));
                    match will {
                        Some((m, 0)) => will_now = Some(m),
                        Some((m, delay)) => {
                            session.pending_will = Some(Box::new(m));
                            if delay < expiry {
                                will::spawn_will_delay(shared, client.clone(), generation, delay);
                            }
                        }
                        None => {}
                    }
                    if expiry != u32::MAX {
                        will::spawn_session_expiry(shared, client.clone(), generation, expiry);
                    }
                }
                if let Some(store) = &shared.store {
                    store.stored_offline(st, &client, expiry, will_delay);
                }
            }
            _ => {
                let stored = st.sessions.remove(&client).is_some_and(|s| s.durable);
                if let Some(store) = shared.store.as_ref().filter(|_| stored) {
                    store.removed(&client);
                }
                st.router.remove_client(&client);
                will_now = will.map(|(m, _)| m);
            }
        }
    }
    if let Some(m) = will_now {
        will::publish_will(shared, m, &client);
    }
    // The session is stored: a takeover waiting for it goes on.
    drop(ended);
}
