//! The example broker under overload (issue 15, item 1): a subscriber that
//! does not read holds up neither its publisher nor the other subscribers
//! (no head-of-line blocking). Its copies wait in its own bounded backlog,
//! in order; past the bound they are dropped, or (QoS 1 and 2 with
//! `--overflow disconnect`) the client is cut.
//!
//! A stalled subscriber is a raw TCP connection with a small receive
//! buffer that sends CONNECT and SUBSCRIBE and then reads nothing: with
//! 64 KiB payloads, a few hundred messages fill the kernel's buffers, the
//! broker's write buffer and the connection's command channel. Every wait
//! is bounded by [`WAIT`], whose expiry fails the test: a broker whose
//! publisher waits for the stalled subscriber (30 s, the slow consumer
//! timeout) fails them. No assertion is on time.

use std::net::SocketAddr;

use bytes::BytesMut;
use mqtt_codec::v5_0::ConnectProperties;
use mqtt_codec::{v3_1_1, v5_0, Decoder, Encode, GenericPacket, ProtocolVersion, QoS};
use mqtt_examples::broker::{Broker, BrokerConfig, Overflow, StatsHandle, StatsSnapshot};
use mqtt_tokio::{Client, ClientOptions, Messages};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{timeout, Duration};

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5_0;
/// The bound of every wait; today's broker would stall 30 s.
const WAIT: Duration = Duration::from_secs(20);
/// Messages published: several times what a stalled connection absorbs.
const N: usize = 400;
/// Payload size: 64 KiB, so that N messages overflow every buffer.
const SIZE: usize = 64 * 1024;

async fn start(configure: impl FnOnce(&mut BrokerConfig)) -> (SocketAddr, StatsHandle) {
    let mut config = BrokerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    configure(&mut config);
    let broker = Broker::bind(config).await.expect("bind");
    let addr = broker.local_addr();
    let stats = broker.stats_handle();
    tokio::spawn(broker.run());
    (addr, stats)
}

/// Message `i`: its number in the first 8 bytes, then filler.
fn payload(i: usize) -> Vec<u8> {
    let mut p = format!("{i:08}").into_bytes();
    p.resize(SIZE, b'.');
    p
}

/// The number of a message made by [`payload`].
fn number(payload: &[u8]) -> usize {
    std::str::from_utf8(&payload[..8]).unwrap().parse().unwrap()
}

/// A high-level client (clean, no reconnection).
async fn client(addr: SocketAddr, id: &str) -> (Client, Messages) {
    let options = ClientOptions::with_address(addr.ip().to_string(), addr.port())
        .client_id(id)
        .reconnect(None);
    timeout(WAIT, Client::connect(options))
        .await
        .expect("CONNACK in time")
        .expect("connected")
}

/// Publishes messages `0..N` to `topic` at `qos`, each QoS 1 one awaited
/// until its PUBACK, then a QoS 1 marker to another topic (its PUBACK: the
/// broker has routed every message before it). Fails past [`WAIT`] in all.
async fn publish_all(publisher: &Client, topic: &str, qos: QoS) {
    let all = async {
        for i in 0..N {
            publisher
                .publish(topic, qos, false, payload(i))
                .await
                .unwrap();
        }
        let marker = publisher.publish("marker", QoS::AtLeastOnce, false, "m");
        marker.await.unwrap();
    };
    timeout(WAIT, all)
        .await
        .expect("the publisher is not held up by the stalled subscriber");
}

/// A raw connection with a small receive buffer.
struct Raw {
    stream: TcpStream,
    decoder: Decoder<u16>,
    buf: BytesMut,
    version: ProtocolVersion,
}

impl Raw {
    /// Connects with `connect` (of `version`) and reads its CONNACK; Session
    /// Present.
    async fn connect(
        addr: SocketAddr,
        version: ProtocolVersion,
        connect: GenericPacket<u16>,
    ) -> (Raw, bool) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(addr).await.unwrap();
        let mut raw = Raw {
            stream,
            decoder: Decoder::new(version),
            buf: BytesMut::new(),
            version,
        };
        raw.send(connect).await;
        let present = match raw.read().await {
            Some(GenericPacket::V3_1_1(v3_1_1::Packet::Connack(c))) => c.session_present(),
            Some(GenericPacket::V5_0(v5_0::Packet::Connack(c))) => c.session_present(),
            other => panic!("expected CONNACK, got {other:?}"),
        };
        (raw, present)
    }

    /// A new clean connection of `version` subscribed to `filter` at `qos`,
    /// which reads nothing more unless told.
    async fn subscriber(addr: SocketAddr, version: ProtocolVersion, id: &str, filter: &str) -> Raw {
        let connect = mqtt_examples::connect(version, id, 0).unwrap();
        let (mut raw, _) = Raw::connect(addr, version, connect).await;
        raw.subscribe(filter).await;
        raw
    }

    async fn subscribe(&mut self, filter: &str) {
        let filter = filter.try_into().unwrap();
        let packet = mqtt_examples::subscribe(self.version, 1, &filter, QoS::ExactlyOnce);
        self.send(packet.unwrap()).await;
        match self.read().await {
            Some(GenericPacket::V3_1_1(v3_1_1::Packet::Suback(_)))
            | Some(GenericPacket::V5_0(v5_0::Packet::Suback(_))) => {}
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    async fn send(&mut self, packet: GenericPacket<u16>) {
        let mut out = Vec::new();
        packet.encode(&mut out).unwrap();
        self.stream.write_all(&out).await.unwrap();
    }

    /// The next packet; `None` when the connection closed or broke.
    async fn read(&mut self) -> Option<GenericPacket<u16>> {
        loop {
            if let Some(p) = self.decoder.decode(&mut self.buf).unwrap() {
                return Some(p);
            }
            let read = timeout(WAIT, self.stream.read_buf(&mut self.buf));
            match read.await.expect("data in time") {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// The numbers of the messages received until the marker `"marker"`
    /// (or the end of the connection), each QoS 1 one acknowledged.
    async fn read_until_marker(&mut self) -> Vec<usize> {
        let mut numbers = Vec::new();
        while let Some(packet) = self.read().await {
            let (topic, id, payload) = match &packet {
                GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => {
                    (p.topic_name().to_string(), p.packet_id(), p.payload())
                }
                GenericPacket::V5_0(v5_0::Packet::Publish(p)) => {
                    (p.topic_name().to_string(), p.packet_id(), p.payload())
                }
                _ => continue,
            };
            if topic == "marker" {
                return numbers;
            }
            numbers.push(number(payload));
            if let Some(id) = id {
                let puback = match self.version {
                    V3 => v3_1_1::Packet::from(v3_1_1::Puback::new(id)).into(),
                    _ => v5_0::Packet::from(v5_0::Puback::new(id)).into(),
                };
                self.send(puback).await;
            }
        }
        numbers
    }
}

/// Receives messages `0..N` on `messages`, in order.
async fn receive_all(messages: &mut Messages) {
    let all = async {
        for i in 0..N {
            let m = messages.recv().await.expect("connection open");
            assert_eq!(number(m.payload()), i, "in publish order");
        }
    };
    timeout(WAIT, all).await.expect("every message arrives");
}

/// The counters' change since `before`.
fn since(stats: &StatsHandle, before: &StatsSnapshot) -> (u64, u64, u64) {
    let now = stats.snapshot();
    (
        now.backlogged - before.backlogged,
        now.dropped_slow - before.dropped_slow,
        now.dropped - before.dropped,
    )
}

/// One stalled and one live subscriber on the same topic: the publisher's
/// N QoS 1 messages are each acknowledged, the live subscriber receives
/// all N in order, and the stalled one's copies that did not fit its
/// connection wait in its backlog (none dropped: the backlog holds them).
#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_subscriber_holds_up_neither_publisher_nor_others() {
    let (addr, stats) = start(|_| {}).await;
    for v in [V3, V5] {
        let topic = format!("hol/{v:?}");
        let _stalled = Raw::subscriber(addr, v, &format!("stalled{v:?}"), &topic).await;
        let (live, mut live_in) = client(addr, &format!("live{v:?}")).await;
        live.subscribe(&topic, QoS::AtLeastOnce).await.unwrap();
        let (publisher, _) = client(addr, &format!("pub{v:?}")).await;
        let before = stats.snapshot();
        let received = tokio::spawn(async move {
            receive_all(&mut live_in).await;
            live_in
        });
        publish_all(&publisher, &topic, QoS::AtLeastOnce).await;
        received.await.unwrap();
        let (backlogged, dropped_slow, dropped) = since(&stats, &before);
        assert!(
            backlogged > 0,
            "{v:?}: the stalled subscriber's copies wait"
        );
        assert_eq!((dropped_slow, dropped), (0, 0), "{v:?}");
    }
}

/// QoS 0 copies for a stalled subscriber wait in its backlog as far as
/// its bounds allow (here 1 MiB; the 25 MiB published also fill its
/// connection's channel) and past them are dropped (counted), never
/// holding up the publisher.
#[tokio::test(flavor = "multi_thread")]
async fn qos0_copies_for_a_stalled_subscriber_past_its_bounds_are_dropped_and_counted() {
    let (addr, stats) = start(|c| c.max_queued_bytes = 1 << 20).await;
    let _stalled = Raw::subscriber(addr, V5, "stalled0", "qos0").await;
    let (publisher, _) = client(addr, "pub0").await;
    let before = stats.snapshot();
    publish_all(&publisher, "qos0", QoS::AtMostOnce).await;
    let (backlogged, dropped_slow, dropped) = since(&stats, &before);
    assert!(backlogged > 0, "they wait within the bounds");
    assert!(
        dropped_slow > 0 && dropped_slow < N as u64,
        "{dropped_slow}"
    );
    assert_eq!(dropped, dropped_slow);
    assert_eq!(stats.snapshot().slow_consumers, 0, "dropped, not cut");
}

/// A subscriber that reads nothing while N QoS 0 messages are published,
/// within its backlog's bounds, and then reads, loses none of them and
/// receives them in publish order [MQTT-4.6.0-6] (v3.1.1), [MQTT-4.6.0-5]
/// (v5.0): a channel full for a moment does not drop QoS 0 copies.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_reader_gets_every_qos0_message_within_its_bounds_in_order() {
    let (addr, stats) = start(|c| c.max_queued_bytes = 64 << 20).await;
    for v in [V3, V5] {
        let topic = format!("slow0/{v:?}");
        let mut slow = Raw::subscriber(addr, v, &format!("slow0{v:?}"), &topic).await;
        slow.subscribe("marker").await;
        let (publisher, _) = client(addr, &format!("pub0{v:?}")).await;
        let before = stats.snapshot();
        publish_all(&publisher, &topic, QoS::AtMostOnce).await;
        let (backlogged, _, dropped) = since(&stats, &before);
        assert!(
            backlogged > 0 && dropped == 0,
            "{v:?}: {backlogged} {dropped}"
        );
        let numbers = timeout(WAIT, slow.read_until_marker()).await.unwrap();
        assert_eq!(numbers, (0..N).collect::<Vec<_>>(), "{v:?}");
    }
}

/// Past `--max-backlog-bytes` (all backlogs together), the broker reads
/// no further PUBLISH from a connection until the backlogs drained: TCP
/// holds the publisher, and the copies that its stalled subscriber's own
/// bounds would keep are not read only to be dropped. Once the subscriber
/// reads, it gets every message, in order [MQTT-4.6.0-6], and the budget
/// is given back.
#[tokio::test(flavor = "multi_thread")]
async fn past_the_backlog_budget_the_publisher_waits_and_nothing_is_dropped() {
    const LIMIT: usize = 1 << 20;
    let (addr, stats) =
        start(|c| (c.max_queued_bytes, c.max_backlog_bytes) = (64 << 20, LIMIT)).await;
    let mut slow = Raw::subscriber(addr, V5, "budget-sub", "budget").await;
    slow.subscribe("marker").await;
    let (publisher, _) = client(addr, "budget-pub").await;
    let publishing = tokio::spawn(async move {
        publish_all(&publisher, "budget", QoS::AtMostOnce).await;
        publisher
    });
    // The copies fill the subscriber's channel, then its backlog past
    // the budget.
    let held = timeout(WAIT, async {
        loop {
            let now = stats.snapshot();
            if now.backlog_bytes > LIMIT {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the backlog grows past the budget");
    // Held: the publisher (25 MiB on loopback, well under a second when
    // nothing holds it) does not get its messages through meanwhile.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let later = stats.snapshot();
    assert!(!publishing.is_finished(), "the publisher waits");
    assert!(later.messages_in < N as u64, "{}", later.messages_in);
    assert!(
        later.backlog_bytes <= LIMIT + 2 * (SIZE + 64),
        "within a PUBLISH of the budget: {} (first seen {})",
        later.backlog_bytes,
        held.backlog_bytes
    );
    let numbers = timeout(WAIT, slow.read_until_marker()).await.unwrap();
    assert_eq!(numbers, (0..N).collect::<Vec<_>>());
    let _publisher = timeout(WAIT, publishing).await.unwrap().unwrap();
    let end = stats.snapshot();
    assert_eq!(
        (end.dropped, end.dropped_slow, end.backlog_bytes),
        (0, 0, 0)
    );
}

/// QoS 1 copies beyond the backlog's bound, in messages (`--max-queued`)
/// or in bytes (`--max-queued-bytes`), are dropped (counted); the backlog
/// keeps what fits.
#[tokio::test(flavor = "multi_thread")]
async fn qos1_copies_beyond_the_backlog_bound_are_dropped_and_counted() {
    for (max, bytes) in [(10, 16 << 20), (1000, 300_000)] {
        let (addr, stats) = start(|c| (c.max_queued, c.max_queued_bytes) = (max, bytes)).await;
        let _stalled = Raw::subscriber(addr, V3, "stalled1", "bound").await;
        let (publisher, _) = client(addr, "pub1").await;
        let before = stats.snapshot();
        publish_all(&publisher, "bound", QoS::AtLeastOnce).await;
        let (backlogged, dropped_slow, dropped) = since(&stats, &before);
        assert!(backlogged > 0, "{max} {bytes}");
        assert!(dropped_slow > 0, "{max} {bytes}");
        assert_eq!(dropped, dropped_slow);
        assert_eq!(stats.snapshot().slow_consumers, 0, "dropped, not cut");
    }
}

/// `--overflow disconnect`: a v5.0 subscriber whose backlog overflows is
/// cut (its connection closes); its session keeps what fits and delivers
/// it, in order, when the client resumes it [MQTT-4.6.0-6].
#[tokio::test(flavor = "multi_thread")]
async fn overflow_disconnect_cuts_the_client_and_its_session_keeps_what_fits() {
    let (addr, stats) = start(|c| {
        c.overflow = Overflow::Disconnect;
        c.max_queued = 10;
    })
    .await;
    let connect = |clean| {
        let mut b = v5_0::Connect::builder();
        b.try_client_id("cut").unwrap().clean_start(clean);
        b.properties(ConnectProperties {
            session_expiry_interval: Some(60),
            ..Default::default()
        });
        GenericPacket::from(v5_0::Packet::from(b.build().unwrap()))
    };
    let (mut stalled, _) = Raw::connect(addr, V5, connect(true)).await;
    stalled.subscribe("over").await;
    stalled.subscribe("marker").await;
    let (publisher, _) = client(addr, "pub2").await;
    publish_all(&publisher, "over", QoS::AtLeastOnce).await;
    assert_eq!(stats.snapshot().slow_consumers, 1);
    // Its connection was closed: reading reaches the end.
    let end = async { while stalled.read().await.is_some() {} };
    timeout(WAIT, end).await.expect("the connection closes");

    let (mut resumed, present) = Raw::connect(addr, V5, connect(false)).await;
    assert!(present);
    publisher
        .publish("over", QoS::AtLeastOnce, false, payload(N))
        .await
        .unwrap();
    publisher
        .publish("marker", QoS::AtLeastOnce, false, "m")
        .await
        .unwrap();
    let numbers = timeout(WAIT, resumed.read_until_marker()).await.unwrap();
    assert!(numbers.len() > 1, "{numbers:?}");
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert_eq!(numbers.last(), Some(&N));
}

/// A subscriber that reads nothing while the N QoS 1 messages are
/// published, and then reads, receives every one of them in publish order
/// [MQTT-4.6.0-6] (v3.1.1), [MQTT-4.6.0-5] (v5.0).
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_reader_gets_every_qos1_message_in_order() {
    let (addr, stats) = start(|_| {}).await;
    for v in [V3, V5] {
        let topic = format!("slow/{v:?}");
        let mut slow = Raw::subscriber(addr, v, &format!("slow{v:?}"), &topic).await;
        slow.subscribe("marker").await;
        let (publisher, _) = client(addr, &format!("pub{v:?}")).await;
        let before = stats.snapshot();
        publish_all(&publisher, &topic, QoS::AtLeastOnce).await;
        let (backlogged, _, dropped) = since(&stats, &before);
        assert!(
            backlogged > 0 && dropped == 0,
            "{v:?}: {backlogged} {dropped}"
        );
        let numbers = timeout(WAIT, slow.read_until_marker()).await.unwrap();
        assert_eq!(numbers, (0..N).collect::<Vec<_>>(), "{v:?}");
    }
}

/// A v3.1.1 client cannot be told a Receive Maximum (its CONNACK has no
/// properties), so the broker holds it to none: 300 QoS 1 PUBLISH written
/// at once, before any PUBACK is read, with `--receive-maximum 5`, are
/// each acknowledged, in order [MQTT-4.6.0-2], and the connection stays
/// open; in memory and with the store, where the broker reads no further
/// while 5 acknowledgements wait for a commit.
#[tokio::test(flavor = "multi_thread")]
async fn a_v3_1_1_client_is_held_to_no_receive_maximum() {
    const COUNT: u16 = 300;
    let store = std::env::temp_dir().join(format!("v3-flow-{}.redb", std::process::id()));
    for durable in [false, true] {
        let _ = std::fs::remove_file(&store);
        let (addr, _stats) = start(|c| {
            c.receive_maximum = 5;
            c.store = durable.then(|| store.clone());
        })
        .await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut out = mqtt_examples::raw::connect_packet(false, "v3", 60);
        for id in 1..=COUNT {
            let [hi, lo] = id.to_be_bytes();
            out.extend_from_slice(&[0x32, 6, 0, 1, b't', hi, lo, b'x']);
        }
        stream.write_all(&out).await.unwrap();
        let mut expected = vec![0x20, 2, 0, 0];
        for id in 1..=COUNT {
            let [hi, lo] = id.to_be_bytes();
            expected.extend_from_slice(&[0x40, 2, hi, lo]);
        }
        let mut answers = vec![0; expected.len()];
        let read = timeout(WAIT, stream.read_exact(&mut answers)).await;
        read.expect("every PUBACK in time")
            .expect("the connection open");
        assert_eq!(answers, expected, "durable: {durable}");
        // Nothing more (no DISCONNECT, no close) a moment later.
        let more = timeout(Duration::from_millis(100), stream.read(&mut [0; 1])).await;
        assert!(more.is_err(), "durable: {durable}: {more:?}");
    }
    let _ = std::fs::remove_file(&store);
}
