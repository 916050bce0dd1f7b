//! Connects to an MQTT broker, subscribes to a topic filter, and prints
//! every message that arrives (blocking, with `mqtt-std`). Keep alive runs
//! while it waits.
//!
//! ```text
//! cargo run -p mqtt-examples --example subscribe -- [ADDR] [VERSION] [QOS] [FILTER] [COUNT]
//! ```
//!
//! Defaults: `127.0.0.1:1883`, MQTT `5` (or `3.1.1`), QoS `1`,
//! `mqtt-workspace/#`; with COUNT it exits after that many messages.

use std::time::Duration;

use mqtt_examples::{connect, print_received, subscribe, Args, Error};
use mqtt_std::prelude::*;

fn main() -> Result<(), Error> {
    let args = Args::from_env();
    let addr = args.get(0, "127.0.0.1:1883");
    let version = args.version(1, "5")?;
    let qos = args.qos(2, "1")?;
    let filter = TopicFilter::new(args.get(3, "mqtt-workspace/#").as_str())?;
    let count: Option<usize> = args.optional(4).map(str::parse).transpose()?;

    // The defaults acknowledge received PUBLISH packets on receipt.
    let options = ConnectionOptions::default();
    let client_id = format!("mqtt-std-subscribe-{}", std::process::id());
    let connect = connect(version, &client_id, 30)?;
    let (mut client, _connack) =
        ClientEndpoint::connect(addr.as_str(), connect, options, Duration::from_secs(10))?;
    println!("connected to {addr} with MQTT {version:?}");

    let id = client.acquire_packet_id()?;
    let subscribe = subscribe(version, id, &filter, qos)?;
    client.send_generic(subscribe)?;

    // `recv` blocks (sending PINGREQ when the keep alive says) until a
    // packet arrives: the SUBACK, then the messages.
    let mut received = 0;
    while count.is_none_or(|c| received < c) {
        if print_received(&client.recv()?, &filter) {
            received += 1;
        }
    }
    client.close()?;
    Ok(())
}
