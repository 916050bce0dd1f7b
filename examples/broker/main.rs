//! The example broker: `cargo run --example broker -- --help`.
//!
//! Parses the flags, opens the store (`--store`) if any, listens, prints
//! the address, and serves until SIGINT (Ctrl-C) or SIGTERM; then stops
//! cleanly (v5.0 clients get DISCONNECT 0x8B, Server shutting down; the
//! store commits) and exits 0. A store that cannot be opened or is
//! damaged, or an address taken: a message naming it, exit 1.

/// jemalloc: it keeps each size of allocation apart, so the pages that the
/// connections' tasks, queues and buffers were freed from come back to
/// the system once those connections hibernate or close; glibc's malloc
/// mixes them with the small allocations that stay, and keeps them all.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options: its own thread returns pages unused for ten seconds
/// (its default decay, without waiting for an allocation, which an idle
/// broker does not make); the broker's housekeeping purges at once when
/// many connections hibernate or leave (`trim.rs`).
#[allow(unsafe_code, non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:10000,muzzy_decay_ms:0\0";

fn main() {
    let code = mqtt_examples::broker::launch::main(std::env::args_os());
    std::process::exit(code);
}
