//! The unit tests of the load generator's counters (`examples/loadgen/
//! stats.rs`), which `cargo test` does not run in the `loadgen` example
//! itself (examples are built by `cargo test`, not tested).

#[path = "../loadgen/stats.rs"]
mod stats;
