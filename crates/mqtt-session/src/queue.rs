//! The pending queue: messages asked for while there is no network
//! connection, or while the send quota is used up, sent in order later.

// A refused message is handed back by value, without a box to allocate.
#![allow(clippy::result_large_err)]

use std::collections::VecDeque;

use mqtt_codec::{Message, PacketId};

use crate::MonotonicTime;

/// The default bound on the number of queued messages.
pub const DEFAULT_QUEUE_MAX_MESSAGES: usize = 10_000;
/// The default bound on the bytes of queued messages (their encoded size).
pub const DEFAULT_QUEUE_MAX_BYTES: usize = 16 << 20;

/// A queued message, with the packet identifier it was numbered with when
/// the session took it (QoS > 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending<P: PacketId> {
    pub(crate) message: Message,
    pub(crate) id: Option<P>,
    /// When its Message Expiry Interval ends (§3.3.2.3.3).
    pub(crate) deadline: Option<MonotonicTime>,
    /// The bytes of the PUBLISH that will carry it.
    size: usize,
}

impl<P: PacketId> Pending<P> {
    /// A message of `version` (whose PUBLISH size it is counted by).
    pub(crate) fn new(
        message: Message,
        id: Option<P>,
        version: mqtt_codec::ProtocolVersion,
        deadline: Option<MonotonicTime>,
    ) -> Self {
        let size = message.packet_len::<P>(version);
        Pending {
            message,
            id,
            deadline,
            size,
        }
    }

    pub(crate) fn is_expired(&self, now: MonotonicTime) -> bool {
        self.deadline.is_some_and(|d| d <= now)
    }
}

/// A FIFO bounded by a count and a number of bytes, given by its session's
/// [`SessionConfig`](crate::SessionConfig) at each push. Its items are
/// allocated with the first one (the session of an idle connection holds a
/// null pointer) and freed by [`clear`](Queue::clear).
#[derive(Debug, Clone)]
pub(crate) struct Queue<P: PacketId> {
    items: Option<Box<Items<P>>>,
}

/// The most messages and bytes (encoded PUBLISH sizes) a queue holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) messages: usize,
    pub(crate) bytes: usize,
}

impl Limits {
    /// No limit: for a session restored as exported.
    pub(crate) const NONE: Limits = Limits {
        messages: usize::MAX,
        bytes: usize::MAX,
    };
}

/// The queued messages and their bytes.
#[derive(Debug, Clone, Default)]
struct Items<P: PacketId> {
    deque: VecDeque<Pending<P>>,
    bytes: usize,
}

/// The same messages (allocated or not).
impl<P: PacketId> PartialEq for Queue<P> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<P: PacketId> Eq for Queue<P> {}

impl<P: PacketId> Queue<P> {
    pub(crate) fn new() -> Self {
        Queue { items: None }
    }

    pub(crate) fn len(&self) -> usize {
        self.items.as_ref().map_or(0, |i| i.deque.len())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn bytes(&self) -> usize {
        self.items.as_ref().map_or(0, |i| i.bytes)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Pending<P>> + '_ {
        self.items.iter().flat_map(|i| i.deque.iter())
    }

    fn fits(&self, size: usize, limits: Limits) -> bool {
        self.len() < limits.messages && self.bytes().saturating_add(size) <= limits.bytes
    }

    /// Appends `item` (allocating the items with the first).
    fn push_back(&mut self, item: Pending<P>) {
        let items = self.items.get_or_insert_with(Default::default);
        items.bytes += item.size;
        items.deque.push_back(item);
    }

    /// Appends `item` if it fits once expired messages are dropped; hands it
    /// back otherwise, changing nothing (the expired messages stay until
    /// they are popped or make room).
    pub(crate) fn try_push(
        &mut self,
        item: Pending<P>,
        limits: Limits,
        now: MonotonicTime,
        dropped: &mut Vec<P>,
    ) -> Result<(), Pending<P>> {
        if !self.fits(item.size, limits) {
            let (count, bytes) = self
                .iter()
                .filter(|old| old.is_expired(now))
                .fold((0, 0), |(n, b), old| (n + 1, b + old.size));
            let room = self.len() - count < limits.messages
                && (self.bytes() - bytes).saturating_add(item.size) <= limits.bytes;
            if !room {
                return Err(item);
            }
            self.drop_expired(now, dropped);
        }
        self.push_back(item);
        Ok(())
    }

    /// Appends `item`, dropping expired messages, then the oldest, until it
    /// fits; returns the messages dropped that had not expired, with their
    /// identifiers. Hands `item` back if it cannot fit even in an empty
    /// queue.
    pub(crate) fn push_evicting(
        &mut self,
        item: Pending<P>,
        limits: Limits,
        now: MonotonicTime,
        dropped: &mut Vec<P>,
    ) -> Result<Vec<(Message, Option<P>)>, Pending<P>> {
        // Not even alone in the queue.
        if limits.messages == 0 || item.size > limits.bytes {
            return Err(item);
        }
        let mut evicted = Vec::new();
        if !self.fits(item.size, limits) {
            self.drop_expired(now, dropped);
        }
        while !self.fits(item.size, limits) {
            match self.pop_front() {
                Some(old) => evicted.push((old.message, old.id)),
                None => break,
            }
        }
        self.push_back(item);
        Ok(evicted)
    }

    pub(crate) fn front(&self) -> Option<&Pending<P>> {
        self.items.as_ref()?.deque.front()
    }

    pub(crate) fn pop_front(&mut self) -> Option<Pending<P>> {
        let items = self.items.as_deref_mut()?;
        let item = items.deque.pop_front()?;
        items.bytes -= item.size;
        Some(item)
    }

    /// Drops every message whose Message Expiry Interval has passed
    /// [MQTT-3.3.2-5], adding their identifiers to `dropped`; returns how
    /// many.
    pub(crate) fn drop_expired(&mut self, now: MonotonicTime, dropped: &mut Vec<P>) -> usize {
        let Some(items) = self.items.as_deref_mut() else {
            return 0;
        };
        let before = items.deque.len();
        let mut freed = 0;
        items.deque.retain(|item| {
            let keep = !item.is_expired(now);
            if !keep {
                freed += item.size;
                dropped.extend(item.id);
            }
            keep
        });
        items.bytes -= freed;
        before - items.deque.len()
    }

    /// The identifiers the queued messages were numbered with.
    pub(crate) fn ids(&self) -> impl Iterator<Item = P> + '_ {
        self.iter().filter_map(|item| item.id)
    }

    /// Whether a queued message holds `id`.
    pub(crate) fn holds(&self, id: P) -> bool {
        self.iter().any(|item| item.id == Some(id))
    }

    /// Empties the queue and frees its items.
    pub(crate) fn clear(&mut self) {
        self.items = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_codec::{ProtocolVersion, TopicName};

    fn msg(payload: &'static [u8]) -> Pending<u16> {
        let m = Message::new(TopicName::from_static("t").unwrap(), payload).unwrap();
        Pending::new(m, None, ProtocolVersion::V3_1_1, None)
    }

    fn at(ms: u64) -> MonotonicTime {
        MonotonicTime::from_millis(ms)
    }

    #[test]
    fn bounded_by_count() {
        let mut q = Queue::new();
        let limits = Limits {
            messages: 2,
            bytes: 1 << 20,
        };
        let mut dropped = Vec::new();
        q.try_push(msg(b"1"), limits, at(0), &mut dropped).unwrap();
        q.try_push(msg(b"2"), limits, at(0), &mut dropped).unwrap();
        assert!(q.try_push(msg(b"3"), limits, at(0), &mut dropped).is_err());
        let evicted = q
            .push_evicting(msg(b"3"), limits, at(0), &mut dropped)
            .unwrap();
        assert_eq!(evicted.len(), 1);
        assert_eq!(evicted[0].0.payload(), b"1");
        let order: Vec<_> = q.iter().map(|p| p.message.payload_bytes()).collect();
        assert_eq!(order, [&b"2"[..], &b"3"[..]]);
    }

    #[test]
    fn bounded_by_bytes() {
        // Each message is 2 + 3 + 1 = 6 bytes.
        let mut q = Queue::new();
        let limits = Limits {
            messages: 100,
            bytes: 12,
        };
        let mut dropped = Vec::new();
        q.try_push(msg(b"1"), limits, at(0), &mut dropped).unwrap();
        q.try_push(msg(b"2"), limits, at(0), &mut dropped).unwrap();
        assert_eq!(q.bytes(), 12);
        assert!(q.try_push(msg(b"3"), limits, at(0), &mut dropped).is_err());
        assert!(q
            .push_evicting(msg(b"far too long"), limits, at(0), &mut dropped)
            .is_err());
        assert_eq!(q.pop_front().map(|p| p.size), Some(6));
        assert_eq!(q.bytes(), 6);
    }

    /// [MQTT-3.3.2-5] expired messages make room before anything else.
    #[test]
    fn expired_messages_go_first() {
        let mut q = Queue::new();
        let limits = Limits {
            messages: 2,
            bytes: 1 << 20,
        };
        let mut dropped = Vec::new();
        let mut expiring = msg(b"1");
        expiring.deadline = Some(at(1_000));
        expiring.id = Some(7);
        q.try_push(expiring, limits, at(0), &mut dropped).unwrap();
        q.try_push(msg(b"2"), limits, at(0), &mut dropped).unwrap();
        assert!(q
            .try_push(msg(b"3"), limits, at(999), &mut dropped)
            .is_err());
        assert!(dropped.is_empty());
        q.try_push(msg(b"3"), limits, at(1_000), &mut dropped)
            .unwrap();
        assert_eq!(dropped, [7], "the identifier of the expired message");
        assert_eq!(q.len(), 2);
        assert_eq!(q.drop_expired(at(5_000), &mut dropped), 0);
    }
}
