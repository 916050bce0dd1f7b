//! Connects to an MQTT broker, subscribes to a topic filter, and prints
//! every message that arrives (async, with `mqtt-tokio`). Keep alive runs
//! in the driver task while it waits.
//!
//! ```text
//! cargo run -p mqtt-examples --example subscribe_tokio -- [ADDR] [VERSION] [QOS] [FILTER] [COUNT]
//! ```
//!
//! Defaults: `127.0.0.1:1883`, MQTT `5` (or `3.1.1`), QoS `1`,
//! `mqtt-workspace/#`; with COUNT it exits after that many messages.

use std::time::Duration;

use mqtt_examples::{connect, print_received, subscribe, Args, Error};
use mqtt_tokio::prelude::*;
use tokio::time::timeout;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args = Args::from_env();
    let addr = args.get(0, "127.0.0.1:1883");
    let version = args.version(1, "5")?;
    let qos = args.qos(2, "1")?;
    let filter = TopicFilter::new(args.get(3, "mqtt-workspace/#").as_str())?;
    let count: Option<usize> = args.optional(4).map(str::parse).transpose()?;

    // The defaults acknowledge received PUBLISH packets on receipt.
    let options = ConnectionOptions::default();
    let client_id = format!("mqtt-tokio-subscribe-{}", std::process::id());
    let connect = connect(version, &client_id, 30)?;
    let (client, mut incoming) = timeout(
        Duration::from_secs(10),
        Client::connect(addr.as_str(), connect, options),
    )
    .await??;
    println!("connected to {addr} with MQTT {version:?}");

    let id = client.acquire_packet_id().await?;
    let subscribe = subscribe(version, id, &filter, qos)?;
    client.send_generic(subscribe).await?;

    // `recv` waits (the driver sends PINGREQ when the keep alive says)
    // until a packet arrives: the SUBACK, then the messages. Every packet
    // of one read is delivered, in order.
    let mut received = 0;
    while count.is_none_or(|c| received < c) {
        let Some(packet) = incoming.recv().await else {
            return Err(format!("connection closed: {:?}", incoming.close_reason()).into());
        };
        if print_received(&packet, &filter) {
            received += 1;
        }
    }
    client.close().await?;
    Ok(())
}
