"""The mosquitto_pub and mosquitto_sub command-line clients (Eclipse Mosquitto's
libmosquitto) against the broker, in both versions: publish → subscribe at each
QoS, retained messages with -r, and a will of a mosquitto_sub killed with
SIGKILL."""

import os
import pty
import queue
import signal
import subprocess
import threading

import pytest

from peer import TIMEOUT

CLI_VERSIONS = ["mqttv311", "mqttv5"]
PAHO_VERSION = {"mqttv311": 4, "mqttv5": 5}


@pytest.fixture(params=CLI_VERSIONS)
def cli_version(request):
    """`-V` of mosquitto_pub / mosquitto_sub."""
    return request.param


class Sub:
    """A running mosquitto_sub with -d, its stdout read line by line."""

    def __init__(self, path, broker, args):
        # On a pipe mosquitto_sub's output is block-buffered until it exits; on
        # a terminal it is written line by line.
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [path, "-h", broker.host, "-p", str(broker.port), "-d", *args],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
        )
        os.close(slave)
        self.master = master
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        pending = b""
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO once the process has exited
                chunk = b""
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self.lines.put(line.rstrip(b"\r").decode(errors="replace"))
        os.close(self.master)
        self.lines.put(None)

    def wait_for(self, predicate, what):
        """The first output line satisfying `predicate`; fails after TIMEOUT."""
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"mosquitto_sub: no {what}; output so far: {self.seen}") from None
            if line is None:
                raise AssertionError(f"mosquitto_sub exited before {what}; output: {self.seen}")
            self.seen.append(line)
            if predicate(line):
                return line

    def subscribed(self):
        """Waits until the broker has answered SUBSCRIBE."""
        self.wait_for(lambda line: "received SUBACK" in line, "SUBACK")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(TIMEOUT)


@pytest.fixture
def subs(mosquitto_clients, broker):
    """A factory of running mosquitto_sub processes, killed after the test."""
    _, path = mosquitto_clients
    made = []

    def make(*args):
        s = Sub(path, broker, args)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


def mosquitto_pub(mosquitto_clients, broker, *args):
    """Runs mosquitto_pub to completion and asserts it succeeded."""
    path, _ = mosquitto_clients
    done = subprocess.run(
        [path, "-h", broker.host, "-p", str(broker.port), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=2 * TIMEOUT,
    )
    assert done.returncode == 0, f"mosquitto_pub {args}: {done.stdout} {done.stderr}"


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_pub_sub_each_qos(mosquitto_clients, broker, subs, uid, cli_version, qos):
    """v3.1.1/v5 §4.3: mosquitto_pub → broker → mosquitto_sub at each QoS; the
    message arrives once with its topic and QoS [MQTT-3.8.4-8 (v5)]."""
    topic = f"{uid}/t"
    sub = subs("-V", cli_version, "-t", topic, "-q", "2", "-C", "1", "-F", "MSG %t %q %r %p")
    sub.subscribed()
    mosquitto_pub(mosquitto_clients, broker, "-V", cli_version, "-t", topic, "-q", str(qos), "-m", "hello")
    line = sub.wait_for(lambda line: line.startswith("MSG "), "message")
    assert line == f"MSG {topic} {qos} 0 hello"
    assert sub.proc.wait(TIMEOUT) == 0


def test_retained_with_r(mosquitto_clients, broker, subs, uid, cli_version):
    """v3.1.1 [MQTT-3.3.1-5] [MQTT-3.3.1-8] [MQTT-3.3.1-10] / v5 [MQTT-3.3.1-5]
    [MQTT-3.3.1-6]: `mosquitto_pub -r` stores a retained message that a later
    mosquitto_sub gets with the retain flag; `-r -n` clears it."""
    topic = f"{uid}/r"
    mosquitto_pub(mosquitto_clients, broker, "-V", cli_version, "-t", topic, "-q", "1", "-r", "-m", "kept")
    sub = subs("-V", cli_version, "-t", topic, "-q", "1", "-C", "1", "-F", "MSG %t %q %r %p")
    line = sub.wait_for(lambda line: line.startswith("MSG "), "retained message")
    assert line == f"MSG {topic} 1 1 kept"
    mosquitto_pub(mosquitto_clients, broker, "-V", cli_version, "-t", topic, "-q", "1", "-r", "-n")
    # After clearing, a new subscriber gets the next live message first.
    after = subs("-V", cli_version, "-t", topic, "-q", "1", "-C", "1", "-F", "MSG %t %q %r %p")
    after.subscribed()
    mosquitto_pub(mosquitto_clients, broker, "-V", cli_version, "-t", topic, "-q", "1", "-m", "live")
    assert after.wait_for(lambda line: line.startswith("MSG "), "live message") == f"MSG {topic} 1 0 live"


def test_will_of_killed_mosquitto_sub(peers, subs, uid, cli_version):
    """v3.1.1 [MQTT-3.1.2-8] / v5 [MQTT-3.1.2-8]: mosquitto_sub connected with
    --will-topic and killed with SIGKILL (no DISCONNECT) has its will published."""
    will_topic = f"{uid}/will"
    watcher = peers(f"{uid}-watch", PAHO_VERSION[cli_version])
    watcher.connect()
    watcher.subscribe(will_topic, qos=1)
    sub = subs(
        "-V", cli_version, "-t", f"{uid}/any", "-i", f"{uid}-victim",
        "--will-topic", will_topic, "--will-payload", "killed", "--will-qos", "1",
    )
    sub.subscribed()
    sub.proc.send_signal(signal.SIGKILL)
    sub.proc.wait(TIMEOUT)
    m = watcher.expect()
    assert (m.topic, m.payload, m.qos) == (will_topic, b"killed", 1)


def test_will_not_sent_on_clean_exit(mosquitto_clients, broker, peers, subs, uid, cli_version):
    """v3.1.1 [MQTT-3.14.4-3] / v5 [MQTT-3.14.4-3]: mosquitto_sub leaving with -C 1
    sends DISCONNECT, so its will is not published."""
    will_topic = f"{uid}/will"
    watcher = peers(f"{uid}-watch", PAHO_VERSION[cli_version])
    watcher.connect()
    watcher.subscribe(will_topic, qos=1)
    sub = subs(
        "-V", cli_version, "-t", f"{uid}/any", "-C", "1",
        "--will-topic", will_topic, "--will-payload", "must not",
    )
    sub.subscribed()
    mosquitto_pub(mosquitto_clients, broker, "-V", cli_version, "-t", f"{uid}/any", "-m", "bye")
    assert sub.proc.wait(TIMEOUT) == 0
    mosquitto_pub(mosquitto_clients, broker, "-V", cli_version, "-t", will_topic, "-q", "1", "-m", "sentinel")
    assert watcher.until(b"sentinel") == []
