//! An MQTT v3.1.1 and v5.0 broker built on the library: `mqtt-tokio`'s
//! server side (one task per connection: its driver joined with
//! the future that serves it), `mqtt-core` Server
//! connections (acknowledgements, keep alive, Topic Aliases, Receive
//! Maximum, Maximum Packet Size, protocol errors) and the codec's topics.
//!
//! ```no_run
//! use mqtt_examples::broker::{Broker, BrokerConfig};
//! # async fn run() -> std::io::Result<()> {
//! let mut config = BrokerConfig::default();
//! config.bind = "127.0.0.1:0".parse().unwrap();
//! let broker = Broker::bind(config).await?;
//! println!("listening on {}", broker.local_addr());
//! broker.run().await
//! # }
//! ```
//!
//! # Configuration
//!
//! `cargo run --example broker -- --help` lists the flags, what each does
//! and its default. `--config FILE` reads a TOML file whose keys are the
//! flags' names without the dashes, with the same values, like
//! mosquitto's `-c FILE`; flags given on the command line override the
//! file's values (a `--deny` replaces the file's whole `deny` list, a
//! `--bind` the file's `port` too):
//!
//! ```toml
//! bind = "0.0.0.0:1883"
//! max-packet-size = 262144
//! max-session-expiry = 86400
//! deny = ["secret/#", "$SYS/#"]
//! no-retain = true
//! ```
//!
//! Integers for the numbers, a string for `bind`, `store` (a path), `overflow`
//! (`"drop"` or `"disconnect"`) and `durability` (`"message"` or
//! `"periodic"`), an array of strings (Topic Filters) for
//! `deny`, `true` or `false` for the `no-…` switches and `verbose`. A key
//! the broker does not know, a value of the wrong type or out of range is
//! an error that names it. The example file
//! `examples/broker/broker.example.toml` lists every key with its default.
//!
//! Files: `config.rs` ([`BrokerConfig`]), `flags.rs` (the command line,
//! clap), `settings.rs` (the values a source gives; the TOML file),
//! `state.rs` (the shared table, routing, delivery), `backlog.rs` (a slow
//! client's backlog and its drainer), `client.rs` (a connection's task),
//! `hibernate.rs` (idle connections without a task), `client_id.rs`,
//! `connect.rs` (CONNECT → CONNACK, takeover),
//! `subscribe.rs`, `will.rs` (wills, session expiry), `shutdown.rs`
//! (SIGTERM, SIGINT: DISCONNECT 0x8B, flush, stop), `store/` (the
//! durable store of `--store`), and the pure parts `message.rs`,
//! `router.rs`, `retained.rs`.
//!
//! # Idle connections (`--hibernate-after MS`, default 1000)
//!
//! A connection quiet that long (nothing read or written, nothing in
//! flight or due either way) hibernates: its task, queues and buffers are
//! freed, and its session keeps its core connection, its socket (watched
//! by one epoll thread) and its Will, 448 bytes. Its client sending
//! anything (or closing), its Keep Alive running out, a message routed to
//! it, a takeover of its session or a shutdown wakes it within the lock
//! that routes: nothing of the protocol changes. 0 never hibernates. The
//! binary runs on jemalloc, which returns the pages those connections
//! freed to the system; glibc's malloc kept them (`main.rs`).
//!
//! # Durability (`--store PATH`)
//!
//! Without `--store` everything is in memory and nothing survives a
//! restart. With it, durable sessions (Session Expiry Interval > 0, v3.1.1
//! Clean Session 0: subscriptions, in-flight and queued QoS 1 and 2
//! messages, QoS 2 identifiers received), retained messages and pending
//! Wills are kept in a redb file and restored at start. `--durability
//! message` (the default): a QoS 1 or 2 PUBLISH is acknowledged only once
//! its routed copies and retained change are committed, one commit for
//! what all connections handed in meanwhile (group commit), so a kill -9
//! loses no acknowledged message. `--durability periodic`: a commit every
//! `--commit-interval` ms, acknowledgements at once. SIGTERM and SIGINT:
//! the clean stop below, then every session stored and committed, exit 0.
//! Session Expiry and Will Delay count the downtime. QoS 2 stays exactly
//! once across SIGTERM and SIGINT, and for subscribers that were offline
//! at a kill -9; a subscriber connected at a kill -9 may get again what it
//! received since it connected ([`store`] says why).
//!
//! Enhanced authentication (§4.12) is not supported: a v5.0 CONNECT with an
//! Authentication Method gets CONNACK 0x8C (Bad authentication method) and
//! the connection closes [MQTT-4.12.0-1].
//!
//! # Reliability and overload
//!
//! - A PUBLISH is acknowledged (PUBACK, PUBREC) once routed and, if
//!   retained, stored ([`AckPolicy::AfterHandling`]): a v5.0 client never
//!   has more unhandled messages in the broker than our Receive Maximum; a
//!   v3.1.1 one, which cannot be told one, is not held to it (the broker
//!   reads no further while that many acknowledgements wait). The
//!   connections answer PUBREL and keep the QoS 2 rules themselves.
//! - A QoS 1 or 2 copy routed to a session is never dropped while that
//!   session exists, but for its bounds (`--max-queued`,
//!   `--max-queued-bytes`, one queue for an offline client and for copies
//!   waiting for its Receive Maximum; the same bounds for its backlog,
//!   below): a copy its
//!   connection did not take (it closed, was cut, or the client reconnected
//!   meanwhile) goes to whoever holds the session now — the connection not
//!   yet ready after its CONNACK, the stored offline session, or the new
//!   connection. Copies of a session that ended (Clean Start, expiry) end
//!   with its subscriptions.
//! - Overload: routing never waits on a subscriber, so a client that does
//!   not read holds up neither its publishers nor the other subscribers
//!   (no head-of-line blocking; as mosquitto, the slow client loses its
//!   excess). A copy goes to its client's command channel if that has room
//!   (256 commands; the connection then writes what the socket takes).
//!   When the channel is full, the copy (any QoS; mosquitto likewise
//!   queues QoS 0 up to `max_queued_messages`) waits in that connection's
//!   backlog, and so does every later copy for it while the backlog is not
//!   empty, so that each subscriber receives the copies in the order they
//!   were routed [MQTT-4.6.0-5] (v3.1.1), [MQTT-4.6.0-6] (v5.0). One task
//!   per backlogged connection forwards its backlog in order, waiting for
//!   room, and ends when it is empty.
//! - A backlog holds at most `--max-queued` messages and
//!   `--max-queued-bytes` bytes (encoded PUBLISH sizes). Past that, a copy
//!   is dropped (counted in `dropped_slow`), or (QoS 1 and 2) with `--overflow
//!   disconnect` the client is cut (v5.0: DISCONNECT 0x97 Quota exceeded
//!   first, if it still fits in its channel), and its copies go into its
//!   session, as far as they fit. A backlog that gets no room for
//!   `--slow-consumer-timeout` seconds (default 30) cuts its client the same
//!   way (counted in `slow_consumers`). A cut client's QoS 1 and 2 copies
//!   not yet forwarded, the backlog first, go into its session (offline
//!   queue, `--max-queued`, `--max-queued-bytes`); its QoS 0 ones are
//!   dropped.
//! - All backlogs together hold at most about `--max-backlog-bytes`
//!   (default 64 MiB, four full default backlogs): past that, a
//!   connection that routed a PUBLISH reads nothing more until they
//!   drained under it, so TCP slows its publisher to the rate the
//!   subscribers take instead of the broker reading copies to drop.
//! - `--max-sessions` bounds the sessions kept: a CONNECT that would create
//!   one more is refused (v5.0 CONNACK 0x97, v3.1.1 0x03), so a flood of
//!   CONNECTs with new Client Identifiers cannot grow memory without bound.
//! - A publisher's QoS 2 PUBLISH re-sent after a reconnect (DUP, same
//!   packet identifier, before PUBREL) is not routed twice: the session
//!   stored at the disconnect keeps its received identifiers
//!   [MQTT-4.3.3-10].

pub mod backlog;
pub mod budget;
pub mod client;
pub mod client_id;
pub mod config;
pub mod connect;
pub mod ended;
pub mod first_turn;
pub mod flags;
pub mod hibernate;
pub mod launch;
pub mod message;
pub mod retained;
pub mod router;
pub mod settings;
pub mod shutdown;
pub mod state;
pub mod store;
pub mod subscribe;
pub mod trim;
pub mod will;

use std::io;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use mqtt_tokio::{AckPolicy, Config, ConnectionOptions, Server};
use tokio::net::TcpStream;

pub use config::{BrokerArgs, BrokerConfig, Durability, Overflow, Settings};
pub use state::StatsSnapshot;

use state::Shared;

/// A broker listening on a TCP address; [`run`](Self::run) serves it.
#[derive(Debug)]
pub struct Broker {
    server: Server,
    shared: Arc<Shared>,
    addr: SocketAddr,
}

/// A handle to read a running broker's counters.
#[derive(Debug, Clone)]
pub struct StatsHandle(Arc<Shared>);

impl StatsHandle {
    /// The counters and table sizes now.
    pub fn snapshot(&self) -> StatsSnapshot {
        self.0.snapshot()
    }
}

/// The core options of every connection: a PUBLISH acknowledged once the
/// broker has routed it (`client.rs`), PINGRESP (the default), Topic
/// Aliases toward the clients, one session queue for offline messages (QoS
/// 1 and 2 only) and for messages waiting for a client's Receive Maximum
/// (bounded by `--max-queued` and `--max-queued-bytes`), our limits.
pub(crate) fn options(config: &BrokerConfig) -> ConnectionOptions {
    let mut o = ConnectionOptions::default();
    o.ack = AckPolicy::AfterHandling;
    o.auto_map_topic_alias_send = true;
    o.offline_publish = true;
    o.maximum_packet_size = NonZeroU32::new(config.max_packet_size);
    o.session.queue_qos0_offline = false;
    o.session.queue_max_messages = config.max_queued;
    o.session.queue_max_bytes = config.max_queued_bytes;
    o
}

/// The driver configuration, lowered for many idle connections;
/// connections hibernate only where a watch over them runs (`sleepers`).
fn driver_config(config: &BrokerConfig, sleepers: bool) -> Config {
    let mut c = Config::default();
    c.read_chunk = 4096;
    c.incoming_capacity = 64;
    // Stops reading soon after the connection's handler stops taking
    // packets (`--max-backlog-bytes`): 4,096 held 64 KiB PUBLISH packets
    // would be 256 MiB per connection.
    c.max_pending = 64;
    c.command_capacity = 256;
    c.connect_timeout = Some(Duration::from_secs(config.connect_timeout));
    c.hibernate_after = Some(Duration::from_millis(config.hibernate_after)).filter(|_| sleepers);
    c
}

impl Broker {
    /// Opens and restores the store of `config.store`, if any
    /// ([`store`]), then listens on `config.bind` at once (port 0 picks a
    /// free port).
    ///
    /// # Errors
    /// The store cannot be opened or is damaged (`InvalidData`, the message
    /// naming the file, [`store::StoreError`]), or the address cannot be
    /// listened on (the message naming it).
    pub async fn bind(config: BrokerConfig) -> io::Result<Broker> {
        let (store, loaded) = match &config.store {
            Some(path) => {
                let (store, loaded) = store::Store::open(path, &config)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                (Some(store), Some(loaded))
            }
            None => (None, None),
        };
        let shared = Shared::new(config, store);
        if let (Some(loaded), Some(store)) = (loaded, &shared.store) {
            let path = store.path().to_owned();
            store::restore::restore(&shared, loaded)
                .await
                .map_err(|why| {
                    let e = store::StoreError { path, why };
                    io::Error::new(io::ErrorKind::InvalidData, e)
                })?;
        }
        let config = &shared.config;
        let listening = Server::bind(config.bind).await;
        let server = listening
            .map_err(|e| {
                io::Error::new(e.kind(), format!("cannot listen on {}: {e}", config.bind))
            })?
            .with_options(shared.options.clone())
            .with_config(driver_config(config, shared.sleepers.is_some()));
        let addr = server.local_addr()?;
        Ok(Broker {
            server,
            shared,
            addr,
        })
    }

    /// The address listened on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle on the counters, usable while [`run`](Self::run) runs.
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle(self.shared.clone())
    }

    /// Accepts connections forever, one task each. Beyond
    /// `--max-connections` open at once, new ones are closed at once.
    /// Errs only if the listener fails for good.
    pub async fn run(self) -> io::Result<()> {
        self.run_until(std::future::pending()).await
    }

    /// [`run`](Self::run) until `stop` completes, then stops cleanly: no
    /// more connections are accepted, every v5.0 client is sent DISCONNECT
    /// 0x8B (Server shutting down), and every connection is closed once
    /// what it has to write is out (at most [`shutdown::FLUSH`]).
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()>) -> io::Result<()> {
        let mut stop = std::pin::pin!(stop);
        // Memory back to the system once many connections left (`trim.rs`).
        // And wakes hibernated connections as their sockets or Keep Alive
        // call (`hibernate.rs`).
        let _housekeeping = trim::Housekeeping::spawn(self.shared.clone());
        loop {
            let accepted = tokio::select! {
                accepted = self.server.accept_stream() => accepted,
                () = &mut stop => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) if transient(&e) => {
                    // Out of file descriptors, or a connection reset
                    // before it was accepted: wait, and go on.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let stats = &self.shared.stats;
            if stats.connections.load(Ordering::Relaxed) >= self.shared.config.max_connections {
                drop(stream);
                continue;
            }
            stats.connections.fetch_add(1, Ordering::Relaxed);
            stats.connections_total.fetch_add(1, Ordering::Relaxed);
            // Its CONNECT answered here if it is already in (`first_turn.rs`).
            let connection = Box::pin(self.connection(stream, peer));
            let accept = std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
            if let Some(connection) = first_turn::first_turns(connection, &accept) {
                tokio::spawn(connection);
            }
        }
        drop(self.server);
        shutdown::disconnect_all(&self.shared, shutdown::FLUSH).await;
        if let Some(store) = &self.shared.store {
            // Every session stored as its connection's task ended; the last
            // commit takes what they handed in.
            shutdown::wait_connections(&self.shared, shutdown::FLUSH).await;
            let committed = store.sync().await;
            let shared = self.shared.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if let Some(store) = &shared.store {
                    store.close();
                }
            })
            .await;
            if !committed {
                return Err(io::Error::other("the store's last commit failed"));
            }
        }
        Ok(())
    }

    /// The task of one accepted connection, counted in
    /// `stats.connections` by the caller: its driver and the future that
    /// serves it (`client::serve`), one future. Its size is most of an
    /// idle connection's memory (`examples/tests/broker_sizes.rs` prints
    /// it).
    pub fn connection(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let shared = self.shared.clone();
        self.server.serve_with(stream, move |endpoint, incoming| {
            client::serve(shared, endpoint, incoming, peer)
        })
    }
}

/// Whether an accept error passes (the listener still works).
fn transient(e: &io::Error) -> bool {
    !matches!(
        e.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::PermissionDenied
    )
}
