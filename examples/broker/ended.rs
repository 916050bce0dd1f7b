//! [`Ended`]: a connection's task says it has handed its session back, and
//! a takeover waits for that ([`EndWatch::wait`]). Some 60 bytes a
//! connection (a `watch` channel took 336).

use std::sync::Arc;

use tokio::sync::Semaphore;

/// Held by a connection's task until its session is stored or ended;
/// dropping it wakes every [`EndWatch`].
#[derive(Debug)]
pub struct Ended(Arc<Semaphore>);

/// Waits for the matching [`Ended`] to be dropped.
#[derive(Debug, Clone)]
pub struct EndWatch(Arc<Semaphore>);

/// A new pair.
pub fn ended() -> (Ended, EndWatch) {
    // No permit is ever added: `acquire` returns only once it is closed.
    let signal = Arc::new(Semaphore::new(0));
    (Ended(signal.clone()), EndWatch(signal))
}

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl EndWatch {
    /// Returns once the [`Ended`] is dropped (at once if it was).
    pub async fn wait(&self) {
        let _ = self.0.acquire().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_returns_after_the_drop() {
        let (end, watch) = ended();
        let other = watch.clone();
        let waiting = tokio::spawn(async move { other.wait().await });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(end);
        waiting.await.unwrap();
        watch.wait().await;
    }
}
