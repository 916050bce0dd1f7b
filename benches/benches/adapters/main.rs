//! mqtt-tokio side by side with rumqttc 0.25's `AsyncClient`, each against
//! a mosquitto broker of the bench's own (`mqtt_testkit::Mosquitto`, on
//! loopback), in MQTT v3.1.1 and v5.0:
//!
//! - connect → first message: connect, subscribe, receive a retained QoS 1
//!   message (from before the connect to its arrival), against a mosquitto
//!   with its default socket options (Nagle on) and against one with
//!   `set_tcp_nodelay true`; ours also with the subscription in the
//!   `ClientOptions` (sent with the CONNECT);
//! - QoS 1 publish loop (the `set_tcp_nodelay` broker): `MESSAGES` PUBLISH of 64 bytes, until every PUBACK
//!   is in (messages per second), on tokio's multi-thread and
//!   current-thread runtimes;
//! - QoS 0 publish loop: `MESSAGES` PUBLISH of 64 bytes, then one QoS 1
//!   message, until its PUBACK;
//! - memory of an idle connected client (RSS delta over 1,000 clients).
//!
//! Ours as the packet-level `ClientEndpoint` and as the high-level
//! `Client` (QoS 1: each `publish` in a task of its own, or every
//! `publish` future polled by one task, "joined"), each row paired with
//! its own rumqttc run. `ADAPTERS_ROWS=<part of a row's name>` runs only
//! the rows that contain it (for a profile), `ADAPTERS_ROUNDS=1` prints
//! every round's times. `ADAPTERS_LOOP_BROKER=<host:port>` runs the publish
//! loops against that broker instead (e.g. the example broker, to measure
//! the clients where mosquitto's one core does not cap both).
//!
//! Every round runs both clients, the one first alternating, so machine
//! noise hits both alike; the ratio is the median of the per-round ratios,
//! and "slowest" sets our slowest round against rumqttc's median. Prints
//! markdown tables and asserts nothing about time. Exits 0 with a note
//! when mosquitto is not installed. See README.md.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mqtt_tokio::codec::wire::PacketType;
use mqtt_tokio::prelude::*;
use tokio::runtime::Runtime;

mod high;
mod ours;
mod rss;
mod theirs;

const LATENCY_TOPIC: &str = "bench/latency";
const THROUGHPUT_TOPIC: &str = "bench/throughput";
const PAYLOAD: [u8; 64] = [b'x'; 64];
/// Rounds of connect → first message (one connect per client per round).
const LATENCY_ROUNDS: usize = 100;
/// Rounds of each publish loop, and messages per loop.
const THROUGHPUT_ROUNDS: usize = 10;
const MESSAGES: usize = 10_000;
/// Only `notice` and `information` log lines (the testkit's `log_type all`
/// logs every packet; `running`, which it waits for, is `information`).
const QUIET: &str = "log_type none\nlog_type notice\nlog_type information\n";
/// The broker of the publish loops: no Nagle on its acknowledgements.
const LOOP_BROKER: &str = "set_tcp_nodelay true\n";

const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5_0;

/// One line of the table: the time of each client per round.
struct Row {
    measure: &'static str,
    api: &'static str,
    runtime: &'static str,
    version: ProtocolVersion,
    ours: Vec<Duration>,
    theirs: Vec<Duration>,
}

impl Row {
    fn new(
        measure: &'static str,
        api: &'static str,
        runtime: &'static str,
        v: ProtocolVersion,
    ) -> Row {
        Row {
            measure,
            api,
            runtime,
            version: v,
            ours: Vec::new(),
            theirs: Vec::new(),
        }
    }

    /// Runs both, the one first alternating with the round.
    async fn round<A, B>(&mut self, round: usize, ours: A, theirs: B)
    where
        A: Future<Output = Duration>,
        B: Future<Output = Duration>,
    {
        if round & 1 == 0 {
            self.ours.push(ours.await);
            self.theirs.push(theirs.await);
        } else {
            self.theirs.push(theirs.await);
            self.ours.push(ours.await);
        }
    }

    /// Whether `ADAPTERS_ROWS` (a part of "measure | API | runtime |
    /// version", for a profile of one row) selects this row; unset: all.
    fn selected(&self) -> bool {
        let Ok(part) = std::env::var("ADAPTERS_ROWS") else {
            return true;
        };
        let name = format!(
            "{} | {} | {} | {}",
            self.measure,
            self.api,
            self.runtime,
            version(self.version)
        );
        name.contains(&part)
    }

    fn print(&self) {
        if self.ours.is_empty() {
            return;
        }
        if std::env::var_os("ADAPTERS_ROUNDS").is_some() {
            eprintln!(
                "{} {} {}: ours {:?} theirs {:?}",
                self.measure, self.api, self.runtime, self.ours, self.theirs
            );
        }
        let ratios = self.ours.iter().zip(&self.theirs);
        let ratios = ratios.map(|(o, t)| t.as_secs_f64() / o.as_secs_f64());
        let ratio = median(ratios.collect());
        let (ours, theirs) = (median(self.ours.clone()), median(self.theirs.clone()));
        let slowest = self.ours.iter().max().unwrap();
        let slowest = theirs.as_secs_f64() / slowest.as_secs_f64();
        let show = |d: Duration| match self.measure {
            m if m.starts_with("connect") => format!("{:.0} µs", d.as_secs_f64() * 1e6),
            _ => format!("{:.0} msg/s", MESSAGES as f64 / d.as_secs_f64()),
        };
        println!(
            "| {}, median of {} | {} | {} | {} | {} | {} | {ratio:.2} | {slowest:.2} |",
            self.measure,
            self.ours.len(),
            self.api,
            self.runtime,
            version(self.version),
            show(ours),
            show(theirs),
        );
    }
}

fn median<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn version(v: ProtocolVersion) -> &'static str {
    match v {
        V3 => "v3.1.1",
        _ => "v5.0",
    }
}

/// Connect → first message, on the multi-thread runtime, against the
/// broker at `addr` (`measure` names it).
async fn latency(addr: SocketAddr, measure: &'static str) -> Vec<Row> {
    let mut rows = Vec::new();
    for api in ["ClientEndpoint", "Client", "Client, options.subscribe"] {
        for v in [V3, V5] {
            rows.push(Row::new(measure, api, "multi-thread", v));
        }
    }
    rows.retain(Row::selected);
    for round in 0..LATENCY_ROUNDS {
        for row in &mut rows {
            let (a, b) = (format!("ours-{round}"), format!("theirs-{round}"));
            let v = row.version;
            let theirs = async {
                match v {
                    V3 => theirs::v3_1_1::latency(addr, &b).await,
                    _ => theirs::v5_0::latency(addr, &b).await,
                }
            };
            match row.api {
                "Client" => row.round(round, high::latency(addr, v, &a), theirs).await,
                "Client, options.subscribe" => {
                    let ours = high::latency_subscribed(addr, v, &a);
                    row.round(round, ours, theirs).await
                }
                _ => row.round(round, ours::latency(addr, v, &a), theirs).await,
            }
        }
    }
    rows
}

/// The publish loops, on `runtime`.
async fn loops(addr: SocketAddr, runtime: &'static str) -> Vec<Row> {
    let (qos1, qos0) = ("QoS 1 publish loop, 64 B", "QoS 0 publish loop, 64 B");
    let mut rows = Vec::new();
    for (measure, api) in [
        (qos1, "ClientEndpoint"),
        (qos1, "Client"),
        (qos1, "Client joined"),
        (qos0, "Client publish"),
        (qos0, "Client publish_nowait"),
    ] {
        for v in [V3, V5] {
            rows.push(Row::new(measure, api, runtime, v));
        }
    }
    rows.retain(Row::selected);
    for round in 0..THROUGHPUT_ROUNDS {
        for (i, row) in rows.iter_mut().enumerate() {
            let (a, b) = (format!("ours-{i}-{round}"), format!("theirs-{i}-{round}"));
            let (v, qos0) = (row.version, row.measure == qos0);
            let theirs = async {
                match (v, qos0) {
                    (V3, false) => theirs::v3_1_1::throughput(addr, &b).await,
                    (V3, true) => theirs::v3_1_1::qos0(addr, &b).await,
                    (_, false) => theirs::v5_0::throughput(addr, &b).await,
                    (_, true) => theirs::v5_0::qos0(addr, &b).await,
                }
            };
            let api = row.api;
            let ours = async {
                match api {
                    "ClientEndpoint" => ours::throughput(addr, v, &a).await,
                    "Client" => high::throughput(addr, v, &a).await,
                    "Client joined" => high::throughput_joined(addr, v, &a).await,
                    "Client publish" => high::qos0(addr, v, &a, false).await,
                    _ => high::qos0(addr, v, &a, true).await,
                }
            };
            row.round(round, ours, theirs).await;
        }
    }
    rows
}

fn runtime(multi_thread: bool) -> Runtime {
    let mut builder = match multi_thread {
        true => tokio::runtime::Builder::new_multi_thread(),
        false => tokio::runtime::Builder::new_current_thread(),
    };
    builder.enable_all().build().unwrap()
}

fn main() {
    rss::child();
    // Connect → first message against mosquitto's default socket options
    // (Nagle on: a client that writes a packet in pieces waits for a
    // delayed ACK); the loops against one without Nagle.
    let Some(broker) = mqtt_testkit::Mosquitto::start(QUIET) else {
        println!("adapters bench skipped: mosquitto is not installed");
        return;
    };
    let loop_broker = mqtt_testkit::Mosquitto::start(&format!("{QUIET}{LOOP_BROKER}")).unwrap();
    let (multi, current) = (runtime(true), runtime(false));
    let addr = loop_broker.addr();
    multi.block_on(ours::retain(broker.addr()));
    multi.block_on(ours::retain(addr));
    let defaults = "connect → first message, mosquitto defaults";
    let mut rows = multi.block_on(latency(broker.addr(), defaults));
    let nodelay = "connect → first message, set_tcp_nodelay";
    rows.extend(multi.block_on(latency(addr, nodelay)));
    let loops_addr = match std::env::var("ADAPTERS_LOOP_BROKER") {
        Ok(other) => {
            println!("publish loops against the broker at {other}\n");
            other.parse().expect("ADAPTERS_LOOP_BROKER: host:port")
        }
        Err(_) => addr,
    };
    rows.extend(multi.block_on(loops(loops_addr, "multi-thread")));
    rows.extend(current.block_on(loops(loops_addr, "current-thread")));

    println!("| measure | mqtt-tokio API | runtime | version | mqtt-tokio | rumqttc | rumqttc / mqtt-tokio (time) | slowest: rumqttc median / our slowest |");
    println!("|---|---|---|---|---:|---:|---:|---:|");
    for row in &rows {
        row.print();
    }

    if std::env::var("ADAPTERS_ROWS").is_ok_and(|r| !r.contains("RSS")) {
        return;
    }
    println!();
    let clients = rss::IDLE_CLIENTS;
    println!("| RSS per idle connected client, {clients} clients | version | bytes |");
    println!("|---|---|---:|");
    for (library, api, v) in rss::LIBRARIES {
        let bytes = rss::per_client(library, addr);
        println!("| {api} | {v} | {bytes:.0} |");
    }
}
