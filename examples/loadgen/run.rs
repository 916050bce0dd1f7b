//! The throughput run: connect subscribers, then publishers and fan-in
//! connections; publish for the duration; count what arrived.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqtt_codec::{ProtocolVersion, QoS, TopicFilter, TopicName};
use mqtt_tokio::{role, ClientEndpoint, ConnectionOptions, Incoming};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, timeout};

use crate::common::{self, Error, Header, SessionFlags};
use crate::stats::{drain_seconds, Histogram, PerSecond, Seen};

/// What to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The broker's `host:port`.
    pub addr: String,
    /// MQTT version of every connection.
    pub version: ProtocolVersion,
    /// Publishers sending at `rate`.
    pub publishers: u32,
    /// Subscribers to `topic/#`.
    pub subscribers: u32,
    /// QoS of publications and subscriptions.
    pub qos: QoS,
    /// Payload size in bytes.
    pub payload: usize,
    /// How long publishers publish.
    pub duration: Duration,
    /// Messages per second per publisher; 0: as fast as possible.
    pub rate: f64,
    /// Publishes each publisher keeps in flight.
    pub inflight: usize,
    /// Topic prefix.
    pub topic: String,
    /// Fan-in connections.
    pub connections: u32,
    /// Messages per second of each fan-in connection.
    pub connection_rate: f64,
    /// The broker's process, for its CPU use.
    pub broker_pid: Option<u32>,
    /// How long to wait for stragglers after the publishers stop.
    pub straggle: Duration,
    /// The subscribers' Session Expiry Interval (v5.0; v3.1.1: Clean
    /// Session 0 above 0): above 0 their sessions persist, so a broker
    /// with a store journals their copies.
    pub subscriber_expiry: u32,
}

/// How long connecting, subscribing and each final wait may take.
const STEP: Duration = Duration::from_secs(10);
/// Connections opened at once.
const CONNECT_CONCURRENCY: usize = 100;

/// What a run measured.
#[derive(Debug, Default)]
pub struct Report {
    /// Messages accepted by the publishers' connections (QoS 0: written).
    pub sent: u64,
    /// PUBACK / PUBCOMP received (QoS 1, 2).
    pub acked: u64,
    /// Distinct messages received, summed over subscribers.
    pub received: u64,
    /// Expected minus distinct received, summed over subscribers.
    pub lost: u64,
    /// Copies received beyond the first.
    pub duplicated: u64,
    /// From the first publish to the last message received, in seconds.
    pub window: f64,
    /// Latency histogram in microseconds, over every message received.
    pub latency: Histogram,
    /// Distinct messages received per second since the publishers' start,
    /// summed over subscribers.
    pub per_second: PerSecond,
    /// From the publishers' stop (the end of `--duration`, or later if a
    /// paced publisher fell behind) to the last message received, in
    /// seconds.
    pub drain: f64,
    /// Publisher errors (connection closed, refused packets).
    pub errors: u64,
    /// CPU seconds this process used during the run.
    pub cpu_self: f64,
    /// CPU seconds the broker used during the run, if known.
    pub cpu_broker: Option<f64>,
}

impl Report {
    /// Messages received per second (all subscribers).
    pub fn rate(&self) -> f64 {
        if self.window > 0.0 {
            self.received as f64 / self.window
        } else {
            0.0
        }
    }

    /// The report as text or one line of JSON.
    pub fn render(&self, label: &str, s: &Settings, json: bool, qos: u8, version: &str) -> String {
        let (p50, p99, max) = (
            self.latency.quantile(0.50),
            self.latency.quantile(0.99),
            self.latency.max(),
        );
        let cpu_pct = |c: f64| 100.0 * c / self.window.max(1e-9);
        let broker_cpu = self
            .cpu_broker
            .map_or("null".to_string(), |c| format!("{:.1}", cpu_pct(c)));
        let summary = self.per_second.summary(s.duration.as_secs_f64());
        let series = self.per_second.bins().iter().map(u64::to_string);
        if json {
            let (min, median, max) =
                summary.map_or(("null".into(), "null".into(), "null".into()), |r| {
                    (
                        r.min.to_string(),
                        format!("{:.1}", r.median),
                        r.max.to_string(),
                    )
                });
            let series = series.collect::<Vec<_>>().join(",");
            format!(
                "{{\"label\":\"{label}\",\"version\":\"{version}\",\"qos\":{qos},\
                 \"publishers\":{},\"subscribers\":{},\"connections\":{},\"payload\":{},\
                 \"duration\":{:.3},\"sent\":{},\"acked\":{},\"received\":{},\"lost\":{},\
                 \"duplicated\":{},\"errors\":{},\"window_s\":{:.3},\"msgs_per_s\":{:.1},\
                 \"per_s\":[{series}],\"per_s_min\":{min},\"per_s_median\":{median},\
                 \"per_s_max\":{max_rate},\"drain_s\":{:.3},\
                 \"p50_us\":{p50},\"p99_us\":{p99},\"max_us\":{max},\
                 \"loadgen_cpu_pct\":{:.1},\"broker_cpu_pct\":{broker_cpu}}}",
                s.publishers,
                s.subscribers,
                s.connections,
                s.payload,
                s.duration.as_secs_f64(),
                self.sent,
                self.acked,
                self.received,
                self.lost,
                self.duplicated,
                self.errors,
                self.window,
                self.rate(),
                self.drain,
                cpu_pct(self.cpu_self),
                min = min,
                median = median,
                max_rate = max,
            )
        } else {
            let spread = summary.map_or("n/a (under 1 s)".to_string(), |r| {
                format!("min {} / median {:.0} / max {}", r.min, r.median, r.max)
            });
            let series = series.collect::<Vec<_>>().join(" ");
            format!(
                "{label} MQTT {version} QoS {qos}: {} publishers + {} connections -> {} \
                 subscribers, {} B\n  sent {} (acked {}), received {} in {:.2} s = {:.0} msg/s\n  \
                 per second while publishing: {spread} msg/s; drained {:.3} s after the \
                 stop\n  per second: {series}\n  \
                 lost {}, duplicated {}, errors {}\n  latency p50 {p50} us, p99 {p99} us, \
                 max {max} us\n  CPU: loadgen {:.0} %, broker {broker_cpu} %",
                s.publishers,
                s.connections,
                s.subscribers,
                s.payload,
                self.sent,
                self.acked,
                self.received,
                self.window,
                self.rate(),
                self.drain,
                self.lost,
                self.duplicated,
                self.errors,
                cpu_pct(self.cpu_self),
            )
        }
    }
}

/// What one subscriber counted.
struct Counted {
    seen: Vec<Seen>,
    latency: Histogram,
    per_second: PerSecond,
    last_ns: u64,
}

/// Runs `s`: errs when a connection or subscription fails at the start.
pub async fn run(s: &Settings) -> Result<Report, Error> {
    let origin = Instant::now();
    let senders = s.publishers + s.connections;
    let pid = std::process::id();

    // Subscribers first, each subscribed before anyone publishes.
    let (stop_tx, stop_rx) = watch::channel(false);
    let progress = Arc::new(AtomicU64::new(0));
    // The publishers' start, in ns since `origin`, set before they start.
    let start_at = Arc::new(AtomicU64::new(0));
    // The subscribers, their connections included, run on a thread of
    // their own: among the publishers' many ready tasks in one runtime, a
    // flood would take their turns, and the tool rather than the broker
    // would set the rate they receive at.
    let receiving = Receiving(Some(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("loadgen-subscribers")
            .enable_all()
            .build()?,
    ));
    let mut subscribers = Vec::new();
    for i in 0..s.subscribers {
        let (s, client_id) = (s.clone(), format!("loadgen-{pid}-s{i}"));
        let (start_at, stop, progress) = (start_at.clone(), stop_rx.clone(), progress.clone());
        let subscriber = receiving.handle().spawn(async move {
            let (client, incoming) = subscribe(&s, &client_id).await?;
            let counting = (origin, start_at);
            let counted = count(client, incoming, counting, senders as usize, stop, progress);
            Ok::<_, Error>(tokio::spawn(counted))
        });
        subscribers.push(subscriber.await??);
    }

    // Publishers and fan-in connections, connected before the start.
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut connecting = Vec::new();
    for i in 0..senders {
        let (gate, addr, version) = (gate.clone(), s.addr.clone(), s.version);
        connecting.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            connect(&addr, version, &format!("loadgen-{pid}-p{i}"), 60).await
        }));
    }
    let mut clients = Vec::new();
    for c in connecting {
        clients.push(c.await??);
    }

    let cpu_before = (
        cpu_seconds(None),
        s.broker_pid.map(|p| cpu_seconds(Some(p))),
    );
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let deadline = start + s.duration;
    let start_ns = (start.into_std() - origin).as_nanos() as u64;
    start_at.store(start_ns, Ordering::Relaxed);
    let mut publishing = Vec::new();
    for (i, (client, incoming)) in clients.into_iter().enumerate() {
        let fan_in = i as u32 >= s.publishers;
        let (rate, inflight, phase) = if fan_in {
            let k = (i as u32 - s.publishers) as f64;
            (s.connection_rate, 1, k / s.connections.max(1) as f64)
        } else {
            (s.rate, s.inflight, i as f64 / s.publishers.max(1) as f64)
        };
        let topic = TopicName::new(format!("{}/{i}", s.topic))?;
        let plan = Plan {
            index: i as u32,
            qos: s.qos,
            payload: s.payload,
            topic,
            rate,
            phase,
            inflight,
            origin,
            start,
            deadline,
        };
        publishing.push(tokio::spawn(publish(plan, client, incoming)));
    }
    let mut sent = vec![0u64; senders as usize];
    let mut report = Report::default();
    // When the last sender published its last message (paced senders that
    // fell behind publish past the deadline).
    let mut stop_ns = start_ns + s.duration.as_nanos() as u64;
    for (i, p) in publishing.into_iter().enumerate() {
        let done = p.await?;
        stop_ns = stop_ns.max(done.stopped_ns);
        sent[i] = done.sent;
        report.sent += done.sent;
        report.acked += done.acked;
        report.errors += done.errors;
    }

    // Stragglers: until every subscriber has every message, or 2 s.
    let expected = report.sent * s.subscribers as u64;
    let straggle = Instant::now() + s.straggle;
    while progress.load(Ordering::Relaxed) < expected && Instant::now() < straggle {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop_tx.send(true);
    let mut last_ns = start_ns;
    for sub in subscribers {
        let counted = sub.await?;
        last_ns = last_ns.max(counted.last_ns);
        report.latency.merge(&counted.latency);
        report.per_second.merge(&counted.per_second);
        for (i, seen) in counted.seen.iter().enumerate() {
            report.received += seen.distinct;
            report.duplicated += seen.duplicates;
            report.lost += sent[i].saturating_sub(seen.distinct);
        }
    }
    drop(receiving);
    report.window = (last_ns.saturating_sub(start_ns)) as f64 / 1e9;
    report.drain = drain_seconds(stop_ns, last_ns);
    report.cpu_self = cpu_seconds(None) - cpu_before.0;
    report.cpu_broker = match (s.broker_pid, cpu_before.1) {
        (Some(p), Some(before)) => Some(cpu_seconds(Some(p)) - before),
        _ => None,
    };
    Ok(report)
}

/// Connects a client with a clean session (Receive Maximum 65,535 on v5.0).
pub async fn connect(
    addr: &str,
    version: ProtocolVersion,
    client_id: &str,
    keep_alive: u16,
) -> Result<(ClientEndpoint, Incoming<role::Client>), Error> {
    let session = SessionFlags {
        clean: true,
        expiry: 0,
    };
    connect_with(addr, version, client_id, keep_alive, session).await
}

/// [`connect`] with the session settings `session`.
async fn connect_with(
    addr: &str,
    version: ProtocolVersion,
    client_id: &str,
    keep_alive: u16,
    session: SessionFlags,
) -> Result<(ClientEndpoint, Incoming<role::Client>), Error> {
    let options = ConnectionOptions::default();
    let connect = common::connect_packet(version, client_id, keep_alive, session)?;
    let connected = timeout(STEP, ClientEndpoint::connect(addr, connect, options)).await;
    Ok(connected.map_err(|_| format!("{client_id}: connect timed out"))??)
}

/// Connects a subscriber and subscribes it to `topic/#` at the QoS.
async fn subscribe(
    s: &Settings,
    client_id: &str,
) -> Result<(ClientEndpoint, Incoming<role::Client>), Error> {
    let session = SessionFlags {
        // v3.1.1 has no expiry: a lasting session is Clean Session 0.
        clean: s.subscriber_expiry == 0 || s.version == ProtocolVersion::V5_0,
        expiry: s.subscriber_expiry,
    };
    let (client, mut incoming) = connect_with(&s.addr, s.version, client_id, 60, session).await?;
    let filter = TopicFilter::new(format!("{}/#", s.topic))?;
    let id = client.acquire_packet_id().await?;
    client
        .send_generic(mqtt_examples::subscribe(s.version, id, &filter, s.qos)?)
        .await?;
    loop {
        let packet = timeout(STEP, incoming.recv())
            .await
            .map_err(|_| "no SUBACK")?;
        let packet =
            packet.ok_or_else(|| format!("closed before SUBACK: {:?}", incoming.close_reason()))?;
        if common::suback_granted(&packet)? {
            return Ok((client, incoming));
        }
    }
}

/// Receives until `stop`, counting sequence numbers, latencies and
/// messages per second since the publishers' start (`clock`: the origin
/// and the start in ns after it).
async fn count(
    client: ClientEndpoint,
    mut incoming: Incoming<role::Client>,
    clock: (Instant, Arc<AtomicU64>),
    senders: usize,
    mut stop: watch::Receiver<bool>,
    progress: Arc<AtomicU64>,
) -> Counted {
    let mut counted = Counted {
        seen: vec![Seen::default(); senders],
        latency: Histogram::default(),
        per_second: PerSecond::default(),
        last_ns: 0,
    };
    let (origin, start_at) = clock;
    loop {
        let packet = tokio::select! {
            biased;
            p = incoming.recv() => match p { Some(p) => p, None => break },
            _ = stop.changed() => break,
        };
        let Some(header) = common::payload_of(&packet).and_then(Header::read) else {
            continue;
        };
        let now = origin.elapsed().as_nanos() as u64;
        let Some(seen) = counted.seen.get_mut(header.publisher as usize) else {
            continue;
        };
        if seen.insert(header.seq) {
            progress.fetch_add(1, Ordering::Relaxed);
            let start_ns = start_at.load(Ordering::Relaxed);
            counted.per_second.record(now.saturating_sub(start_ns));
        }
        counted
            .latency
            .record(now.saturating_sub(header.sent_ns) / 1000);
        counted.last_ns = now;
    }
    let _ = client.close().await;
    counted
}

/// One sender's schedule.
struct Plan {
    index: u32,
    qos: QoS,
    payload: usize,
    topic: TopicName,
    rate: f64,
    phase: f64,
    inflight: usize,
    origin: Instant,
    start: tokio::time::Instant,
    deadline: tokio::time::Instant,
}

/// The subscribers' runtime, shut down without waiting when dropped (a
/// runtime dropped in an async context would panic).
struct Receiving(Option<tokio::runtime::Runtime>);

impl Receiving {
    fn handle(&self) -> &tokio::runtime::Handle {
        self.0.as_ref().expect("running").handle()
    }
}

impl Drop for Receiving {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// What one sender did.
struct Sent {
    sent: u64,
    acked: u64,
    errors: u64,
    /// When its last publish returned, in ns since the origin.
    stopped_ns: u64,
}

/// Publishes from `plan.inflight` tasks until the deadline, then waits
/// (up to 10 s) for the acknowledgements of QoS 1 and 2 and closes.
async fn publish(plan: Plan, client: ClientEndpoint, mut incoming: Incoming<role::Client>) -> Sent {
    let plan = Arc::new(plan);
    let acked = Arc::new(AtomicU64::new(0));
    // At QoS 1 and 2, at most `inflight` unacknowledged messages (v3.1.1
    // has no Receive Maximum to bound them).
    let window = Arc::new(Semaphore::new(plan.inflight));
    let acks = {
        let (acked, window) = (acked.clone(), window.clone());
        tokio::spawn(async move {
            while let Some(p) = incoming.recv().await {
                if common::flow_end(&p).is_some() {
                    acked.fetch_add(1, Ordering::Relaxed);
                    window.add_permits(1);
                }
            }
        })
    };
    let next = Arc::new(AtomicU64::new(0));
    let workers: Vec<JoinHandle<(u64, u64)>> = (0..plan.inflight)
        .map(|_| {
            let (plan, client, next, window) =
                (plan.clone(), client.clone(), next.clone(), window.clone());
            tokio::spawn(publish_worker(plan, client, next, window))
        })
        .collect();
    let (mut sent, mut errors) = (0, 0);
    for w in workers {
        let (s, e) = w.await.unwrap_or((0, 1));
        sent += s;
        errors += e;
    }
    let stopped_ns = plan.origin.elapsed().as_nanos() as u64;
    if plan.qos != QoS::AtMostOnce {
        let wait = Instant::now() + STEP;
        while acked.load(Ordering::Relaxed) < sent && Instant::now() < wait {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let _ = client.close().await;
    let _ = acks.await;
    Sent {
        sent,
        acked: acked.load(Ordering::Relaxed),
        errors,
        stopped_ns,
    }
}

/// One of a sender's in-flight loops: takes the next sequence number,
/// waits for its slot when rate-limited and, at QoS 1 and 2, for room in
/// the `window` of unacknowledged messages; publishes. Returns (sent,
/// errors).
async fn publish_worker(
    plan: Arc<Plan>,
    client: ClientEndpoint,
    next: Arc<AtomicU64>,
    window: Arc<Semaphore>,
) -> (u64, u64) {
    let (mut sent, mut errors) = (0, 0);
    loop {
        if plan.qos != QoS::AtMostOnce {
            match window.acquire().await {
                Ok(permit) => permit.forget(), // given back by the ack
                Err(_) => break,
            }
        }
        let seq = next.fetch_add(1, Ordering::Relaxed);
        if plan.rate > 0.0 {
            let at = plan.start + Duration::from_secs_f64((seq as f64 + plan.phase) / plan.rate);
            if at >= plan.deadline {
                break;
            }
            sleep_until(at).await;
        } else if tokio::time::Instant::now() >= plan.deadline {
            break;
        }
        let header = Header {
            publisher: plan.index,
            seq,
            sent_ns: plan.origin.elapsed().as_nanos() as u64,
        };
        let message = match common::message(&plan.topic, plan.qos, header.payload(plan.payload)) {
            Ok(m) => m,
            Err(_) => {
                errors += 1;
                break;
            }
        };
        let result = client.publish(message).await.map(drop);
        match result {
            Ok(()) => sent += 1,
            Err(_) => {
                errors += 1;
                break;
            }
        }
    }
    (sent, errors)
}

/// CPU seconds (user + system) of process `pid`, or of this process; 0 when
/// unreadable. Assumes the usual 100 clock ticks per second.
pub fn cpu_seconds(pid: Option<u32>) -> f64 {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    (ticks(11) + ticks(12)) / 100.0
}
