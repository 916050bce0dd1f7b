//! The example broker: `cargo run --example broker -- --help`.
//!
//! Parses the flags, listens, prints the address, and serves until Ctrl-C.

use mqtt_examples::broker::{Broker, BrokerConfig};

#[tokio::main]
async fn main() {
    // `--help` prints to stdout and exits 0; a bad flag prints the error
    // and the usage to stderr and exits 2.
    let config = BrokerConfig::from_args(std::env::args_os()).unwrap_or_else(|e| e.exit());
    let broker = match Broker::bind(config.clone()).await {
        Ok(broker) => broker,
        Err(e) => {
            eprintln!("broker: cannot listen on {}: {e}", config.bind);
            std::process::exit(1);
        }
    };
    println!("broker listening on {}", broker.local_addr());
    tokio::select! {
        result = broker.run() => {
            if let Err(e) = result {
                eprintln!("broker: {e}");
                std::process::exit(1);
            }
        }
        _ = tokio::signal::ctrl_c() => println!("broker: stopped"),
    }
}
