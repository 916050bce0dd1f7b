//! The example broker as a process of its own, for the restart tests: it
//! can be stopped with SIGTERM or killed with SIGKILL and started again on
//! the same port and store.
//!
//! The process is this test binary run again with only the test
//! `child_broker` (which every test file using this module defines with
//! [`child_main`]) and the broker's flags in [`CHILD_ENV`]: the broker
//! runs there exactly as `main` runs it (`broker::launch::main`).
#![allow(dead_code)]

/// mqtt-tokio's own restart tests' numbered messages (QoS of each,
/// publishing them, the QoS 2 check), shared rather than copied.
#[path = "../../../crates/mqtt-tokio/tests/common/delivery.rs"]
pub mod delivery;
pub mod numbered;
pub mod paho;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Every wait of these tests is bounded by this; past it, the test fails.
pub const LIMIT: Duration = Duration::from_secs(30);

/// The environment variable that holds the child broker's flags, one per
/// line.
pub const CHILD_ENV: &str = "MQTT_RESTART_BROKER_ARGS";

/// The body of the test `child_broker`: runs the broker with the flags of
/// [`CHILD_ENV`] and exits with its exit code; does nothing when the
/// variable is not set (a normal test run).
pub fn child_main() {
    let Ok(flags) = std::env::var(CHILD_ENV) else {
        return;
    };
    let args = std::iter::once("broker".to_string()).chain(flags.lines().map(String::from));
    let code = mqtt_examples::broker::launch::main(args.map(Into::into));
    std::process::exit(code);
}

/// A broker process on `port` with a store file.
pub struct BrokerProcess {
    child: Option<Child>,
    /// The port it listens on, the same at each start.
    pub port: u16,
    /// The store file.
    pub store: PathBuf,
    flags: Vec<String>,
    /// Its stderr, gathered by a thread, of the runs so far.
    stderr: Vec<mpsc::Receiver<String>>,
}

/// How a start ended when the broker did not come up.
#[derive(Debug)]
pub struct StartFailure {
    /// Its exit status.
    pub status: ExitStatus,
    /// What it wrote on stderr.
    pub stderr: String,
}

/// A fresh temporary directory for one test's store.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mqtt-restart-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

impl BrokerProcess {
    /// Starts a broker with `--store store` and `flags` on a free port;
    /// panics if it does not come up.
    pub fn start(store: &Path, flags: &[&str]) -> BrokerProcess {
        let mut broker = BrokerProcess {
            child: None,
            port: 0,
            store: store.to_owned(),
            flags: flags.iter().map(|s| s.to_string()).collect(),
            stderr: Vec::new(),
        };
        for _ in 0..10 {
            broker.port = mqtt_testkit::free_port();
            if broker.try_start().is_ok() {
                return broker;
            }
        }
        panic!("the broker did not start:\n{}", broker.stderr());
    }

    /// A broker on `store` and a free port, not started yet:
    /// [`try_start`](Self::try_start) starts it.
    pub fn start_later(store: &Path) -> BrokerProcess {
        BrokerProcess {
            child: None,
            port: mqtt_testkit::free_port(),
            store: store.to_owned(),
            flags: Vec::new(),
            stderr: Vec::new(),
        }
    }

    /// Starts it again on the same port and store (the port may be taken a
    /// moment after the stop: a few tries).
    pub fn restart(&mut self) {
        for _ in 0..50 {
            if self.try_start().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the broker did not start again:\n{}", self.stderr());
    }

    /// Starts the process and waits for `broker listening on`; returns
    /// how it ended if it exits first.
    pub fn try_start(&mut self) -> Result<(), StartFailure> {
        let mut flags = vec![
            "--port".to_string(),
            self.port.to_string(),
            "--store".to_string(),
            self.store.display().to_string(),
        ];
        flags.extend(self.flags.iter().cloned());
        let exe = std::env::current_exe().expect("the test binary");
        let mut child = Command::new(exe)
            .args(["child_broker", "--exact", "--ignored", "--nocapture"])
            .env(CHILD_ENV, flags.join("\n"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the broker process");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("broker listening on") {
                    let _ = ready_tx.send(());
                }
            }
        });
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                text.push_str(&line);
                text.push('\n');
            }
            let _ = err_tx.send(text);
        });
        self.stderr.push(err_rx);
        let deadline = Instant::now() + LIMIT;
        loop {
            if ready_rx.recv_timeout(Duration::from_millis(20)).is_ok() {
                self.child = Some(child);
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                let stderr = self
                    .stderr
                    .last()
                    .and_then(|rx| rx.recv_timeout(LIMIT).ok())
                    .unwrap_or_default();
                return Err(StartFailure { status, stderr });
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the broker did not say it listens within {LIMIT:?}");
            }
        }
    }

    /// SIGTERM, and its exit status once it exited (bounded).
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("a running broker");
        let term = format!("kill -TERM {}", child.id());
        let sent = Command::new("sh").args(["-c", &term]).status();
        assert!(sent.expect("sh runs").success(), "kill -TERM");
        wait_limited(&mut child)
    }

    /// SIGKILL (`kill -9`): no chance to store anything more.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("a running broker");
        child.kill().expect("SIGKILL");
        let _ = child.wait();
    }

    /// The running broker's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("a running broker").id()
    }

    /// `mqtt://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// What its runs wrote on stderr (of the runs that ended).
    pub fn stderr(&self) -> String {
        let ended = self.stderr.iter().filter_map(|rx| rx.try_recv().ok());
        ended.collect::<Vec<_>>().join("")
    }
}

/// Waits for `child` to exit, at most [`LIMIT`]; panics past it.
fn wait_limited(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the broker did not exit within {LIMIT:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
