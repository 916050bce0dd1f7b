//! [`Joined`]: a connection's driver and the application's future that
//! serves it, polled as one future (one task per connection).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// The future of [`Server::serve_with`](crate::Server::serve_with):
    /// polls the connection's driver `D` and the application's future `F`
    /// until both are done, and outputs `F`'s. Both live inline, once: a
    /// task spawned with it holds nothing else per connection.
    #[must_use = "the connection is driven only while this future is polled"]
    pub struct Joined<D: Future<Output = ()>, F: Future> {
        #[pin]
        driver: D,
        #[pin]
        app: F,
        driver_done: bool,
        output: Option<F::Output>,
    }
}

impl<D: Future<Output = ()>, F: Future> Joined<D, F> {
    pub(crate) fn new(driver: D, app: F) -> Self {
        Joined {
            driver,
            app,
            driver_done: false,
            output: None,
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
        let this = self.project();
        if !*this.driver_done {
            *this.driver_done = this.driver.poll(cx).is_ready();
        }
        if this.output.is_none() {
            if let Poll::Ready(out) = this.app.poll(cx) {
                *this.output = Some(out);
            }
        }
        if *this.driver_done {
            if let Some(out) = this.output.take() {
                return Poll::Ready(out);
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// The output is the application's, once both are done, whichever
    /// ends first.
    #[test]
    fn ready_once_both_are_done() {
        let mut cx = Context::from_waker(std::task::Waker::noop());
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
}
