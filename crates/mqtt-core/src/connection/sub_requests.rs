//! [`SubRequests`]: the SUBSCRIBE and UNSUBSCRIBE packets waiting for
//! their answer, both ways. Ours hold their packet identifier until the
//! SUBACK or UNSUBACK, or the end of the network connection (they are not
//! re-sent); the peer's are what a Server's SUBACK and UNSUBACK may answer
//! [MQTT-2.2.1-6], [MQTT-2.3.1-7].

use std::collections::{HashMap, HashSet};

use mqtt_codec::PacketId;

use crate::{ConnectionError, SendError};

/// The most SUBSCRIBE and UNSUBSCRIBE packets of the peer that may wait for
/// an answer: a bound on what a peer can make us store.
const MAX_RECEIVED: usize = 65_536;

/// Allocated when first needed: a connection waits for no answer most of
/// its life, and then holds 8 bytes instead of the tables' 96.
#[derive(Debug)]
pub(crate) struct SubRequests<P: PacketId>(Option<Box<Tables<P>>>);

#[derive(Debug, Default)]
struct Tables<P: PacketId> {
    /// The identifiers of our SUBSCRIBE and UNSUBSCRIBE packets.
    sent: HashSet<P>,
    /// Server: the peer's SUBSCRIBE (`false`) and UNSUBSCRIBE (`true`)
    /// identifiers on this network connection, with how many of each.
    received: HashMap<(bool, P), u32>,
}

impl<P: PacketId> Default for SubRequests<P> {
    fn default() -> Self {
        SubRequests(None)
    }
}

impl<P: PacketId> SubRequests<P> {
    fn tables(&mut self) -> &mut Tables<P> {
        self.0.get_or_insert_with(Default::default)
    }

    /// Frees the tables once nothing waits.
    fn shrink(&mut self) {
        if self
            .0
            .as_ref()
            .is_some_and(|t| t.sent.is_empty() && t.received.is_empty())
        {
            self.0 = None;
        }
    }

    /// Whether no SUBSCRIBE or UNSUBSCRIBE waits for its answer, either way.
    pub(crate) fn is_empty(&self) -> bool {
        self.0
            .as_ref()
            .is_none_or(|t| t.sent.is_empty() && t.received.is_empty())
    }

    /// Whether one of ours uses `id`.
    pub(crate) fn is_sent(&self, id: P) -> bool {
        self.0.as_ref().is_some_and(|t| t.sent.contains(&id))
    }

    /// The identifiers ours use.
    pub(crate) fn sent_ids(&self) -> impl Iterator<Item = P> + '_ {
        self.0.iter().flat_map(|t| t.sent.iter().copied())
    }

    /// One of ours was sent with `id`.
    pub(crate) fn sent(&mut self, id: P) {
        self.tables().sent.insert(id);
    }

    /// `id` is ours no more (its answer came, or the application released
    /// it); whether it was.
    pub(crate) fn answered(&mut self, id: P) -> bool {
        let Some(t) = &mut self.0 else {
            return false;
        };
        let was = t.sent.remove(&id);
        self.shrink();
        was
    }

    /// The network connection closed: ours will never be answered. Their
    /// identifiers, in order.
    pub(crate) fn take_sent(&mut self) -> Vec<P> {
        let Some(t) = &mut self.0 else {
            return Vec::new();
        };
        let mut ids: Vec<P> = t.sent.drain().collect();
        ids.sort_unstable();
        self.shrink();
        ids
    }

    /// The peer's SUBSCRIBE (`unsubscribe` false) or UNSUBSCRIBE `id`, to be
    /// answered. Errs when [`MAX_RECEIVED`] wait already.
    pub(crate) fn received(&mut self, unsubscribe: bool, id: P) -> Result<(), ConnectionError> {
        let t = self.tables();
        let waiting = t.received.len();
        match t.received.get_mut(&(unsubscribe, id)) {
            Some(n) => *n = n.saturating_add(1),
            None if waiting >= MAX_RECEIVED => {
                return Err(ConnectionError::QuotaExceeded(
                    "too many SUBSCRIBE and UNSUBSCRIBE packets wait for an answer",
                ))
            }
            None => {
                t.received.insert((unsubscribe, id), 1);
            }
        }
        Ok(())
    }

    /// A SUBACK (`unsubscribe` false) or UNSUBACK for `id`: it must answer
    /// a request of the peer not answered yet [MQTT-2.2.1-6] (v5.0),
    /// [MQTT-2.3.1-7] (v3.1.1).
    pub(crate) fn answer(&mut self, unsubscribe: bool, id: P) -> Result<(), SendError> {
        let key = (unsubscribe, id);
        let count = self.0.as_ref().and_then(|t| t.received.get(&key).copied());
        match (count, &mut self.0) {
            (Some(n), Some(t)) if n > 1 => {
                t.received.insert(key, n - 1);
            }
            (Some(_), Some(t)) => {
                t.received.remove(&key);
                self.shrink();
            }
            _ => {
                return Err(SendError::Forbidden(
                    "a SUBACK or UNSUBACK carries the Packet Identifier of a SUBSCRIBE or UNSUBSCRIBE received and not answered yet [MQTT-2.2.1-6], [MQTT-2.3.1-7]",
                ))
            }
        }
        Ok(())
    }

    /// A new network connection: the peer's requests of the last one are
    /// answered on it no more.
    pub(crate) fn forget_received(&mut self) {
        if let Some(t) = &mut self.0 {
            t.received.clear();
        }
        self.shrink();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ours: sent, found, listed, answered once; the tables go once
    /// nothing waits.
    #[test]
    fn ours_until_answered() {
        let mut r = SubRequests::<u16>::default();
        assert!(!r.is_sent(3));
        r.sent(3);
        r.sent(1);
        assert!(r.is_sent(3));
        let mut ids: Vec<u16> = r.sent_ids().collect();
        ids.sort_unstable();
        assert_eq!(ids, [1, 3]);
        assert!(r.answered(3));
        assert!(!r.answered(3), "answered once");
        assert!(r.0.is_some(), "1 still waits");
        assert!(r.answered(1));
        assert!(r.0.is_none(), "freed once empty");
        assert_eq!(r.sent_ids().count(), 0);
    }

    /// The close hands back ours in order and frees the tables.
    #[test]
    fn take_sent_in_order() {
        let mut r = SubRequests::<u16>::default();
        assert_eq!(r.take_sent(), Vec::<u16>::new());
        for id in [9, 2, 5] {
            r.sent(id);
        }
        assert_eq!(r.take_sent(), [2, 5, 9]);
        assert!(r.0.is_none());
    }

    /// [MQTT-2.2.1-6], [MQTT-2.3.1-7]: each SUBACK / UNSUBACK answers one
    /// request of its kind received with its identifier and not answered
    /// yet; a (misbehaving) peer's identifier used twice is answered twice.
    #[test]
    fn answers_count_the_requests() {
        let mut r = SubRequests::<u16>::default();
        r.received(false, 7).unwrap();
        r.received(false, 7).unwrap();
        r.received(true, 7).unwrap();
        assert!(r.answer(false, 7).is_ok());
        assert!(r.answer(false, 7).is_ok());
        assert!(r.answer(false, 7).is_err(), "only two SUBSCRIBEs came");
        assert!(r.answer(true, 7).is_ok());
        assert!(r.answer(true, 7).is_err());
        assert!(r.0.is_none());
    }

    /// A new network connection: the last one's requests are not answered.
    #[test]
    fn forget_received() {
        let mut r = SubRequests::<u16>::default();
        r.received(false, 4).unwrap();
        r.sent(8);
        r.forget_received();
        assert!(r.answer(false, 4).is_err());
        assert!(r.is_sent(8), "ours stay");
        assert!(r.answered(8));
        assert!(r.0.is_none());
    }
}
