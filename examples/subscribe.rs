//! Subscribes to a topic filter and prints each message that arrives
//! (blocking, packet by packet, with `mqtt-std`). `--help` for usage.

use clap::Parser;
use mqtt_examples::cli::{Report, SubscribeArgs};
use mqtt_examples::{print_received, subscribe};
use mqtt_std::prelude::*;

fn main() -> Result<(), Report> {
    let args = SubscribeArgs::parse();
    let filter = TopicFilter::new(args.filter.as_str())?;
    let mut client = args.broker.connect_std("subscribe")?;
    let id = client.acquire_packet_id()?;
    client.send_generic(subscribe(args.broker.version, id, &filter, args.qos)?)?;
    // `recv` blocks (keep alive runs meanwhile): the SUBACK, then messages.
    let mut received = 0;
    while args.count.is_none_or(|c| received < c) {
        received += usize::from(print_received(&client.recv()?, &filter));
    }
    Ok(client.close()?)
}
