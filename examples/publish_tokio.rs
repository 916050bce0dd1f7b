//! Connects to an MQTT broker, publishes one message, waits for its
//! acknowledgement, and disconnects (async, with `mqtt-tokio`).
//!
//! ```text
//! cargo run -p mqtt-examples --example publish_tokio -- [ADDR] [VERSION] [QOS] [TOPIC] [MESSAGE]
//! ```
//!
//! Defaults: `127.0.0.1:1883`, MQTT `5` (or `3.1.1`), QoS `1`,
//! `mqtt-workspace/hello`, `hello from mqtt-tokio`.

use std::error::Error;
use std::time::Duration;

use bytes::Bytes;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, ProtocolVersion, QoS};
use mqtt_tokio::{Client, ConnectionOptions};
use tokio::time::timeout;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let addr = arg(0, "127.0.0.1:1883");
    let version = parse_version(&arg(1, "5"))?;
    let qos = parse_qos(&arg(2, "1"))?;
    let topic = arg(3, "mqtt-workspace/hello");
    let message = Bytes::from(arg(4, "hello from mqtt-tokio"));
    let limit = Duration::from_secs(10);

    // The core answers and times what MQTT automates; the driver task runs it.
    let mut options = ConnectionOptions::default();
    options.auto_pub_response = true;
    let client_id = format!("mqtt-tokio-publish-{}", std::process::id());
    let connect: GenericPacket = match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Connect::builder()
                .try_client_id(client_id.as_str())?
                .keep_alive(30)
                .build()?,
        )
        .into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(
            v5_0::Connect::builder()
                .try_client_id(client_id.as_str())?
                .keep_alive(30)
                .build()?,
        )
        .into(),
    };
    let (client, mut incoming) =
        timeout(limit, Client::connect(addr.as_str(), connect, options)).await??;
    println!("connected to {addr} with MQTT {version:?}");

    // QoS 1 and 2 need a packet identifier; the connection hands one out.
    let packet_id = match qos {
        QoS::AtMostOnce => None,
        _ => Some(client.acquire_packet_id().await?),
    };
    let publish: GenericPacket = match version {
        ProtocolVersion::V3_1_1 => {
            let mut b = v3_1_1::Publish::builder();
            b.try_topic_name(topic.as_str())?.qos(qos).payload(message);
            if let Some(id) = packet_id {
                b.packet_id(id);
            }
            v3_1_1::Packet::from(b.build()?).into()
        }
        ProtocolVersion::V5_0 => {
            let mut b = v5_0::Publish::builder();
            b.try_topic_name(topic.as_str())?.qos(qos).payload(message);
            if let Some(id) = packet_id {
                b.packet_id(id);
            }
            v5_0::Packet::from(b.build()?).into()
        }
    };
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

fn parse_version(s: &str) -> Result<ProtocolVersion, String> {
    match s.trim_start_matches(['v', 'V']) {
        "5" | "5.0" => Ok(ProtocolVersion::V5_0),
        "3" | "3.1.1" | "4" | "311" => Ok(ProtocolVersion::V3_1_1),
        other => Err(format!("unknown MQTT version {other:?}: use 5 or 3.1.1")),
    }
}

fn parse_qos(s: &str) -> Result<QoS, String> {
    match s {
        "0" => Ok(QoS::AtMostOnce),
        "1" => Ok(QoS::AtLeastOnce),
        "2" => Ok(QoS::ExactlyOnce),
        other => Err(format!("unknown QoS {other:?}: use 0, 1 or 2")),
    }
}
