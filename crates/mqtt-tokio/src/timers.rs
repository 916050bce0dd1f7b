//! The three timers a connection may ask for, on `tokio::time`.

use std::future::poll_fn;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use mqtt_core::TimerKind;
use tokio::time::{sleep_until, Instant, Sleep};

const KINDS: [TimerKind; 3] = [
    TimerKind::PingreqSend,
    TimerKind::PingrespRecv,
    TimerKind::PingreqRecv,
];

fn index(kind: TimerKind) -> usize {
    match kind {
        TimerKind::PingreqSend => 0,
        TimerKind::PingrespRecv => 1,
        TimerKind::PingreqRecv => 2,
    }
}

/// One sleep per [`TimerKind`] (boxed, allocated when first armed),
/// re-armed on `RequestTimerReset`.
///
/// The connection restarts its keep alive timers on every packet; moving a
/// sleep in tokio's timer wheel each time would cost more than the packet.
/// A restart to a later deadline only records it: the sleep fires at the
/// earlier one, and [`next`](Timers::next) then moves it to the recorded
/// deadline, once per keep alive period instead of once per packet.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    sleeps: [Option<Pin<Box<Sleep>>>; 3],
    /// When each armed timer is due; `None`: disarmed.
    due: [Option<Instant>; 3],
}

impl Timers {
    /// Starts or restarts `kind` to fire `duration` from now.
    pub(crate) fn reset(&mut self, kind: TimerKind, duration: Duration) {
        let i = index(kind);
        let deadline = Instant::now() + duration;
        match &mut self.sleeps[i] {
            // Fires early; `next` moves it on.
            Some(sleep) if sleep.deadline() <= deadline && self.due[i].is_some() => {}
            Some(sleep) => sleep.as_mut().reset(deadline),
            slot => *slot = Some(Box::pin(sleep_until(deadline))),
        }
        self.due[i] = Some(deadline);
    }

    /// Stops `kind`.
    pub(crate) fn cancel(&mut self, kind: TimerKind) {
        self.due[index(kind)] = None;
    }

    /// Whether a timer runs.
    pub(crate) fn any_armed(&self) -> bool {
        self.due.iter().any(Option::is_some)
    }

    /// The next timer to fire; it is disarmed when it does. Cancel-safe.
    pub(crate) async fn next(&mut self) -> TimerKind {
        poll_fn(|cx| {
            for (i, kind) in KINDS.iter().enumerate() {
                let (Some(due), Some(sleep)) = (self.due[i], &mut self.sleeps[i]) else {
                    continue;
                };
                if sleep.deadline() < due {
                    if sleep.as_mut().poll(cx).is_pending() {
                        continue;
                    }
                    // An early deadline passed: on to the real one.
                    sleep.as_mut().reset(due);
                }
                if sleep.as_mut().poll(cx).is_ready() {
                    self.due[i] = None;
                    return Poll::Ready(*kind);
                }
            }
            Poll::Pending
        })
        .await
    }
}

/// Sleeps until `deadline` with the sleep in `slot`, boxed there on first
/// use: a driver holds no close timer until it closes. Cancel-safe.
pub(crate) async fn sleep_in(slot: &mut Option<Pin<Box<Sleep>>>, deadline: Instant) {
    let sleep = slot.get_or_insert_with(|| Box::pin(sleep_until(deadline)));
    if sleep.deadline() != deadline {
        sleep.as_mut().reset(deadline);
    }
    sleep.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn fires_in_order_and_rearms() {
        let mut t = Timers::default();
        assert!(!t.any_armed());
        t.reset(TimerKind::PingreqSend, Duration::from_secs(10));
        t.reset(TimerKind::PingrespRecv, Duration::from_secs(5));
        assert_eq!(t.next().await, TimerKind::PingrespRecv);
        // Re-armed further away: the other fires first.
        t.reset(TimerKind::PingrespRecv, Duration::from_secs(20));
        assert_eq!(t.next().await, TimerKind::PingreqSend);
        t.cancel(TimerKind::PingrespRecv);
        assert!(!t.any_armed());
    }

    /// A restart to a later deadline fires at that deadline, not at the
    /// earlier one the sleep was set to.
    #[tokio::test(start_paused = true)]
    async fn a_later_restart_moves_the_deadline() {
        let mut t = Timers::default();
        let start = Instant::now();
        t.reset(TimerKind::PingreqRecv, Duration::from_secs(10));
        tokio::time::sleep(Duration::from_secs(6)).await;
        t.reset(TimerKind::PingreqRecv, Duration::from_secs(10)); // due at 16 s
        t.reset(TimerKind::PingreqSend, Duration::from_secs(8)); // due at 14 s
        assert_eq!(t.next().await, TimerKind::PingreqSend);
        assert_eq!(start.elapsed(), Duration::from_secs(14));
        assert_eq!(t.next().await, TimerKind::PingreqRecv);
        assert_eq!(start.elapsed(), Duration::from_secs(16));
        // An earlier restart moves the sleep back.
        t.reset(TimerKind::PingreqRecv, Duration::from_secs(30));
        t.reset(TimerKind::PingreqRecv, Duration::from_secs(5));
        assert_eq!(t.next().await, TimerKind::PingreqRecv);
        assert_eq!(start.elapsed(), Duration::from_secs(21));
        assert!(!t.any_armed());
    }
}
