//! Test support for the MQTT workspace, std only and independent of its
//! MQTT crates:
//! a [`Mosquitto`] broker started on a free loopback port with its own
//! configuration file, the [`mosquitto_pub`] and [`mosquitto_sub`] command
//! line clients, a [`Cutter`] proxy that cuts every connection it carries,
//! free ports, [`run_with_timeout`] so that a hung test
//! fails instead of hanging CI, and for the restart tests, arrivals of
//! [`numbered`] messages and a reader of mosquitto's log
//! ([`mosquitto_log`]) that tells what the broker did with each.
//!
//! Every helper that needs a mosquitto binary returns `None` when it is
//! missing, so tests skip on a machine without it, unless the environment
//! variable `MQTT_REQUIRE_MOSQUITTO=1` is set (as CI does): then it panics.
//!
//! ```no_run
//! use std::time::Duration;
//! let Some(broker) = mqtt_testkit::Mosquitto::start("max_inflight_messages 10\n") else {
//!     return; // mosquitto is not installed
//! };
//! let output = mqtt_testkit::mosquitto_pub(
//!     broker.addr(),
//!     &["-t", "a/b", "-m", "hello", "-q", "1"],
//!     Duration::from_secs(10),
//! )
//! .expect("mosquitto_pub is installed");
//! assert!(output.status.success());
//! ```

mod clients;
mod cutter;
mod mosquitto;
pub mod mosquitto_log;
pub mod numbered;
mod port;
mod timeout;

pub use clients::{mosquitto_pub, mosquitto_sub, Subscriber};
pub use cutter::Cutter;
pub use mosquitto::Mosquitto;
pub use port::{free_addr, free_port};
pub use timeout::run_with_timeout;

use std::path::PathBuf;

/// The environment variable that turns a missing mosquitto binary into a
/// panic instead of a skipped test.
pub const REQUIRE_ENV: &str = "MQTT_REQUIRE_MOSQUITTO";

/// Whether [`REQUIRE_ENV`] is set to `1`.
pub fn mosquitto_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// Finds the executable `name` in `PATH`, then in `/usr/sbin` and
/// `/usr/local/sbin` (where Debian puts `mosquitto`). When it is missing,
/// panics if [`mosquitto_required`], else prints a note and returns `None`.
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from));
    for dir in dirs {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    if mosquitto_required() {
        panic!("`{name}` is not installed and {REQUIRE_ENV}=1 requires it");
    }
    eprintln!("note: `{name}` is not installed; skipping (set {REQUIRE_ENV}=1 to fail instead)");
    None
}
