//! The bounded queues between the endpoint handles, the driver task and
//! [`Incoming`](crate::Incoming): FIFO, several senders and one receiver,
//! like `tokio::sync::mpsc`, but allocating nothing while empty and giving
//! their memory back when drained ([`Fifo`]), so that an idle connection
//! costs a few hundred bytes instead of two preallocated blocks of slots.
//!
//! A `Mutex<Fifo<T>>` holds the items. The receiver leaves its waker in
//! the state under the lock. A sender waiting for room enables a
//! [`Notify`] future under the lock and is counted; each item taken while
//! senders wait wakes one of them (`notify_one`, oldest first), so that
//! no wake-up is lost and a thousand waiting senders are not all woken
//! for one free slot.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

/// A capacity this small is given back whenever the deque empties: a
/// first allocation (4 slots) costs one `malloc` from the thread cache.
const KEEP_MAX: usize = 4;

/// A `VecDeque` that allocates on its first push and frees its buffer when
/// it empties, unless the last busy period (since it was last empty) used
/// more than a quarter of it: a steady flow keeps its buffer, an idle
/// queue holds no memory.
#[derive(Debug)]
pub(crate) struct Fifo<T> {
    items: VecDeque<T>,
    /// The longest the deque was since it was last empty.
    high_water: usize,
}

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo {
            items: VecDeque::new(),
            high_water: 0,
        }
    }
}

impl<T> Fifo<T> {
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn front(&self) -> Option<&T> {
        self.items.front()
    }

    pub(crate) fn push_back(&mut self, item: T) {
        self.items.push_back(item);
        self.high_water = self.high_water.max(self.items.len());
    }

    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let item = self.items.pop_front()?;
        if self.items.is_empty() {
            self.release();
        }
        Some(item)
    }

    /// Takes every item, leaving the deque empty and unallocated.
    pub(crate) fn take(&mut self) -> VecDeque<T> {
        self.high_water = 0;
        std::mem::take(&mut self.items)
    }

    /// The deque is empty: frees the buffer unless it is in steady use.
    fn release(&mut self) {
        let used = std::mem::take(&mut self.high_water);
        let capacity = self.items.capacity();
        if capacity > 0 && (capacity <= KEEP_MAX || capacity > 4 * used) {
            self.items = VecDeque::new();
        }
    }

    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.items.capacity()
    }
}

/// Why [`Sender::try_send`] refused an item (given back).
#[derive(Debug)]
pub(crate) enum TrySendError<T> {
    /// The queue holds `capacity` items.
    Full(T),
    /// The receiver is closed or dropped.
    Closed(T),
}

struct State<T> {
    items: Fifo<T>,
    senders: usize,
    /// The receiver closed or was dropped: sends fail.
    closed: bool,
    /// The waiting receiver's waker.
    receiver: Option<Waker>,
    /// Senders waiting on `Shared::room` (at least: a waiter dropped
    /// while woken may leave it one too high, which costs a spurious
    /// wake-up, never a lost one).
    send_waiters: usize,
    /// The waker of the driver's own wait on this queue (one caller at a
    /// time): [`Sender::send_from`] on a queue it sends into, woken at the
    /// close and, if `from_wants_room`, by an item taken; or
    /// [`Receiver::aborted`] on the one it receives from, woken by
    /// [`Sender::abort`].
    driver_waker: Option<Waker>,
    from_wants_room: bool,
    /// [`Sender::abort`] was called: the driver drops its connection.
    aborted: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    capacity: usize,
    /// Wakes a sender waiting for room (one per item taken), or all of
    /// them at the close.
    room: Notify,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while the lock is held but an allocation failure.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Creates a queue holding at most `capacity` items (at least 1).
pub(crate) fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: Fifo::default(),
            senders: 1,
            closed: false,
            receiver: None,
            send_waiters: 0,
            driver_waker: None,
            from_wants_room: false,
            aborted: false,
        }),
        capacity: capacity.max(1),
        room: Notify::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

/// The sending side; cloneable. The receiver sees the end of the queue
/// once every sender is dropped and the items are taken.
pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.senders -= 1;
        if st.senders == 0 {
            if let Some(receiver) = st.receiver.take() {
                drop(st);
                receiver.wake();
            }
        }
    }
}

impl<T> Sender<T> {
    /// Pushes `item` under the lock and wakes the receiver if it waits.
    fn push(&self, mut st: MutexGuard<'_, State<T>>, item: T) {
        st.items.push_back(item);
        wake_receiver(st);
    }

    /// Queues `item` if there is room. Errs with `Full` or `Closed`,
    /// giving the item back.
    pub(crate) fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let st = self.shared.lock();
        if st.closed {
            return Err(TrySendError::Closed(item));
        }
        if st.items.len() >= self.shared.capacity {
            return Err(TrySendError::Full(item));
        }
        self.push(st, item);
        Ok(())
    }

    /// Queues `item`, waiting for room. Errs with the item when the
    /// receiver is closed or dropped. Cancel-safe: dropped before there
    /// was room, it queued nothing.
    pub(crate) fn send(&self, item: T) -> Send<'_, T> {
        Send {
            sender: self,
            item: Some(item),
            room: None,
        }
    }

    /// Moves items from the front of `from` into the queue once it has
    /// room, as many as fit; with `from` empty, waits for the close.
    /// Returns `true` when it moved some, `false` when the receiver is
    /// closed or dropped (nothing moved): one future for the driver's two
    /// waits on the application's receiver. Cancel-safe: items leave
    /// `from` only into the queue. One caller at a time (one waker slot):
    /// a poll, not an `async fn` holding `Notify` futures, as it sits in
    /// the driver's `select!` of every connection (16 bytes, not 224).
    pub(crate) fn send_from<'a>(
        &'a self,
        from: &'a mut Fifo<T>,
    ) -> impl Future<Output = bool> + 'a {
        std::future::poll_fn(move |cx| self.poll_send_from(cx, from))
    }

    fn poll_send_from(&self, cx: &mut Context<'_>, from: &mut Fifo<T>) -> Poll<bool> {
        let mut st = self.shared.lock();
        if st.closed {
            return Poll::Ready(false);
        }
        if from.is_empty() || st.items.len() >= self.shared.capacity {
            st.from_wants_room = !from.is_empty();
            match &mut st.driver_waker {
                Some(waker) => waker.clone_from(cx.waker()),
                none => *none = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        while st.items.len() < self.shared.capacity {
            match from.pop_front() {
                Some(item) => st.items.push_back(item),
                None => break,
            }
        }
        wake_receiver(st);
        Poll::Ready(true)
    }

    /// Whether the receiver is closed or dropped.
    pub(crate) fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Asks the receiving driver to drop its connection at once, ahead of
    /// the items queued ([`Receiver::aborted`]). It stays asked.
    pub(crate) fn abort(&self) {
        let mut st = self.shared.lock();
        st.aborted = true;
        let waker = st.driver_waker.take();
        drop(st);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Wakes the receiver if it waits, outside the lock.
fn wake_receiver<T>(mut st: MutexGuard<'_, State<T>>) {
    if let Some(receiver) = st.receiver.take() {
        drop(st);
        receiver.wake();
    }
}

/// The future of [`Sender::send`]: holds the item until there is room.
pub(crate) struct Send<'a, T> {
    sender: &'a Sender<T>,
    item: Option<T>,
    /// Registered while the queue is full (boxed: allocated only then).
    room: Option<Pin<Box<Notified<'a>>>>,
}

impl<T> Send<'_, T> {
    /// The item, if it was not queued yet: for a caller that gave up
    /// waiting for room (a timeout around the future, awaited by `&mut`).
    pub(crate) fn into_item(mut self) -> Option<T> {
        self.item.take()
    }
}

impl<T> Drop for Send<'_, T> {
    /// A waiter given up is no longer counted.
    fn drop(&mut self) {
        if self.room.is_some() {
            self.sender.shared.lock().send_waiters -= 1;
        }
    }
}

// The item is moved, never pinned: the future may move whatever `T` is,
// and callers can await it by `&mut` (no second copy of the item in
// their own future).
impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            if let Some(room) = &mut this.room {
                if room.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            }
            let mut st = this.sender.shared.lock();
            if this.room.take().is_some() {
                st.send_waiters -= 1;
            }
            let Some(item) = this.item.take() else {
                // Polled again after it completed.
                return Poll::Ready(Ok(()));
            };
            if st.closed {
                return Poll::Ready(Err(item));
            }
            if st.items.len() < this.sender.shared.capacity {
                this.sender.push(st, item);
                return Poll::Ready(Ok(()));
            }
            // Enabled under the lock: a later item taken wakes it (or
            // another waiter), and so does the close.
            st.send_waiters += 1;
            let mut room = Box::pin(this.sender.shared.room.notified());
            room.as_mut().enable();
            this.room = Some(room);
            this.item = Some(item);
        }
    }
}

/// The receiving side.
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Receiver<T> {
    /// Takes the first item under the lock, waking senders waiting for
    /// room.
    fn pop(&self, st: &mut State<T>) -> Option<T> {
        let item = st.items.pop_front()?;
        if st.send_waiters > 0 {
            self.shared.room.notify_one();
        }
        if st.from_wants_room {
            st.from_wants_room = false;
            if let Some(waker) = st.driver_waker.take() {
                waker.wake();
            }
        }
        Some(item)
    }

    /// The next item, waiting for one; `None` once every sender is dropped
    /// (or the queue is closed) and it is empty. Cancel-safe: an item
    /// leaves the queue only when this returns it. By `&self`, beside
    /// [`aborted`](Self::aborted) in the driver's `select!` (there is one
    /// receiver: whoever holds it receives).
    pub(crate) fn recv(&self) -> impl Future<Output = Option<T>> + '_ {
        std::future::poll_fn(|cx| self.poll_recv(cx))
    }

    /// Resolves once [`Sender::abort`] was called. One caller at a time
    /// (the driver): a poll, and no `Notify` of its own, for it sits in
    /// the driver's `select!` of every connection. Cancel-safe.
    pub(crate) fn aborted(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|cx| {
            let mut st = self.shared.lock();
            if st.aborted {
                return Poll::Ready(());
            }
            match &mut st.driver_waker {
                Some(waker) => waker.clone_from(cx.waker()),
                none => *none = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
    }

    /// [`recv`](Self::recv) as a poll: `Pending` leaves the task's waker,
    /// woken by the next item or the last sender's drop.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut st = self.shared.lock();
        if let Some(x) = self.pop(&mut st) {
            return Poll::Ready(Some(x));
        }
        if st.senders == 0 || st.closed {
            return Poll::Ready(None);
        }
        match &mut st.receiver {
            Some(waker) => waker.clone_from(cx.waker()),
            none => *none = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Whether every sender is dropped.
    pub(crate) fn senders_gone(&self) -> bool {
        self.shared.lock().senders == 0
    }

    /// The next item if there is one.
    pub(crate) fn try_recv(&mut self) -> Option<T> {
        let mut st = self.shared.lock();
        self.pop(&mut st)
    }

    /// [`close`](Self::close)s the queue if it holds nothing, under the
    /// same lock as the check: whether it did (then nothing more comes).
    pub(crate) fn close_if_empty(&mut self) -> bool {
        let st = self.shared.lock();
        if !st.items.is_empty() {
            return false;
        }
        self.close_locked(st);
        true
    }

    /// Refuses further sends (waiting ones err); the items queued stay for
    /// [`try_recv`](Self::try_recv).
    pub(crate) fn close(&mut self) {
        let st = self.shared.lock();
        self.close_locked(st);
    }

    /// [`close`](Self::close) with the lock held: released before the
    /// waiters are woken.
    fn close_locked(&self, mut st: MutexGuard<'_, State<T>>) {
        if !st.closed {
            st.closed = true;
            let from = st.driver_waker.take();
            drop(st);
            self.shared.room.notify_waiters();
            if let Some(waker) = from {
                waker.wake();
            }
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        // Free what nobody will receive now, outside the lock (an item may
        // hold a reply channel whose drop wakes a task).
        let items = self.shared.lock().items.take();
        drop(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;
    use std::pin::{pin, Pin};
    use std::task::{Context, Poll, Waker};

    #[test]
    fn fifo_frees_when_drained() {
        let mut f = Fifo::default();
        assert_eq!(f.capacity(), 0);
        f.push_back(1u64);
        assert!(f.capacity() > 0);
        assert_eq!(f.pop_front(), Some(1));
        assert_eq!(f.capacity(), 0, "a small buffer is freed when drained");
        // A steady flow of 100 keeps its buffer...
        for round in 0..3 {
            for i in 0..100 {
                f.push_back(i);
            }
            while f.pop_front().is_some() {}
            assert!(f.capacity() >= 100, "round {round}");
        }
        // ... until a busy period uses under a quarter of it.
        for i in 0..10 {
            f.push_back(i);
        }
        let order: Vec<_> = std::iter::from_fn(|| f.pop_front()).collect();
        assert_eq!(order, (0..10).collect::<Vec<_>>());
        assert_eq!(f.capacity(), 0);
    }

    #[tokio::test]
    async fn fifo_order_full_and_closed() {
        let (tx, mut rx) = bounded(2);
        tx.try_send(1).unwrap();
        tx.send(2).await.unwrap();
        assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
        assert_eq!(rx.recv().await, Some(1));
        tx.try_send(3).unwrap();
        assert_eq!(rx.try_recv(), Some(2));
        rx.close();
        assert!(tx.is_closed());
        assert!(matches!(tx.try_send(4), Err(TrySendError::Closed(4))));
        assert_eq!(tx.send(5).await, Err(5));
        // What was queued before the close stays receivable.
        assert_eq!(rx.try_recv(), Some(3));
        assert_eq!(rx.recv().await, None);
    }

    /// A queue holding an item stays open; an empty one closes, and then
    /// refuses what comes (a hibernating driver's command queue).
    #[tokio::test]
    async fn close_if_empty_only_closes_an_empty_queue() {
        let (tx, mut rx) = bounded(2);
        tx.try_send(1).unwrap();
        assert!(!rx.close_if_empty());
        assert!(!tx.is_closed());
        tx.try_send(2).unwrap();
        assert_eq!(rx.try_recv(), Some(1));
        assert_eq!(rx.try_recv(), Some(2));
        assert!(rx.close_if_empty());
        assert!(tx.is_closed());
        assert!(matches!(tx.try_send(3), Err(TrySendError::Closed(3))));
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn ends_when_every_sender_is_dropped() {
        let (tx, rx) = bounded(4);
        let tx2 = tx.clone();
        tx.send(1).await.unwrap();
        drop(tx);
        let waiter = tokio::spawn(async move { (rx.recv().await, rx.recv().await) });
        tokio::task::yield_now().await;
        drop(tx2);
        assert_eq!(waiter.await.unwrap(), (Some(1), None));
    }

    #[tokio::test]
    async fn dropping_the_receiver_fails_waiting_senders_and_frees_items() {
        let (tx, rx) = bounded(1);
        let item = Arc::new(());
        tx.send(item.clone()).await.unwrap();
        let tx2 = tx.clone();
        let blocked = tokio::spawn(async move { tx2.send(Arc::new(())).await.is_err() });
        // With nothing to move, `send_from` waits for the close.
        let closed = tokio::spawn(async move { tx.send_from(&mut Fifo::default()).await });
        tokio::task::yield_now().await;
        drop(rx);
        assert!(blocked.await.unwrap(), "a waiting send errs");
        assert!(!closed.await.unwrap());
        assert_eq!(Arc::strong_count(&item), 1, "the queued item was dropped");
    }

    /// Polls `fut` once.
    async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
        poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx))).await
    }

    /// Counts the wake-ups of a task.
    #[derive(Default)]
    struct Wakes(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// `aborted` waits for `abort` alone: items sent do not wake it, the
    /// abort does, ahead of the queued items, and it stays asked.
    #[test]
    fn aborted_is_woken_by_abort_not_by_items() {
        let (tx, mut rx) = bounded(4);
        let wakes: Arc<Wakes> = Arc::default();
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let count = || wakes.0.load(std::sync::atomic::Ordering::SeqCst);
        {
            let mut aborted = pin!(rx.aborted());
            assert!(aborted.as_mut().poll(&mut cx).is_pending());
            tx.try_send(1).unwrap();
            assert_eq!(count(), 0, "an item does not wake the wait");
            tx.clone().abort();
            assert_eq!(count(), 1, "the abort does");
            assert!(aborted.as_mut().poll(&mut cx).is_ready());
        }
        assert!(pin!(rx.aborted()).poll(&mut cx).is_ready(), "still asked");
        assert_eq!(rx.try_recv(), Some(1), "the items stay");
    }

    /// `send_from` waiting for room is woken by the first item taken;
    /// waiting with nothing to move, only by the close, not by items
    /// taken (which would wake the driver for every packet received).
    #[test]
    fn send_from_is_woken_by_room_or_the_close() {
        let (tx, mut rx) = bounded(1);
        tx.try_send(0).unwrap();
        let wakes: Arc<Wakes> = Arc::default();
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let count = || wakes.0.load(std::sync::atomic::Ordering::SeqCst);
        let mut pending = Fifo::default();
        pending.push_back(1);
        assert!(tx.poll_send_from(&mut cx, &mut pending).is_pending());
        assert_eq!(rx.try_recv(), Some(0));
        assert_eq!(count(), 1, "room wakes it");
        assert_eq!(rx.try_recv(), None);
        assert_eq!(count(), 1);
        assert!(tx.poll_send_from(&mut cx, &mut pending).is_ready());
        let mut empty = Fifo::default();
        assert!(tx.poll_send_from(&mut cx, &mut empty).is_pending());
        assert_eq!(rx.try_recv(), Some(1));
        assert_eq!(
            count(),
            1,
            "an item taken does not wake a wait for the close"
        );
        rx.close();
        assert_eq!(count(), 2, "the close wakes it");
        assert_eq!(tx.poll_send_from(&mut cx, &mut empty), Poll::Ready(false));
    }

    /// Each item taken wakes one waiting sender, the oldest first, not
    /// every waiter; a woken waiter dropped passes its turn on.
    #[test]
    fn an_item_taken_wakes_one_waiting_sender() {
        let (tx, mut rx) = bounded(1);
        tx.try_send(0).unwrap();
        let wakes: Vec<Arc<Wakes>> = (0..3).map(|_| Arc::default()).collect();
        let mut sends: Vec<_> = (1..=3).map(|i| Some(tx.send(i))).collect();
        let poll = |i: usize, sends: &mut Vec<Option<Send<'_, i32>>>| {
            let waker = Waker::from(wakes[i].clone());
            let send = sends[i].as_mut().unwrap();
            Pin::new(send).poll(&mut Context::from_waker(&waker))
        };
        for i in 0..3 {
            assert!(poll(i, &mut sends).is_pending());
        }
        let count = || {
            wakes
                .iter()
                .map(|w| w.0.load(std::sync::atomic::Ordering::SeqCst))
        };
        assert_eq!(rx.try_recv(), Some(0));
        assert_eq!(count().collect::<Vec<_>>(), [1, 0, 0]);
        assert!(matches!(poll(0, &mut sends), Poll::Ready(Ok(()))));
        assert_eq!(rx.try_recv(), Some(1));
        assert_eq!(count().collect::<Vec<_>>(), [1, 1, 0]);
        sends[1] = None;
        assert_eq!(count().collect::<Vec<_>>(), [1, 1, 1]);
        assert!(matches!(poll(2, &mut sends), Poll::Ready(Ok(()))));
        assert_eq!(rx.try_recv(), Some(3));
        assert_eq!(tx.shared.lock().send_waiters, 0);
    }

    #[tokio::test]
    async fn recv_is_cancel_safe() {
        let (tx, rx) = bounded(8);
        for i in 0..10u32 {
            {
                // Waiting, woken by the send, then dropped before it ran
                // again (another select branch won): it took nothing.
                let mut recv = pin!(rx.recv());
                assert!(poll_once(&mut recv).await.is_pending());
                tx.send(i).await.unwrap();
            }
            assert_eq!(rx.recv().await, Some(i));
        }
    }

    #[tokio::test]
    async fn send_is_cancel_safe() {
        let (tx, mut rx) = bounded(1);
        tx.send(0).await.unwrap();
        {
            // Full: a send dropped while it waits queues nothing.
            let mut send = pin!(tx.send(1));
            assert!(poll_once(&mut send).await.is_pending());
            assert_eq!(rx.try_recv(), Some(0));
        }
        assert_eq!(rx.try_recv(), None);
        tx.try_send(2).unwrap();
        assert_eq!(rx.recv().await, Some(2));
    }

    #[tokio::test]
    async fn send_from_moves_what_fits() {
        let (tx, mut rx) = bounded(3);
        let mut pending = Fifo::default();
        for i in 0..5 {
            pending.push_back(i);
        }
        assert!(tx.send_from(&mut pending).await);
        assert_eq!(pending.len(), 2);
        assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
        assert_eq!(rx.recv().await, Some(0));
        assert!(tx.send_from(&mut pending).await);
        assert_eq!(pending.len(), 1);
        let got: Vec<_> = std::iter::from_fn(|| rx.try_recv()).collect();
        assert_eq!(got, [1, 2, 3]);
        // A full queue: it waits for room, moving nothing meanwhile.
        for i in 10..13 {
            tx.try_send(i).unwrap();
        }
        {
            let mut waiting = pin!(tx.send_from(&mut pending));
            assert!(poll_once(&mut waiting).await.is_pending());
            assert_eq!(rx.try_recv(), Some(10));
            assert!(matches!(poll_once(&mut waiting).await, Poll::Ready(true)));
        }
        assert!(!tx.shared.lock().from_wants_room, "no longer waiting");
        assert!(pending.is_empty());
        let got: Vec<_> = std::iter::from_fn(|| rx.try_recv()).collect();
        assert_eq!(got, [11, 12, 4]);
        pending.push_back(5);
        drop(rx);
        assert!(!tx.send_from(&mut pending).await);
        assert_eq!(pending.len(), 1);
    }

    /// Senders on several threads contend for a small queue; the receiver
    /// gets every item, in each sender's order, and nobody hangs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn wakes_under_contention() {
        const SENDERS: u64 = 8;
        const EACH: u64 = 5_000;
        let (tx, rx) = bounded::<(u64, u64)>(4);
        let mut tasks = Vec::new();
        for s in 0..SENDERS {
            let tx = tx.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..EACH {
                    if i % 3 == 0 {
                        // try_send, then wait for room like forward does.
                        match tx.try_send((s, i)) {
                            Ok(()) => continue,
                            Err(TrySendError::Full(x)) => tx.send(x).await.unwrap(),
                            Err(TrySendError::Closed(_)) => panic!("closed"),
                        }
                    } else {
                        tx.send((s, i)).await.unwrap();
                    }
                }
            }));
        }
        drop(tx);
        let mut next = [0u64; SENDERS as usize];
        let mut total = 0;
        while let Some((s, i)) = rx.recv().await {
            assert_eq!(next[s as usize], i, "FIFO per sender");
            next[s as usize] += 1;
            total += 1;
            if total % 7 == 0 {
                tokio::task::yield_now().await;
            }
        }
        assert_eq!(total, SENDERS * EACH);
        for t in tasks {
            t.await.unwrap();
        }
    }
}
