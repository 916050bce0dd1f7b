//! A new connection's first turns, in the accept task: a CONNECT that is
//! already in the socket when the connection is accepted is answered
//! before the connection gets a task of its own. Spawning first meant
//! waking another worker thread for it and a round of the scheduler before
//! the CONNECT was read, which was most of what a connection cost
//! (sequential connects, `loadgen --connects`: 56 % of the broker's time
//! in the kernel's scheduler).
//!
//! The future is polled with a waker that notes its own wake-ups (a
//! connection wakes itself when the CONNACK is queued for its driver) and
//! polled again while it does, at most [`TURNS`] times; then, unless it
//! finished, it is spawned. Its task polls it again at once, which
//! registers the task's waker wherever the accept task's was.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};

/// The most turns a connection gets in the accept task.
pub const TURNS: usize = 4;

/// Notes a wake-up, and passes it on to the accept task.
struct Noted {
    woken: AtomicBool,
    accept: Waker,
}

impl Wake for Noted {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.accept.wake_by_ref();
    }
}

/// Polls `connection` while it wakes itself, at most [`TURNS`] times, with
/// `accept` (the accept task's waker) told of its wake-ups; returns it if
/// it has not finished, to be spawned.
pub fn first_turns<F>(mut connection: Pin<Box<F>>, accept: &Waker) -> Option<Pin<Box<F>>>
where
    F: Future<Output = ()> + ?Sized,
{
    let noted = Arc::new(Noted {
        woken: AtomicBool::new(false),
        accept: accept.clone(),
    });
    let waker = Waker::from(noted.clone());
    let mut cx = Context::from_waker(&waker);
    for _ in 0..TURNS {
        noted.woken.store(false, Ordering::Release);
        if connection.as_mut().poll(&mut cx).is_ready() {
            return None;
        }
        if !noted.woken.load(Ordering::Acquire) {
            break;
        }
    }
    Some(connection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Poll;

    /// A future that wakes itself `wakes` times, counting its polls, then
    /// waits (`Pending` without a wake-up) or finishes.
    struct Steps {
        polls: Arc<AtomicUsize>,
        wakes: usize,
        finish: bool,
        /// Wakes with a clone of the waker, consumed (`Waker::wake`).
        by_value: bool,
    }

    impl Future for Steps {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::Relaxed);
            if self.wakes > 0 {
                self.wakes -= 1;
                if self.by_value {
                    // By value on purpose: `Wake::wake`, not `wake_by_ref`.
                    #[allow(clippy::waker_clone_wake)]
                    cx.waker().clone().wake();
                } else {
                    cx.waker().wake_by_ref();
                }
                return Poll::Pending;
            }
            if self.finish {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    fn run(wakes: usize, finish: bool) -> (bool, usize) {
        run_waking(wakes, finish, false)
    }

    fn run_waking(wakes: usize, finish: bool, by_value: bool) -> (bool, usize) {
        let polls = Arc::new(AtomicUsize::new(0));
        let steps = Box::pin(Steps {
            polls: polls.clone(),
            wakes,
            finish,
            by_value,
        });
        let left = first_turns(steps, Waker::noop()).is_some();
        (left, polls.load(Ordering::Relaxed))
    }

    #[test]
    fn polled_again_while_it_wakes_itself_then_handed_back() {
        assert_eq!(run(0, false), (true, 1), "waits at once: one turn");
        assert_eq!(run(2, false), (true, 3), "two wake-ups: three turns");
        assert_eq!(run(10, false), (true, TURNS), "at most TURNS");
        assert_eq!(run_waking(2, false, true), (true, 3), "woken by value");
    }

    #[test]
    fn a_connection_that_finishes_is_not_handed_back() {
        assert_eq!(run(0, true), (false, 1));
        assert_eq!(run(2, true), (false, 3));
        assert_eq!(run(TURNS, true), (true, TURNS), "not within TURNS");
    }
}
