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

/// One sleep per [`TimerKind`], re-armed on `RequestTimerReset`.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    sleeps: [Option<Pin<Box<Sleep>>>; 3],
    armed: [bool; 3],
}

impl Timers {
    /// Starts or restarts `kind` to fire `duration` from now.
    pub(crate) fn reset(&mut self, kind: TimerKind, duration: Duration) {
        let i = index(kind);
        let deadline = Instant::now() + duration;
        match &mut self.sleeps[i] {
            Some(sleep) => sleep.as_mut().reset(deadline),
            slot => *slot = Some(Box::pin(sleep_until(deadline))),
        }
        self.armed[i] = true;
    }

    /// Stops `kind`.
    pub(crate) fn cancel(&mut self, kind: TimerKind) {
        self.armed[index(kind)] = false;
    }

    /// Whether a timer runs.
    pub(crate) fn any_armed(&self) -> bool {
        self.armed.iter().any(|a| *a)
    }

    /// The next timer to fire; it is disarmed when it does. Cancel-safe.
    pub(crate) async fn next(&mut self) -> TimerKind {
        poll_fn(|cx| {
            for (i, kind) in KINDS.iter().enumerate() {
                if !self.armed[i] {
                    continue;
                }
                if let Some(sleep) = &mut self.sleeps[i] {
                    if sleep.as_mut().poll(cx).is_ready() {
                        self.armed[i] = false;
                        return Poll::Ready(*kind);
                    }
                }
            }
            Poll::Pending
        })
        .await
    }
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
}
