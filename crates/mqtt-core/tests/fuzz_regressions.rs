//! Replays the committed inputs of the fuzz target `connection` through its
//! harness (`fuzz/fuzz_targets/connection/harness.rs`, compiled in here), so
//! `cargo test` on stable keeps checking what the fuzzer found:
//!
//! - `fuzz/regressions/connection/`: inputs that once broke a check (crash
//!   reproducers); they must pass every check now;
//! - `fuzz/seeds/connection/`: the seed inputs, which must pass too.

#[path = "../../../fuzz/fuzz_targets/connection/harness.rs"]
mod harness;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; none if it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs the harness on every file of `dir`; returns the number of files and
/// the failures (file and message).
fn replay(dir: &Path) -> (usize, Vec<String>) {
    let files = files(dir);
    let mut failures = Vec::new();
    for file in &files {
        let data = fs::read(file).expect("readable file");
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| harness::run(&data))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", file.display()));
        }
    }
    (files.len(), failures)
}

/// The crash reproducers the fuzzer found pass every check now: a PUBLISH
/// queued while offline and the CONNACK's Maximum QoS [MQTT-3.2.2-11] and
/// Retain Available [MQTT-3.2.2-14]; an application's Topic Alias counted
/// in the peer's Maximum Packet Size [MQTT-3.2.2-15]; the packet
/// identifier of a queued message kept by `release_packet_id`, so that the
/// session exported imports again [MQTT-2.2.1-3]; a message refused with
/// `QueueFull` leaving the expired messages queued (a refusal changes
/// nothing).
#[test]
fn regressions() {
    let (n, failures) = replay(&fuzz_dir().join("regressions/connection"));
    assert!(
        n >= 5,
        "the reproducers are in fuzz/regressions/connection/"
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The seed inputs pass every check.
#[test]
fn seeds() {
    let (_, failures) = replay(&fuzz_dir().join("seeds/connection"));
    assert!(failures.is_empty(), "{failures:#?}");
}
