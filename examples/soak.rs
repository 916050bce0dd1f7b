//! A faults soak for MQTT brokers: persistent-session publishers (QoS 1 and
//! QoS 2) and subscribers are killed at random (the network connection
//! dropped without DISCONNECT) and reconnect with the same client id,
//! resuming their session, while everyone keeps publishing. At the end all
//! reconnect, drain, and the soak reports QoS 1 messages lost (must be 0),
//! QoS 2 messages lost or duplicated (must be 0) and QoS 1 duplicates
//! (allowed). Exits 1 when a must-be-0 count is not 0.
//!
//! ```text
//! cargo run --release -p mqtt-examples --example soak -- --port 1883 --duration 30
//! ```
//!
//! A publisher counts a message sent once its PUBACK or PUBCOMP arrived; a
//! publisher killed mid-flight re-sends through its resumed session. With
//! `--broker-pid` the soak reads the broker's VmRSS / VmHWM before, at the
//! peak and after the clients left (their sessions ended).

#[path = "loadgen/common.rs"]
mod common;
#[path = "loadgen/soak_clients.rs"]
mod soak_clients;
#[path = "loadgen/stats.rs"]
mod stats;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Error, Flags, Rng};
use mqtt_codec::{ProtocolVersion, QoS};
use soak_clients::{Life, Published, Received, Shared};
use tokio::sync::{mpsc, watch, Notify};

const HELP: &str = "\
soak: kill and resume MQTT clients at random; count what was lost

  --host ADDR             broker address (127.0.0.1)
  --port N                broker port (1883)
  --version 5|3.1.1       MQTT version (5)
  --publishers P          publishers, alternately QoS 1 and QoS 2 (4)
  --subscribers S         persistent subscribers to PREFIX/# at QoS 2 (2)
  --duration SECS         how long clients are killed while publishing (30)
  --rate R                messages per second per publisher (200)
  --inflight W            unacknowledged messages per publisher (10)
  --payload BYTES         payload size, >= 20 (64)
  --kill-every MS         a random client is killed every MS milliseconds (200)
  --kill WHO              whom to kill: all, publishers or subscribers (all)
  --max-down MS           a killed client reconnects after 0..MS ms (500)
  --session-expiry SECS   v5.0 Session Expiry Interval (300)
  --topic PREFIX          topic prefix (soak)
  --seed N                random seed (from the clock)
  --broker-pid PID        report the broker's VmRSS / VmHWM
  --json                  print one line of JSON instead of text
";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return;
    }
    match run(args).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(2);
        }
    }
}

/// The broker's memory at one moment, in KiB.
#[derive(Debug, Default, Clone, Copy)]
struct Memory {
    rss: u64,
    hwm: u64,
}

/// Runs the soak; returns whether every must-be-0 count was 0.
async fn run(args: Vec<String>) -> Result<bool, Error> {
    let flags = Flags::parse(
        args,
        &[
            "--host",
            "--port",
            "--version",
            "--publishers",
            "--subscribers",
            "--duration",
            "--rate",
            "--inflight",
            "--payload",
            "--kill-every",
            "--max-down",
            "--session-expiry",
            "--topic",
            "--seed",
            "--broker-pid",
            "--kill",
        ],
        &["--json"],
    )?;
    let version = flags.version()?;
    let publishers: u32 = flags.get("--publishers", 4)?;
    let subscribers: u32 = flags.get("--subscribers", 2)?;
    let duration = Duration::from_secs_f64(flags.get("--duration", 30.0)?);
    let rate: f64 = flags.get("--rate", 200.0)?;
    let inflight: usize = flags.get("--inflight", 10usize)?.max(1);
    let kill_every = Duration::from_millis(flags.get("--kill-every", 200)?);
    let clock_seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let seed: u64 = flags.get("--seed", clock_seed)?;
    let broker_pid: u32 = flags.get("--broker-pid", 0)?;
    let json = flags.switch("--json");
    let kill_whom = flags.string("--kill", "all");
    let shared = Shared {
        addr: format!(
            "{}:{}",
            flags.string("--host", "127.0.0.1"),
            flags.get("--port", 1883u16)?
        ),
        version,
        expiry: flags.get("--session-expiry", 300)?,
        topic: flags.string("--topic", "soak"),
        payload: flags.get("--payload", 64usize)?.max(common::HEADER_LEN),
        max_down: Duration::from_millis(flags.get("--max-down", 500)?),
        seed,
        id_prefix: format!("soak-{}-{}", std::process::id(), seed % 100_000),
    };
    if publishers == 0 || subscribers == 0 {
        return Err("need at least one publisher and one subscriber".into());
    }

    let memory = move || {
        (broker_pid > 0)
            .then(|| common::memory_kib(broker_pid).ok())
            .flatten()
            .map(|(rss, hwm)| Memory { rss, hwm })
    };
    let before = memory();
    let peak = Arc::new(AtomicU64::new(before.map_or(0, |m| m.rss)));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                if let Some(m) = memory() {
                    peak.fetch_max(m.rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    // Subscribers first, each subscribed before anyone publishes.
    let kills: Vec<Arc<Notify>> = (0..publishers + subscribers)
        .map(|_| Arc::new(Notify::new()))
        .collect();
    let (finish_tx, finish_rx) = watch::channel(false);
    let (ready_tx, mut ready_rx) = mpsc::channel(subscribers as usize);
    let progress = Arc::new(AtomicU64::new(0));
    let mut subs = Vec::new();
    for j in 0..subscribers {
        subs.push(tokio::spawn(soak_clients::subscriber(
            shared.clone(),
            j,
            publishers as usize,
            kills[(publishers + j) as usize].clone(),
            finish_rx.clone(),
            ready_tx.clone(),
            progress.clone(),
        )));
    }
    drop(ready_tx);
    for _ in 0..subscribers {
        if ready_rx.recv().await.is_none() {
            // A subscriber failed: its error is the one to report.
            for s in subs {
                s.await??;
            }
            return Err("a subscriber ended before subscribing".into());
        }
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut pubs = Vec::new();
    for i in 0..publishers {
        let qos = if i % 2 == 0 {
            QoS::AtLeastOnce
        } else {
            QoS::ExactlyOnce
        };
        pubs.push(tokio::spawn(soak_clients::publisher(
            shared.clone(),
            i,
            qos,
            rate,
            inflight,
            kills[i as usize].clone(),
            stop_rx.clone(),
        )));
    }

    // Kill at random for the duration.
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let mut kills_sent = 0u64;
    let victims = match kill_whom.as_str() {
        "all" => 0..publishers + subscribers,
        "publishers" => 0..publishers,
        "subscribers" => publishers..publishers + subscribers,
        other => {
            return Err(format!("--kill {other:?}: use all, publishers or subscribers").into())
        }
    };
    while started.elapsed() < duration {
        tokio::time::sleep(kill_every).await;
        let victim = victims.start + rng.below(u64::from(victims.end - victims.start)) as u32;
        kills[victim as usize].notify_one();
        kills_sent += 1;
    }
    let _ = stop_tx.send(true);
    let mut published: Vec<Published> = Vec::new();
    for p in pubs {
        published.push(p.await??);
    }
    // Drain: until every subscriber has every confirmed message, or no
    // progress for 5 s.
    let confirmed: u64 = published.iter().map(|p| p.confirmed.distinct).sum();
    let expected = confirmed * u64::from(subscribers);
    let (mut last, mut last_change) = (0, Instant::now());
    while progress.load(Ordering::Relaxed) < expected
        && last_change.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = progress.load(Ordering::Relaxed);
        if now != last {
            (last, last_change) = (now, Instant::now());
        }
    }
    let _ = finish_tx.send(true);
    let mut received: Vec<Received> = Vec::new();
    for s in subs {
        received.push(s.await??);
    }
    let elapsed = started.elapsed();

    // The clients leave: end their sessions on the broker too.
    let ids = (0..publishers)
        .map(|i| format!("p{i}"))
        .chain((0..subscribers).map(|j| format!("s{j}")));
    for name in ids {
        soak_clients::forget(&shared, &soak_clients::client_id(&shared, &name)).await?;
    }
    let peak_during = peak.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    sampler.abort();
    let after = memory();

    let tally = Tally::of(&published, &received);
    let lives: Vec<&Life> = published
        .iter()
        .map(|p| &p.life)
        .chain(received.iter().map(|r| &r.life))
        .collect();
    let sum = |f: fn(&Life) -> u64| lives.iter().map(|l| f(l)).sum::<u64>();
    let ok = tally.qos1_lost == 0 && tally.qos2_lost == 0 && tally.qos2_dup == 0;
    let mem =
        |m: Option<Memory>, f: fn(Memory) -> u64| m.map_or("null".into(), |m| f(m).to_string());
    let peak_text = if broker_pid > 0 {
        peak_during.to_string()
    } else {
        "null".into()
    };
    let version_text = match version {
        ProtocolVersion::V3_1_1 => "3.1.1",
        ProtocolVersion::V5_0 => "5",
    };
    if json {
        println!(
            "{{\"version\":\"{version_text}\",\"seed\":{seed},\"seconds\":{:.1},\"kills\":{},\
             \"reconnects\":{},\"unexpected_closes\":{},\"sessions_lost\":{},\
             \"qos1_confirmed\":{},\"qos2_confirmed\":{},\"qos1_lost\":{},\"qos1_dup\":{},\
             \"qos2_lost\":{},\"qos2_dup\":{},\"qos2_dup_resent\":{},\"qos2_dup_new_id\":{},\"unconfirmed\":{},\
             \"rss_before_kib\":{},\"rss_peak_kib\":{peak_text},\"hwm_kib\":{},\"rss_after_kib\":{},\"ok\":{ok}}}",
            elapsed.as_secs_f64(),
            sum(|l| l.kills),
            sum(|l| l.connects),
            sum(|l| l.unexpected_closes),
            sum(|l| l.sessions_lost),
            tally.qos1_confirmed,
            tally.qos2_confirmed,
            tally.qos1_lost,
            tally.qos1_dup,
            tally.qos2_lost,
            tally.qos2_dup,
            tally.qos2_dup_resent,
            tally.qos2_dup_new_id,
            tally.unconfirmed,
            mem(before, |m| m.rss),
            mem(after, |m| m.hwm),
            mem(after, |m| m.rss),
        );
    } else {
        println!(
            "soak MQTT {version_text}, seed {seed}: {publishers} publishers, {subscribers} subscribers, \
             {:.1} s\n  kills requested {kills_sent}, obeyed {}; connections {}; unexpected closes {}; \
             sessions lost {}\n  QoS 1: {} confirmed, lost {} (must be 0), duplicated {} (allowed)\n  \
             QoS 2: {} confirmed, lost {} (must be 0), duplicated {} (must be 0: {} re-sent with DUP and \
             the same packet id, {} under a new packet id)\n  accepted but never confirmed: {}\n  broker memory (KiB): RSS before {}, peak {peak_text}, \
             after {}; VmHWM {}\n  {}",
            elapsed.as_secs_f64(),
            sum(|l| l.kills),
            sum(|l| l.connects),
            sum(|l| l.unexpected_closes),
            sum(|l| l.sessions_lost),
            tally.qos1_confirmed,
            tally.qos1_lost,
            tally.qos1_dup,
            tally.qos2_confirmed,
            tally.qos2_lost,
            tally.qos2_dup,
            tally.qos2_dup_resent,
            tally.qos2_dup_new_id,
            tally.unconfirmed,
            mem(before, |m| m.rss),
            mem(after, |m| m.rss),
            mem(after, |m| m.hwm),
            if ok { "OK" } else { "FAILED" },
        );
    }
    Ok(ok)
}

/// The counts the soak reports, per QoS, summed over subscribers.
#[derive(Debug, Default)]
struct Tally {
    qos1_confirmed: u64,
    qos2_confirmed: u64,
    qos1_lost: u64,
    qos1_dup: u64,
    qos2_lost: u64,
    qos2_dup: u64,
    qos2_dup_resent: u64,
    qos2_dup_new_id: u64,
    unconfirmed: u64,
}

impl Tally {
    /// Compares what each publisher confirmed with what each subscriber saw.
    fn of(published: &[Published], received: &[Received]) -> Tally {
        let mut t = Tally::default();
        for r in received {
            t.qos2_dup_resent += r.qos2_dup_resent;
            t.qos2_dup_new_id += r.qos2_dup_new_id;
        }
        for (i, p) in published.iter().enumerate() {
            let qos2 = p.qos == QoS::ExactlyOnce;
            *(if qos2 {
                &mut t.qos2_confirmed
            } else {
                &mut t.qos1_confirmed
            }) += p.confirmed.distinct;
            t.unconfirmed += p.unconfirmed;
            for r in received {
                let Some(seen) = r.seen.get(i) else { continue };
                let lost = p.confirmed.iter().filter(|s| !seen.contains(*s)).count() as u64;
                if qos2 {
                    t.qos2_lost += lost;
                    t.qos2_dup += seen.duplicates;
                } else {
                    t.qos1_lost += lost;
                    t.qos1_dup += seen.duplicates;
                }
            }
        }
        t
    }
}
