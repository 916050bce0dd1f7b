//! Connects to an MQTT broker, publishes one message, waits for its
//! acknowledgement, and disconnects (blocking, with `mqtt-std`).
//!
//! ```text
//! cargo run -p mqtt-examples --example publish -- [ADDR] [VERSION] [QOS] [TOPIC] [MESSAGE]
//! ```
//!
//! Defaults: `127.0.0.1:1883`, MQTT `5` (or `3.1.1`), QoS `1`,
//! `mqtt-workspace/hello`, `hello from mqtt-std`.

use std::time::Duration;

use mqtt_examples::{connect, message, Args, Error};
use mqtt_std::codec::wire::PacketType;
use mqtt_std::prelude::*;

fn main() -> Result<(), Error> {
    let args = Args::from_env();
    let addr = args.get(0, "127.0.0.1:1883");
    let version = args.version(1, "5")?;
    let qos = args.qos(2, "1")?;
    let topic = args.get(3, "mqtt-workspace/hello");
    let payload = args.get(4, "hello from mqtt-std");
    let timeout = Duration::from_secs(10);

    // The core answers and times what MQTT automates (the defaults);
    // the endpoint runs it.
    let options = ConnectionOptions::default();
    let client_id = format!("mqtt-std-publish-{}", std::process::id());
    let connect = connect(version, &client_id, 30)?;
    let (mut client, _connack) = ClientEndpoint::connect(addr.as_str(), connect, options, timeout)?;
    client.set_timeout(Some(timeout));
    println!("connected to {addr} with MQTT {version:?}");

    // The connection numbers a QoS 1 or 2 message itself.
    let packet_id = client.publish(message(&topic, qos, payload)?)?;

    // Wait for the end of the flow: PUBACK (QoS 1) or PUBCOMP (QoS 2).
    if packet_id.is_some() {
        loop {
            let packet = client.recv()?;
            let ty = packet.packet_type();
            println!("received {ty:?}");
            if ty == PacketType::Puback || ty == PacketType::Pubcomp {
                break;
            }
        }
    }
    println!("published {topic} at {qos:?}");
    client.close()?;
    Ok(())
}
