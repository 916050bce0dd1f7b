//! [`BrokerConfig`]: the broker's address and limits, from the command line
//! ([`BrokerArgs`], clap) and a config file (`--config FILE`, TOML).
//!
//! A value comes from the command line when given there, else from the
//! config file when it has the key, else from the default
//! ([`BrokerConfig::default`]). The file and the command line are each read
//! as [`Settings`] (the values they give), which [`BrokerConfig::apply`]
//! checks and lays over the defaults: first the file's, then the command
//! line's. The file's format is in the [module doc](super).

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches};
use mqtt_codec::{QoS, TopicFilter, MAX_PACKET_SIZE};

pub use super::flags::BrokerArgs;
pub use super::settings::Settings;

/// The smallest `--max-packet-size`: a CONNECT of a few bytes must fit.
pub const MIN_PACKET_SIZE: u32 = 16;

/// What becomes of a QoS 1 or 2 copy for a slow client whose backlog is
/// full (`--overflow`, key `overflow`: `"drop"` or `"disconnect"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum Overflow {
    /// The copy is dropped (counted), as mosquitto does.
    #[default]
    Drop,
    /// The client is disconnected (v5.0: DISCONNECT 0x97 Quota exceeded);
    /// its session keeps what fits in its queue.
    Disconnect,
}

impl TryFrom<String> for Overflow {
    type Error = String;

    /// The value of the `overflow` key: a string, as the flag's.
    fn try_from(s: String) -> Result<Overflow, String> {
        <Overflow as clap::ValueEnum>::from_str(&s, false)
            .map_err(|_| format!("\"drop\" or \"disconnect\" (not {s:?})"))
    }
}

/// When the store (`--store`) commits (`--durability`, key `durability`:
/// `"message"` or `"periodic"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum Durability {
    /// A QoS 1 or 2 PUBLISH is acknowledged once what it changed is
    /// committed (group commit across connections).
    #[default]
    Message,
    /// Commits every `--commit-interval`; acknowledgements do not wait.
    Periodic,
}

impl TryFrom<String> for Durability {
    type Error = String;

    /// The value of the `durability` key: a string, as the flag's.
    fn try_from(s: String) -> Result<Durability, String> {
        <Durability as clap::ValueEnum>::from_str(&s, false)
            .map_err(|_| format!("\"message\" or \"periodic\" (not {s:?})"))
    }
}

/// The broker's address and limits; `Default` is what the flags default to.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerConfig {
    /// Where to listen.
    pub bind: SocketAddr,
    /// The largest packet accepted from a client (and announced, v5.0).
    pub max_packet_size: u32,
    /// Our Receive Maximum, announced to v5.0 clients; with `--durability
    /// message`, also how many acknowledgements of one connection may wait
    /// for a commit before the broker reads no further from it (v3.1.1
    /// clients included, which cannot be told a Receive Maximum).
    pub receive_maximum: u16,
    /// Our Topic Alias Maximum (v5.0).
    pub topic_alias_maximum: u16,
    /// A Server Keep Alive imposed on every v5.0 client.
    pub server_keep_alive: Option<u16>,
    /// The largest Keep Alive a v5.0 client keeps; larger ones (and 0) are
    /// lowered to it through Server Keep Alive.
    pub max_keep_alive: Option<u16>,
    /// Messages a session's queue holds: for its offline client, or waiting
    /// for its client's Receive Maximum; and a slow client's backlog.
    pub max_queued: usize,
    /// Bytes (encoded PUBLISH sizes) a session's queue holds; and a slow
    /// client's backlog.
    pub max_queued_bytes: usize,
    /// Bytes all backlogs hold together past which connections read no
    /// further PUBLISH packets until they drained (see `budget.rs`).
    pub max_backlog_bytes: usize,
    /// The longest Session Expiry Interval granted, in seconds.
    pub max_session_expiry: Option<u32>,
    /// Topic filters a SUBSCRIBE is refused for (SUBACK 0x80).
    pub deny: Vec<TopicFilter>,
    /// How long a new connection may take to send its CONNECT, in seconds.
    pub connect_timeout: u64,
    /// Network connections served at once.
    pub max_connections: usize,
    /// Sessions kept at once, online and offline: a CONNECT that would
    /// create one more is refused (CONNACK 0x97 / 0x03).
    pub max_sessions: usize,
    /// How long a slow client's backlog may wait for room toward it before
    /// that client is disconnected, in seconds.
    pub slow_consumer_timeout: u64,
    /// How long a connection stays quiet before it hibernates (its task,
    /// queues and buffers freed until it is needed: `hibernate.rs`), in
    /// milliseconds; 0: never.
    pub hibernate_after: u64,
    /// What a copy past a slow client's full backlog does.
    pub overflow: Overflow,
    /// Whether retained messages are supported.
    pub retain_available: bool,
    /// Whether wildcard subscriptions are supported.
    pub wildcard_available: bool,
    /// Whether shared subscriptions are supported.
    pub shared_available: bool,
    /// Whether Subscription Identifiers are supported.
    pub subscription_ids_available: bool,
    /// The highest QoS granted and accepted.
    pub maximum_qos: QoS,
    /// Print connects and disconnects.
    pub verbose: bool,
    /// The store file (`--store`); `None`: in memory, nothing survives a
    /// restart.
    pub store: Option<PathBuf>,
    /// When the store commits.
    pub durability: Durability,
    /// The interval of [`Durability::Periodic`], in milliseconds.
    pub commit_interval: u64,
    /// The runtime's worker threads; `None`: one per CPU.
    pub threads: Option<usize>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 1883)),
            max_packet_size: 1_048_576,
            receive_maximum: 100,
            topic_alias_maximum: 10,
            server_keep_alive: None,
            max_keep_alive: None,
            max_queued: 1000,
            max_queued_bytes: 16 * 1024 * 1024,
            max_backlog_bytes: 64 * 1024 * 1024,
            max_session_expiry: None,
            deny: Vec::new(),
            connect_timeout: 10,
            max_connections: 100_000,
            max_sessions: 100_000,
            slow_consumer_timeout: 30,
            hibernate_after: 1000,
            overflow: Overflow::Drop,
            retain_available: true,
            wildcard_available: true,
            shared_available: true,
            subscription_ids_available: true,
            maximum_qos: QoS::ExactlyOnce,
            verbose: false,
            store: None,
            durability: Durability::Message,
            commit_interval: 100,
            threads: None,
        }
    }
}

impl BrokerConfig {
    /// Parses a command line, program name first (as
    /// [`std::env::args_os`] gives it): the defaults, overridden by the
    /// config file of `--config FILE` if given, overridden by the flags
    /// given.
    ///
    /// # Errors
    /// A `clap::Error` to print with `clap::Error::exit`: `--help`
    /// (kind `ErrorKind::DisplayHelp`, exit code 0), an unknown flag, a
    /// missing or malformed value, a value out of range, a config file that
    /// cannot be read or that [`Settings::read`] refuses (exit code 2).
    pub fn from_args<I, T>(args: I) -> Result<BrokerConfig, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut command = BrokerArgs::command();
        let matches = command.try_get_matches_from_mut(args)?;
        let flags = BrokerArgs::from_arg_matches(&matches)?;
        let mut config = BrokerConfig::default();
        if let Some(path) = &flags.config {
            let applied = Settings::read(path).and_then(|file| {
                let path = path.display();
                config.apply(file).map_err(|e| format!("{path}: {e}"))
            });
            applied.map_err(|e| command.error(ErrorKind::InvalidValue, format!("--config {e}")))?;
        }
        config
            .apply(flags.into_settings(&matches))
            .map_err(|e| command.error(ErrorKind::ValueValidation, format!("--{e}")))?;
        Ok(config)
    }

    /// Lays `settings` over `self`: each value it holds replaces ours. A
    /// `port` replaces the port of the address, `bind` given or not; the
    /// `no-…` switches turn features off when `true` (and on when `false`).
    ///
    /// # Errors
    /// `"key: why"` for a value out of range (a `max-packet-size` outside
    /// 16..=268435460, a `maximum-qos` above 2, a 0 where at least 1 is
    /// needed), with `self` partly updated.
    pub fn apply(&mut self, settings: Settings) -> Result<(), String> {
        let s = settings;
        if let Some(bind) = s.bind {
            self.bind = bind;
        }
        if let Some(port) = s.port {
            self.bind.set_port(port);
        }
        if let Some(size) = s.max_packet_size {
            if !(MIN_PACKET_SIZE..=MAX_PACKET_SIZE).contains(&size) {
                return Err(format!(
                    "max-packet-size: from {MIN_PACKET_SIZE} to {MAX_PACKET_SIZE} (not {size})"
                ));
            }
            self.max_packet_size = size;
        }
        set_nonzero(
            &mut self.receive_maximum,
            s.receive_maximum,
            "receive-maximum",
        )?;
        set_any(&mut self.topic_alias_maximum, s.topic_alias_maximum);
        set_some(&mut self.server_keep_alive, s.server_keep_alive);
        set_some(&mut self.max_keep_alive, s.max_keep_alive);
        set_nonzero(&mut self.max_queued, s.max_queued, "max-queued")?;
        set_nonzero(
            &mut self.max_queued_bytes,
            s.max_queued_bytes,
            "max-queued-bytes",
        )?;
        set_nonzero(
            &mut self.max_backlog_bytes,
            s.max_backlog_bytes,
            "max-backlog-bytes",
        )?;
        set_some(&mut self.max_session_expiry, s.max_session_expiry);
        set_any(&mut self.deny, s.deny);
        set_any(&mut self.connect_timeout, s.connect_timeout);
        set_any(&mut self.max_connections, s.max_connections);
        set_any(&mut self.max_sessions, s.max_sessions);
        let timeout = s.slow_consumer_timeout;
        set_nonzero(
            &mut self.slow_consumer_timeout,
            timeout,
            "slow-consumer-timeout",
        )?;
        set_any(&mut self.hibernate_after, s.hibernate_after);
        set_any(&mut self.overflow, s.overflow);
        set_any(&mut self.retain_available, s.no_retain.map(|no| !no));
        set_any(&mut self.wildcard_available, s.no_wildcard.map(|no| !no));
        set_any(&mut self.shared_available, s.no_shared.map(|no| !no));
        set_any(
            &mut self.subscription_ids_available,
            s.no_subscription_ids.map(|no| !no),
        );
        if let Some(qos) = s.maximum_qos {
            self.maximum_qos =
                QoS::from_u8(qos).map_err(|_| format!("maximum-qos: 0, 1 or 2 (not {qos})"))?;
        }
        set_any(&mut self.verbose, s.verbose);
        if s.threads == Some(0) {
            return Err("threads: at least 1".into());
        }
        set_some(&mut self.threads, s.threads);
        set_some(&mut self.store, s.store);
        set_any(&mut self.durability, s.durability);
        let interval = s.commit_interval;
        set_nonzero(&mut self.commit_interval, interval, "commit-interval")?;
        Ok(())
    }
}

/// Replaces `field` with `value`, if given.
fn set_any<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

/// Replaces an optional `field` with `value`, if given.
fn set_some<T>(field: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *field = value;
    }
}

/// Replaces `field` with `value`, if given; errs on 0.
fn set_nonzero<T: Default + PartialEq>(
    field: &mut T,
    value: Option<T>,
    key: &str,
) -> Result<(), String> {
    match value {
        Some(value) if value == T::default() => Err(format!("{key}: at least 1 (not 0)")),
        Some(value) => {
            *field = value;
            Ok(())
        }
        None => Ok(()),
    }
}
