//! Publishes one message and waits for the broker's acknowledgement
//! (blocking, with `mqtt-std`'s `Client`). `--help` for usage.

use clap::Parser;
use mqtt_examples::cli::{PublishArgs, Report};
use mqtt_std::Delivered;

/// Connects, publishes, waits for PUBACK (QoS 1) or PUBCOMP (QoS 2).
pub fn run(args: PublishArgs) -> Result<Delivered, Report> {
    let (client, _messages) = args.broker.connect_std("publish")?;
    let delivered = client.publish(&args.topic, args.qos, args.retain, args.message)?;
    client.disconnect()?;
    Ok(delivered)
}

fn main() -> Result<(), Report> {
    let delivered = run(PublishArgs::parse())?;
    println!("published: {delivered:?}");
    Ok(())
}
