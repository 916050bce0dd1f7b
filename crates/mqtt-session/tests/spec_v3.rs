//! Statements of MQTT v3.1.1 whose ids name another rule in v5.0 (the
//! v5.0 ones are cited in `src/tests.rs`): the QoS 2 Sender's steps and how
//! long the Session state is kept, checked on a v3.1.1 [`Session`].

use core::num::NonZeroU16;

use mqtt_codec::{v3_1_1, Message, ProtocolVersion, QoS};
use mqtt_session::{
    Delivery, FlowState, MonotonicTime, Outbound, Outgoing, Publish, PubrecOutcome, Pubrel,
    Session, SESSION_NEVER_EXPIRES,
};

fn receive_maximum() -> NonZeroU16 {
    NonZeroU16::new(10).unwrap()
}

fn at(secs: u64) -> MonotonicTime {
    MonotonicTime::from_millis(secs * 1000)
}

/// A message on `t` at `qos`, taken from a v3.1.1 PUBLISH received with
/// DUP `dup` and an identifier of its own (as a broker forwards it).
fn message(qos: QoS, payload: &'static [u8], dup: bool) -> Message {
    let mut b = v3_1_1::Publish::<u16>::builder()
        .try_topic_name("t")
        .unwrap()
        .qos(qos)
        .payload(payload);
    if qos != QoS::AtMostOnce {
        b = b.packet_id(100).dup(dup);
    }
    b.build().unwrap().into_message()
}

/// What [`Session::publish`] returned, which must be a PUBLISH to send now.
fn sent(outbound: Result<Outbound, mqtt_session::Rejected>) -> Publish {
    match outbound {
        Ok(Outbound::Send(p)) => p,
        other => panic!("expected Send, got {other:?}"),
    }
}

/// Publishes on a connected session: the PUBLISH to send now.
fn send(s: &mut Session, qos: QoS, payload: &'static [u8], now: MonotonicTime) -> Publish {
    sent(s.publish(message(qos, payload, false), now))
}

/// A v3.1.1 session with the Session Expiry Interval `expiry` (the core
/// sets 0 for Clean Session 1, "never" for 0), connected without a present
/// session.
fn connected(expiry: u32) -> Session {
    let mut s = Session::new(ProtocolVersion::V3_1_1);
    s.set_session_expiry_interval(expiry);
    assert!(s.on_connected(false, receive_maximum(), at(0)).is_empty());
    s
}

/// Connects `s` again with its session present: what it re-sends, as
/// (identifier, is a PUBLISH, DUP, payload).
fn reconnect(s: &mut Session, now: MonotonicTime) -> Vec<(u16, bool, bool, Vec<u8>)> {
    s.on_connected(true, receive_maximum(), now)
        .iter()
        .map(|o| match o {
            Outgoing::Publish(p) => (p.packet_id().unwrap(), true, p.dup(), p.payload().to_vec()),
            Outgoing::Pubrel(r) => (r.packet_id(), false, false, Vec::new()),
        })
        .collect()
}

/// v3.1.1 [MQTT-4.3.3-1]: the QoS 2 Sender assigns an unused Packet
/// Identifier to a new message (not the one a QoS 1 flow or a SUBSCRIBE
/// holds); sends PUBLISH with QoS 2 and DUP 0 (even when handed in with
/// DUP 1); treats it as unacknowledged until the PUBREC (a PUBCOMP does not
/// end it, a reconnection re-sends the PUBLISH); answers the PUBREC with a
/// PUBREL of the same identifier; treats the PUBREL as unacknowledged until
/// the PUBCOMP (a repeated PUBREC gets it again, a reconnection re-sends
/// it); and never re-sends the PUBLISH after the PUBREL.
#[test]
fn v3_qos2_sender_steps() {
    let mut s = connected(SESSION_NEVER_EXPIRES);
    let qos1 = send(&mut s, QoS::AtLeastOnce, b"q1", at(0));
    let subscribe = s.acquire_packet_id().unwrap();
    let p = sent(s.publish(message(QoS::ExactlyOnce, b"q2", true), at(0)));
    let id = p.packet_id().unwrap();
    assert!(id != qos1.packet_id().unwrap() && id != subscribe);
    assert_eq!((p.qos(), p.dup()), (QoS::ExactlyOnce, false));

    assert_eq!(s.flow_state(id), Some(FlowState::AwaitingPubrec));
    assert!(s.on_pubcomp(id).is_err());
    assert_eq!(s.flow_state(id), Some(FlowState::AwaitingPubrec));
    s.on_disconnected(at(1));
    let again = reconnect(&mut s, at(2));
    assert!(
        again.contains(&(id, true, true, b"q2".to_vec())),
        "{again:?}"
    );

    let release = Pubrel::V3_1_1(v3_1_1::Pubrel::new(id));
    assert_eq!(
        s.on_pubrec(id, false).unwrap(),
        PubrecOutcome::Release(release.clone())
    );
    assert_eq!(s.flow_state(id), Some(FlowState::AwaitingPubcomp));
    assert_eq!(
        s.on_pubrec(id, false).unwrap(),
        PubrecOutcome::Release(release)
    );
    s.on_disconnected(at(3));
    let again = reconnect(&mut s, at(4));
    let ours: Vec<_> = again.iter().filter(|r| r.0 == id).collect();
    assert_eq!(ours, [&(id, false, false, Vec::new())]);
    assert_eq!(s.pop_ready(at(4)), None);

    s.on_pubcomp(id).unwrap();
    assert_eq!(s.flow_state(id), None);
    assert!(!s.packet_ids().is_in_use(id));
}

/// Leaves every kind of Session state (§4.1) on `s`: a QoS 1 flow (id 1),
/// a QoS 2 flow awaiting PUBREC (2), one awaiting PUBCOMP (3), and a
/// received QoS 2 identifier (9) awaiting its PUBREL.
fn load(s: &mut Session, now: MonotonicTime) {
    send(s, QoS::AtLeastOnce, b"1", now);
    send(s, QoS::ExactlyOnce, b"2", now);
    send(s, QoS::ExactlyOnce, b"3", now);
    assert!(matches!(
        s.on_pubrec(3, false),
        Ok(PubrecOutcome::Release(_))
    ));
    assert_eq!(s.on_publish(QoS::ExactlyOnce, Some(9)), Ok(Delivery::New));
    s.pubrec_sent(9, false);
}

/// v3.1.1 [MQTT-4.1.0-1] (the Client's side; the Server's is checked by the
/// example broker's tests): the Session state is stored for the entire
/// Session. A Clean Session 0 session keeps its flows, its received QoS 2
/// identifier and a message queued while disconnected, however long the
/// disconnection, and resumes them all: the QoS 1 and 2 PUBLISH again with
/// DUP, the PUBREL, the received identifier still a duplicate until its
/// PUBREL, then the queued message.
#[test]
fn v3_session_state_stored_for_the_whole_session() {
    let mut s = connected(SESSION_NEVER_EXPIRES);
    load(&mut s, at(0));
    s.on_disconnected(at(1));
    assert!(matches!(
        s.publish(message(QoS::AtLeastOnce, b"4", false), at(1)),
        Ok(Outbound::Queued {
            packet_id: Some(4),
            ..
        })
    ));
    assert!(!s.is_expired(MonotonicTime::MAX));

    let later = at(10_000_000);
    let again = reconnect(&mut s, later);
    assert_eq!(
        again,
        [
            (1, true, true, b"1".to_vec()),
            (2, true, true, b"2".to_vec()),
            (3, false, false, Vec::new())
        ]
    );
    assert_eq!(
        s.on_publish(QoS::ExactlyOnce, Some(9)),
        Ok(Delivery::Duplicate)
    );
    s.pubrec_sent(9, false);
    s.on_pubrel(9).unwrap();
    let queued = s.pop_ready(later).unwrap();
    assert_eq!(
        (queued.payload(), queued.dup(), queued.packet_id()),
        (&b"4"[..], false, Some(4))
    );
}

/// v3.1.1 [MQTT-4.1.0-2]: a Session lasts at least as long as its network
/// connection. A Clean Session 1 session (it ends with the connection:
/// interval 0) is never expired while connected, however long, and keeps
/// all its state meanwhile; it expires only once disconnected.
#[test]
fn v3_session_lasts_while_connected() {
    let mut s = connected(0);
    load(&mut s, at(0));
    assert!(!s.is_expired(MonotonicTime::MAX));
    assert_eq!(
        s.in_flight().collect::<Vec<_>>(),
        [
            (1, FlowState::AwaitingPuback),
            (2, FlowState::AwaitingPubrec),
            (3, FlowState::AwaitingPubcomp)
        ]
    );
    assert!(s.is_qos2_pending(9));
    s.on_disconnected(at(10_000_000));
    assert!(s.is_expired(at(10_000_000)));
}
