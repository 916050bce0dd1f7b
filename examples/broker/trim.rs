//! Memory back to the system once many connections have left or
//! hibernated. The allocators keep the pages that the connections' tasks
//! and buffers were freed into (glibc's for good, scattered among live
//! allocations; jemalloc, the binary's, for its decay time). A
//! housekeeping task ([`Housekeeping`]) shrinks the session table and the
//! slab of hibernated connections, and asks the allocators to return
//! their free pages ([`release_freed_memory`]), when the open connections
//! or those with a task (not hibernated) fell to half of their high
//! point, by at least [`DEPARTED`].

use std::cell::Cell;
use std::ffi::CStr;
use std::sync::atomic::{AtomicU64, Ordering};
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

/// The broker's background tasks, [`after_departures`] and
/// [`wake_on_signal`](super::hibernate::wake_on_signal), stopped when this
/// is dropped.
#[derive(Debug)]
pub struct Housekeeping([tokio::task::JoinHandle<()>; 2]);

impl Housekeeping {
    /// Starts them for the broker of `shared`.
    pub fn spawn(shared: Arc<Shared>) -> Housekeeping {
        let wakes = tokio::spawn(super::hibernate::wake_on_signal(shared.clone()));
        Housekeeping([tokio::spawn(after_departures(shared)), wakes])
    }
}

impl Drop for Housekeeping {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Runs for the broker's life: four times a second, trims when
/// [`should_trim`] says so of the open connections or of those with a
/// task (a hibernated connection freed its task, queues and buffers).
pub async fn after_departures(shared: Arc<Shared>) {
    let (mut high_open, mut high_awake) = (0, 0);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tick.tick().await;
        let stats = &shared.stats;
        let open = stats.connections.load(Ordering::Relaxed);
        let awake = open.saturating_sub(stats.hibernated.load(Ordering::Relaxed));
        high_open = high_open.max(open);
        high_awake = high_awake.max(awake);
        if should_trim(high_open, open) || should_trim(high_awake, awake) {
            (high_open, high_awake) = (open, awake);
            {
                let mut st = shared.lock();
                let len = st.sessions.len().max(64);
                if st.sessions.capacity() > 4 * len {
                    st.sessions.shrink_to(2 * len);
                }
                if let Some(sleepers) = &shared.sleepers {
                    sleepers.shrink();
                }
            }
            let _ = tokio::task::spawn_blocking(release_freed_memory).await;
        }
    }
}

/// Asks the allocators to return their free pages to the system; whether
/// one did. jemalloc, the broker binary's (`broker/main.rs`), purges every
/// arena's unused pages at once (its own thread would within seconds), and
/// each runtime thread hands back what its cache holds when it next goes
/// idle ([`on_thread_park`]); glibc's, which the tests and C libraries
/// use, trims its heaps.
pub fn release_freed_memory() -> bool {
    TRIMS.fetch_add(1, Ordering::Relaxed);
    jemalloc_do(PURGE_ALL_ARENAS) | glibc_trim()
}

/// jemalloc's control that returns the unused pages of every arena
/// (`MALLCTL_ARENAS_ALL` is 4096).
const PURGE_ALL_ARENAS: &CStr = c"arena.4096.purge";

/// Counts the trims, for [`on_thread_park`].
static TRIMS: AtomicU64 = AtomicU64::new(0);

/// The runtime's `on_thread_park` hook: once after each trim, the thread
/// hands what jemalloc's cache of this thread holds back to the arenas
/// and purges them. The connect peak leaves each worker's cache full of
/// freed tasks and buffers (tens of bytes per connection of the peak),
/// which jemalloc otherwise keeps while the thread allocates nothing.
/// Costs an atomic load at other parks.
pub fn on_thread_park() {
    thread_local!(static SEEN: Cell<u64> = const { Cell::new(0) });
    let trims = TRIMS.load(Ordering::Relaxed);
    if SEEN.with(|seen| seen.replace(trims)) != trims {
        jemalloc_do(c"thread.tcache.flush");
        jemalloc_do(PURGE_ALL_ARENAS);
    }
}

/// Runs jemalloc's control `name`, one that takes and gives no value
/// (`arena.<i>.purge`, `thread.tcache.flush`); whether it ran.
#[allow(unsafe_code)]
fn jemalloc_do(name: &CStr) -> bool {
    // SAFETY: `name` is NUL-terminated, and names a control that reads and
    // writes nothing: null old and new values, of length 0.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        ) == 0
    }
}

/// glibc's `malloc_trim`: whether it returned pages.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn glibc_trim() -> bool {
    // SAFETY: `malloc_trim` takes no pointer and has no precondition; glibc
    // locks each arena while it trims it.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// No glibc: nothing to trim.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_trim() -> bool {
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
