//! Replays the committed fuzz inputs through the checks of the fuzz targets
//! (`fuzz/src/lib.rs`, compiled in here), so `cargo test` on stable covers
//! what the fuzzers found and start from:
//!
//! - `fuzz/seeds/<target>/`: valid packet streams, each of which must
//!   decode to at least one packet and pass every check;
//! - `fuzz/regressions/<target>/`: inputs that once broke a check (crash
//!   reproducers); they must pass every check now.
//!
//! The seeds are written by the ignored test `write_seeds`, from the same
//! strategies as the property tests, with a fixed random seed:
//! `cargo test -p mqtt-codec --test seed_corpus -- --ignored write_seeds`.

mod common;

#[allow(dead_code)]
#[path = "../../../fuzz/src/lib.rs"]
mod checks;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use common::{concat, encode, v3, v5};
use mqtt_codec::{v3_1_1, v5_0, Encode};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

/// A fuzz target's check: panics on a bug, returns the packets decoded.
type Check = fn(&[u8]) -> usize;

/// The fuzz targets and their checks.
const TARGETS: [(&str, Check); 5] = [
    ("decode_v3", checks::decode_v3),
    ("decode_v5", checks::decode_v5),
    ("roundtrip", checks::roundtrip),
    ("detect", checks::detect),
    ("view", checks::view),
];

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

/// Runs `check` on every file of `dir`; returns the number of files and
/// the failures (file and message). With `valid`, a file that decodes to no
/// packet is a failure too.
fn replay(dir: &Path, check: Check, valid: bool) -> (usize, Vec<String>) {
    let files = files(dir);
    let mut failures = Vec::new();
    for file in &files {
        let data = fs::read(file).expect("readable file");
        match catch_unwind(AssertUnwindSafe(|| check(&data))) {
            Ok(0) if valid => failures.push(format!("{}: no packet decoded", file.display())),
            Ok(_) => {}
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(format!("{}: {message}", file.display()));
            }
        }
    }
    (files.len(), failures)
}

/// Every seed of every target decodes and passes the target's checks.
#[test]
fn seeds_pass_the_fuzz_checks() {
    let mut failures = Vec::new();
    for (target, check) in TARGETS {
        let (n, mut failed) = replay(&fuzz_dir().join("seeds").join(target), check, true);
        assert!(
            n >= 40,
            "fuzz/seeds/{target} holds {n} seeds; run write_seeds"
        );
        failures.append(&mut failed);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every committed crash reproducer passes the checks of its target.
#[test]
fn regressions_pass_the_fuzz_checks() {
    let mut failures = Vec::new();
    for (target, check) in TARGETS {
        let (_, mut failed) = replay(&fuzz_dir().join("regressions").join(target), check, false);
        failures.append(&mut failed);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The checks themselves hold on a few hand-made inputs.
#[test]
fn checks_on_hand_made_inputs() {
    // PINGREQ, then half a PUBLISH: one packet, the rest waits.
    assert_eq!(checks::decode_v3(&[0xC0, 0x00, 0x30, 0x05, 0x00]), 1);
    // u32 selector, v5 PUBACK with a 4-byte id.
    assert_eq!(checks::decode_v5(&[0x01, 0x40, 0x04, 0, 0, 0, 7]), 1);
    // v5 u16 selector, then the same bytes: too long for a u16 PUBACK.
    assert_eq!(checks::decode_v5(&[0x00, 0x40, 0x04, 0, 0, 0, 7]), 0);
    assert_eq!(checks::roundtrip(&[0x03, 0x40, 0x04, 0, 0, 0, 7]), 1);
    // Detection refuses a PINGREQ first.
    assert_eq!(checks::detect(&[0xC0, 0x00]), 0);
    // Views: a u32 v5 PUBACK; a CONNECT found by detection, then a PINGREQ.
    assert_eq!(checks::view(&[0x03, 0x40, 0x04, 0, 0, 0, 7]), 1);
    let connect = b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00\xc0\x00";
    assert_eq!(checks::view(&[&[0x04][..], &connect[..]].concat()), 2);
    assert_eq!(checks::view(&[0x04, 0xC0, 0x00]), 0);
    for (_, check) in TARGETS {
        assert_eq!(check(&[]), 0);
    }
}

/// Draws `n` values of `strategy`, deterministically.
fn sample<T: std::fmt::Debug>(
    runner: &mut TestRunner,
    strategy: &BoxedStrategy<T>,
    n: usize,
) -> Vec<T> {
    (0..n)
        .map(|_| strategy.new_tree(runner).expect("value").current())
        .collect()
}

fn write(dir: &Path, name: &str, prefix: &[u8], bytes: &[u8]) {
    let mut data = prefix.to_vec();
    data.extend_from_slice(bytes);
    fs::write(dir.join(name), data).expect("writable seed file");
}

/// Writes, for one version and width, `n` seeds of each packet type and
/// four streams of several packets, each prefixed with `prefix`.
fn write_version<T: Encode + std::fmt::Debug + 'static>(
    runner: &mut TestRunner,
    dir: &Path,
    tag: &str,
    prefix: &[u8],
    by_type: Vec<(&'static str, BoxedStrategy<T>)>,
    any: BoxedStrategy<T>,
    n: usize,
) {
    for (name, strategy) in by_type {
        let mut seen = std::collections::HashSet::new();
        for (i, packet) in sample(runner, &strategy, n).iter().enumerate() {
            let bytes = encode(packet);
            if seen.insert(bytes.clone()) {
                write(dir, &format!("{tag}-{name}-{i}"), prefix, &bytes);
            }
        }
    }
    let streams = vec(any, 2..6).boxed();
    for (i, packets) in sample(runner, &streams, 4).iter().enumerate() {
        write(dir, &format!("{tag}-stream-{i}"), prefix, &concat(packets));
    }
}

/// Regenerates `fuzz/seeds/` (run it by hand; see the module docs).
#[test]
#[ignore = "writes fuzz/seeds; run by hand after changing the strategies"]
fn write_seeds() {
    let mut runner = TestRunner::deterministic();
    let seeds = fuzz_dir().join("seeds");
    for (target, _) in TARGETS {
        let dir = seeds.join(target);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("seed directory");
    }
    let r = &mut runner;

    let dir = seeds.join("decode_v3");
    write_version(
        r,
        &dir,
        "v3",
        &[],
        v3::by_type::<u16>(),
        v3::packet::<u16>(),
        4,
    );

    let dir = seeds.join("decode_v5");
    write_version(
        r,
        &dir,
        "u16",
        &[0],
        v5::by_type::<u16>(),
        v5::packet::<u16>(),
        3,
    );
    write_version(
        r,
        &dir,
        "u32",
        &[1],
        v5::by_type::<u32>(),
        v5::packet::<u32>(),
        2,
    );

    // The views read the roundtrip layout (bit 2 clear: a known version).
    for target in ["roundtrip", "view"] {
        let dir = seeds.join(target);
        write_version(
            r,
            &dir,
            "v3-u16",
            &[0],
            v3::by_type::<u16>(),
            v3::packet::<u16>(),
            2,
        );
        write_version(
            r,
            &dir,
            "v3-u32",
            &[2],
            v3::by_type::<u32>(),
            v3::packet::<u32>(),
            1,
        );
        write_version(
            r,
            &dir,
            "v5-u16",
            &[1],
            v5::by_type::<u16>(),
            v5::packet::<u16>(),
            2,
        );
        write_version(
            r,
            &dir,
            "v5-u32",
            &[3],
            v5::by_type::<u32>(),
            v5::packet::<u32>(),
            1,
        );
    }

    // CONNECT first, then what follows on that connection.
    let dir = seeds.join("detect");
    let v3_stream = (v3::connect(), vec(v3::packet::<u16>(), 0..4))
        .prop_map(|(c, rest)| {
            let mut all = vec![v3_1_1::Packet::from(c)];
            all.extend(rest);
            concat(&all)
        })
        .boxed();
    let v5_stream = (v5::connect(), vec(v5::packet::<u16>(), 0..4))
        .prop_map(|(c, rest)| {
            let mut all = vec![v5_0::Packet::from(c)];
            all.extend(rest);
            concat(&all)
        })
        .boxed();
    for (tag, strategy) in [("v3", v3_stream), ("v5", v5_stream)] {
        for (i, bytes) in sample(r, &strategy, 24).iter().enumerate() {
            write(&dir, &format!("{tag}-connect-{i}"), &[], bytes);
        }
    }
}
