//! [`Settings`]: the values one source gives (a config file, the command
//! line), each `None` where that source says nothing; and the config file,
//! TOML, read into them ([`Settings::from_toml`], [`Settings::read`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use mqtt_codec::TopicFilter;

use super::config::{Durability, Overflow};
use serde::{Deserialize, Deserializer};

/// The values one source gives, by their flag names without the dashes
/// (`max-packet-size`); [`BrokerConfig::apply`](super::BrokerConfig::apply)
/// checks them and lays them over a [`BrokerConfig`](super::BrokerConfig).
///
/// In a config file, the keys are these names, and the values have the
/// types of the flags' values: integers, a string for `bind`, an array of
/// strings for `deny`, `"drop"` or `"disconnect"` for `overflow`, `true` or
/// `false` for the `no-…` switches and `verbose` (see the [broker's module
/// doc](super) for an example).
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Settings {
    /// `bind`: the address to listen on.
    pub bind: Option<SocketAddr>,
    /// `port`: replaces the port of `bind`.
    pub port: Option<u16>,
    /// `max-packet-size`, in bytes.
    pub max_packet_size: Option<u32>,
    /// `receive-maximum`.
    pub receive_maximum: Option<u16>,
    /// `topic-alias-maximum`.
    pub topic_alias_maximum: Option<u16>,
    /// `server-keep-alive`, in seconds.
    pub server_keep_alive: Option<u16>,
    /// `max-keep-alive`, in seconds.
    pub max_keep_alive: Option<u16>,
    /// `max-queued`, in messages.
    pub max_queued: Option<usize>,
    /// `max-queued-bytes`.
    pub max_queued_bytes: Option<usize>,
    /// `max-backlog-bytes`.
    pub max_backlog_bytes: Option<usize>,
    /// `max-session-expiry`, in seconds.
    pub max_session_expiry: Option<u32>,
    /// `deny`: Topic Filters (all of them: a source's list replaces the
    /// list of the one below it).
    #[serde(default, deserialize_with = "topic_filters")]
    pub deny: Option<Vec<TopicFilter>>,
    /// `connect-timeout`, in seconds.
    pub connect_timeout: Option<u64>,
    /// `max-connections`.
    pub max_connections: Option<usize>,
    /// `max-sessions`.
    pub max_sessions: Option<usize>,
    /// `slow-consumer-timeout`, in seconds.
    pub slow_consumer_timeout: Option<u64>,
    /// `hibernate-after`, in milliseconds.
    pub hibernate_after: Option<u64>,
    /// `overflow`: `"drop"` or `"disconnect"`.
    pub overflow: Option<Overflow>,
    /// `no-retain`: `true` turns retained messages off.
    pub no_retain: Option<bool>,
    /// `no-wildcard`: `true` turns wildcard subscriptions off.
    pub no_wildcard: Option<bool>,
    /// `no-shared`: `true` turns shared subscriptions off.
    pub no_shared: Option<bool>,
    /// `no-subscription-ids`: `true` turns Subscription Identifiers off.
    pub no_subscription_ids: Option<bool>,
    /// `maximum-qos`: 0, 1 or 2.
    pub maximum_qos: Option<u8>,
    /// `verbose`: print connects and disconnects.
    pub verbose: Option<bool>,
    /// `store`: the store file.
    pub store: Option<PathBuf>,
    /// `durability`: `"message"` or `"periodic"`.
    pub durability: Option<Durability>,
    /// `commit-interval`, in milliseconds.
    pub commit_interval: Option<u64>,
    /// `threads`: the runtime's worker threads.
    pub threads: Option<usize>,
}

impl Settings {
    /// Reads the settings of a config file's text.
    ///
    /// # Errors
    /// The TOML parser's message, with the line and column: for text that
    /// is not TOML, a key we do not know (named), a value of the wrong type
    /// (a negative number, a string for a number...) or a `deny` entry that
    /// is not a Topic Filter. Ranges are checked later, by
    /// [`BrokerConfig::apply`](super::BrokerConfig::apply).
    pub fn from_toml(text: &str) -> Result<Settings, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
    }

    /// Reads the config file at `path`, as [`from_toml`](Self::from_toml).
    ///
    /// # Errors
    /// `"PATH: why"`: the file cannot be read (as UTF-8), or
    /// [`from_toml`](Self::from_toml) refuses it.
    pub fn read(path: &Path) -> Result<Settings, String> {
        let text = std::fs::read_to_string(path);
        let text = text.map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// `deny = ["a/#", ...]`: each entry a Topic Filter.
fn topic_filters<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<TopicFilter>>, D::Error> {
    let strings = Vec::<String>::deserialize(d)?;
    let filter = |s: String| {
        TopicFilter::new(s.as_str())
            .map_err(|e| serde::de::Error::custom(format!("{s:?} is not a topic filter: {e}")))
    };
    strings
        .into_iter()
        .map(filter)
        .collect::<Result<_, _>>()
        .map(Some)
}
