//! Connects to an MQTT broker, publishes one message, waits for its
//! acknowledgement, and disconnects (async, with `mqtt-tokio`).
//!
//! ```text
//! cargo run -p mqtt-examples --example publish_tokio -- [ADDR] [VERSION] [QOS] [TOPIC] [MESSAGE]
//! ```
//!
//! Defaults: `127.0.0.1:1883`, MQTT `5` (or `3.1.1`), QoS `1`,
//! `mqtt-workspace/hello`, `hello from mqtt-tokio`.

use std::time::Duration;

use mqtt_examples::{connect, message, Args, Error};
use mqtt_tokio::codec::wire::PacketType;
use mqtt_tokio::prelude::*;
use tokio::time::timeout;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args = Args::from_env();
    let addr = args.get(0, "127.0.0.1:1883");
    let version = args.version(1, "5")?;
    let qos = args.qos(2, "1")?;
    let topic = args.get(3, "mqtt-workspace/hello");
    let payload = args.get(4, "hello from mqtt-tokio");
    let limit = Duration::from_secs(10);

    // The core answers and times what MQTT automates (the defaults); the
    // driver task runs it.
    let options = ConnectionOptions::default();
    let client_id = format!("mqtt-tokio-publish-{}", std::process::id());
    let connect = connect(version, &client_id, 30)?;
    let (client, mut incoming) =
        timeout(limit, Client::connect(addr.as_str(), connect, options)).await??;
    println!("connected to {addr} with MQTT {version:?}");

    // The connection numbers a QoS 1 or 2 message itself; beyond the
    // broker's Receive Maximum it would wait in the session's queue.
    let packet_id = client.publish(message(&topic, qos, payload)?).await?;

    // Wait for the end of the flow: PUBACK (QoS 1) or PUBCOMP (QoS 2).
    if packet_id.is_some() {
        loop {
            let Some(packet) = timeout(limit, incoming.recv()).await? else {
                return Err(format!("connection closed: {:?}", incoming.close_reason()).into());
            };
            let ty = packet.packet_type();
            println!("received {ty:?}");
            if ty == PacketType::Puback || ty == PacketType::Pubcomp {
                break;
            }
        }
    }
    println!("published {topic} at {qos:?}");
    client.close().await?;
    Ok(())
}
