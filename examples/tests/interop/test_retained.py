"""Retained messages: set, replace, clear; Retain Handling; Retain As Published."""

import paho.mqtt.client as mqtt

from peer import V5


def fresh_subscriber(peers, uid, name, version, topic, qos=1, options=None):
    """A new client `name` subscribed to `topic`."""
    sub = peers(f"{uid}-{name}", version)
    sub.connect()
    sub.subscribe(topic, qos=qos, options=options)
    return sub


def retained_before_sentinel(sub, pub, topic):
    """What `sub` receives before a live, non-retained sentinel that `pub`
    publishes on `topic` now: the retained messages sent for a subscription
    just made come before it."""
    pub.publish(topic, b"sentinel", qos=1)
    return sub.until(b"sentinel")


def test_retained_set_replace_clear(peers, uid, version):
    """v3.1.1 [MQTT-3.3.1-5] [MQTT-3.3.1-8] [MQTT-3.3.1-10] [MQTT-3.3.1-11] /
    v5 [MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-7] [MQTT-3.3.1-9]: a retained
    message is stored and sent with RETAIN=1 to new subscribers; a new one
    replaces it; a zero-length retained message removes it, is still forwarded to
    current subscribers, and is not sent to later ones."""
    topic = f"{uid}/r"
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(topic, b"one", qos=1, retain=True)
    s1 = fresh_subscriber(peers, uid, "s1", version, topic)
    m = s1.expect()
    assert (m.payload, m.retain) == (b"one", True)

    pub.publish(topic, b"two", qos=1, retain=True)
    live = s1.expect()
    assert live.payload == b"two"
    s2 = fresh_subscriber(peers, uid, "s2", version, topic)
    assert [(m.payload, m.retain) for m in retained_before_sentinel(s2, pub, topic)] == [(b"two", True)]

    pub.publish(topic, b"", qos=1, retain=True)
    cleared = s2.expect()
    assert cleared.payload == b"", "the clearing message is forwarded to current subscribers"
    s3 = fresh_subscriber(peers, uid, "s3", version, topic)
    assert retained_before_sentinel(s3, pub, topic) == []


def test_retained_with_qos0_and_wildcard(peers, uid, version):
    """v3.1.1 [MQTT-3.3.1-5] / v5 [MQTT-3.3.1-5]: retained messages of every
    topic matching a new wildcard subscription are sent, at min(QoS)."""
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(f"{uid}/a", b"A", qos=0, retain=True)
    pub.publish(f"{uid}/b", b"B", qos=2, retain=True)
    pub.publish(f"{uid}/c", b"C", qos=1, retain=False)
    sub = fresh_subscriber(peers, uid, "sub", version, f"{uid}/+", qos=1)
    got = sorted(retained_before_sentinel(sub, pub, f"{uid}/a"), key=lambda m: m.topic)
    assert [(m.topic, m.payload, m.qos, m.retain) for m in got] == [
        (f"{uid}/a", b"A", 0, True),
        (f"{uid}/b", b"B", 1, True),
    ]


def test_live_message_retain_flag_v311(peers, uid):
    """v3.1.1 [MQTT-3.3.1-9]: a message sent because it matches an established
    subscription has RETAIN=0 even when it was published retained."""
    topic = f"{uid}/r"
    sub = fresh_subscriber(peers, uid, "sub", mqtt.MQTTv311, topic)
    pub = peers(f"{uid}-pub", mqtt.MQTTv311)
    pub.connect()
    pub.publish(topic, b"live", qos=1, retain=True)
    m = sub.expect()
    assert (m.payload, m.retain) == (b"live", False)
    pub.publish(topic, b"", qos=1, retain=True)


def test_retain_handling(peers, uid):
    """v5 [MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11] (§3.8.3.1 Retain Handling):
    0 sends retained messages at every subscribe, 1 only when the subscription
    is new, 2 never."""
    topic = f"{uid}/r"
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    pub.publish(topic, b"kept", qos=1, retain=True)

    def opts(rh):
        return mqtt.SubscribeOptions(qos=1, retainHandling=rh)

    def retained(sub):
        return [m.payload for m in retained_before_sentinel(sub, pub, topic)]

    s = peers(f"{uid}-rh1", V5)
    s.connect()
    s.subscribe(topic, options=opts(1))
    assert retained(s) == [b"kept"], "RH 1, new subscription: sent"
    s.subscribe(topic, options=opts(1))
    assert retained(s) == [], "RH 1, existing subscription: not sent"
    s.subscribe(topic, options=opts(0))
    assert retained(s) == [b"kept"], "RH 0, existing subscription: sent"

    s2 = peers(f"{uid}-rh2", V5)
    s2.connect()
    s2.subscribe(topic, options=opts(2))
    assert retained(s2) == [], "RH 2: never sent"
    pub.publish(topic, b"", qos=1, retain=True)


def test_retain_as_published(peers, uid):
    """v5 [MQTT-3.3.1-12] [MQTT-3.3.1-13]: with Retain As Published 0 a forwarded
    live message has RETAIN=0, with 1 it keeps the RETAIN flag it was published
    with; retained messages sent for a new subscription have RETAIN=1 either way."""
    topic = f"{uid}/r"
    rap0 = peers(f"{uid}-rap0", V5)
    rap0.connect()
    rap0.subscribe(topic, options=mqtt.SubscribeOptions(qos=1, retainAsPublished=False))
    rap1 = peers(f"{uid}-rap1", V5)
    rap1.connect()
    rap1.subscribe(topic, options=mqtt.SubscribeOptions(qos=1, retainAsPublished=True))
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    pub.publish(topic, b"r", qos=1, retain=True)
    pub.publish(topic, b"n", qos=1, retain=False)
    assert [(m.payload, m.retain) for m in rap0.expect_n(2)] == [(b"r", False), (b"n", False)]
    assert [(m.payload, m.retain) for m in rap1.expect_n(2)] == [(b"r", True), (b"n", False)]
    late = peers(f"{uid}-late", V5)
    late.connect()
    late.subscribe(topic, options=mqtt.SubscribeOptions(qos=1, retainAsPublished=False))
    m = late.expect()
    assert (m.payload, m.retain) == (b"r", True)
    pub.publish(topic, b"", qos=1, retain=True)
