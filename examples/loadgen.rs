//! A load generator for MQTT brokers, built on `mqtt-tokio`'s `Client`:
//! publishers, subscribers and "fan-in" connections in one process, so that
//! latency is measured on one clock. Run `--help` for the flags.
//!
//! ```text
//! cargo run --release -p mqtt-examples --example loadgen -- \
//!     --port 1883 --publishers 4 --subscribers 1 --qos 1 --payload 64 --duration 10
//! ```
//!
//! Each payload starts with the publisher index (u32), a sequence number
//! (u64) and the send time (u64 nanoseconds since a shared origin). Every
//! subscriber subscribes to `PREFIX/#` before the publishers start and
//! counts, per publisher, the sequence numbers it received; at the end
//! (after up to 2 s for stragglers) it reports messages received per
//! second (overall, and each second: the series and its min / median /
//! max over the publishing window), the time to drain (publishers' stop to
//! the last message received), lost (sent × subscribers − distinct
//! received), duplicated, and p50 / p99 / max latency.
//!
//! `--idle N` instead opens N connections that only keep alive, and with
//! `--broker-pid` reports the broker's memory per connection; `--connects
//! N` opens N connections one after the other and reports how many per
//! second the broker accepts.

#[path = "loadgen/common.rs"]
mod common;
#[path = "loadgen/connects.rs"]
mod connects;
#[path = "loadgen/idle.rs"]
mod idle;
#[path = "loadgen/run.rs"]
mod run;
#[path = "loadgen/stats.rs"]
mod stats;

use std::time::Duration;

use common::{Error, Flags};
use mqtt_codec::{ProtocolVersion, QoS};

const HELP: &str = "\
loadgen: load an MQTT broker and measure what comes back

  --host ADDR             broker address (127.0.0.1)
  --port N                broker port (1883)
  --version 5|3.1.1       MQTT version of every connection (5)
  --publishers N          publishers sending as fast as --rate allows (4)
  --subscribers M         subscribers to PREFIX/# (1)
  --qos 0|1|2             QoS of publications and subscriptions (0)
  --payload BYTES         payload size, >= 20 (64)
  --duration SECS         how long the publishers publish (10)
  --rate R                messages per second per publisher, 0 = as fast as
                          possible (0)
  --inflight W            publishes each publisher keeps in flight (32); at
                          QoS 1 and 2 the broker's Receive Maximum bounds it too
  --topic PREFIX          publisher i publishes to PREFIX/i (loadgen)
  --connections K         K more connections (\"fan-in\"), each publishing
                          --connection-rate messages per second to PREFIX/i (0)
  --connection-rate R     messages per second of each fan-in connection (1)
  --straggle SECS         how long subscribers wait for late messages once the
                          publishers stopped (2)
  --session-expiry SECS   subscribers' Session Expiry Interval (v3.1.1: Clean
                          Session 0 above 0); above 0 their sessions persist
                          (a broker with a store journals their copies) (0)
  --broker-pid PID        also report the broker's CPU use and memory
  --label TEXT            a name for the run, echoed in the output
  --json                  print one line of JSON instead of text

What a throughput run reports (text, or the JSON keys in brackets):
  sent (sent), acknowledged (acked), distinct messages received over all
  subscribers (received), lost = sent x subscribers - received (lost),
  duplicated (duplicated), publisher errors (errors);
  msg/s = received / (first publish -> last message received) (msgs_per_s,
  window_s);
  per second: distinct messages received in each second since the
  publishers' start, to the last message (per_s, a list), and the min /
  median / max of the whole seconds of the publishing window, --duration
  (per_s_min, per_s_median, per_s_max; null under 1 s);
  drained: seconds from the publishers' stop (the end of --duration, or
  when the last paced publisher that fell behind its --rate sent its last
  message) to the last message received, 0 if none came after it (drain_s);
  latency p50 / p99 / max in us (p50_us, p99_us, max_us); CPU in percent of
  one core over the window (loadgen_cpu_pct, broker_cpu_pct).

Idle-connection mode (memory per connection):
  --idle N                open N connections that only keep alive, report the
                          broker's (RSS after - RSS before) / N with
                          --broker-pid, then close them
  --keep-alive SECS       Keep Alive of the idle connections (60)
  --hold SECS             how long to hold them after the last connected (2)

Connect-rate mode:
  --connects N            open N connections one after the other (CONNECT,
                          CONNACK, DISCONNECT, close); report connections per
                          second and CONNECT -> CONNACK latency
";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return;
    }
    if let Err(e) = dispatch(args).await {
        eprintln!("loadgen: {e}");
        std::process::exit(1);
    }
}

async fn dispatch(args: Vec<String>) -> Result<(), Error> {
    let flags = Flags::parse(
        args,
        &[
            "--host",
            "--port",
            "--version",
            "--publishers",
            "--subscribers",
            "--qos",
            "--payload",
            "--duration",
            "--rate",
            "--inflight",
            "--topic",
            "--connections",
            "--connection-rate",
            "--broker-pid",
            "--label",
            "--idle",
            "--keep-alive",
            "--hold",
            "--straggle",
            "--session-expiry",
            "--connects",
        ],
        &["--json"],
    )?;
    let addr = format!(
        "{}:{}",
        flags.string("--host", "127.0.0.1"),
        flags.get("--port", 1883u16)?
    );
    let version = flags.version()?;
    let broker_pid: Option<u32> = flags
        .get("--broker-pid", 0u32)
        .map(|p| (p > 0).then_some(p))?;
    let json = flags.switch("--json");
    let label = flags.string("--label", "");
    let connects: u32 = flags.get("--connects", 0)?;
    if connects > 0 {
        let report = connects::run(&addr, version, connects).await?;
        println!("{}", report.render(&label, version, json));
        return Ok(());
    }
    let idle: u32 = flags.get("--idle", 0)?;
    if idle > 0 {
        let keep_alive = flags.get("--keep-alive", 60u16)?;
        let hold = Duration::from_secs_f64(flags.get("--hold", 2.0f64)?);
        let report = idle::run(&addr, version, idle, keep_alive, hold, broker_pid).await?;
        println!("{}", report.render(&label, version, json));
        return Ok(());
    }
    let settings = run::Settings {
        addr,
        version,
        publishers: flags.get("--publishers", 4)?,
        subscribers: flags.get("--subscribers", 1)?,
        qos: flags.qos("0")?,
        payload: flags.get("--payload", 64usize)?,
        duration: Duration::from_secs_f64(flags.get("--duration", 10.0f64)?),
        rate: flags.get("--rate", 0.0f64)?,
        inflight: flags.get("--inflight", 32usize)?.max(1),
        topic: flags.string("--topic", "loadgen"),
        connections: flags.get("--connections", 0)?,
        connection_rate: flags.get("--connection-rate", 1.0f64)?,
        broker_pid,
        straggle: Duration::from_secs_f64(flags.get("--straggle", 2.0f64)?),
        subscriber_expiry: flags.get("--session-expiry", 0u32)?,
    };
    if settings.payload < common::HEADER_LEN {
        return Err(format!("--payload must be at least {}", common::HEADER_LEN).into());
    }
    if settings.publishers + settings.connections == 0 || settings.subscribers == 0 {
        return Err("need at least one publisher (or connection) and one subscriber".into());
    }
    let report = run::run(&settings).await?;
    println!(
        "{}",
        report.render(
            &label,
            &settings,
            json,
            qos_number(settings.qos),
            version_name(version)
        )
    );
    Ok(())
}

/// The QoS as a number.
fn qos_number(qos: QoS) -> u8 {
    match qos {
        QoS::AtMostOnce => 0,
        QoS::AtLeastOnce => 1,
        QoS::ExactlyOnce => 2,
    }
}

/// The version as it is written on the command line.
pub fn version_name(version: ProtocolVersion) -> &'static str {
    match version {
        ProtocolVersion::V3_1_1 => "3.1.1",
        ProtocolVersion::V5_0 => "5",
    }
}
