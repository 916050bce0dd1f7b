"""A Paho client driven synchronously: connect, subscribe and publish wait for
their acknowledgement; received messages and disconnects land in queues that
the tests wait on with timeouts.

Every wait is bounded by TIMEOUT so that a broker that never answers fails the
test instead of hanging it. A Peer never reconnects by itself.
"""

import queue
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

# How long any single expected event may take.
TIMEOUT = 5.0

V311 = mqtt.MQTTv311
V5 = mqtt.MQTTv5
VERSIONS = [V311, V5]
VERSION_IDS = ["v3.1.1", "v5"]


def props(packet_type, **values):
    """MQTT v5 properties of `packet_type` (PacketTypes.CONNECT, PUBLISH...):
    props(PacketTypes.PUBLISH, MessageExpiryInterval=10)."""
    p = Properties(packet_type)
    for name, value in values.items():
        setattr(p, name, value)
    return p


def publish_props(**values):
    """Properties of a PUBLISH."""
    return props(PacketTypes.PUBLISH, **values)


def connect_props(**values):
    """Properties of a CONNECT."""
    return props(PacketTypes.CONNECT, **values)


def subscribe_props(**values):
    """Properties of a SUBSCRIBE."""
    return props(PacketTypes.SUBSCRIBE, **values)


def get_prop(properties, name, default=None):
    """A property of a received packet, or `default` when it is absent."""
    if properties is None:
        return default
    return getattr(properties, name, default)


class Received:
    """One received PUBLISH, copied out of Paho's message."""

    def __init__(self, msg):
        self.topic = msg.topic
        self.payload = msg.payload
        self.qos = msg.qos
        self.retain = bool(msg.retain)
        self.properties = getattr(msg, "properties", None)

    def prop(self, name, default=None):
        """A property of the PUBLISH, or `default` when absent."""
        return get_prop(self.properties, name, default)

    def __repr__(self):
        return (
            f"Received(topic={self.topic!r}, payload={self.payload!r}, qos={self.qos}, "
            f"retain={self.retain}, properties={self.properties})"
        )


class Peer:
    """A Paho client of `version` with its own network loop thread."""

    def __init__(self, broker, client_id, version, clean=True, keepalive=60, **client_args):
        self.broker = broker
        self.version = version
        self.client_id = client_id
        self.messages = queue.Queue()
        self.disconnects = queue.Queue()
        self.connack = None
        self._connected = threading.Event()
        self._subacks = {}
        self._unsubacks = {}
        self._lock = threading.Lock()
        self._thread = None
        self._running = False
        kwargs = dict(client_args)
        if version != V5:
            kwargs["clean_session"] = clean
        self.clean = clean
        self.keepalive = keepalive
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=version,
            **kwargs,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = self._on_unsubscribe

    # Callbacks (Paho's network thread).

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.connack = (flags, reason_code, properties)
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.disconnects.put((reason_code, properties))

    def _on_message(self, client, userdata, msg):
        self.messages.put(Received(msg))

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        with self._lock:
            self._subacks.setdefault(mid, queue.Queue()).put(list(reason_codes))

    def _on_unsubscribe(self, client, userdata, mid, reason_codes, properties):
        with self._lock:
            self._unsubacks.setdefault(mid, queue.Queue()).put(list(reason_codes))

    # The network loop: no automatic reconnect.

    def _loop(self):
        while self._running:
            rc = self.client.loop(timeout=0.05)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                break

    def connect(self, properties=None, clean=None, expect_success=True, will=None):
        """Connects and waits for CONNACK. `clean` overrides the Clean Start /
        Clean Session given at construction (v5 only; v3.1.1 sets it in the
        constructor). `will` is (topic, payload, qos, retain, properties).
        Returns (session_present, reason_code, properties)."""
        if clean is None:
            clean = self.clean
        if will is not None:
            topic, payload, qos, retain, will_props = will
            self.client.will_set(topic, payload, qos, retain, properties=will_props)
        self._connected.clear()
        self.connack = None
        if self.version == V5:
            self.client.connect(
                self.broker.host,
                self.broker.port,
                keepalive=self.keepalive,
                clean_start=clean,
                properties=properties,
            )
        else:
            self.client.connect(self.broker.host, self.broker.port, keepalive=self.keepalive)
        self._running = True
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        if not self._connected.wait(TIMEOUT):
            raise AssertionError(f"{self.client_id}: no CONNACK within {TIMEOUT} s")
        flags, reason_code, connack_props = self.connack
        if expect_success:
            assert not reason_code.is_failure, f"{self.client_id}: CONNACK {reason_code}"
        return flags.session_present, reason_code, connack_props

    def subscribe(self, topic, qos=0, options=None, properties=None):
        """Subscribes to one filter and returns its SUBACK reason codes (ints).
        For v5, `options` is a paho SubscribeOptions (then `qos` is ignored)."""
        if self.version == V5:
            opts = options or mqtt.SubscribeOptions(qos=qos)
            rc, mid = self.client.subscribe(topic, options=opts, properties=properties)
        else:
            rc, mid = self.client.subscribe(topic, qos)
        assert rc == mqtt.MQTT_ERR_SUCCESS, f"subscribe failed locally: {rc}"
        codes = self._wait_ack(self._subacks, mid, "SUBACK")
        return [c.value if hasattr(c, "value") else int(c) for c in codes]

    def unsubscribe(self, topic):
        """Unsubscribes from one filter and waits for UNSUBACK."""
        rc, mid = self.client.unsubscribe(topic)
        assert rc == mqtt.MQTT_ERR_SUCCESS
        self._wait_ack(self._unsubacks, mid, "UNSUBACK")

    def _wait_ack(self, table, mid, name):
        with self._lock:
            q = table.setdefault(mid, queue.Queue())
        try:
            return q.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"{self.client_id}: no {name} within {TIMEOUT} s") from None

    def publish(self, topic, payload, qos=0, retain=False, properties=None):
        """Publishes and, for QoS 1 and 2, waits until the flow completes."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, f"publish failed locally: {info.rc}"
        info.wait_for_publish(TIMEOUT)
        assert info.is_published(), f"{self.client_id}: publish to {topic!r} not acknowledged"
        return info

    def expect(self, timeout=TIMEOUT):
        """The next received message; fails when none arrives in time."""
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.client_id}: no message within {timeout} s") from None

    def expect_n(self, n, timeout=TIMEOUT):
        """The next `n` received messages."""
        return [self.expect(timeout) for _ in range(n)]

    def until(self, payload, timeout=TIMEOUT):
        """Messages received up to and including the first with `payload`
        (a sentinel published after the messages that must not arrive);
        returns those before it."""
        before = []
        while True:
            m = self.expect(timeout)
            if m.payload == payload:
                return before
            before.append(m)

    def expect_disconnect(self, timeout=TIMEOUT):
        """Waits until the connection ends; returns (reason_code, properties)."""
        try:
            return self.disconnects.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.client_id}: still connected after {timeout} s") from None

    def disconnect(self, properties=None):
        """Sends DISCONNECT and waits for the connection to end."""
        if self._thread is None:
            return
        if self.client.is_connected():
            self.client.disconnect(properties=properties)
            try:
                self.disconnects.get(timeout=TIMEOUT)
            except queue.Empty:
                pass
        self.stop()

    def stop(self):
        """Stops the network loop without sending anything."""
        self._running = False
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(TIMEOUT)
        self._thread = None

    def drop(self):
        """Closes the socket without DISCONNECT (an abrupt close)."""
        self._running = False
        if self._thread is not None:
            self._thread.join(TIMEOUT)
        self._thread = None
        sock = self.client.socket()
        if sock is not None:
            sock.close()
