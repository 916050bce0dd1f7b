//! The in-flight store: the QoS 1 and QoS 2 flows we started and the peer
//! has not completed, in the order their PUBLISH was first sent.

use core::num::NonZeroU16;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use mqtt_codec::wire::PacketType;
use mqtt_codec::{Message, PacketId, ProtocolVersion, QoS};

use crate::message::{Outgoing, Publish, Pubrel};
use crate::{MonotonicTime, SessionError};

/// What an outgoing flow waits for (§4.3.2, §4.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowState {
    /// A QoS 1 PUBLISH was sent; its PUBACK ends the flow [MQTT-4.3.2-3].
    AwaitingPuback,
    /// A QoS 2 PUBLISH was sent; its PUBREC is next [MQTT-4.3.3-3].
    AwaitingPubrec,
    /// The PUBREL was sent; its PUBCOMP ends the flow [MQTT-4.3.3-5].
    AwaitingPubcomp,
}

/// The packet a flow keeps to re-send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Held<P: PacketId> {
    /// The message of the PUBLISH first sent (the flow keeps its
    /// identifier), and when its Message Expiry Interval ends.
    Publish {
        message: Message,
        deadline: Option<MonotonicTime>,
    },
    /// The PUBREL that replaced the PUBLISH [MQTT-4.3.3-6].
    Pubrel(Pubrel<P>),
}

impl<P: PacketId> Held<P> {
    /// A QoS 2 flow: its PUBLISH or, after the PUBREC, its PUBREL.
    fn is_qos2(&self) -> bool {
        match self {
            Held::Publish { message, .. } => message.qos() == QoS::ExactlyOnce,
            Held::Pubrel(_) => true,
        }
    }

    pub(crate) fn state(&self) -> FlowState {
        match self {
            Held::Publish { message, .. } if message.qos() == QoS::AtLeastOnce => {
                FlowState::AwaitingPuback
            }
            Held::Publish { .. } => FlowState::AwaitingPubrec,
            Held::Pubrel(_) => FlowState::AwaitingPubcomp,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry<P: PacketId> {
    id: P,
    held: Held<P>,
    /// Whether the flow counts against the send quota of this connection: a
    /// PUBLISH sent on it, or a PUBREL (see [`InFlight::on_reconnect`]).
    counted: bool,
}

/// Hashes a packet identifier by one multiplication: identifiers are small
/// integers the session chooses, not attacker-chosen keys, and mostly come
/// from the session's own pool.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IdMap<P> = HashMap<P, u64, BuildHasherDefault<IdHasher>>;

/// The flows in the order their PUBLISH was first sent: the order of the
/// re-sends after a reconnection [MQTT-4.6.0-1]. A PUBREL takes the place of
/// its PUBLISH.
///
/// Slots are numbered by a sequence number; an ended flow leaves an empty
/// slot that is dropped from the front, or compacted away once empty slots
/// outnumber the flows, so that insertion and removal are O(1) amortized and
/// allocate nothing in the steady state.
#[derive(Debug, Clone, Default)]
struct Flows<P: PacketId> {
    slots: VecDeque<Option<Entry<P>>>,
    /// Sequence number of `slots[0]`.
    head: u64,
    index: IdMap<P>,
    /// Flows that count against the send quota.
    counted: u32,
    /// Those of them at QoS 2.
    counted_qos2: u32,
    /// PUBLISH flows not re-sent yet on this connection.
    held_back: u32,
    /// No PUBLISH before this sequence number waits to be re-sent.
    resend_from: u64,
}

/// The in-flight store: its [`Flows`], allocated with the first one (the
/// session of an idle connection holds a null pointer), and the QoS 2
/// maximum.
#[derive(Debug, Clone, Default)]
pub(crate) struct InFlight<P: PacketId> {
    flows: Option<Box<Flows<P>>>,
    /// The most QoS 2 flows that may count (see
    /// [`Session::set_qos2_send_maximum`](crate::Session::set_qos2_send_maximum)).
    qos2_maximum: Option<NonZeroU16>,
}

impl<P: PacketId> InFlight<P> {
    pub(crate) fn len(&self) -> usize {
        self.flows.as_ref().map_or(0, |f| f.len())
    }

    pub(crate) fn contains(&self, id: P) -> bool {
        self.flows.as_ref().is_some_and(|f| f.contains(id))
    }

    /// Flows that count against the send quota.
    pub(crate) fn counted(&self) -> usize {
        self.flows.as_ref().map_or(0, |f| f.counted())
    }

    /// PUBLISH flows that wait to be re-sent on this connection.
    pub(crate) fn held_back(&self) -> usize {
        self.flows.as_ref().map_or(0, |f| f.held_back())
    }

    /// Sets the most QoS 2 flows that may count (`None`: no limit of ours).
    pub(crate) fn set_qos2_maximum(&mut self, max: Option<NonZeroU16>) {
        self.qos2_maximum = max;
    }

    /// Whether one more flow fits in the send quota `quota` (and, at QoS 2
    /// if `qos2`, in the QoS 2 maximum).
    pub(crate) fn admits(&self, quota: usize, qos2: bool) -> bool {
        match &self.flows {
            Some(f) => f.admits(quota, self.qos2_maximum, qos2),
            None => quota > 0,
        }
    }

    pub(crate) fn state(&self, id: P) -> Option<FlowState> {
        self.flows.as_ref()?.state(id)
    }

    /// The flows in order, with what they hold.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (P, &Held<P>)> + '_ {
        self.flows.iter().flat_map(|f| f.iter())
    }

    /// Adds a flow (see [`Flows::push`]), allocating the store with the
    /// first.
    pub(crate) fn push(&mut self, id: P, held: Held<P>, counted: bool) {
        let flows = self.flows.get_or_insert_with(Default::default);
        flows.push(id, held, counted);
    }

    /// The flows, or the error for an acknowledgement of `id` without any.
    fn flows_for(&mut self, id: P) -> Result<&mut Flows<P>, SessionError> {
        let not_found = SessionError::PacketIdNotFound(id.to_u32());
        self.flows.as_deref_mut().ok_or(not_found)
    }

    /// See [`Flows::on_puback`].
    pub(crate) fn on_puback(&mut self, id: P) -> Result<Message, SessionError> {
        self.flows_for(id)?.on_puback(id)
    }

    /// See [`Flows::on_pubrec`].
    pub(crate) fn on_pubrec(
        &mut self,
        id: P,
        failure: bool,
        version: ProtocolVersion,
    ) -> Result<PubrecOutcome<P>, SessionError> {
        self.flows_for(id)?.on_pubrec(id, failure, version)
    }

    /// See [`Flows::on_pubcomp`].
    pub(crate) fn on_pubcomp(&mut self, id: P) -> Result<(), SessionError> {
        self.flows_for(id)?.on_pubcomp(id)
    }

    /// See [`Flows::on_reconnect`].
    pub(crate) fn on_reconnect(&mut self) {
        if let Some(f) = &mut self.flows {
            f.on_reconnect();
        }
    }

    /// See [`Flows::resend`].
    pub(crate) fn resend(
        &mut self,
        quota: usize,
        version: ProtocolVersion,
        now: MonotonicTime,
    ) -> Vec<Outgoing<P>> {
        let qos2_max = self.qos2_maximum;
        match &mut self.flows {
            Some(f) => f.resend(quota, qos2_max, version, now),
            None => Vec::new(),
        }
    }

    /// See [`Flows::next_resend`].
    pub(crate) fn next_resend(
        &mut self,
        quota: usize,
        version: ProtocolVersion,
        now: MonotonicTime,
    ) -> Option<Publish<P>> {
        let qos2_max = self.qos2_maximum;
        self.flows
            .as_mut()?
            .next_resend(quota, qos2_max, version, now)
    }

    /// Ends every flow, as when the session is not present, and frees the
    /// store.
    pub(crate) fn clear(&mut self) {
        self.flows = None;
    }
}

impl<P: PacketId> Flows<P> {
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    pub(crate) fn contains(&self, id: P) -> bool {
        self.index.contains_key(&id)
    }

    /// Flows that count against the send quota.
    pub(crate) fn counted(&self) -> usize {
        self.counted as usize
    }

    /// Whether one more flow fits in the send quota `quota` and, if it is
    /// a QoS 2 one (`qos2`), under `qos2_max`.
    fn admits(&self, quota: usize, qos2_max: Option<NonZeroU16>, qos2: bool) -> bool {
        let qos2_room = match qos2_max {
            Some(max) if qos2 => self.counted_qos2 < u32::from(max.get()),
            _ => true,
        };
        (self.counted as usize) < quota && qos2_room
    }

    /// Counts a flow, a QoS 2 one if `qos2`, against the send quota.
    fn count(&mut self, qos2: bool) {
        self.counted += 1;
        self.counted_qos2 += u32::from(qos2);
    }

    /// PUBLISH flows that wait to be re-sent on this connection.
    pub(crate) fn held_back(&self) -> usize {
        self.held_back as usize
    }

    pub(crate) fn state(&self, id: P) -> Option<FlowState> {
        self.entry(id).map(|e| e.held.state())
    }

    fn entry(&self, id: P) -> Option<&Entry<P>> {
        let seq = *self.index.get(&id)?;
        self.slots.get((seq - self.head) as usize)?.as_ref()
    }

    /// The flows in order, with what they hold.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (P, &Held<P>)> + '_ {
        self.slots.iter().flatten().map(|e| (e.id, &e.held))
    }

    /// Adds the flow of a PUBLISH just sent on this connection (QoS > 0, its
    /// identifier not in the store), or, with `counted` false, a restored one.
    pub(crate) fn push(&mut self, id: P, held: Held<P>, counted: bool) {
        debug_assert!(!self.index.contains_key(&id));
        let seq = self.head + self.slots.len() as u64;
        self.index.insert(id, seq);
        if counted {
            self.count(held.is_qos2());
        } else if matches!(held, Held::Publish { .. }) {
            self.held_back += 1;
        }
        self.slots.push_back(Some(Entry { id, held, counted }));
    }

    /// Checks that `id` has a flow in state `expected`; `ack` names the
    /// packet received, for the error.
    fn check(&self, id: P, ack: PacketType, expected: FlowState) -> Result<u64, SessionError> {
        let seq = *self
            .index
            .get(&id)
            .ok_or(SessionError::PacketIdNotFound(id.to_u32()))?;
        let state = self
            .state(id)
            .ok_or(SessionError::PacketIdNotFound(id.to_u32()))?;
        if state != expected {
            return Err(SessionError::UnexpectedAck {
                packet_type: ack,
                packet_id: id.to_u32(),
                state,
            });
        }
        Ok(seq)
    }

    /// Ends the flow in slot `seq` and returns what it held.
    fn remove(&mut self, seq: u64) -> Option<Held<P>> {
        let entry = self.slots.get_mut((seq - self.head) as usize)?.take()?;
        self.index.remove(&entry.id);
        if entry.counted {
            self.counted -= 1;
            self.counted_qos2 -= u32::from(entry.held.is_qos2());
        } else if matches!(entry.held, Held::Publish { .. }) {
            self.held_back -= 1;
        }
        while matches!(self.slots.front(), Some(None)) {
            self.slots.pop_front();
            self.head += 1;
        }
        if self.slots.len() > 2 * self.index.len() + 64 {
            self.compact();
        }
        Some(entry.held)
    }

    /// Drops the empty slots and renumbers the rest, keeping the order.
    fn compact(&mut self) {
        self.slots.retain(Option::is_some);
        self.index.clear();
        let mut resend_from = None;
        for (i, e) in self.slots.iter().flatten().enumerate() {
            let seq = self.head + i as u64;
            self.index.insert(e.id, seq);
            if resend_from.is_none() && !e.counted && matches!(e.held, Held::Publish { .. }) {
                resend_from = Some(seq);
            }
        }
        self.resend_from = resend_from.unwrap_or(self.head + self.slots.len() as u64);
    }

    /// A PUBACK arrived: ends a QoS 1 flow [MQTT-4.3.2-3] and returns its
    /// message. Errs, changing nothing, on an unknown identifier or another
    /// flow state.
    pub(crate) fn on_puback(&mut self, id: P) -> Result<Message, SessionError> {
        let seq = self.check(id, PacketType::Puback, FlowState::AwaitingPuback)?;
        match self.remove(seq) {
            Some(Held::Publish { message, .. }) => Ok(message),
            _ => Err(SessionError::PacketIdNotFound(id.to_u32())),
        }
    }

    /// A PUBREC arrived. Success: the PUBREL takes the place of the PUBLISH
    /// [MQTT-4.3.3-4], [MQTT-4.3.3-6] and is returned to send. Failure (a v5.0
    /// Reason Code of 0x80 or more): the flow ends [MQTT-4.4.0-2] and `None`
    /// is returned. A PUBREC of a flow already waiting for its PUBCOMP returns
    /// the PUBREL again.
    pub(crate) fn on_pubrec(
        &mut self,
        id: P,
        failure: bool,
        version: ProtocolVersion,
    ) -> Result<PubrecOutcome<P>, SessionError> {
        if self.state(id) == Some(FlowState::AwaitingPubcomp) && !failure {
            if let Some(Entry {
                held: Held::Pubrel(pubrel),
                ..
            }) = self.entry(id)
            {
                return Ok(PubrecOutcome::Release(pubrel.clone()));
            }
        }
        let seq = self.check(id, PacketType::Pubrec, FlowState::AwaitingPubrec)?;
        if failure {
            return match self.remove(seq) {
                Some(Held::Publish { message, .. }) => Ok(PubrecOutcome::Failed(message)),
                _ => Err(SessionError::PacketIdNotFound(id.to_u32())),
            };
        }
        let pubrel = Pubrel::new(version, id);
        let slot = self.slots.get_mut((seq - self.head) as usize);
        if let Some(Some(entry)) = slot {
            if !entry.counted {
                // Acknowledged before being re-sent: it is in flight now.
                // (Fields, not `count`: `entry` borrows the slots.)
                entry.counted = true;
                self.counted += 1;
                self.counted_qos2 += 1;
                self.held_back -= 1;
            }
            entry.held = Held::Pubrel(pubrel.clone());
        }
        Ok(PubrecOutcome::Release(pubrel))
    }

    /// A PUBCOMP arrived: ends a QoS 2 flow [MQTT-4.3.3-5].
    pub(crate) fn on_pubcomp(&mut self, id: P) -> Result<(), SessionError> {
        let seq = self.check(id, PacketType::Pubcomp, FlowState::AwaitingPubcomp)?;
        self.remove(seq);
        Ok(())
    }

    /// A new network connection in a present session: every PUBLISH waits to
    /// be re-sent, every PUBREL is. PUBRELs count against the send quota
    /// from the start: the peer may count their flows as unacknowledged, and
    /// PUBRELs are never delayed [MQTT-3.3.4-8], so only PUBLISH packets wait.
    pub(crate) fn on_reconnect(&mut self) {
        self.counted = 0;
        self.counted_qos2 = 0;
        self.held_back = 0;
        for e in self.slots.iter_mut().flatten() {
            e.counted = matches!(e.held, Held::Pubrel(_));
            if e.counted {
                self.counted += 1;
                self.counted_qos2 += 1;
            } else {
                self.held_back += 1;
            }
        }
        self.resend_from = self.head;
    }

    /// The packets to re-send on a new network connection, in the order of
    /// the flows [MQTT-4.4.0-1], [MQTT-4.6.0-1]: every PUBREL, and the
    /// PUBLISH packets, with DUP set [MQTT-3.3.1-1], as long as the send
    /// quota `quota` allows [MQTT-4.9.0-2]. The PUBLISH packets after the
    /// first that does not fit wait, in order, for [`next_resend`](Self::next_resend).
    /// Call after [`on_reconnect`](Self::on_reconnect).
    fn resend(
        &mut self,
        quota: usize,
        qos2_max: Option<NonZeroU16>,
        version: ProtocolVersion,
        now: MonotonicTime,
    ) -> Vec<Outgoing<P>> {
        let mut out = Vec::with_capacity(self.index.len());
        let mut waiting = false;
        self.resend_from = self.head + self.slots.len() as u64;
        for i in 0..self.slots.len() {
            let Some(e) = &self.slots[i] else { continue };
            let qos2 = e.held.is_qos2();
            match &e.held {
                Held::Pubrel(r) => out.push(Outgoing::Pubrel(r.clone())),
                Held::Publish { .. } if waiting || !self.admits(quota, qos2_max, qos2) => {
                    if !waiting {
                        self.resend_from = self.head + i as u64;
                    }
                    waiting = true;
                }
                Held::Publish { message, deadline } => {
                    let copy = resend_copy(message, e.id, version, *deadline, now);
                    self.count(qos2);
                    self.held_back -= 1;
                    if let Some(e) = &mut self.slots[i] {
                        e.counted = true;
                    }
                    out.push(Outgoing::Publish(copy));
                }
            }
        }
        out
    }

    /// The first PUBLISH that waits to be re-sent, ready to send (DUP set,
    /// the expiry left) and counted, if `quota` admits it (else it waits,
    /// and those after it too).
    fn next_resend(
        &mut self,
        quota: usize,
        qos2_max: Option<NonZeroU16>,
        version: ProtocolVersion,
        now: MonotonicTime,
    ) -> Option<Publish<P>> {
        if self.held_back == 0 {
            return None;
        }
        let start = self.resend_from.saturating_sub(self.head) as usize;
        let i = (start..self.slots.len()).find(|&i| {
            matches!(&self.slots[i], Some(e) if !e.counted && matches!(e.held, Held::Publish { .. }))
        })?;
        let e = self.slots[i].as_ref()?;
        let qos2 = e.held.is_qos2();
        if !self.admits(quota, qos2_max, qos2) {
            return None;
        }
        let Held::Publish { message, deadline } = &e.held else {
            return None;
        };
        let copy = resend_copy(message, e.id, version, *deadline, now);
        if let Some(e) = &mut self.slots[i] {
            e.counted = true;
        }
        self.count(qos2);
        self.held_back -= 1;
        self.resend_from = self.head + i as u64 + 1;
        Some(copy)
    }
}

/// The PUBLISH of `version` that sends a stored message again with its
/// identifier `id`: DUP set [MQTT-3.3.1-1], and the Message Expiry Interval
/// set to what is left of it [MQTT-3.3.2-6].
///
/// A PUBLISH already sent once is re-sent even when its interval has passed:
/// its delivery has started, and the spec only requires deleting a message
/// whose delivery has not [MQTT-3.3.2-5]; for QoS 2 it forbids applying
/// expiry once the PUBLISH is sent [MQTT-4.3.3-7]. Such a PUBLISH carries an
/// interval of 1 second, the shortest that still says "expires" (0 is read as
/// "no expiry" by some receivers).
pub(crate) fn resend_copy<P: PacketId>(
    message: &Message,
    id: P,
    version: ProtocolVersion,
    deadline: Option<MonotonicTime>,
    now: MonotonicTime,
) -> Publish<P> {
    let mut copy = message.clone();
    if let Some(deadline) = deadline {
        copy.set_message_expiry_interval(Some(now.secs_until(deadline).max(1)));
    }
    let mut publish = Publish::from_message(version, copy, id);
    publish.set_dup(true);
    publish
}

/// What a PUBREC led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PubrecOutcome<P: PacketId = u16> {
    /// The PUBREC reported success: send this PUBREL, now stored in place of
    /// the PUBLISH [MQTT-4.3.3-4].
    Release(Pubrel<P>),
    /// The PUBREC reported failure (v5.0, 0x80 or more): the flow ended, its
    /// identifier is released, and this is its message, not to be re-sent
    /// [MQTT-4.4.0-2].
    Failed(Message),
}

#[cfg(test)]
mod tests {
    use super::*;
    const V5: ProtocolVersion = ProtocolVersion::V5_0;

    /// The stored message of flow `id`: its payload is the identifier, so
    /// that a test can tell which message a flow hands back.
    fn publish(id: u16, qos: QoS) -> Held<u16> {
        let topic = mqtt_codec::TopicName::from_static("t").unwrap();
        let mut message = Message::new(topic, id.to_string()).unwrap();
        message.set_qos(qos);
        Held::Publish {
            message,
            deadline: None,
        }
    }

    fn store(flows: &[(u16, QoS)]) -> InFlight<u16> {
        let mut s = InFlight::default();
        for &(id, qos) in flows {
            s.push(id, publish(id, qos), true);
        }
        s
    }

    fn order(s: &InFlight<u16>) -> Vec<(u16, FlowState)> {
        s.iter().map(|(id, h)| (id, h.state())).collect()
    }

    const Q1: QoS = QoS::AtLeastOnce;
    const Q2: QoS = QoS::ExactlyOnce;

    /// [MQTT-4.3.2-3] a QoS 1 PUBLISH is unacknowledged until its PUBACK.
    #[test]
    fn puback_ends_a_qos1_flow() {
        let mut s = store(&[(1, Q1), (2, Q1)]);
        assert_eq!(s.counted(), 2);
        assert_eq!(s.on_puback(1).unwrap().payload(), b"1");
        assert_eq!(order(&s), [(2, FlowState::AwaitingPuback)]);
        assert_eq!(s.counted(), 1);
    }

    /// [MQTT-4.3.3-3], [MQTT-4.3.3-4], [MQTT-4.3.3-6] a successful PUBREC
    /// puts the PUBREL in place of the PUBLISH, at the same place in the
    /// order; [MQTT-4.3.3-5] the PUBCOMP ends the flow.
    #[test]
    fn qos2_flow_keeps_its_place() {
        let mut s = store(&[(1, Q2), (2, Q1), (3, Q2)]);
        let PubrecOutcome::Release(pubrel) = s.on_pubrec(1, false, V5).unwrap() else {
            panic!("a PUBREL");
        };
        assert_eq!(pubrel, Pubrel::new(V5, 1));
        assert_eq!(
            order(&s),
            [
                (1, FlowState::AwaitingPubcomp),
                (2, FlowState::AwaitingPuback),
                (3, FlowState::AwaitingPubrec)
            ]
        );
        // The flow still holds send quota until the PUBCOMP (§4.9).
        assert_eq!(s.counted(), 3);
        // A repeated PUBREC gets the same PUBREL again.
        assert_eq!(
            s.on_pubrec(1, false, V5),
            Ok(PubrecOutcome::Release(pubrel))
        );
        s.on_pubcomp(1).unwrap();
        assert_eq!(s.counted(), 2);
        assert_eq!(s.len(), 2);
    }

    /// [MQTT-4.4.0-2] a PUBREC with a failure code ends the flow: the PUBLISH
    /// is acknowledged and never re-sent.
    #[test]
    fn failed_pubrec_ends_the_flow() {
        let mut s = store(&[(1, Q2)]);
        let outcome = s.on_pubrec(1, true, V5).unwrap();
        assert!(matches!(outcome, PubrecOutcome::Failed(m) if m.payload() == b"1"));
        assert_eq!(s.len(), 0);
        assert_eq!(s.counted(), 0);
        assert!(s.resend(10, V5, MonotonicTime::ZERO).is_empty());
    }

    /// [MQTT-2.2.1-5] an acknowledgement must carry the identifier of a flow;
    /// one that matches none, or a flow in another state, changes nothing.
    #[test]
    fn mismatched_acks_change_nothing() {
        let mut s = store(&[(1, Q1), (2, Q2)]);
        s.on_pubrec(2, false, V5).unwrap();
        let before = order(&s);
        assert_eq!(s.on_puback(9), Err(SessionError::PacketIdNotFound(9)));
        assert_eq!(s.on_pubcomp(9), Err(SessionError::PacketIdNotFound(9)));
        assert_eq!(
            s.on_pubrec(9, false, V5),
            Err(SessionError::PacketIdNotFound(9))
        );
        assert_eq!(
            s.on_puback(2),
            Err(SessionError::UnexpectedAck {
                packet_type: PacketType::Puback,
                packet_id: 2,
                state: FlowState::AwaitingPubcomp
            })
        );
        assert!(matches!(
            s.on_pubrec(1, false, V5),
            Err(SessionError::UnexpectedAck { .. })
        ));
        assert!(matches!(
            s.on_pubcomp(1),
            Err(SessionError::UnexpectedAck { .. })
        ));
        assert!(matches!(
            s.on_pubrec(2, true, V5),
            Err(SessionError::UnexpectedAck { .. })
        ));
        assert_eq!(order(&s), before);
        assert_eq!(s.counted(), 2);
    }

    /// [MQTT-4.4.0-1], [MQTT-4.6.0-1], [MQTT-3.3.1-1] on reconnection every
    /// PUBREL and the PUBLISH packets are re-sent in their order, PUBLISH with
    /// DUP; [MQTT-4.9.0-2] PUBLISH packets beyond the send quota wait, and
    /// come out in order.
    #[test]
    fn resend_in_order_within_the_quota() {
        let mut s = store(&[(1, Q1), (2, Q2), (3, Q1), (4, Q2), (5, Q1)]);
        s.on_pubrec(2, false, V5).unwrap();
        s.on_reconnect();
        assert_eq!(s.counted(), 1); // the PUBREL
        assert_eq!(s.held_back(), 4);
        let out = s.resend(3, V5, MonotonicTime::ZERO);
        let ids: Vec<_> = out
            .iter()
            .map(|o| (o.packet_id(), matches!(o, Outgoing::Pubrel(_))))
            .collect();
        assert_eq!(ids, [(Some(1), false), (Some(2), true), (Some(3), false)]);
        assert!(out
            .iter()
            .all(|o| !matches!(o, Outgoing::Publish(p) if !p.dup())));
        assert_eq!(s.counted(), 3);
        assert_eq!(s.held_back(), 2);
        // Quota frees: the held-back ones come in order.
        s.on_puback(1).unwrap();
        let next = s.next_resend(usize::MAX, V5, MonotonicTime::ZERO).unwrap();
        assert_eq!((next.packet_id(), next.dup()), (Some(4), true));
        assert_eq!(
            s.next_resend(usize::MAX, V5, MonotonicTime::ZERO)
                .unwrap()
                .packet_id(),
            Some(5)
        );
        assert_eq!(s.next_resend(usize::MAX, V5, MonotonicTime::ZERO), None);
        assert_eq!(s.held_back(), 0);
    }

    /// A PUBREC for a PUBLISH not yet re-sent on this connection moves it to
    /// the PUBREL state and into the quota count.
    #[test]
    fn pubrec_of_a_held_back_publish() {
        let mut s = store(&[(1, Q2), (2, Q2)]);
        s.on_reconnect();
        assert_eq!(s.resend(1, V5, MonotonicTime::ZERO).len(), 1);
        s.on_pubrec(2, false, V5).unwrap();
        assert_eq!(s.held_back(), 0);
        assert_eq!(s.counted(), 2);
        assert_eq!(s.next_resend(usize::MAX, V5, MonotonicTime::ZERO), None);
    }

    /// [MQTT-3.3.2-6] a re-sent PUBLISH carries the expiry left, rounded up;
    /// [MQTT-4.3.3-7] once sent, it is re-sent even after its expiry.
    #[test]
    fn resend_copy_carries_the_expiry_left() {
        let Held::Publish { message, .. } = publish(1, Q2) else {
            unreachable!()
        };
        let deadline = Some(MonotonicTime::from_millis(60_000));
        let copy = resend_copy(
            &message,
            1u16,
            V5,
            deadline,
            MonotonicTime::from_millis(20_500),
        );
        assert_eq!(copy.message_expiry_interval(), Some(40));
        assert!(copy.dup());
        assert_eq!(copy.packet_id(), Some(1));
        assert_eq!(copy.payload(), b"1");
        let late = resend_copy(
            &message,
            1u16,
            V5,
            deadline,
            MonotonicTime::from_millis(90_000),
        );
        assert_eq!(late.message_expiry_interval(), Some(1));
        assert_eq!(
            resend_copy(&message, 1u16, V5, None, MonotonicTime::ZERO).message_expiry_interval(),
            None
        );
    }

    /// Empty slots are dropped from the front and compacted away elsewhere,
    /// keeping order and lookups right.
    #[test]
    fn compaction_keeps_order_and_index() {
        let mut s = InFlight::default();
        for id in 1..=2_000u16 {
            s.push(id, publish(id, Q1), true);
        }
        for id in 2..=1_990u16 {
            s.on_puback(id).unwrap();
        }
        let slots = |s: &InFlight<u16>| s.flows.as_ref().map_or(0, |f| f.slots.len());
        assert!(slots(&s) < 100, "{} slots", slots(&s));
        let ids: Vec<_> = s.iter().map(|(id, _)| id).collect();
        let mut expected = vec![1];
        expected.extend(1_991..=2_000);
        assert_eq!(ids, expected);
        for id in expected {
            assert_eq!(s.state(id), Some(FlowState::AwaitingPuback));
        }
        s.on_puback(1).unwrap();
        assert_eq!(slots(&s), 10);
    }

    /// Compaction while PUBLISH packets wait to be re-sent keeps them in
    /// order.
    #[test]
    fn compaction_with_held_back_publishes() {
        let mut s = InFlight::default();
        for id in 1..=500u16 {
            s.push(id, publish(id, Q1), true);
        }
        s.on_reconnect();
        assert_eq!(s.resend(2, V5, MonotonicTime::ZERO).len(), 2);
        for id in 3..=400u16 {
            // Acks for flows not re-sent yet (tolerated).
            s.on_puback(id).unwrap();
        }
        assert_eq!(s.held_back(), 100);
        s.on_puback(1).unwrap();
        assert_eq!(
            s.next_resend(usize::MAX, V5, MonotonicTime::ZERO)
                .unwrap()
                .packet_id(),
            Some(401)
        );
    }
}
