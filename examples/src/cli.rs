//! What the client examples share on the command line (clap): the broker's
//! URL and the MQTT version, QoS values, and errors printed for people.

use std::fmt;

use mqtt_codec::{Message, ProtocolVersion, QoS};
use mqtt_tokio::{Client, ClientOptions, Messages};

/// The command line of the `publish` examples.
#[derive(clap::Parser, Debug)]
#[command(about = "Publishes one message to an MQTT broker and waits for its acknowledgement")]
pub struct PublishArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub broker: Broker,
    /// QoS 0, 1 or 2.
    #[arg(short, long, default_value = "1", value_parser = qos)]
    pub qos: QoS,
    /// Keep the message as the topic's retained message.
    #[arg(short, long)]
    pub retain: bool,
    /// The topic to publish to.
    #[arg(default_value = "mqtt-workspace/hello")]
    pub topic: String,
    /// The message.
    #[arg(default_value = "hello from mqtt-workspace")]
    pub message: String,
}

/// The command line of the `subscribe` examples.
#[derive(clap::Parser, Debug)]
#[command(about = "Subscribes to a topic filter of an MQTT broker and prints each message")]
pub struct SubscribeArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub broker: Broker,
    /// The maximum QoS to receive with: 0, 1 or 2.
    #[arg(short, long, default_value = "1", value_parser = qos)]
    pub qos: QoS,
    /// Exit after this many messages.
    #[arg(short, long)]
    pub count: Option<usize>,
    /// The topic filter (`+` and `#` are wildcards).
    #[arg(default_value = "mqtt-workspace/#")]
    pub filter: String,
}

/// Where to connect, and with which MQTT version.
#[derive(clap::Args, Debug, Clone)]
pub struct Broker {
    /// The broker's URL.
    #[arg(short, long, default_value = "mqtt://127.0.0.1:1883")]
    pub broker: String,
    /// The MQTT version: 5 or 3.1.1.
    #[arg(short = 'V', long = "mqtt", default_value = "5", value_parser = version)]
    pub version: ProtocolVersion,
}

impl Broker {
    /// Connects a [`Client`] named `name` and the process id; a broker
    /// that is not there gets an error that says how to start one.
    pub async fn connect(&self, name: &str) -> Result<(Client, Messages), Report> {
        let options = ClientOptions::new(&self.broker)?
            .client_id(format!("{name}-{}", std::process::id()))
            .version(self.version);
        Client::connect(options)
            .await
            .map_err(|e| self.explain(e.io_kind(), e))
    }

    /// Connects `mqtt-std`'s blocking [`mqtt_std::Client`] named `name`
    /// and the process id, like [`connect`](Self::connect).
    pub fn connect_std(
        &self,
        name: &str,
    ) -> Result<(mqtt_std::Client, mqtt_std::Messages), Report> {
        let options = mqtt_std::ClientOptions::new(&self.broker)?
            .client_id(format!("{name}-{}", std::process::id()))
            .version(self.version);
        mqtt_std::Client::connect(options).map_err(|e| self.explain(e.io_kind(), e))
    }

    /// An error of connecting, for people: a broker that is not there gets
    /// how to start one.
    fn explain(&self, kind: std::io::ErrorKind, e: impl fmt::Display) -> Report {
        match kind {
            std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::TimedOut => {
                Report(format!(
                    "no broker at {}? start one with `cargo run --release --example broker` ({e})",
                    self.broker
                ))
            }
            _ => Report(format!("{}: {e}", self.broker)),
        }
    }
}

/// Prints a received message: its Topic Name and its payload as text.
pub fn print(message: Message) {
    let text = String::from_utf8_lossy(message.payload());
    println!("{} {text}", message.topic_name());
}

/// `5` (or `5.0`) or `3.1.1` (or `3`, `4`).
pub fn version(s: &str) -> Result<ProtocolVersion, String> {
    match s.trim_start_matches(['v', 'V']) {
        "5" | "5.0" => Ok(ProtocolVersion::V5_0),
        "3" | "3.1.1" | "4" | "311" => Ok(ProtocolVersion::V3_1_1),
        other => Err(format!("unknown MQTT version {other:?}: use 5 or 3.1.1")),
    }
}

/// `0`, `1` or `2`.
pub fn qos(s: &str) -> Result<QoS, String> {
    match s {
        "0" => Ok(QoS::AtMostOnce),
        "1" => Ok(QoS::AtLeastOnce),
        "2" => Ok(QoS::ExactlyOnce),
        other => Err(format!("unknown QoS {other:?}: use 0, 1 or 2")),
    }
}

/// An error as an example's `main` returns it: printed as its message
/// (`Error: no broker at ...`), not as a debug dump.
pub struct Report(pub String);

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: fmt::Display> From<E> for Report {
    fn from(e: E) -> Self {
        Report(e.to_string())
    }
}
