//! [`BrokerArgs`]: the broker's command line (clap), each flag with its
//! help and default, read into [`Settings`]; `--config FILE` names a TOML
//! file of [`Settings`] that the flags override.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::parser::{ArgMatches, ValueSource};
use mqtt_codec::TopicFilter;

use super::config::{BrokerConfig, Durability, Overflow};
use super::settings::Settings;

/// The defaults the help shows.
fn default() -> BrokerConfig {
    BrokerConfig::default()
}

/// `FILTER` of `--deny`: a Topic Filter (`+` and `#` are wildcards).
fn topic_filter(s: &str) -> Result<TopicFilter, String> {
    TopicFilter::new(s).map_err(|e| format!("not a topic filter: {e}"))
}

/// What `--help` says of `--config FILE`: the file's format.
pub const CONFIG_HELP: &str = "\
Read settings from a TOML file; flags given here override its values.

Its keys are the flags' names without the dashes, with the same
values: integers, a string for bind, overflow, store and
durability, an array of strings for deny, true or false for the
no-... switches and verbose. An unknown key,
a value of the wrong type or out of range is an error. A --deny
replaces the file's whole list; a --bind, the file's port too.
For example (more in examples/broker/broker.example.toml):

    bind = \"0.0.0.0:1883\"
    max-packet-size = 1048576
    deny = [\"secret/#\", \"$SYS/#\"]
    no-retain = true";

/// An MQTT v3.1.1 and v5.0 broker built on mqtt-tokio (an example).
///
/// Flags given twice: the last one counts (but every --deny does).
#[derive(clap::Parser, Debug)]
#[command(name = "broker", args_override_self = true)]
pub struct BrokerArgs {
    /// Read settings from a TOML file; flags given here override its values.
    #[arg(long, value_name = "FILE", long_help = CONFIG_HELP)]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value_t = default().bind)]
    pub bind: SocketAddr,
    /// Overrides the port of --bind (0: any free port).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Largest packet accepted from a client, announced to v5.0 clients as
    /// Maximum Packet Size: from 16 to 268435460.
    #[arg(long, value_name = "BYTES", default_value_t = default().max_packet_size)]
    pub max_packet_size: u32,
    /// QoS 1 and 2 PUBLISHes a v5.0 client may leave unacknowledged (at
    /// least 1; exceeding it gets DISCONNECT 0x93). A v3.1.1 client cannot
    /// be told one: the broker reads no further from it while this many
    /// acknowledgements wait for a commit.
    #[arg(long, value_name = "N", default_value_t = default().receive_maximum)]
    pub receive_maximum: u16,
    /// Highest Topic Alias a v5.0 client may use (0: none). Aliases toward
    /// clients follow each client's maximum.
    #[arg(long, value_name = "N", default_value_t = default().topic_alias_maximum)]
    pub topic_alias_maximum: u16,
    /// Keep Alive imposed on v5.0 clients (Server Keep Alive) [default:
    /// each client's own].
    #[arg(long, value_name = "SECS")]
    pub server_keep_alive: Option<u16>,
    /// A v5.0 client keep alive above this (or 0) is lowered to it through
    /// Server Keep Alive; v3.1.1 clients keep their own [default: no limit].
    #[arg(long, value_name = "SECS")]
    pub max_keep_alive: Option<u16>,
    /// Messages a session's queue holds (at least 1): those for its offline
    /// client, and those waiting for its client's Receive Maximum; beyond,
    /// new ones are dropped, as mosquitto does. QoS 0 messages are not
    /// queued for offline sessions. Also bounds a slow client's backlog.
    #[arg(long, value_name = "N", default_value_t = default().max_queued)]
    pub max_queued: usize,
    /// Bytes (encoded PUBLISH sizes) a session's queue holds (at least 1);
    /// beyond, new messages are dropped. Also bounds a slow client's
    /// backlog.
    #[arg(long, value_name = "BYTES", default_value_t = default().max_queued_bytes)]
    pub max_queued_bytes: usize,
    /// Bytes all slow clients' backlogs hold together (at least 1); past
    /// them, the broker reads no further PUBLISH packets until they
    /// drained, so TCP slows the publishers to what the subscribers take
    /// (stalled clients' backlogs count until they are cut).
    #[arg(long, value_name = "BYTES", default_value_t = default().max_backlog_bytes)]
    pub max_backlog_bytes: usize,
    /// Longest Session Expiry Interval granted (v5.0: announced in CONNACK
    /// when lowered; v3.1.1 Clean Session 0 sessions too) [default: as
    /// asked].
    #[arg(long, value_name = "SECS")]
    pub max_session_expiry: Option<u32>,
    /// Refuse SUBSCRIBE to FILTER or to filters it matches (SUBACK 0x80);
    /// repeatable.
    #[arg(long, value_name = "FILTER", value_parser = topic_filter)]
    pub deny: Vec<TopicFilter>,
    /// Close a connection that sends no CONNECT in time.
    #[arg(long, value_name = "SECS", default_value_t = default().connect_timeout)]
    pub connect_timeout: u64,
    /// Network connections served at once; more are closed at once.
    #[arg(long, value_name = "N", default_value_t = default().max_connections)]
    pub max_connections: usize,
    /// Sessions kept at once (online and offline); a CONNECT that would
    /// create one more is refused: v5.0 CONNACK 0x97 Quota exceeded, v3.1.1
    /// 0x03 Server unavailable.
    #[arg(long, value_name = "N", default_value_t = default().max_sessions)]
    pub max_sessions: usize,
    /// How long a slow client's backlog waits for room toward it (at least
    /// 1). Overload policy: publishers never wait for a subscriber; a
    /// message for a client that does not keep up waits in that client's
    /// backlog (bounded by --max-queued and --max-queued-bytes; past them a
    /// QoS 0 one is dropped, a QoS 1 or 2 one see --overflow); a backlog
    /// stalled this long disconnects its client (v5.0 DISCONNECT 0x97
    /// Quota exceeded), and its QoS 1 and 2 messages go into its session.
    #[arg(long, value_name = "SECS", default_value_t = default().slow_consumer_timeout)]
    pub slow_consumer_timeout: u64,
    /// Hibernate a connection quiet this long: nothing read or written,
    /// nothing in flight or due. It keeps its socket, session and
    /// subscriptions, but no task, queue or buffer, until its client sends,
    /// its Keep Alive runs out or a message is routed to it. 0: never.
    #[arg(long, value_name = "MS", default_value_t = default().hibernate_after)]
    pub hibernate_after: u64,
    /// What a QoS 1 or 2 message does past a slow client's full backlog:
    /// `drop` (counted, as mosquitto does) or `disconnect` the client (v5.0
    /// DISCONNECT 0x97 Quota exceeded; its session keeps what fits).
    #[arg(long, value_name = "POLICY", value_enum, default_value_t = default().overflow)]
    pub overflow: Overflow,
    /// No retained messages (Retain Available 0).
    #[arg(long)]
    pub no_retain: bool,
    /// No wildcard subscriptions (v5.0: DISCONNECT 0xA2, v3.1.1: SUBACK 0x80).
    #[arg(long)]
    pub no_wildcard: bool,
    /// No shared subscriptions (v5.0: DISCONNECT 0x9E, v3.1.1: SUBACK 0x80).
    #[arg(long)]
    pub no_shared: bool,
    /// No Subscription Identifiers (v5.0: DISCONNECT 0xA1).
    #[arg(long)]
    pub no_subscription_ids: bool,
    /// Highest QoS granted and accepted: 0, 1 or 2.
    #[arg(long, value_name = "N", default_value_t = default().maximum_qos as u8)]
    pub maximum_qos: u8,
    /// Print connects and disconnects.
    #[arg(short, long)]
    pub verbose: bool,
    /// Keep sessions (subscriptions, queued and in-flight QoS 1 and 2
    /// messages), retained messages and pending wills in this file (redb),
    /// restored at start; created if missing. A file that is not a store
    /// or is damaged stops the start with an error [default: in memory,
    /// nothing survives a restart].
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// With --store: `message` acknowledges a QoS 1 or 2 PUBLISH (PUBACK,
    /// PUBREC) only once it and its routed copies are committed (one commit
    /// for what all connections hand in meanwhile), so a kill -9 loses no
    /// acknowledged message; `periodic` commits every --commit-interval and
    /// acknowledges at once (a kill -9 loses up to one interval). SIGTERM
    /// and SIGINT commit everything either way.
    #[arg(long, value_name = "MODE", value_enum, default_value_t = default().durability)]
    pub durability: Durability,
    /// The interval of --durability periodic (at least 1).
    #[arg(long, value_name = "MS", default_value_t = default().commit_interval)]
    pub commit_interval: u64,
    /// Runtime worker threads (at least 1) [default: one per CPU]: fewer
    /// leave more of the machine to other processes.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// `Some(flags.field)` if its flag was on the command line, `None` if clap
/// took the default. The argument's id is the field's name (clap derive).
macro_rules! given {
    ($matches:ident, $flags:ident . $field:ident) => {
        ($matches.value_source(stringify!($field)) == Some(ValueSource::CommandLine))
            .then_some($flags.$field)
    };
}

impl BrokerArgs {
    /// The values given on the command line `matches` (which `self` was
    /// read from), leaving out the defaults clap filled in.
    pub fn into_settings(self, matches: &ArgMatches) -> Settings {
        let (m, f) = (matches, self);
        Settings {
            bind: given!(m, f.bind),
            port: f.port,
            max_packet_size: given!(m, f.max_packet_size),
            receive_maximum: given!(m, f.receive_maximum),
            topic_alias_maximum: given!(m, f.topic_alias_maximum),
            server_keep_alive: f.server_keep_alive,
            max_keep_alive: f.max_keep_alive,
            max_queued: given!(m, f.max_queued),
            max_queued_bytes: given!(m, f.max_queued_bytes),
            max_backlog_bytes: given!(m, f.max_backlog_bytes),
            max_session_expiry: f.max_session_expiry,
            deny: given!(m, f.deny),
            connect_timeout: given!(m, f.connect_timeout),
            max_connections: given!(m, f.max_connections),
            max_sessions: given!(m, f.max_sessions),
            slow_consumer_timeout: given!(m, f.slow_consumer_timeout),
            hibernate_after: given!(m, f.hibernate_after),
            overflow: given!(m, f.overflow),
            no_retain: given!(m, f.no_retain),
            no_wildcard: given!(m, f.no_wildcard),
            no_shared: given!(m, f.no_shared),
            no_subscription_ids: given!(m, f.no_subscription_ids),
            maximum_qos: given!(m, f.maximum_qos),
            verbose: given!(m, f.verbose),
            store: f.store,
            durability: given!(m, f.durability),
            commit_interval: given!(m, f.commit_interval),
            threads: f.threads,
        }
    }
}
