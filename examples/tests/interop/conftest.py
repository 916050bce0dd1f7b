"""Interop tests: Paho Python (paho-mqtt 2.x) and mosquitto_pub/mosquitto_sub against a broker; run by `cargo test -p mqtt-examples --test interop` (our broker), or alone with `python3 -m pytest -q examples/tests/interop` (starts a mosquitto of its own).

Environment (set by examples/tests/interop.rs for our broker):
  MQTT_HOST, MQTT_PORT       the broker under test; when MQTT_PORT is unset a
                             mosquitto with the same limits is started here.
  MQTT_BROKER                `ours` or `mosquitto`: tests marked `ours` check
                             behaviour the spec leaves optional that our broker
                             promises (issue 6), and skip on mosquitto.
  MQTT_DENY                  a filter the broker refuses (SUBACK 0x80).
  MQTT_MAX_QUEUED            the per-session offline queue bound.
  MQTT_MAX_KEEP_ALIVE        the largest keep alive the broker accepts.
  MQTT_MAX_PACKET_SIZE       the largest packet the broker accepts.
  MQTT_PORT_SERVER_KEEP_ALIVE  a second broker, imposing Server Keep Alive
                             MQTT_SERVER_KEEP_ALIVE (seconds) on v5 clients.
  MQTT_REQUIRE_INTEROP=1     a missing mosquitto_pub/mosquitto_sub fails
                             instead of skipping.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

from peer import VERSION_IDS, VERSIONS, Peer
from raw import RawClient

# The limits the tests rely on; examples/tests/interop.rs configures our
# broker with the same values and passes them in the environment.
DENY = os.environ.get("MQTT_DENY", "refused/#")
MAX_QUEUED = int(os.environ.get("MQTT_MAX_QUEUED", "10"))
MAX_KEEP_ALIVE = int(os.environ.get("MQTT_MAX_KEEP_ALIVE", "60"))
MAX_PACKET_SIZE = int(os.environ.get("MQTT_MAX_PACKET_SIZE", "1048576"))
# mosquitto accepts no max_keepalive below 10.
SERVER_KEEP_ALIVE = int(os.environ.get("MQTT_SERVER_KEEP_ALIVE", "10"))


class Broker:
    """The broker under test: where it listens and which it is."""

    def __init__(self, host, port, kind):
        self.host = host
        self.port = port
        self.kind = kind
        self.deny = DENY
        self.max_queued = MAX_QUEUED
        self.max_keep_alive = MAX_KEEP_ALIVE
        self.max_packet_size = MAX_PACKET_SIZE
        self.server_keep_alive = SERVER_KEEP_ALIVE

    @property
    def ours(self):
        return self.kind == "ours"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "ours: behaviour our broker promises beyond the spec's musts; skipped on mosquitto"
    )


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_mosquitto(tmp, max_keep_alive=MAX_KEEP_ALIVE):
    """A mosquitto with the limits above (all but DENY, which it lacks)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(binary):
        pytest.exit("MQTT_PORT is unset and mosquitto is not installed", returncode=2)
    for _ in range(5):
        port = _free_port()
        conf = os.path.join(tmp, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(
                f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                f"max_queued_messages {MAX_QUEUED}\n"
                f"max_inflight_messages 10\nmax_keepalive {max_keep_alive}\n"
                f"max_packet_size {MAX_PACKET_SIZE}\n"
                # Its default sends one copy of a message matching overlapping
                # subscriptions, at the QoS of any one of them: not the maximum
                # that v3.1.1 [MQTT-3.3.5-1] requires.
                "allow_duplicate_messages true\n"
                + ("user root\n" if os.geteuid() == 0 else "")
            )
        log = open(os.path.join(tmp, "mosquitto.log"), "w")
        proc = subprocess.Popen([binary, "-c", conf], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return proc, port
            except OSError:
                time.sleep(0.05)
        proc.kill()
        proc.wait()
    pytest.exit("mosquitto did not start", returncode=2)


@pytest.fixture(scope="session")
def broker():
    """The broker under test (see the module docstring)."""
    if os.environ.get("MQTT_PORT"):
        yield Broker(
            os.environ.get("MQTT_HOST", "127.0.0.1"),
            int(os.environ["MQTT_PORT"]),
            os.environ.get("MQTT_BROKER", "ours"),
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = _start_mosquitto(tmp)
        try:
            yield Broker("127.0.0.1", port, "mosquitto")
        finally:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def keep_alive_broker(broker):
    """A second broker that imposes Server Keep Alive SERVER_KEEP_ALIVE on v5
    clients: MQTT_PORT_SERVER_KEEP_ALIVE (ours with `--server-keep-alive`), or
    a mosquitto with that `max_keepalive` when MQTT_PORT is unset."""
    if os.environ.get("MQTT_PORT"):
        port = os.environ.get("MQTT_PORT_SERVER_KEEP_ALIVE")
        if not port:
            pytest.skip("MQTT_PORT_SERVER_KEEP_ALIVE is unset")
        yield Broker(broker.host, int(port), broker.kind)
        return
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = _start_mosquitto(tmp, max_keep_alive=SERVER_KEEP_ALIVE)
        try:
            yield Broker("127.0.0.1", port, "mosquitto")
        finally:
            proc.kill()
            proc.wait()


@pytest.fixture(autouse=True)
def _skip_unless_ours(request, broker):
    if request.node.get_closest_marker("ours") and not broker.ours:
        pytest.skip("checks behaviour of our broker that mosquitto does not have")


@pytest.fixture(params=VERSIONS, ids=VERSION_IDS)
def version(request):
    """Each MQTT version in turn (paho's MQTTv311, MQTTv5)."""
    return request.param


@pytest.fixture
def uid(request):
    """A prefix of topics and client ids that no other test uses."""
    name = request.node.name.replace("[", "-").replace("]", "").replace(".", "")
    return f"it-{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def peers(broker):
    """A factory of Peers (see peer.py), all disconnected after the test:
    peers(client_id, version, clean=True, keepalive=60)."""
    made = []

    def make(client_id, version, **kwargs):
        p = Peer(broker, client_id, version, **kwargs)
        made.append(p)
        return p

    yield make
    for p in made:
        try:
            p.disconnect()
        except Exception:  # noqa: BLE001 - cleanup after a failed test
            p.stop()


@pytest.fixture
def raws(broker):
    """A factory of RawClients (see raw.py), closed after the test:
    raws(version) with version 4 (v3.1.1) or 5."""
    made = []

    def make(version):
        c = RawClient(broker, version)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture(scope="session")
def mosquitto_clients():
    """Paths of mosquitto_pub and mosquitto_sub; skips when they are missing,
    fails instead when MQTT_REQUIRE_INTEROP=1."""
    pub, sub = shutil.which("mosquitto_pub"), shutil.which("mosquitto_sub")
    if pub and sub:
        return pub, sub
    message = "mosquitto_pub/mosquitto_sub are not installed (apt-get install mosquitto-clients)"
    if os.environ.get("MQTT_REQUIRE_INTEROP") == "1":
        pytest.fail(message + " and MQTT_REQUIRE_INTEROP=1 requires them")
    pytest.skip(message)
