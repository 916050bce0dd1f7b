//! [`MonotonicTime`]: the time values the caller passes in.

use core::time::Duration;

/// A point in time: milliseconds since an origin the caller chooses.
///
/// The session reads no clock. The few rules that need time (Message Expiry,
/// §3.3.2.3.3; Session Expiry, §3.1.2.11.2) take a `MonotonicTime` on the
/// call that needs it. The values must not go backwards; their origin does
/// not matter, as the session only compares and subtracts them. Adapters
/// derive them from [`std::time::Instant`]; `no_std` users from their own
/// ticks.
///
/// ```
/// use std::time::{Duration, Instant};
/// use mqtt_session::MonotonicTime;
///
/// let origin = Instant::now();
/// let now = MonotonicTime::from_instant(origin, Instant::now());
/// let later = now.saturating_add(Duration::from_secs(2));
/// assert_eq!(later.saturating_duration_since(now), Duration::from_secs(2));
/// assert_eq!(MonotonicTime::from_millis(1500).as_millis(), 1500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MonotonicTime(u64);

/// `self + duration`, saturating at [`MonotonicTime::MAX`]: what a timer
/// table (`mqtt_core::TimerTable`) computes deadlines with.
impl core::ops::Add<Duration> for MonotonicTime {
    type Output = MonotonicTime;
    #[inline]
    fn add(self, duration: Duration) -> MonotonicTime {
        self.saturating_add(duration)
    }
}

impl MonotonicTime {
    /// The origin.
    pub const ZERO: MonotonicTime = MonotonicTime(0);
    /// The largest time value: later than any deadline.
    pub const MAX: MonotonicTime = MonotonicTime(u64::MAX);

    /// The time `millis` milliseconds after the origin.
    #[inline]
    pub const fn from_millis(millis: u64) -> Self {
        MonotonicTime(millis)
    }

    /// Milliseconds since the origin.
    #[inline]
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `instant` measured from `origin` (0 if `instant` is earlier).
    pub fn from_instant(origin: std::time::Instant, instant: std::time::Instant) -> Self {
        let millis = instant.saturating_duration_since(origin).as_millis();
        MonotonicTime(u64::try_from(millis).unwrap_or(u64::MAX))
    }

    /// `self + duration`, at most [`MonotonicTime::MAX`].
    #[inline]
    pub fn saturating_add(self, duration: Duration) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        MonotonicTime(self.0.saturating_add(millis))
    }

    /// `self - duration`, at least [`MonotonicTime::ZERO`].
    #[inline]
    pub fn saturating_sub(self, duration: Duration) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        MonotonicTime(self.0.saturating_sub(millis))
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    #[inline]
    pub fn saturating_duration_since(self, earlier: MonotonicTime) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// Whole seconds from `earlier` to `self`, rounded down, zero if
    /// `earlier` is later.
    #[inline]
    pub fn elapsed_secs_since(self, earlier: MonotonicTime) -> u64 {
        self.0.saturating_sub(earlier.0) / 1000
    }

    /// The deadline `secs` seconds after `self` (an interval property).
    #[inline]
    pub(crate) fn after_secs(self, secs: u32) -> Self {
        MonotonicTime(self.0.saturating_add(u64::from(secs) * 1000))
    }

    /// Seconds left from `self` until `deadline`, rounded up so that a part
    /// of a second left counts as one; 0 once the deadline has passed.
    #[inline]
    pub(crate) fn secs_until(self, deadline: MonotonicTime) -> u32 {
        let millis = deadline.0.saturating_sub(self.0);
        u32::try_from(millis.div_ceil(1000)).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = MonotonicTime::from_millis(1_000);
        assert_eq!(
            t.saturating_sub(Duration::from_secs(5)),
            MonotonicTime::ZERO
        );
        assert_eq!(
            MonotonicTime::MAX.saturating_add(Duration::from_secs(1)),
            MonotonicTime::MAX
        );
        assert_eq!(
            MonotonicTime::ZERO.saturating_duration_since(t),
            Duration::ZERO
        );
        assert_eq!(MonotonicTime::from_millis(3_999).elapsed_secs_since(t), 2);
    }

    #[test]
    fn seconds_left_round_up() {
        let now = MonotonicTime::from_millis(10_000);
        assert_eq!(now.secs_until(now.after_secs(60)), 60);
        assert_eq!(now.secs_until(MonotonicTime::from_millis(10_001)), 1);
        assert_eq!(now.secs_until(MonotonicTime::from_millis(11_000)), 1);
        assert_eq!(now.secs_until(MonotonicTime::from_millis(11_001)), 2);
        assert_eq!(now.secs_until(MonotonicTime::from_millis(9_000)), 0);
        assert_eq!(
            now.after_secs(u32::MAX).as_millis(),
            10_000 + u64::from(u32::MAX) * 1000
        );
    }
}
