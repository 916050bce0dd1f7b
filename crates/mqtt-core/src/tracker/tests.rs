//! The tracker's answers, with numbered waiters.

use super::*;
use mqtt_codec::v3_1_1::SubackReturnCode;
use mqtt_codec::v5_0::{PubrecReasonCode, SubackReasonCode};

/// Waiters named by a number, so the answers say who got what.
struct Numbered;
impl Waiters for Numbered {
    type Publish = u32;
    type Subscribe = u32;
    type Unsubscribe = u32;
}

type T = Tracker<u16, Numbered>;

fn v3(packet: impl Into<v3_1_1::Packet<u16>>) -> GenericPacket<u16> {
    GenericPacket::V3_1_1(packet.into())
}
fn v5(packet: impl Into<v5_0::Packet<u16>>) -> GenericPacket<u16> {
    GenericPacket::V5_0(packet.into())
}
fn filter(f: &str) -> TopicFilter {
    TopicFilter::try_from(f).unwrap()
}
fn published(answer: Option<Answer<Numbered>>) -> (u32, Result<Delivered, Failure>) {
    match answer {
        Some(Answer::Publish(w, r)) => (w, r),
        other => panic!("a publish's answer, not {other:?}"),
    }
}

/// PUBACK ends QoS 1, PUBCOMP or a failing PUBREC ends QoS 2 (§4.3.2,
/// §4.3.3); a successful PUBREC does not; each answers once.
#[test]
fn acknowledgements_answer_their_publish() {
    let mut t = T::new(true);
    for id in 1..=5 {
        t.wait_publish(id, u32::from(id) * 10);
    }
    let ok = Ok(Delivered::Acknowledged(PubackReasonCode::Success));
    assert_eq!(
        published(t.on_packet(&v3(v3_1_1::Puback::new(1)))),
        (10, ok)
    );
    let refused = v5_0::Puback::builder()
        .packet_id(2)
        .reason_code(PubackReasonCode::NotAuthorized)
        .build()
        .unwrap();
    let answer = published(t.on_packet(&v5(refused)));
    assert_eq!(answer, (20, Err(Failure::Rejected(0x87))));
    assert!(t.on_packet(&v5(v5_0::Pubrec::new(3))).is_none());
    assert!(t.on_packet(&v3(v3_1_1::Pubrec::new(4))).is_none());
    let failed = v5_0::Pubrec::builder()
        .packet_id(3)
        .reason_code(PubrecReasonCode::QuotaExceeded)
        .build()
        .unwrap();
    let answer = published(t.on_packet(&v5(failed)));
    assert_eq!(answer, (30, Err(Failure::Rejected(0x97))));
    let done = Ok(Delivered::Completed(PubcompReasonCode::Success));
    assert_eq!(
        published(t.on_packet(&v3(v3_1_1::Pubcomp::new(4)))),
        (40, done)
    );
    assert_eq!(
        published(t.on_packet(&v5(v5_0::Pubcomp::new(5)))),
        (50, done)
    );
    assert!(t.on_packet(&v5(v5_0::Pubcomp::new(5))).is_none(), "once");
}

#[test]
fn a_released_identifier_ends_its_publish() {
    let mut t = T::new(true);
    t.wait_publish(9, 1);
    assert!(t.on_released(8).is_none());
    let answer = published(t.on_released(9));
    assert_eq!(answer, (1, Err(Failure::NotDelivered)));
    assert!(t.on_released(9).is_none());
}

#[test]
fn subscriptions_follow_the_answers() {
    let mut t = T::new(true);
    let both = vec![
        (filter("a/#"), QoS::AtLeastOnce.into()),
        (filter("b"), QoS::ExactlyOnce.into()),
    ];
    t.wait_subscribe(1, both, Some(7));
    let suback = v3_1_1::Suback::<u16>::builder()
        .packet_id(1)
        .return_code(SubackReturnCode::Success(QoS::AtLeastOnce))
        .return_code(SubackReturnCode::Failure)
        .build()
        .unwrap();
    let Some(Answer::Subscribe(7, Ok(granted))) = t.on_packet(&v3(suback)) else {
        panic!("the SUBACK answers waiter 7");
    };
    assert_eq!(granted, [Ok(QoS::AtLeastOnce), Err(0x80)]);
    let a = (filter("a/#"), QoS::AtLeastOnce.into());
    assert_eq!(t.subscriptions(), [a]);

    // Subscribed again: one entry, the new options, nobody to answer.
    let again = vec![(filter("a/#"), QoS::ExactlyOnce.into())];
    t.wait_subscribe(2, again.clone(), None);
    let suback = v5_0::Suback::<u16>::builder()
        .packet_id(2)
        .reason_code(SubackReasonCode::GrantedQoS2)
        .build()
        .unwrap();
    assert!(t.on_packet(&v5(suback)).is_none());
    assert_eq!(t.subscriptions(), again);

    t.wait_unsubscribe(3, vec![filter("a/#")], 8);
    let answer = t.on_packet(&v3(v3_1_1::Unsuback::new(3)));
    assert!(matches!(answer, Some(Answer::Unsubscribe(8, Ok(ref c))) if c == &[0]));
    assert!(t.subscriptions().is_empty());

    // v5.0 carries a Reason Code per filter.
    t.wait_unsubscribe(4, vec![filter("c")], 9);
    let unsuback = v5_0::Unsuback::<u16>::builder()
        .packet_id(4)
        .reason_code(v5_0::UnsubackReasonCode::NotAuthorized)
        .build()
        .unwrap();
    let answer = t.on_packet(&v5(unsuback));
    assert!(matches!(answer, Some(Answer::Unsubscribe(9, Ok(ref c))) if c == &[0x87]));
}

/// Session Present 0 (§3.2.2.1.1): the broker kept no subscription, so
/// the granted ones are made again; with Session Present 1, or with
/// resubscribing off, none.
#[test]
fn resubscriptions_after_a_connack_without_session() {
    let mut t = T::new(true);
    assert_eq!(t.resubscriptions(false), None, "nothing subscribed");
    t.wait_subscribe(1, vec![(filter("x/+"), QoS::AtLeastOnce.into())], None);
    let suback = v3_1_1::Suback::<u16>::builder()
        .packet_id(1)
        .return_code(SubackReturnCode::Success(QoS::AtLeastOnce))
        .build()
        .unwrap();
    assert!(t.on_packet(&v3(suback)).is_none());
    let again = t.resubscriptions(false).expect("subscribe again");
    assert_eq!(again, [(filter("x/+"), QoS::AtLeastOnce.into())]);
    assert_eq!(t.resubscriptions(true), None, "the session kept them");
    let mut off = T::new(false);
    off.subscriptions = again;
    assert_eq!(off.resubscriptions(false), None);
}

/// SUBSCRIBE and UNSUBSCRIBE are not sent again after a reconnection
/// (§4.4: only PUBLISH and PUBREL are): their waiters learn it, their
/// identifiers are released; publishes keep waiting until `close`.
#[test]
fn a_lost_connection_fails_requests_and_keeps_publishes() {
    let mut t = T::new(true);
    t.wait_subscribe(7, vec![(filter("x"), QoS::AtMostOnce.into())], Some(1));
    t.wait_unsubscribe(8, vec![filter("y")], 2);
    t.wait_publish(9, 3);
    let mut released = Vec::new();
    let answers = t.connection_ended(|id| released.push(id));
    released.sort_unstable();
    assert_eq!(released, [7, 8]);
    assert_eq!(answers.len(), 2);
    assert!(answers.iter().all(|a| matches!(
        a,
        Answer::Subscribe(1, Err(Failure::Closed)) | Answer::Unsubscribe(2, Err(Failure::Closed))
    )));
    let answers = t.close();
    assert!(matches!(
        answers[..],
        [Answer::Publish(3, Err(Failure::Closed))]
    ));
    assert!(t.close().is_empty());
}

#[test]
fn packets_of_both_versions() {
    let subs = [(
        filter("a/#"),
        v5_0::SubscriptionOptions::new(QoS::ExactlyOnce),
    )];
    let p = subscribe_packet::<u16>(mqtt_codec::ProtocolVersion::V3_1_1, 3, &subs).unwrap();
    assert!(matches!(
        p,
        GenericPacket::V3_1_1(v3_1_1::Packet::Subscribe(_))
    ));
    let p = subscribe_packet::<u16>(mqtt_codec::ProtocolVersion::V5_0, 3, &subs).unwrap();
    assert!(matches!(p, GenericPacket::V5_0(v5_0::Packet::Subscribe(_))));
    assert!(subscribe_packet::<u16>(mqtt_codec::ProtocolVersion::V5_0, 3, &[]).is_err());
    let p = unsubscribe_packet::<u16>(mqtt_codec::ProtocolVersion::V5_0, 4, &[filter("a")]);
    assert!(matches!(
        p,
        Ok(GenericPacket::V5_0(v5_0::Packet::Unsubscribe(_)))
    ));
    assert!(unsubscribe_packet::<u16>(mqtt_codec::ProtocolVersion::V3_1_1, 4, &[]).is_err());
}
