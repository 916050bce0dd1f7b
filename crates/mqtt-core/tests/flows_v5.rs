//! v5.0 flows through the simulated pair: topic aliases, flow control
//! (Receive Maximum), Maximum Packet Size, Maximum QoS, Retain Available,
//! and the limits CONNACK announces, in both packet identifier widths.

#[macro_use]
mod pair;

use std::num::{NonZeroU16, NonZeroU32};

use mqtt_codec::properties::SubscriptionIdentifier;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, GenericPacket, PacketId, ProtocolVersion, QoS, TopicName};
use mqtt_core::{ConnectionState, SendError, TopicAliasError};
use pair::*;

const V5: ProtocolVersion = ProtocolVersion::V5_0;

/// A v5.0 pair built from `config`, connected with these CONNECT and
/// CONNACK properties, records cleared.
fn connected<P: PacketId>(
    config: PairConfig,
    connect: v5_0::ConnectProperties,
    connack: v5_0::ConnackProperties,
) -> Pair<P> {
    let mut pair: Pair<P> = config.build();
    pair.connect_with(
        v5_0::Packet::from(connect_v5("c", true, 0, connect)).into(),
        v5_0::Packet::from(connack_v5(false, connack)).into(),
    );
    pair.clear_records();
    pair
}

fn alias(n: u16) -> Option<NonZeroU16> {
    NonZeroU16::new(n)
}

fn pub5<P: PacketId>(topic: &str, qos: QoS, id: Option<P>, alias_: u16) -> GenericPacket<P> {
    let mut packet = if topic.is_empty() {
        let mut b = v5_0::Publish::<P>::builder()
            .topic_name(TopicName::empty())
            .qos(qos);
        if let Some(alias) = alias(alias_) {
            b = b.topic_alias(alias);
        }
        if let Some(id) = id {
            b = b.packet_id(id);
        }
        b.build().expect("PUBLISH")
    } else {
        publish_v5(topic, qos, id, b"p", v5_0::PublishProperties::default())
    };
    if !topic.is_empty() {
        packet.set_topic_alias(alias(alias_)).expect("a Topic Name");
    }
    v5_0::Packet::from(packet).into()
}

/// (Topic Name, Topic Alias) of each PUBLISH on the wire.
fn wire(sent: &[GenericPacket<impl PacketId>]) -> Vec<(String, Option<u16>)> {
    publishes(sent)
        .into_iter()
        .map(|p| (p.topic, p.topic_alias))
        .collect()
}

fn s(t: &str) -> String {
    t.to_owned()
}

// ----- Topic aliases -----

/// Automatic mapping on send, client to server: new topics get the next
/// alias with their name; a mapped topic goes as the alias alone; when all
/// aliases the server allows (CONNACK Topic Alias Maximum 2) are used, the
/// least recently *used* mapping is replaced [MQTT-3.2.2-17],
/// [MQTT-3.3.2-9]. The server resolves every alias back to the full Topic
/// Name before notifying [MQTT-3.3.2-12].
fn topic_alias_auto_map_lru<P: PacketId>() {
    let mut config = PairConfig::manual(V5);
    config.client.auto_map_topic_alias_send = true;
    let mut pair: Pair<P> = connected(
        config,
        Default::default(),
        v5_0::ConnackProperties {
            topic_alias_maximum: Some(2),
            ..Default::default()
        },
    );
    for topic in ["a/1", "a/2", "a/1", "a/3", "a/2"] {
        pair.send(
            Side::Client,
            publish(V5, topic, QoS::AtMostOnce, None, b"p"),
        );
    }
    pair.drive();
    assert_eq!(
        wire(&pair.client.sent),
        [
            (s("a/1"), Some(1)),
            (s("a/2"), Some(2)),
            (s(""), Some(1)),
            (s("a/3"), Some(2)), // a/2 was the least recently used
            (s("a/2"), Some(1)), // now a/1 is
        ]
    );
    let topics = topics(pair.server.publishes());
    assert_eq!(topics, ["a/1", "a/2", "a/1", "a/3", "a/2"]);
    assert!(pair.server.errors.is_empty(), "{:?}", pair.server.errors);
}

/// Automatic mapping within the Server's Maximum Packet Size (64): a
/// PUBLISH with room for the alias gets one [MQTT-3.3.2-9]; one that fits
/// only without it goes without it, never refused for an alias it did not
/// ask for [MQTT-3.2.2-15].
fn topic_alias_auto_map_within_maximum_packet_size<P: PacketId>() {
    let mut config = PairConfig::manual(V5);
    config.client.auto_map_topic_alias_send = true;
    let mut pair: Pair<P> = connected(
        config,
        Default::default(),
        v5_0::ConnackProperties {
            topic_alias_maximum: Some(2),
            maximum_packet_size: NonZeroU32::new(64),
            ..Default::default()
        },
    );
    // 2 + (2 + 3) + 1 + payload: 64 bytes without an alias, 67 with one.
    let near_limit = [0; 56];
    pair.send(
        Side::Client,
        publish(V5, "a/1", QoS::AtMostOnce, None, b"p"),
    );
    pair.send(
        Side::Client,
        publish(V5, "a/2", QoS::AtMostOnce, None, &near_limit),
    );
    pair.drive();
    assert_eq!(
        wire(&pair.client.sent),
        [(s("a/1"), Some(1)), (s("a/2"), None)]
    );
    assert_eq!(pair.server.publishes().len(), 2);
    assert!(pair.client.errors.is_empty(), "{:?}", pair.client.errors);
}

/// Automatic mapping on send, server to client, limited by the Topic Alias
/// Maximum of the CONNECT [MQTT-3.3.2-11]; the client resolves
/// [MQTT-3.3.2-10].
fn topic_alias_server_to_client<P: PacketId>() {
    let mut config = PairConfig::manual(V5);
    config.server.auto_map_topic_alias_send = true;
    let mut pair: Pair<P> = connected(
        config,
        v5_0::ConnectProperties {
            topic_alias_maximum: Some(1),
            ..Default::default()
        },
        Default::default(),
    );
    for topic in ["x", "x", "y", "y"] {
        pair.send(
            Side::Server,
            publish(V5, topic, QoS::AtMostOnce, None, b"p"),
        );
    }
    pair.drive();
    assert_eq!(
        wire(&pair.server.sent),
        [
            (s("x"), Some(1)),
            (s(""), Some(1)),
            (s("y"), Some(1)),
            (s(""), Some(1)),
        ]
    );
    let topics = topics(pair.client.publishes());
    assert_eq!(topics, ["x", "x", "y", "y"]);
}

/// Replace-only: a topic the application mapped itself (by sending its name
/// with an alias) goes as the alias alone afterwards; an unmapped topic is
/// sent as is, never given a new mapping.
fn topic_alias_replace_only<P: PacketId>() {
    let mut config = PairConfig::manual(V5);
    config.client.auto_replace_topic_alias_send = true;
    let mut pair: Pair<P> = connected(
        config,
        Default::default(),
        v5_0::ConnackProperties {
            topic_alias_maximum: Some(5),
            ..Default::default()
        },
    );
    pair.send(Side::Client, pub5("a/1", QoS::AtMostOnce, None, 3));
    pair.send(Side::Client, pub5("a/1", QoS::AtMostOnce, None, 0));
    pair.send(Side::Client, pub5("a/2", QoS::AtMostOnce, None, 0));
    pair.drive();
    assert_eq!(
        wire(&pair.client.sent),
        [(s("a/1"), Some(3)), (s(""), Some(3)), (s("a/2"), None)]
    );
    let topics = topics(pair.server.publishes());
    assert_eq!(topics, ["a/1", "a/1", "a/2"]);
}

/// [MQTT-3.3.2-9], [MQTT-3.2.2-17]: an alias above the server's maximum is
/// refused on send (nothing sent, nothing changed); [MQTT-3.2.2-18]: with
/// no maximum announced, any alias is; [MQTT-3.3.2-11], [MQTT-3.1.2-26],
/// [MQTT-3.1.2-27]: the same for the server against the CONNECT's maximum.
fn topic_alias_over_maximum_refused<P: PacketId>() {
    let mut pair: Pair<P> = connected(
        PairConfig::manual(V5),
        Default::default(),
        v5_0::ConnackProperties {
            topic_alias_maximum: Some(2),
            ..Default::default()
        },
    );
    let refused = pair.refuse(Side::Client, pub5("a", QoS::AtMostOnce, None, 3));
    assert_eq!(
        refused,
        SendError::TopicAlias(TopicAliasError::OutOfRange { alias: 3, max: 2 })
    );
    let refused = pair.refuse(Side::Server, pub5("a", QoS::AtMostOnce, None, 1));
    assert_eq!(
        refused,
        SendError::TopicAlias(TopicAliasError::OutOfRange { alias: 1, max: 0 })
    );
    pair.drive();
    assert!(pair.client.sent.is_empty() && pair.server.sent.is_empty());
    assert!(pair.link_up);
    // Within the maximum it goes.
    pair.send_drive(Side::Client, pub5("a", QoS::AtMostOnce, None, 2));
    assert_eq!(wire(&pair.client.sent), [(s("a"), Some(2))]);
}

/// A received alias above the maximum we announced is a protocol error:
/// DISCONNECT 0x94 (Topic Alias invalid), then close [MQTT-3.3.2-10],
/// [MQTT-3.3.2-12] (§3.3.4 point 1); an alias without a mapping and an
/// empty Topic Name is one too, answered with 0x82 (§3.3.4 point 3a).
fn topic_alias_invalid_received<P: PacketId>() {
    for (topic, n, code) in [("a", 3u16, 0x94), ("", 1, 0x82)] {
        for to in [Side::Server, Side::Client] {
            let max = v5_0::ConnectProperties {
                topic_alias_maximum: Some(2),
                ..Default::default()
            };
            let max_ack = v5_0::ConnackProperties {
                topic_alias_maximum: Some(2),
                ..Default::default()
            };
            let mut pair: Pair<P> = connected(PairConfig::manual(V5), max, max_ack);
            pair.inject_packet(to.peer(), &pub5(topic, QoS::AtMostOnce, None, n));
            pair.drive();
            let ep_sent = pair.sent(to).to_vec();
            assert_eq!(
                ep_sent.last().and_then(disconnect_reason),
                Some(code),
                "{to:?} alias {n} topic {topic:?}: {ep_sent:?}"
            );
            assert!(pair.close_requested(to));
            assert!(pair.publishes(to).is_empty());
        }
    }
}

/// A Topic Alias of 0 on the wire (§3.3.4 point 1, [MQTT-3.3.2-8] for the
/// sender): DISCONNECT 0x94, then close.
fn topic_alias_zero_received<P: PacketId>() {
    let mut pair: Pair<P> = connected(
        PairConfig::manual(V5),
        Default::default(),
        v5_0::ConnackProperties {
            topic_alias_maximum: Some(2),
            ..Default::default()
        },
    );
    // PUBLISH QoS 0, topic "a", properties: Topic Alias 0, payload "p".
    pair.inject(
        Side::Client,
        &[0x30, 0x08, 0x00, 0x01, b'a', 0x03, 0x23, 0x00, 0x00, b'p'],
    );
    pair.drive();
    assert_eq!(
        pair.server.sent.last().and_then(disconnect_reason),
        Some(0x94),
        "{:?}",
        pair.server.sent
    );
    assert!(pair.server.close_requested);
}

/// Aliases chosen by the application, no automation: the first PUBLISH
/// names the topic with the alias, later ones may carry the alias alone
/// (§3.3.2.3.4); the receiver resolves them.
fn topic_alias_manual<P: PacketId>() {
    let mut pair: Pair<P> = connected(
        PairConfig::manual(V5),
        Default::default(),
        v5_0::ConnackProperties {
            topic_alias_maximum: Some(5),
            ..Default::default()
        },
    );
    pair.send(Side::Client, pub5("a/1", QoS::AtMostOnce, None, 4));
    pair.send(Side::Client, pub5("", QoS::AtMostOnce, None, 4));
    pair.drive();
    assert!(pair.client.errors.is_empty(), "{:?}", pair.client.errors);
    assert_eq!(
        wire(&pair.client.sent),
        [(s("a/1"), Some(4)), (s(""), Some(4))]
    );
    let topics = topics(pair.server.publishes());
    assert_eq!(topics, ["a/1", "a/1"]);
}

/// [MQTT-3.3.2-7]: aliases do not survive the network connection. After a
/// reconnection the first PUBLISH of a topic carries its name again, and
/// stored packets re-sent keep their full Topic Name, never an alias alone.
fn topic_alias_not_carried_over<P: PacketId>() {
    let mut config = PairConfig::new(V5);
    config.client.auto_map_topic_alias_send = true;
    let mut pair: Pair<P> = config.build();
    let connack: GenericPacket<P> = v5_0::Packet::from(connack_v5(
        false,
        v5_0::ConnackProperties {
            topic_alias_maximum: Some(4),
            ..Default::default()
        },
    ))
    .into();
    let connack_present: GenericPacket<P> = v5_0::Packet::from(connack_v5(
        true,
        v5_0::ConnackProperties {
            topic_alias_maximum: Some(4),
            ..Default::default()
        },
    ))
    .into();
    pair.connect_with(connect(V5, "c", false, 0), connack);
    pair.send_drive(
        Side::Client,
        publish(V5, "a/1", QoS::AtMostOnce, None, b"p"),
    );
    // Two QoS 1 on the same topic, the second as the alias alone; both lost.
    let id1 = pair.acquire(Side::Client);
    let id2 = pair.acquire(Side::Client);
    pair.send(
        Side::Client,
        publish(V5, "a/1", QoS::AtLeastOnce, Some(id1), b"1"),
    );
    pair.send(
        Side::Client,
        publish(V5, "a/1", QoS::AtLeastOnce, Some(id2), b"2"),
    );
    assert_eq!(wire(&pair.client.sent)[2], (s(""), Some(1)));
    pair.clear_records();
    pair.reconnect_link();
    pair.connect_with(connect(V5, "c", false, 0), connack_present);
    let resent = publishes(&pair.client.sent);
    assert_eq!(resent.len(), 2, "{:?}", pair.client.sent);
    assert_eq!(
        resent[0].topic, "a/1",
        "the first re-sent PUBLISH names its topic"
    );
    let topics = topics(pair.server.publishes());
    assert_eq!(topics, ["a/1", "a/1"]);
    assert!(pair.server.errors.is_empty(), "{:?}", pair.server.errors);
    pair.send_drive(
        Side::Client,
        publish(V5, "a/1", QoS::AtMostOnce, None, b"p"),
    );
    assert_eq!(
        pair.server.publishes().last().map(|p| p.topic.clone()),
        Some(s("a/1"))
    );
}

// ----- Flow control -----

/// [MQTT-3.3.4-7], [MQTT-4.9.0-2]: the client keeps at most Receive
/// Maximum (CONNACK: 2) QoS 1 and 2 PUBLISH packets unacknowledged: one
/// more waits in the session's queue with its identifier, and a QoS 0
/// PUBLISH behind it waits too (which §4.9 allows); [MQTT-3.3.4-8] other
/// packets are not delayed. A PUBACK frees a slot and the queue goes out in
/// order; a PUBREC does not, the PUBCOMP does (§4.9).
fn receive_maximum_respected_by_client<P: PacketId>() {
    let mut pair: Pair<P> = connected(
        PairConfig::manual(V5),
        Default::default(),
        v5_0::ConnackProperties {
            receive_maximum: NonZeroU16::new(2),
            ..Default::default()
        },
    );
    assert_eq!(pair.client.conn.peer_receive_maximum().get(), 2);
    let a = pair.acquire(Side::Client);
    let b = pair.acquire(Side::Client);
    let c = pair.acquire(Side::Client);
    pair.send(
        Side::Client,
        publish(V5, "t", QoS::AtLeastOnce, Some(a), b"a"),
    );
    pair.send(
        Side::Client,
        publish(V5, "t", QoS::ExactlyOnce, Some(b), b"b"),
    );
    pair.send(
        Side::Client,
        publish(V5, "t", QoS::AtLeastOnce, Some(c), b"c"),
    );
    pair.send(Side::Client, pingreq(V5));
    pair.send(Side::Client, publish(V5, "t", QoS::AtMostOnce, None, b"0"));
    pair.drive();
    let payloads = |pair: &Pair<P>| -> Vec<u8> {
        pair.server
            .publishes()
            .iter()
            .map(|p| p.payload[0])
            .collect()
    };
    assert_eq!(payloads(&pair), b"ab");
    assert!(types(&pair.server.received).contains(&PacketType::Pingreq));
    assert_eq!(pair.client.conn.session().queue_len(), 2);
    assert!(pair.client.conn.session().packet_ids().is_in_use(c));
    // PUBACK frees a slot: the queue goes, in order, c with its identifier.
    pair.send_drive(Side::Server, puback(V5, a));
    assert_eq!(payloads(&pair), b"abc0");
    assert_eq!(pair.server.publishes()[2].packet_id, Some(c));
    // PUBREC does not ...
    pair.send_drive(Side::Server, pubrec(V5, b));
    let d = pair.acquire(Side::Client);
    pair.send_drive(
        Side::Client,
        publish(V5, "t", QoS::AtLeastOnce, Some(d), b"d"),
    );
    assert_eq!(payloads(&pair), b"abc0");
    // ... PUBCOMP does.
    pair.send_drive(Side::Client, pubrel(V5, b));
    pair.send_drive(Side::Server, pubcomp(V5, b));
    assert_eq!(payloads(&pair), b"abc0d");
    assert!(pair.client.errors.is_empty(), "{:?}", pair.client.errors);
    assert_eq!(pair.client.released, [a, b]);
}

/// [MQTT-3.3.4-9]: the server keeps at most the client's Receive Maximum
/// (CONNECT: 1) unacknowledged, the next one waiting in the queue until
/// the PUBACK; [MQTT-3.3.4-10]: other packets go anyway.
fn receive_maximum_respected_by_server<P: PacketId>() {
    let mut pair: Pair<P> = connected(
        PairConfig::manual(V5),
        v5_0::ConnectProperties {
            receive_maximum: NonZeroU16::new(1),
            ..Default::default()
        },
        Default::default(),
    );
    let a = pair.acquire(Side::Server);
    pair.send(
        Side::Server,
        publish(V5, "t", QoS::AtLeastOnce, Some(a), b"a"),
    );
    let b = pair.acquire(Side::Server);
    pair.send(
        Side::Server,
        publish(V5, "t", QoS::AtLeastOnce, Some(b), b"b"),
    );
    pair.send(Side::Server, pingresp(V5));
    pair.drive();
    assert_eq!(pair.client.publishes().len(), 1);
    assert_eq!(
        types(&pair.client.received).last(),
        Some(&PacketType::Pingresp)
    );
    pair.send_drive(Side::Client, puback(V5, a));
    let got = pair.client.publishes();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[1].payload.as_slice(), got[1].packet_id),
        (&b"b"[..], Some(b))
    );
    pair.send_drive(Side::Client, puback(V5, b));
    assert_eq!(pair.server.released, [a, b]);
    assert!(pair.server.errors.is_empty(), "{:?}", pair.server.errors);
}

/// A peer that exceeds the Receive Maximum we announced gets DISCONNECT
/// 0x93 (Receive Maximum exceeded), then the connection closes
/// [MQTT-3.3.4-7], [MQTT-3.3.4-9]; the PUBLISH within the limit was
/// delivered.
fn receive_maximum_exceeded<P: PacketId>() {
    for to in [Side::Server, Side::Client] {
        let mut pair: Pair<P> = connected(
            PairConfig::manual(V5),
            v5_0::ConnectProperties {
                receive_maximum: NonZeroU16::new(1),
                ..Default::default()
            },
            v5_0::ConnackProperties {
                receive_maximum: NonZeroU16::new(1),
                ..Default::default()
            },
        );
        pair.inject_packet(
            to.peer(),
            &publish(V5, "t", QoS::AtLeastOnce, Some(pid(1)), b"1"),
        );
        pair.inject_packet(
            to.peer(),
            &publish(V5, "t", QoS::ExactlyOnce, Some(pid(2)), b"2"),
        );
        pair.drive();
        assert_eq!(pair.publishes(to).len(), 1, "{to:?}");
        assert_eq!(
            pair.sent(to).last().and_then(disconnect_reason),
            Some(0x93),
            "{to:?}: {:?}",
            pair.sent(to)
        );
        assert!(pair.close_requested(to));
        assert!(!pair.link_up);
    }
}

/// After a reconnection the re-sent PUBLISH packets respect the new
/// Receive Maximum (1): one at a time, the next as each is acknowledged
/// [MQTT-3.3.4-7], [MQTT-4.4.0-1]; queued offline messages follow the same
/// quota (§4.9).
fn resend_respects_receive_maximum<P: PacketId>() {
    let mut config = PairConfig::manual(V5);
    config.client.offline_publish = true;
    let mut pair: Pair<P> = config.build();
    let connect = |expiry| -> GenericPacket<P> {
        v5_0::Packet::from(connect_v5(
            "c",
            false,
            0,
            v5_0::ConnectProperties {
                session_expiry_interval: expiry,
                ..Default::default()
            },
        ))
        .into()
    };
    let connack = |present| -> GenericPacket<P> {
        v5_0::Packet::from(connack_v5(
            present,
            v5_0::ConnackProperties {
                receive_maximum: NonZeroU16::new(1),
                ..Default::default()
            },
        ))
        .into()
    };
    pair.connect_with(connect(Some(600)), connack(false));
    let a = pair.acquire(Side::Client);
    pair.send(
        Side::Client,
        publish(V5, "t", QoS::AtLeastOnce, Some(a), b"a"),
    );
    pair.close_link();
    // Two more while offline: queued.
    for payload in [b"b", b"c"] {
        let id = pair.acquire(Side::Client);
        pair.send(
            Side::Client,
            publish(V5, "t", QoS::AtLeastOnce, Some(id), payload),
        );
    }
    assert!(pair.client.errors.is_empty(), "{:?}", pair.client.errors);
    pair.clear_records();
    pair.reconnect_link();
    pair.connect_with(connect(Some(600)), connack(true));
    let mut seen = Vec::new();
    for _ in 0..3 {
        let got = pair.server.publishes();
        assert_eq!(got.len(), seen.len() + 1, "one at a time: {got:?}");
        let last = got.last().expect("PUBLISH").clone();
        seen.push(last.payload[0]);
        pair.send_drive(Side::Server, puback(V5, last.packet_id.expect("QoS 1")));
    }
    assert_eq!(seen, b"abc");
    assert_eq!(pair.client.conn.session().in_flight_len(), 0);
    assert_eq!(pair.client.conn.session().queue_len(), 0);
}

/// [MQTT-3.3.4-3] a Server's PUBLISH carries the Subscription Identifiers
/// the application put on it, and so does its re-send on the next network
/// connection of the session [MQTT-4.4.0-1].
fn subscription_identifiers_sent_and_resent<P: PacketId>() {
    let mut pair: Pair<P> = PairConfig::manual(V5).build();
    let connect = || -> GenericPacket<P> {
        let properties = v5_0::ConnectProperties {
            session_expiry_interval: Some(600),
            ..Default::default()
        };
        v5_0::Packet::from(connect_v5("c", false, 0, properties)).into()
    };
    let connack = |present| -> GenericPacket<P> {
        v5_0::Packet::from(connack_v5(present, Default::default())).into()
    };
    pair.connect_with(connect(), connack(false));
    let id = pair.acquire(Side::Server);
    let ids = [7, 300].map(|n| SubscriptionIdentifier::new(n).expect("in range"));
    let properties = v5_0::PublishProperties {
        subscription_identifiers: ids.to_vec(),
        ..Default::default()
    };
    let packet = publish_v5("t", QoS::AtLeastOnce, Some(id), b"p", properties);
    pair.send_drive(Side::Server, v5_0::Packet::from(packet).into());
    let received = |pair: &Pair<P>| -> Vec<(bool, Vec<SubscriptionIdentifier>)> {
        pair.received(Side::Client)
            .iter()
            .filter_map(|p| match p {
                GenericPacket::V5_0(v5_0::Packet::Publish(p)) => {
                    Some((p.dup(), p.properties().subscription_identifiers().collect()))
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(received(&pair), [(false, ids.to_vec())]);
    pair.close_link();
    pair.clear_records();
    pair.reconnect_link();
    pair.connect_with(connect(), connack(true));
    assert_eq!(received(&pair), [(true, ids.to_vec())]);
}

// ----- Maximum Packet Size -----

/// [MQTT-3.2.2-15]: a PUBLISH larger than the server's Maximum Packet Size
/// is refused and not sent, and not kept either (its identifier stays the
/// application's); [MQTT-3.1.2-24], [MQTT-3.1.2-25]: the server does not
/// send one larger than the client's.
fn maximum_packet_size_on_send<P: PacketId>() {
    let mut pair: Pair<P> = connected(
        PairConfig::new(V5),
        v5_0::ConnectProperties {
            maximum_packet_size: NonZeroU32::new(40),
            ..Default::default()
        },
        v5_0::ConnackProperties {
            maximum_packet_size: NonZeroU32::new(40),
            ..Default::default()
        },
    );
    for from in [Side::Client, Side::Server] {
        let id = pair.acquire(from);
        let big = publish(V5, "t", QoS::AtLeastOnce, Some(id), &[7; 64]);
        let refused = pair.refuse(from, big);
        assert!(
            matches!(refused, SendError::PacketTooLarge { size, maximum: 40 } if size > 40),
            "{from:?}: {refused:?}"
        );
        pair.drive();
        assert!(
            pair.sent(from).is_empty(),
            "{from:?}: {:?}",
            pair.sent(from)
        );
        assert!(pair.publishes(from.peer()).is_empty());
        let session = match from {
            Side::Client => pair.client.conn.session(),
            Side::Server => pair.server.conn.session(),
        };
        assert_eq!(session.in_flight_len(), 0, "{from:?}: not stored");
        assert!(
            session.packet_ids().is_in_use(id),
            "{from:?}: still acquired"
        );
        // A small one still goes.
        let id = pair.acquire(from);
        pair.send_drive(from, publish(V5, "t", QoS::AtLeastOnce, Some(id), b"ok"));
        assert_eq!(pair.publishes(from.peer()).len(), 1);
        pair.clear_records();
    }
    assert!(pair.link_up);
}

/// [MQTT-3.4.2-2]: an acknowledgement whose Reason String would take it
/// past the peer's Maximum Packet Size goes without it (and without User
/// Properties), rather than not at all.
fn maximum_packet_size_drops_reason_string<P: PacketId>() {
    let mut pair: Pair<P> = connected(
        PairConfig::manual(V5),
        v5_0::ConnectProperties {
            maximum_packet_size: NonZeroU32::new(20),
            ..Default::default()
        },
        Default::default(),
    );
    // The server's PUBACK to a client PUBLISH must fit the client's limit.
    let cid = pair.acquire(Side::Client);
    pair.send_drive(
        Side::Client,
        publish(V5, "t", QoS::AtLeastOnce, Some(cid), b"y"),
    );
    let long_ack = v5_0::Puback::<P>::builder()
        .packet_id(cid)
        .reason_code(v5_0::PubackReasonCode::NoMatchingSubscribers)
        .properties(v5_0::PubackProperties {
            reason_string: Some(
                "a reason string far longer than twenty bytes"
                    .try_into()
                    .expect("s"),
            ),
            ..Default::default()
        })
        .build()
        .expect("PUBACK");
    pair.send_drive(Side::Server, v5_0::Packet::from(long_ack).into());
    let Some(GenericPacket::V5_0(v5_0::Packet::Puback(got))) = pair.client.received.last() else {
        panic!("a PUBACK expected: {:?}", pair.client.received);
    };
    assert_eq!(
        got.reason_code(),
        v5_0::PubackReasonCode::NoMatchingSubscribers
    );
    assert_eq!(got.properties().reason_string, None);
    assert_eq!(pair.client.released, [cid]);
}

/// A packet larger than the Maximum Packet Size we announced is a protocol
/// error: DISCONNECT 0x95 (Packet too large), then close (v5.0 §3.1.2.11.4,
/// §3.2.2.3.6, [MQTT-4.13.1-1]).
fn maximum_packet_size_exceeded_on_receive<P: PacketId>() {
    for to in [Side::Server, Side::Client] {
        let mut pair: Pair<P> = connected(
            PairConfig::manual(V5),
            v5_0::ConnectProperties {
                maximum_packet_size: NonZeroU32::new(40),
                ..Default::default()
            },
            v5_0::ConnackProperties {
                maximum_packet_size: NonZeroU32::new(40),
                ..Default::default()
            },
        );
        pair.inject_packet(
            to.peer(),
            &publish(V5, "t", QoS::AtMostOnce, None, &[1; 64]),
        );
        pair.drive();
        assert_eq!(
            pair.sent(to).last().and_then(disconnect_reason),
            Some(0x95),
            "{to:?}: {:?}",
            pair.sent(to)
        );
        assert!(pair.close_requested(to));
        assert!(pair.publishes(to).is_empty());
    }
}

// ----- What CONNACK announces -----

/// [MQTT-3.2.2-11]: no PUBLISH above the Maximum QoS; [MQTT-3.2.2-14]: no
/// RETAIN when Retain Available is 0; wildcard, shared subscriptions and
/// Subscription Identifiers only when available (§3.2.2.3.11-13). Each is
/// refused on send with its error, nothing sent, nothing changed.
fn connack_limits_enforced_on_send<P: PacketId>() {
    let mut pair: Pair<P> = connected(
        PairConfig::new(V5),
        Default::default(),
        v5_0::ConnackProperties {
            maximum_qos: Some(QoS::AtLeastOnce),
            retain_available: Some(false),
            wildcard_subscription_available: Some(false),
            shared_subscription_available: Some(false),
            subscription_identifiers_available: Some(false),
            ..Default::default()
        },
    );
    let id = pair.acquire(Side::Client);
    let refused = pair.refuse(
        Side::Client,
        publish(V5, "t", QoS::ExactlyOnce, Some(id), b"2"),
    );
    assert_eq!(
        refused,
        SendError::QosNotSupported {
            qos: QoS::ExactlyOnce,
            maximum: QoS::AtLeastOnce
        }
    );
    let retained = v5_0::Publish::<P>::builder()
        .try_topic_name("t")
        .expect("topic")
        .retain(true)
        .build()
        .expect("PUBLISH");
    let refused = pair.refuse(Side::Client, v5_0::Packet::from(retained).into());
    assert_eq!(refused, SendError::RetainNotSupported);
    let sid = pair.acquire(Side::Client);
    let refused = pair.refuse(Side::Client, subscribe(V5, sid, "a/+", QoS::AtMostOnce));
    assert_eq!(refused, SendError::WildcardSubscriptionNotAvailable);
    let refused = pair.refuse(
        Side::Client,
        subscribe(V5, sid, "$share/g/a", QoS::AtMostOnce),
    );
    assert_eq!(refused, SendError::SharedSubscriptionNotAvailable);
    let with_id = v5_0::Subscribe::<P>::builder()
        .packet_id(sid)
        .properties(v5_0::SubscribeProperties {
            subscription_identifier: v5_0::SubscriptionIdentifier::new(3),
            ..Default::default()
        })
        .try_subscription("a", QoS::AtMostOnce)
        .expect("filter")
        .build()
        .expect("SUBSCRIBE");
    let refused = pair.refuse(Side::Client, v5_0::Packet::from(with_id).into());
    assert_eq!(refused, SendError::SubscriptionIdentifierNotAvailable);
    pair.drive();
    assert!(pair.client.sent.is_empty(), "{:?}", pair.client.sent);
    // What the limits allow goes.
    pair.send_drive(
        Side::Client,
        publish(V5, "t", QoS::AtLeastOnce, Some(id), b"1"),
    );
    pair.send_drive(Side::Client, subscribe(V5, sid, "a/b", QoS::AtLeastOnce));
    assert_eq!(
        types(&pair.server.received),
        [PacketType::Publish, PacketType::Subscribe]
    );
}

/// A client that breaks what the CONNACK announced: QoS above the Maximum
/// QoS gets DISCONNECT 0x9B [MQTT-3.2.2-11]; RETAIN when not available,
/// 0x9A [MQTT-3.2.2-14].
fn connack_limits_enforced_on_receive<P: PacketId>() {
    let retained: GenericPacket<P> = v5_0::Packet::from(
        v5_0::Publish::<P>::builder()
            .try_topic_name("t")
            .expect("topic")
            .retain(true)
            .build()
            .expect("PUBLISH"),
    )
    .into();
    let cases = [
        (
            publish::<P>(V5, "t", QoS::ExactlyOnce, Some(pid(1)), b"2"),
            0x9B,
        ),
        (retained, 0x9A),
    ];
    for (packet, code) in cases {
        let mut pair: Pair<P> = connected(
            PairConfig::new(V5),
            Default::default(),
            v5_0::ConnackProperties {
                maximum_qos: Some(QoS::AtLeastOnce),
                retain_available: Some(false),
                ..Default::default()
            },
        );
        pair.inject_packet(Side::Client, &packet);
        pair.drive();
        assert_eq!(
            pair.server.sent.last().and_then(disconnect_reason),
            Some(code),
            "{:?}",
            pair.server.sent
        );
        assert!(pair.server.close_requested);
        assert_eq!(pair.server.conn.state(), ConnectionState::Disconnected);
    }
}

widths!(
    topic_alias_auto_map_lru,
    topic_alias_auto_map_within_maximum_packet_size,
    topic_alias_server_to_client,
    topic_alias_replace_only,
    topic_alias_over_maximum_refused,
    topic_alias_invalid_received,
    topic_alias_zero_received,
    topic_alias_manual,
    topic_alias_not_carried_over,
    receive_maximum_respected_by_client,
    receive_maximum_respected_by_server,
    receive_maximum_exceeded,
    resend_respects_receive_maximum,
    subscription_identifiers_sent_and_resent,
    maximum_packet_size_on_send,
    maximum_packet_size_drops_reason_string,
    maximum_packet_size_exceeded_on_receive,
    connack_limits_enforced_on_send,
    connack_limits_enforced_on_receive,
);
