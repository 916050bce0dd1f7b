//! [`ClientOptions`]: where and how a [`Client`](crate::Client) connects,
//! from a URL and a builder.

use mqtt_codec::{GenericPacket, ProtocolVersion};
use mqtt_core::client_settings::{ClientSettings, ClientUrl};

use crate::{Config, Error};

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
/// no session, as many QoS 1 and 2 messages in flight as the broker's
/// Receive Maximum allows (v3.1.1: at most 20), Nagle's algorithm off.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    host: String,
    port: u16,
    pub(crate) transport: Transport,
    /// The WebSocket request path.
    pub(crate) path: String,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<std::sync::Arc<crate::tls::rustls::ClientConfig>>,
    /// What every client's connections share.
    pub(crate) settings: ClientSettings,
    /// Shared with each connection's driver (kept once per client; the
    /// default one, by every client that keeps it).
    pub(crate) config: std::sync::Arc<Config>,
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
        let bad_url = |e: String| invalid(format!("{url}: {e}"));
        let parts = ClientUrl::split(url).map_err(bad_url)?;
        let transport = match parts.scheme {
            "mqtt" | "tcp" => Transport::Tcp,
            "mqtts" | "ssl" => Transport::Tls,
            "ws" => Transport::Ws,
            "wss" => Transport::Wss,
            other => return Err(invalid(format!("{url}: unknown scheme {other:?}"))),
        };
        let (host, port) = parts.host_port(transport.default_port()).map_err(bad_url)?;
        let mut options = ClientOptions::with_address(host, port);
        options.transport = transport;
        options.path = match (parts.path, transport) {
            ("" | "/", Transport::Ws | Transport::Wss) => "/mqtt".to_owned(),
            (path, _) => path.to_owned(),
        };
        options.settings.apply_url(&parts).map_err(bad_url)?;
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
            settings: ClientSettings::default(),
            config: Config::shared_default(),
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

    mqtt_core::client_settings_builder!(settings, Error, "crate::Client");

    /// The driver's buffers and timeouts ([`Config`]).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config.into();
        self
    }

    /// The CONNECT of an attempt (see [`ClientSettings::connect_packet`]),
    /// with the Client Identifier of the settings.
    pub(crate) fn connect_packet(&self, resume: bool) -> Result<GenericPacket<u16>, Error> {
        let settings = &self.settings;
        settings
            .connect_packet(resume, &settings.client_id)
            .map_err(bad)
    }

    /// The MQTT version.
    pub(crate) fn protocol_version(&self) -> ProtocolVersion {
        self.settings.version
    }

    /// The Client Identifier: as configured, until a client replaces it
    /// with the one to resume with.
    pub(crate) fn client_identifier(&self) -> &str {
        &self.settings.client_id
    }
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

    /// Clients with the default `Config` share one; a `Config` given is
    /// the client's own.
    #[test]
    fn the_default_config_is_shared() {
        let a = ClientOptions::new("mqtt://a").unwrap();
        let b = ClientOptions::with_address("b", 1883);
        assert!(std::sync::Arc::ptr_eq(&a.config, &b.config));
        let c = b.config(Config {
            incoming_capacity: 3,
            ..Config::default()
        });
        assert!(!std::sync::Arc::ptr_eq(&a.config, &c.config));
        assert_eq!(c.config.incoming_capacity, 3);
    }

    #[test]
    fn urls() {
        let o = ClientOptions::new("mqtt://localhost").unwrap();
        assert_eq!(o.address(), ("localhost", 1883));
        assert_eq!(o.settings.client_id, "");
        let o = ClientOptions::new("mqtt://u:p@[::1]:1999/?client_id=abc").unwrap();
        assert_eq!(o.address(), ("::1", 1999));
        assert_eq!(o.settings.client_id, "abc");
        assert_eq!(o.settings.user_name.as_deref(), Some("u"));
        assert_eq!(o.settings.password.as_deref(), Some(&b"p"[..]));
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
        assert_eq!(
            (o.transport, o.settings.client_id.as_str()),
            (Transport::Wss, "w")
        );
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
}
