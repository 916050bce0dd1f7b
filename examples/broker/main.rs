//! The example broker: `cargo run --example broker -- --help`.
//!
//! Parses the flags, opens the store (`--store`) if any, listens, prints
//! the address, and serves until SIGINT (Ctrl-C) or SIGTERM; then stops
//! cleanly (v5.0 clients get DISCONNECT 0x8B, Server shutting down; the
//! store commits) and exits 0. A store that cannot be opened or is
//! damaged, or an address taken: a message naming it, exit 1.

fn main() {
    let code = mqtt_examples::broker::launch::main(std::env::args_os());
    std::process::exit(code);
}
