//! Subscribes to a topic filter and prints the messages that arrive
//! (blocking, with `mqtt-std`'s `Client`, which reconnects). `--help` for
//! usage.

use clap::Parser;
use mqtt_examples::cli::{print, Report, SubscribeArgs};
use mqtt_std::codec::Message;

/// Subscribes, then hands each message to `each`, `--count` of them.
pub fn run(args: SubscribeArgs, each: impl FnMut(Message)) -> Result<(), Report> {
    let (client, messages) = args.broker.connect_std("subscribe")?;
    client.subscribe(&args.filter, args.qos)?;
    // Blocks for each message; keep alive and reconnection run meanwhile.
    messages
        .take(args.count.unwrap_or(usize::MAX))
        .for_each(each);
    Ok(client.disconnect()?)
}

fn main() -> Result<(), Report> {
    run(SubscribeArgs::parse(), print)
}
