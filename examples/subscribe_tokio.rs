//! Subscribes to a topic filter and prints the messages that arrive (async,
//! with `mqtt-tokio`'s `Client`, which reconnects). `--help` for usage.

use clap::Parser;
use mqtt_examples::cli::{print, Report, SubscribeArgs};
use mqtt_tokio::codec::Message;

/// Subscribes, then hands each message to `each`, `--count` of them.
pub async fn run(args: SubscribeArgs, mut each: impl FnMut(Message)) -> Result<(), Report> {
    let (client, mut messages) = args.broker.connect("subscribe").await?;
    client.subscribe(&args.filter, args.qos).await?;
    for _ in 0..args.count.unwrap_or(usize::MAX) {
        each(messages.recv().await.ok_or("the client ended")?);
    }
    Ok(client.disconnect().await?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Report> {
    run(SubscribeArgs::parse(), print).await
}
