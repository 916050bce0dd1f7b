//! Target `connection`: arbitrary bytes and arbitrary API calls on a
//! connected mqtt-core client and server joined by an in-memory link; the
//! input layout and the checks are in `connection/harness.rs`.

#![no_main]

#[path = "connection/harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
