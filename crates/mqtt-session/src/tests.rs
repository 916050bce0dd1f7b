//! Unit tests of [`Session`]: every transition, citing the statements of
//! the spec they check.

use core::num::NonZeroU16;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, Message, MessageProperties, ProtocolVersion, QoS, TopicName};

use crate::*;

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5_0;

fn rm(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap()
}

fn at(secs: u64) -> MonotonicTime {
    MonotonicTime::from_millis(secs * 1000)
}

/// A message to topic "t", without properties.
fn msg(qos: QoS, payload: &'static [u8]) -> Message {
    expiring(qos, payload, None)
}

/// A message to topic "t" with a Message Expiry Interval (v5.0).
fn expiring(qos: QoS, payload: &'static [u8], expiry: Option<u32>) -> Message {
    Message::builder()
        .topic_name(TopicName::from_static("t").unwrap())
        .qos(qos)
        .payload(payload)
        .properties(MessageProperties {
            message_expiry_interval: expiry,
            ..Default::default()
        })
        .build()
        .unwrap()
}

fn connected(version: ProtocolVersion, peer_rm: u16) -> Session {
    let mut s = Session::new(version);
    assert!(!s.is_connected());
    assert!(s.on_connected(false, rm(peer_rm), at(0)).is_empty());
    assert!(s.is_connected());
    assert_eq!(s.peer_receive_maximum(), rm(peer_rm));
    s
}

fn sent(outbound: Result<Outbound, Rejected>) -> Publish {
    match outbound {
        Ok(Outbound::Send(p)) => p,
        other => panic!("expected Send, got {other:?}"),
    }
}

/// The identifier a queued message was numbered with, checking that none
/// was evicted.
fn queued(outbound: Result<Outbound, Rejected>) -> Option<u16> {
    match outbound {
        Ok(Outbound::Queued { packet_id, evicted }) if evicted.is_empty() => packet_id,
        other => panic!("expected Queued, got {other:?}"),
    }
}

fn payloads(ps: impl IntoIterator<Item = Publish>) -> Vec<Vec<u8>> {
    ps.into_iter().map(|p| p.payload().to_vec()).collect()
}

fn ids(s: &Session) -> Vec<u16> {
    s.packet_ids().iter().collect()
}

// ----- Publishing -----

/// [MQTT-4.3.2-1], [MQTT-4.3.2-2], [MQTT-2.2.1-3] a new QoS 1 message gets
/// an unused identifier and DUP 0, and [MQTT-4.3.2-3] stays stored.
#[test]
fn qos1_publish_is_assigned_an_id_and_stored() {
    let mut s = connected(V3, 10);
    s.register_packet_id(1).unwrap();
    // The message of a PUBLISH received with DUP set and an identifier of
    // its own (as a broker forwards it): neither carries over.
    let received = v3_1_1::Publish::<u16>::builder()
        .try_topic_name("t")
        .unwrap()
        .qos(QoS::AtLeastOnce)
        .packet_id(999)
        .dup(true)
        .payload(&b"a"[..])
        .build()
        .unwrap();
    let p = sent(s.publish(received.into_message(), at(0)));
    assert_eq!(p.packet_id(), Some(2));
    assert!(!p.dup());
    assert_eq!(s.flow_state(2), Some(FlowState::AwaitingPuback));
    assert!(s.packet_ids().is_in_use(2));
    assert_eq!(s.send_quota_available(), 9);
}

/// [MQTT-4.3.3-1], [MQTT-4.3.3-2], [MQTT-4.3.3-3] the same for QoS 2.
#[test]
fn qos2_publish_is_assigned_an_id_and_stored() {
    let mut s = connected(V5, 10);
    let p = sent(s.publish(msg(QoS::ExactlyOnce, b"a"), at(0)));
    assert_eq!((p.packet_id(), p.dup()), (Some(1), false));
    assert_eq!(s.flow_state(1), Some(FlowState::AwaitingPubrec));
}

/// [MQTT-2.2.1-2] QoS 0 is sent without identifier or storage.
#[test]
fn qos0_is_sent_and_forgotten() {
    let mut s = connected(V5, 1);
    let p = sent(s.publish(msg(QoS::AtMostOnce, b"a"), at(0)));
    assert_eq!(p.packet_id(), None);
    assert_eq!(s.in_flight_len(), 0);
    assert!(s.packet_ids().is_empty());
}

/// Publishing while disconnected queues, numbering QoS 1 and 2 at once
/// [MQTT-2.2.1-3]; the queue is released in order, with those identifiers,
/// once connected.
#[test]
fn offline_publish_is_queued_then_sent_in_order() {
    let mut s = Session::<u16>::new(V3);
    assert_eq!(
        queued(s.publish(msg(QoS::AtLeastOnce, b"1"), at(0))),
        Some(1)
    );
    assert_eq!(queued(s.publish(msg(QoS::AtMostOnce, b"2"), at(0))), None);
    assert_eq!(
        queued(s.publish(msg(QoS::ExactlyOnce, b"3"), at(0))),
        Some(2)
    );
    assert_eq!(s.pop_ready(at(0)), None);
    assert_eq!(s.queue_len(), 3);
    assert_eq!(ids(&s), [1, 2]);
    assert_eq!(s.queued_packet_ids().collect::<Vec<_>>(), [1, 2]);
    s.on_connected(false, rm(65_535), at(1));
    let out: Vec<_> = core::iter::from_fn(|| s.pop_ready(at(1))).collect();
    assert_eq!(
        payloads(out.clone()),
        [b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]
    );
    assert_eq!(out[0].packet_id(), Some(1));
    assert_eq!(out[1].packet_id(), None);
    assert_eq!(out[2].packet_id(), Some(2));
    assert_eq!(s.in_flight_len(), 2);
    assert_eq!(s.queue_len(), 0);
}

/// With `queue_qos0_offline` off, QoS 0 is refused while disconnected, and
/// the message handed back.
#[test]
fn qos0_offline_can_be_refused() {
    let config = SessionConfig {
        queue_qos0_offline: false,
        ..Default::default()
    };
    let mut s = Session::<u16>::with_config(V3, config);
    let r = s.publish(msg(QoS::AtMostOnce, b"x"), at(0)).unwrap_err();
    assert_eq!(r.error(), &SessionError::NotConnected);
    assert_eq!(r.into_message().payload(), b"x");
    queued(s.publish(msg(QoS::AtLeastOnce, b"y"), at(0)));
}

/// [MQTT-3.3.4-7], [MQTT-3.3.4-9], [MQTT-4.9.0-2] no more QoS > 0 PUBLISH in
/// flight than the peer's Receive Maximum; the quota frees on PUBACK,
/// PUBCOMP and a failed PUBREC, not on a successful PUBREC (§4.9).
#[test]
fn send_quota_follows_the_peer_receive_maximum() {
    let mut s = connected(V5, 2);
    let a = sent(s.publish(msg(QoS::AtLeastOnce, b"a"), at(0)));
    let b = sent(s.publish(msg(QoS::ExactlyOnce, b"b"), at(0)));
    // Over the quota: queued, numbered already.
    assert_eq!(
        queued(s.publish(msg(QoS::ExactlyOnce, b"c"), at(0))),
        Some(3)
    );
    assert_eq!(
        queued(s.publish(msg(QoS::AtLeastOnce, b"d"), at(0))),
        Some(4)
    );
    assert_eq!(s.send_quota_available(), 0);
    assert_eq!(s.pop_ready(at(0)), None);
    // A successful PUBREC frees nothing.
    let b_id = b.packet_id().unwrap();
    assert!(matches!(
        s.on_pubrec(b_id, false),
        Ok(PubrecOutcome::Release(_))
    ));
    assert_eq!(s.pop_ready(at(0)), None);
    // PUBACK frees one.
    s.on_puback(a.packet_id().unwrap()).unwrap();
    let c = s.pop_ready(at(0)).unwrap();
    assert_eq!((c.payload(), c.packet_id()), (&b"c"[..], Some(3)));
    assert_eq!(s.pop_ready(at(0)), None);
    // A failed PUBREC frees one, and ends the flow [MQTT-4.4.0-2].
    let c_id = c.packet_id().unwrap();
    assert!(matches!(
        s.on_pubrec(c_id, true),
        Ok(PubrecOutcome::Failed(_))
    ));
    assert!(!s.packet_ids().is_in_use(c_id));
    let d = s.pop_ready(at(0)).unwrap();
    assert_eq!(d.payload(), b"d");
    // PUBCOMP frees one.
    s.on_pubcomp(b_id).unwrap();
    assert_eq!(s.send_quota_available(), 1);
}

/// A QoS 2 maximum below the Receive Maximum: QoS 2 flows count against
/// it until their PUBCOMP (a PUBREL in flight included); a QoS 2 message
/// beyond it waits, and QoS 1 and 0 messages published after it wait
/// behind it, so the order is kept; QoS 1 goes on while no QoS 2 waits.
#[test]
fn qos2_send_maximum_holds_qos2_flows_only_and_keeps_the_order() {
    let mut s = connected(V3, 100);
    s.set_qos2_send_maximum(Some(rm(2)));
    let a = sent(s.publish(msg(QoS::ExactlyOnce, b"a"), at(0)));
    sent(s.publish(msg(QoS::ExactlyOnce, b"b"), at(0)));
    for _ in 0..10 {
        sent(s.publish(msg(QoS::AtLeastOnce, b"1"), at(0)));
    }
    queued(s.publish(msg(QoS::ExactlyOnce, b"c"), at(0)));
    queued(s.publish(msg(QoS::AtLeastOnce, b"d"), at(0)));
    queued(s.publish(msg(QoS::AtMostOnce, b"e"), at(0)));
    assert_eq!(s.pop_ready(at(0)), None);
    // The PUBREL still holds its place [MQTT-4.3.3-5].
    let a_id = a.packet_id().unwrap();
    assert!(matches!(
        s.on_pubrec(a_id, false),
        Ok(PubrecOutcome::Release(_))
    ));
    assert_eq!(s.pop_ready(at(0)), None);
    s.on_pubcomp(a_id).unwrap();
    let out: Vec<_> = core::iter::from_fn(|| s.pop_ready(at(0))).collect();
    assert_eq!(payloads(out), [b"c".to_vec(), b"d".to_vec(), b"e".to_vec()]);
    assert_eq!(s.send_quota_available(), 100 - 13);
}

/// Re-sent on a new network connection, the QoS 2 PUBLISH packets beyond
/// the QoS 2 maximum wait in order [MQTT-4.6.0-1], like those beyond the
/// Receive Maximum, and follow as PUBCOMPs come.
#[test]
fn qos2_send_maximum_holds_the_resends() {
    let mut s = connected(V3, 100);
    for p in [&b"a"[..], b"b", b"c"] {
        let _ = s.publish(
            Message::from_parts("t", QoS::ExactlyOnce, false, p).unwrap(),
            at(0),
        );
    }
    sent(s.publish(msg(QoS::AtLeastOnce, b"1"), at(0)));
    s.on_disconnected(at(0));
    s.set_qos2_send_maximum(Some(rm(2)));
    let resent = s.on_connected(true, rm(100), at(0));
    let ids: Vec<_> = resent.iter().map(Outgoing::packet_id).collect();
    assert_eq!(ids, [Some(1), Some(2)], "c and the QoS 1 after it wait");
    s.on_pubrec(1, false).unwrap();
    assert_eq!(s.pop_ready(at(0)), None);
    s.on_pubcomp(1).unwrap();
    let next: Vec<_> = core::iter::from_fn(|| s.pop_ready(at(0))).collect();
    assert_eq!(payloads(next), [b"c".to_vec(), b"1".to_vec()]);
}

/// [MQTT-4.9.0-3] QoS 0 needs no quota, but keeps its place behind queued
/// messages, so that messages leave in the order they were published.
#[test]
fn qos0_keeps_its_place_in_the_queue() {
    let mut s = connected(V5, 1);
    sent(s.publish(msg(QoS::AtLeastOnce, b"1"), at(0)));
    queued(s.publish(msg(QoS::AtLeastOnce, b"2"), at(0)));
    queued(s.publish(msg(QoS::AtMostOnce, b"3"), at(0)));
    assert_eq!(s.pop_ready(at(0)), None);
    s.on_puback(1).unwrap();
    assert_eq!(
        payloads(core::iter::from_fn(|| s.pop_ready(at(0)))),
        [b"2".to_vec(), b"3".to_vec()]
    );
}

/// `publish` drops the oldest queued messages to make room, releasing
/// their identifiers; `try_publish` reports the queue full instead, handing
/// the message back and taking no identifier.
#[test]
fn full_queue_evicts_or_refuses() {
    let config = SessionConfig {
        queue_max_messages: 2,
        ..Default::default()
    };
    let mut s = Session::<u16>::with_config(V3, config);
    assert_eq!(
        queued(s.publish(msg(QoS::AtLeastOnce, b"1"), at(0))),
        Some(1)
    );
    assert_eq!(
        queued(s.try_publish(msg(QoS::AtLeastOnce, b"2"), at(0))),
        Some(2)
    );
    let r = s
        .try_publish(msg(QoS::AtLeastOnce, b"3"), at(0))
        .unwrap_err();
    assert_eq!(r.error(), &SessionError::QueueFull);
    assert_eq!(r.into_message().payload(), b"3");
    assert_eq!(ids(&s), [1, 2]);
    let Ok(Outbound::Queued { packet_id, evicted }) = s.publish(msg(QoS::AtLeastOnce, b"3"), at(0))
    else {
        panic!("queued")
    };
    assert_eq!(packet_id, Some(3), "the refused message took none");
    let evicted: Vec<_> = evicted.iter().map(|(m, id)| (m.payload(), *id)).collect();
    assert_eq!(evicted, [(&b"1"[..], Some(1))]);
    assert_eq!(s.queue_len(), 2);
    assert_eq!(ids(&s), [2, 3]);
    assert_eq!(s.take_released(), [1]);
    assert!(!s.has_released());
}

/// §2.1.4: a message whose PUBLISH MQTT cannot frame (more than
/// 268,435,455 bytes of Remaining Length) is refused and handed back; one
/// that just fits is taken.
#[test]
fn largest_message() {
    let mut s = connected(V3, 10);
    let max = mqtt_codec::MAX_PACKET_SIZE as usize;
    // A zeroed allocation, not touched: the pages are never written.
    let message = |payload: usize| {
        Message::new(TopicName::from_static("t").unwrap(), vec![0u8; payload]).unwrap()
    };
    // 5 bytes of fixed header, 3 of Topic Name.
    let fits = message(max - 8);
    assert_eq!(fits.packet_len::<u16>(V3), max);
    assert_eq!(sent(s.publish(fits, at(0))).payload().len(), max - 8);
    let r = s.publish(message(max - 7), at(0)).unwrap_err();
    assert!(
        matches!(r.error(), &SessionError::PacketTooLarge(len) if len > max),
        "{r:?}"
    );
    assert_eq!(r.into_message().payload().len(), max - 7);
}

/// A message has no version: the session sends it in its own, whether it
/// goes out at once, from the queue, or again after a reconnection; v3.1.1
/// drops the v5.0 properties, which it cannot carry.
#[test]
fn messages_are_sent_in_the_session_version() {
    for version in [V3, V5] {
        let mut s = Session::<u16>::new(version);
        queued(s.publish(expiring(QoS::AtLeastOnce, b"q", Some(60)), at(0)));
        s.on_connected(false, rm(10), at(0));
        let from_queue = s.pop_ready(at(0)).unwrap();
        let now = sent(s.publish(expiring(QoS::ExactlyOnce, b"n", Some(60)), at(0)));
        let zero = sent(s.publish(expiring(QoS::AtMostOnce, b"z", Some(60)), at(0)));
        s.on_disconnected(at(1));
        let resent: Vec<_> = s
            .on_connected(true, rm(10), at(1))
            .into_iter()
            .map(|o| match o {
                Outgoing::Publish(p) => p,
                Outgoing::Pubrel(_) => panic!("no PUBREL"),
            })
            .collect();
        assert_eq!(resent.len(), 2);
        for p in [from_queue, now, zero].iter().chain(&resent) {
            assert_eq!(p.version(), version);
            let expiry = p.message_expiry_interval();
            match p {
                Publish::V3_1_1(_) => assert_eq!(expiry, None),
                Publish::V5_0(_) => assert!(matches!(expiry, Some(59 | 60))),
            }
        }
    }
}

/// A message with only a Topic Alias (no Topic Name) is refused and
/// handed back; a Topic Alias next to a Topic Name is dropped from the
/// stored copy (§3.3.2.3.4: aliases belong to one connection).
#[test]
fn messages_are_checked_when_handed_in() {
    let mut s = connected(V5, 10);
    let aliased = |topic: TopicName, qos: QoS| -> Message {
        let mut b = v5_0::Publish::<u16>::builder()
            .topic_name(topic)
            .qos(qos)
            .topic_alias(NonZeroU16::new(3).unwrap());
        if qos != QoS::AtMostOnce {
            b = b.packet_id(9);
        }
        b.build().unwrap().into_message()
    };
    let r = s
        .publish(aliased(TopicName::empty(), QoS::AtMostOnce), at(0))
        .unwrap_err();
    assert_eq!(r.error(), &SessionError::TopicAliasOnly);
    assert_eq!(r.into_message().topic_name(), "");
    let r = s
        .publish(aliased(TopicName::empty(), QoS::AtLeastOnce), at(0))
        .unwrap_err();
    assert_eq!(r.error(), &SessionError::TopicAliasOnly);
    assert!(s.packet_ids().is_empty());
    let topic = || TopicName::try_from("t").unwrap();
    let p = sent(s.publish(aliased(topic(), QoS::AtMostOnce), at(0)));
    let Publish::V5_0(p) = p else { unreachable!() };
    assert_eq!(p.topic_alias(), None);
    // The stored copy of a QoS 1 message, re-sent, has none either.
    let p = sent(s.publish(aliased(topic(), QoS::AtLeastOnce), at(0)));
    let Publish::V5_0(p) = p else { unreachable!() };
    assert_eq!(p.topic_alias(), None);
    s.on_disconnected(at(1));
    let resent = s.on_connected(true, rm(10), at(1));
    let [Outgoing::Publish(Publish::V5_0(p))] = &resent[..] else {
        panic!("one v5.0 PUBLISH, got {resent:?}")
    };
    assert_eq!((p.topic_name(), p.topic_alias()), ("t", None));
}

/// `publish_with_id` keeps the caller's identifier, registering it, sends
/// while the quota allows and then queues with that identifier
/// [MQTT-4.9.0-2]; it refuses 0 and an identifier a flow or a queued
/// message holds [MQTT-2.2.1-3], changing nothing.
#[test]
fn publish_with_the_callers_id() {
    let mut s = connected(V3, 2);
    let id = s.acquire_packet_id().unwrap();
    let m = msg(QoS::AtLeastOnce, b"a");
    assert_eq!(
        sent(s.publish_with_id(m.clone(), id, at(0))).packet_id(),
        Some(id)
    );
    let r = s.publish_with_id(m.clone(), id, at(0)).unwrap_err();
    assert_eq!(r.error(), &SessionError::PacketIdInUse(u32::from(id)));
    let r = s.publish_with_id(m, 0, at(0)).unwrap_err();
    assert_eq!(r.error(), &SessionError::ZeroPacketId);
    assert_eq!(ids(&s), [id]);
    let p = sent(s.publish_with_id(msg(QoS::AtLeastOnce, b"b"), 500, at(0)));
    assert_eq!(p.packet_id(), Some(500));
    assert!(s.packet_ids().is_in_use(500));
    // The quota is used up: queued, keeping 501.
    let out = s.publish_with_id(msg(QoS::ExactlyOnce, b"c"), 501, at(0));
    assert_eq!(queued(out), Some(501));
    assert_eq!(s.queued_packet_ids().collect::<Vec<_>>(), [501]);
    let r = s
        .publish_with_id(msg(QoS::AtLeastOnce, b"d"), 501, at(0))
        .unwrap_err();
    assert_eq!(r.error(), &SessionError::PacketIdInUse(501));
    assert_eq!(s.queue_len(), 1);
    // QoS 0 ignores the identifier.
    assert_eq!(
        queued(s.publish_with_id(msg(QoS::AtMostOnce, b"e"), 0, at(0))),
        None
    );
    s.on_puback(id).unwrap();
    let p = s.pop_ready(at(0)).unwrap();
    assert_eq!((p.payload(), p.packet_id()), (&b"c"[..], Some(501)));
    assert_eq!(s.flow_state(501), Some(FlowState::AwaitingPubrec));
    assert_eq!(s.pop_ready(at(0)).unwrap().packet_id(), None);
}

/// While disconnected `publish_with_id` queues with the caller's
/// identifier; QoS 0 is refused unless `queue_qos0_offline`.
#[test]
fn publish_with_id_offline_queues() {
    let config = SessionConfig {
        queue_qos0_offline: false,
        ..Default::default()
    };
    let mut s = Session::<u16>::with_config(V5, config);
    assert_eq!(
        queued(s.publish_with_id(msg(QoS::AtLeastOnce, b"a"), 7, at(0))),
        Some(7)
    );
    assert_eq!(ids(&s), [7]);
    let r = s
        .publish_with_id(msg(QoS::AtMostOnce, b"b"), 8, at(0))
        .unwrap_err();
    assert_eq!(r.error(), &SessionError::NotConnected);
    assert_eq!(ids(&s), [7]);
    s.on_connected(false, rm(10), at(1));
    let p = s.pop_ready(at(1)).unwrap();
    assert_eq!((p.packet_id(), p.dup()), (Some(7), false));
    assert_eq!(s.flow_state(7), Some(FlowState::AwaitingPuback));
}

/// `publish_with_id` never evicts: over a full queue it errs with
/// `QueueFull`, releasing an identifier it registered and keeping one the
/// caller had acquired.
#[test]
fn publish_with_id_refuses_a_full_queue() {
    let config = SessionConfig {
        queue_max_messages: 1,
        ..Default::default()
    };
    let mut s = Session::<u16>::with_config(V3, config);
    queued(s.publish_with_id(msg(QoS::AtLeastOnce, b"a"), 3, at(0)));
    let r = s
        .publish_with_id(msg(QoS::AtLeastOnce, b"b"), 4, at(0))
        .unwrap_err();
    assert_eq!(r.error(), &SessionError::QueueFull);
    assert_eq!(ids(&s), [3]);
    let acquired = s.acquire_packet_id().unwrap();
    let r = s
        .publish_with_id(msg(QoS::ExactlyOnce, b"c"), acquired, at(0))
        .unwrap_err();
    assert_eq!(r.error(), &SessionError::QueueFull);
    assert!(s.packet_ids().is_in_use(acquired));
    let r = s
        .publish_with_id(msg(QoS::AtMostOnce, b"d"), 0, at(0))
        .unwrap_err();
    assert_eq!(r.error(), &SessionError::QueueFull);
    assert_eq!(s.queue_len(), 1);
    assert!(!s.has_released());
}

// ----- Acknowledgements -----

/// [MQTT-2.2.1-5] an acknowledgement that matches no flow, or of the wrong
/// kind, errs and loses nothing; the reason codes the core answers with.
#[test]
fn mismatched_acks_lose_nothing() {
    let mut s = connected(V5, 10);
    sent(s.publish(msg(QoS::AtLeastOnce, b"a"), at(0)));
    sent(s.publish(msg(QoS::ExactlyOnce, b"b"), at(0)));
    let e = s.on_puback(7).unwrap_err();
    assert_eq!(
        (e.clone(), e.reason_code()),
        (SessionError::PacketIdNotFound(7), Some(0x92))
    );
    let e = s.on_puback(2).unwrap_err();
    assert_eq!(
        e,
        SessionError::UnexpectedAck {
            packet_type: PacketType::Puback,
            packet_id: 2,
            state: FlowState::AwaitingPubrec
        }
    );
    assert_eq!(e.reason_code(), Some(0x82));
    assert!(s.on_pubcomp(2).is_err());
    assert!(s.on_pubrec(1, false).is_err());
    assert_eq!(
        s.in_flight().collect::<Vec<_>>(),
        [
            (1, FlowState::AwaitingPuback),
            (2, FlowState::AwaitingPubrec)
        ]
    );
    assert_eq!(s.packet_ids().len(), 2);
}

/// [MQTT-4.3.3-4] the PUBREL carries the identifier of the PUBLISH, and
/// [MQTT-4.3.3-5] is stored until the PUBCOMP, which releases the id.
#[test]
fn qos2_sender_flow() {
    let mut s = connected(V3, 10);
    let id = sent(s.publish(msg(QoS::ExactlyOnce, b"a"), at(0)))
        .packet_id()
        .unwrap();
    let PubrecOutcome::Release(pubrel) = s.on_pubrec(id, false).unwrap() else {
        panic!("a PUBREL");
    };
    assert_eq!(pubrel, Pubrel::V3_1_1(v3_1_1::Pubrel::new(id)));
    assert_eq!(s.flow_state(id), Some(FlowState::AwaitingPubcomp));
    assert!(s.packet_ids().is_in_use(id));
    s.on_pubcomp(id).unwrap();
    assert_eq!(s.flow_state(id), None);
    assert!(!s.packet_ids().is_in_use(id));
}

/// Identifiers of stored flows are released by their acknowledgements only.
#[test]
fn release_packet_id_spares_flows() {
    let mut s = connected(V3, 10);
    let id = sent(s.publish(msg(QoS::AtLeastOnce, b"a"), at(0)))
        .packet_id()
        .unwrap();
    assert!(!s.release_packet_id(id));
    let sub = s.acquire_packet_id().unwrap();
    assert_ne!(sub, id);
    assert_eq!(
        s.register_packet_id(sub),
        Err(SessionError::PacketIdInUse(u32::from(sub)))
    );
    assert!(s.release_packet_id(sub));
    assert!(!s.release_packet_id(sub));
}

// ----- Reconnection -----

/// [MQTT-4.4.0-1], [MQTT-4.6.0-1], [MQTT-3.3.1-1], [MQTT-2.3.1-3] with the
/// session present, unacknowledged PUBLISH packets are re-sent with DUP set,
/// their original identifiers, in their order, and PUBREL packets instead of
/// PUBLISH once PUBREC arrived [MQTT-4.3.3-6].
#[test]
fn reconnect_resends_in_order() {
    let mut s = connected(V3, 10);
    for payload in [b"1", b"2", b"3"] {
        sent(s.publish(msg(QoS::ExactlyOnce, payload), at(0)));
    }
    sent(s.publish(msg(QoS::AtLeastOnce, b"4"), at(0)));
    s.on_pubrec(2, false).unwrap();
    s.on_disconnected(at(1));
    // Nothing leaves while disconnected.
    assert_eq!(s.pop_ready(at(1)), None);
    let resend = s.on_connected(true, rm(10), at(2));
    let summary: Vec<_> = resend
        .iter()
        .map(|o| match o {
            Outgoing::Publish(p) => (p.packet_id().unwrap(), "PUBLISH", p.dup()),
            Outgoing::Pubrel(r) => (r.packet_id(), "PUBREL", false),
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "PUBLISH", true),
            (2, "PUBREL", false),
            (3, "PUBLISH", true),
            (4, "PUBLISH", true)
        ]
    );
    // The stored copies keep DUP 0: every re-send sets it on its copy.
    assert_eq!(s.send_quota_available(), 6);
}

/// [MQTT-4.9.0-1], [MQTT-4.9.0-2] after a reconnection, PUBLISH packets are
/// re-sent only as far as the new send quota allows; every PUBREL is sent
/// [MQTT-3.3.4-8]; the others follow, in order, before queued messages.
#[test]
fn reconnect_resends_within_the_new_quota() {
    let mut s = connected(V5, 10);
    for payload in [b"1", b"2", b"3", b"4"] {
        sent(s.publish(msg(QoS::ExactlyOnce, payload), at(0)));
    }
    s.on_pubrec(4, false).unwrap();
    s.on_disconnected(at(1));
    queued(s.publish(msg(QoS::AtLeastOnce, b"5"), at(1)));
    let resend = s.on_connected(true, rm(2), at(2));
    let ids: Vec<_> = resend.iter().map(|o| o.packet_id().unwrap()).collect();
    assert_eq!(ids, [1, 4]); // PUBLISH 1 fits beside PUBREL 4
    assert_eq!(s.pop_ready(at(2)), None);
    s.on_pubcomp(4).unwrap();
    let p = s.pop_ready(at(2)).unwrap();
    assert_eq!((p.packet_id(), p.dup()), (Some(2), true));
    // A new message waits behind the re-sends, whatever its QoS.
    queued(s.publish(msg(QoS::AtMostOnce, b"6"), at(2)));
    s.on_puback(1).unwrap_err(); // QoS 2 flow: wrong ack, nothing changes
    s.on_pubrec(1, true).unwrap();
    let p = s.pop_ready(at(2)).unwrap();
    assert_eq!((p.packet_id(), p.dup()), (Some(3), true));
    s.on_pubrec(2, true).unwrap();
    assert_eq!(
        payloads(core::iter::from_fn(|| s.pop_ready(at(2)))),
        [b"5".to_vec(), b"6".to_vec()]
    );
}

/// [MQTT-3.1.2-4] (v5.0) / [MQTT-3.1.2-6] (v3.1.1) without a present
/// session, the stored state is discarded; the pending queue stays, and its
/// messages keep the identifiers they were numbered with.
#[test]
fn clean_start_discards_the_session_state() {
    let mut s = connected(V5, 10);
    sent(s.publish(msg(QoS::AtLeastOnce, b"1"), at(0)));
    s.acquire_packet_id().unwrap();
    s.on_publish(QoS::ExactlyOnce, Some(9)).unwrap();
    s.on_disconnected(at(1));
    assert_eq!(
        queued(s.publish(msg(QoS::AtLeastOnce, b"2"), at(1))),
        Some(3)
    );
    assert_eq!(queued(s.publish(msg(QoS::AtMostOnce, b"3"), at(1))), None);
    assert_eq!(ids(&s), [1, 2, 3]);
    assert!(s.on_connected(false, rm(10), at(2)).is_empty());
    assert_eq!(s.in_flight_len(), 0);
    assert_eq!(ids(&s), [3], "only the queued message's identifier");
    assert!(!s.is_qos2_pending(9));
    assert_eq!(s.queue_len(), 2);
    assert_eq!(s.queued_packet_ids().collect::<Vec<_>>(), [3]);
    // A new message does not take the queued one's identifier.
    assert_eq!(
        queued(s.publish(msg(QoS::AtLeastOnce, b"4"), at(2))),
        Some(4)
    );
    assert_eq!(s.pop_ready(at(2)).unwrap().packet_id(), Some(3));
    assert_eq!(s.flow_state(3), Some(FlowState::AwaitingPuback));
}

// ----- Message Expiry -----

/// [MQTT-3.3.2-5] a queued message whose interval passed is not sent;
/// [MQTT-3.3.2-6] one sent later carries what is left of it.
#[test]
fn queued_messages_expire() {
    let mut s = Session::<u16>::new(V5);
    queued(s.publish(expiring(QoS::AtLeastOnce, b"short", Some(5)), at(0)));
    queued(s.publish(expiring(QoS::AtLeastOnce, b"long", Some(60)), at(0)));
    queued(s.publish(msg(QoS::AtMostOnce, b"never"), at(0)));
    s.on_connected(false, rm(10), at(10));
    assert!(!s.has_released());
    let out: Vec<_> = core::iter::from_fn(|| s.pop_ready(at(10))).collect();
    assert_eq!(payloads(out.clone()), [b"long".to_vec(), b"never".to_vec()]);
    assert_eq!(out[0].message_expiry_interval(), Some(50));
    assert_eq!(out[0].packet_id(), Some(2));
    assert_eq!(out[1].message_expiry_interval(), None);
    // The dropped one's identifier is free again, and reported once.
    assert!(s.has_released());
    assert_eq!(s.take_released(), [1]);
    assert_eq!(s.take_released(), []);
    assert_eq!(ids(&s), [2]);
}

/// [MQTT-3.3.2-5] a full queue first drops the messages whose interval
/// passed, whether the new one may evict or not: their identifiers are
/// released and reported, and they are not among the evicted.
#[test]
fn expired_messages_make_room() {
    for evict in [false, true] {
        let config = SessionConfig {
            queue_max_messages: 1,
            ..Default::default()
        };
        let mut s = Session::<u16>::with_config(V5, config);
        queued(s.publish(expiring(QoS::AtLeastOnce, b"old", Some(5)), at(0)));
        let new = msg(QoS::ExactlyOnce, b"new");
        let out = if evict {
            s.publish(new, at(5))
        } else {
            s.try_publish(new, at(5))
        };
        assert_eq!(queued(out), Some(2), "evict: {evict}");
        assert_eq!(s.take_released(), [1]);
        assert_eq!(ids(&s), [2]);
        assert_eq!(s.queue_len(), 1);
    }
}

/// [MQTT-3.3.2-6] a stored PUBLISH re-sent carries what is left of its
/// interval; [MQTT-4.3.3-7] once sent it is re-sent even after its interval
/// passed (with 1 second), its delivery having started.
#[test]
fn stored_messages_carry_the_expiry_left() {
    let mut s = connected(V5, 10);
    sent(s.publish(expiring(QoS::AtLeastOnce, b"1", Some(100)), at(0)));
    sent(s.publish(expiring(QoS::ExactlyOnce, b"2", Some(10)), at(0)));
    s.on_disconnected(at(20));
    let resend = s.on_connected(true, rm(10), at(30));
    let intervals: Vec<_> = resend
        .iter()
        .map(|o| match o {
            Outgoing::Publish(p) => p.message_expiry_interval(),
            Outgoing::Pubrel(_) => None,
        })
        .collect();
    assert_eq!(intervals, [Some(70), Some(1)]);
}

// ----- Receiving -----

/// [MQTT-4.3.3-8], [MQTT-4.3.3-10] a QoS 2 PUBLISH seen again before its
/// PUBREL is acknowledged but not delivered twice, across reconnections;
/// [MQTT-4.3.3-11], [MQTT-4.3.3-12] after the PUBREL it is new again.
#[test]
fn qos2_receiver_delivers_once() {
    let mut s = connected(V5, 10);
    assert_eq!(s.on_publish(QoS::ExactlyOnce, Some(5)), Ok(Delivery::New));
    s.pubrec_sent(5, false);
    assert!(s.is_qos2_pending(5));
    s.on_disconnected(at(1));
    s.on_connected(true, rm(10), at(2));
    assert_eq!(
        s.on_publish(QoS::ExactlyOnce, Some(5)),
        Ok(Delivery::Duplicate)
    );
    s.pubrec_sent(5, false);
    assert_eq!(s.on_pubrel(5), Ok(()));
    assert!(!s.is_qos2_pending(5));
    assert_eq!(s.on_publish(QoS::ExactlyOnce, Some(5)), Ok(Delivery::New));
}

/// [MQTT-4.3.3-10] a QoS 2 identifier awaiting its PUBREL is session state:
/// a session holding only that is not empty, and is again after the PUBREL.
#[test]
fn qos2_pending_is_session_state() {
    let mut s = connected(V3, 10);
    assert!(s.is_empty());
    assert_eq!(s.on_publish(QoS::ExactlyOnce, Some(7)), Ok(Delivery::New));
    s.pubrec_sent(7, false);
    s.on_disconnected(at(1));
    assert_eq!((s.in_flight_len(), s.queue_len()), (0, 0));
    assert_eq!(s.qos2_pending_len(), 1);
    assert!(!s.is_empty());
    s.on_connected(true, rm(10), at(2));
    assert_eq!(s.on_pubrel(7), Ok(()));
    assert_eq!(s.qos2_pending_len(), 0);
    assert!(s.is_empty());
}

/// `forget_qos2_received`: every identifier awaiting its PUBREL is
/// forgotten, as if released [MQTT-4.3.3-12]: a PUBLISH under one is new,
/// a PUBREL for one finds nothing (v5.0 PUBCOMP 0x92); the flows we sent
/// stay.
#[test]
fn forgetting_the_qos2_received_frees_their_identifiers() {
    let mut s = connected(V5, 10);
    for id in [3, 4] {
        assert_eq!(s.on_publish(QoS::ExactlyOnce, Some(id)), Ok(Delivery::New));
        s.pubrec_sent(id, false);
    }
    let sent = sent(s.publish(msg(QoS::AtLeastOnce, b"a"), at(0)));
    s.forget_qos2_received();
    assert_eq!(s.qos2_pending_len(), 0);
    assert_eq!(s.on_publish(QoS::ExactlyOnce, Some(3)), Ok(Delivery::New));
    assert_eq!(s.on_pubrel(4), Err(SessionError::PacketIdNotFound(4)));
    assert_eq!(s.in_flight_len(), 1);
    assert!(s.packet_ids().is_in_use(sent.packet_id().unwrap()));
}

/// [MQTT-4.3.3-9] after a PUBREC with a failure code, the identifier is new.
#[test]
fn failed_pubrec_forgets_the_id() {
    let mut s = connected(V5, 10);
    assert_eq!(s.on_publish(QoS::ExactlyOnce, Some(5)), Ok(Delivery::New));
    s.pubrec_sent(5, true);
    assert_eq!(s.on_publish(QoS::ExactlyOnce, Some(5)), Ok(Delivery::New));
}

/// [MQTT-4.3.2-4], [MQTT-4.3.2-5] QoS 1 is always a new message.
#[test]
fn qos1_receiver_always_delivers() {
    let mut s = connected(V3, 10);
    assert_eq!(s.on_publish(QoS::AtLeastOnce, Some(5)), Ok(Delivery::New));
    s.puback_sent(5);
    assert_eq!(s.on_publish(QoS::AtLeastOnce, Some(5)), Ok(Delivery::New));
    assert_eq!(s.on_publish(QoS::AtMostOnce, None), Ok(Delivery::New));
    assert_eq!(
        s.on_publish(QoS::AtLeastOnce, None),
        Err(SessionError::ZeroPacketId)
    );
}

/// A PUBREL for an identifier not kept: PUBCOMP 0x92 on v5.0 (§3.7.2.1).
#[test]
fn unknown_pubrel() {
    let mut s = connected(V5, 10);
    let e = s.on_pubrel(3).unwrap_err();
    assert_eq!(
        (e.clone(), e.reason_code()),
        (SessionError::PacketIdNotFound(3), Some(0x92))
    );
}

/// [MQTT-3.3.4-7], [MQTT-3.3.4-9] (the receiver's side, §3.3.4) a peer with
/// more than our Receive Maximum unacknowledged is refused with 0x93;
/// PUBACK, failed PUBREC and PUBREL (answered by PUBCOMP) free its quota;
/// each connection counts afresh (§4.9).
#[test]
fn receive_maximum_is_enforced() {
    let config = SessionConfig {
        receive_maximum: rm(2),
        ..Default::default()
    };
    let mut s = Session::<u16>::with_config(V5, config);
    assert_eq!(s.receive_maximum(), rm(2));
    s.on_connected(false, rm(10), at(0));
    s.on_publish(QoS::AtLeastOnce, Some(1)).unwrap();
    s.on_publish(QoS::ExactlyOnce, Some(2)).unwrap();
    let e = s.on_publish(QoS::AtLeastOnce, Some(3)).unwrap_err();
    assert_eq!(
        (e.clone(), e.reason_code()),
        (SessionError::ReceiveMaximumExceeded(2), Some(0x93))
    );
    // QoS 0 is not counted.
    s.on_publish(QoS::AtMostOnce, None).unwrap();
    s.puback_sent(1);
    s.on_publish(QoS::ExactlyOnce, Some(3)).unwrap();
    s.pubrec_sent(2, false); // a successful PUBREC frees nothing
    assert!(s.on_publish(QoS::AtLeastOnce, Some(4)).is_err());
    s.on_pubrel(2).unwrap();
    s.on_publish(QoS::AtLeastOnce, Some(4)).unwrap();
    assert_eq!(s.unacknowledged_received(), 2);
    s.on_disconnected(at(1));
    s.on_connected(true, rm(10), at(1));
    assert_eq!(s.unacknowledged_received(), 0);
    s.set_receive_maximum(rm(1));
    s.on_publish(QoS::ExactlyOnce, Some(3)).unwrap(); // the re-send
    assert!(s.on_publish(QoS::ExactlyOnce, Some(5)).is_err());
}

// ----- Session Expiry -----

/// §3.1.2.11.2: interval 0 ends the session at disconnection;
/// [MQTT-4.1.0-1] never while connected; [MQTT-3.1.2-23], [MQTT-4.1.0-2] a
/// positive interval keeps it that long; `u32::MAX` forever.
#[test]
fn session_expiry() {
    let mut s = connected(V5, 10);
    assert!(!s.is_expired(at(1_000_000)));
    s.on_disconnected(at(10));
    assert!(s.is_expired(at(10)));

    s.set_session_expiry_interval(60);
    s.on_connected(true, rm(10), at(20));
    assert!(!s.is_expired(at(1_000)));
    s.on_disconnected(at(30));
    assert!(!s.is_expired(at(89)));
    assert!(s.is_expired(at(90)));

    s.set_session_expiry_interval(SESSION_NEVER_EXPIRES);
    s.on_connected(true, rm(10), at(100));
    s.on_disconnected(at(100));
    assert!(!s.is_expired(MonotonicTime::MAX));
    assert_eq!(s.session_expiry_interval(), u32::MAX);
}

/// `clear` discards everything, the queue included.
#[test]
fn clear_discards_everything() {
    let mut s = connected(V5, 1);
    sent(s.publish(msg(QoS::AtLeastOnce, b"1"), at(0)));
    queued(s.publish(msg(QoS::AtLeastOnce, b"2"), at(0)));
    // The PUBLISH of "2": 2 bytes of fixed header, 3 of Topic Name, 2 of
    // identifier, 1 of properties, 1 of payload.
    assert_eq!(s.queue_bytes(), 9);
    s.on_publish(QoS::ExactlyOnce, Some(4)).unwrap();
    s.clear();
    assert_eq!(
        (s.in_flight_len(), s.queue_len(), s.queue_bytes()),
        (0, 0, 0)
    );
    assert!(s.packet_ids().is_empty());
    assert!(!s.is_qos2_pending(4));
}

/// `shrink_to_fit` frees the identifier sets once empty: the pool's after
/// the acknowledgement of a QoS 1 message sent, the received QoS 2 set's
/// after the PUBREL; not while an identifier is held.
#[test]
fn shrink_to_fit_frees_emptied_identifier_sets() {
    let mut s = Session::<u16>::new(ProtocolVersion::V5_0);
    s.on_connected(false, rm(10), at(0));
    let id = sent(s.publish(msg(QoS::AtLeastOnce, b"x"), at(0)))
        .packet_id()
        .expect("QoS 1");
    s.on_publish(QoS::ExactlyOnce, Some(9)).unwrap();
    s.pubrec_sent(9, false);
    s.shrink_to_fit();
    assert!(s.pool.is_allocated() && s.incoming.qos2().is_allocated());
    s.on_puback(id).unwrap();
    s.on_pubrel(9).unwrap();
    assert!(s.pool.is_allocated() && s.incoming.qos2().is_allocated());
    s.shrink_to_fit();
    assert!(!s.pool.is_allocated() && !s.incoming.qos2().is_allocated());
}
