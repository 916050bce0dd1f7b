//! The high-level client's bookkeeping in the driver: mqtt-core's
//! [`Tracker`](mqtt_core::tracker::Tracker) (who waits for which
//! acknowledgement, what to subscribe again), with tokio oneshot senders
//! as its waiters. It moves from one network connection's driver to the
//! next with the session.

use mqtt_codec::v5_0::SubscriptionOptions;
use mqtt_codec::{GenericPacket, PacketId, ProtocolVersion, TopicFilter};
use mqtt_core::tracker::{self, Answer, Failure, Waiters};
pub use mqtt_core::tracker::{Delivered, Granted};

use super::Reply;
use crate::Error;

/// The reply channels of the client's calls.
pub(crate) struct Replies;

impl Waiters for Replies {
    type Publish = Reply<Delivered>;
    type Subscribe = Reply<Vec<Granted>>;
    type Unsubscribe = Reply<Vec<u8>>;
}

/// The waiting calls and the subscriptions of a high-level client.
pub(crate) type Tracker<P> = tracker::Tracker<P, Replies>;

/// A [`Tracker`] allocated when a call first waits (a QoS 1 or 2
/// publish, a subscription): a client that never did holds a pointer and
/// a flag instead of the tracker's 128 bytes. Until then it is empty, and
/// an empty tracker answers nothing.
pub(crate) struct LazyTracker<P: PacketId> {
    tracker: Option<Box<Tracker<P>>>,
    resubscribe: bool,
}

impl<P: PacketId> LazyTracker<P> {
    /// See [`Tracker::new`].
    pub(crate) fn new(resubscribe: bool) -> Self {
        LazyTracker {
            tracker: None,
            resubscribe,
        }
    }

    /// The tracker, allocated now if it was not: for a call to wait in.
    pub(crate) fn get(&mut self) -> &mut Tracker<P> {
        let resubscribe = self.resubscribe;
        self.tracker
            .get_or_insert_with(|| Box::new(Tracker::new(resubscribe)))
    }

    /// The tracker if a call ever waited in it: nothing waits otherwise.
    pub(crate) fn made(&mut self) -> Option<&mut Tracker<P>> {
        self.tracker.as_deref_mut()
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Rejected(code) => Error::Rejected(code),
            Failure::NotDelivered => Error::NotDelivered,
            _ => Error::Closed,
        }
    }
}

/// Sends `answer` to its caller (who may have stopped waiting).
pub(crate) fn send(answer: Answer<Replies>) {
    match answer {
        Answer::Publish(reply, result) => drop(reply.send(result.map_err(Error::from))),
        Answer::Subscribe(reply, result) => drop(reply.send(result.map_err(Error::from))),
        Answer::Unsubscribe(reply, result) => drop(reply.send(result.map_err(Error::from))),
    }
}

/// Sends every answer of `answers`.
pub(crate) fn send_all(answers: impl IntoIterator<Item = Answer<Replies>>) {
    answers.into_iter().for_each(send);
}

/// The SUBSCRIBE of `version` for `subscriptions`, numbered `id`.
pub(crate) fn subscribe_packet<P: PacketId>(
    version: ProtocolVersion,
    id: P,
    subscriptions: &[(TopicFilter, SubscriptionOptions)],
) -> Result<GenericPacket<P>, Error> {
    Ok(tracker::subscribe_packet(version, id, subscriptions)?)
}

/// The UNSUBSCRIBE of `version` for `filters`, numbered `id`.
pub(crate) fn unsubscribe_packet<P: PacketId>(
    version: ProtocolVersion,
    id: P,
    filters: &[TopicFilter],
) -> Result<GenericPacket<P>, Error> {
    Ok(tracker::unsubscribe_packet(version, id, filters)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_codec::{v3_1_1, v5_0};
    use tokio::sync::oneshot::{self, error::TryRecvError};

    /// The tracker is made by the first call that waits, with the
    /// client's resubscribe setting, and kept.
    #[test]
    fn a_lazy_tracker_is_made_on_first_use() {
        for resubscribe in [true, false] {
            let mut t = LazyTracker::<u16>::new(resubscribe);
            assert!(t.made().is_none());
            let filter = TopicFilter::try_from("x").unwrap();
            t.get()
                .wait_subscribe(1, vec![(filter, SubscriptionOptions::default())], None);
            let suback = v3_1_1::Suback::<u16>::builder()
                .packet_id(1)
                .return_code(v3_1_1::SubackReturnCode::Success(
                    mqtt_codec::QoS::AtMostOnce,
                ))
                .build()
                .unwrap();
            let made = t.made().expect("made by the first wait");
            assert!(made
                .on_packet(&GenericPacket::V3_1_1(suback.into()))
                .is_none());
            assert_eq!(made.resubscriptions(false).is_some(), resubscribe);
            assert_eq!(t.get().subscriptions().len(), 1, "the same tracker");
        }
    }

    /// The answers reach the oneshot receivers as this crate's errors.
    #[test]
    fn answers_reach_their_callers_as_errors() {
        let mut t = Tracker::<u16>::new(true);
        let (reply, mut acked) = oneshot::channel();
        t.wait_publish(1, reply);
        let (reply, mut lost) = oneshot::channel();
        t.wait_publish(2, reply);
        let (reply, mut closed) = oneshot::channel();
        t.wait_publish(3, reply);
        send_all(t.on_packet(&GenericPacket::V3_1_1(v3_1_1::Puback::new(1).into())));
        assert!(matches!(
            acked.try_recv().unwrap(),
            Ok(Delivered::Acknowledged(_))
        ));
        send_all(t.on_released(2));
        assert!(matches!(lost.try_recv().unwrap(), Err(Error::NotDelivered)));
        let rejected = v5_0::Pubcomp::builder()
            .packet_id(3)
            .reason_code(v5_0::PubcompReasonCode::PacketIdentifierNotFound)
            .build()
            .unwrap();
        assert_eq!(closed.try_recv().unwrap_err(), TryRecvError::Empty);
        send_all(t.on_packet(&GenericPacket::V5_0(rejected.into())));
        assert!(matches!(
            closed.try_recv().unwrap(),
            Err(Error::Rejected(0x92))
        ));
        let (reply, mut subscribe) = oneshot::channel();
        let filter = TopicFilter::try_from("x").unwrap();
        t.wait_subscribe(
            4,
            vec![(filter, SubscriptionOptions::default())],
            Some(reply),
        );
        send_all(t.close());
        assert!(matches!(subscribe.try_recv().unwrap(), Err(Error::Closed)));
    }
}
