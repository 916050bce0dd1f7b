//! [`ClientState`] and [`StateWatch`]: where a [`Client`](crate::Client)
//! is, and waiting for it to change. A cell of its own rather than a
//! `tokio::sync::watch` (whose shared part is 376 bytes per client), with
//! the blocking client's shape.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::Error;

/// Where a [`Client`](crate::Client) is, as
/// [`Client::state`](crate::Client::state) reports it.
pub type ClientState = mqtt_core::ClientState<Error>;

/// The state and a count of its changes; and whether
/// [`Client::disconnect`](crate::Client::disconnect) asked the client to
/// end (the supervisor's to read, in the same allocation).
pub(crate) struct StateCell {
    inner: Mutex<(u64, ClientState)>,
    changed: Notify,
    stop: AtomicBool,
}

impl StateCell {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(StateCell {
            inner: Mutex::new((0, ClientState::Closed { reason: None })),
            changed: Notify::new(),
            stop: AtomicBool::new(false),
        })
    }

    /// Asks the client to end: no more reconnections. Wakes the watches
    /// too (they find no new state, and wait on).
    pub(crate) fn ask_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    pub(crate) fn stop_asked(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Resolves once [`ask_stop`](Self::ask_stop) was called.
    pub(crate) async fn stopped(&self) {
        loop {
            // Created before the check: it sees every notify_waiters after.
            let changed = self.changed.notified();
            if self.stop_asked() {
                return;
            }
            changed.await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, (u64, ClientState)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new state; wakes every watch.
    pub(crate) fn set(&self, state: ClientState) {
        {
            let mut inner = self.lock();
            *inner = (inner.0 + 1, state);
        }
        self.changed.notify_waiters();
    }

    pub(crate) fn get(&self) -> (u64, ClientState) {
        self.lock().clone()
    }

    /// Waits until `pred` holds for the state (given the count of
    /// changes), and returns them.
    async fn wait_until(&self, pred: impl Fn(u64, &ClientState) -> bool) -> (u64, ClientState) {
        loop {
            // Created before the check: it sees every notify_waiters after.
            let changed = self.changed.notified();
            {
                let inner = self.lock();
                if pred(inner.0, &inner.1) {
                    return inner.clone();
                }
            }
            changed.await;
        }
    }
}

/// Follows a [`Client`](crate::Client)'s state, from
/// [`Client::watch_state`](crate::Client::watch_state): like a watch
/// channel, it sees the latest state, and a change it did not look at in
/// time is replaced by the next one. Cancel-safe.
pub struct StateWatch {
    pub(crate) cell: Arc<StateCell>,
    pub(crate) seen: u64,
}

impl std::fmt::Debug for StateWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateWatch")
            .field("state", &self.get())
            .finish()
    }
}

impl StateWatch {
    /// The state now.
    pub fn get(&self) -> ClientState {
        self.cell.get().1
    }

    /// Waits for a state newer than the last one this watch returned (or
    /// than the state when it was made), and returns it. A
    /// [`ClientState::Closed`] client does not change any more: wait for it
    /// with [`wait_for`](Self::wait_for), or bound the wait.
    pub async fn changed(&mut self) -> ClientState {
        let seen = self.seen;
        let (count, state) = self.cell.wait_until(|n, _| n > seen).await;
        self.seen = count;
        state
    }

    /// Waits until the state satisfies `pred` (the current one counts), and
    /// returns it.
    pub async fn wait_for(&mut self, pred: impl Fn(&ClientState) -> bool) -> ClientState {
        let (count, state) = self.cell.wait_until(|_, s| pred(s)).await;
        self.seen = count;
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::tests::t;
    use std::time::Duration;

    /// The stop request is a flag that stays; it wakes the wait for it.
    #[tokio::test]
    async fn the_stop_request_wakes_its_wait() {
        let cell = StateCell::new();
        assert!(!cell.stop_asked());
        let waiting = tokio::spawn({
            let cell = cell.clone();
            async move { cell.stopped().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        cell.ask_stop();
        t("stop wait", waiting).await.unwrap();
        assert!(cell.stop_asked());
        t("stopped", cell.stopped()).await;
    }

    #[tokio::test]
    async fn a_watch_sees_the_latest_change() {
        let cell = StateCell::new();
        let (seen, _) = cell.get();
        let mut watch = StateWatch {
            cell: cell.clone(),
            seen,
        };
        let waiting = tokio::spawn(async move {
            let first = watch.changed().await;
            (watch, first)
        });
        tokio::task::yield_now().await;
        cell.set(ClientState::Connected {
            session_present: true,
        });
        let (mut watch, first) = t("first change", waiting).await.unwrap();
        assert!(matches!(
            first,
            ClientState::Connected {
                session_present: true
            }
        ));
        // Two changes unseen: the latest one is returned.
        cell.set(ClientState::Closed { reason: None });
        let delay = Duration::from_millis(5);
        cell.set(ClientState::Reconnecting {
            attempt: 1,
            delay,
            reason: None,
        });
        assert!(matches!(
            t("latest change", watch.changed()).await,
            ClientState::Reconnecting { attempt: 1, .. }
        ));
        // The current state counts for wait_for.
        let now = watch.wait_for(|s| matches!(s, ClientState::Reconnecting { .. }));
        let now = t("wait_for", now).await;
        assert!(matches!(now, ClientState::Reconnecting { .. }));
        assert!(matches!(watch.get(), ClientState::Reconnecting { .. }));
    }
}
