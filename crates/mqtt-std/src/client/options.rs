//! [`ClientOptions`]: where and how a [`Client`](crate::Client) connects,
//! from a URL and a builder. The same names and defaults as mqtt-tokio's.

use std::num::{NonZeroU16, NonZeroU32};
use std::time::Duration;

use bytes::Bytes;
use mqtt_codec::v5_0::SubscriptionOptions;
use mqtt_codec::{Message, ProtocolVersion, QoS, TopicFilter};
use mqtt_core::{ConnectionOptions, Reconnect};

use super::Error;

/// QoS 1 and 2 messages in flight by default ([`ClientOptions::send_maximum`]).
const DEFAULT_SEND_MAXIMUM: u16 = 20;

/// How a [`Client`](crate::Client) connects: the broker's address from a
/// URL, then what its CONNECT says and how it behaves, by builder methods.
///
/// ```
/// use std::time::Duration;
/// use mqtt_std::{ClientOptions, Reconnect};
/// use mqtt_std::codec::ProtocolVersion;
///
/// let options = ClientOptions::new("mqtt://user:secret@broker.example:1884")?
///     .client_id("meter-7")
///     .version(ProtocolVersion::V3_1_1)
///     .keep_alive(Duration::from_secs(30))
///     .reconnect(Reconnect::new(Duration::from_millis(100), Duration::from_secs(30)));
/// assert_eq!(options.address(), ("broker.example", 1884));
/// assert!(ClientOptions::new("mqtts://broker.example").is_err(), "TCP only");
/// # Ok::<(), mqtt_std::Error>(())
/// ```
///
/// Defaults: MQTT 5.0, port 1883, Keep Alive 60 s, a Client Identifier
/// assigned by the server (v5.0) or made up (v3.1.1), a clean first
/// session that lasts 1 hour past a disconnection on v5.0 (so that a
/// reconnection resumes it), automatic reconnection (100 ms doubling to
/// 30 s, ± 25 % jitter), subscriptions made again when a reconnection finds
/// no session, at most 20 QoS 1 and 2 messages in flight, Nagle's
/// algorithm off, 10 s to connect, a command queue of 64 calls, 256
/// received messages waiting for [`Messages`](crate::Messages).
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) client_id: String,
    pub(super) version: ProtocolVersion,
    pub(super) keep_alive: u16,
    pub(super) clean_start: bool,
    pub(super) session_expiry_interval: u32,
    pub(super) user_name: Option<String>,
    pub(super) password: Option<Bytes>,
    pub(super) will: Option<Message>,
    pub(super) receive_maximum: Option<NonZeroU16>,
    pub(super) maximum_packet_size: Option<NonZeroU32>,
    pub(crate) reconnect: Option<Reconnect>,
    pub(crate) resubscribe: bool,
    /// Subscribed with the first CONNECT.
    pub(crate) subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
    pub(crate) nodelay: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) command_capacity: usize,
    pub(crate) incoming_capacity: usize,
    pub(crate) connection: ConnectionOptions,
}

impl ClientOptions {
    /// Options for the broker at `url`:
    /// `mqtt://[user[:password]@]host[:port][?client_id=ID]` (TCP, port
    /// 1883 by default; `tcp://` is the same). A bracketed IPv6 host works.
    /// Errs with [`Error::InvalidOptions`] on another scheme (this client
    /// speaks plain TCP; mqtt-tokio has TLS and WebSocket) or a malformed
    /// URL.
    pub fn new(url: &str) -> Result<Self, Error> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid(format!("{url}: not a URL (mqtt://host:port)")))?;
        if !matches!(scheme, "mqtt" | "tcp") {
            let why = format!("{url}: scheme {scheme:?} is not supported (mqtt:// only)");
            return Err(invalid(why));
        }
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('/') {
            return Err(invalid(format!("{url}: an MQTT URL has no path")));
        }
        let (user_info, host_port) = match authority.rsplit_once('@') {
            Some((user_info, host_port)) => (Some(user_info), host_port),
            None => (None, authority),
        };
        let (host, port) = split_host_port(host_port, 1883)
            .ok_or_else(|| invalid(format!("{url}: no host, or a bad port")))?;
        let mut options = ClientOptions::with_address(host, port);
        if let Some(user_info) = user_info {
            let (user, password) = match user_info.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (user_info, None),
            };
            options.user_name = Some(user.to_owned());
            options.password = password.map(|p| Bytes::copy_from_slice(p.as_bytes()));
        }
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("client_id", id)) => options.client_id = id.to_owned(),
                _ => return Err(invalid(format!("{url}: unknown query `{pair}`"))),
            }
        }
        Ok(options)
    }

    /// Options for the broker at `host`:`port` over TCP.
    pub fn with_address(host: impl Into<String>, port: u16) -> Self {
        let mut connection = ConnectionOptions::default();
        connection.send_maximum = NonZeroU16::new(DEFAULT_SEND_MAXIMUM);
        ClientOptions {
            host: host.into(),
            port,
            client_id: String::new(),
            version: ProtocolVersion::V5_0,
            keep_alive: 60,
            clean_start: true,
            session_expiry_interval: 3600,
            user_name: None,
            password: None,
            will: None,
            receive_maximum: None,
            maximum_packet_size: None,
            reconnect: Some(Reconnect::default()),
            resubscribe: true,
            subscriptions: Vec::new(),
            nodelay: true,
            connect_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            command_capacity: 64,
            incoming_capacity: 256,
            connection,
        }
    }

    /// The broker's host and port.
    pub fn address(&self) -> (&str, u16) {
        (&self.host, self.port)
    }

    /// The Client Identifier (§3.1.3.1); it names the session a
    /// reconnection resumes. Empty (the default): the server assigns one
    /// on v5.0, and on v3.1.1 the client makes one up.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// The MQTT version (default 5.0).
    pub fn version(mut self, version: ProtocolVersion) -> Self {
        self.version = version;
        self
    }

    /// The Keep Alive (§3.1.2.10), in whole seconds up to 65,535 (0: none).
    /// Default 60 s. A client that hears nothing for it closes and
    /// reconnects.
    pub fn keep_alive(mut self, keep_alive: Duration) -> Self {
        self.keep_alive = keep_alive.as_secs().min(u64::from(u16::MAX)) as u16;
        self
    }

    /// Whether the first connection starts a new session (Clean Start /
    /// Clean Session 1; default true). Reconnections always resume.
    pub fn clean_start(mut self, clean_start: bool) -> Self {
        self.clean_start = clean_start;
        self
    }

    /// v5.0: how long the broker keeps the session after a disconnection,
    /// in seconds (§3.1.2.11.2; default 3600). On v3.1.1 a session lasts
    /// until a Clean Session 1 ends it, and the first connection asks for
    /// Clean Session 0 when this is not 0.
    pub fn session_expiry_interval(mut self, seconds: u32) -> Self {
        self.session_expiry_interval = seconds;
        self
    }

    /// User Name and Password (§3.1.3.5, §3.1.3.6).
    pub fn credentials(mut self, user_name: impl Into<String>, password: impl Into<Bytes>) -> Self {
        self.user_name = Some(user_name.into());
        self.password = Some(password.into());
        self
    }

    /// The Will Message the broker publishes if this client goes away
    /// without a DISCONNECT (§3.1.2.5): its Topic Name, payload, QoS and
    /// retain flag.
    pub fn will(mut self, will: Message) -> Self {
        self.will = Some(will);
        self
    }

    /// v5.0: the Receive Maximum this client announces (§3.1.2.11.3):
    /// QoS 1 and 2 messages the broker may send before their
    /// acknowledgements.
    pub fn receive_maximum(mut self, receive_maximum: NonZeroU16) -> Self {
        self.receive_maximum = Some(receive_maximum);
        self
    }

    /// The most QoS 1 and 2 messages in flight at once (default 20), below
    /// the broker's Receive Maximum; more wait in the session's queue. On
    /// v3.1.1 the broker cannot announce its limit, and one that holds
    /// fewer may drop the excess while acknowledging it: mosquitto's
    /// default holds 20.
    pub fn send_maximum(mut self, send_maximum: NonZeroU16) -> Self {
        self.connection.send_maximum = Some(send_maximum);
        self
    }

    /// v5.0: the largest packet this client accepts (§3.1.2.11.4).
    pub fn maximum_packet_size(mut self, size: NonZeroU32) -> Self {
        self.maximum_packet_size = Some(size);
        self
    }

    /// v5.0: let the connection map Topic Names to Topic Aliases it
    /// numbers itself, up to the broker's Topic Alias Maximum (§3.3.2.3.4).
    pub fn topic_alias_automation(mut self, on: bool) -> Self {
        self.connection.auto_map_topic_alias_send = on;
        self.connection.auto_replace_topic_alias_send = on;
        self
    }

    /// How to reconnect after the network connection is lost; `None`: do
    /// not (the client then ends with the connection).
    pub fn reconnect(mut self, reconnect: impl Into<Option<Reconnect>>) -> Self {
        self.reconnect = reconnect.into();
        self
    }

    /// Whether a reconnection that finds no session (Session Present 0)
    /// subscribes again to what the client subscribed (default true).
    pub fn resubscribe(mut self, on: bool) -> Self {
        self.resubscribe = on;
        self
    }

    /// Subscribes to `filter` with maximum QoS `qos` as part of connecting:
    /// the SUBSCRIBE leaves right after the first CONNECT, without waiting
    /// for the CONNACK (§3.1.4), so that the first messages arrive a round
    /// trip sooner than with [`Client::subscribe`](crate::Client::subscribe)
    /// after [`Client::connect`](crate::Client::connect). Like one made by
    /// `subscribe`, it is made again when a reconnection finds no session.
    /// Its SUBACK is not reported. Errs with [`Error::Topic`] on an invalid
    /// Topic Filter.
    pub fn subscribe(mut self, filter: &str, qos: QoS) -> Result<Self, Error> {
        let filter = TopicFilter::try_from(filter)?;
        self.subscriptions.push((filter, qos.into()));
        Ok(self)
    }

    /// Whether to turn Nagle's algorithm off (TCP_NODELAY; default true):
    /// with it on, small packets wait for the acknowledgement of earlier
    /// ones, up to the peer's delayed-ACK timeout.
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// How long one attempt may take, from the TCP connect to the CONNACK
    /// (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The core's automation and limits ([`ConnectionOptions`]); the
    /// defaults suit a client. Offline publishing:
    /// [`ConnectionOptions::offline_publish`].
    pub fn connection_options(mut self, options: ConnectionOptions) -> Self {
        self.connection = options;
        self
    }

    /// How many calls (publish, subscribe, unsubscribe) wait for the
    /// connection at most (default 64; at least 1): while it is down, or
    /// while the broker is slower than the application. Past it,
    /// [`Client::publish`](crate::Client::publish) waits and
    /// [`Client::try_publish`](crate::Client::try_publish) errs with
    /// [`Error::Full`].
    pub fn command_capacity(mut self, capacity: usize) -> Self {
        self.command_capacity = capacity.max(1);
        self
    }

    /// How many received messages wait for [`Messages`](crate::Messages)
    /// (default 256; at least 1). Past it the client stops reading the
    /// socket, and the broker's sends wait in TCP.
    pub fn incoming_capacity(mut self, capacity: usize) -> Self {
        self.incoming_capacity = capacity.max(1);
        self
    }

    /// How long [`Client::disconnect`](crate::Client::disconnect) lets the
    /// messages waiting in the session for the broker's Receive Maximum go
    /// out before the DISCONNECT (default 5 s).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// The MQTT version.
    pub(crate) fn protocol_version(&self) -> ProtocolVersion {
        self.version
    }

    /// The Client Identifier as configured.
    pub(crate) fn configured_client_id(&self) -> &str {
        &self.client_id
    }
}

/// `host[:port]` or `[v6]:port`, the port `default` when absent.
fn split_host_port(s: &str, default: u16) -> Option<(&str, u16)> {
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (host, rest) = v6.split_once(']')?;
        (host, rest.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (s, None),
        }
    };
    let port = match port {
        Some(port) => port.parse().ok()?,
        None => default,
    };
    (!host.is_empty()).then_some((host, port))
}

fn invalid(message: String) -> Error {
    Error::InvalidOptions(message)
}

pub(super) fn bad(e: impl std::fmt::Display) -> Error {
    invalid(e.to_string())
}
