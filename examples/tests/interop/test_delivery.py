"""Publish → subscribe at each QoS, in each version and across versions."""

import pytest

from peer import V5, V311, publish_props


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_publish_subscribe_each_qos(peers, uid, version, qos):
    """v3.1.1 §4.3 / v5 §4.3: a message reaches a subscriber at
    min(publish QoS, subscription QoS) (v3.1.1 §3.8.4) [MQTT-3.8.4-8 (v5)], in
    order [MQTT-4.6.0-6 (v3.1.1)] [MQTT-4.6.0-5 (v5)]."""
    topic = f"{uid}/t"
    sub = peers(f"{uid}-sub", version)
    sub.connect()
    assert sub.subscribe(topic, qos=2) == [2]
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    for i in range(3):
        pub.publish(topic, f"m{i}".encode(), qos=qos)
    got = sub.expect_n(3)
    assert [m.payload for m in got] == [b"m0", b"m1", b"m2"]
    assert all(m.topic == topic and m.qos == qos and not m.retain for m in got)


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_qos_downgraded_to_subscription(peers, uid, version, qos):
    """v3.1.1 §3.8.4 / v5 [MQTT-3.8.4-8]: delivered at the minimum of the
    message's QoS and the granted QoS."""
    topic = f"{uid}/t"
    sub = peers(f"{uid}-sub", version)
    sub.connect()
    assert sub.subscribe(topic, qos=qos) == [qos]
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(topic, b"x", qos=2)
    assert sub.expect().qos == qos


@pytest.mark.parametrize(
    "pub_version,sub_version", [(V311, V5), (V5, V311)], ids=["v3.1.1-to-v5", "v5-to-v3.1.1"]
)
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_cross_version_delivery(peers, uid, pub_version, sub_version, qos):
    """A broker serves both versions at once: a message published in one version
    reaches a subscriber of the other with its topic, payload and QoS (v5 §4.3);
    a v5 subscriber gets no v5-only properties from a v3.1.1 publisher, and a
    v3.1.1 subscriber gets the message without the v5 properties."""
    topic = f"{uid}/t"
    sub = peers(f"{uid}-sub", sub_version)
    sub.connect()
    sub.subscribe(topic, qos=2)
    pub = peers(f"{uid}-pub", pub_version)
    pub.connect()
    extra = {}
    if pub_version == V5:
        extra["properties"] = publish_props(UserProperty=[("k", "v")], ContentType="text/plain")
    pub.publish(topic, b"across", qos=qos, **extra)
    m = sub.expect()
    assert (m.topic, m.payload, m.qos) == (topic, b"across", qos)
    if sub_version == V5:
        assert m.prop("UserProperty") is None
        assert m.prop("ContentType") is None


def test_unsubscribe_stops_delivery(peers, uid, version):
    """[MQTT-3.10.4-2 (v3.1.1)] [MQTT-3.10.4-2 (v5)]: after UNSUBACK the broker stops
    adding new messages for the removed filter."""
    sub = peers(f"{uid}-sub", version)
    sub.connect()
    sub.subscribe(f"{uid}/gone", qos=1)
    sub.subscribe(f"{uid}/kept", qos=1)
    sub.unsubscribe(f"{uid}/gone")
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(f"{uid}/gone", b"lost", qos=1)
    pub.publish(f"{uid}/kept", b"sentinel", qos=1)
    assert sub.until(b"sentinel") == []
