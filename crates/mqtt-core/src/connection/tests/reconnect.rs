//! What a Server connection that detects the version keeps when its network
//! connection closes, for a broker to store and resume the session.

use super::*;

/// A QoS 2 PUBLISH with `id`, DUP set as given.
fn qos2(version: ProtocolVersion, id: u16, dup: bool) -> GenericPacket {
    let mut packet = publish(version, "t", QoS::ExactlyOnce, Some(id));
    match &mut packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => p.set_dup(dup),
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => p.set_dup(dup),
        _ => unreachable!("publish() builds a PUBLISH"),
    }
    packet
}

fn pubrel(version: ProtocolVersion, id: u16) -> GenericPacket {
    match version {
        V3 => v3_1_1::Packet::from(v3_1_1::Pubrel::new(id)).into(),
        _ => v5_0::Packet::from(v5_0::Pubrel::new(id)).into(),
    }
}

/// A detecting Server that accepted `connect`.
fn detecting_server(connect: GenericPacket, connack: GenericPacket) -> Connection<Server> {
    let mut s = Connection::<Server>::detect_version_with_options(options());
    let events = feed(&mut s, [connect]);
    assert!(errors(&events).is_empty(), "{events:?}");
    let events = send(&mut s, connack);
    assert!(errors(&events).is_empty(), "{events:?}");
    assert_eq!(s.state(), ConnectionState::Connected);
    s
}

/// [MQTT-4.3.3-10] a QoS 2 PUBLISH received (PUBREC sent) and not yet
/// released is session state: when the network connection closes before
/// the PUBREL, a detecting connection keeps its version and that state even
/// with no outgoing flow or queued message, so the session is stored and
/// resumed (exported and imported) as it is, and the PUBLISH re-sent with
/// DUP and the same identifier is acknowledged and not delivered again.
#[test]
fn received_qos2_survives_a_reconnect() {
    for v in [V3, V5] {
        let mut s = detecting_server(persistent_connect(v, 300), connack(v));
        let events = feed(&mut s, [qos2(v, 5, false)]);
        assert_eq!(types(&received(&events)), [PacketType::Publish]);
        assert_eq!(types(&sent(&events)), [PacketType::Pubrec]);

        let _ = s.notify_closed();
        assert_eq!(s.version(), Some(v), "{v:?}: the version is kept");
        let session = s.session();
        assert_eq!((session.in_flight_len(), session.queue_len()), (0, 0));
        assert!(session.is_qos2_pending(5) && !session.is_empty());

        // The broker resumes the stored session on the next connection.
        let stored = s.export_session();
        let mut s = Connection::<Server>::detect_version_with_options(options());
        feed(&mut s, [persistent_connect(v, 300)]);
        s.import_session(&stored).unwrap();
        let events = send(&mut s, connack_present(v));
        assert!(errors(&events).is_empty(), "{events:?}");

        let events = feed(&mut s, [qos2(v, 5, true)]);
        assert!(received(&events).is_empty(), "{v:?}: delivered twice");
        assert_eq!(types(&sent(&events)), [PacketType::Pubrec]);
        let events = feed(&mut s, [pubrel(v, 5)]);
        assert_eq!(types(&sent(&events)), [PacketType::Pubcomp]);
        assert!(s.session().is_empty());
    }
}

/// A detecting connection whose session holds nothing at all forgets the
/// version when it closes: the next CONNECT may be of either version.
#[test]
fn an_empty_session_forgets_the_version() {
    for v in [V3, V5] {
        let mut s = detecting_server(persistent_connect(v, 300), connack(v));
        feed(&mut s, [qos2(v, 5, false)]);
        feed(&mut s, [pubrel(v, 5)]);
        let _ = s.notify_closed();
        assert!(s.session().is_empty());
        assert_eq!(s.version(), None, "{v:?}");
    }
}

/// With offline publish on, a detecting connection keeps its version when it
/// closes even with an empty session: a QoS 1 PUBLISH handed in after the
/// close (a broker forwarding to a client that just left) is queued in the
/// session, for the next network connection [MQTT-3.1.2-5] (v3.1.1),
/// [MQTT-3.1.2-23] (v5.0), not refused for want of a version.
#[test]
fn offline_publish_after_close_is_queued() {
    for v in [V3, V5] {
        let mut o = options();
        o.offline_publish = true;
        let mut s = Connection::<Server>::detect_version_with_options(o);
        feed(&mut s, [persistent_connect(v, 300)]);
        send(&mut s, connack(v));
        let _ = s.notify_closed();
        assert_eq!(s.version(), Some(v), "{v:?}");
        let events = send(&mut s, publish(v, "t", QoS::AtLeastOnce, Some(1)));
        assert!(events.is_empty(), "{v:?}: {events:?}");
        assert_eq!(s.session().queue_len(), 1);
        assert_eq!(s.session().queued_packet_ids().collect::<Vec<_>>(), [1]);
    }
}
