//! Paho (paho-mqtt 2.x through python3) steps of `paho_session.py`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use super::{BrokerProcess, LIMIT};

/// Runs one step of `restart/paho_session.py`; its stdout, or a panic with
/// its output when it fails.
pub fn paho(broker: &BrokerProcess, client_id: &str, version: &str, step: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/restart/paho_session.py");
    let port = broker.port.to_string();
    let out = Command::new("timeout")
        .arg(LIMIT.as_secs().to_string())
        .args(["python3", script, "127.0.0.1", &port, client_id, version])
        .args(step)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "paho {step:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Whether python3 has paho-mqtt 2.x; panics without it under
/// `MQTT_REQUIRE_INTEROP=1`.
pub fn paho_ready() -> bool {
    let check = "import sys, paho.mqtt as p; sys.exit(0 if p.__version__.startswith('2.') else 3)";
    let ok = Command::new("python3")
        .args(["-c", check])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var("MQTT_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
        panic!("python3 lacks paho-mqtt 2.x, which MQTT_REQUIRE_INTEROP=1 requires");
    }
    if !ok {
        eprintln!("note: skipping: python3 lacks paho-mqtt 2.x (pip install 'paho-mqtt>=2,<3')");
    }
    ok
}

/// Starts a Paho client `client_id` whose Will ("gone" on `topic`, v5.0
/// with a Will Delay Interval of `delay` s) is to be published: it stays
/// connected until the broker goes, and never sends DISCONNECT. Returns
/// once it is connected.
pub fn spawn_will(
    broker: &BrokerProcess,
    client_id: &str,
    version: &str,
    topic: &str,
    delay: u32,
) -> Child {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/restart/paho_session.py");
    let port = broker.port.to_string();
    let delay = delay.to_string();
    let mut child = Command::new("timeout")
        .arg(LIMIT.as_secs().to_string())
        .args(["python3", script, "127.0.0.1", &port, client_id, version])
        .args(["will", topic, &delay])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    let read = BufReader::new(stdout).read_line(&mut line);
    assert!(
        read.is_ok() && line.trim() == "connected",
        "the Will client connected: {line:?}"
    );
    child
}
