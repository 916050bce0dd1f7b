//! A network connection the broker can cut at once, whatever its driver is
//! doing. A client that stops reading fills its connection's command
//! channel, and `Endpoint::abort` is itself a command: it would wait behind
//! the others. [`KillSwitch::kill`] instead makes every read and write of
//! the [`Killable`] stream fail, so the driver ends, and the session with
//! its unsent messages comes back through `Incoming::into_connection`.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Cuts one [`Killable`] stream; shared by the connection's task and the
/// broker's table (for a slow consumer or a takeover).
#[derive(Debug, Default)]
pub struct KillSwitch {
    killed: AtomicBool,
    /// The tasks waiting to read and to write, woken by [`kill`](Self::kill).
    read: Mutex<Option<Waker>>,
    write: Mutex<Option<Waker>>,
}

impl KillSwitch {
    /// A switch not yet used.
    pub fn new() -> Arc<KillSwitch> {
        Arc::new(KillSwitch::default())
    }

    /// Cuts the stream: pending and later reads and writes fail with
    /// `ConnectionAborted`. Returns whether this call cut it (false if it
    /// was already cut).
    pub fn kill(&self) -> bool {
        let first = !self.killed.swap(true, Ordering::SeqCst);
        for slot in [&self.read, &self.write] {
            let waker = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
        first
    }

    /// Whether [`kill`](Self::kill) was called.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Remembers the waker of a poll that returned `Pending`; then tells
    /// whether the stream was cut meanwhile (the poll must fail instead).
    fn park(&self, slot: &Mutex<Option<Waker>>, cx: &Context<'_>) -> bool {
        let mut w = slot.lock().unwrap_or_else(|e| e.into_inner());
        if !w.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *w = Some(cx.waker().clone());
        }
        drop(w);
        self.is_killed()
    }
}

fn aborted() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "cut by the broker")
}

/// A stream whose reads and writes fail once its [`KillSwitch`] is used.
#[derive(Debug)]
pub struct Killable<S> {
    inner: S,
    switch: Arc<KillSwitch>,
}

impl<S> Killable<S> {
    /// Wraps `inner`, cut by `switch`.
    pub fn new(inner: S, switch: Arc<KillSwitch>) -> Killable<S> {
        Killable { inner, switch }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Killable<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.switch.is_killed() {
            return Poll::Ready(Err(aborted()));
        }
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Pending if this.switch.park(&this.switch.read, cx) => Poll::Ready(Err(aborted())),
            r => r,
        }
    }
}

impl<S: AsyncWrite + Unpin> Killable<S> {
    /// Runs a write-side poll unless the stream is cut.
    fn poll_write_side<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(Pin<&mut S>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if self.switch.is_killed() {
            return Poll::Ready(Err(aborted()));
        }
        match poll(Pin::new(&mut self.inner), cx) {
            Poll::Pending if self.switch.park(&self.switch.write, cx) => {
                Poll::Ready(Err(aborted()))
            }
            r => r,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Killable<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_side(cx, |s, cx| s.poll_write(cx, buf))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_side(cx, |s, cx| s.poll_flush(cx))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.switch.is_killed() {
            // Dropping the stream closes it; nothing more is written.
            return Poll::Ready(Ok(()));
        }
        self.poll_write_side(cx, |s, cx| s.poll_shutdown(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A read waiting for data fails once the switch is used; later writes
    /// fail too.
    #[tokio::test]
    async fn kill_ends_a_pending_read_and_later_writes() {
        let (a, _b) = tokio::io::duplex(64);
        let switch = KillSwitch::new();
        let mut s = Killable::new(a, switch.clone());
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            let r = s.read(&mut buf).await;
            (r.map_err(|e| e.kind()), s)
        });
        tokio::task::yield_now().await;
        assert!(switch.kill());
        assert!(!switch.kill());
        let (r, mut s) = reader.await.unwrap();
        assert_eq!(r, Err(io::ErrorKind::ConnectionAborted));
        let w = s.write_all(b"x").await.map_err(|e| e.kind());
        assert_eq!(w, Err(io::ErrorKind::ConnectionAborted));
    }

    /// A write blocked on a full peer fails once the switch is used.
    #[tokio::test]
    async fn kill_ends_a_blocked_write() {
        let (a, _b) = tokio::io::duplex(4);
        let switch = KillSwitch::new();
        let mut s = Killable::new(a, switch.clone());
        let writer =
            tokio::spawn(async move { s.write_all(&[0u8; 64]).await.map_err(|e| e.kind()) });
        tokio::task::yield_now().await;
        switch.kill();
        assert_eq!(writer.await.unwrap(), Err(io::ErrorKind::ConnectionAborted));
    }
}
