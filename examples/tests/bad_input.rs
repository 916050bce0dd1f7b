//! Bad input against the example broker (issue 6): raw TCP attackers send
//! garbage, oversized claims, partial packets, floods of CONNECTs and
//! ill-formed packets; each is closed (on v5.0 after the DISCONNECT whose
//! reason code the codec names), and after each attack a good v3.1.1
//! publisher still reaches a good v5.0 subscriber at QoS 1.
//!
//! Each test starts its own broker in-process on a free port. Nothing
//! asserts on time except generous limits for "eventually closed".

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use mqtt_codec::{v5_0, GenericPacket, ProtocolVersion, QoS, TopicFilter};
use mqtt_examples::broker::{Broker, BrokerConfig, StatsHandle};
use mqtt_examples::raw;
use mqtt_tokio::{role, ClientEndpoint, ConnectionOptions, Incoming};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};

/// How long a broker may take to close a connection it must close.
const CLOSE_LIMIT: Duration = Duration::from_secs(10);
/// The good pair's topic.
const TOPIC: &str = "good/topic";

// ------------------------------------------------------------ the good pair

/// A broker and a good publisher (v3.1.1) and subscriber (v5.0) on it.
struct Good {
    addr: SocketAddr,
    stats: StatsHandle,
    publisher: ClientEndpoint,
    _publisher_incoming: Incoming<role::Client>,
    _subscriber: ClientEndpoint,
    subscriber_incoming: Incoming<role::Client>,
    sent: u32,
}

impl Good {
    /// Starts a broker with a 1 s connect timeout, changed by `configure`,
    /// and connects the good pair (the subscriber's SUBACK received).
    async fn start(configure: impl FnOnce(&mut BrokerConfig)) -> Good {
        let mut config = BrokerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            connect_timeout: 1,
            ..BrokerConfig::default()
        };
        configure(&mut config);
        let broker = Broker::bind(config).await.expect("bind the broker");
        let addr = broker.local_addr();
        let stats = broker.stats_handle();
        tokio::spawn(broker.run());

        let options = ConnectionOptions::default();
        let sub_connect =
            mqtt_examples::connect(ProtocolVersion::V5_0, "good-sub", 30).expect("a CONNECT");
        let (subscriber, mut subscriber_incoming) = timeout(
            CLOSE_LIMIT,
            ClientEndpoint::connect(addr, sub_connect, options.clone()),
        )
        .await
        .expect("subscriber connects in time")
        .expect("subscriber connects");
        let id = subscriber.acquire_packet_id().await.expect("a packet id");
        let filter = TopicFilter::new(TOPIC).expect("a filter");
        let subscribe =
            mqtt_examples::subscribe(ProtocolVersion::V5_0, id, &filter, QoS::AtLeastOnce)
                .expect("a SUBSCRIBE");
        subscriber
            .send_generic(subscribe)
            .await
            .expect("SUBSCRIBE sent");
        loop {
            let packet = timeout(CLOSE_LIMIT, subscriber_incoming.recv())
                .await
                .expect("SUBACK in time")
                .expect("SUBACK before close");
            if let GenericPacket::V5_0(v5_0::Packet::Suback(s)) = packet {
                assert!(s.reason_codes().iter().all(|c| !c.is_failure()));
                break;
            }
        }
        let pub_connect =
            mqtt_examples::connect(ProtocolVersion::V3_1_1, "good-pub", 30).expect("a CONNECT");
        let (publisher, publisher_incoming) = timeout(
            CLOSE_LIMIT,
            ClientEndpoint::connect(addr, pub_connect, options),
        )
        .await
        .expect("publisher connects in time")
        .expect("publisher connects");
        Good {
            addr,
            stats,
            publisher,
            _publisher_incoming: publisher_incoming,
            _subscriber: subscriber,
            subscriber_incoming,
            sent: 0,
        }
    }

    /// Publishes a new QoS 1 message and asserts that the subscriber gets
    /// it: the broker still serves its good clients.
    async fn assert_serves(&mut self) {
        self.sent += 1;
        let payload = Bytes::from(format!("good {}", self.sent));
        let message =
            mqtt_examples::message(TOPIC, QoS::AtLeastOnce, payload.clone()).expect("a message");
        timeout(CLOSE_LIMIT, self.publisher.publish(message))
            .await
            .expect("the good PUBLISH is taken in time")
            .expect("the good publisher is still connected");
        loop {
            let packet = timeout(CLOSE_LIMIT, self.subscriber_incoming.recv())
                .await
                .expect("the good message arrives in time")
                .expect("the good subscriber is still connected");
            if let GenericPacket::V5_0(v5_0::Packet::Publish(p)) = packet {
                if p.payload() == payload {
                    return;
                }
            }
        }
    }

    /// Waits until the broker counts `connections` network connections and
    /// `sessions` sessions (the good pair's two each, after an attack).
    async fn assert_counts_return(&self, connections: usize, sessions: usize) {
        let mut now = self.stats.snapshot();
        for _ in 0..100 {
            if now.connections == connections && now.sessions == sessions {
                return;
            }
            sleep(Duration::from_millis(100)).await;
            now = self.stats.snapshot();
        }
        panic!("connections/sessions did not return to {connections}/{sessions}: {now:?}");
    }
}

// ------------------------------------------------------------ raw MQTT

/// Connects raw, sends a CONNECT and reads its CONNACK (asserting 0x00).
async fn open(addr: SocketAddr, v5: bool, client_id: &str, keep_alive: u16) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("TCP connect");
    stream
        .write_all(&raw::connect_packet(v5, client_id, keep_alive))
        .await
        .expect("CONNECT written");
    let mut head = [0u8; 2];
    timeout(CLOSE_LIMIT, stream.read_exact(&mut head))
        .await
        .expect("CONNACK in time")
        .expect("CONNACK");
    assert_eq!(head[0], 0x20, "CONNACK expected");
    let mut body = vec![0; usize::from(head[1])];
    stream.read_exact(&mut body).await.expect("CONNACK body");
    assert_eq!(body.get(1), Some(&0), "CONNACK accepts");
    stream
}

/// Reads until the broker closes the connection (end of stream or reset)
/// and returns what it sent; panics if it is still open after
/// [`CLOSE_LIMIT`].
async fn closed_by_broker(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    timeout(CLOSE_LIMIT, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the broker closes the connection");
    seen
}

/// The reason code of the DISCONNECT that `bytes` start with (0x00 when
/// it has none); `None` when they do not start with a DISCONNECT.
fn disconnect_reason(bytes: &[u8]) -> Option<u8> {
    match bytes {
        [0xE0, 0, ..] => Some(0),
        [0xE0, _, code, ..] => Some(*code),
        _ => None,
    }
}

/// Asserts that a v5.0 connection got a DISCONNECT with `code` before the
/// close, and that a v3.1.1 one was closed without a packet.
fn assert_closed_with(v5: bool, seen: &[u8], code: u8) {
    if v5 {
        assert_eq!(
            disconnect_reason(seen),
            Some(code),
            "v5.0: DISCONNECT {code:#04x} before the close, got {seen:02x?}"
        );
    } else {
        assert!(
            seen.is_empty(),
            "v3.1.1: closed without a reply, got {seen:02x?}"
        );
    }
}

/// A deterministic xorshift generator for the garbage.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0 as u8
            })
            .collect()
    }
}

// ------------------------------------------------------------ the attacks

/// [MQTT-3.1.0-1], [MQTT-4.8.0-1], [MQTT-4.13.1-1]: random bytes instead of
/// a CONNECT, and a CONNECT fixed header with a random body, are closed
/// (if the bytes look like an unfinished packet, by the connect timeout);
/// the good pair is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_instead_of_connect_is_closed() {
    let mut good = Good::start(|_| ()).await;
    let mut attackers = JoinSet::new();
    for i in 0..40u64 {
        let addr = good.addr;
        attackers.spawn(async move {
            let noise = Rng::new(i).bytes(8 + (i as usize * 37) % 1000);
            let bad = if i % 2 == 0 {
                noise
            } else {
                raw::frame(0x10, &noise)
            };
            let mut stream = TcpStream::connect(addr).await.expect("TCP connect");
            // The broker may close while we write: that is fine.
            let _ = stream.write_all(&bad).await;
            closed_by_broker(&mut stream).await;
        });
    }
    while let Some(r) = attackers.join_next().await {
        r.expect("attacker");
    }
    good.assert_serves().await;
}

/// [MQTT-4.8.0-1], [MQTT-4.13.1-1]: random bytes after a valid CONNECT are
/// a malformed packet (or an unfinished one, closed by the Keep Alive
/// [MQTT-3.1.2-22]); the connection is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_after_connect_is_closed() {
    let mut good = Good::start(|_| ()).await;
    let mut attackers = JoinSet::new();
    for i in 0..20u64 {
        let addr = good.addr;
        attackers.spawn(async move {
            let mut stream = open(addr, i % 2 == 1, &format!("garbage-{i}"), 1).await;
            let _ = stream.write_all(&Rng::new(100 + i).bytes(64)).await;
            closed_by_broker(&mut stream).await;
        });
    }
    while let Some(r) = attackers.join_next().await {
        r.expect("attacker");
    }
    good.assert_serves().await;
}

/// [MQTT-3.2.2-15], [MQTT-4.13.1-1]: a PUBLISH whose Remaining Length
/// claims 268,435,455 bytes (the largest, §1.5.5) is over the broker's
/// Maximum Packet Size: v5.0 gets DISCONNECT 0x95 and both versions are
/// closed right after the fixed header, before any of the body is sent
/// (so nothing was buffered or reserved for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remaining_length_of_256_mib_is_refused_from_the_header() {
    let mut good = Good::start(|_| ()).await;
    for v5 in [true, false] {
        for i in 0..10 {
            let mut stream = open(good.addr, v5, &format!("huge-{v5}-{i}"), 60).await;
            let mut header = vec![0x30];
            raw::varint(268_435_455, &mut header);
            assert_eq!(header, [0x30, 0xFF, 0xFF, 0xFF, 0x7F]);
            stream.write_all(&header).await.expect("header written");
            let seen = closed_by_broker(&mut stream).await;
            assert_closed_with(v5, &seen, 0x95);
        }
    }
    good.assert_serves().await;
}

/// Slowloris: 200 connections each send half a CONNECT and then nothing;
/// the good pair is served while they hang, and each is closed after the
/// connect timeout (1 s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_half_connects_are_closed_after_the_connect_timeout() {
    let mut good = Good::start(|_| ()).await;
    let mut attackers = JoinSet::new();
    for i in 0..200 {
        let addr = good.addr;
        attackers.spawn(async move {
            let connect = raw::connect_packet(i % 2 == 1, &format!("slow-{i}"), 60);
            let mut stream = TcpStream::connect(addr).await.expect("TCP connect");
            stream
                .write_all(&connect[..connect.len() / 2])
                .await
                .expect("half a CONNECT written");
            closed_by_broker(&mut stream).await
        });
    }
    good.assert_serves().await;
    while let Some(r) = attackers.join_next().await {
        let seen = r.expect("attacker");
        assert!(
            seen.is_empty(),
            "no CONNACK for half a CONNECT: {seen:02x?}"
        );
    }
    good.assert_serves().await;
    good.assert_counts_return(2, 2).await;
}

/// [MQTT-3.1.2-22] (v5.0) / [MQTT-3.1.2-24] (v3.1.1): a client that sends
/// half a PUBLISH after its CONNECT (Keep Alive 1 s) and then nothing is
/// closed after one and a half times the Keep Alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_partial_publish_is_closed_by_keep_alive() {
    let mut good = Good::start(|_| ()).await;
    let mut attackers = JoinSet::new();
    for i in 0..50 {
        let addr = good.addr;
        attackers.spawn(async move {
            let v5 = i % 2 == 1;
            let mut stream = open(addr, v5, &format!("slowpub-{i}"), 1).await;
            let publish = raw::publish_packet(v5, b"slow/topic", &[], b"payload");
            stream
                .write_all(&publish[..publish.len() / 2])
                .await
                .expect("half a PUBLISH written");
            closed_by_broker(&mut stream).await;
        });
    }
    good.assert_serves().await;
    while let Some(r) = attackers.join_next().await {
        r.expect("attacker");
    }
    good.assert_serves().await;
}

/// CONNECT flood: 2,000 connections CONNECT, get their CONNACK and drop
/// (no DISCONNECT), 64 at a time; the good pair is served, and the
/// broker's connection and session counts return to the good pair's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_flood_leaves_no_connection_or_session_behind() {
    let mut good = Good::start(|_| ()).await;
    let before = good.stats.snapshot();
    assert_eq!((before.connections, before.sessions), (2, 2));
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(64));
    let mut attackers = JoinSet::new();
    for i in 0..2_000 {
        let addr = good.addr;
        let permit = gate.clone().acquire_owned().await.expect("semaphore");
        attackers.spawn(async move {
            drop(open(addr, i % 2 == 1, &format!("flood-{i}"), 60).await);
            drop(permit);
        });
    }
    while let Some(r) = attackers.join_next().await {
        r.expect("attacker");
    }
    good.assert_serves().await;
    good.assert_counts_return(2, 2).await;
    good.assert_serves().await;
}

/// [MQTT-1.5.4-1], [MQTT-1.5.4-2] (v5.0: DISCONNECT 0x81 Malformed Packet,
/// [MQTT-4.13.1-1]); [MQTT-1.5.3-1], [MQTT-1.5.3-2] (v3.1.1: closed): a
/// PUBLISH topic with ill-formed UTF-8 (an invalid sequence, an encoded
/// surrogate) or U+0000; other clients are not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_topic_with_bad_utf8_or_nul_is_closed() {
    let mut good = Good::start(|_| ()).await;
    let topics: [&[u8]; 3] = [b"bad/\xC3\x28", b"bad/\xED\xA0\x80", b"bad/\x00/nul"];
    for v5 in [true, false] {
        for (i, topic) in topics.iter().enumerate() {
            let mut stream = open(good.addr, v5, &format!("utf8-{v5}-{i}"), 60).await;
            stream
                .write_all(&raw::publish_packet(v5, topic, &[], b"payload"))
                .await
                .expect("PUBLISH written");
            let seen = closed_by_broker(&mut stream).await;
            assert_closed_with(v5, &seen, 0x81);
        }
    }
    good.assert_serves().await;
}

/// [MQTT-1.5.4-2], [MQTT-1.5.3-2]: a SUBSCRIBE whose filter holds U+0000
/// is malformed and closed (v5.0 DISCONNECT 0x81).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_filter_with_nul_is_closed() {
    let mut good = Good::start(|_| ()).await;
    for v5 in [true, false] {
        let mut stream = open(good.addr, v5, &format!("nul-filter-{v5}"), 60).await;
        let mut body = vec![0, 1];
        if v5 {
            body.push(0);
        }
        raw::string(b"a/\x00", &mut body);
        body.push(1);
        stream
            .write_all(&raw::frame(0x82, &body))
            .await
            .expect("SUBSCRIBE written");
        let seen = closed_by_broker(&mut stream).await;
        assert_closed_with(v5, &seen, 0x81);
    }
    good.assert_serves().await;
}

/// [MQTT-3.3.2-9], [MQTT-4.13.1-1]: a v5.0 PUBLISH with a Topic Alias above
/// the broker's Topic Alias Maximum (10 by default) gets DISCONNECT 0x94
/// Topic Alias invalid and is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_alias_above_maximum_is_disconnected_with_0x94() {
    let mut good = Good::start(|_| ()).await;
    for alias in [11u16, 65_535] {
        let mut stream = open(good.addr, true, &format!("alias-{alias}"), 60).await;
        let [hi, lo] = alias.to_be_bytes();
        stream
            .write_all(&raw::publish_packet(
                true,
                b"alias/topic",
                &[0x23, hi, lo],
                b"payload",
            ))
            .await
            .expect("PUBLISH written");
        let seen = closed_by_broker(&mut stream).await;
        assert_closed_with(true, &seen, 0x94);
    }
    good.assert_serves().await;
}

/// [MQTT-3.1.0-2], [MQTT-4.13.1-1]: a second CONNECT on a connection is a
/// Protocol Error: v5.0 DISCONNECT 0x82, then closed; v3.1.1 closed. The
/// first connection's session is gone afterwards (counts return).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_connect_is_a_protocol_error() {
    let mut good = Good::start(|_| ()).await;
    for v5 in [true, false] {
        let id = format!("twice-{v5}");
        let mut stream = open(good.addr, v5, &id, 60).await;
        stream
            .write_all(&raw::connect_packet(v5, &id, 60))
            .await
            .expect("second CONNECT written");
        let seen = closed_by_broker(&mut stream).await;
        assert_closed_with(v5, &seen, 0x82);
    }
    good.assert_serves().await;
    good.assert_counts_return(2, 2).await;
}
