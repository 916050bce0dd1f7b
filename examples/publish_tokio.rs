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

use bytes::Bytes;
use mqtt_codec::wire::PacketType;
use mqtt_codec::QoS;
use mqtt_examples::{connect, publish, Args, Error};
use mqtt_tokio::{Client, ConnectionOptions};
use tokio::time::timeout;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args = Args::from_env();
    let addr = args.get(0, "127.0.0.1:1883");
    let version = args.version(1, "5")?;
    let qos = args.qos(2, "1")?;
    let topic = args.get(3, "mqtt-workspace/hello");
    let message = Bytes::from(args.get(4, "hello from mqtt-tokio"));
    let limit = Duration::from_secs(10);

    // The core answers and times what MQTT automates; the driver task runs it.
    let mut options = ConnectionOptions::default();
    options.auto_pub_response = true;
    let client_id = format!("mqtt-tokio-publish-{}", std::process::id());
    let connect = connect(version, &client_id, 30)?;
    let (client, mut incoming) =
        timeout(limit, Client::connect(addr.as_str(), connect, options)).await??;
    println!("connected to {addr} with MQTT {version:?}");

    // QoS 1 and 2 need a packet identifier; the connection hands one out.
    let packet_id = match qos {
        QoS::AtMostOnce => None,
        _ => Some(client.acquire_packet_id().await?),
    };
    let publish = publish(version, &topic, qos, packet_id, message)?;
    // Waits for the broker's Receive Maximum quota if it is used up.
    client.send_generic(publish).await?;

    // Wait for the end of the flow: PUBACK (QoS 1) or PUBCOMP (QoS 2).
    if qos != QoS::AtMostOnce {
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
