"""Subscriptions: wildcards and `$` topics, overlapping subscriptions, shared
subscriptions, Subscription Identifiers, No Local, and refused filters."""

import queue
import time

import paho.mqtt.client as mqtt
import pytest

import raw

from peer import TIMEOUT, V5, subscribe_props


def test_wildcards(peers, uid, version):
    """v3.1.1 §4.7.1 [MQTT-4.7.1-2] [MQTT-4.7.1-3] / v5 §4.7.1: `#` matches the
    parent level and any number of levels below, `+` exactly one level
    (including an empty one)."""
    sub = peers(f"{uid}-sub", version)
    sub.connect()
    sub.subscribe(f"{uid}/multi/#", qos=1)
    sub.subscribe(f"{uid}/single/+/end", qos=1)
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    matching = [
        f"{uid}/multi",
        f"{uid}/multi/a",
        f"{uid}/multi/a/b/c",
        f"{uid}/single/x/end",
        f"{uid}/single//end",
    ]
    not_matching = [f"{uid}/multiple", f"{uid}/single/x/y/end", f"{uid}/single/end"]
    for topic in not_matching + matching:
        pub.publish(topic, topic.encode(), qos=1)
    pub.publish(f"{uid}/multi/last", b"sentinel", qos=1)
    got = sorted(m.topic for m in sub.until(b"sentinel"))
    assert got == sorted(matching)


def test_dollar_topics_not_matched_by_leading_wildcards(peers, uid, version):
    """v3.1.1 [MQTT-4.7.2-1] / v5 [MQTT-4.7.2-1]: filters starting with a wildcard
    (`#`, `+/...`) do not match topic names starting with `$`; a filter naming
    the `$` level does."""
    dollar = f"$interop/{uid}/x"
    sub = peers(f"{uid}-sub", version)
    sub.connect()
    sub.subscribe("#", qos=1)
    sub.subscribe("+/x", qos=1)
    explicit = peers(f"{uid}-explicit", version)
    explicit.connect()
    explicit.subscribe(f"$interop/{uid}/+", qos=1)
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(dollar, b"dollar", qos=1)
    pub.publish(f"{uid}/x", b"sentinel", qos=1)
    got = [m for m in sub.until(b"sentinel") if m.topic.startswith("$")]
    assert got == [], f"a leading wildcard matched a $ topic: {got}"
    m = explicit.expect()
    assert (m.topic, m.payload) == (dollar, b"dollar")


def test_overlapping_subscriptions_max_qos(peers, uid, version):
    """v3.1.1 [MQTT-3.3.5-1] / v5 [MQTT-3.3.4-2]: a message matching several
    subscriptions of one client is delivered respecting the maximum QoS of the
    matching subscriptions (one copy, or one per subscription)."""
    sub = peers(f"{uid}-sub", version)
    sub.connect()
    sub.subscribe(f"{uid}/#", qos=0)
    sub.subscribe(f"{uid}/a/+", qos=2)
    sub.subscribe(f"{uid}/a/b", qos=1)
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(f"{uid}/a/b", b"overlap", qos=2)
    # The sentinel matches the QoS 2 subscription too; order is kept per QoS
    # [MQTT-4.6.0-5 (v5)], so its QoS 2 copy comes after the message's.
    pub.publish(f"{uid}/a/z", b"sentinel", qos=2)
    got = []
    while True:
        m = sub.expect()
        if m.payload == b"sentinel" and m.qos == 2:
            break
        if m.payload != b"sentinel":
            got.append(m)
    assert 1 <= len(got) <= 3
    assert all(m.payload == b"overlap" for m in got)
    assert max(m.qos for m in got) == 2


def test_shared_subscription(peers, uid):
    """v5 §4.8.2 [MQTT-4.8.2-1] [MQTT-4.8.2-2]: each message to a shared
    subscription `$share/{group}/{filter}` goes to exactly one member of the
    group, while an ordinary subscriber to the filter gets every message."""
    topic = f"{uid}/jobs"
    members = []
    for i in range(2):
        m = peers(f"{uid}-member{i}", V5)
        m.connect()
        assert m.subscribe(f"$share/g{uid}/{uid}/+", qos=1) == [1]
        members.append(m)
    plain = peers(f"{uid}-plain", V5)
    plain.connect()
    plain.subscribe(f"{uid}/+", qos=1)
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    count = 20
    for i in range(count):
        pub.publish(topic, f"job{i}".encode(), qos=1)
    assert len(plain.expect_n(count)) == count
    received = [_next_of(members) for _ in range(count)]
    payloads = sorted(p for _, p in received)
    assert payloads == sorted(f"job{i}".encode() for i in range(count)), "each exactly once"
    # Nothing more arrives: a sentinel through each member's own topic.
    for m in members:
        m.subscribe(f"{uid}/own/{m.client_id}", qos=1)
        pub.publish(f"{uid}/own/{m.client_id}", b"sentinel", qos=1)
        assert m.until(b"sentinel") == [], "a message was delivered twice"


def _next_of(members):
    """(client id, payload) of the next message any member receives; fails
    after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for m in members:
            try:
                return m.client_id, m.messages.get(timeout=0.02).payload
            except queue.Empty:
                pass
    raise AssertionError("the shared subscription group got fewer messages than published")


def test_subscription_identifiers(peers, uid):
    """v5 [MQTT-3.3.4-3] [MQTT-3.3.4-4] [MQTT-3.3.4-5] (§3.8.2.1.2): messages carry
    the Subscription Identifiers of the matching subscriptions, all of them in
    a single copy or each in its own copy; a subscription without one adds none."""
    sub = peers(f"{uid}-sub", V5)
    sub.connect()
    sub.subscribe(f"{uid}/+", qos=1, properties=subscribe_props(SubscriptionIdentifier=7))
    sub.subscribe(f"{uid}/a", qos=1, properties=subscribe_props(SubscriptionIdentifier=300))
    sub.subscribe(f"{uid}/#", qos=1)
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    pub.publish(f"{uid}/a", b"both", qos=1)
    pub.publish(f"{uid}/b", b"one", qos=1)
    pub.publish(f"{uid}/c/d", b"sentinel", qos=1)
    got = sub.until(b"sentinel")
    both = [m for m in got if m.payload == b"both"]
    ids = sorted(i for m in both for i in (m.prop("SubscriptionIdentifier") or []))
    assert ids == [7, 300], f"identifiers of the copies of 'both': {ids}"
    one = [m for m in got if m.payload == b"one"]
    assert sorted(i for m in one for i in (m.prop("SubscriptionIdentifier") or [])) == [7]


def test_no_local(peers, uid):
    """v5 [MQTT-3.8.3-3] (§3.8.3.1 No Local): with No Local 1 the broker does not
    send a client the messages it published itself; other clients' messages
    still arrive, and a subscriber without No Local gets its own."""
    topic = f"{uid}/chat"
    quiet = peers(f"{uid}-quiet", V5)
    quiet.connect()
    quiet.subscribe(topic, options=mqtt.SubscribeOptions(qos=1, noLocal=True))
    echo = peers(f"{uid}-echo", V5)
    echo.connect()
    echo.subscribe(topic, options=mqtt.SubscribeOptions(qos=1, noLocal=False))
    quiet.publish(topic, b"mine", qos=1)
    echo.publish(topic, b"sentinel", qos=1)
    assert quiet.until(b"sentinel") == [], "No Local: own message delivered"
    assert [m.payload for m in echo.expect_n(2)] == [b"mine", b"sentinel"]


@pytest.mark.ours
def test_refused_subscription(peers, broker, uid, version):
    """v3.1.1 [MQTT-3.9.3-2] / v5 §3.9.3 (issue 6: a configured list of refused
    filters): SUBSCRIBE to a refused filter, or one it matches, gets SUBACK 0x80
    for that filter, the others in the same SUBSCRIBE are granted, and nothing
    is delivered through the refused one."""
    refused_root = broker.deny.rstrip("#").rstrip("/")
    refused = f"{refused_root}/{uid}"
    sub = peers(f"{uid}-sub", version)
    sub.connect()
    if version == V5:
        rc, mid = sub.client.subscribe(
            [(refused, mqtt.SubscribeOptions(qos=1)), (f"{uid}/ok", mqtt.SubscribeOptions(qos=1))]
        )
    else:
        rc, mid = sub.client.subscribe([(refused, 1), (f"{uid}/ok", 1)])
    codes = [c.value if hasattr(c, "value") else int(c) for c in sub._wait_ack(sub._subacks, mid, "SUBACK")]
    assert codes == [0x80, 1]
    assert sub.subscribe(broker.deny, qos=0) == [0x80]
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(refused, b"refused", qos=1)
    pub.publish(f"{uid}/ok", b"sentinel", qos=1)
    assert sub.until(b"sentinel") == []


def test_subscription_identifier_on_retained(peers, uid):
    """v5 [MQTT-3.3.4-3] (§3.8.2.1.2): a retained message sent for a new
    subscription carries that subscription's identifier."""
    topic = f"{uid}/r"
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    pub.publish(topic, b"kept", qos=1, retain=True)
    sub = peers(f"{uid}-sub", V5)
    sub.connect()
    sub.subscribe(topic, qos=1, properties=subscribe_props(SubscriptionIdentifier=42))
    m = sub.expect()
    assert (m.payload, m.retain, m.prop("SubscriptionIdentifier")) == (b"kept", True, [42])
    pub.publish(topic, b"", qos=1, retain=True)


@pytest.mark.ours
def test_no_local_on_shared_subscription_is_protocol_error(raws, uid):
    """v5 [MQTT-3.8.3-4] (mosquitto 2.0.11 accepts it): No Local set on a Shared Subscription is a Protocol
    Error: DISCONNECT 0x82 and the connection is closed."""
    c = raws(5)
    c.connack(f"{uid}-c")
    c.subscribe(1, f"$share/g/{uid}/t", options=0x01 | 0x04)
    packets = c.recv_until_closed()
    assert [(p.kind, p.fields.get("reason_code")) for p in packets] == [(raw.DISCONNECT, 0x82)], packets


def test_unsubscribe_reason_codes(peers, uid):
    """v5 [MQTT-3.11.3-1] [MQTT-3.11.3-2] (§3.11.3): UNSUBACK has one reason code
    per filter, in order: 0x00 Success for a subscription that existed, 0x11 No
    subscription existed for one that did not."""
    sub = peers(f"{uid}-sub", V5)
    sub.connect()
    sub.subscribe(f"{uid}/a", qos=1)
    rc, mid = sub.client.unsubscribe([f"{uid}/a", f"{uid}/never"])
    assert rc == mqtt.MQTT_ERR_SUCCESS
    codes = sub._wait_ack(sub._unsubacks, mid, "UNSUBACK")
    assert [c.value for c in codes] == [0x00, 0x11]
