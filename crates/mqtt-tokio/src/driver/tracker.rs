//! The high-level client's bookkeeping in the driver: who waits for which
//! acknowledgement, and what the application subscribed (to subscribe again
//! when a reconnection finds no session). It moves from one network
//! connection's driver to the next with the session.

use std::collections::HashMap;

use mqtt_codec::v5_0::{PubackReasonCode, PubcompReasonCode, SubscriptionOptions};
use mqtt_codec::TopicFilter;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, ProtocolVersion, QoS};

use super::Reply;
use crate::Error;

/// How a published message's flow ended well ([`Client::publish`](crate::Client::publish)).
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

/// A SUBSCRIBE or UNSUBSCRIBE waiting for its answer.
enum Request {
    Subscribe {
        subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
        /// `None`: sent again after a reconnection; nobody waits.
        reply: Option<Reply<Vec<Granted>>>,
    },
    Unsubscribe {
        filters: Vec<TopicFilter>,
        reply: Reply<Vec<u8>>,
    },
}

/// The waiting calls and the subscriptions of a high-level client.
pub(crate) struct Tracker<P: PacketId> {
    publishes: HashMap<P, Reply<Delivered>>,
    requests: HashMap<P, Request>,
    /// What the broker granted, in the order subscribed; a filter
    /// subscribed again replaces its entry.
    subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
    /// Subscribe again to `subscriptions` when a CONNACK says Session
    /// Present 0.
    pub(crate) resubscribe: bool,
}

impl<P: PacketId> Tracker<P> {
    pub(crate) fn new(resubscribe: bool) -> Self {
        Tracker {
            publishes: HashMap::new(),
            requests: HashMap::new(),
            subscriptions: Vec::new(),
            resubscribe,
        }
    }

    /// A QoS 1 or 2 message `id` was published: `reply` gets its outcome.
    pub(crate) fn wait_publish(&mut self, id: P, reply: Reply<Delivered>) {
        self.publishes.insert(id, reply);
    }

    /// A SUBSCRIBE `id` was sent.
    pub(crate) fn wait_subscribe(
        &mut self,
        id: P,
        subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
        reply: Option<Reply<Vec<Granted>>>,
    ) {
        let request = Request::Subscribe {
            subscriptions,
            reply,
        };
        self.requests.insert(id, request);
    }

    /// An UNSUBSCRIBE `id` was sent.
    pub(crate) fn wait_unsubscribe(
        &mut self,
        id: P,
        filters: Vec<TopicFilter>,
        reply: Reply<Vec<u8>>,
    ) {
        self.requests
            .insert(id, Request::Unsubscribe { filters, reply });
    }

    /// The subscriptions granted so far, to subscribe again.
    pub(crate) fn subscriptions(&self) -> &[(TopicFilter, SubscriptionOptions)] {
        &self.subscriptions
    }

    /// A received acknowledgement answers whoever waits for it. Returns
    /// whether `packet` was one (it then goes no further).
    pub(crate) fn on_packet(&mut self, packet: &GenericPacket<P>) -> bool {
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
                self.publish_ended(r.packet_id(), Err(Error::Rejected(r.reason_code().as_u8())))
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
            _ => false,
        }
    }

    /// The connection released `id`: a message still waiting under it
    /// ended without its acknowledgement (refused as it left the session's
    /// queue, or its session discarded by a CONNACK with Session Present 0).
    pub(crate) fn on_released(&mut self, id: P) {
        if let Some(reply) = self.publishes.remove(&id) {
            let _ = reply.send(Err(Error::NotDelivered));
        }
    }

    /// The network connection ended: SUBSCRIBE and UNSUBSCRIBE are not sent
    /// again (§4.4), so their callers learn it, and their identifiers are
    /// handed back through `release`. Published messages stay in the
    /// session and keep waiting.
    pub(crate) fn connection_ended(&mut self, mut release: impl FnMut(P)) {
        for (id, request) in self.requests.drain() {
            release(id);
            match request {
                Request::Subscribe {
                    reply: Some(reply), ..
                } => {
                    let _ = reply.send(Err(Error::Closed));
                }
                Request::Subscribe { reply: None, .. } => {}
                Request::Unsubscribe { reply, .. } => {
                    let _ = reply.send(Err(Error::Closed));
                }
            }
        }
    }

    /// The client ends: every caller still waiting learns it.
    pub(crate) fn close(&mut self) {
        self.connection_ended(|_| {});
        for (_, reply) in self.publishes.drain() {
            let _ = reply.send(Err(Error::Closed));
        }
    }

    fn publish_ended(&mut self, id: P, outcome: Result<Delivered, Error>) -> bool {
        match self.publishes.remove(&id) {
            Some(reply) => {
                let _ = reply.send(outcome);
                true
            }
            None => false,
        }
    }

    fn suback(&mut self, id: P, granted: Vec<Granted>) -> bool {
        let Some(Request::Subscribe {
            subscriptions,
            reply,
        }) = self.requests.remove(&id)
        else {
            return false;
        };
        for ((filter, options), answer) in subscriptions.into_iter().zip(&granted) {
            self.subscriptions.retain(|(f, _)| *f != filter);
            if answer.is_ok() {
                self.subscriptions.push((filter, options));
            }
        }
        if let Some(reply) = reply {
            let _ = reply.send(Ok(granted));
        }
        true
    }

    /// `codes`: v5.0's Reason Codes; v3.1.1 has none (all Success).
    fn unsuback(&mut self, id: P, codes: Option<Vec<u8>>) -> bool {
        let Some(Request::Unsubscribe { filters, reply }) = self.requests.remove(&id) else {
            return false;
        };
        let codes = codes.unwrap_or_else(|| vec![0; filters.len()]);
        self.subscriptions.retain(|(f, _)| !filters.contains(f));
        let _ = reply.send(Ok(codes));
        true
    }
}

/// `delivered`, or the failing Reason Code `code` as [`Error::Rejected`].
fn checked(success: bool, code: u8, delivered: Delivered) -> Result<Delivered, Error> {
    match success {
        true => Ok(delivered),
        false => Err(Error::Rejected(code)),
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

/// The SUBSCRIBE of `version` for `subscriptions`, numbered `id`; v3.1.1
/// keeps only each filter's maximum QoS.
pub(crate) fn subscribe_packet<P: PacketId>(
    version: ProtocolVersion,
    id: P,
    subscriptions: &[(TopicFilter, SubscriptionOptions)],
) -> Result<GenericPacket<P>, Error> {
    let packet = match version {
        ProtocolVersion::V3_1_1 => {
            let mut builder = v3_1_1::Subscribe::builder();
            builder.packet_id(id);
            for (filter, options) in subscriptions {
                builder.subscription((filter.clone(), options.qos));
            }
            GenericPacket::V3_1_1(builder.build()?.into())
        }
        ProtocolVersion::V5_0 => {
            let mut builder = v5_0::Subscribe::builder();
            builder.packet_id(id);
            for (filter, options) in subscriptions {
                builder.subscription((filter.clone(), *options));
            }
            GenericPacket::V5_0(builder.build()?.into())
        }
    };
    Ok(packet)
}

/// The UNSUBSCRIBE of `version` for `filters`, numbered `id`.
pub(crate) fn unsubscribe_packet<P: PacketId>(
    version: ProtocolVersion,
    id: P,
    filters: &[TopicFilter],
) -> Result<GenericPacket<P>, Error> {
    let packet = match version {
        ProtocolVersion::V3_1_1 => {
            let mut builder = v3_1_1::Unsubscribe::builder();
            builder.packet_id(id).topic_filters(filters.to_vec());
            GenericPacket::V3_1_1(builder.build()?.into())
        }
        ProtocolVersion::V5_0 => {
            let mut builder = v5_0::Unsubscribe::builder();
            builder.packet_id(id).filters(filters.to_vec());
            GenericPacket::V5_0(builder.build()?.into())
        }
    };
    Ok(packet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_codec::v3_1_1::SubackReturnCode;
    use mqtt_codec::v5_0::{PubrecReasonCode, SubackReasonCode};
    use tokio::sync::oneshot::{self, error::TryRecvError};

    fn v3(packet: impl Into<v3_1_1::Packet<u16>>) -> GenericPacket<u16> {
        GenericPacket::V3_1_1(packet.into())
    }
    fn v5(packet: impl Into<v5_0::Packet<u16>>) -> GenericPacket<u16> {
        GenericPacket::V5_0(packet.into())
    }
    fn filter(f: &str) -> TopicFilter {
        TopicFilter::try_from(f).unwrap()
    }
    fn wait_publish(t: &mut Tracker<u16>, id: u16) -> oneshot::Receiver<Result<Delivered, Error>> {
        let (reply, answer) = oneshot::channel();
        t.wait_publish(id, reply);
        answer
    }

    #[test]
    fn acknowledgements_answer_their_publish() {
        let mut t = Tracker::new(true);
        let mut answers: Vec<_> = (1..=5).map(|id| wait_publish(&mut t, id)).collect();
        assert!(t.on_packet(&v3(v3_1_1::Puback::new(1))));
        let refused = v5_0::Puback::builder()
            .packet_id(2)
            .reason_code(PubackReasonCode::NotAuthorized)
            .build()
            .unwrap();
        assert!(t.on_packet(&v5(refused)));
        // PUBREC with Success: the flow goes on to PUBCOMP.
        assert!(!t.on_packet(&v5(v5_0::Pubrec::new(3))));
        assert!(!t.on_packet(&v3(v3_1_1::Pubrec::new(4))));
        assert_eq!(answers[2].try_recv().unwrap_err(), TryRecvError::Empty);
        let failed = v5_0::Pubrec::builder()
            .packet_id(3)
            .reason_code(PubrecReasonCode::QuotaExceeded)
            .build()
            .unwrap();
        assert!(t.on_packet(&v5(failed)));
        assert!(t.on_packet(&v3(v3_1_1::Pubcomp::new(4))));
        assert!(t.on_packet(&v5(v5_0::Pubcomp::new(5))));
        assert!(!t.on_packet(&v5(v5_0::Pubcomp::new(5))), "answered once");
        let outcomes: Vec<_> = answers.iter_mut().map(|a| a.try_recv().unwrap()).collect();
        assert!(matches!(
            outcomes[0],
            Ok(Delivered::Acknowledged(PubackReasonCode::Success))
        ));
        assert!(matches!(outcomes[1], Err(Error::Rejected(0x87))));
        assert!(matches!(outcomes[2], Err(Error::Rejected(0x97))));
        assert!(matches!(outcomes[3], Ok(Delivered::Completed(_))));
        assert!(matches!(outcomes[4], Ok(Delivered::Completed(_))));
    }

    #[test]
    fn a_released_identifier_ends_its_publish() {
        let mut t = Tracker::new(true);
        let mut answer = wait_publish(&mut t, 9);
        t.on_released(8);
        assert_eq!(answer.try_recv().unwrap_err(), TryRecvError::Empty);
        t.on_released(9);
        assert!(matches!(
            answer.try_recv().unwrap(),
            Err(Error::NotDelivered)
        ));
    }

    #[test]
    fn subscriptions_follow_the_answers() {
        let mut t = Tracker::<u16>::new(true);
        let (reply, mut answer) = oneshot::channel();
        let both = vec![
            (filter("a/#"), QoS::AtLeastOnce.into()),
            (filter("b"), QoS::ExactlyOnce.into()),
        ];
        t.wait_subscribe(1, both, Some(reply));
        let suback = v3_1_1::Suback::<u16>::builder()
            .packet_id(1)
            .return_code(SubackReturnCode::Success(QoS::AtLeastOnce))
            .return_code(SubackReturnCode::Failure)
            .build()
            .unwrap();
        assert!(t.on_packet(&v3(suback)));
        let granted = answer.try_recv().unwrap().unwrap();
        assert_eq!(granted, [Ok(QoS::AtLeastOnce), Err(0x80)]);
        assert_eq!(
            t.subscriptions(),
            [(filter("a/#"), QoS::AtLeastOnce.into())]
        );

        // Subscribed again: one entry, the new options (nobody waits).
        let again = vec![(filter("a/#"), QoS::ExactlyOnce.into())];
        t.wait_subscribe(2, again, None);
        let suback = v5_0::Suback::<u16>::builder()
            .packet_id(2)
            .reason_code(SubackReasonCode::GrantedQoS2)
            .build()
            .unwrap();
        assert!(t.on_packet(&v5(suback)));
        assert_eq!(
            t.subscriptions(),
            [(filter("a/#"), QoS::ExactlyOnce.into())]
        );

        let (reply, mut answer) = oneshot::channel();
        t.wait_unsubscribe(3, vec![filter("a/#")], reply);
        assert!(t.on_packet(&v3(v3_1_1::Unsuback::new(3))));
        assert_eq!(answer.try_recv().unwrap().unwrap(), [0]);
        assert!(t.subscriptions().is_empty());

        // v5.0 carries a Reason Code per filter.
        let (reply, mut answer) = oneshot::channel();
        t.wait_unsubscribe(4, vec![filter("c")], reply);
        let unsuback = v5_0::Unsuback::<u16>::builder()
            .packet_id(4)
            .reason_code(v5_0::UnsubackReasonCode::NotAuthorized)
            .build()
            .unwrap();
        assert!(t.on_packet(&v5(unsuback)));
        assert_eq!(answer.try_recv().unwrap().unwrap(), [0x87]);
    }

    #[test]
    fn a_lost_connection_fails_requests_and_keeps_publishes() {
        let mut t = Tracker::<u16>::new(true);
        let (reply, mut subscribe) = oneshot::channel();
        t.wait_subscribe(7, vec![(filter("x"), QoS::AtMostOnce.into())], Some(reply));
        let (reply, mut unsubscribe) = oneshot::channel();
        t.wait_unsubscribe(8, vec![filter("y")], reply);
        let mut publish = wait_publish(&mut t, 9);
        let mut released = Vec::new();
        t.connection_ended(|id| released.push(id));
        released.sort_unstable();
        assert_eq!(released, [7, 8]);
        assert!(matches!(subscribe.try_recv().unwrap(), Err(Error::Closed)));
        assert!(matches!(
            unsubscribe.try_recv().unwrap(),
            Err(Error::Closed)
        ));
        assert_eq!(publish.try_recv().unwrap_err(), TryRecvError::Empty);
        t.close();
        assert!(matches!(publish.try_recv().unwrap(), Err(Error::Closed)));
    }
}
