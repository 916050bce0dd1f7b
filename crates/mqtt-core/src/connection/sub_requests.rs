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

#[derive(Debug, Default)]
pub(crate) struct SubRequests<P: PacketId> {
    /// The identifiers of our SUBSCRIBE and UNSUBSCRIBE packets.
    sent: HashSet<P>,
    /// Server: the peer's SUBSCRIBE (`false`) and UNSUBSCRIBE (`true`)
    /// identifiers on this network connection, with how many of each.
    received: HashMap<(bool, P), u32>,
}

impl<P: PacketId> SubRequests<P> {
    /// Whether one of ours uses `id`.
    pub(crate) fn is_sent(&self, id: P) -> bool {
        self.sent.contains(&id)
    }

    /// The identifiers ours use.
    pub(crate) fn sent_ids(&self) -> impl Iterator<Item = P> + '_ {
        self.sent.iter().copied()
    }

    /// One of ours was sent with `id`.
    pub(crate) fn sent(&mut self, id: P) {
        self.sent.insert(id);
    }

    /// `id` is ours no more (its answer came, or the application released
    /// it); whether it was.
    pub(crate) fn answered(&mut self, id: P) -> bool {
        self.sent.remove(&id)
    }

    /// The network connection closed: ours will never be answered. Their
    /// identifiers, in order.
    pub(crate) fn take_sent(&mut self) -> Vec<P> {
        let mut ids: Vec<P> = self.sent.drain().collect();
        ids.sort_unstable();
        ids
    }

    /// The peer's SUBSCRIBE (`unsubscribe` false) or UNSUBSCRIBE `id`, to be
    /// answered. Errs when [`MAX_RECEIVED`] wait already.
    pub(crate) fn received(&mut self, unsubscribe: bool, id: P) -> Result<(), ConnectionError> {
        let waiting = self.received.len();
        match self.received.get_mut(&(unsubscribe, id)) {
            Some(n) => *n = n.saturating_add(1),
            None if waiting >= MAX_RECEIVED => {
                return Err(ConnectionError::QuotaExceeded(
                    "too many SUBSCRIBE and UNSUBSCRIBE packets wait for an answer",
                ))
            }
            None => {
                self.received.insert((unsubscribe, id), 1);
            }
        }
        Ok(())
    }

    /// A SUBACK (`unsubscribe` false) or UNSUBACK for `id`: it must answer
    /// a request of the peer not answered yet [MQTT-2.2.1-6] (v5.0),
    /// [MQTT-2.3.1-7] (v3.1.1).
    pub(crate) fn answer(&mut self, unsubscribe: bool, id: P) -> Result<(), SendError> {
        let key = (unsubscribe, id);
        match self.received.get_mut(&key) {
            Some(n) if *n > 1 => *n -= 1,
            Some(_) => {
                self.received.remove(&key);
            }
            None => {
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
        self.received.clear();
    }
}
