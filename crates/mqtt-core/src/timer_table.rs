//! [`TimerTable`]: the timers a connection asks for, as deadlines, for
//! every driver to share.

use core::ops::Add;
use core::time::Duration;

use mqtt_codec::PacketId;

use crate::{GenericEvent, TimerKind};

/// In the order timers due at the same instant fire: the PINGRESP timeout
/// before the next PINGREQ, so that a Client whose PINGRESP did not come
/// closes rather than sending one more PINGREQ (§3.1.2.10).
const KINDS: [TimerKind; 3] = [
    TimerKind::PingrespRecv,
    TimerKind::PingreqSend,
    TimerKind::PingreqRecv,
];

fn slot(kind: TimerKind) -> usize {
    match kind {
        TimerKind::PingrespRecv => 0,
        TimerKind::PingreqSend => 1,
        TimerKind::PingreqRecv => 2,
    }
}

/// The timers of one connection as deadlines on the driver's monotonic
/// clock `I` (`std::time::Instant`, `tokio::time::Instant`,
/// [`MonotonicTime`](crate::MonotonicTime), ...). Sans-I/O like the
/// connection: the driver passes `now`, sleeps until
/// [`next_deadline`](Self::next_deadline), and hands what
/// [`expired`](Self::expired) returns to
/// [`notify_timer_fired`](crate::GenericConnection::notify_timer_fired).
///
/// ```
/// use std::time::{Duration, Instant};
/// use mqtt_core::{Event, TimerKind, TimerTable};
///
/// let mut timers = TimerTable::new();
/// let start = Instant::now();
/// let event: Event = Event::RequestTimerReset {
///     kind: TimerKind::PingreqSend,
///     duration: Duration::from_secs(30),
/// };
/// assert!(timers.apply(&event, start));
/// assert_eq!(timers.next_deadline(), Some(start + Duration::from_secs(30)));
/// assert_eq!(timers.expired(start + Duration::from_secs(29)), None);
/// assert_eq!(timers.expired(start + Duration::from_secs(30)), Some(TimerKind::PingreqSend));
/// assert_eq!(timers.next_deadline(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerTable<I> {
    deadlines: [Option<I>; 3],
}

impl<I> Default for TimerTable<I> {
    fn default() -> Self {
        TimerTable {
            deadlines: [None, None, None],
        }
    }
}

impl<I> TimerTable<I> {
    /// No timer running.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same timers with each deadline mapped by `f`: onto another
    /// clock, or into a smaller form while the connection is put aside.
    pub fn map<J>(self, mut f: impl FnMut(I) -> J) -> TimerTable<J> {
        TimerTable {
            deadlines: self.deadlines.map(|d| d.map(&mut f)),
        }
    }

    /// Stops every timer, as when the network connection closed.
    pub fn clear(&mut self) {
        self.deadlines = [None, None, None];
    }
}

impl<I: Copy + Ord + Add<Duration, Output = I>> TimerTable<I> {
    /// Applies `event` if it is a timer request
    /// ([`GenericEvent::RequestTimerReset`]: the deadline is `now +
    /// duration`; [`GenericEvent::RequestTimerCancel`]) and says whether it
    /// was one.
    pub fn apply<P: PacketId>(&mut self, event: &GenericEvent<P>, now: I) -> bool {
        match *event {
            GenericEvent::RequestTimerReset { kind, duration } => {
                self.deadlines[slot(kind)] = Some(now + duration);
                true
            }
            GenericEvent::RequestTimerCancel(kind) => {
                self.deadlines[slot(kind)] = None;
                true
            }
            _ => false,
        }
    }
}

impl<I: Copy + Ord> TimerTable<I> {
    /// When the next timer fires, if any runs.
    pub fn next_deadline(&self) -> Option<I> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// The earliest timer due at `now`, stopped; `None` when none is. Call
    /// it until it returns `None`. Of timers due at the same instant, the
    /// PINGRESP timeout comes first.
    pub fn expired(&mut self, now: I) -> Option<TimerKind> {
        let (i, _) = self
            .deadlines
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.filter(|&d| d <= now).map(|d| (i, d)))
            .min_by_key(|&(_, d)| d)?;
        self.deadlines[i] = None;
        Some(KINDS[i])
    }

    /// When `kind` fires, if it runs.
    pub fn deadline(&self, kind: TimerKind) -> Option<I> {
        self.deadlines[slot(kind)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, MonotonicTime};

    fn at(ms: u64) -> MonotonicTime {
        MonotonicTime::from_millis(ms)
    }

    fn reset(kind: TimerKind, ms: u64) -> Event {
        Event::RequestTimerReset {
            kind,
            duration: Duration::from_millis(ms),
        }
    }

    /// A reset sets `now + duration`, a later reset replaces it, a cancel
    /// removes it; other events are not timer requests and change nothing.
    #[test]
    fn deadlines_follow_the_events() {
        let mut t = TimerTable::new();
        assert_eq!(t.next_deadline(), None);
        assert!(t.apply(&reset(TimerKind::PingreqSend, 300), at(0)));
        assert!(t.apply(&reset(TimerKind::PingreqRecv, 100), at(10)));
        assert!(t.apply(&reset(TimerKind::PingrespRecv, 200), at(0)));
        assert_eq!(t.deadline(TimerKind::PingreqSend), Some(at(300)));
        assert_eq!(t.deadline(TimerKind::PingreqRecv), Some(at(110)));
        assert_eq!(t.deadline(TimerKind::PingrespRecv), Some(at(200)));
        assert_eq!(t.next_deadline(), Some(at(110)));
        let before = t.clone();
        for other in [
            Event::RequestClose,
            Event::NotifyPacketIdReleased(1),
            Event::NotifyError(crate::ConnectionError::PingrespTimeout),
        ] {
            assert!(!t.apply(&other, at(0)));
        }
        assert_eq!(t, before);
        // Restarted later: the next is now another one.
        assert!(t.apply(&reset(TimerKind::PingreqRecv, 250), at(50)));
        assert_eq!(t.deadline(TimerKind::PingreqRecv), Some(at(300)));
        assert_eq!(t.next_deadline(), Some(at(200)));
        assert!(t.apply(&Event::RequestTimerCancel(TimerKind::PingrespRecv), at(60)));
        assert_eq!(t.deadline(TimerKind::PingrespRecv), None);
        assert_eq!(t.next_deadline(), Some(at(300)));
        t.clear();
        assert_eq!(t, TimerTable::new());
    }

    /// `map` maps each running deadline and keeps the stopped ones stopped.
    #[test]
    fn map_keeps_which_timers_run() {
        let mut t = TimerTable::new();
        t.apply(&reset(TimerKind::PingreqRecv, 1_500), at(0));
        t.apply(&reset(TimerKind::PingrespRecv, 700), at(0));
        let millis = t.clone().map(|d| d.as_millis());
        assert_eq!(millis.deadline(TimerKind::PingreqRecv), Some(1_500));
        assert_eq!(millis.deadline(TimerKind::PingrespRecv), Some(700));
        assert_eq!(millis.deadline(TimerKind::PingreqSend), None);
        assert_eq!(millis.map(MonotonicTime::from_millis), t);
    }

    /// `expired` hands out each due timer once, the earliest first, and
    /// none before its deadline; a timer due at `now` is due.
    #[test]
    fn expired_timers_earliest_first() {
        let mut t = TimerTable::new();
        t.apply(&reset(TimerKind::PingreqRecv, 300), at(0));
        t.apply(&reset(TimerKind::PingreqSend, 200), at(0));
        t.apply(&reset(TimerKind::PingrespRecv, 250), at(0));
        assert_eq!(t.expired(at(199)), None);
        assert_eq!(t.expired(at(200)), Some(TimerKind::PingreqSend));
        assert_eq!(t.expired(at(200)), None);
        assert_eq!(t.next_deadline(), Some(at(250)));
        // All due: the earliest deadline first, whatever its kind.
        t.apply(&reset(TimerKind::PingreqSend, 260), at(0));
        assert_eq!(t.expired(at(1_000)), Some(TimerKind::PingrespRecv));
        assert_eq!(t.expired(at(1_000)), Some(TimerKind::PingreqSend));
        assert_eq!(t.expired(at(1_000)), Some(TimerKind::PingreqRecv));
        assert_eq!(t.expired(at(1_000)), None);
        assert_eq!(t.next_deadline(), None);
    }

    /// Deadlines saturate at the end of time instead of overflowing.
    #[test]
    fn deadlines_saturate() {
        let mut t = TimerTable::new();
        let event = Event::RequestTimerReset {
            kind: TimerKind::PingrespRecv,
            duration: Duration::MAX,
        };
        assert!(t.apply(&event, at(5)));
        assert_eq!(t.next_deadline(), Some(MonotonicTime::MAX));
        assert_eq!(t.expired(at(u64::MAX - 1)), None);
    }

    /// With the defaults a Client's next PINGREQ and its PINGRESP timeout
    /// fall due together: the timeout fires first, so the Client closes
    /// instead of sending one more PINGREQ (§3.1.2.10).
    #[test]
    fn pingresp_timeout_first_at_equal_deadlines() {
        let mut timers = TimerTable::new();
        for kind in [TimerKind::PingreqSend, TimerKind::PingrespRecv] {
            timers.apply(&reset(kind, 30_000), at(0));
        }
        assert_eq!(timers.expired(at(30_000)), Some(TimerKind::PingrespRecv));
        assert_eq!(timers.expired(at(30_000)), Some(TimerKind::PingreqSend));
        assert_eq!(timers.expired(at(30_000)), None);
    }
}
