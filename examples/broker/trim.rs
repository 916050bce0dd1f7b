//! Memory back to the system once many connections have left. glibc keeps
//! the pages that the closed connections' tasks and buffers were freed
//! into (scattered among live allocations, they are never at the top of
//! its heaps), so without this the broker stays at its peak RSS for good.
//! A housekeeping task ([`Housekeeping`]) shrinks the session table
//! and asks glibc to return its free pages (`malloc_trim`) when the open
//! connections fell to half of their high point, by at least
//! [`DEPARTED`].

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::state::Shared;

/// Departures below this are not worth a trim (it walks every arena).
pub const DEPARTED: usize = 1_000;

/// Whether to trim now, with `high` connections open at the most since the
/// last trim and `now` open: at least [`DEPARTED`] left, and at least half.
pub fn should_trim(high: usize, now: usize) -> bool {
    high >= now + DEPARTED && now <= high / 2
}

/// The task of [`after_departures`], stopped when this is dropped.
#[derive(Debug)]
pub struct Housekeeping(tokio::task::JoinHandle<()>);

impl Housekeeping {
    /// Starts [`after_departures`] for the broker of `shared`.
    pub fn spawn(shared: Arc<Shared>) -> Housekeeping {
        Housekeeping(tokio::spawn(after_departures(shared)))
    }
}

impl Drop for Housekeeping {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs for the broker's life: once a second, trims when
/// [`should_trim`] says so.
pub async fn after_departures(shared: Arc<Shared>) {
    let mut high = 0;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let now = shared.stats.connections.load(Ordering::Relaxed);
        high = high.max(now);
        if should_trim(high, now) {
            high = now;
            {
                let mut st = shared.lock();
                let len = st.sessions.len().max(64);
                if st.sessions.capacity() > 4 * len {
                    st.sessions.shrink_to(2 * len);
                }
            }
            let _ = tokio::task::spawn_blocking(release_freed_memory).await;
        }
    }
}

/// Asks the allocator to return its free pages to the system; whether it
/// returned any. glibc only; elsewhere nothing (other allocators return
/// large free blocks themselves).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_freed_memory() -> bool {
    // SAFETY: `malloc_trim` takes no pointer and has no precondition; glibc
    // locks each arena while it trims it.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Asks the allocator to return its free pages to the system: nothing to
/// do off glibc.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed_memory() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_after_many_departures_only() {
        assert!(!should_trim(0, 0));
        assert!(!should_trim(999, 0), "too few left");
        assert!(should_trim(1_000, 0));
        assert!(should_trim(10_000, 5_000));
        assert!(!should_trim(10_000, 5_001), "not half");
        assert!(!should_trim(2_500, 1_600), "not half");
        assert!(should_trim(2_500, 1_250));
    }
}
