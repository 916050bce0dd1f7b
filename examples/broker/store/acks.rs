//! Acknowledgements that wait for the commit (`--durability message`),
//! without holding up the connection: a connection's task routes each
//! PUBLISH as it comes and queues its PUBACK or PUBREC here; they go out
//! in the order the PUBLISH packets came [MQTT-4.6.0-2], [MQTT-4.6.0-3],
//! as soon as the commit holding what each one changed is done. So one
//! commit takes the messages in flight of every connection (group
//! commit), not one per connection.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use mqtt_tokio::ServerEndpoint;
use tokio::sync::watch;

use super::super::state::Shared;

/// What the writer has committed: the count of changes, and whether a
/// commit failed (then nothing more counts as committed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Committed {
    /// Changes committed, in the order handed in.
    pub count: u64,
    /// A commit failed.
    pub broken: bool,
}

/// One connection's acknowledgements waiting for a commit. Empty (one
/// pointer, no allocation) without a store or with periodic durability.
#[derive(Debug, Default)]
pub struct PendingAcks(Option<Box<Inner>>);

struct Inner {
    /// Packet identifiers, each with the count of changes that must be
    /// committed before it is acknowledged; in order.
    queue: VecDeque<(u16, u64)>,
    commits: watch::Receiver<Committed>,
    /// The wait for the next commit while acknowledgements wait (boxed
    /// here, not held in every connection's future): `true` once it
    /// came, `false` if the writer is gone.
    wait: Option<Pin<Box<dyn Future<Output = bool> + Send>>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("queue", &self.queue)
            .field("commits", &self.commits)
            .field("waiting", &self.wait.is_some())
            .finish()
    }
}

impl PendingAcks {
    /// For a connection of the broker of `shared`; call when it starts.
    pub fn new(shared: &Shared) -> PendingAcks {
        let store = shared.store.as_ref().filter(|s| s.per_message());
        PendingAcks(store.map(|s| {
            Box::new(Inner {
                queue: VecDeque::new(),
                commits: s.commits(),
                wait: None,
            })
        }))
    }

    /// Call once the QoS 1 or 2 PUBLISH `id` was routed: `true` when it
    /// may be acknowledged now (no store, or what it changed is committed
    /// and no earlier one waits); else it waits here.
    pub fn ack_now(&mut self, shared: &Shared, id: u16) -> bool {
        let (Some(inner), Some(store)) = (&mut self.0, &shared.store) else {
            return true;
        };
        let target = store.sent();
        let done = inner.commits.borrow().count >= target;
        if done && inner.queue.is_empty() {
            return true;
        }
        inner.queue.push_back((id, target));
        false
    }

    /// Whether `limit` or more acknowledgements wait: then the connection
    /// takes no more packets until a commit (TCP holds its client; a v3.1.1
    /// client, which no Receive Maximum holds, included).
    pub fn holds(&self, limit: usize) -> bool {
        self.0.as_ref().is_some_and(|i| i.queue.len() >= limit)
    }

    /// Ready once a commit came while acknowledgements wait (then call
    /// [`send_committed`](Self::send_committed)); pending otherwise, and
    /// for good if the writer is gone (nothing will be committed).
    pub fn poll_committed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(inner) = self.0.as_deref_mut().filter(|i| !i.queue.is_empty()) else {
            return Poll::Pending;
        };
        let commits = &inner.commits;
        let wait = inner.wait.get_or_insert_with(|| {
            // A clone sees the commits after the last one taken.
            let mut commits = commits.clone();
            Box::pin(async move { commits.changed().await.is_ok() })
        });
        match wait.as_mut().poll(cx) {
            Poll::Ready(true) => {
                inner.wait = None;
                Poll::Ready(())
            }
            Poll::Ready(false) => {
                inner.wait = Some(Box::pin(std::future::pending()));
                Poll::Pending
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Sends, in order, the acknowledgements whose changes are committed
    /// now. A failed commit aborts the connection instead (unacknowledged,
    /// the client sends them again to a broker restarted).
    pub async fn send_committed(&mut self, endpoint: &ServerEndpoint) {
        let Some(inner) = &mut self.0 else {
            return;
        };
        let committed = *inner.commits.borrow_and_update();
        if committed.broken {
            inner.queue.clear();
            endpoint.abort();
            return;
        }
        while let Some(&(id, target)) = inner.queue.front() {
            if target > committed.count {
                break;
            }
            inner.queue.pop_front();
            if endpoint.acknowledge(id).await.is_err() {
                // Closed: the session keeps the flow.
                inner.queue.clear();
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_counts_the_acknowledgements_waiting() {
        let (_tx, commits) = watch::channel(Committed::default());
        let inner = Inner {
            queue: VecDeque::new(),
            commits,
            wait: None,
        };
        let mut acks = PendingAcks(Some(Box::new(inner)));
        assert!(!acks.holds(2));
        acks.0.as_mut().unwrap().queue.extend([(1, 1), (2, 1)]);
        assert!(acks.holds(2) && !acks.holds(3));
        assert!(!PendingAcks::default().holds(1), "no store: nothing waits");
    }
}
