//! The example broker's hibernated connections (`--hibernate-after`): a
//! quiet connection gives up its task, queues and buffers and keeps its
//! socket and session; routing, its own packets, its Keep Alive, a
//! takeover and a shutdown wake it, and nothing of the protocol changes.
//! Tests never assert on time: every wait is bounded, and a timeout fails.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use mqtt_codec::v5_0::DisconnectReasonCode;
use mqtt_codec::{v3_1_1, v5_0, Encode, GenericPacket, ProtocolVersion, QoS, TopicFilter};
use mqtt_examples::broker::{Broker, BrokerConfig, StatsHandle};
use mqtt_tokio::{role, ClientEndpoint, ConnectionOptions, Incoming};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5_0;
const WAIT: Duration = Duration::from_secs(10);

type In = Incoming<role::Client>;

/// A broker whose connections hibernate after 50 ms of quiet, until `stop`.
async fn start(
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> (SocketAddr, StatsHandle) {
    start_with(50, stop).await
}

/// A broker whose connections hibernate after `after` ms of quiet.
async fn start_with(
    after: u64,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> (SocketAddr, StatsHandle) {
    let config = BrokerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        hibernate_after: after,
        verbose: std::env::var_os("HIB_VERBOSE").is_some(),
        ..Default::default()
    };
    let broker = Broker::bind(config).await.expect("bind");
    let (addr, stats) = (broker.local_addr(), broker.stats_handle());
    tokio::spawn(broker.run_until(stop));
    (addr, stats)
}

/// Waits until `n` connections are open, `asleep` of them hibernated.
async fn wait_for(stats: &StatsHandle, n: usize, asleep: usize) {
    let poll = async {
        loop {
            let s = stats.snapshot();
            if (s.connections, s.hibernated) == (n, asleep) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    timeout(WAIT, poll)
        .await
        .expect("connections and hibernated");
}

fn connect(version: ProtocolVersion, id: &str, persistent: bool) -> GenericPacket {
    match version {
        V3 => {
            let mut b = v3_1_1::Connect::builder();
            b.try_client_id(id).unwrap().clean_session(!persistent);
            v3_1_1::Packet::from(b.build().unwrap()).into()
        }
        _ => {
            let mut b = v5_0::Connect::builder();
            b.try_client_id(id).unwrap().clean_start(!persistent);
            b.properties(v5_0::ConnectProperties {
                session_expiry_interval: Some(if persistent { 60 } else { 0 }),
                ..Default::default()
            });
            v5_0::Packet::from(b.build().unwrap()).into()
        }
    }
}

async fn client(addr: SocketAddr, connect: GenericPacket) -> (ClientEndpoint, In) {
    let connecting = ClientEndpoint::connect(addr, connect, ConnectionOptions::default());
    timeout(WAIT, connecting)
        .await
        .expect("in time")
        .expect("connected")
}

/// Subscribes to `filter` and waits for the SUBACK.
async fn subscribe(c: &ClientEndpoint, i: &mut In, version: ProtocolVersion, filter: &str) {
    let id = c.acquire_packet_id().await.unwrap();
    let filter = TopicFilter::new(filter).unwrap();
    let packet = mqtt_examples::subscribe(version, id, &filter, QoS::ExactlyOnce).unwrap();
    c.send_generic(packet).await.unwrap();
    loop {
        match next(i).await {
            Some(GenericPacket::V3_1_1(v3_1_1::Packet::Suback(_)))
            | Some(GenericPacket::V5_0(v5_0::Packet::Suback(_))) => return,
            Some(_) => {}
            None => panic!("closed before the SUBACK"),
        }
    }
}

async fn next(i: &mut In) -> Option<GenericPacket> {
    timeout(WAIT, i.recv()).await.expect("a packet in time")
}

/// The topic and payload of the next PUBLISH.
async fn next_publish(i: &mut In) -> (String, Bytes) {
    loop {
        match next(i).await.expect("open") {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => {
                return (
                    p.topic_name().to_string(),
                    Bytes::copy_from_slice(p.payload()),
                )
            }
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => {
                return (
                    p.topic_name().to_string(),
                    Bytes::copy_from_slice(p.payload()),
                )
            }
            _ => {}
        }
    }
}

/// The Reason Codes of the DISCONNECT packets received until the end.
async fn disconnects(i: &mut In) -> Vec<DisconnectReasonCode> {
    let mut codes = Vec::new();
    while let Some(p) = next(i).await {
        if let GenericPacket::V5_0(v5_0::Packet::Disconnect(d)) = p {
            codes.push(d.reason_code());
        }
    }
    codes
}

async fn publish(c: &ClientEndpoint, topic: &str, qos: QoS, payload: &'static str) {
    let m = mqtt_examples::message(topic, qos, payload.as_bytes()).unwrap();
    timeout(WAIT, c.publish(m)).await.expect("in time").unwrap();
}

/// A subscriber and a publisher both hibernate once quiet, and stay
/// counted as open connections. A QoS 0, 1 and 2 message each wakes the
/// publisher (its own PUBLISH) and the subscriber (routed to it): it gets
/// all three, in order [MQTT-4.6.0-6], and both hibernate again. Then a
/// DISCONNECT wakes the subscriber and closes it normally.
#[tokio::test(flavor = "multi_thread")]
async fn asleep_connections_receive_and_send() {
    let (addr, stats) = start(std::future::pending()).await;
    for v in [V3, V5] {
        // An empty Client Identifier: the broker assigns one (in the
        // CONNACK on v5.0 [MQTT-3.2.2-16], unsaid on v3.1.1), which finds
        // its session when a message wakes it.
        let (s, mut si) = client(addr, connect(v, "", false)).await;
        subscribe(&s, &mut si, v, "h/t").await;
        let (p, _pi) = client(addr, connect(v, &format!("p{v:?}"), false)).await;
        wait_for(&stats, 2, 2).await;
        publish(&p, "h/t", QoS::AtMostOnce, "zero").await;
        publish(&p, "h/t", QoS::AtLeastOnce, "one").await;
        publish(&p, "h/t", QoS::ExactlyOnce, "two").await;
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(next_publish(&mut si).await);
        }
        let payloads: Vec<&[u8]> = got.iter().map(|(_, p)| &p[..]).collect();
        assert_eq!(payloads, [&b"zero"[..], b"one", b"two"], "{v:?}");
        wait_for(&stats, 2, 2).await;
        timeout(WAIT, s.close()).await.unwrap().unwrap();
        wait_for(&stats, 1, 1).await;
        timeout(WAIT, p.close()).await.unwrap().unwrap();
        wait_for(&stats, 0, 0).await;
    }
}

/// A client that sends nothing after its CONNECT (Keep Alive 1 s) is
/// disconnected by its Keep Alive while asleep [MQTT-3.1.2-24], and its
/// Will is published, as for a network failure [MQTT-3.1.2-8].
#[tokio::test(flavor = "multi_thread")]
async fn keep_alive_runs_out_while_asleep() {
    let (addr, stats) = start(std::future::pending()).await;
    let (w, mut wi) = client(addr, connect(V5, "watcher", false)).await;
    subscribe(&w, &mut wi, V5, "will/#").await;
    let will = v3_1_1::Will::builder()
        .try_topic("will/silent")
        .unwrap()
        .try_message(&b"gone"[..])
        .unwrap()
        .qos(QoS::AtLeastOnce)
        .build()
        .unwrap();
    let mut b = v3_1_1::Connect::builder();
    b.try_client_id("silent").unwrap().keep_alive(1).will(will);
    let packet: GenericPacket = v3_1_1::Packet::from(b.build().unwrap()).into();
    let mut bytes = Vec::new();
    packet.encode(&mut bytes).unwrap();
    let mut raw = TcpStream::connect(addr).await.unwrap();
    raw.write_all(&bytes).await.unwrap();
    wait_for(&stats, 2, 2).await;
    let (topic, payload) = next_publish(&mut wi).await;
    assert_eq!(
        (topic.as_str(), &payload[..]),
        ("will/silent", &b"gone"[..])
    );
    // The CONNACK, then the end of the connection.
    let mut rest = Vec::new();
    let read = timeout(WAIT, raw.read_to_end(&mut rest))
        .await
        .expect("closed in time");
    assert_eq!((read.unwrap(), rest[0]), (4, 0x20));
    wait_for(&stats, 1, 1).await;
}

/// A new connection with the Client Identifier of a hibernated one takes
/// its session over: the sleeping connection is woken, sent DISCONNECT
/// 0x8E (Session taken over) [MQTT-3.1.4-3] and closed; the new one finds
/// the session present, with its subscription.
#[tokio::test(flavor = "multi_thread")]
async fn a_takeover_wakes_the_sleeping_holder() {
    let (addr, stats) = start(std::future::pending()).await;
    let (a, mut ai) = client(addr, connect(V5, "held", true)).await;
    subscribe(&a, &mut ai, V5, "to/t").await;
    wait_for(&stats, 1, 1).await;
    let (c, mut ci) = client(addr, connect(V5, "held", true)).await;
    let present = match ci.connack() {
        Some(GenericPacket::V5_0(v5_0::Packet::Connack(c))) => c.session_present(),
        other => panic!("expected a v5.0 CONNACK, got {other:?}"),
    };
    assert!(present);
    assert_eq!(
        disconnects(&mut ai).await,
        [DisconnectReasonCode::SessionTakenOver]
    );
    publish(&c, "to/t", QoS::AtLeastOnce, "still").await;
    assert_eq!(&next_publish(&mut ci).await.1[..], b"still");
}

/// A broker that stops sends its hibernated v5.0 clients DISCONNECT 0x8B
/// (Server shutting down) too, and closes them.
#[tokio::test(flavor = "multi_thread")]
async fn shutdown_reaches_sleeping_clients() {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, stats) = start(async move {
        let _ = stopped.await;
    })
    .await;
    let (_c, mut ci) = client(addr, connect(V5, "sleeper", false)).await;
    wait_for(&stats, 1, 1).await;
    stop.send(()).unwrap();
    assert_eq!(
        disconnects(&mut ci).await,
        [DisconnectReasonCode::ServerShuttingDown]
    );
}

/// Messages published at every phase of the subscriber's hibernation
/// (pauses of 0 to 3 periods, the checks of a period landing between
/// them) all arrive, in order: a copy routed while the connection goes to
/// sleep comes back to its session and wakes it, QoS 0 ones too.
#[tokio::test(flavor = "multi_thread")]
async fn nothing_is_lost_as_connections_fall_asleep() {
    let (addr, stats) = start_with(8, std::future::pending()).await;
    let (s, mut si) = client(addr, connect(V5, "s", false)).await;
    subscribe(&s, &mut si, V5, "r/t").await;
    let (p, _pi) = client(addr, connect(V5, "p", false)).await;
    const N: u32 = 120;
    let receiving = tokio::spawn(async move {
        let mut got = Vec::new();
        for _ in 0..N {
            got.push(next_publish(&mut si).await.1);
        }
        got
    });
    let mut sent = Vec::new();
    for i in 0..N {
        let qos = if i % 2 == 0 {
            QoS::AtMostOnce
        } else {
            QoS::AtLeastOnce
        };
        let payload = Bytes::from(i.to_string());
        let m = mqtt_examples::message("r/t", qos, payload.clone()).unwrap();
        timeout(WAIT, p.publish(m)).await.expect("in time").unwrap();
        sent.push(payload);
        tokio::time::sleep(Duration::from_millis(u64::from(i % 25))).await;
    }
    assert_eq!(timeout(WAIT, receiving).await.unwrap().unwrap(), sent);
    let s = stats.snapshot();
    assert_eq!(s.dropped, 0);
    assert!(s.woken > 10, "they slept and woke: {s:?}");
}
