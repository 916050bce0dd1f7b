//! [`ClientOptions`]: where and how a [`Client`](crate::Client) connects,
//! from a URL and a builder. The same names and defaults as mqtt-tokio's.

use std::time::Duration;

use mqtt_codec::ProtocolVersion;
use mqtt_core::client_settings::{ClientSettings, ClientUrl};

use super::Error;

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
/// no session, as many QoS 1 and 2 messages in flight as the broker's
/// Receive Maximum allows (v3.1.1: at most 20), Nagle's algorithm off, 10 s
/// to connect, a command queue of 64 calls, 256
/// received messages waiting for [`Messages`](crate::Messages).
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub(super) host: String,
    pub(super) port: u16,
    /// What every client's connections share.
    pub(crate) settings: ClientSettings,
    pub(crate) close_timeout: Duration,
    pub(crate) command_capacity: usize,
    pub(crate) incoming_capacity: usize,
}

impl ClientOptions {
    /// Options for the broker at `url`:
    /// `mqtt://[user[:password]@]host[:port][?client_id=ID]` (TCP, port
    /// 1883 by default; `tcp://` is the same). A bracketed IPv6 host works.
    /// Errs with [`Error::InvalidOptions`] on another scheme (this client
    /// speaks plain TCP; mqtt-tokio has TLS and WebSocket) or a malformed
    /// URL.
    pub fn new(url: &str) -> Result<Self, Error> {
        let bad_url = |e: String| invalid(format!("{url}: {e}"));
        let parts = ClientUrl::split(url).map_err(bad_url)?;
        if !matches!(parts.scheme, "mqtt" | "tcp") {
            let scheme = parts.scheme;
            let why = format!("{url}: scheme {scheme:?} is not supported (mqtt:// only)");
            return Err(invalid(why));
        }
        if !matches!(parts.path, "" | "/") {
            return Err(invalid(format!("{url}: an MQTT URL has no path")));
        }
        let (host, port) = parts.host_port(1883).map_err(bad_url)?;
        let mut options = ClientOptions::with_address(host, port);
        options.settings.apply_url(&parts).map_err(bad_url)?;
        Ok(options)
    }

    /// Options for the broker at `host`:`port` over TCP.
    pub fn with_address(host: impl Into<String>, port: u16) -> Self {
        ClientOptions {
            host: host.into(),
            port,
            settings: ClientSettings::default(),
            close_timeout: Duration::from_secs(5),
            command_capacity: 64,
            incoming_capacity: 256,
        }
    }

    /// The broker's host and port.
    pub fn address(&self) -> (&str, u16) {
        (&self.host, self.port)
    }

    mqtt_core::client_settings_builder!(settings, Error, "crate::Client");

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
        self.settings.version
    }

    /// The Client Identifier as configured.
    pub(crate) fn configured_client_id(&self) -> &str {
        &self.settings.client_id
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidOptions(message)
}

pub(super) fn bad(e: impl std::fmt::Display) -> Error {
    invalid(e.to_string())
}
