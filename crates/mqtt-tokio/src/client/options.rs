//! [`ClientOptions`]: where and how a [`Client`](crate::Client) connects,
//! from a URL and a builder.

use std::num::{NonZeroU16, NonZeroU32};
use std::time::Duration;

use bytes::Bytes;
use mqtt_codec::v5_0::SubscriptionOptions;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, Message, ProtocolVersion, QoS, TopicFilter};
use mqtt_core::ConnectionOptions;

use crate::{Config, Error};
use mqtt_core::Reconnect;

/// QoS 1 and 2 messages in flight by default ([`ClientOptions::send_maximum`]).
const DEFAULT_SEND_MAXIMUM: u16 = 20;

/// How a [`Client`](crate::Client) connects: the broker's address from a
/// URL, then what its CONNECT says and how it behaves, by builder methods.
///
/// ```
/// use std::time::Duration;
/// use mqtt_tokio::{ClientOptions, Reconnect};
/// use mqtt_tokio::codec::ProtocolVersion;
///
/// let options = ClientOptions::new("mqtt://user:secret@broker.example:1884")?
///     .client_id("meter-7")
///     .version(ProtocolVersion::V3_1_1)
///     .keep_alive(Duration::from_secs(30))
///     .reconnect(Reconnect::new(Duration::from_millis(100), Duration::from_secs(30)));
/// assert_eq!(options.address(), ("broker.example", 1884));
/// # Ok::<(), mqtt_tokio::Error>(())
/// ```
///
/// Defaults: MQTT 5.0, port 1883, Keep Alive 60 s, a Client Identifier
/// assigned by the server (v5.0) or made up from the time (v3.1.1), a clean
/// first session that lasts 1 hour past a disconnection on v5.0 (so that a
/// reconnection resumes it), automatic reconnection (100 ms doubling to
/// 30 s, ± 25 % jitter), subscriptions made again when a reconnection finds
/// no session, at most 20 QoS 1 and 2 messages in flight, Nagle's
/// algorithm off.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    host: String,
    port: u16,
    pub(crate) transport: Transport,
    /// The WebSocket request path.
    pub(crate) path: String,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<std::sync::Arc<crate::tls::rustls::ClientConfig>>,
    client_id: String,
    version: ProtocolVersion,
    keep_alive: u16,
    clean_start: bool,
    session_expiry_interval: u32,
    user_name: Option<String>,
    password: Option<Bytes>,
    will: Option<Message>,
    receive_maximum: Option<NonZeroU16>,
    maximum_packet_size: Option<NonZeroU32>,
    pub(crate) reconnect: Option<Reconnect>,
    pub(crate) resubscribe: bool,
    /// Subscribed with the first CONNECT.
    pub(crate) subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
    pub(crate) nodelay: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) connection: ConnectionOptions,
    pub(crate) config: Config,
}

impl ClientOptions {
    /// Options for the broker at `url`:
    /// `SCHEME://[user[:password]@]host[:port][/path][?client_id=ID]` with
    /// the scheme `mqtt` (TCP, port 1883), `mqtts` (TLS, 8883; feature
    /// `tls`, with `tls_config`), `ws` (WebSocket, 80)
    /// or `wss` (WebSocket over TLS, 443; features `websocket` and `tls`).
    /// A WebSocket URL without a path asks for `/mqtt`. A bracketed IPv6
    /// host works. Errs with an [`Error::Io`] of kind `InvalidInput` on
    /// another scheme or a malformed URL.
    pub fn new(url: &str) -> Result<Self, Error> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid(format!("{url}: not a URL (mqtt://host:port)")))?;
        let transport = match scheme {
            "mqtt" | "tcp" => Transport::Tcp,
            "mqtts" | "ssl" => Transport::Tls,
            "ws" => Transport::Ws,
            "wss" => Transport::Wss,
            other => return Err(invalid(format!("{url}: unknown scheme {other:?}"))),
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = match rest.find('/') {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        let (user_info, host_port) = match authority.rsplit_once('@') {
            Some((user_info, host_port)) => (Some(user_info), host_port),
            None => (None, authority),
        };
        let (host, port) = split_host_port(host_port, transport.default_port())
            .ok_or_else(|| invalid(format!("{url}: no host, or a bad port")))?;
        let mut options = ClientOptions::with_address(host, port);
        options.transport = transport;
        options.path = match (path, transport) {
            ("" | "/", Transport::Ws | Transport::Wss) => "/mqtt".to_owned(),
            _ => path.to_owned(),
        };
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
        ClientOptions {
            host: host.into(),
            port,
            transport: Transport::Tcp,
            path: String::new(),
            #[cfg(feature = "tls")]
            tls: None,
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
            connection: default_connection_options(),
            config: Config::default(),
        }
    }

    /// The broker's host and port.
    pub fn address(&self) -> (&str, u16) {
        (&self.host, self.port)
    }

    /// The TLS configuration of `mqtts://` and `wss://` (its root
    /// certificates decide which brokers are trusted); the broker's
    /// certificate must name the URL's host. Feature `tls`.
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, config: std::sync::Arc<crate::tls::rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
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
    /// Its SUBACK is not reported (a refusal is logged). Errs with
    /// [`Error::Topic`] on an invalid Topic Filter.
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

    /// The driver's buffers and timeouts ([`Config`]).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The CONNECT of an attempt: `resume` after the first connection
    /// (Clean Start 0), with `client_id` (the one the server assigned, if
    /// any).
    pub(crate) fn connect_packet(
        &self,
        resume: bool,
        client_id: &str,
    ) -> Result<GenericPacket<u16>, Error> {
        let clean_start = self.clean_start && !resume;
        let packet = match self.version {
            ProtocolVersion::V3_1_1 => {
                let mut b = v3_1_1::Connect::builder();
                b.try_client_id(client_id)
                    .map_err(bad)?
                    .keep_alive(self.keep_alive)
                    .clean_session(clean_start && self.session_expiry_interval == 0);
                if let Some(user) = &self.user_name {
                    b.try_user_name(user.as_str()).map_err(bad)?;
                }
                if let Some(password) = &self.password {
                    b.try_password(password.clone()).map_err(bad)?;
                }
                if let Some(will) = &self.will {
                    let mut w = v3_1_1::Will::builder();
                    w.topic(will.to_topic_name())
                        .try_message(will.payload_bytes())
                        .map_err(bad)?
                        .qos(will.qos())
                        .retain(will.retain());
                    b.will(w.build().map_err(bad)?);
                }
                GenericPacket::V3_1_1(b.build().map_err(bad)?.into())
            }
            ProtocolVersion::V5_0 => {
                let mut b = v5_0::Connect::builder();
                let properties = v5_0::ConnectProperties {
                    session_expiry_interval: Some(self.session_expiry_interval).filter(|&s| s != 0),
                    receive_maximum: self.receive_maximum,
                    maximum_packet_size: self.maximum_packet_size,
                    ..Default::default()
                };
                b.try_client_id(client_id)
                    .map_err(bad)?
                    .keep_alive(self.keep_alive)
                    .clean_start(clean_start)
                    .properties(properties);
                if let Some(user) = &self.user_name {
                    b.try_user_name(user.as_str()).map_err(bad)?;
                }
                if let Some(password) = &self.password {
                    b.try_password(password.clone()).map_err(bad)?;
                }
                if let Some(will) = &self.will {
                    let mut w = v5_0::Will::builder();
                    w.topic(will.to_topic_name())
                        .try_payload(will.payload_bytes())
                        .map_err(bad)?
                        .qos(will.qos())
                        .retain(will.retain());
                    b.will(Box::new(w.build().map_err(bad)?));
                }
                GenericPacket::V5_0(b.build().map_err(bad)?.into())
            }
        };
        Ok(packet)
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

/// The core's defaults, with [`DEFAULT_SEND_MAXIMUM`].
fn default_connection_options() -> ConnectionOptions {
    let mut options = ConnectionOptions::default();
    options.send_maximum = NonZeroU16::new(DEFAULT_SEND_MAXIMUM);
    options
}

/// How the bytes travel, from the URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Tcp,
    Tls,
    Ws,
    Wss,
}

impl Transport {
    fn default_port(self) -> u16 {
        match self {
            Transport::Tcp => 1883,
            Transport::Tls => 8883,
            Transport::Ws => 80,
            Transport::Wss => 443,
        }
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
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        message,
    ))
}

fn bad(e: impl std::fmt::Display) -> Error {
    invalid(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let o = ClientOptions::new("mqtt://localhost").unwrap();
        assert_eq!(o.address(), ("localhost", 1883));
        assert_eq!(o.client_id, "");
        let o = ClientOptions::new("mqtt://u:p@[::1]:1999/?client_id=abc").unwrap();
        assert_eq!(o.address(), ("::1", 1999));
        assert_eq!(o.client_id, "abc");
        assert_eq!(o.user_name.as_deref(), Some("u"));
        assert_eq!(o.password.as_deref(), Some(&b"p"[..]));
        let o = ClientOptions::new("tcp://10.0.0.1:1884").unwrap();
        assert_eq!(o.address(), ("10.0.0.1", 1884));
        let o = ClientOptions::new("mqtts://broker").unwrap();
        assert_eq!(
            (o.address(), o.transport),
            (("broker", 8883), Transport::Tls)
        );
        let o = ClientOptions::new("ws://broker").unwrap();
        assert_eq!((o.address(), o.path.as_str()), (("broker", 80), "/mqtt"));
        let o = ClientOptions::new("wss://u@broker:9001/ws?client_id=w").unwrap();
        assert_eq!((o.address(), o.path.as_str()), (("broker", 9001), "/ws"));
        assert_eq!((o.transport, o.client_id.as_str()), (Transport::Wss, "w"));
        for bad in [
            "http://x",
            "localhost:1883",
            "mqtt://",
            "mqtt://h:port",
            "mqtt://h:99999",
            "mqtt://h?x=1",
        ] {
            assert!(ClientOptions::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn connect_packets() {
        let o = ClientOptions::new("mqtt://h?client_id=c").unwrap();
        let GenericPacket::V5_0(v5_0::Packet::Connect(c)) = o.connect_packet(false, "c").unwrap()
        else {
            panic!("a v5.0 CONNECT")
        };
        assert!(c.clean_start());
        assert_eq!(c.keep_alive(), 60);
        assert_eq!(c.properties().session_expiry_interval, Some(3600));
        let GenericPacket::V5_0(v5_0::Packet::Connect(c)) = o.connect_packet(true, "c").unwrap()
        else {
            panic!("a v5.0 CONNECT")
        };
        assert!(!c.clean_start(), "a reconnection resumes");

        let o = o
            .version(ProtocolVersion::V3_1_1)
            .session_expiry_interval(0);
        let GenericPacket::V3_1_1(v3_1_1::Packet::Connect(c)) =
            o.connect_packet(false, "c").unwrap()
        else {
            panic!("a v3.1.1 CONNECT")
        };
        assert!(c.clean_session(), "no session kept: Clean Session 1");
        let o = o.session_expiry_interval(60);
        let GenericPacket::V3_1_1(v3_1_1::Packet::Connect(c)) =
            o.connect_packet(false, "c").unwrap()
        else {
            panic!("a v3.1.1 CONNECT")
        };
        assert!(!c.clean_session(), "a session to resume: Clean Session 0");
    }

    #[test]
    fn limits_go_into_the_connect_and_the_connection() {
        let o = ClientOptions::new("mqtt://h")
            .unwrap()
            .receive_maximum(NonZeroU16::new(5).unwrap())
            .maximum_packet_size(NonZeroU32::new(4096).unwrap());
        assert_eq!(
            o.connection.send_maximum,
            NonZeroU16::new(20),
            "the default"
        );
        let GenericPacket::V5_0(v5_0::Packet::Connect(c)) = o.connect_packet(false, "c").unwrap()
        else {
            panic!("a v5.0 CONNECT")
        };
        assert_eq!(c.properties().receive_maximum, NonZeroU16::new(5));
        assert_eq!(c.properties().maximum_packet_size, NonZeroU32::new(4096));
        let o = o.send_maximum(NonZeroU16::new(3).unwrap());
        assert_eq!(o.connection.send_maximum, NonZeroU16::new(3));
        assert_eq!(o.configured_client_id(), "");
        assert_eq!(o.client_id("x").configured_client_id(), "x");
    }
}
