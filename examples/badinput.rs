//! Attacks a running MQTT broker with bad input while a good publisher and a
//! good subscriber check that it still serves, and reports the broker's
//! memory: the measured run of issue 6 ("Broker under bad input").
//!
//! ```text
//! ulimit -n 20000
//! cargo run --release --example badinput -- --port N --pid PID [OPTIONS]
//! ```
//!
//! Options: `--host H` (default 127.0.0.1), `--label NAME` (the broker's name
//! in the table), `--scale F` (multiplies every attack's connection count,
//! default 1), `--only NAME,NAME` (attacks to run; default all), `--hold SECS`
//! (how long an attacker waits to be closed, default 15), `--settle SECS`
//! (pause after an attack before "RSS after", default 2).
//!
//! The attacks, each on raw TCP connections, alternating MQTT v3.1.1 and v5.0:
//! - `garbage`: random bytes instead of a CONNECT, a CONNECT fixed header
//!   with a random body, and random bytes after a valid CONNECT: closed
//!   [MQTT-3.1.0-1], [MQTT-4.8.0-1], [MQTT-4.13.1-1];
//! - `huge`: a PUBLISH whose Remaining Length claims 268,435,455 bytes
//!   (256 MiB), then as much of the body as the broker takes (up to 1 MiB):
//!   v5 DISCONNECT 0x95 where the broker has a maximum [MQTT-3.2.2-15];
//! - `slowloris`: half a CONNECT, then nothing (closed after the broker's
//!   connect timeout); `slowpub`: a CONNECT with Keep Alive 2, then half a
//!   PUBLISH (closed after 1.5 × Keep Alive [MQTT-3.1.2-22]);
//! - `flood`: CONNECT, CONNACK, drop, as fast as the broker answers;
//! - `utf8`: PUBLISH topics with ill-formed UTF-8 or U+0000 [MQTT-1.5.4-1],
//!   [MQTT-1.5.4-2], [MQTT-1.5.3-1], [MQTT-1.5.3-2];
//! - `protocol`: v5 Topic Alias above the broker's maximum (0x94)
//!   [MQTT-3.3.2-9], a second CONNECT (0x82) [MQTT-3.1.0-2].
//!
//! Meanwhile a v5.0 publisher sends a QoS 1 message every 5 ms to a v5.0
//! subscriber; a row of the table counts those sent during the attack (at
//! least 3 s) and those delivered (waiting up to 10 s after it). The broker's VmRSS is
//! sampled every 20 ms from `/proc/PID/status`; its VmHWM is reset per attack
//! through `/proc/PID/clear_refs` where permitted. "RSS after" is read
//! after `--settle` seconds of the good pair's traffic alone.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mqtt_examples::{message, raw, Error};
use mqtt_tokio::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};

/// Connection attempts in progress at once (the hold after them is not
/// limited).
const CONNECT_CONCURRENCY: usize = 256;
/// How long the good pair may take to deliver what was sent in an attack.
const DRAIN: Duration = Duration::from_secs(10);
/// The shortest time the good pair publishes per attack.
const MIN_PHASE: Duration = Duration::from_secs(3);
/// The good publisher's interval between QoS 1 messages.
const GOOD_INTERVAL: Duration = Duration::from_millis(5);
/// The topic of the good pair.
const GOOD_TOPIC: &str = "badinput/good";
/// Largest Remaining Length (§1.5.5): 268,435,455 bytes.
const MAX_REMAINING_LENGTH: u32 = 268_435_455;
/// Body bytes a `huge` attacker writes after its header, at most.
const HUGE_BODY: usize = 1 << 20;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let opts = Options::parse(std::env::args().skip(1))?;
    let addr: SocketAddr = format!("{}:{}", opts.host, opts.port).parse()?;
    let rss = Rss::start(opts.pid);
    let good = Good::start(addr).await?;
    println!(
        "badinput against {} (pid {}) at {addr}, scale {}, hold {} s",
        opts.label,
        opts.pid,
        opts.scale,
        opts.hold.as_secs()
    );

    let mut rows = Vec::new();
    for attack in ATTACKS {
        if !opts.selected(attack.name) {
            continue;
        }
        let count = ((attack.count as f64) * opts.scale).ceil() as usize;
        eprintln!("-- {} × {count}: {}", attack.name, attack.what);
        let before = rss.current();
        rss.reset_peak();
        let phase = good.begin();
        let started = Instant::now();
        let tally = (attack.run)(addr, count, opts.hold).await;
        let took = started.elapsed();
        // Publish for a while even when the attack was quick.
        sleep(MIN_PHASE.saturating_sub(took)).await;
        let delivery = good.end(phase).await;
        let peak = rss.peak();
        // Ordinary traffic goes on (uncounted) while the broker settles: an
        // allocator may return freed memory only on a later free.
        good.begin();
        sleep(opts.settle).await;
        good.pause();
        let row = Row {
            name: attack.name,
            count,
            tally,
            took,
            delivery,
            before,
            peak,
            after: rss.current(),
            alive: rss.alive(),
        };
        eprintln!("{}", row.markdown(opts.hold));
        let alive = row.alive;
        rows.push(row);
        if !alive {
            eprintln!("the broker process is gone; stopping");
            break;
        }
    }

    println!("\n### {} (pid {})\n", opts.label, opts.pid);
    println!("{}", Row::HEADER);
    for row in &rows {
        println!("{}", row.markdown(opts.hold));
    }
    println!("\n{}", Row::LEGEND);
    Ok(())
}

/// The command-line options.
struct Options {
    host: String,
    port: u16,
    pid: u32,
    label: String,
    scale: f64,
    only: Option<Vec<String>>,
    hold: Duration,
    settle: Duration,
}

impl Options {
    /// Parses the flags; errs with a message naming the bad one.
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let mut opts = Options {
            host: "127.0.0.1".into(),
            port: 0,
            pid: 0,
            label: "broker".into(),
            scale: 1.0,
            only: None,
            hold: Duration::from_secs(15),
            settle: Duration::from_secs(2),
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or(format!("{flag} needs a value"));
            let bad = |e: &dyn std::fmt::Display| format!("bad value for {flag}: {e}");
            match flag.as_str() {
                "--host" => opts.host = value()?,
                "--port" => opts.port = value()?.parse().map_err(|e| bad(&e))?,
                "--pid" => opts.pid = value()?.parse().map_err(|e| bad(&e))?,
                "--label" => opts.label = value()?,
                "--scale" => opts.scale = value()?.parse().map_err(|e| bad(&e))?,
                "--only" => opts.only = Some(value()?.split(',').map(String::from).collect()),
                "--hold" => opts.hold = Duration::from_secs(value()?.parse().map_err(|e| bad(&e))?),
                "--settle" => {
                    opts.settle = Duration::from_secs(value()?.parse().map_err(|e| bad(&e))?)
                }
                "--help" | "-h" => {
                    println!("usage: badinput --port N --pid PID [--host H] [--label NAME] [--scale F] [--only a,b] [--hold SECS] [--settle SECS]");
                    println!("attacks: {}", ATTACKS.map(|a| a.name).join(", "));
                    std::process::exit(0);
                }
                other => return Err(format!("unknown flag {other:?} (try --help)")),
            }
        }
        if opts.port == 0 || opts.pid == 0 {
            return Err("--port and --pid are required (try --help)".into());
        }
        Ok(opts)
    }

    fn selected(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| o == name))
    }
}

/// One attack: a name for `--only` and the table, its default connection
/// count, and the function that runs it with `(addr, count, hold)`.
struct Attack {
    name: &'static str,
    what: &'static str,
    count: usize,
    run: fn(SocketAddr, usize, Duration) -> BoxFuture<Tally>,
}

/// A `Send` future on the heap, what an attack returns.
type BoxFuture<T> = std::pin::Pin<Box<dyn Future<Output = T> + Send>>;

const ATTACKS: [Attack; 8] = [
    Attack {
        name: "baseline",
        what: "no attack: the good pair alone",
        count: 0,
        run: |_, _, _| Box::pin(async { Tally::default() }),
    },
    Attack {
        name: "garbage",
        what: "random bytes / CONNECT header + random body / random bytes after CONNECT",
        count: 1_000,
        run: |a, n, h| {
            Box::pin(many(n, n.min(CONNECT_CONCURRENCY), move |i| {
                garbage(a, i, h)
            }))
        },
    },
    Attack {
        name: "huge",
        what: "PUBLISH with Remaining Length 268,435,455, then up to 1 MiB of body",
        count: 100,
        run: |a, n, h| Box::pin(many(n, n, move |i| huge(a, i, h))),
    },
    Attack {
        name: "slowloris",
        what: "half a CONNECT, then silence",
        count: 5_000,
        run: |a, n, h| Box::pin(many(n, n, move |i| slowloris(a, i, h))),
    },
    Attack {
        name: "slowpub",
        what: "CONNECT (Keep Alive 2), then half a PUBLISH, then silence",
        count: 1_000,
        run: |a, n, h| Box::pin(many(n, n, move |i| slowpub(a, i, h))),
    },
    Attack {
        name: "flood",
        what: "CONNECT, wait for CONNACK, drop; as fast as possible",
        count: 20_000,
        run: |a, n, h| Box::pin(many(n, CONNECT_CONCURRENCY, move |i| flood(a, i, h))),
    },
    Attack {
        name: "utf8",
        what: "PUBLISH topic with ill-formed UTF-8 (C3 28, ED A0 80) or U+0000",
        count: 1_000,
        run: |a, n, h| Box::pin(many(n, n.min(CONNECT_CONCURRENCY), move |i| utf8(a, i, h))),
    },
    Attack {
        name: "protocol",
        what: "v5 Topic Alias 65535 (above the maximum) / a second CONNECT",
        count: 1_000,
        run: |a, n, h| {
            Box::pin(many(n, n.min(CONNECT_CONCURRENCY), move |i| {
                protocol(a, i, h)
            }))
        },
    },
];

// ---------------------------------------------------------------- attacks

/// What one attacking connection saw.
#[derive(Debug, Default)]
struct Outcome {
    /// The TCP connect (or the CONNACK it needed first) failed.
    refused: bool,
    /// Time from the bad bytes to the broker closing the connection; `None`
    /// when it was still open after the hold.
    closed_after: Option<Duration>,
    /// The broker's first packet after the bad bytes: `"CONNACK 0x84"`,
    /// `"DISCONNECT 0x81"`, ... (none if it just closed).
    reply: Option<String>,
}

/// Random bytes, a CONNECT header with a random body, or a valid CONNECT
/// then random bytes (Keep Alive 5, so a broker waiting for a body that
/// never comes still closes).
async fn garbage(addr: SocketAddr, i: usize, hold: Duration) -> Outcome {
    let mut rng = Rng::new(i as u64);
    let len = 16 + rng.below(2048);
    let noise = rng.bytes(len);
    match i % 3 {
        0 => attack_fresh(addr, hold, &noise).await,
        1 => attack_fresh(addr, hold, &raw::frame(0x10, &noise)).await,
        _ => attack_connected(addr, version_of(i), i, 5, hold, &[&noise]).await,
    }
}

/// A CONNECT, then a PUBLISH header claiming 256 MiB, then body bytes until
/// the broker stops taking them or [`HUGE_BODY`] were written.
async fn huge(addr: SocketAddr, i: usize, hold: Duration) -> Outcome {
    let Ok(stream) = open(addr, version_of(i), &format!("huge-{i}"), 60).await else {
        return Outcome {
            refused: true,
            ..Outcome::default()
        };
    };
    let mut header = vec![0x30];
    raw::varint(MAX_REMAINING_LENGTH, &mut header);
    header.extend_from_slice(&[0, 1, b'a']);
    let (mut rd, mut wr) = stream.into_split();
    let sent = Instant::now();
    // The writer hands its half back so that it is not dropped (which would
    // send a FIN) before the broker closes.
    let writer = tokio::spawn(async move {
        if wr.write_all(&header).await.is_err() {
            return wr;
        }
        let chunk = vec![0x55; 16 * 1024];
        let mut written = 0;
        while written < HUGE_BODY {
            if wr.write_all(&chunk).await.is_err() {
                break;
            }
            written += chunk.len();
        }
        wr
    });
    let (closed, reply) = wait_closed(&mut rd, hold).await;
    writer.abort();
    Outcome {
        refused: false,
        closed_after: closed.then(|| sent.elapsed()),
        reply,
    }
}

/// The first half of a valid CONNECT, then silence.
async fn slowloris(addr: SocketAddr, i: usize, hold: Duration) -> Outcome {
    let connect = raw::connect_packet(version_of(i) == Version::V5, &format!("slowloris-{i}"), 60);
    attack_fresh(addr, hold, &connect[..connect.len() / 2]).await
}

/// A valid CONNECT with Keep Alive 2, then the first half of a PUBLISH.
async fn slowpub(addr: SocketAddr, i: usize, hold: Duration) -> Outcome {
    let v = version_of(i);
    let publish = raw::publish_packet(v == Version::V5, b"slow/topic", &[], &[0x42; 64]);
    let half = &publish[..publish.len() / 2];
    attack_connected(addr, v, i, 2, hold, &[half]).await
}

/// CONNECT, CONNACK, drop (no DISCONNECT).
async fn flood(addr: SocketAddr, i: usize, _hold: Duration) -> Outcome {
    let sent = Instant::now();
    match open(addr, version_of(i), &format!("flood-{i}"), 60).await {
        Ok(_) => Outcome {
            refused: false,
            closed_after: Some(sent.elapsed()),
            reply: Some("CONNACK 0x00".into()),
        },
        Err(e) => Outcome {
            refused: true,
            closed_after: None,
            reply: Some(format!("error: {}", e.kind())),
        },
    }
}

/// A PUBLISH whose topic is ill-formed UTF-8 (an unpaired byte, an encoded
/// surrogate) or holds U+0000.
async fn utf8(addr: SocketAddr, i: usize, hold: Duration) -> Outcome {
    let topic: &[u8] = match (i / 2) % 3 {
        0 => b"bad/\xC3\x28",
        1 => b"bad/\xED\xA0\x80",
        _ => b"bad/\x00/nul",
    };
    let v = version_of(i);
    let publish = raw::publish_packet(v == Version::V5, topic, &[], b"x");
    attack_connected(addr, v, i, 60, hold, &[&publish]).await
}

/// v5.0: a PUBLISH with Topic Alias 65535, or a second CONNECT.
async fn protocol(addr: SocketAddr, i: usize, hold: Duration) -> Outcome {
    let v = Version::V5;
    let bad = if i % 2 == 0 {
        raw::publish_packet(v == Version::V5, b"alias/topic", &[0x23, 0xFF, 0xFF], b"x")
    } else {
        raw::connect_packet(v == Version::V5, &format!("second-{i}"), 60)
    };
    attack_connected(addr, v, i, 60, hold, &[&bad]).await
}

/// Connects, writes `bad` as the first bytes, and waits for the close.
async fn attack_fresh(addr: SocketAddr, hold: Duration, bad: &[u8]) -> Outcome {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return Outcome {
            refused: true,
            ..Outcome::default()
        };
    };
    send_and_wait(&mut stream, &[bad], hold).await
}

/// Connects with a CONNECT that the broker accepts, then writes `bad`
/// and waits for the close.
async fn attack_connected(
    addr: SocketAddr,
    v: Version,
    i: usize,
    keep_alive: u16,
    hold: Duration,
    bad: &[&[u8]],
) -> Outcome {
    let Ok(mut stream) = open(addr, v, &format!("bad-{i}"), keep_alive).await else {
        return Outcome {
            refused: true,
            ..Outcome::default()
        };
    };
    send_and_wait(&mut stream, bad, hold).await
}

/// Writes the `bad` parts, then waits (at most `hold`) for the broker to
/// close the connection.
async fn send_and_wait(stream: &mut TcpStream, bad: &[&[u8]], hold: Duration) -> Outcome {
    let sent = Instant::now();
    for part in bad {
        if stream.write_all(part).await.is_err() {
            return closed_now(sent);
        }
    }
    let (closed, reply) = wait_closed(stream, hold).await;
    Outcome {
        refused: false,
        closed_after: closed.then(|| sent.elapsed()),
        reply,
    }
}

fn closed_now(sent: Instant) -> Outcome {
    Outcome {
        refused: false,
        closed_after: Some(sent.elapsed()),
        reply: None,
    }
}

/// Reads until the broker closes (end of stream or a reset) or `hold`
/// passes; returns whether it closed and its first packet, named.
async fn wait_closed<R: AsyncReadExt + Unpin>(
    rd: &mut R,
    hold: Duration,
) -> (bool, Option<String>) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    let result = timeout(hold, async {
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if seen.len() < 512 {
                        seen.extend_from_slice(&buf[..n]);
                    }
                }
            }
        }
    })
    .await;
    (result.is_ok(), name_packet(&seen))
}

/// Runs `n` attackers, at most `concurrency` at once, and tallies them.
async fn many<F, Fut>(n: usize, concurrency: usize, attacker: F) -> Tally
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut set = JoinSet::new();
    let mut tally = Tally::default();
    for i in 0..n {
        let Ok(permit) = gate.clone().acquire_owned().await else {
            break;
        };
        let fut = attacker(i);
        set.spawn(async move {
            let out = fut.await;
            drop(permit);
            out
        });
        // Reap finished attackers so that the set does not grow with n.
        while let Some(r) = set.try_join_next() {
            if let Ok(out) = r {
                tally.add(out);
            }
        }
    }
    while let Some(r) = set.join_next().await {
        if let Ok(out) = r {
            tally.add(out);
        }
    }
    tally
}

/// The outcomes of one attack, summed.
#[derive(Debug, Default)]
struct Tally {
    connections: usize,
    refused: usize,
    closed: usize,
    open: usize,
    max_close: Duration,
    replies: BTreeMap<String, usize>,
}

impl Tally {
    fn add(&mut self, out: Outcome) {
        self.connections += 1;
        if out.refused {
            self.refused += 1;
        } else if let Some(t) = out.closed_after {
            self.closed += 1;
            self.max_close = self.max_close.max(t);
        } else {
            self.open += 1;
        }
        if let Some(r) = out.reply {
            *self.replies.entry(r).or_default() += 1;
        }
    }
}

// ---------------------------------------------------------------- raw MQTT

/// The MQTT version of a raw connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V311,
    V5,
}

/// Even attackers speak v3.1.1, odd ones v5.0.
fn version_of(i: usize) -> Version {
    if i % 2 == 0 {
        Version::V311
    } else {
        Version::V5
    }
}

/// Connects, sends a CONNECT, and reads a CONNACK that accepts it. Errs
/// when the connection fails or the broker refuses.
async fn open(
    addr: SocketAddr,
    v: Version,
    client_id: &str,
    keep_alive: u16,
) -> std::io::Result<TcpStream> {
    let deadline = Duration::from_secs(30);
    let mut stream = timeout(deadline, TcpStream::connect(addr)).await??;
    stream.set_nodelay(true)?;
    stream
        .write_all(&raw::connect_packet(
            v == Version::V5,
            client_id,
            keep_alive,
        ))
        .await?;
    let (first, body) = timeout(deadline, read_packet(&mut stream)).await??;
    if first >> 4 != 2 || body.get(1) != Some(&0) {
        return Err(std::io::Error::other(format!(
            "refused: {:?}",
            name_packet(&raw::frame(first, &body))
        )));
    }
    Ok(stream)
}

/// Reads one packet of at most 64 KiB: its first byte and its body.
async fn read_packet(stream: &mut TcpStream) -> std::io::Result<(u8, Vec<u8>)> {
    let first = stream.read_u8().await?;
    let mut len: u32 = 0;
    for shift in 0..4 {
        let b = stream.read_u8().await?;
        len |= u32::from(b & 0x7F) << (7 * shift);
        if b & 0x80 == 0 {
            break;
        }
    }
    if len > 65_536 {
        return Err(std::io::Error::other("packet over 64 KiB"));
    }
    let mut body = vec![0; len as usize];
    stream.read_exact(&mut body).await?;
    Ok((first, body))
}

/// Names the first packet in `bytes`: "CONNACK 0x84", "DISCONNECT 0x95",
/// "PUBLISH", ...; `None` for no bytes.
fn name_packet(bytes: &[u8]) -> Option<String> {
    let first = *bytes.first()?;
    let mut at = 1;
    let mut len = 0usize;
    for shift in 0..4 {
        let b = *bytes.get(at)?;
        at += 1;
        len |= usize::from(b & 0x7F) << (7 * shift);
        if b & 0x80 == 0 {
            break;
        }
    }
    let body = bytes.get(at..).unwrap_or_default();
    Some(match first >> 4 {
        2 => match body.get(1) {
            Some(code) => format!("CONNACK {code:#04x}"),
            None => "CONNACK".into(),
        },
        14 => match (len, body.first()) {
            (0, _) => "DISCONNECT 0x00".into(),
            (_, Some(code)) => format!("DISCONNECT {code:#04x}"),
            _ => "DISCONNECT".into(),
        },
        t => format!("packet type {t}"),
    })
}

/// A small deterministic xorshift generator for the garbage.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

// ---------------------------------------------------------------- good pair

/// An error the good clients meet, sendable between tasks.
type GoodError = Box<dyn std::error::Error + Send + Sync>;

/// The good publisher and subscriber and what they counted, per attack.
struct Good {
    state: Arc<Mutex<GoodState>>,
    publishing: Arc<AtomicBool>,
}

#[derive(Default)]
struct GoodState {
    phase: usize,
    sent: Vec<HashSet<u64>>,
    received: Vec<HashSet<u64>>,
    latency_us: Vec<Vec<u64>>,
    reconnects: Vec<usize>,
}

impl GoodState {
    fn phase_mut(&mut self, phase: usize) {
        while self.sent.len() <= phase {
            self.sent.push(HashSet::new());
            self.received.push(HashSet::new());
            self.latency_us.push(Vec::new());
            self.reconnects.push(0);
        }
    }
}

/// What the good pair saw during one attack.
#[derive(Debug, Default)]
struct Delivery {
    sent: usize,
    delivered: usize,
    p99: Duration,
    max: Duration,
    reconnects: usize,
}

impl Good {
    /// Connects the subscriber (waits for its SUBACK) and starts the
    /// publisher, both reconnecting when the broker closes them.
    async fn start(addr: SocketAddr) -> Result<Good, Error> {
        let state = Arc::new(Mutex::new(GoodState::default()));
        let publishing = Arc::new(AtomicBool::new(false));
        let epoch = Instant::now();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(subscriber(addr, state.clone(), epoch, ready_tx));
        timeout(Duration::from_secs(10), ready_rx)
            .await
            .map_err(|_| "the good subscriber did not subscribe within 10 s")?
            .map_err(|_| "the good subscriber ended")??;
        tokio::spawn(publisher(addr, state.clone(), publishing.clone(), epoch));
        Ok(Good { state, publishing })
    }

    /// Starts counting a new attack; returns its number.
    fn begin(&self) -> usize {
        let phase = {
            let mut s = lock(&self.state);
            s.phase = s.sent.len();
            let p = s.phase;
            s.phase_mut(p);
            p
        };
        self.publishing.store(true, Ordering::SeqCst);
        phase
    }

    /// Stops publishing (until the next [`begin`](Self::begin)).
    fn pause(&self) {
        self.publishing.store(false, Ordering::SeqCst);
    }

    /// Stops publishing, waits up to [`DRAIN`] for every message of
    /// `phase` to arrive, and returns the counts.
    async fn end(&self, phase: usize) -> Delivery {
        self.publishing.store(false, Ordering::SeqCst);
        // A publish in progress may still count itself sent.
        sleep(Duration::from_millis(50)).await;
        let deadline = Instant::now() + DRAIN;
        loop {
            {
                let s = lock(&self.state);
                let done = s.sent[phase].iter().all(|q| s.received[phase].contains(q));
                if done || Instant::now() >= deadline {
                    let mut lat = s.latency_us[phase].clone();
                    lat.sort_unstable();
                    let pick = |q: f64| {
                        lat.get(((lat.len() as f64 - 1.0) * q).round() as usize)
                            .map_or(Duration::ZERO, |&us| Duration::from_micros(us))
                    };
                    return Delivery {
                        sent: s.sent[phase].len(),
                        delivered: s.sent[phase]
                            .iter()
                            .filter(|q| s.received[phase].contains(q))
                            .count(),
                        p99: pick(0.99),
                        max: pick(1.0),
                        reconnects: s.reconnects[phase],
                    };
                }
            }
            sleep(Duration::from_millis(50)).await;
        }
    }
}

fn lock(state: &Mutex<GoodState>) -> std::sync::MutexGuard<'_, GoodState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn good_connect(client_id: &str) -> Result<v5_0::Connect, GoodError> {
    Ok(v5_0::Connect::builder()
        .try_client_id(client_id)?
        .keep_alive(30)
        .build()?)
}

/// Subscribes to [`GOOD_TOPIC`] at QoS 1 and records every message by its
/// phase and sequence number; reconnects when closed.
async fn subscriber(
    addr: SocketAddr,
    state: Arc<Mutex<GoodState>>,
    epoch: Instant,
    ready: tokio::sync::oneshot::Sender<Result<(), String>>,
) {
    let mut ready = Some(ready);
    let id = format!("badinput-sub-{}", std::process::id());
    loop {
        let session = async {
            let (client, incoming) = timeout(
                Duration::from_secs(10),
                ClientEndpoint::connect(addr, good_connect(&id)?, ConnectionOptions::default()),
            )
            .await??;
            let pid = client.acquire_packet_id().await?;
            let subscribe = v5_0::Subscribe::builder()
                .packet_id(pid)
                .try_subscription(GOOD_TOPIC, QoS::AtLeastOnce)?
                .build()?;
            client.send(subscribe).await?;
            Ok::<_, GoodError>((client, incoming))
        };
        let (client, mut incoming) = match session.await {
            Ok(pair) => pair,
            Err(e) => {
                if let Some(r) = ready.take() {
                    let _ = r.send(Err(e.to_string()));
                    return;
                }
                note_reconnect(&state);
                sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        while let Some(packet) = incoming.recv().await {
            match packet {
                GenericPacket::V5_0(v5_0::Packet::Suback(_)) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(Ok(()));
                    }
                }
                GenericPacket::V5_0(v5_0::Packet::Publish(p)) => {
                    record(&state, p.payload(), epoch);
                }
                _ => {}
            }
        }
        drop(client);
        note_reconnect(&state);
        sleep(Duration::from_millis(200)).await;
    }
}

/// Parses "phase seq micros" and records it as received.
fn record(state: &Mutex<GoodState>, payload: &[u8], epoch: Instant) {
    let text = String::from_utf8_lossy(payload);
    let mut fields = text.split(' ').map(str::parse::<u64>);
    let (Some(Ok(phase)), Some(Ok(seq)), Some(Ok(at))) =
        (fields.next(), fields.next(), fields.next())
    else {
        return;
    };
    let now = epoch.elapsed().as_micros() as u64;
    let mut s = lock(state);
    let phase = phase as usize;
    s.phase_mut(phase);
    if s.received[phase].insert(seq) {
        s.latency_us[phase].push(now.saturating_sub(at));
    }
}

fn note_reconnect(state: &Mutex<GoodState>) {
    let mut s = lock(state);
    let p = s.phase;
    s.phase_mut(p);
    s.reconnects[p] += 1;
}

/// Publishes a QoS 1 message every [`GOOD_INTERVAL`] while `publishing`;
/// reconnects when closed.
async fn publisher(
    addr: SocketAddr,
    state: Arc<Mutex<GoodState>>,
    publishing: Arc<AtomicBool>,
    epoch: Instant,
) {
    let id = format!("badinput-pub-{}", std::process::id());
    let seq = AtomicU64::new(0);
    loop {
        let connected = async {
            Ok::<_, GoodError>(
                timeout(
                    Duration::from_secs(10),
                    ClientEndpoint::connect(addr, good_connect(&id)?, ConnectionOptions::default()),
                )
                .await??,
            )
        };
        let (client, mut incoming) = match connected.await {
            Ok(pair) => pair,
            Err(_) => {
                note_reconnect(&state);
                sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        // PUBACKs are handled by the core; drain what reaches the application.
        let drain = tokio::spawn(async move { while incoming.recv().await.is_some() {} });
        loop {
            sleep(GOOD_INTERVAL).await;
            if drain.is_finished() {
                break;
            }
            if !publishing.load(Ordering::SeqCst) {
                continue;
            }
            let phase = lock(&state).phase;
            let n = seq.fetch_add(1, Ordering::Relaxed);
            let at = epoch.elapsed().as_micros();
            let payload = format!("{phase} {n} {at}");
            let Ok(message) = message(GOOD_TOPIC, QoS::AtLeastOnce, payload) else {
                break;
            };
            match timeout(Duration::from_secs(5), client.publish(message)).await {
                Ok(Ok(_)) => {
                    let mut s = lock(&state);
                    s.phase_mut(phase);
                    s.sent[phase].insert(n);
                }
                _ => break,
            }
        }
        drop(client);
        drain.abort();
        note_reconnect(&state);
        sleep(Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------- memory

/// Samples the broker's VmRSS every 20 ms and keeps the peak.
struct Rss {
    pid: u32,
    peak_kib: Arc<AtomicU64>,
}

impl Rss {
    fn start(pid: u32) -> Rss {
        let peak_kib = Arc::new(AtomicU64::new(0));
        let peak = peak_kib.clone();
        tokio::spawn(async move {
            loop {
                if let Some(kib) = status_kib(pid, "VmRSS:") {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                sleep(Duration::from_millis(20)).await;
            }
        });
        Rss { pid, peak_kib }
    }

    /// The current VmRSS in KiB (0 if the process is gone).
    fn current(&self) -> u64 {
        status_kib(self.pid, "VmRSS:").unwrap_or(0)
    }

    /// Starts a new peak: the sampled one, and VmHWM where the kernel lets
    /// us reset it (writing 5 to clear_refs).
    fn reset_peak(&self) {
        self.peak_kib.store(self.current(), Ordering::Relaxed);
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5");
    }

    /// The peak since [`reset_peak`](Self::reset_peak): the larger of the
    /// samples and VmHWM.
    fn peak(&self) -> u64 {
        let hwm = status_kib(self.pid, "VmHWM:").unwrap_or(0);
        self.peak_kib.load(Ordering::Relaxed).max(hwm)
    }

    /// Whether the process still runs (and is not a zombie).
    fn alive(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .map(|s| {
                !s.lines()
                    .any(|l| l.starts_with("State:") && l.contains('Z'))
            })
            .unwrap_or(false)
    }
}

/// A `kB` field of `/proc/PID/status`.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

// ---------------------------------------------------------------- report

/// One line of the table.
struct Row {
    name: &'static str,
    count: usize,
    tally: Tally,
    took: Duration,
    delivery: Delivery,
    before: u64,
    peak: u64,
    after: u64,
    alive: bool,
}

impl Row {
    const HEADER: &'static str = "| attack | connections | closed by broker | still open | refused | broker's replies | took | good delivered / sent | good p99 / max | reconnects | RSS before | peak RSS | RSS after | broker up |\n|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|";
    const LEGEND: &'static str = "closed by broker: the broker closed the connection within the hold (slowest close in brackets); still open: not closed after the hold; refused: the TCP connect or CONNACK failed (for `flood`: connections that did not get a CONNACK 0x00); good p99 / max: latency of the good QoS 1 messages; RSS in MiB.";

    fn markdown(&self, hold: Duration) -> String {
        let t = &self.tally;
        let mut replies = String::new();
        for (name, n) in &t.replies {
            if !replies.is_empty() {
                replies.push_str(", ");
            }
            let _ = write!(replies, "{name} ×{n}");
        }
        if replies.is_empty() {
            replies.push('—');
        }
        let mib = |kib: u64| format!("{:.1}", kib as f64 / 1024.0);
        let d = &self.delivery;
        format!(
            "| {} | {} | {} ({:.1} s) | {} (> {} s) | {} | {} | {:.1} s | {} / {} | {} / {} ms | {} | {} | {} | {} | {} |",
            self.name,
            self.count,
            t.closed,
            t.max_close.as_secs_f64(),
            t.open,
            hold.as_secs(),
            t.refused,
            replies,
            self.took.as_secs_f64(),
            d.delivered,
            d.sent,
            d.p99.as_millis(),
            d.max.as_millis(),
            d.reconnects,
            mib(self.before),
            mib(self.peak),
            mib(self.after),
            if self.alive { "yes" } else { "**no**" },
        )
    }
}
