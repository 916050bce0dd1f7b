//! Wills (§3.1.2.5, §3.1.3.2.2) and Session Expiry (§3.1.2.11.2): the
//! timers that publish a delayed Will and end an offline session.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::message::StoredMessage;
use super::router::ClientId;
use super::state::{self, Presence, Shared};

/// Longer intervals than this are treated as "never" (no timer).
const LONGEST_TIMER: u32 = 365 * 24 * 3600;

/// Publishes the Will Message of `client` now. Its Message Expiry Interval
/// starts when it is published (§3.1.3.2.4).
pub fn publish_will(shared: &Shared, mut will: StoredMessage, client: &ClientId) {
    if shared.config.verbose {
        println!(
            "{client}: will published on {}",
            will.message().topic_name()
        );
    }
    will.received = Instant::now();
    state::publish(shared, will, client);
}

/// Publishes the pending Will of the offline session `client` of
/// `generation` after `delay` seconds, unless a connection took the session
/// in between [MQTT-3.1.3-9] or it ended (its expiry published the Will).
pub fn spawn_will_delay(shared: &Arc<Shared>, client: ClientId, generation: u64, delay: u32) {
    let shared = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(delay.into())).await;
        let will = {
            let mut st = shared.lock();
            let will = match st.sessions.get_mut(&client) {
                Some(s) if s.generation == generation => s.pending_will.take(),
                _ => None,
            };
            if let (Some(store), Some(_)) = (&shared.store, &will) {
                store.will_published(&client);
            }
            will
        };
        if let Some(will) = will {
            publish_will(&shared, *will, &client);
        }
    });
}

/// Ends the offline session `client` of `generation` after `expiry`
/// seconds, unless a connection took it in between: its subscriptions and
/// queued messages are deleted [MQTT-4.1.0-2] and a pending Will is
/// published (the session ended before the Will Delay, §3.1.3.2.2).
/// Intervals above a year are treated as never.
pub fn spawn_session_expiry(shared: &Arc<Shared>, client: ClientId, generation: u64, expiry: u32) {
    if expiry > LONGEST_TIMER {
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(expiry.into())).await;
        let will = {
            let mut st = shared.lock();
            let expired = st.sessions.get(&client).is_some_and(|s| {
                s.generation == generation && matches!(s.presence, Presence::Offline(_))
            });
            if !expired {
                return;
            }
            st.router.remove_client(&client);
            if let Some(store) = &shared.store {
                store.removed(&client);
            }
            st.sessions.remove(&client).and_then(|s| s.pending_will)
        };
        if shared.config.verbose {
            println!("{client}: session expired");
        }
        if let Some(will) = will {
            publish_will(&shared, *will, &client);
        }
    });
}
