//! The broker-wide budget of backlogged bytes (`--max-backlog-bytes`).
//!
//! Each connection's backlog is bounded on its own (`--max-queued`,
//! `--max-queued-bytes`), so that one stalled subscriber never holds up a
//! publisher. But a flood that outruns its subscribers fills their
//! backlogs as fast as the broker can read, and then every copy routed is
//! dropped: the broker spends its cores reading messages it throws away,
//! and on a shared machine takes them from the subscribers it feeds.
//! Past this budget (the sum of every backlog's bytes, default 64 MiB:
//! four full default backlogs), a connection that routed a PUBLISH
//! reads no further until the backlogs drained under it again, so its
//! socket's TCP flow control slows its publisher to the rate the
//! subscribers take, as mosquitto's single thread does. The wait ends
//! when the connection closes, and a backlog that makes no progress is cut
//! after the slow consumer timeout, which gives its bytes back: stalled
//! subscribers whose full backlogs together pass the budget hold the
//! publishers until then (raise it where many clients may stall at once).
//!
//! Measured (4 → 1 QoS 0 floods, `benches/broker/NOTES.md`): at 1 KiB, a
//! 64 MiB budget delivered as much as 256 MiB with no copy dropped (256 MiB
//! let the subscriber's own bound drop 110k–250k per 5 s); at 64 KiB the
//! broker no longer held gigabytes read ahead of its subscriber.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mqtt_tokio::ServerEndpoint;
use tokio::sync::Notify;

/// How often a connection waiting for room looks whether it closed.
const CLOSED_CHECK: Duration = Duration::from_millis(100);

/// The bytes all backlogs hold, against their limit.
#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    limit: usize,
    room: Notify,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            used: AtomicUsize::new(0),
            limit,
            room: Notify::new(),
        })
    }

    /// The bytes all backlogs hold now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Whether the backlogs hold more than the limit: connections wait
    /// ([`wait_for_room`](Self::wait_for_room)) before reading on.
    pub fn is_over(&self) -> bool {
        self.used() > self.limit
    }

    /// Counts `bytes` put into a backlog.
    pub fn charge(&self, bytes: usize) {
        self.used.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts `bytes` taken out of a backlog (forwarded, handed back or
    /// dropped with it); wakes the waiting connections when this brings
    /// the total to the resume mark, a quarter of the limit below it, so
    /// that they go on for a while rather than one PUBLISH per copy
    /// forwarded.
    pub fn release(&self, bytes: usize) {
        let before = self.used.fetch_sub(bytes, Ordering::Relaxed);
        let resume = self.resume();
        if before > resume && before - bytes <= resume {
            self.room.notify_waiters();
        }
    }

    /// The total under which waiting connections go on.
    fn resume(&self) -> usize {
        self.limit - self.limit / 4
    }

    /// Returns once the backlogs hold no more than the resume mark (a
    /// quarter of the limit below it), or the connection of `endpoint`
    /// closed. Boxed by the caller: only a connection that met a full
    /// budget holds its future.
    pub async fn wait_for_room(&self, endpoint: &ServerEndpoint) {
        loop {
            let notified = self.room.notified();
            tokio::pin!(notified);
            // Registered before the check: a release in between wakes it.
            notified.as_mut().enable();
            if self.used() <= self.resume() || endpoint.is_closed() {
                return;
            }
            let _ = tokio::time::timeout(CLOSED_CHECK, notified).await;
        }
    }
}

/// What one backlog holds of the budget: given back when it empties or is
/// dropped with its session, however that happens.
#[derive(Debug, Default)]
pub struct Charge {
    budget: Option<Arc<Budget>>,
    bytes: usize,
}

impl Charge {
    /// The bytes charged.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Charges `bytes` to `budget`.
    pub fn add(&mut self, budget: &Arc<Budget>, bytes: usize) {
        budget.charge(bytes);
        self.bytes += bytes;
        if self.budget.is_none() {
            self.budget = Some(budget.clone());
        }
    }

    /// Gives `bytes` back (at most what is charged).
    pub fn sub(&mut self, bytes: usize) {
        let bytes = bytes.min(self.bytes);
        self.bytes -= bytes;
        if let Some(budget) = &self.budget {
            budget.release(bytes);
        }
        if self.bytes == 0 {
            self.budget = None;
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.sub(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;

    #[test]
    fn a_charge_gives_its_bytes_back_when_emptied_or_dropped() {
        let budget = Budget::new(100);
        let mut a = Charge::default();
        a.add(&budget, 60);
        let mut b = Charge::default();
        b.add(&budget, 50);
        assert_eq!((budget.used(), budget.is_over()), (110, true));
        a.sub(20);
        assert_eq!(
            (budget.used(), budget.is_over(), a.bytes()),
            (90, false, 40)
        );
        a.sub(1000);
        assert_eq!((budget.used(), a.bytes()), (50, 0));
        assert!(a.budget.is_none(), "an empty charge holds no budget");
        drop(b);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn waiting_connections_resume_a_quarter_under_the_limit() {
        let budget = Budget::new(100);
        assert_eq!(budget.resume(), 75);
        budget.charge(120);
        let waiter = budget.room.notified();
        tokio::pin!(waiter);
        waiter.as_mut().enable();
        budget.release(40);
        assert!(!is_woken(waiter.as_mut()), "at 80: still over the mark");
        budget.release(5);
        assert!(is_woken(waiter.as_mut()), "at 75: woken");
        let again = budget.room.notified();
        tokio::pin!(again);
        again.as_mut().enable();
        budget.release(10);
        assert!(!is_woken(again.as_mut()), "already under: no new wake-up");
    }

    /// Whether `notified` was woken.
    fn is_woken(notified: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>) -> bool {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        notified.poll(&mut cx).is_ready()
    }

    #[test]
    fn the_limit_itself_is_within_the_budget() {
        let budget = Budget::new(100);
        budget.charge(100);
        assert!(!budget.is_over());
        budget.charge(1);
        assert!(budget.is_over());
    }
}
