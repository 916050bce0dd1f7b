//! mqtt-tokio side by side with rumqttc 0.25's `AsyncClient`, each against
//! a mosquitto broker of the bench's own (`mqtt_testkit::Mosquitto`, on
//! loopback), in MQTT v3.1.1 and v5.0:
//!
//! - connect → first message: connect, subscribe, receive a retained QoS 1
//!   message (from before the connect to its arrival);
//! - QoS 1 publish loop: `MESSAGES` PUBLISH of 64 bytes, until every PUBACK
//!   is in (messages per second).
//!
//! Ours twice: the packet-level `ClientEndpoint` and the high-level
//! `Client` (each message published from its own task, done when every
//! `publish` resolved), each paired with its own rumqttc run.
//!
//! Every round runs both clients, the one first alternating, so machine
//! noise hits both alike; the ratio is the median of the per-round ratios.
//! Prints a markdown table and asserts nothing about time. Exits 0 with a
//! note when mosquitto is not installed. See README.md.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mqtt_tokio::codec::wire::PacketType;
use mqtt_tokio::prelude::*;

const LATENCY_TOPIC: &str = "bench/latency";
const THROUGHPUT_TOPIC: &str = "bench/throughput";
const PAYLOAD: [u8; 64] = [b'x'; 64];
/// Rounds of connect → first message (one connect per client per round).
const LATENCY_ROUNDS: usize = 100;
/// Rounds of the publish loop, and messages per loop.
const THROUGHPUT_ROUNDS: usize = 10;
const MESSAGES: usize = 10_000;
/// The broker: no Nagle on its acknowledgements; only `notice` and
/// `information` log lines (the testkit's `log_type all` logs every packet;
/// `running`, which it waits for, is `information`).
const BROKER_CONFIG: &str =
    "set_tcp_nodelay true\nlog_type none\nlog_type notice\nlog_type information\n";

/// mqtt-tokio: `ClientEndpoint::connect`, `publish` of a `Message` (numbered by
/// the connection), automatic PUBACK (the default).
mod ours {
    use super::*;

    fn options() -> ConnectionOptions {
        ConnectionOptions::default()
    }

    async fn connect(addr: SocketAddr, v: ProtocolVersion, id: &str) -> (ClientEndpoint, Incoming) {
        let connect: GenericPacket = match v {
            ProtocolVersion::V3_1_1 => {
                let c = v3_1_1::Connect::builder()
                    .try_client_id(id)
                    .unwrap()
                    .keep_alive(30)
                    .build();
                v3_1_1::Packet::from(c.unwrap()).into()
            }
            _ => {
                let c = v5_0::Connect::builder()
                    .try_client_id(id)
                    .unwrap()
                    .keep_alive(30)
                    .build();
                v5_0::Packet::from(c.unwrap()).into()
            }
        };
        ClientEndpoint::connect(addr, connect, options())
            .await
            .unwrap()
    }

    type Incoming = mqtt_tokio::Incoming<mqtt_tokio::role::Client>;

    /// A QoS 1 message of [`PAYLOAD`] to `topic`.
    pub fn message(topic: &'static str, retain: bool) -> Message {
        Message::builder()
            .topic_name(TopicName::from_static(topic).unwrap())
            .qos(QoS::AtLeastOnce)
            .retain(retain)
            .payload(Bytes::from_static(&PAYLOAD))
            .build()
            .unwrap()
    }

    /// Leaves a retained message on [`LATENCY_TOPIC`].
    pub async fn retain(addr: SocketAddr) {
        let (client, mut incoming) = connect(addr, ProtocolVersion::V5_0, "retain").await;
        client.publish(message(LATENCY_TOPIC, true)).await.unwrap();
        while incoming.recv().await.unwrap().packet_type() != PacketType::Puback {}
        client.close().await.unwrap();
    }

    pub async fn latency(addr: SocketAddr, v: ProtocolVersion, id: &str) -> Duration {
        let t0 = Instant::now();
        let (client, mut incoming) = connect(addr, v, id).await;
        let packet_id = client.acquire_packet_id().await.unwrap();
        let filter = TopicFilter::new(LATENCY_TOPIC).unwrap();
        let subscribe: GenericPacket = match v {
            ProtocolVersion::V3_1_1 => {
                let s = v3_1_1::Subscription::new(filter, QoS::AtLeastOnce);
                let s = v3_1_1::Subscribe::builder()
                    .packet_id(packet_id)
                    .subscription(s)
                    .build();
                v3_1_1::Packet::from(s.unwrap()).into()
            }
            _ => {
                let s = (filter, v5_0::SubscriptionOptions::new(QoS::AtLeastOnce));
                let s = v5_0::Subscribe::builder()
                    .packet_id(packet_id)
                    .subscription(s)
                    .build();
                v5_0::Packet::from(s.unwrap()).into()
            }
        };
        client.send_generic(subscribe).await.unwrap();
        while incoming.recv().await.unwrap().packet_type() != PacketType::Publish {}
        let elapsed = t0.elapsed();
        client.close().await.unwrap();
        elapsed
    }

    pub async fn throughput(addr: SocketAddr, v: ProtocolVersion, id: &str) -> Duration {
        let (client, mut incoming) = connect(addr, v, id).await;
        let message = message(THROUGHPUT_TOPIC, false);
        let t0 = Instant::now();
        let acks = tokio::spawn(async move {
            let mut n = 0;
            while n < MESSAGES {
                if incoming.recv().await.unwrap().packet_type() == PacketType::Puback {
                    n += 1;
                }
            }
        });
        for _ in 0..MESSAGES {
            client.publish(message.clone()).await.unwrap();
        }
        acks.await.unwrap();
        let elapsed = t0.elapsed();
        client.close().await.unwrap();
        elapsed
    }
}

/// mqtt-tokio's high-level `Client`: `ClientOptions` defaults (at most 20
/// QoS 1 and 2 messages in flight), `subscribe` and `publish_message`
/// resolving with the broker's answer.
mod high {
    use super::*;

    fn options(addr: SocketAddr, v: ProtocolVersion, id: &str) -> ClientOptions {
        let url = format!("mqtt://{addr}");
        let options = ClientOptions::new(&url).unwrap().client_id(id).version(v);
        options.keep_alive(Duration::from_secs(30))
    }

    pub async fn latency(addr: SocketAddr, v: ProtocolVersion, id: &str) -> Duration {
        let t0 = Instant::now();
        let (client, mut messages) = Client::connect(options(addr, v, id)).await.unwrap();
        client
            .subscribe(LATENCY_TOPIC, QoS::AtLeastOnce)
            .await
            .unwrap();
        messages.recv().await.unwrap();
        let elapsed = t0.elapsed();
        client.disconnect().await.unwrap();
        elapsed
    }

    /// Every message published from its own task, as an application with
    /// many producers does; done when every `publish` resolved (PUBACK).
    pub async fn throughput(addr: SocketAddr, v: ProtocolVersion, id: &str) -> Duration {
        let (client, _messages) = Client::connect(options(addr, v, id)).await.unwrap();
        let message = ours::message(THROUGHPUT_TOPIC, false);
        let t0 = Instant::now();
        let publishes: Vec<_> = (0..MESSAGES)
            .map(|_| {
                let (client, message) = (client.clone(), message.clone());
                tokio::spawn(async move { client.publish_message(message).await })
            })
            .collect();
        for publish in publishes {
            publish.await.unwrap().unwrap();
        }
        let elapsed = t0.elapsed();
        client.disconnect().await.unwrap();
        elapsed
    }
}

/// rumqttc: `AsyncClient` and its `EventLoop` polled by the measuring task
/// (automatic PUBACK, default in-flight limit 100), once per version module.
macro_rules! rumqttc_side {
    ($name:ident: $($import:item)*) => {
        mod $name {
            use super::*;
            $($import)*

            fn options(addr: SocketAddr, id: &str) -> MqttOptions {
                let mut options = MqttOptions::new(id, addr.ip().to_string(), addr.port());
                options.set_keep_alive(Duration::from_secs(30));
                options
            }

            async fn close(client: AsyncClient, mut events: EventLoop) {
                client.disconnect().await.unwrap();
                let closed = async { while events.poll().await.is_ok() {} };
                let _ = tokio::time::timeout(Duration::from_secs(1), closed).await;
            }

            pub async fn latency(addr: SocketAddr, id: &str) -> Duration {
                let t0 = Instant::now();
                let (client, mut events) = AsyncClient::new(options(addr, id), 10);
                client.subscribe(LATENCY_TOPIC, QoS::AtLeastOnce).await.unwrap();
                while !matches!(events.poll().await.unwrap(), Event::Incoming(Packet::Publish(_))) {}
                let elapsed = t0.elapsed();
                close(client, events).await;
                elapsed
            }

            pub async fn throughput(addr: SocketAddr, id: &str) -> Duration {
                let (client, mut events) = AsyncClient::new(options(addr, id), 100);
                while !matches!(events.poll().await.unwrap(), Event::Incoming(Packet::ConnAck(_))) {}
                let t0 = Instant::now();
                let publisher = client.clone();
                let publishing = tokio::spawn(async move {
                    for _ in 0..MESSAGES {
                        let payload = PAYLOAD.to_vec();
                        publisher.publish(THROUGHPUT_TOPIC, QoS::AtLeastOnce, false, payload).await.unwrap();
                    }
                });
                let mut n = 0;
                while n < MESSAGES {
                    if let Event::Incoming(Packet::PubAck(_)) = events.poll().await.unwrap() {
                        n += 1;
                    }
                }
                let elapsed = t0.elapsed();
                publishing.await.unwrap();
                close(client, events).await;
                elapsed
            }
        }
    };
}

rumqttc_side!(rumqttc_v3_1_1: use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};);
rumqttc_side!(rumqttc_v5_0:
    use rumqttc::v5::{AsyncClient, Event, EventLoop, MqttOptions};
    use rumqttc::v5::mqttbytes::{v5::Packet, QoS};
);

/// One line of the table: the time of each client per round.
#[derive(Default)]
struct Pair {
    ours: Vec<Duration>,
    theirs: Vec<Duration>,
}

impl Pair {
    /// Runs both, the one first alternating with the round.
    async fn round<A, B>(&mut self, round: usize, ours: A, theirs: B)
    where
        A: std::future::Future<Output = Duration>,
        B: std::future::Future<Output = Duration>,
    {
        if round & 1 == 0 {
            self.ours.push(ours.await);
            self.theirs.push(theirs.await);
        } else {
            self.theirs.push(theirs.await);
            self.ours.push(ours.await);
        }
    }

    fn medians(&self) -> (Duration, Duration, f64) {
        let ratios = self.ours.iter().zip(&self.theirs);
        let ratios = ratios
            .map(|(o, t)| t.as_secs_f64() / o.as_secs_f64())
            .collect();
        (
            median(self.ours.clone()),
            median(self.theirs.clone()),
            median(ratios),
        )
    }
}

fn median<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

const VERSIONS: [&str; 2] = ["v3.1.1", "v5.0"];

#[tokio::main]
async fn main() {
    let Some(broker) = mqtt_testkit::Mosquitto::start(BROKER_CONFIG) else {
        println!("adapters bench skipped: mosquitto is not installed");
        return;
    };
    let addr = broker.addr();
    ours::retain(addr).await;

    let mut latency = [Pair::default(), Pair::default()];
    let mut high_latency = [Pair::default(), Pair::default()];
    for round in 0..LATENCY_ROUNDS {
        let (a, b) = (format!("ours-{round}"), format!("theirs-{round}"));
        let (h, hb) = (format!("high-{round}"), format!("theirs-h-{round}"));
        let [l3, l5] = &mut latency;
        let [h3, h5] = &mut high_latency;
        let (v3, v5) = (ProtocolVersion::V3_1_1, ProtocolVersion::V5_0);
        h3.round(
            round,
            high::latency(addr, v3, &h),
            rumqttc_v3_1_1::latency(addr, &hb),
        )
        .await;
        h5.round(
            round,
            high::latency(addr, v5, &h),
            rumqttc_v5_0::latency(addr, &hb),
        )
        .await;
        l3.round(
            round,
            ours::latency(addr, v3, &a),
            rumqttc_v3_1_1::latency(addr, &b),
        )
        .await;
        l5.round(
            round,
            ours::latency(addr, v5, &a),
            rumqttc_v5_0::latency(addr, &b),
        )
        .await;
    }
    let mut throughput = [Pair::default(), Pair::default()];
    let mut high_throughput = [Pair::default(), Pair::default()];
    for round in 0..THROUGHPUT_ROUNDS {
        let (a, b) = (format!("ours-thr-{round}"), format!("theirs-thr-{round}"));
        let (h, hb) = (format!("high-thr-{round}"), format!("theirs-hthr-{round}"));
        let [t3, t5] = &mut throughput;
        let [h3, h5] = &mut high_throughput;
        let (v3, v5) = (ProtocolVersion::V3_1_1, ProtocolVersion::V5_0);
        h3.round(
            round,
            high::throughput(addr, v3, &h),
            rumqttc_v3_1_1::throughput(addr, &hb),
        )
        .await;
        h5.round(
            round,
            high::throughput(addr, v5, &h),
            rumqttc_v5_0::throughput(addr, &hb),
        )
        .await;
        t3.round(
            round,
            ours::throughput(addr, v3, &a),
            rumqttc_v3_1_1::throughput(addr, &b),
        )
        .await;
        t5.round(
            round,
            ours::throughput(addr, v5, &a),
            rumqttc_v5_0::throughput(addr, &b),
        )
        .await;
    }

    println!("| measure | mqtt-tokio API | version | mqtt-tokio | rumqttc | rumqttc / mqtt-tokio (time) |");
    println!("|---|---|---|---:|---:|---:|");
    let us = |d: Duration| format!("{:.0} µs", d.as_secs_f64() * 1e6);
    let rate = |d: Duration| format!("{:.0} msg/s", MESSAGES as f64 / d.as_secs_f64());
    let rows = [
        (
            "connect → first message",
            "ClientEndpoint",
            &latency,
            LATENCY_ROUNDS,
            &us as &dyn Fn(Duration) -> String,
        ),
        (
            "connect → first message",
            "Client",
            &high_latency,
            LATENCY_ROUNDS,
            &us,
        ),
        (
            "QoS 1 publish loop, 64 B",
            "ClientEndpoint",
            &throughput,
            THROUGHPUT_ROUNDS,
            &rate,
        ),
        (
            "QoS 1 publish loop, 64 B",
            "Client",
            &high_throughput,
            THROUGHPUT_ROUNDS,
            &rate,
        ),
    ];
    for (measure, api, pairs, rounds, show) in rows {
        for (pair, name) in pairs.iter().zip(VERSIONS) {
            let (o, t, ratio) = pair.medians();
            println!(
                "| {measure}, median of {rounds} | {api} | {name} | {} | {} | {ratio:.2} |",
                show(o),
                show(t)
            );
        }
    }
}
