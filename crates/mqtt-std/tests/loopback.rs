//! Our client against our server on 127.0.0.1, both versions: QoS 0, 1
//! and 2 both ways, keep alive on an idle connection, a PUBLISH larger
//! than one read, many packets in one read.

mod common;

use std::time::{Duration, Instant};

use common::*;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{ProtocolVersion, QoS};
use mqtt_core::GenericEvent;
use mqtt_std::ServerEndpoint;
use mqtt_testkit::run_with_timeout;

/// The packet identifiers released among `events`.
fn released(events: Vec<GenericEvent>) -> Vec<u16> {
    events
        .into_iter()
        .filter_map(|e| match e {
            GenericEvent::NotifyPacketIdReleased(id) => Some(id),
            _ => None,
        })
        .collect()
}

/// The packets the application sees of a flow it started, after the
/// PUBLISH: the acknowledgements (§4.3).
fn acks_of(qos: QoS) -> Vec<PacketType> {
    match qos {
        QoS::AtMostOnce => vec![],
        QoS::AtLeastOnce => vec![PacketType::Puback],
        QoS::ExactlyOnce => vec![PacketType::Pubrec, PacketType::Pubcomp],
    }
}

/// QoS 0, 1 and 2 in both directions through our two endpoints with
/// automatic acknowledgements (§4.3.1, §4.3.2, §4.3.3): each message is
/// delivered once, each flow ends and releases its packet identifier.
fn qos_both_ways(version: ProtocolVersion, qos: QoS) {
    let (listener, addr) = listener();
    let server = serve(listener, auto(), move |server| {
        let first = server.recv().expect("PUBLISH from the client");
        let msg = as_publish(&first).expect("a PUBLISH");
        let id = (qos != QoS::AtMostOnce).then(|| server.acquire_packet_id().expect("id"));
        server
            .send_generic(publish(version, "down/1", qos, id, b"to client", false))
            .expect("PUBLISH to the client");
        let types = recv_until_closed(server);
        let released = released(server.take_events());
        (msg, id, types, released)
    });

    let mut client = client(addr, version, &ConnectSpec::new("loop"));
    let id = (qos != QoS::AtMostOnce).then(|| client.acquire_packet_id().expect("id"));
    client
        .send_generic(publish(version, "up/1", qos, id, b"to server", false))
        .expect("PUBLISH");
    let mut seen = Vec::new();
    let msg = loop {
        let packet = client.recv().expect("recv");
        if let Some(msg) = as_publish(&packet) {
            break msg;
        }
        seen.push(packet.packet_type());
    };
    // The server's QoS 2 flow ends with its PUBREL, answered automatically.
    if qos == QoS::ExactlyOnce {
        loop {
            let ty = client.recv().expect("recv").packet_type();
            if ty == PacketType::Pubrel {
                break;
            }
            seen.push(ty);
        }
    }
    // Our own flow's acknowledgements may come before or after.
    while seen.len() < acks_of(qos).len() {
        seen.push(client.recv().expect("ack").packet_type());
    }
    assert_eq!(seen, acks_of(qos), "{version:?} {qos:?}");
    assert_eq!(msg.payload, b"to client");
    assert_eq!((msg.topic.as_str(), msg.qos), ("down/1", qos));
    assert_eq!(
        released(client.take_events()),
        id.into_iter().collect::<Vec<_>>()
    );
    client.close().expect("close");
    assert!(client.is_closed());

    let (msg, server_id, types, server_released) = server.join().expect("server thread");
    assert_eq!(msg.payload, b"to server");
    assert_eq!((msg.topic.as_str(), msg.qos), ("up/1", qos));
    let mut expected = match qos {
        QoS::AtMostOnce => vec![],
        QoS::AtLeastOnce => vec![PacketType::Puback],
        QoS::ExactlyOnce => vec![PacketType::Pubrel, PacketType::Pubrec, PacketType::Pubcomp],
    };
    expected.push(PacketType::Disconnect);
    let mut types_sorted = types.clone();
    types_sorted.sort_by_key(|t| *t as u8);
    expected.sort_by_key(|t| *t as u8);
    assert_eq!(types_sorted, expected, "{version:?} {qos:?}: {types:?}");
    assert_eq!(server_released, server_id.into_iter().collect::<Vec<_>>());
}

#[test]
fn qos_0_1_2_both_ways_both_versions() {
    run_with_timeout(TEST, || {
        for version in VERSIONS {
            for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
                qos_both_ways(version, qos);
            }
        }
    });
}

/// [MQTT-3.1.2-23] / §3.1.2.10: an idle client sends PINGREQ within the
/// Keep Alive while blocked in `recv`; the server answers [MQTT-3.12.4-1]
/// and, pinged in time, never times the client out. (Keep Alive 2 s: the
/// server's 3 s timeout leaves a second of scheduling margin.)
#[test]
fn pings_on_an_idle_connection() {
    run_with_timeout(TEST, || {
        for version in VERSIONS {
            let (listener, addr) = listener();
            let server = serve(listener, auto(), recv_until_closed);
            let mut spec = ConnectSpec::new("idle");
            spec.keep_alive = 2;
            let mut client = client(addr, version, &spec);
            let start = Instant::now();
            let mut pingresps = 0;
            while start.elapsed() < Duration::from_millis(5000) {
                if let Some(p) = client
                    .recv_timeout(Duration::from_millis(200))
                    .expect("recv")
                {
                    assert_eq!(p.packet_type(), PacketType::Pingresp);
                    pingresps += 1;
                }
            }
            assert!(pingresps >= 2, "{version:?}: {pingresps} PINGRESP in 5 s");
            client.close().expect("close");
            let types = server.join().expect("server");
            let pingreqs = types.iter().filter(|t| **t == PacketType::Pingreq).count();
            assert!(
                (pingresps..=pingresps + 1).contains(&pingreqs),
                "{version:?}: {types:?}"
            );
            assert_eq!(types.last(), Some(&PacketType::Disconnect));
        }
    });
}

/// A client that only sends, staying away longer than its Keep Alive
/// between sends, has its PINGREQ sent on its next `send`, before the
/// PUBLISH [MQTT-3.1.2-23]; the server never times it out.
#[test]
fn send_only_client_pings_on_its_next_send() {
    run_with_timeout(TEST, || {
        for version in VERSIONS {
            let (listener, addr) = listener();
            let server = serve(listener, auto(), recv_until_closed);
            let mut spec = ConnectSpec::new("sender");
            spec.keep_alive = 2;
            let mut client = client(addr, version, &spec);
            for i in 0..3u8 {
                if i > 0 {
                    std::thread::sleep(Duration::from_millis(2300));
                }
                publish_on(&mut client, "t", QoS::AtMostOnce, &[i], false);
            }
            client.close().expect("close");
            let types = server.join().expect("server");
            use PacketType::*;
            assert_eq!(
                types,
                [Publish, Pingreq, Publish, Pingreq, Publish, Disconnect],
                "{version:?}"
            );
        }
    });
}

/// [MQTT-3.1.2-24] (v3.1.1) / [MQTT-3.1.2-22] (v5.0): a client that sends
/// nothing for one and a half times its Keep Alive is disconnected by the
/// server, whose timer runs inside `recv`; on v5.0 with DISCONNECT 0x8D.
#[test]
fn server_times_out_a_silent_client() {
    run_with_timeout(TEST, || {
        for version in VERSIONS {
            let (listener, addr) = listener();
            let server = serve(listener, auto(), |server| {
                server.recv().map(|p| p.packet_type())
            });
            let mut spec = ConnectSpec::new("silent");
            spec.keep_alive = 1;
            let mut options = auto();
            options.pingreq_send_interval = Some(Duration::ZERO);
            let mut client = client_with(addr, version, &spec, options);
            let err = server.join().expect("server").expect_err("timed out");
            assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
            // What the client sees: a DISCONNECT 0x8D (v5.0), then the end.
            let mut types = Vec::new();
            let end = loop {
                match client.recv() {
                    Ok(p) => types.push(p.packet_type()),
                    Err(e) => break e,
                }
            };
            assert_eq!(end.kind(), std::io::ErrorKind::ConnectionAborted, "{end}");
            match version {
                ProtocolVersion::V5_0 => assert_eq!(types, [PacketType::Disconnect]),
                ProtocolVersion::V3_1_1 => assert_eq!(types, []),
            }
        }
    });
}

/// A PUBLISH of 1 MiB, far larger than one read, both ways, intact; and
/// 200 small ones written back to back and read in few reads arrive all,
/// in order (§4.6).
#[test]
fn large_publish_and_many_in_one_read() {
    run_with_timeout(TEST, || {
        for version in VERSIONS {
            let big: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
            let (listener, addr) = listener();
            let big2 = big.clone();
            let server = serve(listener, auto(), move |server| {
                let got = as_publish(&server.recv().expect("big PUBLISH")).expect("PUBLISH");
                assert_eq!(got.payload.len(), big2.len());
                assert!(got.payload == big2, "payload corrupted");
                let id = server.acquire_packet_id().expect("id");
                server
                    .send_generic(publish(
                        version,
                        "big",
                        QoS::AtLeastOnce,
                        Some(id),
                        &big2,
                        false,
                    ))
                    .expect("big PUBLISH to the client");
                for i in 0..200u32 {
                    server
                        .send_generic(publish(
                            version,
                            "small",
                            QoS::AtMostOnce,
                            None,
                            &i.to_be_bytes(),
                            false,
                        ))
                        .expect("small PUBLISH");
                }
                recv_until_closed(server)
            });
            let mut client = client(addr, version, &ConnectSpec::new("big"));
            let id = client.acquire_packet_id().expect("id");
            client
                .send_generic(publish(
                    version,
                    "big",
                    QoS::AtLeastOnce,
                    Some(id),
                    &big,
                    false,
                ))
                .expect("big PUBLISH");
            let msg = recv_publish(&mut client);
            assert!(msg.payload == big, "{version:?}: big payload corrupted");
            // Let the small ones pile up in the socket.
            std::thread::sleep(Duration::from_millis(200));
            for i in 0..200u32 {
                let msg = recv_publish(&mut client);
                assert_eq!(msg.payload, i.to_be_bytes(), "{version:?}");
            }
            client.close().expect("close");
            let types = server.join().expect("server");
            assert_eq!(
                types,
                [PacketType::Puback, PacketType::Disconnect],
                "{version:?}"
            );
        }
    });
}

/// A packet the role may not send is refused before anything is written
/// (§2.1.2), and the endpoint stays usable.
#[test]
fn refused_send_is_an_error_and_harmless() {
    run_with_timeout(TEST, || {
        let version = ProtocolVersion::V5_0;
        let (listener, addr) = listener();
        let server = serve(listener, auto(), recv_until_closed);
        let mut client = client(addr, version, &ConnectSpec::new("refuse"));
        let err = client
            .send_generic(connack(version))
            .expect_err("a Client sends no CONNACK");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
        publish_on(&mut client, "ok", QoS::AtLeastOnce, b"x", false);
        assert_eq!(
            recv_type(&mut client, PacketType::Puback).packet_type(),
            PacketType::Puback
        );
        client.close().expect("close");
        let types = server.join().expect("server");
        assert_eq!(types, [PacketType::Publish, PacketType::Disconnect]);
    });
}

/// Measures the time from `connect` to the first PUBLISH received, the
/// server (blocked in `accept` before the clock starts) publishing right
/// after its CONNACK (printed, not asserted: tests never assert on time).
#[test]
fn connect_to_first_message_time() {
    run_with_timeout(TEST, || {
        for version in VERSIONS {
            let mut times = Vec::new();
            for _ in 0..20 {
                let (listener, addr) = listener();
                let (ready_tx, ready) = std::sync::mpsc::channel();
                let server = std::thread::spawn(move || {
                    ready_tx.send(()).expect("ready");
                    // Blocking: the client connects next (the test is bounded).
                    let (stream, _) = listener.accept().expect("accept");
                    stream.set_nodelay(true).expect("nodelay");
                    let (mut server, _) =
                        ServerEndpoint::handshake(stream, auto(), STEP).expect("CONNECT");
                    server.set_timeout(Some(STEP));
                    server.send_generic(connack(version)).expect("CONNACK");
                    server
                        .send_generic(publish(
                            version,
                            "hello",
                            QoS::AtMostOnce,
                            None,
                            b"first",
                            false,
                        ))
                        .expect("PUBLISH");
                    recv_until_closed(&mut server)
                });
                ready.recv_timeout(STEP).expect("server thread started");
                std::thread::sleep(Duration::from_millis(5));
                let start = Instant::now();
                let mut client = client(addr, version, &ConnectSpec::new("first"));
                let msg = recv_publish(&mut client);
                times.push(start.elapsed());
                assert_eq!(msg.payload, b"first");
                client.close().expect("close");
                server.join().expect("server");
            }
            times.sort();
            println!(
                "mqtt-std {version:?}: connect to first message on loopback: median {:?}, min {:?}, max {:?} (20 runs, debug build)",
                times[times.len() / 2],
                times[0],
                times[times.len() - 1]
            );
        }
    });
}
