//! [`BrokerConfig`]: the broker's address and limits, from command-line flags.

use std::net::SocketAddr;

use mqtt_codec::{QoS, TopicFilter};

/// The text `--help` prints: every flag, its default, and what it does.
pub const HELP: &str = "\
An MQTT v3.1.1 and v5.0 broker built on mqtt-tokio (an example).

USAGE: cargo run --example broker -- [FLAGS]

  --bind ADDR                  address to listen on (default 127.0.0.1:1883)
  --port N                     overrides the port of --bind (0: any free port)
  --max-packet-size BYTES      largest packet accepted from a client, announced to
                               v5.0 clients as Maximum Packet Size (default 1048576)
  --receive-maximum N          QoS 1 and 2 PUBLISHes a client may leave unacknowledged;
                               a v5.0 client exceeding it gets DISCONNECT 0x93 (default 100)
  --topic-alias-maximum N      highest Topic Alias a v5.0 client may use (default 10;
                               0: none). Aliases toward clients follow each client's maximum.
  --server-keep-alive SECS     Keep Alive imposed on v5.0 clients (Server Keep Alive)
  --max-keep-alive SECS        a v5.0 client keep alive above this (or 0) is lowered to it
                               through Server Keep Alive; v3.1.1 clients keep their own
  --max-queued N               messages a session's queue holds: those for its offline client,
                               and those waiting for its client's Receive Maximum (default
                               1000; beyond, new ones are dropped, as mosquitto does). QoS 0
                               messages are not queued for offline sessions.
  --max-queued-bytes BYTES     bytes (encoded PUBLISH sizes) a session's queue holds
                               (default 16777216); beyond, new messages are dropped
  --max-session-expiry SECS    longest Session Expiry Interval granted (v5.0: announced in
                               CONNACK when lowered; v3.1.1 Clean Session 0 sessions too)
  --deny FILTER                refuse SUBSCRIBE to FILTER or to filters it matches
                               (SUBACK 0x80); repeatable
  --connect-timeout SECS       close a connection that sends no CONNECT in time (default 10)
  --max-connections N          network connections served at once; more are closed at
                               once (default 100000)
  --max-sessions N             sessions kept at once (online and offline); a CONNECT that
                               would create one more is refused: v5.0 CONNACK 0x97 Quota
                               exceeded, v3.1.1 0x03 Server unavailable (default 100000)
  --slow-consumer-timeout SECS how long a message waits for room toward a client that does
                               not read (default 30). Overload policy: a copy for a client
                               whose channel is full waits, which stops reading from its
                               publisher (back-pressure); a client stalled this long is
                               disconnected (v5.0 DISCONNECT 0x97 Quota exceeded): its QoS 0
                               copy is dropped, its QoS 1 and 2 messages go into its session
                               (offline queue, --max-queued)
  --no-retain                  no retained messages (Retain Available 0)
  --no-wildcard                no wildcard subscriptions (v5.0: DISCONNECT 0xA2, v3.1.1: SUBACK 0x80)
  --no-shared                  no shared subscriptions (v5.0: DISCONNECT 0x9E, v3.1.1: SUBACK 0x80)
  --no-subscription-ids        no Subscription Identifiers (v5.0: DISCONNECT 0xA1)
  --maximum-qos N              highest QoS granted and accepted: 0, 1 or 2 (default 2)
  --verbose                    print connects and disconnects
  --help                       print this text and exit
";

/// The broker's address and limits; `Default` is what the flags default to.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Where to listen.
    pub bind: SocketAddr,
    /// The largest packet accepted from a client (and announced, v5.0).
    pub max_packet_size: u32,
    /// Our Receive Maximum.
    pub receive_maximum: u16,
    /// Our Topic Alias Maximum (v5.0).
    pub topic_alias_maximum: u16,
    /// A Server Keep Alive imposed on every v5.0 client.
    pub server_keep_alive: Option<u16>,
    /// The largest Keep Alive a v5.0 client keeps; larger ones (and 0) are
    /// lowered to it through Server Keep Alive.
    pub max_keep_alive: Option<u16>,
    /// Messages a session's queue holds: for its offline client, or waiting
    /// for its client's Receive Maximum.
    pub max_queued: usize,
    /// Bytes (encoded PUBLISH sizes) a session's queue holds.
    pub max_queued_bytes: usize,
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
    /// How long a QoS 1 or 2 copy waits for room toward a client that does
    /// not read before that client is disconnected, in seconds.
    pub slow_consumer_timeout: u64,
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
            max_session_expiry: None,
            deny: Vec::new(),
            connect_timeout: 10,
            max_connections: 100_000,
            max_sessions: 100_000,
            slow_consumer_timeout: 30,
            retain_available: true,
            wildcard_available: true,
            shared_available: true,
            subscription_ids_available: true,
            maximum_qos: QoS::ExactlyOnce,
            verbose: false,
        }
    }
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: {value:?} is not a valid number"))
}

impl BrokerConfig {
    /// Parses command-line flags (without the program name). `--help`
    /// prints [`HELP`] and exits the process; errs with a message on an
    /// unknown flag, a missing value or a value out of range.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<BrokerConfig, String> {
        let mut c = BrokerConfig::default();
        let mut port = None;
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let flag = flag.as_str();
            match flag {
                "--help" | "-h" => {
                    print!("{HELP}");
                    std::process::exit(0);
                }
                "--bind" => {
                    let v: String = args.next().ok_or("--bind needs an address")?;
                    c.bind = v.parse().map_err(|_| {
                        format!("--bind: {v:?} is not an address like 127.0.0.1:1883")
                    })?;
                }
                "--port" => port = Some(number::<u16>(flag, args.next())?),
                "--max-packet-size" => {
                    c.max_packet_size = number(flag, args.next())?;
                    if c.max_packet_size < 16 || c.max_packet_size > mqtt_codec::MAX_PACKET_SIZE {
                        return Err("--max-packet-size: from 16 to 268435460".into());
                    }
                }
                "--receive-maximum" => {
                    c.receive_maximum = number(flag, args.next())?;
                    if c.receive_maximum == 0 {
                        return Err("--receive-maximum: at least 1".into());
                    }
                }
                "--topic-alias-maximum" => c.topic_alias_maximum = number(flag, args.next())?,
                "--server-keep-alive" => c.server_keep_alive = Some(number(flag, args.next())?),
                "--max-keep-alive" => c.max_keep_alive = Some(number(flag, args.next())?),
                "--max-queued" => {
                    c.max_queued = number(flag, args.next())?;
                    if c.max_queued == 0 {
                        return Err("--max-queued: at least 1".into());
                    }
                }
                "--max-queued-bytes" => {
                    c.max_queued_bytes = number(flag, args.next())?;
                    if c.max_queued_bytes == 0 {
                        return Err("--max-queued-bytes: at least 1".into());
                    }
                }
                "--max-session-expiry" => c.max_session_expiry = Some(number(flag, args.next())?),
                "--deny" => {
                    let v: String = args.next().ok_or("--deny needs a topic filter")?;
                    let filter = TopicFilter::new(v.as_str())
                        .map_err(|e| format!("--deny: {v:?} is not a topic filter: {e}"))?;
                    c.deny.push(filter);
                }
                "--connect-timeout" => c.connect_timeout = number(flag, args.next())?,
                "--max-connections" => c.max_connections = number(flag, args.next())?,
                "--max-sessions" => c.max_sessions = number(flag, args.next())?,
                "--slow-consumer-timeout" => {
                    c.slow_consumer_timeout = number(flag, args.next())?;
                    if c.slow_consumer_timeout == 0 {
                        return Err("--slow-consumer-timeout: at least 1".into());
                    }
                }
                "--no-retain" => c.retain_available = false,
                "--no-wildcard" => c.wildcard_available = false,
                "--no-shared" => c.shared_available = false,
                "--no-subscription-ids" => c.subscription_ids_available = false,
                "--maximum-qos" => {
                    c.maximum_qos = match number::<u8>(flag, args.next())? {
                        0 => QoS::AtMostOnce,
                        1 => QoS::AtLeastOnce,
                        2 => QoS::ExactlyOnce,
                        _ => return Err("--maximum-qos: 0, 1 or 2".into()),
                    }
                }
                "--verbose" | "-v" => c.verbose = true,
                other => return Err(format!("unknown flag {other:?} (see --help)")),
            }
        }
        if let Some(port) = port {
            c.bind.set_port(port);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<BrokerConfig, String> {
        BrokerConfig::from_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags() {
        let c = parse(&[
            "--bind",
            "0.0.0.0:1000",
            "--port",
            "2000",
            "--deny",
            "secret/#",
            "--deny",
            "a/+",
            "--maximum-qos",
            "1",
            "--no-shared",
            "--max-session-expiry",
            "60",
            "--max-sessions",
            "5",
            "--slow-consumer-timeout",
            "2",
        ])
        .unwrap();
        assert_eq!(c.bind, "0.0.0.0:2000".parse().unwrap());
        assert_eq!(c.deny.len(), 2);
        assert_eq!(c.maximum_qos, QoS::AtLeastOnce);
        assert!(!c.shared_available && c.wildcard_available);
        assert_eq!(c.max_session_expiry, Some(60));
        assert_eq!((c.max_sessions, c.slow_consumer_timeout), (5, 2));
    }

    #[test]
    fn bad_flags() {
        assert!(parse(&["--what"]).is_err());
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--port", "x"]).is_err());
        assert!(parse(&["--maximum-qos", "3"]).is_err());
        assert!(parse(&["--deny", "a/#/b"]).is_err());
        assert!(parse(&["--receive-maximum", "0"]).is_err());
        assert!(parse(&["--slow-consumer-timeout", "0"]).is_err());
    }

    #[test]
    fn help_lists_every_flag() {
        for flag in [
            "--bind",
            "--port",
            "--max-packet-size",
            "--receive-maximum",
            "--topic-alias-maximum",
            "--server-keep-alive",
            "--max-keep-alive",
            "--max-queued",
            "--max-queued-bytes",
            "--max-session-expiry",
            "--deny",
            "--connect-timeout",
            "--max-connections",
            "--max-sessions",
            "--slow-consumer-timeout",
            "--no-retain",
            "--no-wildcard",
            "--no-shared",
            "--no-subscription-ids",
            "--maximum-qos",
            "--verbose",
        ] {
            assert!(HELP.contains(flag), "{flag}");
        }
    }
}
