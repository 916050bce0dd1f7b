//! mqtt-core's README driver (`examples/core_client.rs`) runs against the
//! example broker over real TCP, and the README shows exactly that code.

#[allow(dead_code)] // its `main` is the example's entry point
#[path = "../core_client.rs"]
mod core_client;

use mqtt_examples::broker::{Broker, BrokerConfig};

#[test]
fn the_readme_client_gets_its_message_back_from_the_example_broker() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let addr = runtime.block_on(async {
        let config = BrokerConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        };
        let broker = Broker::bind(config).await.expect("bind");
        let addr = broker.local_addr();
        tokio::spawn(broker.run());
        addr
    });
    let payload = core_client::run(&addr.to_string()).expect("the client runs");
    assert_eq!(&payload[..], b"hello from mqtt-core");
}

#[test]
fn the_readme_shows_the_example_verbatim() {
    let example = include_str!("../core_client.rs");
    let code: String = example
        .lines()
        .skip_while(|line| line.starts_with("//!"))
        .map(|line| format!("{line}\n"))
        .collect();
    let readme = include_str!("../../crates/mqtt-core/README.md");
    assert!(
        readme.contains(&format!("```rust,no_run\n{}```", code.trim_start())),
        "crates/mqtt-core/README.md must show examples/core_client.rs (without its //! header)"
    );
}
