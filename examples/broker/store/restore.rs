//! Putting what the store held into a new broker's empty state, then
//! writing it back compacted.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use mqtt_core::session::Session as Flows;
use mqtt_core::MonotonicTime;

use super::super::message::StoredMessage;
use super::super::router::ClientId;
use super::super::state::{self, Presence, Session, Shared, StoredConnection};
use super::super::will;
use super::load::Loaded;
use super::schema;
use super::writer::Op;

/// A restored session's timers, started once the state is unlocked.
struct Timers {
    client: ClientId,
    generation: u64,
    expiry: u32,
    will_delay: Option<u32>,
}

/// Restores `loaded` into `shared` (whose state is empty): retained
/// messages not expired; sessions offline, each its export imported and
/// its journal's copies queued in order, its subscriptions, its pending
/// Will and its timers. Session Expiry and Will Delay count from the
/// disconnect the record names (from now for a session whose client was
/// connected). A session expired meanwhile ends, and its Will is
/// published; so is a Will whose delay passed. Then every session is
/// written back (one export, empty journal) and committed. Call once, in
/// [`Broker::bind`](super::super::Broker::bind), before accepting.
///
/// # Errors
/// A session export that does not import (`"session \"ID\": why"`), or a
/// commit that fails.
pub async fn restore(shared: &Arc<Shared>, loaded: Loaded) -> Result<(), String> {
    let Some(store) = shared.store.as_ref() else {
        return Ok(());
    };
    let now = Instant::now();
    let wall = schema::unix_ms(SystemTime::now());
    let mut wills_now: Vec<(ClientId, StoredMessage)> = Vec::new();
    let mut timers = Vec::new();
    {
        let mut st = shared.lock();
        for message in loaded.retained {
            if message.is_expired(now) {
                let topic = message.message().to_topic_name().as_str().to_owned();
                store.send(Op::Retain {
                    topic,
                    message: None,
                });
            } else {
                st.retained.set(message);
            }
        }
        for s in loaded.sessions {
            let client = ClientId::from(s.client.as_str());
            let down = wall.saturating_sub(s.record.disconnected.unwrap_or(wall)) / 1000;
            let down = u32::try_from(down).unwrap_or(u32::MAX);
            let expiry = match s.record.expiry {
                u32::MAX => u32::MAX,
                e => e.saturating_sub(down),
            };
            let will_left = s.record.will.as_ref().map(|(_, d)| d.saturating_sub(down));
            if expiry == 0 {
                // It ended while the broker was down [MQTT-4.1.0-2].
                store.removed(&client);
                if let Some((w, _)) = s.record.will {
                    wills_now.push((client, w));
                }
                continue;
            }
            let mut options = shared.options.clone();
            options.session.session_expiry_interval = s.record.expiry;
            let mut conn = StoredConnection::with_options(s.record.version, options);
            let mono = shared.monotonic(now);
            conn.set_time(mono);
            if let Some(bytes) = &s.state {
                let online = s.record.disconnected.is_none();
                let bytes = match online {
                    true => without_received_qos2(bytes, mono),
                    false => Ok(bytes.clone()),
                };
                bytes
                    .and_then(|b| conn.import_session(&b).map_err(|e| e.to_string()))
                    .map_err(|e| format!("session {:?}: its export: {e}", s.client))?;
            }
            for (message, routed) in s.journal {
                let ids: Vec<u32> = message
                    .subscription_identifiers()
                    .map(|i| i.get())
                    .collect();
                let (qos, retain) = (message.qos(), message.retain());
                let stored = StoredMessage::new(message, routed);
                if stored.is_expired(now) {
                    continue;
                }
                if !state::queue(&mut conn, stored.delivery(qos, retain, &ids, now), mono) {
                    shared
                        .stats
                        .dropped
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            for (filter, sub) in s.subscriptions {
                st.router.subscribe(&client, &filter, sub);
            }
            let generation = st.next_generation();
            let mut pending_will = None;
            let mut will_delay = None;
            match (s.record.will, will_left) {
                (Some((w, _)), Some(0)) => wills_now.push((client.clone(), w)),
                (Some((w, _)), Some(left)) => {
                    pending_will = Some(Box::new(w));
                    will_delay = Some(left);
                }
                _ => {}
            }
            st.sessions.insert(
                client.clone(),
                Session {
                    generation,
                    id: generation,
                    presence: Presence::Offline(Box::new(conn)),
                    pending_will,
                    durable: true,
                },
            );
            // Written back compacted: the export now holds the journal.
            store.stored_offline(&st, &client, expiry, will_delay.unwrap_or(0));
            timers.push(Timers {
                client,
                generation,
                expiry,
                will_delay,
            });
        }
    }
    // The exports hold the journals' copies now; the sequence numbers of
    // this run start over.
    store.send(Op::ClearJournal);
    for t in timers {
        if let Some(delay) = t.will_delay.filter(|&d| d < t.expiry) {
            will::spawn_will_delay(shared, t.client.clone(), t.generation, delay);
        }
        if t.expiry != u32::MAX {
            will::spawn_session_expiry(shared, t.client, t.generation, t.expiry);
        }
    }
    if !store.sync().await {
        return Err("cannot write it back (see the error above)".into());
    }
    for (client, will) in wills_now {
        store.will_published(&client);
        will::publish_will(shared, will, &client);
    }
    Ok(())
}

/// The export `bytes` of a session whose client was connected when the
/// broker was killed, without its QoS 2 identifiers received: they are
/// those of its last disconnect, and the client may have released them
/// since (PUBREL) and taken them for new messages, which the session
/// would then drop as repeats [MQTT-4.3.3-10] while acknowledging them —
/// a loss. Without them a PUBREL still gets its PUBCOMP, and a PUBLISH
/// re-sent unacknowledged is routed again (at least once, as the store
/// promises for such sessions).
fn without_received_qos2(bytes: &[u8], now: MonotonicTime) -> Result<Vec<u8>, String> {
    let mut flows = Flows::<u16>::import(bytes, now).map_err(|e| e.to_string())?;
    if flows.qos2_pending_len() == 0 {
        return Ok(bytes.to_vec());
    }
    flows.forget_qos2_received();
    Ok(flows.export(now))
}
