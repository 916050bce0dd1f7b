//! Interop with clients written by others: starts the example broker
//! in-process and runs the pytest suite of `tests/interop/` against it (the
//! Paho Python client, paho-mqtt 2.x, and mosquitto_pub/mosquitto_sub, both
//! MQTT versions, one test per broker feature of issue 6).
//!
//! Needs `python3` with `paho-mqtt>=2,<3` and `pytest`
//! (`python3 -m pip install 'paho-mqtt>=2,<3' pytest`) and, for the
//! command-line client tests, Debian's `mosquitto-clients`. When they are
//! missing the test is skipped with a note, unless `MQTT_REQUIRE_INTEROP=1`
//! (as `scripts/test` sets): then it fails.
//!
//! Run it alone with `cargo test -p mqtt-examples --test interop`; pytest's
//! output is printed when a test fails.

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mqtt_codec::TopicFilter;
use mqtt_examples::broker::{Broker, BrokerConfig};

/// The environment variable that turns missing Python packages or
/// mosquitto clients into a failure instead of a skip.
const REQUIRE_ENV: &str = "MQTT_REQUIRE_INTEROP";

/// The filter our broker refuses (the suite subscribes below it).
const DENY: &str = "refused/#";
/// The per-session offline queue bound (small, so that the bound is reached).
const MAX_QUEUED: usize = 10;
/// The largest keep alive a v5.0 client keeps (Server Keep Alive above it).
const MAX_KEEP_ALIVE: u16 = 60;
/// Our Receive Maximum (small, so that exceeding it takes few packets).
const RECEIVE_MAXIMUM: u16 = 10;
/// The Server Keep Alive of the second broker, in seconds.
const SERVER_KEEP_ALIVE: u16 = 1;
/// The largest packet our broker accepts (its default, stated for the suite).
const MAX_PACKET_SIZE: u32 = 1_048_576;

/// How long the whole suite may take before it is killed (it takes about
/// 20 s; the limit only keeps a hung broker from hanging CI).
const SUITE_LIMIT: Duration = Duration::from_secs(300);

/// Whether `python3` can import paho-mqtt 2.x and pytest; the reason when not.
fn python_ready() -> Result<(), String> {
    let check = "import sys, pytest, paho.mqtt as p; \
                 sys.exit(0 if int(p.__version__.split('.')[0]) == 2 else 3)";
    match Command::new("python3").args(["-c", check]).output() {
        Err(e) => Err(format!("python3 cannot be run: {e}")),
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "python3 lacks paho-mqtt 2.x or pytest \
             (python3 -m pip install 'paho-mqtt>=2,<3' pytest): {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        )),
    }
}

/// The configuration of the main broker: the limits the suite relies on.
fn main_config() -> BrokerConfig {
    let mut config = BrokerConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        max_queued: MAX_QUEUED,
        max_keep_alive: Some(MAX_KEEP_ALIVE),
        receive_maximum: RECEIVE_MAXIMUM,
        max_packet_size: MAX_PACKET_SIZE,
        ..BrokerConfig::default()
    };
    config
        .deny
        .push(TopicFilter::new(DENY).expect("a valid topic filter"));
    config
}

/// Starts a broker on a free loopback port on its own runtime thread.
fn start_broker(config: BrokerConfig) -> SocketAddr {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a tokio runtime");
    let broker = runtime
        .block_on(Broker::bind(config))
        .expect("bind the broker on 127.0.0.1:0");
    let addr = broker.local_addr();
    // The broker serves until the test process exits.
    std::thread::spawn(move || {
        if let Err(e) = runtime.block_on(broker.run()) {
            eprintln!("the broker stopped: {e}");
        }
    });
    addr
}

/// Collects everything `source` writes, on a thread of its own.
fn collect(mut source: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = source.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `child` for at most `limit`; kills it and returns `None` when
/// it runs longer.
fn wait_limited(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every feature of the broker, exercised by Paho Python and
/// mosquitto_pub/sub in both versions; each pytest test cites the normative
/// statements it checks (`[MQTT-3.3.1-5 (v5)]`, ...) in its docstring.
#[test]
fn paho_and_mosquitto_clients_against_our_broker() {
    let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1");
    if let Err(reason) = python_ready() {
        if required {
            panic!("{reason}; {REQUIRE_ENV}=1 requires it");
        }
        eprintln!(
            "note: skipping the interop suite: {reason} (set {REQUIRE_ENV}=1 to fail instead)"
        );
        return;
    }
    let addr = start_broker(main_config());
    // A second broker for what needs another configuration: a Server Keep
    // Alive imposed on every v5.0 client.
    let keep_alive_addr = start_broker(BrokerConfig {
        server_keep_alive: Some(SERVER_KEEP_ALIVE),
        ..main_config()
    });
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    let mut child = Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs"])
        .arg(&suite)
        .env("MQTT_HOST", addr.ip().to_string())
        .env("MQTT_PORT", addr.port().to_string())
        .env("MQTT_BROKER", "ours")
        .env("MQTT_DENY", DENY)
        .env("MQTT_MAX_QUEUED", MAX_QUEUED.to_string())
        .env("MQTT_MAX_KEEP_ALIVE", MAX_KEEP_ALIVE.to_string())
        .env("MQTT_MAX_PACKET_SIZE", MAX_PACKET_SIZE.to_string())
        .env(
            "MQTT_PORT_SERVER_KEEP_ALIVE",
            keep_alive_addr.port().to_string(),
        )
        .env("MQTT_SERVER_KEEP_ALIVE", SERVER_KEEP_ALIVE.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(&suite)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3 -m pytest");
    let stdout = collect(child.stdout.take().expect("piped stdout"));
    let stderr = collect(child.stderr.take().expect("piped stderr"));
    let status = wait_limited(&mut child, SUITE_LIMIT);
    let output = format!(
        "{}{}",
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default()
    );
    match status {
        None => panic!("the interop suite did not finish within {SUITE_LIMIT:?}:\n{output}"),
        Some(status) if !status.success() => {
            panic!("the interop suite failed ({status}):\n{output}")
        }
        Some(_) => println!("{output}"),
    }
}
