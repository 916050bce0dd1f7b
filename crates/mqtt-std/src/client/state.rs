//! [`ClientState`] and [`StateWatch`]: where a [`Client`](crate::Client)
//! is, and waiting for it to change.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::Error;

/// Where a [`Client`](crate::Client) is, as
/// [`Client::state`](crate::Client::state) reports it.
pub type ClientState = mqtt_core::ClientState<Error>;

/// The state and a count of its changes, with a condition variable.
pub(crate) struct StateCell {
    inner: Mutex<(u64, ClientState)>,
    changed: Condvar,
}

impl StateCell {
    pub(crate) fn new(state: ClientState) -> Self {
        StateCell {
            inner: Mutex::new((0, state)),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, (u64, ClientState)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set(&self, state: ClientState) {
        let mut inner = self.lock();
        *inner = (inner.0 + 1, state);
        self.changed.notify_all();
    }

    pub(crate) fn get(&self) -> (u64, ClientState) {
        self.lock().clone()
    }

    /// Waits until the state satisfies `pred` (given the count of
    /// changes), or until `deadline`.
    fn wait_until(
        &self,
        deadline: Option<Instant>,
        pred: impl Fn(u64, &ClientState) -> bool,
    ) -> Option<(u64, ClientState)> {
        let mut inner = self.lock();
        loop {
            if pred(inner.0, &inner.1) {
                return Some(inner.clone());
            }
            inner = match deadline {
                None => self.changed.wait(inner).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    let waited = self.changed.wait_timeout(inner, left);
                    waited.unwrap_or_else(|e| e.into_inner()).0
                }
            };
        }
    }
}

/// Follows a [`Client`](crate::Client)'s state, from
/// [`Client::watch_state`](crate::Client::watch_state): like a watch
/// channel, it sees the latest state, and a change it did not look at in
/// time is replaced by the next one.
pub struct StateWatch {
    pub(crate) shared: Arc<super::Shared>,
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
    /// The state now (marked as seen).
    pub fn get(&self) -> ClientState {
        self.shared.state.get().1
    }

    /// Waits for a state newer than the last one this watch returned, at
    /// most `timeout` (`None`: as long as it takes), and returns it; `None`
    /// when the time ran out. A [`ClientState::Closed`] client does not
    /// change any more.
    pub fn changed(&mut self, timeout: Option<Duration>) -> Option<ClientState> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let seen = self.seen;
        let (count, state) = self.shared.state.wait_until(deadline, |n, _| n > seen)?;
        self.seen = count;
        Some(state)
    }

    /// Waits until the state satisfies `pred` (the current one counts), at
    /// most `timeout` (`None`: as long as it takes); `None` when the time
    /// ran out.
    pub fn wait_for(
        &mut self,
        timeout: Option<Duration>,
        pred: impl Fn(&ClientState) -> bool,
    ) -> Option<ClientState> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let (count, state) = self.shared.state.wait_until(deadline, |_, s| pred(s))?;
        self.seen = count;
        Some(state)
    }
}
