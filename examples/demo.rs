//! The one-command demo: starts the example broker in this process on a free
//! loopback port, then connects clients to it over real TCP and shows what
//! flows: a retained message, QoS 0, 1 and 2, and a will. Exits 0 when every
//! message arrived as expected.
//!
//! ```text
//! cargo run --example demo
//! ```
//!
//! The publisher speaks MQTT v3.1.1 and the subscriber v5.0: the broker
//! carries messages between versions.

use std::time::Duration;

use mqtt_examples::broker::{Broker, BrokerConfig};
use mqtt_examples::{message, Error};
use mqtt_tokio::prelude::*;
use tokio::time::timeout;

/// How long the demo waits for any one step before it gives up.
const STEP: Duration = Duration::from_secs(10);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let config = BrokerConfig {
        bind: "127.0.0.1:0".parse()?,
        ..BrokerConfig::default()
    };
    let broker = Broker::bind(config).await?;
    let addr = broker.local_addr();
    tokio::spawn(broker.run());
    println!("broker      listening on {addr}\n");

    // The defaults acknowledge what arrives and keep the connection alive.
    let options = ConnectionOptions::default();

    // A v3.1.1 publisher leaves a retained status before anyone listens.
    let connect = v3_1_1::Connect::builder()
        .try_client_id("demo-publisher")?
        .keep_alive(30)
        .build()?;
    let (publisher, mut publisher_in) = timeout(
        STEP,
        ClientEndpoint::connect(addr, connect, options.clone()),
    )
    .await??;
    println!("publisher   connected (MQTT v3.1.1)");
    let mut retained = message("demo/status", QoS::AtLeastOnce, "broker demo running")?;
    retained.set_retain(true);
    // The connection numbers the message; its PUBACK carries that number.
    let id = publisher.publish(retained).await?;
    println!("publisher → demo/status \"broker demo running\" (QoS 1, retained)");
    // The broker acknowledges once it has stored and routed the message.
    expect(&mut publisher_in, "PUBACK", |p| {
        matches!(p, GenericPacket::V3_1_1(v3_1_1::Packet::Puback(a)) if Some(a.packet_id()) == id)
    })
    .await?;
    println!("publisher ← PUBACK: the broker has the retained message");

    // A v5.0 subscriber joins later and still gets the retained message.
    let connect = v5_0::Connect::builder()
        .try_client_id("demo-subscriber")?
        .keep_alive(30)
        .build()?;
    let (subscriber, mut inbox) = timeout(
        STEP,
        ClientEndpoint::connect(addr, connect, options.clone()),
    )
    .await??;
    println!("subscriber  connected (MQTT v5.0)");
    let id = subscriber.acquire_packet_id().await?;
    let subscribe = v5_0::Subscribe::builder()
        .packet_id(id)
        .try_subscription("demo/#", QoS::ExactlyOnce)?
        .build()?;
    subscriber.send(subscribe).await?;
    expect(&mut inbox, "SUBACK", |p| {
        matches!(p, GenericPacket::V5_0(v5_0::Packet::Suback(_)))
    })
    .await?;
    println!("subscriber  subscribed to demo/# (QoS 2)");
    expect_message(&mut inbox, "demo/status").await?;

    // One message at each QoS; the broker delivers each at the QoS it was
    // published with (the subscription allows up to 2).
    for (qos, topic, text) in [
        (QoS::AtMostOnce, "demo/temperature", "21.5 °C"),
        (QoS::AtLeastOnce, "demo/door", "opened"),
        (
            QoS::ExactlyOnce,
            "demo/payment",
            "order 42 paid, exactly once",
        ),
    ] {
        publisher.publish(message(topic, qos, text)?).await?;
        println!("publisher → {topic} \"{text}\" (QoS {})", qos as u8);
        expect_message(&mut inbox, topic).await?;
    }

    // A sensor with a will loses its network connection: the broker
    // publishes the will for it.
    let will = v5_0::Will::builder()
        .try_topic("demo/sensor/status")?
        .try_payload(&b"sensor-7 went offline"[..])?
        .qos(QoS::AtLeastOnce)
        .build()?;
    let connect = v5_0::Connect::builder()
        .try_client_id("demo-sensor")?
        .keep_alive(30)
        .will(Box::new(will))
        .build()?;
    let (sensor, _sensor_in) =
        timeout(STEP, ClientEndpoint::connect(addr, connect, options)).await??;
    println!("sensor      connected (MQTT v5.0) with a will on demo/sensor/status");
    sensor.abort();
    println!("sensor      network connection dropped without DISCONNECT");
    expect_message(&mut inbox, "demo/sensor/status").await?;

    subscriber.close().await?;
    publisher.close().await?;
    println!("\ndemo complete: retained, QoS 0, 1 and 2, and a will all arrived");
    Ok(())
}

/// Waits for the next packet satisfying `is`, skipping others.
async fn expect(
    inbox: &mut Incoming<role::Client>,
    what: &str,
    is: impl Fn(&GenericPacket) -> bool,
) -> Result<GenericPacket, Error> {
    loop {
        match timeout(STEP, inbox.recv()).await {
            Err(_) => return Err(format!("no {what} within {STEP:?}").into()),
            Ok(None) => return Err(format!("connection closed while waiting for {what}").into()),
            Ok(Some(p)) if is(&p) => return Ok(p),
            Ok(Some(_)) => {}
        }
    }
}

/// Waits for the message on `topic` and prints it.
async fn expect_message(inbox: &mut Incoming<role::Client>, topic: &str) -> Result<(), Error> {
    let packet = expect(
        inbox,
        topic,
        |p| matches!(p, GenericPacket::V5_0(v5_0::Packet::Publish(m)) if m.topic_name() == topic),
    )
    .await?;
    if let GenericPacket::V5_0(v5_0::Packet::Publish(m)) = packet {
        let retained = if m.retain() { ", retained" } else { "" };
        println!(
            "subscriber ← {} \"{}\" (QoS {}{retained})",
            m.topic_name(),
            String::from_utf8_lossy(m.payload()),
            m.qos() as u8
        );
    }
    Ok(())
}
