//! [`Joined`]: a connection's driver and the application's future that
//! serves it, polled as one future (one task per connection).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

pin_project_lite::pin_project! {
    /// The future of [`Server::serve_with`](crate::Server::serve_with):
    /// polls the connection's driver `D` and the application's future `F`
    /// until both are done, and outputs `F`'s. Both live inline, once: a
    /// task spawned with it holds nothing else per connection.
    ///
    /// What the application hands its driver while it is polled (the
    /// acknowledgement of a PUBLISH, a packet to send) the driver takes up
    /// in the same poll, which polls it again (three times at most):
    /// the task is not woken for it. Woken, tokio's multi-thread runtime
    /// would queue the task again and wake a parked worker to steal it,
    /// for every such hand-over. A wake of the application (packets came)
    /// wakes the task as before, so that a busy connection yields its
    /// worker to those it sends to.
    #[must_use = "the connection is driven only while this future is polled"]
    pub struct Joined<D: Future<Output = ()>, F: Future> {
        #[pin]
        driver: D,
        #[pin]
        app: F,
        driver_done: bool,
        output: Option<F::Output>,
        wakes: Arc<Wakes>,
        driver_waker: Waker,
        app_waker: Waker,
    }
}

/// The most polls of the driver in one poll of [`Joined`].
const ROUNDS: usize = 3;

/// [`Wakes::state`]: the task is being polled; a wake only marks its side.
const POLLING: u8 = 1;
/// [`Wakes::state`]: the driver was woken.
const DRIVER: u8 = 2;
/// [`Wakes::state`]: the application was woken.
const APP: u8 = 4;

/// What the wakers [`Joined`] gives its two futures share.
#[derive(Debug)]
struct Wakes {
    /// [`POLLING`], and which side was woken.
    state: AtomicU8,
    /// The task's own waker, from the last poll.
    task: Mutex<Option<Waker>>,
}

/// The waker of one side ([`DRIVER`] or [`APP`]).
#[derive(Debug)]
struct Side {
    wakes: Arc<Wakes>,
    bit: u8,
}

impl Wake for Side {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let before = self.wakes.state.fetch_or(self.bit, Ordering::AcqRel);
        if before & POLLING == 0 {
            let task = self.wakes.task.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(task) = task.as_ref() {
                task.wake_by_ref();
            }
        }
    }
}

impl<D: Future<Output = ()>, F: Future> Joined<D, F> {
    pub(crate) fn new(driver: D, app: F) -> Self {
        let wakes = Arc::new(Wakes {
            state: AtomicU8::new(0),
            task: Mutex::new(None),
        });
        let side = |bit| {
            let wakes = wakes.clone();
            Waker::from(Arc::new(Side { wakes, bit }))
        };
        Joined {
            driver,
            app,
            driver_done: false,
            output: None,
            driver_waker: side(DRIVER),
            app_waker: side(APP),
            wakes,
        }
    }
}

impl<D: Future<Output = ()>, F: Future> std::fmt::Debug for Joined<D, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Joined")
            .field("driver_done", &self.driver_done)
            .field("app_done", &self.output.is_some())
            .finish()
    }
}

impl<D: Future<Output = ()>, F: Future> Future for Joined<D, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        {
            let mut task = this.wakes.task.lock().unwrap_or_else(|e| e.into_inner());
            if !task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        let state = &this.wakes.state;
        state.store(POLLING, Ordering::Release);
        for round in 0..ROUNDS {
            // The driver first: what it read, the application takes up.
            if !*this.driver_done {
                state.fetch_and(!DRIVER, Ordering::AcqRel);
                let mut cx = Context::from_waker(this.driver_waker);
                *this.driver_done = this.driver.as_mut().poll(&mut cx).is_ready();
            }
            if round == 0 && this.output.is_none() {
                state.fetch_and(!APP, Ordering::AcqRel);
                let mut cx = Context::from_waker(this.app_waker);
                if let Poll::Ready(out) = this.app.as_mut().poll(&mut cx) {
                    *this.output = Some(out);
                }
            }
            if *this.driver_done && this.output.is_some() {
                state.store(0, Ordering::Release);
                return Poll::Ready(this.output.take().expect("just checked"));
            }
            // Again only for what the application handed the driver.
            if *this.driver_done || state.load(Ordering::Acquire) & DRIVER == 0 {
                break;
            }
        }
        // A side woken after its poll (the application, or the driver past
        // the last round) wakes the task.
        if state.swap(0, Ordering::AcqRel) & (DRIVER | APP) != 0 {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// The task's waker: counts its wakes.
    #[derive(Default)]
    struct Task(AtomicUsize);

    impl Wake for Task {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// What a side does when polled, and the waker it was last polled with.
    #[derive(Default)]
    struct Script {
        polls: usize,
        waker: Option<Waker>,
        /// Wakes the other side's last waker when polled (a hand-over).
        wake_other: bool,
        /// Wakes its own waker when polled (more to do).
        wake_self: bool,
    }

    type Shared = Arc<Mutex<[Script; 2]>>;

    /// Side `i` of `shared`: never ready.
    fn side(shared: Shared, i: usize) -> impl Future<Output = ()> {
        std::future::poll_fn(move |cx| {
            let mut s = shared.lock().unwrap();
            s[i].polls += 1;
            s[i].waker = Some(cx.waker().clone());
            if s[i].wake_other {
                if let Some(w) = &s[1 - i].waker {
                    w.wake_by_ref();
                }
            }
            if s[i].wake_self {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        })
    }

    /// Polls `joined` once; the task's wakes since.
    fn poll_once<D: Future<Output = ()>, F: Future>(
        joined: Pin<&mut Joined<D, F>>,
        task: &Arc<Task>,
    ) -> usize {
        let waker = Waker::from(task.clone());
        let before = task.0.load(Ordering::SeqCst);
        assert!(joined.poll(&mut Context::from_waker(&waker)).is_pending());
        task.0.load(Ordering::SeqCst) - before
    }

    fn setup() -> (
        Shared,
        Pin<Box<Joined<impl Future<Output = ()>, impl Future>>>,
    ) {
        let shared: Shared = Arc::default();
        let joined = Joined::new(side(shared.clone(), 0), side(shared.clone(), 1));
        (shared, Box::pin(joined))
    }

    fn polls(shared: &Shared) -> [usize; 2] {
        let s = shared.lock().unwrap();
        [s[0].polls, s[1].polls]
    }

    /// A wake of either side between polls wakes the task, once per wake.
    #[test]
    fn a_wake_between_polls_wakes_the_task() {
        let (shared, mut joined) = setup();
        let task = Arc::new(Task::default());
        assert_eq!(poll_once(joined.as_mut(), &task), 0);
        assert_eq!(polls(&shared), [1, 1]);
        for i in [0, 1] {
            let waker = shared.lock().unwrap()[i].waker.clone().unwrap();
            let before = task.0.load(Ordering::SeqCst);
            waker.wake();
            assert_eq!(task.0.load(Ordering::SeqCst), before + 1, "side {i}");
        }
    }

    /// The application handing the driver something while polled: the
    /// driver is polled again in the same poll, and the task not woken.
    #[test]
    fn a_hand_over_to_the_driver_is_taken_up_in_the_same_poll() {
        let (shared, mut joined) = setup();
        let task = Arc::new(Task::default());
        poll_once(joined.as_mut(), &task);
        shared.lock().unwrap()[1].wake_other = true;
        assert_eq!(poll_once(joined.as_mut(), &task), 0);
        assert_eq!(polls(&shared), [3, 2]);
    }

    /// The driver handing the application something: the application,
    /// polled after it, takes it up; the task is not woken.
    #[test]
    fn a_hand_over_to_the_application_needs_no_wake() {
        let (shared, mut joined) = setup();
        let task = Arc::new(Task::default());
        poll_once(joined.as_mut(), &task);
        shared.lock().unwrap()[0].wake_other = true;
        assert_eq!(poll_once(joined.as_mut(), &task), 0);
        assert_eq!(polls(&shared), [2, 2]);
    }

    /// The application woken while it is polled (more to do) wakes the
    /// task: it is polled once per poll of the task.
    #[test]
    fn the_application_woken_in_its_poll_wakes_the_task() {
        let (shared, mut joined) = setup();
        let task = Arc::new(Task::default());
        shared.lock().unwrap()[1].wake_self = true;
        assert_eq!(poll_once(joined.as_mut(), &task), 1);
        assert_eq!(polls(&shared), [1, 1]);
    }

    /// The output is the application's, once both are done, whichever
    /// ends first.
    #[test]
    fn ready_once_both_are_done() {
        let task = Waker::from(Arc::new(Task::default()));
        let mut cx = Context::from_waker(&task);
        for app_first in [true, false] {
            let done = Arc::new(Mutex::new([false, false]));
            let end = |i: usize| {
                let done = done.clone();
                std::future::poll_fn(move |_| match done.lock().unwrap()[i] {
                    true => Poll::Ready(i),
                    false => Poll::Pending,
                })
            };
            let driver = end(0);
            let mut joined = Box::pin(Joined::new(
                async {
                    driver.await;
                },
                end(1),
            ));
            assert!(joined.as_mut().poll(&mut cx).is_pending());
            let first = if app_first { 1 } else { 0 };
            done.lock().unwrap()[first] = true;
            assert!(
                joined.as_mut().poll(&mut cx).is_pending(),
                "one side is done"
            );
            done.lock().unwrap()[1 - first] = true;
            assert_eq!(joined.as_mut().poll(&mut cx), Poll::Ready(1));
            assert!(format!("{joined:?}").contains("driver_done: true"));
        }
    }

    /// A driver that keeps being woken is polled ROUNDS times, then the
    /// task is woken: it yields its worker.
    #[test]
    fn a_driver_always_woken_yields_after_the_last_round() {
        let (shared, mut joined) = setup();
        let task = Arc::new(Task::default());
        shared.lock().unwrap()[0].wake_self = true;
        assert_eq!(poll_once(joined.as_mut(), &task), 1);
        assert_eq!(polls(&shared), [ROUNDS, 1]);
    }
}
