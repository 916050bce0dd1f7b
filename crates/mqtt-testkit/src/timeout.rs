//! A bound on the time a test body may take.

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on its own thread and returns its result; panics if it takes
/// longer than `limit` (the thread is left behind and ends with the test
/// process), and re-raises a panic of `f`.
///
/// ```
/// let four = mqtt_testkit::run_with_timeout(std::time::Duration::from_secs(5), || 2 + 2);
/// assert_eq!(four, 4);
/// ```
pub fn run_with_timeout<T, F>(limit: Duration, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("test-body".into())
        .spawn(move || {
            let result = f();
            let _ = tx.send(());
            result
        })
        .expect("spawn the test thread");
    match rx.recv_timeout(limit) {
        // Finished (or panicked, which drops the sender).
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the test did not finish within {limit:?}")
        }
    }
}
