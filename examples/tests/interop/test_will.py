"""Will messages: sent on an abrupt close, not on DISCONNECT, delayed by the
Will Delay Interval and cancelled by a reconnect in time."""

import queue

import pytest

import raw

from peer import V5, V311

RAW_VERSION = {V311: 4, V5: 5}


def will_watcher(peers, uid, version, topic):
    """A client subscribed to the will topic."""
    w = peers(f"{uid}-watch", version)
    w.connect()
    w.subscribe(topic, qos=1)
    return w


def test_will_sent_on_abrupt_close(peers, raws, uid, version):
    """v3.1.1 [MQTT-3.1.2-8] / v5 [MQTT-3.1.2-8]: the Will Message is published
    when the Network Connection is closed without DISCONNECT, with the will's
    QoS and RETAIN [MQTT-3.1.2-17 (v3.1.1)] [MQTT-3.1.2-15 (v5)]."""
    topic = f"{uid}/will"
    watcher = will_watcher(peers, uid, version, topic)
    client = raws(RAW_VERSION[version])
    client.connack(f"{uid}-dying", will=(topic, b"gone", 1, True, None))
    client.close()
    m = watcher.expect()
    assert (m.topic, m.payload, m.qos) == (topic, b"gone", 1)
    late = peers(f"{uid}-late", version)
    late.connect()
    late.subscribe(topic, qos=1)
    m = late.expect()
    assert (m.payload, m.retain) == (b"gone", True), "a retained will is stored"
    late.publish(topic, b"", qos=1, retain=True)


def test_will_with_paho_socket_drop(peers, uid, version):
    """v3.1.1 [MQTT-3.1.2-8] / v5 [MQTT-3.1.2-8]: a will set by Paho is published
    when its socket is closed without DISCONNECT."""
    topic = f"{uid}/will"
    watcher = will_watcher(peers, uid, version, topic)
    dying = peers(f"{uid}-dying", version)
    dying.connect(will=(topic, b"paho gone", 2, False, None))
    dying.drop()
    m = watcher.expect()
    assert (m.payload, m.qos) == (b"paho gone", 1)


def test_will_not_sent_on_disconnect(peers, raws, uid, version):
    """v3.1.1 [MQTT-3.1.2-10] [MQTT-3.14.4-3] / v5 [MQTT-3.1.2-10] [MQTT-3.14.4-3]:
    on a normal DISCONNECT the Will Message is discarded, not published."""
    topic = f"{uid}/will"
    watcher = will_watcher(peers, uid, version, topic)
    client = raws(RAW_VERSION[version])
    client.connack(f"{uid}-polite", will=(topic, b"must not", 1, False, None))
    client.disconnect()
    # The broker closes the connection once it has handled DISCONNECT; after
    # that a will would already be on its way.
    assert client.recv_until_closed() == []
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(topic, b"sentinel", qos=1)
    assert watcher.until(b"sentinel") == []


def test_will_sent_on_keep_alive_timeout(peers, raws, uid, version):
    """v3.1.1 [MQTT-3.1.2-24] / v5 [MQTT-3.1.2-22] with §3.1.2.5: a client silent for
    1.5 × its Keep Alive is disconnected, and that publishes its will."""
    topic = f"{uid}/will"
    watcher = will_watcher(peers, uid, version, topic)
    client = raws(RAW_VERSION[version])
    client.connack(f"{uid}-silent", keepalive=1, will=(topic, b"timed out", 0, False, None))
    packets = client.recv_until_closed(timeout=10)
    assert all(p.kind == raw.DISCONNECT for p in packets), f"only a DISCONNECT may come: {packets}"
    m = watcher.expect()
    assert m.payload == b"timed out"


def test_will_delay_cancelled_by_reconnect(peers, raws, uid):
    """v5 [MQTT-3.1.3-9]: with a Will Delay Interval, a new Network Connection to
    the Session before the delay passes means the will is never sent."""
    topic = f"{uid}/will"
    watcher = will_watcher(peers, uid, V5, topic)
    client_id = f"{uid}-flaky"
    delay = 1
    client = raws(5)
    client.connack(
        client_id,
        props={"SessionExpiryInterval": 60},
        will=(topic, b"must not", 1, False, {"WillDelayInterval": delay}),
    )
    client.close()
    again = raws(5)
    p = again.connack(client_id, clean=False, props={"SessionExpiryInterval": 60})
    assert p.fields["session_present"]
    # A will wrongly kept would be published `delay` seconds after the close.
    with pytest.raises(queue.Empty):
        watcher.messages.get(timeout=delay + 1)
    again.disconnect(props=None)


def test_will_delay_then_sent(peers, raws, uid):
    """v5 [MQTT-3.1.3-9] (§3.1.3.2.2): without a reconnect the will is published
    once the Will Delay Interval has passed."""
    topic = f"{uid}/will"
    watcher = will_watcher(peers, uid, V5, topic)
    client = raws(5)
    client.connack(
        f"{uid}-gone",
        props={"SessionExpiryInterval": 60},
        will=(topic, b"late will", 1, False, {"WillDelayInterval": 1}),
    )
    client.close()
    m = watcher.expect(timeout=6)
    assert m.payload == b"late will"


def test_disconnect_with_will_message(peers, raws, uid):
    """v5 §3.14.2.1 (Reason Code 0x04 Disconnect with Will Message) with
    [MQTT-3.1.2-10]: a DISCONNECT with 0x04 closes normally but the will is
    still published."""
    topic = f"{uid}/will"
    watcher = will_watcher(peers, uid, V5, topic)
    client = raws(5)
    client.connack(f"{uid}-leaving", will=(topic, b"asked for", 1, False, None))
    client.disconnect(reason_code=0x04)
    assert watcher.expect().payload == b"asked for"
