//! [`Mosquitto`]: a broker process of the test's own.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::{find_binary, free_addr};

/// How long a broker may take to accept connections after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How many ports are tried when another process takes the free one first.
const START_ATTEMPTS: usize = 5;

/// A `mosquitto` broker listening on a free port of 127.0.0.1, with a
/// configuration file in a temporary directory. Dropping it kills the
/// process and removes the directory.
#[derive(Debug)]
pub struct Mosquitto {
    child: Child,
    addr: SocketAddr,
    /// Its configuration, log and (when persistent) database.
    dir: PathBuf,
    /// How many times it was restarted: the logs of the earlier runs are
    /// `mosquitto.log.1` and on.
    restarts: u32,
}

impl Mosquitto {
    /// Starts a broker whose configuration is a listener on a free port of
    /// 127.0.0.1, `allow_anonymous true`, no persistence, then
    /// `config_extra` (lines such as `max_topic_alias 5\n` or
    /// `max_inflight_messages 10\n`). Returns once it accepts TCP
    /// connections.
    ///
    /// Returns `None` when `mosquitto` is not installed, unless
    /// `MQTT_REQUIRE_MOSQUITTO=1` (then panics). Panics when the broker does
    /// not start (its log is in the message).
    pub fn start(config_extra: &str) -> Option<Mosquitto> {
        Self::start_with(false, config_extra)
    }

    /// [`start`](Self::start) with persistence on: its database is in the
    /// temporary directory, written when it stops on SIGTERM, and read
    /// when [`restart`](Self::restart) starts it again (sessions, their
    /// subscriptions and queued QoS 1 and 2 messages, retained messages).
    pub fn start_persistent(config_extra: &str) -> Option<Mosquitto> {
        Self::start_with(true, config_extra)
    }

    /// Stops the broker with SIGTERM (it saves its database when
    /// persistent), waits for it to exit, and starts it again on the same
    /// port with the same configuration. Panics when it does not start.
    pub fn restart(&mut self) {
        // The shell's own `kill`: no procps needed.
        let term = format!("kill -TERM {}", self.child.id());
        let _ = Command::new("sh").args(["-c", &term]).status();
        let _ = self.child.wait();
        self.restarts += 1;
        let log = self.dir.join("mosquitto.log");
        let _ = fs::rename(&log, log.with_extension(format!("log.{}", self.restarts)));
        let binary = find_binary("mosquitto").expect("mosquitto was installed");
        // The port may be taken for a moment after the close.
        for _ in 0..START_ATTEMPTS * 10 {
            self.child = spawn(&binary, &self.dir);
            if self.wait_ready() {
                return;
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("mosquitto did not start again; its log:\n{}", self.log());
    }

    fn start_with(persistent: bool, config_extra: &str) -> Option<Mosquitto> {
        let binary = find_binary("mosquitto")?;
        let dir = temp_dir();
        let mut last_log = String::new();
        for _ in 0..START_ATTEMPTS {
            let addr = free_addr();
            let persistence = match persistent {
                true => format!(
                    "persistence true\npersistence_location {}/\n",
                    dir.display()
                ),
                false => "persistence false\n".to_owned(),
            };
            let config = format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\n{persistence}\
                 log_dest stderr\nlog_type all\nlog_timestamp_format %H:%M:%S\n{user}{config_extra}\n",
                port = addr.port(),
                user = if is_root() { "user root\n" } else { "" },
            );
            fs::write(dir.join("mosquitto.conf"), &config)
                .expect("write the mosquitto configuration");
            let mut broker = Mosquitto {
                child: spawn(&binary, &dir),
                addr,
                dir: dir.clone(),
                restarts: 0,
            };
            if broker.wait_ready() {
                return Some(broker);
            }
            last_log = broker.log();
            let _ = broker.child.kill();
            let _ = broker.child.wait();
            // Keep the directory for the next attempt.
            broker.dir = PathBuf::new();
        }
        let _ = fs::remove_dir_all(&dir);
        panic!("mosquitto did not start; its log:\n{last_log}");
    }

    /// Waits until the broker logged that it runs (which it does once its
    /// listener is bound, so it is not another process on the port) and
    /// accepts a TCP connection; false if it exits or does not within
    /// [`START_TIMEOUT`].
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self.log().lines().any(|l| l.ends_with(" running"))
                && TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok()
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The address it listens on: 127.0.0.1 and its port.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// What it logged so far (every log type), to print when a test fails;
    /// after a [`restart`](Self::restart), what the current run logged.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }

    /// What every run logged, the earliest first.
    pub fn all_logs(&self) -> String {
        let log = self.dir.join("mosquitto.log");
        let earlier = (1..=self.restarts).map(|n| log.with_extension(format!("log.{n}")));
        let logs = earlier.chain([log.clone()]);
        logs.map(|path| fs::read_to_string(path).unwrap_or_default())
            .collect()
    }

    /// Waits until a line of its log satisfies `pred`; panics with the log
    /// after `timeout`.
    pub fn wait_log(&self, timeout: Duration, pred: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if log.lines().any(&pred) {
                return;
            }
            if Instant::now() >= deadline {
                panic!("mosquitto logged no expected line within {timeout:?}; its log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The temporary directory holding its configuration and log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.dir.as_os_str().is_empty() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Starts mosquitto on the configuration of `dir`, logging to a new log
/// file there.
fn spawn(binary: &Path, dir: &Path) -> Child {
    let log_file = File::create(dir.join("mosquitto.log")).expect("create the mosquitto log");
    Command::new(binary)
        .arg("-c")
        .arg(dir.join("mosquitto.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("spawn mosquitto")
}

/// A new, empty directory of this process under the system's temporary
/// directory.
pub(crate) fn temp_dir() -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "mqtt-testkit-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir).expect("create a temporary directory");
    dir
}

/// Whether this process runs as root, where mosquitto would otherwise drop
/// its privileges to the `mosquitto` user.
fn is_root() -> bool {
    // `id -u` prints 0 for root; avoids libc.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n") || o.stdout == b"0")
}
