//! Client and server endpoints of this crate talking over loopback TCP,
//! both versions: connect, QoS 0/1/2 both ways, concurrency, publishing
//! from the receive loop, cancel-safety, numbering messages.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, GenericPacket, ProtocolVersion, QoS};
use mqtt_core::{AckPolicy, ConnectionState};
use mqtt_tokio::Error;

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];

#[tokio::test]
async fn connect_and_close_both_versions() {
    for version in VERSIONS {
        let mut p = pair(version, opts(), None).await;
        let connack = p.client_in.connack().expect("CONNACK kept");
        assert_eq!(connack.packet_type(), PacketType::Connack);
        let status = t("status", p.client.status()).await.unwrap();
        assert_eq!(status.state, ConnectionState::Connected);
        assert_eq!(status.version, Some(version));
        t("close", p.client.close()).await.unwrap();
        // The server sees the DISCONNECT, then the end.
        let d = t("disconnect", p.server_in.recv())
            .await
            .expect("DISCONNECT");
        assert_eq!(d.packet_type(), PacketType::Disconnect);
        assert!(t("end", p.server_in.recv()).await.is_none());
        assert!(
            p.server_in.close_reason().is_none(),
            "{:?}",
            p.server_in.close_reason()
        );
        assert!(t("client end", p.client_in.recv()).await.is_none());
        assert!(matches!(
            t(
                "send after close",
                p.client
                    .send_generic(publish(version, "a", QoS::AtMostOnce, None, b"x"))
            )
            .await,
            Err(Error::Closed)
        ));
    }
}

/// `Incoming` as a `Stream`: the packets in order, then the end once the
/// connection closed, with the same close reason as `recv`.
#[tokio::test]
async fn incoming_is_a_stream_that_ends_with_the_connection() {
    let mut p = pair(ProtocolVersion::V5_0, opts(), None).await;
    let m = message("s/1", QoS::AtMostOnce, b"x");
    t("publish", p.client.publish(m)).await.unwrap();
    t("close", p.client.close()).await.unwrap();
    let mut types = Vec::new();
    while let Some(packet) = t("next", next(&mut p.server_in)).await {
        types.push(packet.packet_type());
    }
    assert_eq!(types, [PacketType::Publish, PacketType::Disconnect]);
    assert!(t("after the end", next(&mut p.server_in)).await.is_none());
    assert!(p.server_in.close_reason().is_none());
}

/// QoS 0, 1 and 2 from client to server and back; the automatic
/// acknowledgements of the core complete every flow (§4.3).
#[tokio::test]
async fn qos_0_1_2_both_directions() {
    for version in VERSIONS {
        let mut p = pair(version, opts(), None).await;
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let id = match qos {
                QoS::AtMostOnce => None,
                _ => Some(t("id", p.client.acquire_packet_id()).await.unwrap()),
            };
            let payload = format!("c2s {qos:?}");
            t(
                "send",
                p.client
                    .send_generic(publish(version, "up", qos, id, payload.as_bytes())),
            )
            .await
            .unwrap();
            let (topic, q, body, _) = next_publish(&mut p.server_in).await;
            assert_eq!(
                (topic.as_str(), q, &body[..]),
                ("up", qos, payload.as_bytes())
            );

            let id = match qos {
                QoS::AtMostOnce => None,
                _ => Some(t("id", p.server.acquire_packet_id()).await.unwrap()),
            };
            let payload = format!("s2c {qos:?}");
            t(
                "send",
                p.server
                    .send_generic(publish(version, "down", qos, id, payload.as_bytes())),
            )
            .await
            .unwrap();
            let (topic, q, body, _) = next_publish(&mut p.client_in).await;
            assert_eq!(
                (topic.as_str(), q, &body[..]),
                ("down", qos, payload.as_bytes())
            );
        }
        // Every flow ends: PUBACK, PUBCOMP arrive (each side sees them).
        for side in 0..2 {
            let mut done = false;
            for _ in 0..200 {
                let s = if side == 0 {
                    t("status", p.client.status()).await.unwrap()
                } else {
                    t("status", p.server.status()).await.unwrap()
                };
                if s.in_flight == 0 {
                    done = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert!(done, "flows did not end ({version:?})");
        }
        t("close", p.client.close()).await.unwrap();
    }
}

/// Waits until every outgoing flow of `client` has ended.
async fn wait_in_flight_zero(client: &mqtt_tokio::ClientEndpoint) {
    for _ in 0..2000 {
        if t("status", client.status()).await.unwrap().in_flight == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("flows did not end");
}

/// Several tasks publish through clones of one handle while another task
/// receives: every message arrives once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishers_and_a_receiver() {
    for version in VERSIONS {
        let p = pair(version, opts(), Some(5)).await;
        let (client, mut client_in, mut server_in) = (p.client, p.client_in, p.server_in);
        // The client's receiver runs meanwhile (it sees the PUBACKs).
        let receiver = tokio::spawn(async move {
            let mut n = 0usize;
            while let Some(pkt) = client_in.recv().await {
                if pkt.packet_type() == PacketType::Puback {
                    n += 1;
                }
            }
            n
        });
        const TASKS: usize = 4;
        const EACH: usize = 50;
        let mut tasks = Vec::new();
        for task in 0..TASKS {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..EACH {
                    let id = client.acquire_packet_id().await.unwrap();
                    let body = format!("{task}/{i}");
                    client
                        .send_generic(publish(
                            version,
                            "c",
                            QoS::AtLeastOnce,
                            Some(id),
                            body.as_bytes(),
                        ))
                        .await
                        .unwrap();
                }
            }));
        }
        let mut seen = HashSet::new();
        while seen.len() < TASKS * EACH {
            let (_, _, body, _) = next_publish(&mut server_in).await;
            assert!(seen.insert(body), "duplicate");
        }
        for task in tasks {
            t("publisher", task).await.unwrap();
        }
        wait_in_flight_zero(&client).await;
        t("close", client.close()).await.unwrap();
        let acks = t("receiver", receiver).await.unwrap();
        assert_eq!(acks, TASKS * EACH);
        drop(p.server);
    }
}

/// A task that publishes (QoS 1, waiting for quota) from inside its receive
/// loop does not deadlock, with a Receive Maximum of 1 on the peer.
#[tokio::test]
async fn publish_from_inside_the_receive_loop() {
    for version in VERSIONS {
        let p = pair(version, opts(), Some(1)).await;
        let (client, mut client_in, server, mut server_in) =
            (p.client, p.client_in, p.server, p.server_in);
        const N: usize = 100;
        let echo = tokio::spawn(async move {
            let mut n = 0;
            while let Some(pkt) = client_in.recv().await {
                if let Some((_, _, body, _)) = as_publish(&pkt) {
                    let id = client.acquire_packet_id().await.unwrap();
                    client
                        .send_generic(publish(version, "echo", QoS::AtLeastOnce, Some(id), &body))
                        .await
                        .unwrap();
                    n += 1;
                    if n == N {
                        client.close().await.unwrap();
                    }
                }
            }
            n
        });
        for i in 0..N {
            let id = t("id", server.acquire_packet_id()).await.unwrap();
            let body = i.to_string();
            t(
                "send",
                server.send_generic(publish(
                    version,
                    "s",
                    QoS::AtLeastOnce,
                    Some(id),
                    body.as_bytes(),
                )),
            )
            .await
            .unwrap();
        }
        for i in 0..N {
            let (topic, _, body, _) = next_publish(&mut server_in).await;
            assert_eq!(topic, "echo");
            assert_eq!(&body[..], i.to_string().as_bytes(), "in order");
        }
        assert_eq!(t("echo task", echo).await.unwrap(), N);
    }
}

/// `Incoming::recv` loses nothing when another branch of `select!` wins.
#[tokio::test]
async fn recv_is_cancel_safe_in_select() {
    let p = pair(ProtocolVersion::V5_0, opts(), None).await;
    let (server, mut client_in) = (p.server, p.client_in);
    const N: usize = 300;
    let sender = tokio::spawn(async move {
        for i in 0..N {
            let body = i.to_string();
            server
                .send_generic(publish(
                    ProtocolVersion::V5_0,
                    "t",
                    QoS::AtMostOnce,
                    None,
                    body.as_bytes(),
                ))
                .await
                .unwrap();
            if i % 16 == 0 {
                tokio::task::yield_now().await;
            }
        }
        server
    });
    let mut got = Vec::new();
    let mut ticks = 0u64;
    let mut tick = tokio::time::interval(Duration::from_micros(200));
    t("receive all", async {
        while got.len() < N {
            tokio::select! {
                pkt = client_in.recv() => {
                    let pkt = pkt.expect("open");
                    if let Some((_, _, body, _)) = as_publish(&pkt) {
                        got.push(String::from_utf8(body.to_vec()).unwrap());
                    }
                }
                _ = tick.tick() => ticks += 1,
            }
        }
    })
    .await;
    let want: Vec<String> = (0..N).map(|i| i.to_string()).collect();
    assert_eq!(got, want);
    assert!(ticks > 0);
    let server = t("sender", sender).await.unwrap();
    drop(server);
    drop(p.client);
}

/// A server endpoint learns each client's version from its CONNECT.
#[tokio::test]
async fn server_detects_the_version_of_each_client() {
    let server = mqtt_tokio::Server::bind("127.0.0.1:0")
        .await
        .unwrap()
        .with_options(opts());
    let addr = server.local_addr().unwrap();
    let accept = tokio::spawn(async move {
        let mut versions = Vec::new();
        for _ in 0..2 {
            let (endpoint, mut incoming, _) = server.accept().await.unwrap();
            let c = incoming.recv().await.unwrap();
            versions.push(c.version());
            endpoint
                .send_generic(connack(c.version(), None))
                .await
                .unwrap();
            tokio::spawn(async move {
                while incoming.recv().await.is_some() {}
                drop(endpoint);
            });
        }
        versions
    });
    for version in VERSIONS {
        let (c, _in) = t(
            "connect",
            mqtt_tokio::ClientEndpoint::connect(addr, connect(version, "v", 0, true), opts()),
        )
        .await
        .unwrap();
        assert_eq!(
            t("status", c.status()).await.unwrap().version,
            Some(version)
        );
        t("close", c.close()).await.unwrap();
    }
    assert_eq!(t("accept", accept).await.unwrap(), VERSIONS.to_vec());
}

/// A refusing CONNACK is `Error::Refused` with its code (§3.2.2.2).
#[tokio::test]
async fn refused_connack() {
    let server = mqtt_tokio::Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(async move {
        let (endpoint, mut incoming, _) = server.accept().await.unwrap();
        let _ = incoming.recv().await;
        let refuse = v5_0::Connack::builder()
            .reason_code(v5_0::ConnectReasonCode::NotAuthorized)
            .build()
            .unwrap();
        let _ = endpoint.send(refuse).await;
        while incoming.recv().await.is_some() {}
    });
    let r = t(
        "connect",
        mqtt_tokio::ClientEndpoint::connect(
            addr,
            connect(ProtocolVersion::V5_0, "x", 0, true),
            opts(),
        ),
    )
    .await;
    assert!(matches!(r, Err(Error::Refused(0x87))), "{r:?}");
}

/// Keep alive on an idle connection: the client's PINGREQ timer fires and
/// the server answers (§3.1.2.10, [MQTT-3.12.4-1]).
#[tokio::test]
async fn keep_alive_pings_on_idle() {
    let server = mqtt_tokio::Server::bind("127.0.0.1:0")
        .await
        .unwrap()
        .with_options(opts());
    let addr = server.local_addr().unwrap();
    let accept = tokio::spawn(async move {
        let (endpoint, mut incoming, _) = server.accept().await.unwrap();
        let c = incoming.recv().await.unwrap();
        endpoint
            .send_generic(connack(c.version(), None))
            .await
            .unwrap();
        let p = incoming.recv().await.unwrap();
        (p.packet_type(), endpoint, incoming)
    });
    let (client, mut client_in) = t(
        "connect",
        mqtt_tokio::ClientEndpoint::connect(
            addr,
            connect(ProtocolVersion::V5_0, "ka", 1, true),
            opts(),
        ),
    )
    .await
    .unwrap();
    let (first, _server, _server_in) = t("server sees a PINGREQ", accept).await.unwrap();
    assert_eq!(first, PacketType::Pingreq);
    let resp = t("PINGRESP", client_in.recv()).await.unwrap();
    assert_eq!(resp.packet_type(), PacketType::Pingresp);
    t("close", client.close()).await.unwrap();
}

/// `GenericPacket` forwarding and the drop of every handle close the
/// connection.
#[tokio::test]
async fn dropping_everything_closes() {
    let p = pair(ProtocolVersion::V3_1_1, opts(), None).await;
    let mut server_in = p.server_in;
    drop(p.client);
    drop(p.client_in);
    let d = t("DISCONNECT", server_in.recv()).await.unwrap();
    assert!(matches!(d, GenericPacket::V3_1_1(_)));
    assert_eq!(d.packet_type(), PacketType::Disconnect);
    assert!(t("end", server_in.recv()).await.is_none());
}

/// `publish` numbers a message with a packet identifier from the
/// connection in the same command; every QoS 1 PUBLISH in flight has its
/// own [MQTT-2.2.1-3].
#[tokio::test]
async fn publish_assigns_packet_identifiers() {
    for version in VERSIONS {
        let mut server_opts = opts();
        server_opts.ack = AckPolicy::Manual;
        let mut p = pair(version, server_opts, None).await;
        let a = t(
            "publish",
            p.client.publish(message("p", QoS::AtLeastOnce, b"a")),
        )
        .await
        .unwrap()
        .expect("an identifier");
        let b = t(
            "publish",
            p.client.publish(message("p", QoS::ExactlyOnce, b"b")),
        )
        .await
        .unwrap()
        .expect("an identifier");
        assert_ne!(a, b);
        let none = t(
            "publish",
            p.client.publish(message("p", QoS::AtMostOnce, b"c")),
        )
        .await
        .unwrap();
        assert_eq!(none, None);
        for want in [&b"a"[..], b"b", b"c"] {
            let (_, _, body, _) = next_publish(&mut p.server_in).await;
            assert_eq!(&body[..], want);
        }
        assert_eq!(t("status", p.client.status()).await.unwrap().in_flight, 2);
        t("close", p.client.close()).await.unwrap();
    }
}

/// With the smallest buffers (one packet in the channel, one held by the
/// driver), the driver stops reading while the application is slow, and
/// nothing is lost or reordered.
#[tokio::test]
async fn slow_receiver_with_tiny_buffers_loses_nothing() {
    let server = mqtt_tokio::Server::bind("127.0.0.1:0")
        .await
        .unwrap()
        .with_options(opts());
    let addr = server.local_addr().unwrap();
    const N: usize = 200;
    let srv = tokio::spawn(async move {
        let (endpoint, mut incoming, _) = server.accept().await.unwrap();
        let c = incoming.recv().await.unwrap();
        endpoint
            .send_generic(connack(c.version(), None))
            .await
            .unwrap();
        for i in 0..N {
            let body = i.to_string();
            endpoint
                .send_generic(publish(
                    c.version(),
                    "s",
                    QoS::AtMostOnce,
                    None,
                    body.as_bytes(),
                ))
                .await
                .unwrap();
        }
        while incoming.recv().await.is_some() {}
    });
    let mut config = mqtt_tokio::Config::default();
    config.incoming_capacity = 1;
    config.max_pending = 1;
    config.read_chunk = 64;
    let stream = t("tcp", tokio::net::TcpStream::connect(addr))
        .await
        .unwrap();
    let version = ProtocolVersion::V5_0;
    let conn = mqtt_core::GenericConnection::with_options(version, opts());
    let (client, mut incoming) = t(
        "connect",
        mqtt_tokio::ClientEndpoint::connect_with(
            stream,
            conn,
            connect(version, "slow", 0, true),
            config,
        ),
    )
    .await
    .unwrap();
    for i in 0..N {
        if i % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (_, _, body, _) = next_publish(&mut incoming).await;
        assert_eq!(&body[..], i.to_string().as_bytes());
    }
    t("close", client.close()).await.unwrap();
    t("server", srv).await.unwrap();
}

/// Endpoints with the 4-byte packet identifiers of links inside a broker
/// cluster (`u32`) work the same way.
#[tokio::test]
async fn u32_packet_identifiers() {
    use mqtt_codec::v5_0;
    use mqtt_core::role;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = mqtt_tokio::Server::<u32>::from_listener(listener).with_options(opts());
    let srv = tokio::spawn(async move {
        let (endpoint, mut incoming, _) = server.accept().await.unwrap();
        incoming.recv().await.unwrap();
        endpoint
            .send(v5_0::Connack::builder().build().unwrap())
            .await
            .unwrap();
        loop {
            let p = incoming.recv().await.unwrap();
            if let GenericPacket::V5_0(v5_0::Packet::Publish(p)) = p {
                // The endpoint stays open until the client closes.
                return (p.packet_id(), endpoint, incoming);
            }
        }
    });
    let connect = v5_0::Connect::builder()
        .try_client_id("wide")
        .unwrap()
        .build()
        .unwrap();
    let (client, _incoming) = t(
        "connect",
        mqtt_tokio::Endpoint::<role::Client, u32>::connect(addr, connect, opts()),
    )
    .await
    .unwrap();
    let id = t(
        "publish",
        client.publish(message("w", QoS::AtLeastOnce, b"x")),
    )
    .await
    .unwrap();
    let (got, _endpoint, _incoming) = t("server", srv).await.unwrap();
    assert_eq!(got, id);
    assert!(id.is_some());
    t("close", client.close()).await.unwrap();
}
