//! Idle-connection mode: open N connections that only keep alive and
//! measure the broker's resident memory before and with them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mqtt_codec::ProtocolVersion;
use mqtt_tokio::{role, ClientEndpoint, Config, ConnectionOptions, Incoming};
use tokio::sync::Semaphore;
use tokio::time::timeout;

use crate::common::{self, Error, SessionFlags};

/// Connections opened at once (the listen backlog stays small).
const CONCURRENCY: usize = 200;

/// What the idle run measured.
pub struct IdleReport {
    connections: u32,
    failed: u32,
    seconds: f64,
    rss_before_kib: Option<u64>,
    rss_with_kib: Option<u64>,
    rss_after_kib: Option<u64>,
}

impl IdleReport {
    /// Bytes of broker memory per connection, when the broker was watched.
    pub fn per_connection(&self) -> Option<f64> {
        let (b, w) = (self.rss_before_kib?, self.rss_with_kib?);
        Some((w as f64 - b as f64) * 1024.0 / f64::from(self.connections.max(1)))
    }

    /// The report as text or one line of JSON.
    pub fn render(&self, label: &str, version: ProtocolVersion, json: bool) -> String {
        let opt = |v: Option<u64>| v.map_or("null".to_string(), |v| v.to_string());
        let per = self
            .per_connection()
            .map_or("null".to_string(), |v| format!("{v:.0}"));
        let version = crate::version_name(version);
        if json {
            format!(
                "{{\"label\":\"{label}\",\"version\":\"{version}\",\"idle\":{},\"failed\":{},\
                 \"connect_s\":{:.2},\"rss_before_kib\":{},\"rss_with_kib\":{},\
                 \"rss_after_kib\":{},\"bytes_per_connection\":{per}}}",
                self.connections,
                self.failed,
                self.seconds,
                opt(self.rss_before_kib),
                opt(self.rss_with_kib),
                opt(self.rss_after_kib),
            )
        } else {
            format!(
                "{label} MQTT {version}: {} idle connections ({} failed) in {:.1} s\n  \
                 broker RSS before {} KiB, with them {} KiB, after closing {} KiB\n  \
                 {per} bytes per connection",
                self.connections,
                self.failed,
                self.seconds,
                opt(self.rss_before_kib),
                opt(self.rss_with_kib),
                opt(self.rss_after_kib),
            )
        }
    }
}

/// Opens `n` connections to `addr`, holds them for `hold`, closes them.
/// Errs when more than 1 % of them fail to connect.
pub async fn run(
    addr: &str,
    version: ProtocolVersion,
    n: u32,
    keep_alive: u16,
    hold: Duration,
    broker_pid: Option<u32>,
) -> Result<IdleReport, Error> {
    let rss = |pid: Option<u32>| pid.and_then(|p| common::memory_kib(p).ok()).map(|m| m.0);
    let rss_before_kib = rss(broker_pid);
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let pid = std::process::id();
    let mut tasks = Vec::with_capacity(n as usize);
    for i in 0..n {
        let (gate, addr) = (gate.clone(), addr.to_string());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            connect_small(&addr, version, &format!("idle-{pid}-{i}"), keep_alive).await
        }));
    }
    let mut held = Vec::with_capacity(n as usize);
    let mut failed = 0;
    let mut first_error = None;
    for t in tasks {
        match t.await {
            Ok(Ok(c)) => held.push(c),
            Ok(Err(e)) => {
                failed += 1;
                first_error.get_or_insert(e.to_string());
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if failed * 100 > n {
        return Err(format!("{failed} of {n} connections failed; first: {first_error:?}").into());
    }
    // Let the broker settle (CONNACKs written, buffers shrunk), then measure.
    tokio::time::sleep(hold).await;
    let rss_with_kib = rss(broker_pid);
    for (client, _) in &held {
        let _ = client.close().await;
    }
    drop(held);
    tokio::time::sleep(Duration::from_secs(1)).await;
    Ok(IdleReport {
        connections: n - failed,
        failed,
        seconds,
        rss_before_kib,
        rss_with_kib,
        rss_after_kib: rss(broker_pid),
    })
}

/// Connects with small driver buffers: this process holds thousands.
async fn connect_small(
    addr: &str,
    version: ProtocolVersion,
    client_id: &str,
    keep_alive: u16,
) -> Result<(ClientEndpoint, Incoming<role::Client>), Error> {
    let mut config = Config::default();
    config.command_capacity = 2;
    config.incoming_capacity = 2;
    config.read_chunk = 256;
    let options = ConnectionOptions::default();
    let session = SessionFlags {
        clean: true,
        expiry: 0,
    };
    let connect = common::connect_packet(version, client_id, keep_alive, session)?;
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let connection = mqtt_core::GenericConnection::with_options(version, options);
    let connected = ClientEndpoint::connect_with(stream, connection, connect, config);
    Ok(timeout(Duration::from_secs(30), connected)
        .await
        .map_err(|_| format!("{client_id}: connect timed out"))??)
}
