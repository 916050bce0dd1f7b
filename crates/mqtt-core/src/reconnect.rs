//! [`Reconnect`]: when a high-level client tries again after losing its
//! network connection, exponential backoff with jitter and a cap. Sans-I/O:
//! it computes delays and counts attempts; the adapter sleeps (mqtt-tokio's
//! and mqtt-std's `Client` both use it).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

/// The delays between reconnection attempts: `initial` after the first
/// failure, multiplied by `factor` after each further one up to `max`, each
/// drawn within ± `jitter` of its value (so that many clients cut off at
/// once do not come back at once). A connection that lasted at least
/// `max` starts the sequence over.
///
/// ```
/// use std::time::Duration;
/// use mqtt_core::Reconnect;
///
/// let r = Reconnect::new(Duration::from_millis(50), Duration::from_secs(10)).jitter(0.0);
/// assert_eq!(r.delay(0), Duration::from_millis(50));
/// assert_eq!(r.delay(3), Duration::from_millis(400));
/// assert_eq!(r.delay(20), Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reconnect {
    initial: Duration,
    max: Duration,
    factor: f64,
    jitter: f64,
    /// Attempts after a loss before the client gives up (`None`: never).
    attempts: Option<u32>,
}

impl Default for Reconnect {
    /// 100 ms doubling up to 30 s, ± 25 %, never giving up.
    fn default() -> Self {
        Reconnect::new(Duration::from_millis(100), Duration::from_secs(30))
    }
}

impl Reconnect {
    /// From `initial` doubling up to `max`, ± 25 %, never giving up.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Reconnect {
            initial,
            max: max.max(initial),
            factor: 2.0,
            jitter: 0.25,
            attempts: None,
        }
    }

    /// The growth between attempts (at least 1; default 2).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor.max(1.0);
        self
    }

    /// The jitter, a fraction of each delay from 0 to 1 (default 0.25).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// Gives up after `attempts` failed attempts in a row (`None`, the
    /// default: never).
    pub fn max_attempts(mut self, attempts: impl Into<Option<u32>>) -> Self {
        self.attempts = attempts.into();
        self
    }

    /// The place in the sequence after a connection that `lasted`: one
    /// that lasted the cap starts it over, one that failed sooner goes on
    /// from `streak`. Call it when an established connection is lost, with
    /// the place reached before it, and number the next delays from what it
    /// returns (so a broker that accepts and at once drops a client still
    /// sees the delays grow).
    ///
    /// ```
    /// use std::time::Duration;
    /// use mqtt_core::Reconnect;
    ///
    /// let r = Reconnect::new(Duration::from_millis(100), Duration::from_secs(5));
    /// assert_eq!(r.after(6, Duration::from_secs(5)), 0);
    /// assert_eq!(r.after(6, Duration::from_secs(1)), 6);
    /// ```
    pub fn after(&self, streak: u32, lasted: Duration) -> u32 {
        match lasted >= self.max {
            true => 0,
            false => streak,
        }
    }

    /// Whether the attempt numbered `attempt` (failed attempts in a row so
    /// far, from 0) may be made; see [`max_attempts`](Self::max_attempts).
    pub fn allows(&self, attempt: u32) -> bool {
        self.attempts.is_none_or(|n| attempt < n)
    }

    /// The delay before attempt `attempt` (from 0), without jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let grown = self.initial.as_secs_f64() * self.factor.powi(attempt.min(64) as i32);
        Duration::from_secs_f64(grown.min(self.max.as_secs_f64()))
    }

    /// [`delay`](Self::delay) with jitter: drawn uniformly within ± the
    /// jitter fraction of it, from the process's random hash keys (no clock,
    /// no random-number crate). The delay to sleep before an attempt.
    pub fn jittered(&self, attempt: u32) -> Duration {
        let delay = self.delay(attempt).as_secs_f64();
        // A uniform draw in [-1, 1) from the process's random hash keys.
        let draw = RandomState::new().hash_one(attempt) as f64 / u64::MAX as f64 * 2.0 - 1.0;
        Duration::from_secs_f64((delay * (1.0 + self.jitter * draw)).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap() {
        let r = Reconnect::new(Duration::from_millis(100), Duration::from_secs(1)).jitter(0.0);
        let delays: Vec<_> = (0..6).map(|n| r.delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(r.jittered(2), Duration::from_millis(400));
        let r = r.factor(3.0);
        assert_eq!(r.delay(2), Duration::from_millis(900));
        assert_eq!(r.delay(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_its_band_and_varies() {
        let r = Reconnect::new(Duration::from_millis(1000), Duration::from_secs(10));
        let draws: Vec<_> = (0..200).map(|_| r.jittered(0).as_millis()).collect();
        assert!(
            draws.iter().all(|&d| (750..=1250).contains(&d)),
            "{draws:?}"
        );
        let distinct: std::collections::HashSet<_> = draws.iter().collect();
        assert!(distinct.len() > 20, "{distinct:?}");
        // Both sides of the delay (200 draws all on one side: 2^-199).
        assert!(draws.iter().any(|&d| d < 1000) && draws.iter().any(|&d| d > 1000));
    }

    #[test]
    fn a_connection_that_lasted_the_cap_starts_over() {
        let r = Reconnect::new(Duration::from_millis(100), Duration::from_secs(5));
        assert_eq!(r.after(6, Duration::from_secs(5)), 0);
        assert_eq!(r.after(6, Duration::from_secs(4)), 6);
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let r = Reconnect::default();
        assert!(r.allows(1_000_000));
        let r = r.max_attempts(3);
        assert!(r.allows(2));
        assert!(!r.allows(3));
    }
}
