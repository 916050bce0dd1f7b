//! [`Tracker`]: the bookkeeping of a high-level client, Sans-I/O. Who waits
//! for which acknowledgement (a PUBACK, PUBCOMP or failing PUBREC ends a
//! QoS 1 or 2 publish; a SUBACK or UNSUBACK answers its request), and what
//! the broker granted, to subscribe again when a CONNACK says Session
//! Present 0.
//!
//! The waiters are the adapter's reply handles (a tokio `oneshot::Sender`,
//! a `std::sync::mpsc::Sender`, ...), named by a [`Waiters`] type; the
//! tracker hands each back with its outcome as an [`Answer`], and the
//! adapter sends it. The tracker lives as long as the client, across its
//! network connections, like the session.

use std::collections::HashMap;

use mqtt_codec::v5_0::{PubackReasonCode, PubcompReasonCode, SubscriptionOptions};
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, QoS, TopicFilter};

mod packets;
#[cfg(test)]
mod tests;

pub use packets::{subscribe_packet, unsubscribe_packet};

/// How a published message's flow ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivered {
    /// QoS 0: handed to the connection, to be written (no acknowledgement
    /// comes back, §4.3.1).
    Sent,
    /// QoS 1: the PUBACK, with its Reason Code (v3.1.1: always Success).
    Acknowledged(PubackReasonCode),
    /// QoS 2: the PUBCOMP, with its Reason Code (v3.1.1: always Success).
    Completed(PubcompReasonCode),
}

/// A subscription's answer in SUBACK: the QoS granted, or the failure's
/// Return Code (v3.1.1: 0x80) or Reason Code (v5.0, ≥ 0x80).
pub type Granted = Result<QoS, u8>;

/// Why a tracked request ended without the answer it waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The broker's acknowledgement carried this failing Reason Code
    /// (v5.0 PUBACK, PUBREC or PUBCOMP, ≥ 0x80, §2.4).
    Rejected(u8),
    /// The message's packet identifier was released without its
    /// acknowledgement: its session was discarded (a CONNACK with Session
    /// Present 0), or the connection refused it as it left the session's
    /// queue.
    NotDelivered,
    /// The network connection ended before the answer (SUBSCRIBE and
    /// UNSUBSCRIBE are not sent again, §4.4), or the client ended.
    Closed,
}

/// The reply handles of one adapter: what waits for a publish, a SUBSCRIBE
/// and an UNSUBSCRIBE. Implement it on a type of your own (its values are
/// never built) and name the handles:
///
/// ```
/// use std::sync::mpsc::Sender;
/// use mqtt_core::tracker::{Delivered, Failure, Granted, Tracker, Waiters};
///
/// struct Channels;
/// impl Waiters for Channels {
///     type Publish = Sender<Result<Delivered, Failure>>;
///     type Subscribe = Sender<Result<Vec<Granted>, Failure>>;
///     type Unsubscribe = Sender<Result<Vec<u8>, Failure>>;
/// }
/// let tracker = Tracker::<u16, Channels>::new(true);
/// # let _ = tracker;
/// ```
pub trait Waiters {
    /// Waits for the end of a QoS 1 or 2 publish.
    type Publish;
    /// Waits for a SUBACK's answers.
    type Subscribe;
    /// Waits for an UNSUBACK's Reason Codes.
    type Unsubscribe;
}

/// A waiter and its outcome, for the adapter to send.
pub enum Answer<W: Waiters> {
    /// A publish ended.
    Publish(W::Publish, Result<Delivered, Failure>),
    /// A SUBSCRIBE was answered, one [`Granted`] per filter in order.
    Subscribe(W::Subscribe, Result<Vec<Granted>, Failure>),
    /// An UNSUBSCRIBE was answered: a Reason Code per filter (v3.1.1:
    /// Success for each).
    Unsubscribe(W::Unsubscribe, Result<Vec<u8>, Failure>),
}

impl<W: Waiters> std::fmt::Debug for Answer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Publish(_, r) => f.debug_tuple("Publish").field(r).finish(),
            Answer::Subscribe(_, r) => f.debug_tuple("Subscribe").field(r).finish(),
            Answer::Unsubscribe(_, r) => f.debug_tuple("Unsubscribe").field(r).finish(),
        }
    }
}

/// A SUBSCRIBE or UNSUBSCRIBE waiting for its answer.
enum Request<W: Waiters> {
    Subscribe {
        subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
        /// `None`: sent again after a reconnection; nobody waits.
        waiter: Option<W::Subscribe>,
    },
    Unsubscribe {
        filters: Vec<TopicFilter>,
        waiter: W::Unsubscribe,
    },
}

/// The waiting calls and the subscriptions of a high-level client, with
/// packet identifiers `P` and the reply handles of `W`.
///
/// Feed it what the connection reports: [`on_packet`](Self::on_packet)
/// for each received packet, [`on_released`](Self::on_released) for each
/// `NotifyPacketIdReleased`, [`connection_ended`](Self::connection_ended)
/// when the network connection closes, [`resubscriptions`](Self::resubscriptions)
/// at each CONNACK, [`close`](Self::close) when the client ends. Send each
/// [`Answer`] it returns.
pub struct Tracker<P: PacketId, W: Waiters> {
    publishes: HashMap<P, W::Publish>,
    requests: HashMap<P, Request<W>>,
    /// What the broker granted, in the order subscribed; a filter
    /// subscribed again replaces its entry.
    subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
    /// Subscribe again to `subscriptions` when a CONNACK says Session
    /// Present 0.
    resubscribe: bool,
}

impl<P: PacketId, W: Waiters> std::fmt::Debug for Tracker<P, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("publishes", &self.publishes.len())
            .field("requests", &self.requests.len())
            .field("subscriptions", &self.subscriptions)
            .field("resubscribe", &self.resubscribe)
            .finish()
    }
}

impl<P: PacketId, W: Waiters> Tracker<P, W> {
    /// Nothing waits, nothing is subscribed; `resubscribe`: whether
    /// [`resubscriptions`](Self::resubscriptions) gives the subscriptions
    /// back after a CONNACK with Session Present 0.
    pub fn new(resubscribe: bool) -> Self {
        Tracker {
            publishes: HashMap::new(),
            requests: HashMap::new(),
            subscriptions: Vec::new(),
            resubscribe,
        }
    }

    /// A QoS 1 or 2 message `id` was published (accepted by the
    /// connection): `waiter` gets its outcome.
    pub fn wait_publish(&mut self, id: P, waiter: W::Publish) {
        self.publishes.insert(id, waiter);
    }

    /// A SUBSCRIBE `id` for `subscriptions` was sent; `waiter` (`None`: a
    /// subscription made again after a reconnection) gets the SUBACK's
    /// answers, and the granted filters join the subscriptions.
    pub fn wait_subscribe(
        &mut self,
        id: P,
        subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
        waiter: Option<W::Subscribe>,
    ) {
        let request = Request::Subscribe {
            subscriptions,
            waiter,
        };
        self.requests.insert(id, request);
    }

    /// An UNSUBSCRIBE `id` for `filters` was sent; at its UNSUBACK they
    /// leave the subscriptions.
    pub fn wait_unsubscribe(&mut self, id: P, filters: Vec<TopicFilter>, waiter: W::Unsubscribe) {
        self.requests
            .insert(id, Request::Unsubscribe { filters, waiter });
    }

    /// The subscriptions granted so far, in the order subscribed.
    pub fn subscriptions(&self) -> &[(TopicFilter, SubscriptionOptions)] {
        &self.subscriptions
    }

    /// At a CONNACK: the subscriptions to make again, when the broker has
    /// no session (`session_present` false, §3.2.2.1.1) and resubscribing
    /// is on; `None` otherwise (nothing subscribed, or the session kept
    /// them).
    pub fn resubscriptions(
        &self,
        session_present: bool,
    ) -> Option<Vec<(TopicFilter, SubscriptionOptions)>> {
        let again = self.resubscribe && !session_present && !self.subscriptions.is_empty();
        again.then(|| self.subscriptions.clone())
    }

    /// Whoever waits for the acknowledgement `packet` (PUBACK, PUBCOMP, a
    /// failing v5.0 PUBREC, SUBACK, UNSUBACK), with its outcome; `None` for
    /// other packets, acknowledgements nobody waits for, and SUBACKs of
    /// subscriptions made again (their grants are recorded all the same).
    pub fn on_packet(&mut self, packet: &GenericPacket<P>) -> Option<Answer<W>> {
        use GenericPacket::{V3_1_1, V5_0};
        match packet {
            V3_1_1(v3_1_1::Packet::Puback(a)) => self.publish_ended(
                a.packet_id(),
                Ok(Delivered::Acknowledged(PubackReasonCode::Success)),
            ),
            V5_0(v5_0::Packet::Puback(a)) => {
                let code = a.reason_code();
                let outcome = checked(
                    code.is_success(),
                    code.as_u8(),
                    Delivered::Acknowledged(code),
                );
                self.publish_ended(a.packet_id(), outcome)
            }
            // A PUBREC with a failure ends the QoS 2 flow (§4.3.3); with
            // success the flow goes on to PUBCOMP.
            V5_0(v5_0::Packet::Pubrec(r)) if !r.reason_code().is_success() => {
                let code = r.reason_code().as_u8();
                self.publish_ended(r.packet_id(), Err(Failure::Rejected(code)))
            }
            V3_1_1(v3_1_1::Packet::Pubcomp(c)) => self.publish_ended(
                c.packet_id(),
                Ok(Delivered::Completed(PubcompReasonCode::Success)),
            ),
            V5_0(v5_0::Packet::Pubcomp(c)) => {
                let code = c.reason_code();
                let outcome = checked(code.is_success(), code.as_u8(), Delivered::Completed(code));
                self.publish_ended(c.packet_id(), outcome)
            }
            V3_1_1(v3_1_1::Packet::Suback(s)) => {
                let granted = s
                    .return_codes()
                    .iter()
                    .map(|c| c.granted_qos().ok_or(c.as_u8()));
                self.suback(s.packet_id(), granted.collect())
            }
            V5_0(v5_0::Packet::Suback(s)) => {
                let granted = s.reason_codes().iter().map(|c| granted_v5(c.as_u8()));
                self.suback(s.packet_id(), granted.collect())
            }
            V3_1_1(v3_1_1::Packet::Unsuback(u)) => self.unsuback(u.packet_id(), None),
            V5_0(v5_0::Packet::Unsuback(u)) => {
                let codes = u.reason_codes().iter().map(|c| c.as_u8()).collect();
                self.unsuback(u.packet_id(), Some(codes))
            }
            _ => None,
        }
    }

    /// The connection released `id`: a message still waiting under it
    /// ended without its acknowledgement ([`Failure::NotDelivered`]).
    pub fn on_released(&mut self, id: P) -> Option<Answer<W>> {
        let waiter = self.publishes.remove(&id)?;
        Some(Answer::Publish(waiter, Err(Failure::NotDelivered)))
    }

    /// The network connection ended: SUBSCRIBE and UNSUBSCRIBE are not sent
    /// again (§4.4), so their waiters learn it ([`Failure::Closed`]), and
    /// their identifiers are handed to `release` (give them back to the
    /// connection). Published messages stay in the session and keep
    /// waiting.
    pub fn connection_ended(&mut self, mut release: impl FnMut(P)) -> Vec<Answer<W>> {
        let mut answers = Vec::new();
        for (id, request) in self.requests.drain() {
            release(id);
            match request {
                Request::Subscribe {
                    waiter: Some(waiter),
                    ..
                } => answers.push(Answer::Subscribe(waiter, Err(Failure::Closed))),
                Request::Subscribe { waiter: None, .. } => {}
                Request::Unsubscribe { waiter, .. } => {
                    answers.push(Answer::Unsubscribe(waiter, Err(Failure::Closed)));
                }
            }
        }
        answers
    }

    /// The client ends: every waiter learns it ([`Failure::Closed`]).
    pub fn close(&mut self) -> Vec<Answer<W>> {
        let mut answers = self.connection_ended(|_| {});
        let publishes = self.publishes.drain();
        answers.extend(publishes.map(|(_, w)| Answer::Publish(w, Err(Failure::Closed))));
        answers
    }

    fn publish_ended(&mut self, id: P, outcome: Result<Delivered, Failure>) -> Option<Answer<W>> {
        let waiter = self.publishes.remove(&id)?;
        Some(Answer::Publish(waiter, outcome))
    }

    fn suback(&mut self, id: P, granted: Vec<Granted>) -> Option<Answer<W>> {
        let Some(Request::Subscribe {
            subscriptions,
            waiter,
        }) = self.requests.remove(&id)
        else {
            return None;
        };
        for ((filter, options), answer) in subscriptions.into_iter().zip(&granted) {
            self.subscriptions.retain(|(f, _)| *f != filter);
            if answer.is_ok() {
                self.subscriptions.push((filter, options));
            }
        }
        waiter.map(|w| Answer::Subscribe(w, Ok(granted)))
    }

    /// `codes`: v5.0's Reason Codes; v3.1.1 has none (all Success).
    fn unsuback(&mut self, id: P, codes: Option<Vec<u8>>) -> Option<Answer<W>> {
        let Some(Request::Unsubscribe { filters, waiter }) = self.requests.remove(&id) else {
            return None;
        };
        let codes = codes.unwrap_or_else(|| vec![0; filters.len()]);
        self.subscriptions.retain(|(f, _)| !filters.contains(f));
        Some(Answer::Unsubscribe(waiter, Ok(codes)))
    }
}

/// `delivered`, or the failing Reason Code `code` as [`Failure::Rejected`].
fn checked(success: bool, code: u8, delivered: Delivered) -> Result<Delivered, Failure> {
    match success {
        true => Ok(delivered),
        false => Err(Failure::Rejected(code)),
    }
}

/// A v5.0 SUBACK Reason Code as a [`Granted`].
fn granted_v5(code: u8) -> Granted {
    match code {
        0 => Ok(QoS::AtMostOnce),
        1 => Ok(QoS::AtLeastOnce),
        2 => Ok(QoS::ExactlyOnce),
        failure => Err(failure),
    }
}
