//! The pair's fake clock and the timers of both sides, kept in
//! `mqtt_core::TimerTable`s.

use std::time::Duration;

use mqtt_codec::PacketId;
use mqtt_core::role::Role;
use mqtt_core::{GenericEvent, MonotonicTime, TimerKind};

use super::{Pair, Side, MAX_STEPS};

impl<P: PacketId, C: Role, S: Role> Pair<P, C, S> {
    /// Fires `kind` on `side`, which must be armed, then drives.
    pub fn fire(&mut self, side: Side, kind: TimerKind) {
        self.fire_only(side, kind);
        self.drive();
    }

    /// Fires `kind` on `side`, which must be armed, without driving: the
    /// test makes it expire now, whatever its deadline (the clock does not
    /// move; see [`advance`](Self::advance) for a driver's way).
    pub fn fire_only(&mut self, side: Side, kind: TimerKind) {
        let (link_up, now) = (self.link_up, self.now);
        with_side!(self, side, ep => {
            assert!(
                ep.timers.deadline(kind).is_some(),
                "{side:?}: timer {kind:?} fired but not armed; armed: {:?}",
                ep.timers
            );
            ep.timers.apply(&GenericEvent::<P>::RequestTimerCancel(kind), now);
            let events = ep.conn.notify_timer_fired(kind);
            ep.handle(link_up, now, events);
        })
    }

    /// Runs the fake clock forward by `duration` as a driver's clock runs:
    /// each timer that falls due, on either side, earliest first (the
    /// client first at equal deadlines), is handed to its connection at its
    /// deadline and the link driven after it. Returns the timers fired.
    pub fn advance(&mut self, duration: Duration) -> Vec<(Side, TimerKind)> {
        let end = self.now + duration;
        let mut fired = Vec::new();
        for _ in 0..MAX_STEPS {
            let client = self.client.timers.next_deadline().filter(|&d| d <= end);
            let server = self.server.timers.next_deadline().filter(|&d| d <= end);
            let (side, at) = match (client, server) {
                (Some(c), Some(s)) if s < c => (Side::Server, s),
                (Some(c), _) => (Side::Client, c),
                (None, Some(s)) => (Side::Server, s),
                (None, None) => break,
            };
            self.set_time(at.max(self.now));
            let (link_up, now) = (self.link_up, self.now);
            with_side!(self, side, ep => {
                let kind = ep.timers.expired(now).expect("a timer due");
                fired.push((side, kind));
                let events = ep.conn.notify_timer_fired(kind);
                ep.handle(link_up, now, events);
            });
            self.drive();
        }
        assert!(
            self.client.timers.next_deadline().is_none_or(|d| d > end)
                && self.server.timers.next_deadline().is_none_or(|d| d > end),
            "timers still due after {MAX_STEPS} fired: {fired:?}"
        );
        self.set_time(end);
        fired
    }

    /// How long from now `kind` fires on `side`, if it is armed.
    pub fn timer(&self, side: Side, kind: TimerKind) -> Option<Duration> {
        match side {
            Side::Client => self.client.timer(kind, self.now),
            Side::Server => self.server.timer(kind, self.now),
        }
    }

    /// Sets the fake clock, and both connections' time, to `now`, firing
    /// no timer.
    pub fn set_time(&mut self, now: MonotonicTime) {
        self.now = now;
        self.client.conn.set_time(now);
        self.server.conn.set_time(now);
    }
}
