//! The core's rules through the blocking endpoints, with no copy of them
//! in the adapter: Receive Maximum as the core's session queue,
//! acknowledgement after handling, and the PINGRESP timeout through the
//! core's `TimerTable`.

mod common;

use std::time::Duration;

use common::*;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{GenericPacket, ProtocolVersion, QoS};
use mqtt_core::{AckPolicy, ConnectionError, ConnectionOptions};
use mqtt_std::ServerEndpoint;
use mqtt_testkit::run_with_timeout;

/// v5.0 Receive Maximum [MQTT-3.3.4-7], with no queue in the endpoint:
/// with the server's CONNACK announcing 2, a third QoS 1 message is
/// accepted into the core's session queue and goes out only after a
/// PUBACK (a QoS 0 PUBLISH before it went at once: it needs no quota,
/// [MQTT-4.9.0-3]). With the
/// session queue bounded to one message, `try_send` of a fourth errs
/// `WouldBlock`, and `publish` waits until an acknowledgement makes room.
#[test]
fn qos1_over_receive_maximum_goes_out_after_pubacks() {
    use mqtt_codec::{v5_0, Message, TopicName};
    use std::num::NonZeroU16;
    run_with_timeout(TEST, || {
        let (listener, addr) = listener();
        let mut server_options = auto();
        server_options.ack = AckPolicy::Manual;
        let server = std::thread::spawn(move || {
            let (mut server, _) =
                ServerEndpoint::accept(&listener, server_options, STEP).expect("accept");
            server.set_timeout(Some(STEP));
            let connack = v5_0::Connack::builder()
                .properties(v5_0::ConnackProperties {
                    receive_maximum: NonZeroU16::new(2),
                    ..Default::default()
                })
                .build()
                .expect("CONNACK");
            server.send(connack).expect("CONNACK");
            let next = |server: &mut ServerEndpoint| {
                let p = server.recv().expect("PUBLISH");
                let GenericPacket::V5_0(v5_0::Packet::Publish(p)) = p else {
                    panic!("expected a PUBLISH, got {p:?}");
                };
                (p.packet_id(), p.payload().to_vec())
            };
            let mut got = vec![next(&mut server), next(&mut server), next(&mut server)];
            // Nothing more may come before an acknowledgement.
            let early = server.recv_timeout(Duration::from_millis(300));
            assert!(early.expect("recv").is_none());
            for _ in 0..2 {
                let id = got[got.len() - 3].0.expect("QoS 1");
                server.send(v5_0::Puback::new(id)).expect("PUBACK");
                got.push(next(&mut server));
            }
            let rest = recv_until_closed(&mut server);
            (got, rest)
        });
        let mut options = auto();
        options.session.queue_max_messages = 1;
        let spec = ConnectSpec::new("quota");
        let mut client = client_with(addr, ProtocolVersion::V5_0, &spec, options);
        assert_eq!(client.connection().peer_receive_maximum().get(), 2);
        let message = |qos: QoS, i: u8| {
            let topic = TopicName::from_static("q").expect("topic");
            let m = Message::builder()
                .topic_name(topic)
                .qos(qos)
                .payload(vec![i]);
            m.build().expect("message")
        };
        for i in 0..2 {
            let id = client.publish(message(QoS::AtLeastOnce, i));
            assert_eq!(id.expect("publish"), Some(u16::from(i) + 1));
        }
        let id = client.publish(message(QoS::AtMostOnce, 9));
        assert_eq!(id.expect("QoS 0 needs no quota"), None);
        let id = client.publish(message(QoS::AtLeastOnce, 2));
        assert_eq!(id.expect("queued"), Some(3));
        assert_eq!(client.connection().session().queue_len(), 1);
        let id = client.acquire_packet_id().expect("id");
        let fourth = v5_0::Publish::from_message(message(QoS::AtLeastOnce, 3), id);
        let err = client
            .try_send(fourth)
            .expect_err("the session queue is full");
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock, "{err}");
        let _ = client.connection_mut().release_packet_id(id);
        // Waits for the PUBACK that sends the third and makes room.
        let id = client.publish(message(QoS::AtLeastOnce, 3)).expect("room");
        assert!(id.is_some());
        // The second PUBACK sends the fourth.
        recv_type(&mut client, PacketType::Puback);
        recv_type(&mut client, PacketType::Puback);
        client.close().expect("close");
        let (got, rest) = server.join().expect("server");
        let payloads: Vec<_> = got.into_iter().map(|(_, p)| p).collect();
        assert_eq!(payloads, [[0], [1], [9], [2], [3]]);
        assert_eq!(rest, [PacketType::Disconnect]);
    });
}

/// [MQTT-3.1.2-22] / §3.1.2.10: with the default options a client whose
/// PINGREQ gets no PINGRESP within the Keep Alive closes: the core's
/// `PingreqSend` and `PingrespRecv` timers fire through the endpoint's
/// `TimerTable` while it waits in `recv`.
#[test]
fn client_closes_when_no_pingresp_comes() {
    run_with_timeout(TEST, || {
        for version in VERSIONS {
            let (listener, addr) = listener();
            let mut server_options = auto();
            server_options.auto_ping_response = false;
            let server = serve(listener, server_options, recv_until_closed);
            let mut spec = ConnectSpec::new("no-pingresp");
            // PINGREQ after 2 s, closed at 4 s; the server's timeout (3 s
            // after the PINGREQ) leaves a second of margin.
            spec.keep_alive = 2;
            let mut client = client_with(addr, version, &spec, ConnectionOptions::default());
            let err = client.recv().expect_err("closed for want of PINGRESP");
            assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
            let source = err
                .get_ref()
                .and_then(|e| e.downcast_ref::<ConnectionError>());
            assert_eq!(
                source,
                Some(&ConnectionError::PingrespTimeout),
                "{version:?}"
            );
            assert!(client.is_closed());
            let types = server.join().expect("server");
            assert_eq!(types, [PacketType::Pingreq], "{version:?}");
        }
    });
}

/// `AckPolicy::AfterHandling` through the blocking server endpoint: a
/// received QoS 1 or 2 PUBLISH is answered only when the application calls
/// `acknowledge`, then the QoS 2 exchange runs by itself (§4.3.2, §4.3.3);
/// an identifier with no message waiting errs `InvalidInput`.
#[test]
fn acknowledge_after_handling() {
    use mqtt_codec::{Message, TopicName};
    run_with_timeout(TEST, || {
        for version in VERSIONS {
            let (listener, addr) = listener();
            let mut server_options = auto();
            server_options.ack = AckPolicy::AfterHandling;
            let server = serve(listener, server_options, |server| {
                let ids: Vec<u16> = (0..2)
                    .map(|_| packet_id(&server.recv().expect("PUBLISH")))
                    .collect();
                let topic = TopicName::from_static("marker").expect("topic");
                let marker = Message::new(topic, "m").expect("message");
                server.publish(marker).expect("marker");
                server.acknowledge(ids[0]).expect("PUBACK");
                let err = server.acknowledge(999).expect_err("nothing waits");
                assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
                server.acknowledge(ids[1]).expect("PUBREC");
                let mut types = recv_until_closed(server);
                types.sort_by_key(|t| *t as u8);
                (ids, types)
            });
            let mut client = client(addr, version, &ConnectSpec::new("after"));
            let one = message_on(&mut client, QoS::AtLeastOnce);
            let two = message_on(&mut client, QoS::ExactlyOnce);
            let marker = client.recv().expect("the marker");
            assert_eq!(as_publish(&marker).expect("PUBLISH").topic, "marker");
            let answers: Vec<_> = (0..3)
                .map(|_| client.recv().expect("answer"))
                .map(|p| (p.packet_type(), packet_id(&p)))
                .collect();
            use PacketType::*;
            assert_eq!(answers, [(Puback, one), (Pubrec, two), (Pubcomp, two)]);
            client.close().expect("close");
            let (ids, types) = server.join().expect("server");
            assert_eq!(ids, [one, two], "{version:?}");
            assert_eq!(types, [Pubrel, Disconnect], "{version:?}");
        }
    });
}

/// Publishes a message at `qos` and returns its packet identifier.
fn message_on(client: &mut mqtt_std::ClientEndpoint, qos: QoS) -> u16 {
    let topic = mqtt_codec::TopicName::from_static("after").expect("topic");
    let message = mqtt_codec::Message::builder().topic_name(topic).qos(qos);
    let message = message.payload("x").build().expect("message");
    client.publish(message).expect("publish").expect("QoS > 0")
}

/// The packet identifier of a PUBLISH or acknowledgement, else 0.
fn packet_id(p: &GenericPacket) -> u16 {
    use mqtt_codec::{v3_1_1 as v3, v5_0 as v5};
    match p {
        GenericPacket::V5_0(v5::Packet::Publish(p)) => p.packet_id().unwrap_or(0),
        GenericPacket::V5_0(v5::Packet::Puback(p)) => p.packet_id(),
        GenericPacket::V5_0(v5::Packet::Pubrec(p)) => p.packet_id(),
        GenericPacket::V5_0(v5::Packet::Pubcomp(p)) => p.packet_id(),
        GenericPacket::V3_1_1(v3::Packet::Publish(p)) => p.packet_id().unwrap_or(0),
        GenericPacket::V3_1_1(v3::Packet::Puback(p)) => p.packet_id(),
        GenericPacket::V3_1_1(v3::Packet::Pubrec(p)) => p.packet_id(),
        GenericPacket::V3_1_1(v3::Packet::Pubcomp(p)) => p.packet_id(),
        _ => 0,
    }
}

/// A graceful `close` lets the messages queued in the session for the
/// peer's Receive Maximum go out before the DISCONNECT [MQTT-4.9.0-2].
#[test]
fn close_sends_the_queued_messages_first() {
    use mqtt_codec::v5_0;
    use std::num::NonZeroU16;
    run_with_timeout(TEST, || {
        let (listener, addr) = listener();
        let server = std::thread::spawn(move || {
            let (mut server, _) = ServerEndpoint::accept(&listener, auto(), STEP).expect("accept");
            server.set_timeout(Some(STEP));
            let properties = v5_0::ConnackProperties {
                receive_maximum: NonZeroU16::new(1),
                ..Default::default()
            };
            let connack = v5_0::Connack::builder().properties(properties).build();
            server.send(connack.expect("CONNACK")).expect("CONNACK");
            let mut got = Vec::new();
            while let Ok(p) = server.recv() {
                got.push(as_publish(&p).map_or(0xFF, |m| m.payload[0]));
            }
            got
        });
        let mut client = client(addr, ProtocolVersion::V5_0, &ConnectSpec::new("drain"));
        for i in 0..5u8 {
            publish_on(&mut client, "q", QoS::AtLeastOnce, &[i], false);
        }
        assert_eq!(client.connection().session().queue_len(), 4);
        client.close().expect("close");
        let got = server.join().expect("server");
        assert_eq!(got, [0, 1, 2, 3, 4, 0xFF], "the DISCONNECT last");
    });
}
