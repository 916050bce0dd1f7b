//! The example broker over real TCP, with `mqtt_tokio` clients of both
//! versions: one test per feature of issue 6, citing the spec.
//!
//! "Nothing else arrives" is checked with a barrier, never a timer: a
//! SUBSCRIBE is answered only after every packet its connection sent
//! earlier was handled, and a marker message published afterwards arrives
//! after anything the broker forwarded before it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mqtt_codec::properties::{SubscriptionIdentifier, UserProperty};
use mqtt_codec::v5_0::{
    ConnectProperties, DisconnectReasonCode, PublishProperties, RetainHandling,
    SubscribeProperties, SubscriptionOptions, WillProperties,
};
use mqtt_codec::{
    v3_1_1, v5_0, Decoder, Encode, GenericPacket, Message, MessageProperties, ProtocolVersion, QoS,
};
use mqtt_examples::broker::{Broker, BrokerConfig, StatsHandle};
use mqtt_tokio::{
    role, AckPolicy, ClientEndpoint, ConnectionOptions, Error, Incoming, IntoConnect, SendError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5_0;
const BOTH: [ProtocolVersion; 2] = [V3, V5];
const QOS: [QoS; 3] = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];
const WAIT: Duration = Duration::from_secs(5);

type In = Incoming<role::Client>;

struct TestBroker {
    addr: SocketAddr,
    stats: StatsHandle,
}

async fn start(configure: impl FnOnce(&mut BrokerConfig)) -> TestBroker {
    let mut config = BrokerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    configure(&mut config);
    let broker = Broker::bind(config).await.expect("bind");
    let addr = broker.local_addr();
    let stats = broker.stats_handle();
    tokio::spawn(broker.run());
    TestBroker { addr, stats }
}

impl TestBroker {
    /// Waits until the broker serves `n` network connections (a closed one
    /// has been handled completely, its Will published or stored).
    async fn wait_connections(&self, n: usize) {
        let poll = async {
            while self.stats.snapshot().connections != n {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        timeout(WAIT, poll).await.expect("connections closed");
    }

    async fn wait_sessions(&self, n: usize) {
        let poll = async {
            while self.stats.snapshot().sessions != n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        timeout(WAIT, poll).await.expect("sessions ended");
    }
}

fn options() -> ConnectionOptions {
    ConnectionOptions::default()
}

async fn connect_with(
    addr: SocketAddr,
    connect: impl IntoConnect<u16>,
    options: ConnectionOptions,
) -> (ClientEndpoint, In) {
    timeout(WAIT, ClientEndpoint::connect(addr, connect, options))
        .await
        .expect("CONNACK in time")
        .expect("connected")
}

fn v3_connect(id: &str, clean: bool) -> v3_1_1::ConnectBuilder {
    let mut b = v3_1_1::Connect::builder();
    b.try_client_id(id)
        .unwrap()
        .clean_session(clean)
        .keep_alive(30);
    b
}

fn v5_connect(id: &str, clean: bool, expiry: u32) -> v5_0::ConnectBuilder {
    let mut b = v5_0::Connect::builder();
    b.try_client_id(id)
        .unwrap()
        .clean_start(clean)
        .keep_alive(30)
        .properties(ConnectProperties {
            session_expiry_interval: Some(expiry),
            ..Default::default()
        });
    b
}

/// A client of `version`; `persistent`: Clean Session 0 (v3.1.1) or Clean
/// Start 0 with a Session Expiry of 60 s (v5.0).
fn connect_packet(version: ProtocolVersion, id: &str, persistent: bool) -> GenericPacket<u16> {
    match version {
        V3 => v3_1_1::Packet::from(v3_connect(id, !persistent).build().unwrap()).into(),
        _ => {
            let expiry = if persistent { 60 } else { 0 };
            v5_0::Packet::from(v5_connect(id, !persistent, expiry).build().unwrap()).into()
        }
    }
}

async fn client(addr: SocketAddr, version: ProtocolVersion, id: &str) -> (ClientEndpoint, In) {
    connect_with(addr, connect_packet(version, id, false), options()).await
}

fn session_present(incoming: &In) -> bool {
    match incoming.connack() {
        Some(GenericPacket::V3_1_1(v3_1_1::Packet::Connack(c))) => c.session_present(),
        Some(GenericPacket::V5_0(v5_0::Packet::Connack(c))) => c.session_present(),
        _ => panic!("no CONNACK"),
    }
}

fn connack_v5(incoming: &In) -> v5_0::Connack {
    match incoming.connack() {
        Some(GenericPacket::V5_0(v5_0::Packet::Connack(c))) => (**c).clone(),
        other => panic!("not a v5.0 CONNACK: {other:?}"),
    }
}

/// A received PUBLISH, in either version.
#[derive(Debug, Clone)]
struct Msg {
    topic: String,
    payload: Bytes,
    qos: QoS,
    retain: bool,
    dup: bool,
    alias: Option<u16>,
    props: PublishProperties,
    /// The packet identifier (QoS 1 and 2).
    id: Option<u16>,
}

fn as_msg(packet: &GenericPacket<u16>) -> Option<Msg> {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => Some(Msg {
            topic: p.topic_name().to_string(),
            payload: p.payload_bytes(),
            qos: p.qos(),
            retain: p.retain(),
            dup: p.dup(),
            alias: None,
            props: PublishProperties::default(),
            id: p.packet_id(),
        }),
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => Some(Msg {
            topic: p.topic_name().to_string(),
            payload: p.payload_bytes(),
            qos: p.qos(),
            retain: p.retain(),
            dup: p.dup(),
            alias: p.topic_alias().map(|a| a.get()),
            props: p.properties().to_owned(),
            id: p.packet_id(),
        }),
        _ => None,
    }
}

async fn next_packet(incoming: &mut In) -> Option<GenericPacket<u16>> {
    timeout(WAIT, incoming.recv())
        .await
        .expect("a packet in time")
}

/// The next PUBLISH (acknowledgements and SUBACKs are skipped).
async fn next_msg(incoming: &mut In) -> Msg {
    loop {
        let packet = next_packet(incoming).await.expect("connection open");
        if let Some(m) = as_msg(&packet) {
            return m;
        }
    }
}

/// The return or reason codes of a SUBACK; `None` for another packet.
fn suback_codes(packet: &GenericPacket<u16>) -> Option<Vec<u8>> {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Suback(s)) => {
            Some(s.return_codes().iter().map(|c| c.as_u8()).collect())
        }
        GenericPacket::V5_0(v5_0::Packet::Suback(s)) => {
            Some(s.reason_codes().iter().map(|c| c.as_u8()).collect())
        }
        _ => None,
    }
}

/// Return codes of the next SUBACK; PUBLISHes before it are returned too.
async fn suback(incoming: &mut In) -> (Vec<u8>, Vec<Msg>) {
    let mut before = Vec::new();
    loop {
        let p = next_packet(incoming).await.expect("connection open");
        match suback_codes(&p) {
            Some(codes) => return (codes, before),
            None => before.extend(as_msg(&p)),
        }
    }
}

/// A SUBSCRIBE of `version` to each `(filter, options)` in order; v5.0
/// with Subscription Identifier `sub_id`.
fn subscribe_packet(
    version: ProtocolVersion,
    id: u16,
    filters: &[(&str, SubscriptionOptions)],
    sub_id: Option<u32>,
) -> GenericPacket<u16> {
    match version {
        V3 => {
            let mut b = v3_1_1::Subscribe::builder();
            b.packet_id(id);
            for (filter, options) in filters {
                let filter = (*filter).try_into().unwrap();
                b.subscription(v3_1_1::Subscription::new(filter, options.qos));
            }
            v3_1_1::Packet::from(b.build().unwrap()).into()
        }
        _ => {
            let mut b = v5_0::Subscribe::builder();
            b.packet_id(id).properties(SubscribeProperties {
                subscription_identifier: sub_id.and_then(SubscriptionIdentifier::new),
                ..Default::default()
            });
            for (filter, options) in filters {
                b.try_subscription(*filter, *options).unwrap();
            }
            v5_0::Packet::from(b.build().unwrap()).into()
        }
    }
}

/// Subscribes to each `(filter, options)` in one SUBSCRIBE; the SUBACK's
/// codes (no PUBLISH may come before it).
async fn subscribe_many(
    c: &ClientEndpoint,
    incoming: &mut In,
    version: ProtocolVersion,
    filters: &[(&str, SubscriptionOptions)],
    sub_id: Option<u32>,
) -> Vec<u8> {
    let id = c.acquire_packet_id().await.unwrap();
    let packet = subscribe_packet(version, id, filters, sub_id);
    c.send_generic(packet).await.unwrap();
    let (codes, before) = suback(incoming).await;
    assert!(before.is_empty(), "unexpected {before:?}");
    codes
}

async fn subscribe_opts(
    c: &ClientEndpoint,
    incoming: &mut In,
    version: ProtocolVersion,
    filter: &str,
    options: SubscriptionOptions,
    sub_id: Option<u32>,
) -> Vec<u8> {
    subscribe_many(c, incoming, version, &[(filter, options)], sub_id).await
}

async fn subscribe(
    c: &ClientEndpoint,
    i: &mut In,
    v: ProtocolVersion,
    filter: &str,
    qos: QoS,
) -> Vec<u8> {
    subscribe_opts(c, i, v, filter, SubscriptionOptions::new(qos), None).await
}

/// The retained messages a subscription brings: those before the SUBACK of
/// a second SUBSCRIBE sent after it.
async fn subscribe_retained(
    c: &ClientEndpoint,
    incoming: &mut In,
    version: ProtocolVersion,
    filter: &str,
    options: SubscriptionOptions,
) -> Vec<Msg> {
    subscribe_opts(c, incoming, version, filter, options, None).await;
    let id = c.acquire_packet_id().await.unwrap();
    c.send_generic(
        mqtt_examples::subscribe(
            version,
            id,
            &"barrier/none".try_into().unwrap(),
            QoS::AtMostOnce,
        )
        .unwrap(),
    )
    .await
    .unwrap();
    suback(incoming).await.1
}

/// A message for a client endpoint's `publish`, which numbers it.
fn message(
    topic: &str,
    qos: QoS,
    retain: bool,
    payload: impl Into<Bytes>,
    props: PublishProperties,
) -> Message {
    let mut b = Message::builder()
        .try_topic_name(topic)
        .unwrap()
        .qos(qos)
        .retain(retain)
        .payload(payload.into());
    if props != PublishProperties::default() {
        b = b.properties(MessageProperties::from(props));
    }
    b.build().unwrap()
}

/// The PUBLISH of `version` carrying `message` with identifier `id`
/// (unused at QoS 0), for a raw connection, which numbers its own packets.
fn publish_packet(version: ProtocolVersion, id: u16, message: Message) -> GenericPacket<u16> {
    match version {
        V3 => v3_1_1::Packet::from(v3_1_1::Publish::from_message(message, id)).into(),
        _ => v5_0::Packet::from(v5_0::Publish::from_message(message, id)).into(),
    }
}

/// Publishes a message from `c` (numbered by its connection).
async fn publish(c: &ClientEndpoint, topic: &str, qos: QoS, retain: bool, payload: &'static str) {
    let packet = message(topic, qos, retain, payload.as_bytes(), Default::default());
    c.publish(packet).await.unwrap();
}

/// Waits until the broker handled every packet `c` sent so far (a SUBSCRIBE
/// is answered in order).
async fn barrier(c: &ClientEndpoint, incoming: &mut In, version: ProtocolVersion) -> Vec<Msg> {
    let id = c.acquire_packet_id().await.unwrap();
    let filter = "barrier/none".try_into().unwrap();
    c.send_generic(mqtt_examples::subscribe(version, id, &filter, QoS::AtMostOnce).unwrap())
        .await
        .unwrap();
    suback(incoming).await.1
}

fn payloads(msgs: &[Msg]) -> Vec<String> {
    msgs.iter()
        .map(|m| String::from_utf8_lossy(&m.payload).into_owned())
        .collect()
}

// ----- Delivery -----

/// QoS 0, 1 and 2 from publishers of both versions to subscribers of both
/// versions: each message arrives once, at the QoS it was published with
/// (subscriptions at QoS 2) [MQTT-3.8.4-8].
#[tokio::test(flavor = "multi_thread")]
async fn qos_0_1_2_across_versions() {
    let b = start(|_| {}).await;
    let (s3, mut i3) = client(b.addr, V3, "sub3").await;
    let (s5, mut i5) = client(b.addr, V5, "sub5").await;
    subscribe(&s3, &mut i3, V3, "q/#", QoS::ExactlyOnce).await;
    subscribe(&s5, &mut i5, V5, "q/#", QoS::ExactlyOnce).await;
    for pv in BOTH {
        let (p, _pi) = client(b.addr, pv, &format!("pub{pv:?}")).await;
        for qos in QOS {
            let topic = format!("q/{pv:?}/{}", qos as u8);
            let packet = message(&topic, qos, false, &b"m"[..], Default::default());
            p.publish(packet).await.unwrap();
            for incoming in [&mut i3, &mut i5] {
                let m = next_msg(incoming).await;
                assert_eq!(
                    (m.topic.as_str(), m.qos, m.retain),
                    (topic.as_str(), qos, false)
                );
            }
        }
    }
}

/// The QoS of a delivery is the lower of the message's and the granted one
/// [MQTT-3.8.4-8]; `--maximum-qos` lowers the grant [MQTT-3.2.2-9].
#[tokio::test(flavor = "multi_thread")]
async fn qos_downgraded_and_maximum_qos() {
    let b = start(|c| c.maximum_qos = QoS::AtLeastOnce).await;
    let (s, mut i) = client(b.addr, V5, "down").await;
    assert_eq!(
        connack_v5(&i).properties().maximum_qos,
        Some(QoS::AtLeastOnce)
    );
    assert_eq!(
        subscribe(&s, &mut i, V5, "d/2", QoS::ExactlyOnce).await,
        [1]
    );
    assert_eq!(subscribe(&s, &mut i, V5, "d/0", QoS::AtMostOnce).await, [0]);
    publish(&s, "d/2", QoS::AtLeastOnce, false, "a").await;
    assert_eq!(next_msg(&mut i).await.qos, QoS::AtLeastOnce);
    publish(&s, "d/0", QoS::AtLeastOnce, false, "b").await;
    assert_eq!(next_msg(&mut i).await.qos, QoS::AtMostOnce);
}

// ----- Retained messages -----

/// A retained message is stored and replaced [MQTT-3.3.1-5], sent with
/// RETAIN 1 to new subscriptions [MQTT-3.3.1-9], and an empty one clears it
/// [MQTT-3.3.1-6], [MQTT-3.3.1-7]; existing subscribers get RETAIN 0
/// [MQTT-3.3.1-12] (v3.1.1 [MQTT-3.3.1-9], [MQTT-3.3.1-10] of that version).
#[tokio::test(flavor = "multi_thread")]
async fn retained_set_replace_clear() {
    let b = start(|_| {}).await;
    for v in BOTH {
        let topic = if v == V3 { "r3/t" } else { "r5/t" };
        let (p, mut pi) = client(b.addr, v, &format!("rp{v:?}")).await;
        let (live, mut li) = client(b.addr, v, &format!("rl{v:?}")).await;
        subscribe(&live, &mut li, v, topic, QoS::AtLeastOnce).await;
        publish(&p, topic, QoS::AtLeastOnce, true, "one").await;
        publish(&p, topic, QoS::AtLeastOnce, true, "two").await;
        barrier(&p, &mut pi, v).await;
        let m = next_msg(&mut li).await;
        assert_eq!(
            (payloads(std::slice::from_ref(&m)), m.retain),
            (vec!["one".into()], false)
        );
        let (s, mut si) = client(b.addr, v, &format!("rs{v:?}")).await;
        let got = subscribe_retained(&s, &mut si, v, topic, QoS::AtLeastOnce.into()).await;
        assert_eq!(payloads(&got), ["two"]);
        assert!(got[0].retain);
        publish(&p, topic, QoS::AtLeastOnce, true, "").await;
        barrier(&p, &mut pi, v).await;
        let (s, mut si) = client(b.addr, v, &format!("rc{v:?}")).await;
        let got = subscribe_retained(&s, &mut si, v, "+/t", QoS::AtLeastOnce.into()).await;
        assert!(got.iter().all(|m| m.topic != topic), "cleared: {got:?}");
    }
}

/// The retained messages a new subscription gets arrive before any live
/// message routed after its SUBACK [MQTT-3.3.1-5]: a live message published
/// as soon as the SUBACK is in never overtakes them (200 of them: as many as
/// fit in the connection's command queue with the SUBACK).
#[tokio::test(flavor = "multi_thread")]
async fn retained_messages_come_before_later_live_ones() {
    let b = start(|_| {}).await;
    let (p, mut pi) = client(b.addr, V5, "ord-pub").await;
    let names: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    for name in &names {
        let packet = message(
            &format!("ord/{name}"),
            QoS::AtLeastOnce,
            true,
            name.clone(),
            Default::default(),
        );
        p.publish(packet).await.unwrap();
    }
    barrier(&p, &mut pi, V5).await;
    for v in BOTH {
        let (s, mut si) = client(b.addr, v, &format!("ord-sub{v:?}")).await;
        subscribe(&s, &mut si, v, "ord/+", QoS::AtLeastOnce).await;
        publish(&p, "ord/live", QoS::AtLeastOnce, false, "live").await;
        let mut before = Vec::new();
        loop {
            let m = next_msg(&mut si).await;
            if m.payload.as_ref() == b"live" {
                break;
            }
            before.push(m);
        }
        let mut got = payloads(&before);
        got.sort_by_key(|n| n[1..].parse::<u32>().unwrap());
        assert_eq!(got, names, "{v:?}");
        assert!(before.iter().all(|m| m.retain));
    }
}

/// Retain Handling 0 sends at every subscribe [MQTT-3.3.1-9], 1 only for a
/// new subscription [MQTT-3.3.1-10], 2 never [MQTT-3.3.1-11]; Retain As
/// Published keeps RETAIN on forwarded messages [MQTT-3.3.1-13], without it
/// RETAIN is 0 [MQTT-3.3.1-12].
#[tokio::test(flavor = "multi_thread")]
async fn retain_handling_and_retain_as_published() {
    let b = start(|_| {}).await;
    let (p, mut pi) = client(b.addr, V5, "rh-pub").await;
    publish(&p, "rh/t", QoS::AtLeastOnce, true, "kept").await;
    barrier(&p, &mut pi, V5).await;
    let (s, mut si) = client(b.addr, V5, "rh-sub").await;
    let rh = |h| SubscriptionOptions {
        retain_handling: h,
        ..SubscriptionOptions::new(QoS::AtLeastOnce)
    };
    for (filter, handling, expected) in [
        ("rh/t", RetainHandling::SendAtSubscribe, 1),
        ("rh/t", RetainHandling::SendAtSubscribe, 1),
        ("rh/+", RetainHandling::SendAtSubscribeIfNew, 1),
        ("rh/+", RetainHandling::SendAtSubscribeIfNew, 0),
        ("rh/#", RetainHandling::DoNotSend, 0),
    ] {
        let retained = subscribe_retained(&s, &mut si, V5, filter, rh(handling)).await;
        assert_eq!(retained.len(), expected, "{filter} {handling:?}");
    }

    let (a, mut ai) = client(b.addr, V5, "rap-1").await;
    let rap = SubscriptionOptions {
        retain_as_published: true,
        ..SubscriptionOptions::new(QoS::AtLeastOnce)
    };
    subscribe_opts(&a, &mut ai, V5, "rap/t", rap, None).await;
    let (n, mut ni) = client(b.addr, V3, "rap-0").await;
    subscribe(&n, &mut ni, V3, "rap/t", QoS::AtLeastOnce).await;
    publish(&p, "rap/t", QoS::AtLeastOnce, true, "r").await;
    assert!(next_msg(&mut ai).await.retain);
    assert!(!next_msg(&mut ni).await.retain);
}

// ----- Wills -----

fn will_connect(version: ProtocolVersion, id: &str, delay: u32, expiry: u32) -> GenericPacket<u16> {
    will_connect_with(version, id, delay, expiry, false, Vec::new())
}

/// [`will_connect`] with Will Retain `retain` and, on v5.0, the Will's
/// User Properties `user`.
fn will_connect_with(
    version: ProtocolVersion,
    id: &str,
    delay: u32,
    expiry: u32,
    retain: bool,
    user: Vec<UserProperty>,
) -> GenericPacket<u16> {
    match version {
        V3 => {
            let will = v3_1_1::Will::builder()
                .try_topic(format!("will/{id}").as_str())
                .unwrap()
                .try_message(&b"gone"[..])
                .unwrap()
                .qos(QoS::AtLeastOnce)
                .retain(retain)
                .build()
                .unwrap();
            v3_1_1::Packet::from(v3_connect(id, expiry == 0).will(will).build().unwrap()).into()
        }
        _ => {
            let will = v5_0::Will::builder()
                .try_topic(format!("will/{id}").as_str())
                .unwrap()
                .try_payload(&b"gone"[..])
                .unwrap()
                .qos(QoS::AtLeastOnce)
                .retain(retain)
                .properties(WillProperties {
                    will_delay_interval: Some(delay),
                    user_properties: user,
                    ..Default::default()
                })
                .build()
                .unwrap();
            let connect = v5_connect(id, true, expiry).will(will).build().unwrap();
            v5_0::Packet::from(connect).into()
        }
    }
}

/// A watcher of `will/#` that also receives its own markers.
async fn watcher(b: &TestBroker) -> (ClientEndpoint, In) {
    let (w, mut wi) = client(b.addr, V5, "watcher").await;
    subscribe(&w, &mut wi, V5, "will/#", QoS::AtLeastOnce).await;
    (w, wi)
}

/// The next message the watcher gets is its marker (no will came first).
async fn assert_no_will(w: &ClientEndpoint, wi: &mut In) {
    publish(w, "will/marker", QoS::AtLeastOnce, false, "marker").await;
    assert_eq!(next_msg(wi).await.topic, "will/marker");
}

/// A normal DISCONNECT deletes the Will [MQTT-3.1.2-10] (v3.1.1
/// [MQTT-3.14.4-3]); a network connection closed without one publishes it
/// [MQTT-3.1.2-8]; v5.0 DISCONNECT 0x04 publishes it too.
#[tokio::test(flavor = "multi_thread")]
async fn will_published_unless_normal_disconnect() {
    let b = start(|_| {}).await;
    let (w, mut wi) = watcher(&b).await;
    for v in BOTH {
        let id = format!("w{v:?}");
        let (c, _ci) = connect_with(b.addr, will_connect(v, &id, 0, 0), options()).await;
        c.close().await.unwrap();
        b.wait_connections(1).await;
        assert_no_will(&w, &mut wi).await;

        let (c, _ci) = connect_with(b.addr, will_connect(v, &id, 0, 0), options()).await;
        c.abort();
        let m = next_msg(&mut wi).await;
        assert_eq!(
            (m.topic, &m.payload[..]),
            (format!("will/{id}"), &b"gone"[..])
        );
        b.wait_connections(1).await;
    }
    let (c, _ci) = connect_with(b.addr, will_connect(V5, "w04", 0, 0), options()).await;
    let d = v5_0::Disconnect::new(DisconnectReasonCode::DisconnectWithWillMessage);
    c.send(d).await.unwrap();
    assert_eq!(next_msg(&mut wi).await.topic, "will/w04");
}

/// With a Will Delay Interval the Will waits; a reconnection in between
/// cancels it [MQTT-3.1.3-9]; otherwise it goes after the delay
/// [MQTT-3.1.2-8].
#[tokio::test(flavor = "multi_thread")]
async fn will_delay_and_reconnect() {
    let b = start(|_| {}).await;
    let (w, mut wi) = watcher(&b).await;
    let (c, _ci) = connect_with(b.addr, will_connect(V5, "wd", 1, 60), options()).await;
    c.abort();
    b.wait_connections(1).await;
    let (c, _ci) = connect_with(
        b.addr,
        v5_connect("wd", false, 60).build().unwrap(),
        options(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_no_will(&w, &mut wi).await;
    c.close().await.unwrap();

    let (c, _ci) = connect_with(b.addr, will_connect(V5, "wd2", 1, 60), options()).await;
    c.abort();
    assert_eq!(next_msg(&mut wi).await.topic, "will/wd2");
}

/// The Will is stored with the Session [MQTT-3.1.2-7]: with a Will Delay
/// longer than the Session Expiry Interval, it is published when the
/// Session ends, not when the delay would have passed [MQTT-3.1.2-8].
#[tokio::test(flavor = "multi_thread")]
async fn will_published_when_its_session_ends() {
    let b = start(|_| {}).await;
    let (w, mut wi) = watcher(&b).await;
    let (c, _ci) = connect_with(b.addr, will_connect(V5, "ws", 3600, 1), options()).await;
    c.abort();
    b.wait_connections(1).await;
    assert_no_will(&w, &mut wi).await;
    let m = tokio::time::timeout(Duration::from_secs(10), next_msg(&mut wi))
        .await
        .expect("the Will when the session expired");
    assert_eq!(
        (m.topic, &m.payload[..]),
        ("will/ws".to_string(), &b"gone"[..])
    );
}

// ----- Sessions -----

/// A persistent session keeps its subscriptions and queues QoS 1 and 2
/// messages while offline (not QoS 0); reconnecting resumes it with Session
/// Present 1 [MQTT-3.2.2-3] (v3.1.1 [MQTT-3.2.2-2]) and the queued messages
/// arrive [MQTT-3.1.2-5] (v3.1.1 [MQTT-3.1.2-5]).
#[tokio::test(flavor = "multi_thread")]
async fn persistent_session_queues_while_offline() {
    let b = start(|_| {}).await;
    let (p, mut pi) = client(b.addr, V5, "ps-pub").await;
    for v in BOTH {
        let id = format!("ps{v:?}");
        let (s, mut si) = connect_with(b.addr, connect_packet(v, &id, true), options()).await;
        assert!(!session_present(&si));
        subscribe(&s, &mut si, v, "ps/t", QoS::ExactlyOnce).await;
        s.close().await.unwrap();
        b.wait_connections(1).await;
        publish(&p, "ps/t", QoS::AtLeastOnce, false, "one").await;
        publish(&p, "ps/t", QoS::AtMostOnce, false, "zero").await;
        publish(&p, "ps/t", QoS::ExactlyOnce, false, "two").await;
        barrier(&p, &mut pi, V5).await;
        let (_s, mut si) = connect_with(b.addr, connect_packet(v, &id, true), options()).await;
        assert!(session_present(&si));
        let m1 = next_msg(&mut si).await;
        let m2 = next_msg(&mut si).await;
        assert_eq!(payloads(&[m1.clone(), m2.clone()]), ["one", "two"]);
        assert_eq!((m1.qos, m2.qos), (QoS::AtLeastOnce, QoS::ExactlyOnce));
        publish(&p, "ps/t", QoS::AtLeastOnce, false, "live").await;
        assert_eq!(payloads(&[next_msg(&mut si).await]), ["live"]);
    }
}

/// An offline session's queue is bounded in bytes too (`--max-queued-bytes`):
/// of ten 200-byte messages, a 1,000-byte queue keeps the first ones and
/// drops the rest, in both versions.
#[tokio::test(flavor = "multi_thread")]
async fn offline_queue_bounded_in_bytes() {
    let b = start(|c| c.max_queued_bytes = 1000).await;
    let (p, mut pi) = client(b.addr, V5, "qb-pub").await;
    for v in BOTH {
        let id = format!("qb{v:?}");
        let (s, mut si) = connect_with(b.addr, connect_packet(v, &id, true), options()).await;
        subscribe(&s, &mut si, v, "qb/t", QoS::AtLeastOnce).await;
        s.close().await.unwrap();
        b.wait_connections(1).await;
        for i in 0..10u8 {
            let mut payload = vec![b'0' + i];
            payload.resize(200, b'.');
            let packet = message("qb/t", QoS::AtLeastOnce, false, payload, Default::default());
            p.publish(packet).await.unwrap();
        }
        barrier(&p, &mut pi, V5).await;
        let (s, mut si) = connect_with(b.addr, connect_packet(v, &id, true), options()).await;
        assert!(session_present(&si));
        let queued = barrier(&s, &mut si, v).await;
        let firsts: Vec<u8> = queued.iter().map(|m| m.payload[0]).collect();
        assert!(
            (1..5).contains(&firsts.len()),
            "{} of 10 messages of ~210 bytes kept in 1,000 bytes",
            firsts.len()
        );
        assert_eq!(
            firsts,
            (b'0'..b'0' + firsts.len() as u8).collect::<Vec<_>>()
        );
        // A new session, so that the next version starts empty.
        s.close().await.unwrap();
        let clean = connect_packet(v, &id, false);
        let (s, _si) = connect_with(b.addr, clean, options()).await;
        s.close().await.unwrap();
        b.wait_connections(1).await;
    }
}

/// An unacknowledged QoS 1 message is sent again, with DUP, when the
/// session resumes [MQTT-4.4.0-1], [MQTT-3.3.1-1].
#[tokio::test(flavor = "multi_thread")]
async fn unacknowledged_qos1_resent_on_resume() {
    let b = start(|_| {}).await;
    let (p, _pi) = client(b.addr, V3, "rs-pub").await;
    for v in BOTH {
        let id = format!("rs{v:?}");
        let mut manual = options();
        manual.ack = AckPolicy::Manual;
        let (s, mut si) = connect_with(b.addr, connect_packet(v, &id, true), manual).await;
        subscribe(&s, &mut si, v, "rs/t", QoS::AtLeastOnce).await;
        publish(&p, "rs/t", QoS::AtLeastOnce, false, "again").await;
        let first = next_msg(&mut si).await;
        assert!(!first.dup);
        s.abort();
        b.wait_connections(1).await;
        let (_s, mut si) = connect_with(b.addr, connect_packet(v, &id, true), options()).await;
        assert!(session_present(&si));
        let again = next_msg(&mut si).await;
        assert_eq!(
            (payloads(std::slice::from_ref(&again)), again.dup),
            (vec!["again".into()], true)
        );
    }
}

/// Clean Start (Clean Session) discards the session: Session Present 0,
/// no queued messages, no subscriptions [MQTT-3.1.2-4] (v3.1.1 [MQTT-3.1.2-6]).
#[tokio::test(flavor = "multi_thread")]
async fn clean_start_discards_session() {
    let b = start(|_| {}).await;
    let (p, mut pi) = client(b.addr, V5, "cs-pub").await;
    for v in BOTH {
        let id = format!("cs{v:?}");
        let (s, mut si) = connect_with(b.addr, connect_packet(v, &id, true), options()).await;
        subscribe(&s, &mut si, v, "cs/t", QoS::AtLeastOnce).await;
        s.close().await.unwrap();
        b.wait_connections(1).await;
        publish(&p, "cs/t", QoS::AtLeastOnce, false, "old").await;
        barrier(&p, &mut pi, V5).await;
        let (s, mut si) = client(b.addr, v, &id).await;
        assert!(!session_present(&si));
        subscribe(&s, &mut si, v, "cs/marker", QoS::AtLeastOnce).await;
        publish(&p, "cs/t", QoS::AtLeastOnce, false, "new").await;
        publish(&p, "cs/marker", QoS::AtLeastOnce, false, "marker").await;
        assert_eq!(payloads(&[next_msg(&mut si).await]), ["marker"]);
        s.close().await.unwrap();
        b.wait_connections(1).await;
    }
}

/// A session ends when its Session Expiry Interval passes while offline
/// [MQTT-4.1.0-2]; `--max-session-expiry` lowers the interval and the
/// CONNACK says so (§3.2.2.3.2).
#[tokio::test(flavor = "multi_thread")]
async fn session_expiry() {
    let b = start(|c| c.max_session_expiry = Some(1)).await;
    let (s, mut si) = connect_with(
        b.addr,
        v5_connect("se", false, 100).build().unwrap(),
        options(),
    )
    .await;
    assert_eq!(
        connack_v5(&si).properties().session_expiry_interval,
        Some(1)
    );
    subscribe(&s, &mut si, V5, "se/t", QoS::AtLeastOnce).await;
    s.close().await.unwrap();
    b.wait_connections(0).await;
    assert_eq!(b.stats.snapshot().sessions, 1);
    b.wait_sessions(0).await;
    assert_eq!(b.stats.snapshot().subscriptions, 0);
    let (_s, si) = connect_with(
        b.addr,
        v5_connect("se", false, 100).build().unwrap(),
        options(),
    )
    .await;
    assert!(!session_present(&si));
}

/// A Session Expiry Interval in the DISCONNECT replaces the CONNECT's
/// (§3.14.2.2.2): 0 ends the session with the connection.
#[tokio::test(flavor = "multi_thread")]
async fn session_expiry_in_disconnect() {
    let b = start(|_| {}).await;
    let connect = v5_connect("sed", false, 100).build().unwrap();
    let (s, mut si) = connect_with(b.addr, connect, options()).await;
    subscribe(&s, &mut si, V5, "sed/t", QoS::AtLeastOnce).await;
    let disconnect = v5_0::Disconnect::builder()
        .properties(v5_0::DisconnectProperties {
            session_expiry_interval: Some(0),
            ..Default::default()
        })
        .build()
        .unwrap();
    s.send(disconnect).await.unwrap();
    b.wait_connections(0).await;
    assert_eq!(b.stats.snapshot().sessions, 0);
}

/// A new network connection to `addr` is closed without a byte sent on it.
async fn assert_closed_unserved(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 1];
    let n = timeout(WAIT, s.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(n, Ok(0) | Err(_)));
}

/// Beyond `--max-connections` open at once, a new network connection is
/// closed at once.
#[tokio::test(flavor = "multi_thread")]
async fn max_connections() {
    let b = start(|c| c.max_connections = 1).await;
    let (_c, _i) = client(b.addr, V3, "only").await;
    assert_closed_unserved(b.addr).await;
}

/// A second connection with the same Client Identifier takes the session
/// over: the first gets DISCONNECT 0x8E (v5.0) and is closed
/// [MQTT-3.1.4-3]; the session goes on (Session Present 1).
#[tokio::test(flavor = "multi_thread")]
async fn session_takeover() {
    let b = start(|_| {}).await;
    for v in BOTH {
        let id = format!("to{v:?}");
        let (a, mut ai) = connect_with(b.addr, connect_packet(v, &id, true), options()).await;
        subscribe(&a, &mut ai, v, "to/t", QoS::AtLeastOnce).await;
        let (c, mut ci) = connect_with(b.addr, connect_packet(v, &id, true), options()).await;
        assert!(session_present(&ci));
        let mut last = None;
        while let Some(p) = next_packet(&mut ai).await {
            last = Some(p);
        }
        if v == V5 {
            match last {
                Some(GenericPacket::V5_0(v5_0::Packet::Disconnect(d))) => {
                    assert_eq!(d.reason_code(), DisconnectReasonCode::SessionTakenOver)
                }
                other => panic!("expected DISCONNECT 0x8E, got {other:?}"),
            }
        }
        publish(&c, "to/t", QoS::AtLeastOnce, false, "still").await;
        assert_eq!(payloads(&[next_msg(&mut ci).await]), ["still"]);
        c.close().await.unwrap();
    }
}

// ----- Subscriptions -----

/// Wildcards match [MQTT-4.7.1-?]; topics starting with `$` are not matched
/// by filters starting with a wildcard [MQTT-4.7.2-1].
#[tokio::test(flavor = "multi_thread")]
async fn wildcards_and_dollar_topics() {
    let b = start(|_| {}).await;
    for v in BOTH {
        let (s, mut si) = client(b.addr, v, &format!("wc{v:?}")).await;
        subscribe(&s, &mut si, v, "#", QoS::AtLeastOnce).await;
        subscribe(&s, &mut si, v, "+/x", QoS::AtLeastOnce).await;
        publish(&s, "$SYS/x", QoS::AtLeastOnce, false, "sys").await;
        publish(&s, "a/x", QoS::AtLeastOnce, false, "ax").await;
        assert_eq!(payloads(&[next_msg(&mut si).await]), ["ax"]);
        subscribe(&s, &mut si, v, "$SYS/#", QoS::AtLeastOnce).await;
        publish(&s, "$SYS/x", QoS::AtLeastOnce, false, "sys2").await;
        assert_eq!(payloads(&[next_msg(&mut si).await]), ["sys2"]);
        s.close().await.unwrap();
    }
}

/// Overlapping subscriptions give one copy at the highest granted QoS
/// [MQTT-3.3.4-2] with every Subscription Identifier [MQTT-3.3.4-3].
#[tokio::test(flavor = "multi_thread")]
async fn overlapping_subscriptions_and_identifiers() {
    let b = start(|_| {}).await;
    let (s, mut si) = client(b.addr, V5, "ov5").await;
    subscribe_opts(&s, &mut si, V5, "ov/#", QoS::AtMostOnce.into(), Some(1)).await;
    subscribe_opts(&s, &mut si, V5, "ov/+", QoS::AtLeastOnce.into(), Some(2)).await;
    let (s3, mut si3) = client(b.addr, V3, "ov3").await;
    subscribe(&s3, &mut si3, V3, "ov/#", QoS::AtMostOnce).await;
    subscribe(&s3, &mut si3, V3, "ov/+", QoS::AtLeastOnce).await;
    publish(&s, "ov/a", QoS::ExactlyOnce, false, "o").await;
    publish(&s, "ov/marker/x", QoS::AtLeastOnce, false, "marker").await;
    let m = next_msg(&mut si).await;
    let mut ids: Vec<u32> = m
        .props
        .subscription_identifiers
        .iter()
        .map(|i| i.get())
        .collect();
    ids.sort();
    assert_eq!((m.qos, ids), (QoS::AtLeastOnce, vec![1, 2]));
    let marker = next_msg(&mut si).await;
    assert_eq!(payloads(std::slice::from_ref(&marker)), ["marker"]);
    assert_eq!(marker.props.subscription_identifiers.len(), 1);
    assert_eq!(next_msg(&mut si3).await.qos, QoS::AtLeastOnce);
    assert_eq!(payloads(&[next_msg(&mut si3).await]), ["marker"]);
}

/// A shared subscription delivers each message to one member only (§4.8.2).
#[tokio::test(flavor = "multi_thread")]
async fn shared_subscription_each_message_once() {
    let b = start(|_| {}).await;
    let (a, mut ai) = client(b.addr, V5, "sh-a").await;
    let (c, mut ci) = client(b.addr, V3, "sh-c").await;
    subscribe(&a, &mut ai, V5, "$share/g/sh/#", QoS::AtLeastOnce).await;
    subscribe(&c, &mut ci, V3, "$share/g/sh/#", QoS::AtLeastOnce).await;
    subscribe(&a, &mut ai, V5, "shm", QoS::AtLeastOnce).await;
    subscribe(&c, &mut ci, V3, "shm", QoS::AtLeastOnce).await;
    let (p, _pi) = client(b.addr, V5, "sh-p").await;
    const N: usize = 10;
    for i in 0..N {
        let packet = message(
            "sh/t",
            QoS::AtLeastOnce,
            false,
            format!("{i}").into_bytes(),
            Default::default(),
        );
        p.publish(packet).await.unwrap();
    }
    publish(&p, "shm", QoS::AtLeastOnce, false, "marker").await;
    let mut seen = BTreeMap::new();
    for incoming in [&mut ai, &mut ci] {
        loop {
            let m = next_msg(incoming).await;
            if m.topic == "shm" {
                break;
            }
            *seen.entry(payloads(&[m])[0].clone()).or_insert(0) += 1;
        }
    }
    assert_eq!(seen.len(), N, "{seen:?}");
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
}

/// No Local: a client's own messages do not come back on that
/// subscription [MQTT-3.8.3-3]; others still get them.
#[tokio::test(flavor = "multi_thread")]
async fn no_local() {
    let b = start(|_| {}).await;
    let (s, mut si) = client(b.addr, V5, "nl").await;
    let nl = SubscriptionOptions {
        no_local: true,
        ..SubscriptionOptions::new(QoS::AtLeastOnce)
    };
    subscribe_opts(&s, &mut si, V5, "nl/t", nl, None).await;
    subscribe(&s, &mut si, V5, "nl/marker", QoS::AtLeastOnce).await;
    let (o, mut oi) = client(b.addr, V3, "nl-other").await;
    subscribe(&o, &mut oi, V3, "nl/t", QoS::AtLeastOnce).await;
    publish(&s, "nl/t", QoS::AtLeastOnce, false, "own").await;
    publish(&s, "nl/marker", QoS::AtLeastOnce, false, "marker").await;
    assert_eq!(payloads(&[next_msg(&mut si).await]), ["marker"]);
    assert_eq!(payloads(&[next_msg(&mut oi).await]), ["own"]);
}

/// `--deny` refuses matching filters with SUBACK 0x80 (both versions,
/// shared ones too); v3.1.1 gets 0x80 for wildcards with `--no-wildcard`;
/// v5.0 gets DISCONNECT 0xA2 for them (§3.2.2.3.11).
#[tokio::test(flavor = "multi_thread")]
async fn deny_and_unsupported_subscriptions() {
    let b = start(|c| {
        c.deny.push("secret/#".try_into().unwrap());
        c.wildcard_available = false;
    })
    .await;
    for v in BOTH {
        let (s, mut si) = client(b.addr, v, &format!("deny{v:?}")).await;
        assert_eq!(
            subscribe(&s, &mut si, v, "secret/a", QoS::AtLeastOnce).await,
            [0x80]
        );
        assert_eq!(
            subscribe(&s, &mut si, v, "public/a", QoS::AtLeastOnce).await,
            [1]
        );
        assert_eq!(
            subscribe(&s, &mut si, v, "$share/g/secret/x", QoS::AtLeastOnce).await,
            [0x80]
        );
        if v == V3 {
            assert_eq!(
                subscribe(&s, &mut si, v, "public/+", QoS::AtLeastOnce).await,
                [0x80]
            );
        }
    }
    let (_s, si) = client(b.addr, V5, "nowild").await;
    assert_eq!(
        connack_v5(&si).properties().wildcard_subscription_available,
        Some(false)
    );
}

// ----- v5.0 properties -----

/// Topic Aliases both ways: a client's aliases are resolved [MQTT-3.3.2-12]
/// and the broker gives aliases to a client that allows them (§3.3.2.3.4).
#[tokio::test(flavor = "multi_thread")]
async fn topic_alias_both_ways() {
    let b = start(|c| c.topic_alias_maximum = 5).await;
    let sub_connect = v5_connect("ta-sub", true, 0)
        .properties(ConnectProperties {
            topic_alias_maximum: Some(3),
            ..Default::default()
        })
        .build()
        .unwrap();
    let (s, mut si) = connect_with(b.addr, sub_connect, options()).await;
    subscribe(&s, &mut si, V5, "ta/#", QoS::AtLeastOnce).await;
    let mut alias_opts = options();
    alias_opts.auto_map_topic_alias_send = true;
    let (p, _pi) = connect_with(
        b.addr,
        v5_connect("ta-pub", true, 0).build().unwrap(),
        alias_opts,
    )
    .await;
    assert_eq!(connack_v5(&_pi).properties().topic_alias_maximum, Some(5));
    for payload in ["1", "2"] {
        publish(&p, "ta/long/topic/name", QoS::AtLeastOnce, false, payload).await;
        let m = next_msg(&mut si).await;
        assert_eq!(
            (m.topic.as_str(), m.alias.is_some()),
            ("ta/long/topic/name", true)
        );
    }
}

/// A client exceeding our Receive Maximum gets DISCONNECT 0x93
/// [MQTT-3.3.4-9]; a packet above our Maximum Packet Size gets 0x95.
#[tokio::test(flavor = "multi_thread")]
async fn receive_maximum_and_packet_size_enforced() {
    let b = start(|c| {
        c.receive_maximum = 2;
        c.max_packet_size = 1024;
    })
    .await;
    let mut raw = RawAny::open(b.addr, V5, connect_packet(V5, "raw", false)).await;
    let connack = raw.read().await.expect("CONNACK");
    match connack {
        GenericPacket::V5_0(v5_0::Packet::Connack(c)) => {
            assert_eq!(c.properties().receive_maximum.map(|r| r.get()), Some(2));
            assert_eq!(
                c.properties().maximum_packet_size.map(|r| r.get()),
                Some(1024)
            );
        }
        other => panic!("{other:?}"),
    }
    for id in 1..=3u16 {
        let publish = v5_0::Publish::builder()
            .try_topic_name("rm/t")
            .unwrap()
            .qos(QoS::ExactlyOnce)
            .packet_id(id)
            .build()
            .unwrap();
        raw.send(v5_0::Packet::from(publish).into()).await;
    }
    assert_eq!(raw.disconnect_reason().await, Some(0x93));

    let mut raw = RawAny::open(b.addr, V5, connect_packet(V5, "raw", false)).await;
    raw.read().await.expect("CONNACK");
    let publish = v5_0::Publish::builder()
        .try_topic_name("big")
        .unwrap()
        .payload(vec![0u8; 2000])
        .build()
        .unwrap();
    raw.send(v5_0::Packet::from(publish).into()).await;
    assert_eq!(raw.disconnect_reason().await, Some(0x95));
}

/// Messages larger than a client's Maximum Packet Size are not sent to it
/// [MQTT-3.1.2-24].
#[tokio::test(flavor = "multi_thread")]
async fn client_maximum_packet_size_respected() {
    let b = start(|_| {}).await;
    let connect = v5_connect("mps", true, 0)
        .properties(ConnectProperties {
            maximum_packet_size: std::num::NonZeroU32::new(128),
            ..Default::default()
        })
        .build()
        .unwrap();
    let (s, mut si) = connect_with(b.addr, connect, options()).await;
    subscribe(&s, &mut si, V5, "mps/t", QoS::AtLeastOnce).await;
    let (p, _pi) = client(b.addr, V3, "mps-pub").await;
    let big = message(
        "mps/t",
        QoS::AtLeastOnce,
        false,
        vec![7u8; 500],
        Default::default(),
    );
    p.publish(big).await.unwrap();
    publish(&p, "mps/t", QoS::AtLeastOnce, false, "small").await;
    assert_eq!(payloads(&[next_msg(&mut si).await]), ["small"]);
}

/// Server Keep Alive: the flag imposes it [MQTT-3.2.2-21]; `--max-keep-alive`
/// lowers a larger (or zero) client Keep Alive and leaves a smaller one.
#[tokio::test(flavor = "multi_thread")]
async fn server_keep_alive() {
    let b = start(|c| c.server_keep_alive = Some(7)).await;
    let (_c, i) = client(b.addr, V5, "ska").await;
    assert_eq!(connack_v5(&i).properties().server_keep_alive, Some(7));
    let b = start(|c| c.max_keep_alive = Some(10)).await;
    let (_c, i) = client(b.addr, V5, "mka").await; // keep alive 30
    assert_eq!(connack_v5(&i).properties().server_keep_alive, Some(10));
    let mut small = v5_connect("mka2", true, 0);
    small.keep_alive(5);
    let (_c, i) = connect_with(b.addr, small.build().unwrap(), options()).await;
    assert_eq!(connack_v5(&i).properties().server_keep_alive, None);
}

/// An empty v5.0 Client Identifier gets an Assigned Client Identifier
/// [MQTT-3.2.2-16]; an empty v3.1.1 one is accepted with Clean Session 1
/// and refused with 0x02 without it [MQTT-3.1.3-8], the one Client
/// Identifier the broker rejects: CONNACK 0x02, then the network connection
/// is closed, nothing more sent (v3.1.1 [MQTT-3.1.3-9]).
#[tokio::test(flavor = "multi_thread")]
async fn assigned_client_identifier() {
    let b = start(|_| {}).await;
    let (_c, i) = connect_with(b.addr, v5_connect("", true, 0).build().unwrap(), options()).await;
    let assigned = connack_v5(&i)
        .properties()
        .assigned_client_identifier
        .clone();
    assert!(assigned.is_some_and(|a| !a.is_empty()));
    let (_c, i) = connect_with(b.addr, v3_connect("", true).build().unwrap(), options()).await;
    assert!(!session_present(&i));
    // CONNECT v3.1.1, Clean Session 0, empty Client Identifier.
    let mut s = TcpStream::connect(b.addr).await.unwrap();
    s.write_all(&[0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 0, 0, 30, 0, 0])
        .await
        .unwrap();
    let mut buf = [0u8; 4];
    timeout(WAIT, s.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(buf, [0x20, 2, 0, 2]);
    let mut rest = Vec::new();
    let end = timeout(WAIT, s.read_to_end(&mut rest)).await;
    assert!(end.is_ok(), "the connection is closed after the CONNACK");
    assert!(rest.is_empty(), "nothing after the CONNACK: {rest:02X?}");
}

/// Request/response: Response Information when asked (§3.2.2.3.15); the
/// Response Topic and Correlation Data are forwarded [MQTT-3.3.2-15],
/// [MQTT-3.3.2-16]; so are User Properties in order [MQTT-3.3.2-17],
/// [MQTT-3.3.2-18], the Payload Format Indicator [MQTT-3.3.2-4] and the
/// Content Type [MQTT-3.3.2-20].
#[tokio::test(flavor = "multi_thread")]
async fn properties_forwarded() {
    let b = start(|_| {}).await;
    let connect = v5_connect("rr", true, 0)
        .properties(ConnectProperties {
            request_response_information: Some(true),
            ..Default::default()
        })
        .build()
        .unwrap();
    let (s, mut si) = connect_with(b.addr, connect, options()).await;
    let info = connack_v5(&si).properties().response_information.clone();
    assert_eq!(info.map(|i| i.to_string()), Some("response/rr".into()));
    subscribe(&s, &mut si, V5, "rr/t", QoS::AtLeastOnce).await;
    let props = PublishProperties {
        payload_format_indicator: Some(mqtt_codec::properties::PayloadFormatIndicator::Utf8),
        content_type: Some("text/plain".try_into().unwrap()),
        response_topic: Some("rr/reply".try_into().unwrap()),
        correlation_data: Some((&b"c-1"[..]).try_into().unwrap()),
        user_properties: vec![
            UserProperty::new("a", "1").unwrap(),
            UserProperty::new("b", "2").unwrap(),
            UserProperty::new("a", "3").unwrap(),
        ],
        ..Default::default()
    };
    let packet = message("rr/t", QoS::AtLeastOnce, false, &b"hi"[..], props.clone());
    s.publish(packet).await.unwrap();
    let m = next_msg(&mut si).await;
    assert_eq!(
        m.props.payload_format_indicator,
        props.payload_format_indicator
    );
    assert_eq!(m.props.content_type, props.content_type);
    assert_eq!(m.props.response_topic, props.response_topic);
    assert_eq!(m.props.correlation_data, props.correlation_data);
    assert_eq!(m.props.user_properties, props.user_properties);
}

/// Message Expiry: the remaining interval is forwarded [MQTT-3.3.2-6]; an
/// expired message is not delivered [MQTT-3.3.2-5].
#[tokio::test(flavor = "multi_thread")]
async fn message_expiry() {
    let b = start(|_| {}).await;
    let (p, mut pi) = client(b.addr, V5, "me-pub").await;
    let (s, mut si) = connect_with(b.addr, connect_packet(V5, "me", true), options()).await;
    subscribe(&s, &mut si, V5, "me/t", QoS::AtLeastOnce).await;
    let expiring = |secs, payload: &'static str| {
        let props = PublishProperties {
            message_expiry_interval: Some(secs),
            ..Default::default()
        };
        message("me/t", QoS::AtLeastOnce, false, payload.as_bytes(), props)
    };
    p.publish(expiring(100, "live")).await.unwrap();
    let m = next_msg(&mut si).await;
    assert!(m
        .props
        .message_expiry_interval
        .is_some_and(|e| e > 0 && e <= 100));
    s.close().await.unwrap();
    b.wait_connections(1).await;
    p.publish(expiring(1, "short")).await.unwrap();
    p.publish(expiring(100, "long")).await.unwrap();
    barrier(&p, &mut pi, V5).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (_s, mut si) = connect_with(b.addr, connect_packet(V5, "me", true), options()).await;
    let m = next_msg(&mut si).await;
    assert_eq!(payloads(std::slice::from_ref(&m)), ["long"]);
    assert!(m.props.message_expiry_interval.is_some_and(|e| e < 100));
}

/// A connection that sends no CONNECT within `--connect-timeout` is closed.
#[tokio::test(flavor = "multi_thread")]
async fn connect_timeout() {
    let b = start(|c| c.connect_timeout = 1).await;
    assert_closed_unserved(b.addr).await;
    b.wait_connections(0).await;
}

/// A v3.1.1 client and a refused publish path: QoS 2 above `--maximum-qos`
/// from a v5.0 client is a protocol error (DISCONNECT 0x9B, [MQTT-3.2.2-11]
/// enforced by the connection); the client refuses to send it first.
#[tokio::test(flavor = "multi_thread")]
async fn publish_above_maximum_qos_refused_by_client() {
    let b = start(|c| c.maximum_qos = QoS::AtMostOnce).await;
    let (c, _i) = client(b.addr, V5, "mq").await;
    let packet = message(
        "mq/t",
        QoS::AtLeastOnce,
        false,
        &b"x"[..],
        Default::default(),
    );
    assert!(matches!(
        c.publish(packet).await,
        Err(Error::Send(SendError::QosNotSupported { .. }))
    ));
}

// ----- Reliability under reconnects and overload -----

/// A raw connection of either version, to drive the packet flow by hand
/// and send what a conforming client would not.
struct RawAny {
    stream: TcpStream,
    version: ProtocolVersion,
    decoder: Decoder<u16>,
    buf: BytesMut,
}

impl RawAny {
    /// Connects and sends `connect` (of `version`); the CONNACK is left to read.
    async fn open(
        addr: SocketAddr,
        version: ProtocolVersion,
        connect: GenericPacket<u16>,
    ) -> RawAny {
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut raw = RawAny {
            stream,
            version,
            decoder: Decoder::new(version),
            buf: BytesMut::new(),
        };
        raw.send(connect).await;
        raw
    }

    /// Connects with a persistent CONNECT of `version` for `id`; returns the
    /// connection and the CONNACK's Session Present.
    async fn connect(addr: SocketAddr, version: ProtocolVersion, id: &str) -> (RawAny, bool) {
        let mut raw = RawAny::open(addr, version, connect_packet(version, id, true)).await;
        let present = match raw.read().await {
            Some(GenericPacket::V3_1_1(v3_1_1::Packet::Connack(c))) => c.session_present(),
            Some(GenericPacket::V5_0(v5_0::Packet::Connack(c))) => c.session_present(),
            other => panic!("expected CONNACK, got {other:?}"),
        };
        (raw, present)
    }

    async fn send(&mut self, packet: GenericPacket<u16>) {
        let mut out = Vec::new();
        packet.encode(&mut out).unwrap();
        self.stream.write_all(&out).await.unwrap();
    }

    async fn read(&mut self) -> Option<GenericPacket<u16>> {
        loop {
            if let Some(p) = self.decoder.decode(&mut self.buf).unwrap() {
                return Some(p);
            }
            let n = timeout(WAIT, self.stream.read_buf(&mut self.buf))
                .await
                .expect("data in time")
                .ok()?;
            if n == 0 {
                return None;
            }
        }
    }

    /// The reason code of the DISCONNECT that ends the connection.
    async fn disconnect_reason(&mut self) -> Option<u8> {
        while let Some(p) = self.read().await {
            if let GenericPacket::V5_0(v5_0::Packet::Disconnect(d)) = p {
                return Some(d.reason_code().as_u8());
            }
        }
        None
    }

    /// A QoS 2 PUBLISH with identifier `id`.
    fn qos2(&self, topic: &str, id: u16, dup: bool, payload: &'static str) -> GenericPacket<u16> {
        let m = message(topic, QoS::ExactlyOnce, false, payload, Default::default());
        let mut packet = publish_packet(self.version, id, m);
        match &mut packet {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => p.set_dup(dup),
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => p.set_dup(dup),
            other => unreachable!("publish_packet made {other:?}"),
        }
        packet
    }

    fn pubrel(&self, id: u16) -> GenericPacket<u16> {
        match self.version {
            V3 => v3_1_1::Packet::from(v3_1_1::Pubrel::new(id)).into(),
            _ => v5_0::Packet::from(v5_0::Pubrel::new(id)).into(),
        }
    }

    /// Subscribes to `filter` with SUBSCRIBE `id`; the SUBACK's codes. Fails
    /// if another packet comes first.
    async fn subscribe(&mut self, id: u16, filter: &str, qos: QoS) -> Vec<u8> {
        let options = SubscriptionOptions::new(qos);
        let packet = subscribe_packet(self.version, id, &[(filter, options)], None);
        self.send(packet).await;
        let answer = self.read().await;
        answer
            .as_ref()
            .and_then(suback_codes)
            .unwrap_or_else(|| panic!("expected SUBACK, got {answer:?}"))
    }

    /// The next packet, which must be a PUBLISH.
    async fn publish(&mut self) -> Msg {
        let packet = self.read().await;
        packet
            .as_ref()
            .and_then(as_msg)
            .unwrap_or_else(|| panic!("expected PUBLISH, got {packet:?}"))
    }

    /// A PUBACK (QoS 1) or PUBREC (QoS 2) for `id`; v5.0 with `reason`.
    fn ack(&self, qos: QoS, id: u16, reason: u8) -> GenericPacket<u16> {
        use v5_0::{PubackReasonCode, PubrecReasonCode};
        match (self.version, qos) {
            (V3, QoS::AtLeastOnce) => v3_1_1::Packet::from(v3_1_1::Puback::new(id)).into(),
            (V3, _) => v3_1_1::Packet::from(v3_1_1::Pubrec::new(id)).into(),
            (_, QoS::AtLeastOnce) => {
                let mut b = v5_0::Puback::builder();
                b.packet_id(id);
                b.reason_code(PubackReasonCode::try_from(reason).unwrap());
                v5_0::Packet::from(b.build().unwrap()).into()
            }
            _ => {
                let mut b = v5_0::Pubrec::builder();
                b.packet_id(id);
                b.reason_code(PubrecReasonCode::try_from(reason).unwrap());
                v5_0::Packet::from(b.build().unwrap()).into()
            }
        }
    }

    fn pubcomp(&self, id: u16) -> GenericPacket<u16> {
        match self.version {
            V3 => v3_1_1::Packet::from(v3_1_1::Pubcomp::new(id)).into(),
            _ => v5_0::Packet::from(v5_0::Pubcomp::new(id)).into(),
        }
    }

    /// The type of the next packet.
    async fn next_type(&mut self) -> Option<mqtt_codec::wire::PacketType> {
        self.read().await.map(|p| p.packet_type())
    }
}

/// [MQTT-4.3.3-10] a QoS 2 PUBLISH the publisher sends again after a
/// reconnect (DUP, same packet identifier, before its PUBREL) is not routed
/// a second time: the session stored at the disconnect keeps the received
/// identifier, the broker answers PUBREC again and the subscriber gets the
/// message once.
#[tokio::test(flavor = "multi_thread")]
async fn qos2_resent_after_publisher_reconnect_is_routed_once() {
    use mqtt_codec::wire::PacketType;
    let b = start(|_| {}).await;
    for v in BOTH {
        let (s, mut si) = client(b.addr, v, &format!("q2s{v:?}")).await;
        let topic = format!("q2/{v:?}");
        subscribe(&s, &mut si, v, &topic, QoS::ExactlyOnce).await;
        let id = format!("q2p{v:?}");
        let (mut p, _) = RawAny::connect(b.addr, v, &id).await;
        p.send(p.qos2(&topic, 7, false, "once")).await;
        assert_eq!(p.next_type().await, Some(PacketType::Pubrec));
        assert_eq!(payloads(&[next_msg(&mut si).await]), ["once"]);
        // The network connection breaks before the PUBREL.
        drop(p);
        b.wait_connections(1).await;

        let (mut p, present) = RawAny::connect(b.addr, v, &id).await;
        assert!(present);
        p.send(p.qos2(&topic, 7, true, "once")).await;
        assert_eq!(p.next_type().await, Some(PacketType::Pubrec));
        p.send(p.pubrel(7)).await;
        assert_eq!(p.next_type().await, Some(PacketType::Pubcomp));
        // After the PUBREL the identifier is new again [MQTT-4.3.3-12].
        p.send(p.qos2(&topic, 7, false, "marker")).await;
        assert_eq!(p.next_type().await, Some(PacketType::Pubrec));
        assert_eq!(payloads(&[next_msg(&mut si).await]), ["marker"]);
        s.close().await.unwrap();
        drop(p);
        b.wait_connections(0).await;
    }
}

/// `--max-sessions`: a CONNECT that would create a session beyond the bound
/// is refused, v5.0 with CONNACK 0x97 (Quota exceeded) and the connection
/// closed [MQTT-3.2.2-7], v3.1.1 with 0x03 (Server unavailable) and closed
/// (v3.1.1 [MQTT-3.2.2-5]); a client whose session exists still resumes it.
#[tokio::test(flavor = "multi_thread")]
async fn max_sessions_refuses_new_sessions() {
    let b = start(|c| c.max_sessions = 1).await;
    let (a, _ai) = connect_with(b.addr, connect_packet(V3, "ms-a", true), options()).await;
    a.close().await.unwrap();
    b.wait_connections(0).await;
    assert_eq!(b.stats.snapshot().sessions, 1);
    for (v, code) in [(V3, 0x03), (V5, 0x97)] {
        for persistent in [true, false] {
            let refused = timeout(
                WAIT,
                ClientEndpoint::connect(b.addr, connect_packet(v, "ms-b", persistent), options()),
            )
            .await
            .expect("answered in time");
            assert!(
                matches!(refused, Err(Error::Refused(c)) if c == code),
                "{v:?}: {:?}",
                refused.err()
            );
        }
    }
    b.wait_connections(0).await;
    assert_eq!(b.stats.snapshot().sessions, 1);
    let (_a, ai) = connect_with(b.addr, connect_packet(V3, "ms-a", true), options()).await;
    assert!(session_present(&ai));
}

/// Overload: the QoS 1 messages for a subscriber that stops reading wait
/// in its backlog (its publisher goes on); after `--slow-consumer-timeout`
/// without room it is cut; every message goes into its session and arrives
/// when it resumes (v3.1.1 [MQTT-3.1.2-5], [MQTT-4.4.0-1]): within the
/// bounds (here larger than the N messages), nothing acknowledged to the
/// publisher is dropped. `broker_overload.rs` tests the rest of the policy.
#[tokio::test(flavor = "multi_thread")]
async fn slow_consumer_is_cut_and_loses_nothing() {
    const N: usize = 600;
    let b = start(|c| {
        c.slow_consumer_timeout = 1;
        c.max_queued = 10_000;
        c.max_queued_bytes = 64 << 20;
    })
    .await;
    for v in BOTH {
        let id = format!("slow{v:?}");
        let topic = format!("slow/{v:?}");
        // A subscriber that reads its SUBACK and nothing after.
        let (s, mut si) = connect_with(b.addr, connect_packet(v, &id, true), options()).await;
        subscribe(&s, &mut si, v, &topic, QoS::AtLeastOnce).await;
        s.close().await.unwrap();
        b.wait_connections(0).await;
        let (stalled, present) = RawAny::connect(b.addr, v, &id).await;
        assert!(present);

        let before = b.stats.snapshot();
        let (p, _pi) = client(b.addr, V5, &format!("slowpub{v:?}")).await;
        let publisher = tokio::spawn(async move {
            for i in 0..N {
                let mut payload = format!("{i:05}").into_bytes();
                payload.resize(32 * 1024, b'.');
                let packet = message(&topic, QoS::AtLeastOnce, false, payload, Default::default());
                p.publish(packet).await.expect("accepted");
            }
            p
        });
        let cut = async {
            while b.stats.snapshot().slow_consumers == before.slow_consumers {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        timeout(Duration::from_secs(30), cut)
            .await
            .expect("the stalled subscriber is cut");
        let p = timeout(Duration::from_secs(30), publisher)
            .await
            .expect("the publisher goes on")
            .unwrap();
        drop(stalled);
        let (_s, mut si) = connect_with(b.addr, connect_packet(v, &id, true), options()).await;
        assert!(session_present(&si));
        let mut seen = std::collections::BTreeSet::new();
        while seen.len() < N {
            let m = next_msg(&mut si).await;
            seen.insert(m.payload[..5].to_vec());
        }
        assert_eq!(b.stats.snapshot().dropped, before.dropped);
        p.close().await.unwrap();
    }
}

// ----- Spec coverage: matching, SUBSCRIBE and UNSUBSCRIBE -----

/// An UNSUBSCRIBE of `version` for `filters`, in order.
fn unsubscribe_packet(version: ProtocolVersion, id: u16, filters: &[&str]) -> GenericPacket<u16> {
    match version {
        V3 => {
            let mut b = v3_1_1::Unsubscribe::builder();
            b.packet_id(id);
            for f in filters {
                b.topic_filter(mqtt_codec::TopicFilter::new(*f).unwrap());
            }
            v3_1_1::Packet::from(b.build().unwrap()).into()
        }
        _ => {
            let mut b = v5_0::Unsubscribe::builder();
            b.packet_id(id);
            for f in filters {
                b.try_filter(*f).unwrap();
            }
            v5_0::Packet::from(b.build().unwrap()).into()
        }
    }
}

/// Unsubscribes from `filters` in one UNSUBSCRIBE; checks that the next
/// packet is its UNSUBACK with the same Packet Identifier
/// [MQTT-3.10.4-4] and returns its v5.0 Reason Codes (none on v3.1.1).
async fn unsubscribe(
    c: &ClientEndpoint,
    incoming: &mut In,
    v: ProtocolVersion,
    filters: &[&str],
) -> Vec<u8> {
    let id = c.acquire_packet_id().await.unwrap();
    c.send_generic(unsubscribe_packet(v, id, filters))
        .await
        .unwrap();
    match next_packet(incoming).await.expect("connection open") {
        GenericPacket::V3_1_1(v3_1_1::Packet::Unsuback(u)) => {
            assert_eq!(u.packet_id(), id);
            Vec::new()
        }
        GenericPacket::V5_0(v5_0::Packet::Unsuback(u)) => {
            assert_eq!(u.packet_id(), id);
            u.reason_codes().iter().map(|c| c.as_u8()).collect()
        }
        other => panic!("expected UNSUBACK {id}, got {other:?}"),
    }
}

/// The messages that arrive before the one with payload `end` (included).
async fn msgs_until(incoming: &mut In, end: &str) -> Vec<Msg> {
    let mut got = Vec::new();
    loop {
        let m = next_msg(incoming).await;
        let last = m.payload.as_ref() == end.as_bytes();
        got.push(m);
        if last {
            return got;
        }
    }
}

/// [MQTT-3.3.2-3]: the Topic Name of each PUBLISH the broker sends matches
/// the subscription's Topic Filter (§4.7): `+` one level, `#` the parent
/// level and any below; topics matching no filter are not sent.
#[tokio::test(flavor = "multi_thread")]
async fn topic_names_sent_match_the_filters() {
    let b = start(|_| {}).await;
    let (p, _pi) = client(b.addr, V5, "tn-pub").await;
    let filters = ["tn/+/c", "tn/x/#"];
    for v in BOTH {
        let (s, mut si) = client(b.addr, v, &format!("tn{v:?}")).await;
        for f in filters {
            subscribe(&s, &mut si, v, f, QoS::AtLeastOnce).await;
        }
        let topics = [
            "tn/a/c", "tn/a/d", "tn/x", "tn/x/y/z", "tn/a/c/d", "tn/c", "tn/b/c", "tn/x/end",
        ];
        for t in topics {
            let packet = message(t, QoS::AtLeastOnce, false, t, Default::default());
            p.publish(packet).await.unwrap();
        }
        let got = msgs_until(&mut si, "tn/x/end").await;
        let names: Vec<&str> = got.iter().map(|m| m.topic.as_str()).collect();
        assert_eq!(
            names,
            ["tn/a/c", "tn/x", "tn/x/y/z", "tn/b/c", "tn/x/end"],
            "{v:?}"
        );
        for m in &got {
            assert_eq!(m.topic.as_bytes(), &m.payload[..]);
            let name = mqtt_codec::TopicName::new(m.topic.as_str()).unwrap();
            assert!(filters
                .iter()
                .any(|f| mqtt_codec::TopicFilter::new(*f).unwrap().matches(&name)));
        }
        s.close().await.unwrap();
    }
}

/// A SUBSCRIBE with several Topic Filters is handled as a sequence of
/// SUBSCRIBEs with one SUBACK (v3.1.1 [MQTT-3.8.4-4], v5.0
/// [MQTT-3.8.4-5]): a filter repeated later in the packet replaces the
/// earlier subscription. The SUBACK has one code per filter in the order of
/// the filters [MQTT-3.9.3-1], each the QoS granted or a failure (v5.0
/// [MQTT-3.8.4-7], v3.1.1 [MQTT-3.8.4-5]): messages published at QoS 2
/// arrive at exactly the QoS each code gives, none for the refused filter.
#[tokio::test(flavor = "multi_thread")]
async fn subscribe_with_several_filters() {
    let b = start(|c| c.deny.push("sm/secret/#".try_into().unwrap())).await;
    let (p, _pi) = client(b.addr, V5, "sm-pub").await;
    let o = SubscriptionOptions::new;
    for v in BOTH {
        let (s, mut si) = client(b.addr, v, &format!("sm{v:?}")).await;
        let filters = [
            ("sm/two", o(QoS::ExactlyOnce)),
            ("sm/secret/x", o(QoS::AtLeastOnce)),
            ("sm/zero", o(QoS::AtMostOnce)),
            ("sm/re", o(QoS::AtMostOnce)),
            ("sm/one", o(QoS::AtLeastOnce)),
            ("sm/re", o(QoS::ExactlyOnce)),
        ];
        let codes = subscribe_many(&s, &mut si, v, &filters, None).await;
        assert_eq!(codes, [2, 0x80, 0, 0, 1, 2], "{v:?}");
        for t in ["sm/two", "sm/secret/x", "sm/zero", "sm/re", "sm/one"] {
            let packet = message(t, QoS::ExactlyOnce, false, t, Default::default());
            p.publish(packet).await.unwrap();
        }
        let got = msgs_until(&mut si, "sm/one").await;
        let got: Vec<(&str, u8)> = got
            .iter()
            .map(|m| (m.topic.as_str(), m.qos as u8))
            .collect();
        assert_eq!(
            got,
            [("sm/two", 2), ("sm/zero", 0), ("sm/re", 2), ("sm/one", 1)],
            "{v:?}"
        );
        s.close().await.unwrap();
    }
}

/// v5.0 [MQTT-3.8.4-4]: a SUBSCRIBE that replaces an existing subscription
/// (same filter, other options) with Retain Handling 0 sends the retained
/// messages again, and no message is lost while it is replaced: of 100
/// messages published during five replacements, each arrives once (run on
/// v3.1.1 clients too).
#[tokio::test(flavor = "multi_thread")]
async fn resubscribe_resends_retained_and_loses_nothing() {
    const N: usize = 100;
    const RESUBSCRIBES: usize = 5;
    let b = start(|_| {}).await;
    for v in BOTH {
        let (p, mut pi) = client(b.addr, V5, &format!("rsb-pub{v:?}")).await;
        let prefix = format!("rsb{v:?}");
        publish_owned(&p, format!("{prefix}/kept"), true, "kept").await;
        barrier(&p, &mut pi, V5).await;
        let (s, mut si) = client(b.addr, v, &format!("rsb-sub{v:?}")).await;
        let filter = format!("{prefix}/#");
        let got = subscribe_retained(&s, &mut si, v, &filter, QoS::AtLeastOnce.into()).await;
        assert_eq!(payloads(&got), ["kept"]);

        let topic = format!("{prefix}/live");
        let publisher = tokio::spawn(async move {
            for i in 0..N {
                publish_owned(&p, topic.clone(), false, &format!("{i}")).await;
            }
            p
        });
        for k in 0..RESUBSCRIBES {
            let qos = if k % 2 == 0 {
                QoS::ExactlyOnce
            } else {
                QoS::AtLeastOnce
            };
            let id = s.acquire_packet_id().await.unwrap();
            let options = SubscriptionOptions::new(qos);
            let packet = subscribe_packet(v, id, &[(filter.as_str(), options)], None);
            s.send_generic(packet).await.unwrap();
        }
        let p = publisher.await.unwrap();
        // "end" is published once every SUBACK is in, and read with the
        // retained copies of the last replacement.
        let (mut subacks, mut kept, mut ended, mut live) = (0, 0, false, BTreeMap::new());
        while !(ended && kept == RESUBSCRIBES) {
            let packet = next_packet(&mut si).await.expect("connection open");
            if suback_codes(&packet).is_some() {
                subacks += 1;
                if subacks == RESUBSCRIBES {
                    publish_owned(&p, format!("{prefix}/live"), false, "end").await;
                }
                continue;
            }
            let Some(m) = as_msg(&packet) else { continue };
            match &payloads(std::slice::from_ref(&m))[0][..] {
                "kept" => {
                    assert!(m.retain);
                    kept += 1;
                }
                "end" => ended = true,
                n => *live.entry(n.to_string()).or_insert(0) += 1,
            }
        }
        assert_eq!(live.len(), N, "{v:?}: {live:?}");
        assert!(live.values().all(|&n| n == 1), "{v:?}: {live:?}");
        s.close().await.unwrap();
        p.close().await.unwrap();
    }
}

/// Publishes a QoS 1 message on an owned topic.
async fn publish_owned(c: &ClientEndpoint, topic: String, retain: bool, payload: &str) {
    let packet = message(
        &topic,
        QoS::AtLeastOnce,
        retain,
        payload.to_string().into_bytes(),
        Default::default(),
    );
    c.publish(packet).await.unwrap();
}

/// UNSUBSCRIBE compares its filters character by character with the
/// session's and deletes only a subscription whose filter is identical
/// [MQTT-3.10.4-1]: `us/#` deletes nothing (it is no subscription's filter),
/// `us/a` leaves `us/+`. An UNSUBACK with the same Packet Identifier comes
/// even when nothing was deleted [MQTT-3.10.4-5] (v5.0: 0x11). Several
/// filters in one UNSUBSCRIBE are handled as a sequence, with one UNSUBACK
/// [MQTT-3.10.4-6].
#[tokio::test(flavor = "multi_thread")]
async fn unsubscribe_exact_filters() {
    let b = start(|_| {}).await;
    let (p, _pi) = client(b.addr, V5, "us-pub").await;
    for v in BOTH {
        let (s, mut si) = client(b.addr, v, &format!("us{v:?}")).await;
        for f in ["us/+", "us/a", "us/b/#", "us-end"] {
            subscribe(&s, &mut si, v, f, QoS::AtLeastOnce).await;
        }
        let v5 = |codes: &[u8]| if v == V5 { codes.to_vec() } else { vec![] };
        let all = ["us/a", "us/b/c", "us-end"];
        assert_eq!(unsubscribe_round(&p, &mut si).await, all, "{v:?}");
        assert_eq!(unsubscribe(&s, &mut si, v, &["us/#"]).await, v5(&[0x11]));
        assert_eq!(unsubscribe_round(&p, &mut si).await, all, "{v:?}");
        assert_eq!(unsubscribe(&s, &mut si, v, &["us/a"]).await, v5(&[0]));
        assert_eq!(unsubscribe_round(&p, &mut si).await, all, "{v:?}");
        let codes = unsubscribe(&s, &mut si, v, &["us/+", "us/none", "us/b/#"]).await;
        assert_eq!(codes, v5(&[0, 0x11, 0]));
        assert_eq!(unsubscribe_round(&p, &mut si).await, ["us-end"], "{v:?}");
        s.close().await.unwrap();
    }
}

/// Publishes to `us/a`, `us/b/c` and `us-end`: the payloads that arrive.
async fn unsubscribe_round(p: &ClientEndpoint, si: &mut In) -> Vec<String> {
    for t in ["us/a", "us/b/c", "us-end"] {
        publish(p, t, QoS::AtLeastOnce, false, t).await;
    }
    payloads(&msgs_until(si, "us-end").await)
}

/// A QoS 2 message on an owned topic.
fn qos2_message(topic: &str, payload: &'static str) -> Message {
    message(
        topic,
        QoS::ExactlyOnce,
        false,
        payload.as_bytes(),
        Default::default(),
    )
}

/// [MQTT-3.10.4-3]: after an UNSUBSCRIBE the broker completes the QoS 1
/// and 2 deliveries it had started on those filters: the QoS 2 flow goes on
/// (PUBREC → PUBREL), and the unacknowledged QoS 1 message is sent again,
/// with DUP, when the session resumes; nothing new comes.
#[tokio::test(flavor = "multi_thread")]
async fn unsubscribe_completes_started_deliveries() {
    use mqtt_codec::wire::PacketType;
    let b = start(|_| {}).await;
    let (p, _pi) = client(b.addr, V5, "uc-pub").await;
    for v in BOTH {
        let id = format!("uc{v:?}");
        let (mut r, _) = RawAny::connect(b.addr, v, &id).await;
        assert_eq!(r.subscribe(1, "uc/1", QoS::AtLeastOnce).await, [1]);
        assert_eq!(r.subscribe(2, "uc/2", QoS::ExactlyOnce).await, [2]);
        publish(&p, "uc/1", QoS::AtLeastOnce, false, "one").await;
        let one = r.publish().await;
        p.publish(qos2_message("uc/2", "two")).await.unwrap();
        let two = r.publish().await;
        assert_eq!((one.qos, two.qos), (QoS::AtLeastOnce, QoS::ExactlyOnce));
        r.send(unsubscribe_packet(v, 3, &["uc/1", "uc/2"])).await;
        assert_eq!(r.next_type().await, Some(PacketType::Unsuback));
        r.send(r.ack(QoS::ExactlyOnce, two.id.unwrap(), 0)).await;
        assert_eq!(r.next_type().await, Some(PacketType::Pubrel));
        r.send(r.pubcomp(two.id.unwrap())).await;
        drop(r);
        b.wait_connections(1).await;

        let (mut r, present) = RawAny::connect(b.addr, v, &id).await;
        assert!(present);
        let again = r.publish().await;
        assert_eq!(
            (payloads(std::slice::from_ref(&again)), again.dup, again.id),
            (vec!["one".to_string()], true, one.id)
        );
        r.send(r.ack(QoS::AtLeastOnce, one.id.unwrap(), 0)).await;
        publish(&p, "uc/1", QoS::AtLeastOnce, false, "after").await;
        // Answered before anything else: the QoS 2 message is not sent
        // again, and nothing matches the removed subscriptions.
        assert_eq!(r.subscribe(4, "uc/end", QoS::AtLeastOnce).await, [1]);
        drop(r);
        b.wait_connections(1).await;
    }
}

/// A QoS 2 message of a Shared Subscription was sent to member A, whose
/// network connection then broke before the flow completed; another member
/// B joined meanwhile. `resume`: A reconnects and the broker completes the
/// delivery to A (v5.0 [MQTT-4.8.2-4]); else A's session expires first and
/// the message is sent to no other member (v5.0 [MQTT-4.8.2-5]). Either
/// way B does not get it.
async fn shared_delivery_after_a_break(v: ProtocolVersion, resume: bool) {
    use mqtt_codec::wire::PacketType;
    let b = start(|c| {
        if !resume {
            c.max_session_expiry = Some(1);
        }
    })
    .await;
    let (p, _pi) = client(b.addr, V5, "sb-pub").await;
    let filter = "$share/g/sb/t";
    let (mut a, _) = RawAny::connect(b.addr, v, "sb-a").await;
    assert_eq!(a.subscribe(1, filter, QoS::ExactlyOnce).await, [2]);
    p.publish(qos2_message("sb/t", "one")).await.unwrap();
    let first = a.publish().await;
    assert_eq!(payloads(std::slice::from_ref(&first)), ["one"]);
    drop(a);
    b.wait_connections(1).await;

    let (m, mut mi) = client(b.addr, v, "sb-b").await;
    subscribe(&m, &mut mi, v, filter, QoS::ExactlyOnce).await;
    subscribe(&m, &mut mi, v, "sb/end", QoS::AtLeastOnce).await;
    if resume {
        let (mut a, present) = RawAny::connect(b.addr, v, "sb-a").await;
        assert!(present);
        let again = a.publish().await;
        assert_eq!(
            (payloads(std::slice::from_ref(&again)), again.dup, again.id),
            (vec!["one".to_string()], true, first.id)
        );
        let id = again.id.unwrap();
        a.send(a.ack(QoS::ExactlyOnce, id, 0)).await;
        assert_eq!(a.next_type().await, Some(PacketType::Pubrel));
        a.send(a.pubcomp(id)).await;
        assert_eq!(a.subscribe(2, "sb/none", QoS::AtMostOnce).await, [0]);
    } else {
        // The publisher's and B's sessions are left.
        b.wait_sessions(2).await;
    }
    publish(&p, "sb/end", QoS::AtLeastOnce, false, "end").await;
    assert_eq!(payloads(&[next_msg(&mut mi).await]), ["end"], "{v:?}");
}

/// v5.0 [MQTT-4.8.2-4]: see [`shared_delivery_after_a_break`] (run on v3.1.1
/// clients too).
#[tokio::test(flavor = "multi_thread")]
async fn shared_qos2_delivery_completed_on_reconnect() {
    for v in BOTH {
        shared_delivery_after_a_break(v, true).await;
    }
}

/// v5.0 [MQTT-4.8.2-5]: see [`shared_delivery_after_a_break`] (run on v3.1.1
/// clients too).
#[tokio::test(flavor = "multi_thread")]
async fn shared_qos2_not_sent_elsewhere_when_session_ends() {
    for v in BOTH {
        shared_delivery_after_a_break(v, false).await;
    }
}

/// v5.0 [MQTT-4.8.2-6]: a member of a Shared Subscription that answers a
/// PUBLISH with PUBACK or PUBREC 0x80 makes the broker discard the
/// message: no PUBREL, not sent again to that member when it reconnects,
/// never sent to the other member.
#[tokio::test(flavor = "multi_thread")]
async fn shared_message_refused_by_member_is_discarded() {
    let b = start(|_| {}).await;
    let (p, _pi) = client(b.addr, V5, "nk-pub").await;
    let (m, mut mi) = client(b.addr, V5, "nk-b").await;
    subscribe(&m, &mut mi, V5, "nk/end", QoS::AtLeastOnce).await;
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let filter = format!("$share/g{}/nk/t{}", qos as u8, qos as u8);
        let topic = format!("nk/t{}", qos as u8);
        let id = format!("nk-a{}", qos as u8);
        let (mut a, _) = RawAny::connect(b.addr, V5, &id).await;
        assert_eq!(a.subscribe(1, &filter, qos).await, [qos as u8]);
        let packet = message(&topic, qos, false, &b"no"[..], Default::default());
        p.publish(packet).await.unwrap();
        let refused = a.publish().await;
        subscribe(&m, &mut mi, V5, &filter, qos).await;
        a.send(a.ack(qos, refused.id.unwrap(), 0x80)).await;
        assert_eq!(a.subscribe(2, "nk/none", QoS::AtMostOnce).await, [0]);
        drop(a);
        b.wait_connections(2).await;
        let (mut a, present) = RawAny::connect(b.addr, V5, &id).await;
        assert!(present);
        assert_eq!(a.subscribe(3, "nk/none", QoS::AtMostOnce).await, [0]);
        publish(&p, "nk/end", QoS::AtLeastOnce, false, "end").await;
        assert_eq!(payloads(&[next_msg(&mut mi).await]), ["end"], "{qos:?}");
    }
}

/// [MQTT-4.8.2-3]: members of a Shared Subscription granted different
/// QoS each get their messages at their own granted QoS (min of the
/// message's and theirs), one copy per message.
#[tokio::test(flavor = "multi_thread")]
async fn shared_subscription_respects_each_granted_qos() {
    const N: usize = 6;
    let b = start(|_| {}).await;
    let (p, _pi) = client(b.addr, V5, "gq-pub").await;
    let mut members = Vec::new();
    for (v, qos) in [
        (V5, QoS::AtMostOnce),
        (V3, QoS::AtLeastOnce),
        (V5, QoS::ExactlyOnce),
    ] {
        let (c, mut ci) = client(b.addr, v, &format!("gq{}", qos as u8)).await;
        let granted = subscribe(&c, &mut ci, v, "$share/g/gq/t", qos).await;
        assert_eq!(granted, [qos as u8]);
        subscribe(&c, &mut ci, v, "gq/end", QoS::AtLeastOnce).await;
        members.push((c, ci, qos));
    }
    for i in 0..N {
        let packet = message(
            "gq/t",
            QoS::ExactlyOnce,
            false,
            format!("{i}"),
            Default::default(),
        );
        p.publish(packet).await.unwrap();
    }
    publish(&p, "gq/end", QoS::AtLeastOnce, false, "end").await;
    let mut seen = Vec::new();
    for (_c, ci, qos) in &mut members {
        let got = msgs_until(ci, "end").await;
        let (end, got) = got.split_last().unwrap();
        assert_eq!(end.topic, "gq/end");
        assert!(!got.is_empty(), "{qos:?}: round-robin gives each a turn");
        assert!(got.iter().all(|m| m.qos == *qos), "{qos:?}: {got:?}");
        seen.extend(payloads(got));
    }
    seen.sort();
    assert_eq!(seen, (0..N).map(|i| i.to_string()).collect::<Vec<_>>());
}

// ----- Spec coverage: sessions, Client Identifiers, errors -----

/// [MQTT-4.5.0-1]: a message the broker takes is added to the session of
/// every client with a matching subscription: sent to the online one,
/// queued for the offline one (delivered when it resumes), and to no
/// session without a match.
#[tokio::test(flavor = "multi_thread")]
async fn message_added_to_each_matching_session() {
    let b = start(|_| {}).await;
    let (p, mut pi) = client(b.addr, V5, "mm-pub").await;
    for v in BOTH {
        let (on, mut oni) = client(b.addr, v, &format!("mm-on{v:?}")).await;
        subscribe(&on, &mut oni, v, "mm/+", QoS::AtLeastOnce).await;
        let (none, mut nonei) = client(b.addr, v, &format!("mm-none{v:?}")).await;
        subscribe(&none, &mut nonei, v, "mm/other", QoS::AtLeastOnce).await;
        subscribe(&none, &mut nonei, v, "mm-end", QoS::AtLeastOnce).await;
        let off_id = format!("mm-off{v:?}");
        let (off, mut offi) =
            connect_with(b.addr, connect_packet(v, &off_id, true), options()).await;
        subscribe(&off, &mut offi, v, "mm/#", QoS::ExactlyOnce).await;
        off.close().await.unwrap();
        b.wait_connections(3).await;

        p.publish(qos2_message("mm/t", "m")).await.unwrap();
        publish(&p, "mm-end", QoS::AtLeastOnce, false, "end").await;
        barrier(&p, &mut pi, V5).await;
        let m = next_msg(&mut oni).await;
        assert_eq!((m.topic.as_str(), m.qos), ("mm/t", QoS::AtLeastOnce));
        assert_eq!(payloads(&msgs_until(&mut nonei, "end").await), ["end"]);
        let (off, mut offi) =
            connect_with(b.addr, connect_packet(v, &off_id, true), options()).await;
        assert!(session_present(&offi));
        let m = next_msg(&mut offi).await;
        assert_eq!((m.topic.as_str(), m.qos), ("mm/t", QoS::ExactlyOnce));
        for c in [on, none, off] {
            c.close().await.unwrap();
        }
        b.wait_connections(1).await;
    }
}

/// [MQTT-3.1.3-2]: the Client Identifier selects the session state: two
/// clients' offline sessions each keep their own subscriptions and
/// messages, and resuming one gives exactly its own; an unknown identifier
/// has no session.
#[tokio::test(flavor = "multi_thread")]
async fn client_identifier_selects_the_session() {
    let b = start(|_| {}).await;
    let (p, mut pi) = client(b.addr, V5, "ci-pub").await;
    for v in BOTH {
        let ids = [format!("ci-a{v:?}"), format!("ci-b{v:?}")];
        for (id, topic) in ids.iter().zip(["ci/a", "ci/b"]) {
            let (c, mut ci) = connect_with(b.addr, connect_packet(v, id, true), options()).await;
            subscribe(&c, &mut ci, v, topic, QoS::AtLeastOnce).await;
            c.close().await.unwrap();
        }
        b.wait_connections(1).await;
        publish(&p, "ci/a", QoS::AtLeastOnce, false, "for a").await;
        publish(&p, "ci/b", QoS::AtLeastOnce, false, "for b").await;
        barrier(&p, &mut pi, V5).await;
        for (id, expected) in ids.iter().zip(["for a", "for b"]).rev() {
            let (c, mut ci) = connect_with(b.addr, connect_packet(v, id, true), options()).await;
            assert!(session_present(&ci));
            assert_eq!(payloads(&barrier(&c, &mut ci, v).await), [expected]);
            c.close().await.unwrap();
        }
        let other = format!("ci-c{v:?}");
        let (c, mut ci) = connect_with(b.addr, connect_packet(v, &other, true), options()).await;
        assert!(!session_present(&ci));
        assert!(barrier(&c, &mut ci, v).await.is_empty());
        c.close().await.unwrap();
    }
}

/// [MQTT-3.1.3-5]: ClientEndpoint Identifiers of 1 to 23 bytes of `0-9a-zA-Z` are
/// accepted (v3.1.1 with Clean Session 0 too), and used as given: no v5.0
/// Assigned Client Identifier, and the session is found again under them.
#[tokio::test(flavor = "multi_thread")]
async fn client_identifiers_of_allowed_characters_accepted() {
    let b = start(|_| {}).await;
    let ids = [
        "0123456789abcdefghijklm",
        "nopqrstuvwxyzABCDEFGHIJ",
        "KLMNOPQRSTUVWXYZ",
        "Z",
    ];
    for v in BOTH {
        for id in ids {
            for resumed in [false, true] {
                let (c, i) = connect_with(b.addr, connect_packet(v, id, true), options()).await;
                assert_eq!(session_present(&i), resumed, "{v:?} {id}");
                if v == V5 {
                    assert_eq!(connack_v5(&i).properties().assigned_client_identifier, None);
                }
                c.close().await.unwrap();
            }
            // End the session for the next version.
            let (c, _i) = connect_with(b.addr, connect_packet(v, id, false), options()).await;
            c.close().await.unwrap();
        }
    }
}

/// v3.1.1 [MQTT-3.1.2.7]: retained messages are not part of a session and
/// stay when the session of their publisher ends (Clean Session 1 at the
/// disconnect, or a Clean Session 1 reconnect discarding a persistent
/// one); run on v5.0 too.
#[tokio::test(flavor = "multi_thread")]
async fn retained_messages_outlive_sessions() {
    let b = start(|_| {}).await;
    for v in BOTH {
        let clean = format!("rk-clean{v:?}");
        let (c, mut ci) = client(b.addr, v, &clean).await;
        publish(&c, "rk/clean", QoS::AtLeastOnce, true, "clean").await;
        barrier(&c, &mut ci, v).await;
        c.close().await.unwrap();
        let kept = format!("rk-kept{v:?}");
        let (c, mut ci) = connect_with(b.addr, connect_packet(v, &kept, true), options()).await;
        publish(&c, "rk/kept", QoS::AtLeastOnce, true, "kept").await;
        barrier(&c, &mut ci, v).await;
        c.close().await.unwrap();
        let (c, _ci) = client(b.addr, v, &kept).await;
        c.close().await.unwrap();
        b.wait_sessions(0).await;

        let (s, mut si) = client(b.addr, v, &format!("rk-sub{v:?}")).await;
        let got = subscribe_retained(&s, &mut si, v, "rk/+", QoS::AtLeastOnce.into()).await;
        let mut got = payloads(&got);
        got.sort();
        assert_eq!(got, ["clean", "kept"], "{v:?}");
        s.close().await.unwrap();
        b.wait_sessions(0).await;
    }
}

/// v3.1.1 [MQTT-3-8.3-4]: a SUBSCRIBE whose Requested QoS byte has a
/// reserved bit set, or QoS 3, is malformed: the connection is closed, with
/// no SUBACK.
#[tokio::test(flavor = "multi_thread")]
async fn subscribe_with_reserved_bits_closes_v3_connection() {
    let b = start(|_| {}).await;
    for byte in [0x03, 0x04, 0x81, 0xC1] {
        let mut r = RawAny::open(b.addr, V3, connect_packet(V3, "rb", false)).await;
        r.read().await.expect("CONNACK");
        let mut body = vec![0, 1];
        mqtt_examples::raw::string(b"rb/t", &mut body);
        body.push(byte);
        let packet = mqtt_examples::raw::frame(0x82, &body);
        r.stream.write_all(&packet).await.unwrap();
        assert!(r.read().await.is_none(), "{byte:#x}");
        b.wait_connections(0).await;
    }
}

/// A v3.1.1 client cannot be told a Receive Maximum, so the broker holds it
/// to none: with `--receive-maximum 2`, three QoS 2 PUBLISH left
/// unreleased are each answered with PUBREC and routed once, the
/// connection stays open, and the PUBRELs complete them (PUBCOMP)
/// [MQTT-4.3.3-9], [MQTT-4.3.3-11]. (Closing it, as a Transient Error
/// [MQTT-4.8.0-2] would allow, makes a client that keeps more in flight
/// reconnect and resend for ever.)
#[tokio::test(flavor = "multi_thread")]
async fn a_v3_1_1_client_may_leave_more_qos2_unreleased_than_the_receive_maximum() {
    use mqtt_codec::wire::PacketType;
    let b = start(|c| c.receive_maximum = 2).await;
    let (o, mut oi) = client(b.addr, V3, "te-other").await;
    subscribe(&o, &mut oi, V3, "te/t", QoS::AtLeastOnce).await;
    let (mut r, _) = RawAny::connect(b.addr, V3, "te").await;
    for id in 1..=3 {
        r.send(r.qos2("te/t", id, false, "x")).await;
    }
    for _ in 1..=3 {
        assert_eq!(r.next_type().await, Some(PacketType::Pubrec));
    }
    for id in 1..=3 {
        r.send(r.pubrel(id)).await;
        assert_eq!(r.next_type().await, Some(PacketType::Pubcomp));
    }
    publish(&o, "te/t", QoS::AtLeastOnce, false, "still").await;
    let got = msgs_until(&mut oi, "still").await;
    assert_eq!(payloads(&got), ["x", "x", "x", "still"]);
    assert_eq!(b.stats.snapshot().connections, 2, "both connections open");
}

/// [MQTT-4.5.0-2] (a Client's rule, for our `mqtt_tokio` Client): a
/// PUBLISH matching none of the Client's subscriptions (it made none) is
/// still acknowledged by its QoS: PUBACK for QoS 1, PUBREC then PUBCOMP for
/// QoS 2, with its Packet Identifier. The Server is played by hand.
#[tokio::test(flavor = "multi_thread")]
async fn client_acknowledges_every_publish() {
    use mqtt_codec::wire::PacketType;
    for v in BOTH {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connecting = tokio::spawn(async move {
            connect_with(addr, connect_packet(v, "ack", false), options()).await
        });
        let (stream, _) = listener.accept().await.unwrap();
        let mut server = RawAny {
            stream,
            version: v,
            decoder: Decoder::new(v),
            buf: BytesMut::new(),
        };
        assert_eq!(server.next_type().await, Some(PacketType::Connect));
        let connack: GenericPacket<u16> = match v {
            V3 => v3_1_1::Packet::from(v3_1_1::Connack::builder().build().unwrap()).into(),
            _ => v5_0::Packet::from(v5_0::Connack::builder().build().unwrap()).into(),
        };
        server.send(connack).await;
        let (_c, mut ci) = connecting.await.unwrap();

        // Packet Identifier 1.
        let m = message(
            "never/subscribed",
            QoS::AtLeastOnce,
            false,
            "1",
            Default::default(),
        );
        let qos1 = publish_packet(v, 1, m);
        server.send(qos1).await;
        server
            .send(server.qos2("never/subscribed", 6, false, "2"))
            .await;
        let mut answers = vec![server.read().await, server.read().await];
        answers.sort_by_key(|p| p.as_ref().map(|p| p.packet_type() as u8));
        let expected = [
            Some(server.ack(QoS::AtLeastOnce, 1, 0)),
            Some(server.ack(QoS::ExactlyOnce, 6, 0)),
        ];
        assert_eq!(answers, expected, "{v:?}");
        server.send(server.pubrel(6)).await;
        assert_eq!(server.read().await, Some(server.pubcomp(6)), "{v:?}");
        let got = [next_msg(&mut ci).await, next_msg(&mut ci).await];
        assert_eq!(payloads(&got), ["1", "2"]);
    }
}

// ----- Spec coverage: ids that name another rule in each version -----

/// v3.1.1 [MQTT-3.1.2-12]: with Will Flag 0 no Will Message is published
/// when the network connection ends. A watcher of every topic gets nothing
/// when v3.1.1 clients without a Will break their connections: a Clean
/// Session 1 one, and a Clean Session 0 one whose earlier connection had a
/// Will (deleted by its DISCONNECT).
#[tokio::test(flavor = "multi_thread")]
async fn no_will_published_without_will_flag() {
    let b = start(|_| {}).await;
    let (w, mut wi) = client(b.addr, V5, "nw-watch").await;
    subscribe(&w, &mut wi, V5, "#", QoS::AtLeastOnce).await;
    let (c, _ci) = connect_with(b.addr, will_connect(V3, "nw", 0, 60), options()).await;
    c.close().await.unwrap();
    b.wait_connections(1).await;
    for (id, persistent) in [("nw", true), ("nw-clean", false)] {
        let (c, _ci) = connect_with(b.addr, connect_packet(V3, id, persistent), options()).await;
        c.abort();
        b.wait_connections(1).await;
    }
    assert_no_will(&w, &mut wi).await;
}

/// Will Retain 0: the Server publishes the Will Message as a non-retained
/// message (v5.0 [MQTT-3.1.2-14], v3.1.1 [MQTT-3.1.2-16]): a subscriber
/// with Retain As Published gets it with RETAIN 0, and a later subscription
/// gets no retained message. With Will Retain 1 it is published retained
/// (v5.0 [MQTT-3.1.2-15], v3.1.1 [MQTT-3.1.2-17]): RETAIN 1, and a later
/// subscription gets it.
#[tokio::test(flavor = "multi_thread")]
async fn will_published_with_its_will_retain() {
    let b = start(|_| {}).await;
    let (w, mut wi) = client(b.addr, V5, "wr-watch").await;
    let options_rap = SubscriptionOptions {
        retain_as_published: true,
        ..SubscriptionOptions::new(QoS::AtLeastOnce)
    };
    subscribe_opts(&w, &mut wi, V5, "will/#", options_rap, None).await;
    for v in BOTH {
        for retain in [false, true] {
            let id = format!("wr{v:?}{retain}");
            let connect = will_connect_with(v, &id, 0, 0, retain, Vec::new());
            let (c, _ci) = connect_with(b.addr, connect, options()).await;
            c.abort();
            let m = next_msg(&mut wi).await;
            assert_eq!((m.topic, m.retain), (format!("will/{id}"), retain));
            let (l, mut li) = client(b.addr, V5, &format!("{id}-late")).await;
            let filter = format!("will/{id}");
            let kept = subscribe_retained(&l, &mut li, V5, &filter, QoS::AtLeastOnce.into()).await;
            assert_eq!(payloads(&kept).len(), usize::from(retain), "{v:?} {retain}");
            l.close().await.unwrap();
        }
    }
}

/// v5.0 [MQTT-3.1.3-10]: the Server keeps the order of the Will's User
/// Properties when it publishes the Will Message (names repeated and not
/// sorted, so a map or a sort would change it).
#[tokio::test(flavor = "multi_thread")]
async fn will_user_properties_keep_their_order() {
    let b = start(|_| {}).await;
    let (w, mut wi) = watcher(&b).await;
    let user: Vec<UserProperty> = [("z", "1"), ("a", "2"), ("z", "0"), ("m", "3"), ("a", "1")]
        .into_iter()
        .map(|(n, v)| UserProperty::new(n, v).unwrap())
        .collect();
    let connect = will_connect_with(V5, "wu", 0, 0, false, user.clone());
    let (c, _ci) = connect_with(b.addr, connect, options()).await;
    c.abort();
    let m = next_msg(&mut wi).await;
    assert_eq!(m.topic, "will/wu");
    assert_eq!(m.props.user_properties, user);
    w.close().await.unwrap();
}

/// v5.0 [MQTT-3.1.3-7]: a zero-byte Client Identifier is processed as the
/// unique one the Server assigns, and the CONNACK returns it: two such
/// clients get different ones [MQTT-3.1.3-6], and the persistent session
/// (Clean Start 0, Session Expiry 60 s) created under the assigned one is
/// resumed by a client that connects with it: Session Present 1, its
/// subscription kept, the message queued meanwhile delivered.
#[tokio::test(flavor = "multi_thread")]
async fn assigned_client_identifier_names_the_session() {
    let b = start(|_| {}).await;
    let (p, mut pi) = client(b.addr, V5, "aci-pub").await;
    let assigned = |i: &In| {
        let id = connack_v5(i)
            .properties()
            .assigned_client_identifier
            .clone();
        id.expect("an Assigned Client Identifier").to_string()
    };
    let empty = || v5_connect("", false, 60).build().unwrap();
    let (c, mut ci) = connect_with(b.addr, empty(), options()).await;
    let (c2, ci2) = connect_with(b.addr, empty(), options()).await;
    let id = assigned(&ci);
    assert!(!id.is_empty());
    assert_ne!(id, assigned(&ci2));
    c2.close().await.unwrap();
    subscribe(&c, &mut ci, V5, "aci/t", QoS::AtLeastOnce).await;
    c.close().await.unwrap();
    b.wait_connections(1).await;
    publish(&p, "aci/t", QoS::AtLeastOnce, false, "queued").await;
    barrier(&p, &mut pi, V5).await;
    let connect = v5_connect(&id, false, 60).build().unwrap();
    let (_r, mut ri) = connect_with(b.addr, connect, options()).await;
    assert!(session_present(&ri));
    assert_eq!(payloads(&[next_msg(&mut ri).await]), ["queued"]);
}

/// v3.1.1 [MQTT-3.1.4-4]: the Server acknowledges an acceptable CONNECT
/// with a CONNACK whose return code is 0, the first packet it sends: Clean
/// Session 1 and 0, with a Will, and the zero-byte Client Identifier it
/// accepts (with Clean Session 1).
#[tokio::test(flavor = "multi_thread")]
async fn v3_connect_acknowledged_with_return_code_0() {
    let b = start(|_| {}).await;
    let connects = [
        connect_packet(V3, "ack-a", false),
        connect_packet(V3, "ack-b", true),
        will_connect(V3, "ack-c", 0, 0),
        connect_packet(V3, "", false),
    ];
    for connect in connects {
        let mut raw = RawAny::open(b.addr, V3, connect).await;
        match raw.read().await {
            Some(GenericPacket::V3_1_1(v3_1_1::Packet::Connack(c))) => {
                assert_eq!(c.return_code(), v3_1_1::ConnectReturnCode::Accepted);
            }
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }
}

/// v3.1.1 [MQTT-3.2.2-6]: a CONNECT for which no return code of Table 3.1
/// applies (malformed: reserved flag set [MQTT-3.1.2-3], Will QoS 3, Will
/// QoS or Will Retain without the Will Flag) makes the Server close the
/// network connection without sending a CONNACK: the client reads nothing
/// before the end of the stream.
#[tokio::test(flavor = "multi_thread")]
async fn v3_connect_without_applicable_code_closed_without_connack() {
    let b = start(|_| {}).await;
    // Protocol Name, Level 4, `flags`, Keep Alive 30, then the payload.
    let connect = |flags: u8, payload: &[u8]| {
        let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, flags, 0, 30];
        body.extend_from_slice(payload);
        let mut packet = vec![0x10, body.len() as u8];
        packet.extend(body);
        packet
    };
    let id = [0, 1, b'x'];
    let with_will = [0, 1, b'x', 0, 1, b't', 0, 1, b'm'];
    let cases = [
        connect(0x03, &id),        // reserved flag
        connect(0x1E, &with_will), // Will QoS 3
        connect(0x0A, &id),        // Will QoS 1, Will Flag 0
        connect(0x22, &id),        // Will Retain, Will Flag 0
    ];
    for bytes in cases {
        let mut s = TcpStream::connect(b.addr).await.unwrap();
        s.write_all(&bytes).await.unwrap();
        let mut got = Vec::new();
        let end = timeout(WAIT, s.read_to_end(&mut got))
            .await
            .expect("closed");
        assert!(got.is_empty(), "{bytes:02X?}: got {got:02X?} ({end:?})");
    }
}

/// v3.1.1 [MQTT-4.1.0-1]: the Server stores the Session state for the
/// entire Session, across its network connections. A v3.1.1 Clean Session 0
/// client leaves with every kind of state (§4.1) pending: its subscription,
/// a QoS 1 message sent to it and not acknowledged, a QoS 2 one it answered
/// with PUBREC (PUBREL sent, no PUBCOMP yet), a QoS 2 message it sent
/// (PUBREC received, no PUBREL yet), and a message that arrives while it is
/// offline. When it comes back the Session is present, the QoS 1 message
/// is sent again with DUP, the PUBREL again, the queued message follows,
/// and its PUBREL completes its own message, which is routed only once.
#[tokio::test(flavor = "multi_thread")]
async fn v3_session_state_kept_for_the_whole_session() {
    use mqtt_codec::wire::PacketType;
    let b = start(|_| {}).await;
    let (p, mut pi) = client(b.addr, V5, "sv-pub").await;
    subscribe(&p, &mut pi, V5, "sv-in", QoS::AtLeastOnce).await;
    let (mut c, present) = RawAny::connect(b.addr, V3, "sv").await;
    assert!(!present);
    assert_eq!(c.subscribe(1, "sv/#", QoS::ExactlyOnce).await, [2]);
    publish(&p, "sv/1", QoS::AtLeastOnce, false, "one").await;
    let one = c.publish().await;
    assert_eq!((&one.payload[..], one.qos), (&b"one"[..], QoS::AtLeastOnce));
    publish(&p, "sv/2", QoS::ExactlyOnce, false, "two").await;
    let two = c.publish().await;
    assert_eq!(&two.payload[..], b"two");
    let two_id = two.id.unwrap();
    c.send(c.ack(QoS::ExactlyOnce, two_id, 0)).await;
    assert_eq!(c.read().await, Some(c.pubrel(two_id)));
    c.send(c.qos2("sv-in", 7, false, "in")).await;
    assert_eq!(c.next_type().await, Some(PacketType::Pubrec));
    // The network connection breaks; a message arrives meanwhile.
    drop(c);
    b.wait_connections(1).await;
    publish(&p, "sv/3", QoS::AtLeastOnce, false, "three").await;
    let mut routed = barrier(&p, &mut pi, V5).await;

    let (mut c, present) = RawAny::connect(b.addr, V3, "sv").await;
    assert!(present);
    let again = c.publish().await;
    assert_eq!((again.id, again.dup), (one.id, true));
    assert_eq!(&again.payload[..], b"one");
    assert_eq!(c.read().await, Some(c.pubrel(two_id)));
    let three = c.publish().await;
    assert_eq!((&three.payload[..], three.dup), (&b"three"[..], false));
    c.send(c.pubrel(7)).await;
    assert_eq!(c.next_type().await, Some(PacketType::Pubcomp));
    publish(&p, "sv-in", QoS::AtLeastOnce, false, "marker").await;
    routed.extend(msgs_until(&mut pi, "marker").await);
    assert_eq!(payloads(&routed), ["in", "marker"]);
}

/// A Session lasts at least as long as its network connection (v3.1.1
/// [MQTT-4.1.0-2]; v5.0 [MQTT-4.1.0-1]: not discarded while the connection
/// is open). With `--max-session-expiry 2`, persistent clients of both
/// versions stay connected for longer than that: their subscriptions still
/// deliver, and when they disconnect and connect again at once the session
/// is present (the expiry counts from the disconnection only).
#[tokio::test(flavor = "multi_thread")]
async fn session_lasts_while_its_connection_is_open() {
    let b = start(|c| c.max_session_expiry = Some(2)).await;
    let (p, _pi) = client(b.addr, V5, "sl-pub").await;
    let mut subscribers = Vec::new();
    for v in BOTH {
        let id = format!("sl{v:?}");
        let (s, mut si) = connect_with(b.addr, connect_packet(v, &id, true), options()).await;
        subscribe(&s, &mut si, v, &format!("sl/{v:?}"), QoS::AtLeastOnce).await;
        subscribers.push((v, id, s, si));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(b.stats.snapshot().sessions, 3);
    for (v, id, s, mut si) in subscribers {
        let packet = message(
            &format!("sl/{v:?}"),
            QoS::AtLeastOnce,
            false,
            "late",
            Default::default(),
        );
        p.publish(packet).await.unwrap();
        assert_eq!(payloads(&[next_msg(&mut si).await]), ["late"], "{v:?}");
        s.close().await.unwrap();
        let (s, si) = connect_with(b.addr, connect_packet(v, &id, true), options()).await;
        assert!(session_present(&si), "{v:?}");
        s.close().await.unwrap();
    }
}

/// v3.1.1 [MQTT-3.8.4-5]: each SUBACK return code shows the maximum QoS
/// granted for its Topic Filter, which may be lower than requested, or a
/// failure: with `--maximum-qos 1` and a denied filter, requests for QoS 2,
/// 1 (denied) and 0 get 1, 0x80 and 0, and messages published at QoS 1
/// arrive at the QoS the codes show, none on the denied filter.
#[tokio::test(flavor = "multi_thread")]
async fn v3_suback_codes_show_granted_qos_or_failure() {
    let b = start(|c| {
        c.maximum_qos = QoS::AtLeastOnce;
        c.deny.push("sq/secret/#".try_into().unwrap());
    })
    .await;
    let (s, mut si) = client(b.addr, V3, "sq").await;
    let o = SubscriptionOptions::new;
    let filters = [
        ("sq/two", o(QoS::ExactlyOnce)),
        ("sq/secret/x", o(QoS::AtLeastOnce)),
        ("sq/zero", o(QoS::AtMostOnce)),
    ];
    assert_eq!(
        subscribe_many(&s, &mut si, V3, &filters, None).await,
        [1, 0x80, 0]
    );
    for t in ["sq/two", "sq/secret/x", "sq/zero"] {
        publish(&s, t, QoS::AtLeastOnce, false, "m").await;
    }
    let got: Vec<(String, QoS)> = [next_msg(&mut si).await, next_msg(&mut si).await]
        .into_iter()
        .map(|m| (m.topic, m.qos))
        .collect();
    assert_eq!(
        got,
        [
            ("sq/two".into(), QoS::AtLeastOnce),
            ("sq/zero".into(), QoS::AtMostOnce)
        ]
    );
    assert!(barrier(&s, &mut si, V3).await.is_empty());
}
