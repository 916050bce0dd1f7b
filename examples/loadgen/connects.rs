//! Connect-rate mode: N connections one after the other, each TCP connect,
//! CONNECT, CONNACK, DISCONNECT, close; how many per second the broker
//! accepts, and the CONNECT → CONNACK latency. The client side is raw TCP
//! with the CONNECT encoded once, so that the broker is what is measured.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use mqtt_codec::{Encode, ProtocolVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::common::{self, Error, SessionFlags};
use crate::stats::Histogram;

/// What the connect run measured.
pub struct ConnectsReport {
    connects: u32,
    seconds: f64,
    /// CONNECT written → CONNACK read, in microseconds.
    latency_us: Histogram,
}

impl ConnectsReport {
    /// The report as text or one line of JSON.
    pub fn render(&self, label: &str, version: ProtocolVersion, json: bool) -> String {
        let rate = f64::from(self.connects) / self.seconds;
        let (p50, p99) = (
            self.latency_us.quantile(0.5),
            self.latency_us.quantile(0.99),
        );
        let version = crate::version_name(version);
        if json {
            format!(
                "{{\"label\":\"{label}\",\"version\":\"{version}\",\"connects\":{},\
                 \"connects_per_s\":{rate:.0},\"p50_us\":{p50},\"p99_us\":{p99}}}",
                self.connects
            )
        } else {
            format!(
                "{label} MQTT {version}: {} connections one after the other, \
                 {rate:.0} per second; CONNECT → CONNACK p50 {p50} µs, p99 {p99} µs",
                self.connects
            )
        }
    }
}

/// Opens and closes `n` connections to `addr` in turn. Errs on the first
/// that fails (no CONNACK within 10 s, a refusal, a broken stream).
pub async fn run(addr: &str, version: ProtocolVersion, n: u32) -> Result<ConnectsReport, Error> {
    let mut latency_us = Histogram::default();
    let pid = std::process::id();
    let started = Instant::now();
    for i in 0..n {
        let session = SessionFlags {
            clean: true,
            expiry: 0,
        };
        let connect = common::connect_packet(version, &format!("c-{pid}-{i}"), 60, session)?;
        let mut bytes = BytesMut::new();
        connect.encode(&mut bytes)?;
        let one = timeout(Duration::from_secs(10), connect_once(addr, &bytes));
        let took = one
            .await
            .map_err(|_| format!("connection {i}: no CONNACK in 10 s"))??;
        latency_us.record(took.as_micros() as u64);
    }
    Ok(ConnectsReport {
        connects: n,
        seconds: started.elapsed().as_secs_f64(),
        latency_us,
    })
}

/// One connection: CONNECT, CONNACK (accepted), DISCONNECT, close; returns
/// the time from the CONNECT to the whole CONNACK.
async fn connect_once(addr: &str, connect: &[u8]) -> Result<Duration, Error> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let sent = Instant::now();
    stream.write_all(connect).await?;
    // Fixed header and Remaining Length (one byte: a CONNACK is short).
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await?;
    let mut body = vec![0u8; usize::from(head[1])];
    stream.read_exact(&mut body).await?;
    let took = sent.elapsed();
    if head[0] != 0x20 || body.get(1) != Some(&0) {
        return Err(format!("not an accepting CONNACK: {head:?} {body:?}").into());
    }
    stream.write_all(&[0xE0, 0x00]).await?;
    Ok(took)
}
