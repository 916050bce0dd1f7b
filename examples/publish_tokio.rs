//! Publishes one message and waits for the broker's acknowledgement (async,
//! with `mqtt-tokio`'s `Client`). `--help` for usage.

use clap::Parser;
use mqtt_examples::cli::{PublishArgs, Report};
use mqtt_tokio::Delivered;

/// Connects, publishes, waits for PUBACK (QoS 1) or PUBCOMP (QoS 2).
pub async fn run(args: PublishArgs) -> Result<Delivered, Report> {
    let (client, _messages) = args.broker.connect("publish").await?;
    let delivered = client
        .publish(&args.topic, args.qos, args.retain, args.message)
        .await?;
    client.disconnect().await?;
    Ok(delivered)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Report> {
    let delivered = run(PublishArgs::parse()).await?;
    println!("published: {delivered:?}");
    Ok(())
}
