//! The `mosquitto_pub` and `mosquitto_sub` command line clients.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicU32, Ordering};

use crate::{find_binary, Mosquitto};

/// Runs `mosquitto_pub -h <ip> -p <port> <args>` to completion and returns
/// its output. Returns `None` when `mosquitto_pub` is not installed (unless
/// `MQTT_REQUIRE_MOSQUITTO=1`: then panics). Panics when it runs longer than
/// `timeout` (after killing it).
pub fn mosquitto_pub(addr: SocketAddr, args: &[&str], timeout: Duration) -> Option<Output> {
    let binary = find_binary("mosquitto_pub")?;
    let mut child = Command::new(binary)
        .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mosquitto_pub");
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return Some(child.wait_with_output().expect("mosquitto_pub output")),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let output = child.wait_with_output();
                panic!("mosquitto_pub {args:?} did not finish within {timeout:?}: {output:?}");
            }
        }
    }
}

/// Starts `mosquitto_sub -h <ip> -p <port> -i <id> <args>` against
/// `broker` and returns it as a [`Subscriber`] whose output lines can be
/// awaited (shape them with `-F`, e.g. `-F "%t %p"`; stdout is a pipe, so
/// mosquitto_sub may print them only when it exits, e.g. after
/// `-C <count>` messages). `<id>` is a fresh client identifier, with which
/// [`Subscriber::wait_subscribed`] finds in the broker's log that the SUBACK
/// was sent. Returns `None` when it is not installed (unless
/// `MQTT_REQUIRE_MOSQUITTO=1`: then panics).
pub fn mosquitto_sub(broker: &Mosquitto, args: &[&str]) -> Option<Subscriber> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let binary = find_binary("mosquitto_sub")?;
    let addr = broker.addr();
    let client_id = format!(
        "testkit-sub-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut child = Command::new(binary)
        .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
        .args(["-i", &client_id])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mosquitto_sub");
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx2.send(format!("stderr: {line}")).is_err() {
                break;
            }
        }
    });
    Some(Subscriber {
        child,
        client_id,
        lines,
        seen: Vec::new(),
    })
}

/// A running `mosquitto_sub`; dropping it kills the process.
#[derive(Debug)]
pub struct Subscriber {
    child: Child,
    client_id: String,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Subscriber {
    /// Waits for an output line for which `pred` holds and returns it;
    /// panics after `timeout` with every line seen so far.
    pub fn wait_line(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "mosquitto_sub printed no expected line within {timeout:?}; it printed:\n{}",
                        self.seen.join("\n")
                    );
                }
            }
        }
    }

    /// Waits until `broker` logged sending this subscriber its SUBACK, so
    /// that what is published next reaches it. Panics after `timeout`.
    pub fn wait_subscribed(&self, broker: &Mosquitto, timeout: Duration) {
        let line = format!("Sending SUBACK to {}", self.client_id);
        broker.wait_log(timeout, |l| l.contains(&line));
    }

    /// Its client identifier.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Waits for the process to exit (e.g. after `-C <count>` messages) and
    /// returns every line it printed on stdout. Panics after `timeout`.
    pub fn wait_messages(mut self, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!(
                    "mosquitto_sub did not exit within {timeout:?}; it printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
        let _ = self.child.wait();
        self.seen
            .iter()
            .filter(|l| !l.starts_with("stderr: "))
            .cloned()
            .collect()
    }

    /// Every line seen so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
