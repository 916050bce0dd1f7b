//! Publishes one message, waits for its acknowledgement, and disconnects
//! (blocking, packet by packet, with `mqtt-std`). `--help` for usage.

use clap::Parser;
use mqtt_examples::cli::{PublishArgs, Report};
use mqtt_examples::message;
use mqtt_std::codec::wire::PacketType;

fn main() -> Result<(), Report> {
    let args = PublishArgs::parse();
    let mut client = args.broker.connect_std("publish")?;
    let mut message = message(&args.topic, args.qos, args.message)?;
    message.set_retain(args.retain);
    // Numbered by the connection; the flow ends with PUBACK or PUBCOMP.
    if client.publish(message)?.is_some() {
        let done = |t| matches!(t, PacketType::Puback | PacketType::Pubcomp);
        while !done(client.recv()?.packet_type()) {}
    }
    println!("published to {} at {:?}", args.topic, args.qos);
    Ok(client.close()?)
}
