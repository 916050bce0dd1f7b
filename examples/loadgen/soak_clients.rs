//! The soak's clients: persistent-session publishers and subscribers that
//! are killed (network connection dropped without DISCONNECT) on demand and
//! reconnect with the same client id, resuming their session.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mqtt_codec::{GenericPacket, ProtocolVersion, QoS, TopicFilter, TopicName};
use mqtt_core::GenericConnection;
use mqtt_tokio::{role, ClientEndpoint, Config, ConnectionOptions, Incoming};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};
use tokio::time::{timeout, MissedTickBehavior};

use crate::common::{self, Error, Header, Rng, SessionFlags};
use crate::stats::Seen;

/// How long a connect or a subscribe may take before the soak gives up.
const STEP: Duration = Duration::from_secs(10);

/// What every soak client shares.
#[derive(Clone)]
pub struct Shared {
    /// The broker's `host:port`.
    pub addr: String,
    /// The MQTT version.
    pub version: ProtocolVersion,
    /// Session Expiry Interval (v5.0) in seconds.
    pub expiry: u32,
    /// Topic prefix: publisher `i` publishes to `PREFIX/i`.
    pub topic: String,
    /// Payload size.
    pub payload: usize,
    /// Longest time a killed client stays away.
    pub max_down: Duration,
    /// The run's seed, mixed with each client's index.
    pub seed: u64,
    /// Client identifier prefix, unique per run.
    pub id_prefix: String,
}

/// How a client's connections went.
#[derive(Debug, Default, Clone)]
pub struct Life {
    /// Connections opened (the first included).
    pub connects: u64,
    /// Kills obeyed.
    pub kills: u64,
    /// Connections the broker closed or that failed on their own.
    pub unexpected_closes: u64,
    /// Reconnections whose CONNACK said Session Present 0.
    pub sessions_lost: u64,
}

/// A client's current network connection.
struct Live {
    client: ClientEndpoint,
    incoming: Incoming<role::Client>,
}

/// The client identifier of publisher or subscriber `name`.
pub fn client_id(shared: &Shared, name: &str) -> String {
    format!("{}-{name}", shared.id_prefix)
}

/// Opens a network connection resuming `connection` (a fresh one the
/// first time: v5.0 Clean Start 1 with a Session Expiry Interval; v3.1.1
/// always Clean Session 0, as Clean Session 1 would end the session with
/// this connection; client ids are unique per run). Retries the TCP connect for up to 10 s;
/// errs when the broker refuses the CONNECT or the session is gone.
async fn open(
    shared: &Shared,
    id: &str,
    connection: Option<GenericConnection<role::Client, u16>>,
    life: &mut Life,
) -> Result<Live, Error> {
    let first = connection.is_none();
    let connection = connection.unwrap_or_else(|| {
        GenericConnection::with_options(shared.version, ConnectionOptions::default())
    });
    let session = SessionFlags {
        clean: first && shared.version == ProtocolVersion::V5_0,
        expiry: shared.expiry,
    };
    let connect = common::connect_packet(shared.version, id, 60, session)?;
    let stream = tcp(&shared.addr).await?;
    let (client, incoming) = timeout(
        STEP,
        ClientEndpoint::connect_with(stream, connection, connect, Config::default()),
    )
    .await
    .map_err(|_| format!("{id}: no CONNACK"))??;
    life.connects += 1;
    if !first && !client.status().await?.session_present {
        life.sessions_lost += 1;
    }
    Ok(Live { client, incoming })
}

/// A TCP connection to `addr`, retried for up to 10 s (the broker may be
/// busy accepting a burst).
async fn tcp(addr: &str) -> Result<TcpStream, Error> {
    let mut tries = 0;
    loop {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) if tries >= 100 => return Err(e.into()),
            Err(_) => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Drops the network connection without DISCONNECT, hands every packet
/// that already arrived to `handle`, and returns the session.
async fn kill(
    live: Live,
    mut handle: impl FnMut(&GenericPacket),
) -> Result<GenericConnection<role::Client, u16>, Error> {
    live.client.abort();
    settle(live.incoming, &mut handle).await
}

/// Receives what is left of a closed connection and returns its session.
async fn settle(
    mut incoming: Incoming<role::Client>,
    handle: &mut impl FnMut(&GenericPacket),
) -> Result<GenericConnection<role::Client, u16>, Error> {
    while let Some(p) = incoming.recv().await {
        handle(&p);
    }
    Ok(incoming
        .into_connection()
        .await
        .ok_or("the driver task panicked")?)
}

/// A random pause of up to `max`.
async fn pause(rng: &mut Rng, max: Duration) {
    let ms = rng.below(max.as_millis() as u64 + 1);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// What a publisher confirmed: the sequence numbers whose PUBACK or
/// PUBCOMP arrived.
pub struct Published {
    /// The QoS it published at.
    pub qos: QoS,
    /// Confirmed sequence numbers.
    pub confirmed: Seen,
    /// Publishes accepted but never confirmed (0 when it ended cleanly).
    pub unconfirmed: u64,
    /// Its connections.
    pub life: Life,
}

/// Publisher `index`: publishes at `rate` per second with at most
/// `inflight` unacknowledged, obeys `kills`, stops when `stop` turns true
/// and every message was confirmed (or 30 s passed). Errs when it cannot
/// reconnect.
pub async fn publisher(
    shared: Shared,
    index: u32,
    qos: QoS,
    rate: f64,
    inflight: usize,
    kills: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) -> Result<Published, Error> {
    let id = client_id(&shared, &format!("p{index}"));
    let topic = TopicName::new(format!("{}/{index}", shared.topic))?;
    let mut rng = Rng::new(shared.seed ^ (u64::from(index) << 32) ^ 0x5eed);
    let mut life = Life::default();
    let mut pending: HashMap<u16, u64> = HashMap::new();
    let mut confirmed = Seen::default();
    let mut next_seq = 0u64;
    let mut stopping = false;
    let mut give_up = None;
    let origin = std::time::Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.001)));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut live = open(&shared, &id, None, &mut life).await?;
    let ended = |p: &GenericPacket, pending: &mut HashMap<u16, u64>, confirmed: &mut Seen| {
        if let Some((_, pid)) = common::flow_end(p) {
            if let Some(seq) = pending.remove(&pid) {
                confirmed.insert(seq);
            }
        }
    };
    loop {
        if stopping
            && (pending.is_empty() || give_up.is_some_and(|t| tokio::time::Instant::now() > t))
        {
            let _ = live.client.close().await;
            let mut drain = |p: &GenericPacket| ended(p, &mut pending, &mut confirmed);
            settle(live.incoming, &mut drain).await?;
            break;
        }
        let room = !stopping && pending.len() < inflight;
        tokio::select! {
            biased;
            _ = kills.notified() => {
                life.kills += 1;
                let connection = kill(live, |p| ended(p, &mut pending, &mut confirmed)).await?;
                pause(&mut rng, shared.max_down).await;
                live = open(&shared, &id, Some(connection), &mut life).await?;
            }
            p = live.incoming.recv() => match p {
                Some(p) => ended(&p, &mut pending, &mut confirmed),
                None => {
                    life.unexpected_closes += 1;
                    let mut drain = |p: &GenericPacket| ended(p, &mut pending, &mut confirmed);
                    let connection = settle(live.incoming, &mut drain).await?;
                    pause(&mut rng, Duration::from_millis(100)).await;
                    live = open(&shared, &id, Some(connection), &mut life).await?;
                }
            },
            _ = stop.changed(), if !stopping => {
                stopping = true;
                give_up = Some(tokio::time::Instant::now() + Duration::from_secs(30));
            }
            _ = ticks.tick(), if room => {
                let header = Header { publisher: index, seq: next_seq, sent_ns: origin.elapsed().as_nanos() as u64 };
                next_seq += 1;
                let message = common::message(&topic, qos, header.payload(shared.payload))?;
                // Refused when the connection closed (or its session queue
                // is full): the message is then not counted.
                if let Ok(Some(pid)) = live.client.publish(message).await {
                    pending.insert(pid, header.seq);
                }
            }
        }
    }
    Ok(Published {
        qos,
        confirmed,
        unconfirmed: pending.len() as u64,
        life,
    })
}

/// What a subscriber received, per publisher.
pub struct Received {
    /// Sequence numbers seen, indexed by publisher.
    pub seen: Vec<Seen>,
    /// QoS 2 duplicates that came with the DUP flag and the packet
    /// identifier of the first copy: a re-sent PUBLISH the client should
    /// have recognised [MQTT-4.3.3-10].
    pub qos2_dup_resent: u64,
    /// QoS 2 duplicates under another packet identifier: the broker sent
    /// the message twice.
    pub qos2_dup_new_id: u64,
    /// Its connections.
    pub life: Life,
}

/// Subscriber `index`: subscribes to `PREFIX/#` at QoS 2 (so each message
/// arrives at its publisher's QoS), counts what arrives, obeys `kills`,
/// and returns when `finish` turns true. Reports on `ready` once
/// subscribed. `progress` counts distinct messages received.
#[allow(clippy::too_many_arguments)]
pub async fn subscriber(
    shared: Shared,
    index: u32,
    publishers: usize,
    kills: Arc<Notify>,
    mut finish: watch::Receiver<bool>,
    ready: tokio::sync::mpsc::Sender<()>,
    progress: Arc<AtomicU64>,
) -> Result<Received, Error> {
    let id = client_id(&shared, &format!("s{index}"));
    let mut rng = Rng::new(shared.seed ^ (u64::from(index) << 40) ^ 0x5ab5);
    let mut life = Life::default();
    let mut seen = vec![Seen::default(); publishers];
    let (mut qos2_ids, mut qos2_dup_resent, mut qos2_dup_new_id) = (HashMap::new(), 0, 0);
    let mut live = open(&shared, &id, None, &mut life).await?;
    let filter = TopicFilter::new(format!("{}/#", shared.topic))?;
    let pid = live.client.acquire_packet_id().await?;
    let subscribe = mqtt_examples::subscribe(shared.version, pid, &filter, QoS::ExactlyOnce)?;
    live.client.send_generic(subscribe).await?;
    loop {
        let p = timeout(STEP, live.incoming.recv())
            .await
            .map_err(|_| "no SUBACK")?;
        if common::suback_granted(&p.ok_or("closed before SUBACK")?)? {
            break;
        }
    }
    let _ = ready.send(()).await;
    let mut record = |p: &GenericPacket| {
        let Some(h) = common::payload_of(p).and_then(Header::read) else {
            return;
        };
        let Some(s) = seen.get_mut(h.publisher as usize) else {
            return;
        };
        if s.insert(h.seq) {
            progress.fetch_add(1, Ordering::Relaxed);
        }
        if let Some((QoS::ExactlyOnce, dup, Some(pid))) = common::publish_flow(p) {
            match qos2_ids.insert((h.publisher, h.seq), pid) {
                Some(first) if first == pid && dup => qos2_dup_resent += 1,
                Some(_) => qos2_dup_new_id += 1,
                None => {}
            }
        }
    };
    loop {
        tokio::select! {
            biased;
            _ = kills.notified() => {
                life.kills += 1;
                let connection = kill(live, &mut record).await?;
                pause(&mut rng, shared.max_down).await;
                live = open(&shared, &id, Some(connection), &mut life).await?;
            }
            p = live.incoming.recv() => match p {
                Some(p) => record(&p),
                None => {
                    life.unexpected_closes += 1;
                    let connection = settle(live.incoming, &mut record).await?;
                    pause(&mut rng, Duration::from_millis(100)).await;
                    live = open(&shared, &id, Some(connection), &mut life).await?;
                }
            },
            _ = finish.changed() => break,
        }
    }
    let _ = live.client.close().await;
    settle(live.incoming, &mut record).await?;
    Ok(Received {
        seen,
        qos2_dup_resent,
        qos2_dup_new_id,
        life,
    })
}

/// Ends the session of client `id` on the broker: connects with a clean
/// session that expires with the connection, and disconnects.
pub async fn forget(shared: &Shared, id: &str) -> Result<(), Error> {
    let options = ConnectionOptions::default();
    let session = SessionFlags {
        clean: true,
        expiry: 0,
    };
    let connect = common::connect_packet(shared.version, id, 60, session)?;
    let (client, _incoming) = timeout(
        STEP,
        ClientEndpoint::connect(&shared.addr, connect, options),
    )
    .await
    .map_err(|_| format!("{id}: no CONNACK"))??;
    client.close().await?;
    Ok(())
}
