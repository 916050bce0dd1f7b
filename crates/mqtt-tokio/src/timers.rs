//! The timers a connection asks for: the core's [`TimerTable`] on
//! `tokio::time`, with one sleep for the earliest deadline.

use std::future::poll_fn;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use mqtt_codec::PacketId;
use mqtt_core::{GenericEvent, TimerKind, TimerTable};
use tokio::time::{sleep_until, Instant, Sleep};

/// The deadlines of the connection's timers ([`TimerTable`]) and one sleep
/// (boxed, allocated when a timer is first armed) until the earliest.
///
/// The connection restarts its keep alive timers on every packet; moving a
/// sleep in tokio's timer wheel each time would cost more than the packet.
/// A deadline that moves later only changes the table: the sleep fires at
/// the earlier one, and [`next`](Timers::next) then moves it to the
/// table's, once per keep alive period instead of once per packet.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    table: TimerTable<Instant>,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Timers {
    /// Applies `event` if it starts or stops a timer; says whether it did.
    pub(crate) fn apply<P: PacketId>(&mut self, event: &GenericEvent<P>) -> bool {
        if !self.table.apply(event, Instant::now()) {
            return false;
        }
        if let Some(next) = self.table.next_deadline() {
            match &mut self.sleep {
                // Fires early; `next` moves it on.
                Some(sleep) if sleep.deadline() <= next => {}
                Some(sleep) => sleep.as_mut().reset(next),
                slot => *slot = Some(Box::pin(sleep_until(next))),
            }
        }
        true
    }

    /// Timers running on `table`'s deadlines (a hibernated connection's,
    /// woken): one that passed fires at the first poll.
    pub(crate) fn from_table(table: TimerTable<Instant>) -> Timers {
        let sleep = table
            .next_deadline()
            .map(|next| Box::pin(sleep_until(next)));
        Timers { table, sleep }
    }

    /// The deadlines, without the sleep (a connection that hibernates).
    pub(crate) fn into_table(self) -> TimerTable<Instant> {
        self.table
    }

    /// Whether a timer runs.
    pub(crate) fn any_armed(&self) -> bool {
        self.table.next_deadline().is_some()
    }

    /// The next timer to fire, stopped when it does. Cancel-safe.
    pub(crate) fn next(&mut self) -> impl Future<Output = TimerKind> + '_ {
        poll_fn(move |cx| loop {
            let (Some(next), Some(sleep)) = (self.table.next_deadline(), &mut self.sleep) else {
                return Poll::Pending;
            };
            if sleep.deadline() != next {
                if sleep.deadline() < next && sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                // An early deadline passed (or a later one was cancelled):
                // on to the table's.
                sleep.as_mut().reset(next);
            }
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // The sleep ended: its deadline, the table's earliest, passed.
            if let Some(kind) = self.table.expired(Instant::now().max(next)) {
                return Poll::Ready(kind);
            }
        })
    }
}

/// Sleeps until `deadline` with the sleep in `slot`, boxed there on first
/// use: a driver holds no close timer until it closes. Cancel-safe.
pub(crate) fn sleep_in(
    slot: &mut Option<Pin<Box<Sleep>>>,
    deadline: Instant,
) -> impl Future<Output = ()> + '_ {
    poll_fn(move |cx| {
        let sleep = slot.get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        if sleep.deadline() != deadline {
            sleep.as_mut().reset(deadline);
        }
        sleep.as_mut().poll(cx)
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mqtt_core::Event;

    use super::*;

    fn reset(t: &mut Timers, kind: TimerKind, secs: u64) {
        let duration = Duration::from_secs(secs);
        assert!(t.apply(&Event::RequestTimerReset { kind, duration }));
    }

    #[tokio::test(start_paused = true)]
    async fn fires_in_order_and_rearms() {
        let mut t = Timers::default();
        assert!(!t.any_armed());
        assert!(!t.apply(&Event::RequestClose));
        reset(&mut t, TimerKind::PingreqSend, 10);
        reset(&mut t, TimerKind::PingrespRecv, 5);
        assert_eq!(t.next().await, TimerKind::PingrespRecv);
        // Re-armed further away: the other fires first.
        reset(&mut t, TimerKind::PingrespRecv, 20);
        assert_eq!(t.next().await, TimerKind::PingreqSend);
        assert!(t.apply(&Event::RequestTimerCancel(TimerKind::PingrespRecv)));
        assert!(!t.any_armed());
    }

    /// A restart to a later deadline fires at that deadline, not at the
    /// earlier one the sleep was set to; an earlier one moves it back.
    #[tokio::test(start_paused = true)]
    async fn a_later_restart_moves_the_deadline() {
        let mut t = Timers::default();
        let start = Instant::now();
        reset(&mut t, TimerKind::PingreqRecv, 10);
        tokio::time::sleep(Duration::from_secs(6)).await;
        reset(&mut t, TimerKind::PingreqRecv, 10); // due at 16 s
        reset(&mut t, TimerKind::PingreqSend, 8); // due at 14 s
        assert_eq!(t.next().await, TimerKind::PingreqSend);
        assert_eq!(start.elapsed(), Duration::from_secs(14));
        assert_eq!(t.next().await, TimerKind::PingreqRecv);
        assert_eq!(start.elapsed(), Duration::from_secs(16));
        reset(&mut t, TimerKind::PingreqRecv, 30);
        reset(&mut t, TimerKind::PingreqRecv, 5);
        assert_eq!(t.next().await, TimerKind::PingreqRecv);
        assert_eq!(start.elapsed(), Duration::from_secs(21));
        assert!(!t.any_armed());
    }
}
