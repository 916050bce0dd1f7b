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

use std::error::Error;
use std::time::Duration;

use mqtt_codec::{v3_1_1, v5_0, GenericPacket, ProtocolVersion, QoS, TopicFilter};
use mqtt_std::{ClientEndpoint, ConnectionOptions};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let addr = arg(0, "127.0.0.1:1883");
    let version = parse_version(&arg(1, "5"))?;
    let qos = parse_qos(&arg(2, "1"))?;
    let filter = TopicFilter::new(arg(3, "mqtt-workspace/#").as_str())?;
    let count: Option<usize> = args.get(4).map(|c| c.parse()).transpose()?;

    // Acknowledge received PUBLISH packets automatically.
    let mut options = ConnectionOptions::default();
    options.auto_pub_response = true;
    let client_id = format!("mqtt-std-subscribe-{}", std::process::id());
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
    let (mut client, _connack) =
        ClientEndpoint::connect(addr.as_str(), connect, options, Duration::from_secs(10))?;
    println!("connected to {addr} with MQTT {version:?}");

    let id = client.acquire_packet_id()?;
    let subscribe: GenericPacket = match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Subscribe::builder()
                .packet_id(id)
                .subscription(v3_1_1::Subscription::new(filter.clone(), qos))
                .build()?,
        )
        .into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(
            v5_0::Subscribe::builder()
                .packet_id(id)
                .subscription((filter.clone(), v5_0::SubscriptionOptions::new(qos)))
                .build()?,
        )
        .into(),
    };
    client.send_generic(subscribe)?;

    // `recv` blocks (sending PINGREQ when the keep alive says) until a
    // packet arrives: the SUBACK, then the messages.
    let mut received = 0;
    while count.is_none_or(|c| received < c) {
        match client.recv()? {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => {
                received += 1;
                print_message(p.topic_name(), p.payload());
            }
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => {
                received += 1;
                print_message(p.topic_name(), p.payload());
            }
            GenericPacket::V3_1_1(v3_1_1::Packet::Suback(s)) => {
                println!("subscribed to {filter}: {:?}", s.return_codes());
            }
            GenericPacket::V5_0(v5_0::Packet::Suback(s)) => {
                println!("subscribed to {filter}: {:?}", s.reason_codes());
            }
            other => println!("received {:?}", other.packet_type()),
        }
    }
    client.close()?;
    Ok(())
}

fn print_message(topic: &mqtt_codec::TopicName, payload: &[u8]) {
    println!("{topic}: {}", String::from_utf8_lossy(payload));
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
