//! The example broker: `cargo run --example broker -- --help`.
//!
//! Parses the flags, listens, prints the address, and serves until SIGINT
//! (Ctrl-C) or SIGTERM; then stops cleanly (v5.0 clients get DISCONNECT
//! 0x8B, Server shutting down) and exits 0.

use mqtt_examples::broker::{shutdown, Broker, BrokerConfig};

#[tokio::main]
async fn main() {
    // `--help` prints to stdout and exits 0; a bad flag prints the error
    // and the usage to stderr and exits 2.
    let config = BrokerConfig::from_args(std::env::args_os()).unwrap_or_else(|e| e.exit());
    let stop = shutdown::signal();
    let broker = match Broker::bind(config.clone()).await {
        Ok(broker) => broker,
        Err(e) => {
            eprintln!("broker: cannot listen on {}: {e}", config.bind);
            std::process::exit(1);
        }
    };
    println!("broker listening on {}", broker.local_addr());
    if let Err(e) = broker.run_until(stop).await {
        eprintln!("broker: {e}");
        std::process::exit(1);
    }
    println!("broker: stopped");
}
