//! [`Settings`]: the values one source gives (the command line), each
//! `None` where that source says nothing.

use std::net::SocketAddr;

use mqtt_codec::TopicFilter;

/// The values one source gives, by their flag names without the dashes
/// (`max-packet-size`); [`BrokerConfig::apply`](super::BrokerConfig::apply)
/// checks them and lays them over a [`BrokerConfig`](super::BrokerConfig).
#[derive(Debug, Default, Clone, PartialEq)]
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
    /// `max-session-expiry`, in seconds.
    pub max_session_expiry: Option<u32>,
    /// `deny`: Topic Filters (all of them: a source's list replaces the
    /// list of the one below it).
    pub deny: Option<Vec<TopicFilter>>,
    /// `connect-timeout`, in seconds.
    pub connect_timeout: Option<u64>,
    /// `max-connections`.
    pub max_connections: Option<usize>,
    /// `max-sessions`.
    pub max_sessions: Option<usize>,
    /// `slow-consumer-timeout`, in seconds.
    pub slow_consumer_timeout: Option<u64>,
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
}
