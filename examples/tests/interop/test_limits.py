"""MQTT v5 flow limits: topic aliases both ways, Receive Maximum both ways,
Maximum Packet Size."""

import queue

import pytest

import raw
from peer import V5, connect_props, get_prop, publish_props


def test_topic_alias_from_client(peers, uid, version):
    """v5 [MQTT-3.3.2-12] (§3.3.2.3.4): the broker accepts Topic Aliases up to its
    Topic Alias Maximum: a PUBLISH with a topic and an alias sets the mapping, one
    with an empty topic and the alias uses it, and a new topic remaps it. Any
    subscriber (of either version) gets the full topic names."""
    a, b = f"{uid}/a", f"{uid}/b"
    sub = peers(f"{uid}-sub", version)
    sub.connect()
    sub.subscribe(f"{uid}/+", qos=1)
    pub = peers(f"{uid}-pub", V5)
    _, _, props = pub.connect()
    maximum = get_prop(props, "TopicAliasMaximum", 0)
    if maximum < 1:
        pytest.fail(f"the broker allows no topic aliases (CONNACK {props})")
    alias = min(2, maximum)
    pub.publish(a, b"1", qos=1, properties=publish_props(TopicAlias=alias))
    pub.publish("", b"2", qos=1, properties=publish_props(TopicAlias=alias))
    pub.publish(b, b"3", qos=1, properties=publish_props(TopicAlias=alias))
    pub.publish("", b"4", qos=1, properties=publish_props(TopicAlias=alias))
    got = [(m.topic, m.payload) for m in sub.expect_n(4)]
    assert got == [(a, b"1"), (a, b"2"), (b, b"3"), (b, b"4")]


def test_topic_alias_above_maximum_refused(raws, uid):
    """v5 [MQTT-3.3.2-10] (§3.3.2.3.4): a Topic Alias greater than the broker's
    Topic Alias Maximum is a protocol error: DISCONNECT 0x94 (Topic Alias invalid)
    and the connection is closed."""
    c = raws(5)
    p = c.connack(f"{uid}-c")
    maximum = p.fields["properties"].get("TopicAliasMaximum", 0)
    c.publish(f"{uid}/t", b"x", qos=0, props={"TopicAlias": maximum + 1})
    packets = c.recv_until_closed()
    assert [(q.kind, q.fields.get("reason_code")) for q in packets] == [(raw.DISCONNECT, 0x94)]


def _resolve(aliases, m, maximum):
    """The topic of a received PUBLISH given the connection's alias mapping."""
    alias = m.prop("TopicAlias")
    if alias is None:
        assert m.topic, "an empty topic without a Topic Alias"
        return m.topic
    assert 1 <= alias <= maximum, f"Topic Alias {alias} above our maximum {maximum} [MQTT-3.3.2-11]"
    if m.topic:
        aliases[alias] = m.topic
        return m.topic
    assert alias in aliases, f"Topic Alias {alias} used before it was set [MQTT-3.3.2-9]"
    return aliases[alias]


def test_topic_alias_to_client(peers, broker, uid):
    """v5 [MQTT-3.3.2-11] [MQTT-3.3.2-9]: the broker sends Topic Aliases no larger
    than the client's Topic Alias Maximum, sets each before using it, and
    a client that allows none gets none. Issue 6: our broker assigns aliases to
    clients that allow them (so repeated topics arrive with an empty name)."""
    maximum = 2
    topics = [f"{uid}/{n}" for n in "abcab" + "cccaa"]
    allows = peers(f"{uid}-allows", V5)
    allows.connect(properties=connect_props(TopicAliasMaximum=maximum))
    allows.subscribe(f"{uid}/+", qos=1)
    refuses = peers(f"{uid}-refuses", V5)
    refuses.connect()
    refuses.subscribe(f"{uid}/+", qos=1)
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    for i, t in enumerate(topics):
        pub.publish(t, str(i).encode(), qos=1)
    got = allows.expect_n(len(topics))
    aliases = {}
    assert [_resolve(aliases, m, maximum) for m in got] == topics
    assert all(m.prop("TopicAlias") is None and m.topic for m in refuses.expect_n(len(topics)))
    if broker.ours:
        assert any(m.topic == "" for m in got), "our broker sent no message by alias"


@pytest.mark.ours
def test_receive_maximum_exceeded(raws, uid):
    """v5 [MQTT-3.3.4-7] (§3.3.4, §3.2.2.3.3; mosquitto answers PUBREC 0x97 instead): a client that sends more QoS 2
    PUBLISH than the broker's Receive Maximum without completing them (no
    PUBREL, so no PUBCOMP) gets DISCONNECT 0x93 (Receive Maximum exceeded). The
    first Receive Maximum are acknowledged with PUBREC."""
    c = raws(5)
    p = c.connack(f"{uid}-c")
    rm = p.fields["properties"].get("ReceiveMaximum", 65535)
    if rm > 1000:
        pytest.fail(f"the broker's Receive Maximum {rm} is too large for this test")
    topic = f"{uid}/t"
    for pid in range(1, rm + 1):
        c.publish(topic, b"x", qos=2, packet_id=pid)
    acks = [c.recv() for _ in range(rm)]
    assert all(a is not None and a.kind == raw.PUBREC for a in acks), acks
    c.publish(topic, b"over", qos=2, packet_id=rm + 1)
    packets = c.recv_until_closed()
    assert [(q.kind, q.fields.get("reason_code")) for q in packets] == [(raw.DISCONNECT, 0x93)]


def test_receive_maximum_of_client(raws, peers, uid):
    """v5 [MQTT-3.3.4-9]: the broker sends no more unacknowledged QoS 1 PUBLISH to
    a client than the client's Receive Maximum; each PUBACK lets one more go."""
    topic = f"{uid}/t"
    c = raws(5)
    c.connack(f"{uid}-slow", props={"ReceiveMaximum": 2})
    c.subscribe(1, topic, options=1)
    suback = c.recv()
    assert suback.kind == raw.SUBACK and suback.fields["reason_codes"] == [1]
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    for i in range(5):
        pub.publish(topic, f"m{i}".encode(), qos=1)
    first = [c.recv(), c.recv()]
    assert [p.fields["payload"] for p in first] == [b"m0", b"m1"]
    # A third one would be a violation; give it a moment to show up.
    with pytest.raises(AssertionError, match="no packet"):
        c.recv(timeout=0.5)
    delivered = [p.fields["payload"] for p in first]
    in_flight = [p.fields["packet_id"] for p in first]
    while len(delivered) < 5:
        c.ack(raw.PUBACK, in_flight.pop(0))
        p = c.recv()
        assert p.kind == raw.PUBLISH
        delivered.append(p.fields["payload"])
        in_flight.append(p.fields["packet_id"])
        assert len(in_flight) <= 2
    assert delivered == [f"m{i}".encode() for i in range(5)]


def test_maximum_packet_size_of_client(peers, uid, version):
    """v5 [MQTT-3.1.2-24] [MQTT-3.1.2-25]: a message larger than the client's
    Maximum Packet Size is not sent to it (discarded for that client only), while
    smaller ones are; a client without the limit gets both."""
    topic = f"{uid}/t"
    small = peers(f"{uid}-small", V5)
    small.connect(properties=connect_props(MaximumPacketSize=256))
    small.subscribe(topic, qos=1)
    big = peers(f"{uid}-big", version)
    big.connect()
    big.subscribe(topic, qos=1)
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    pub.publish(topic, b"L" * 1000, qos=1)
    pub.publish(topic, b"sentinel", qos=1)
    assert small.until(b"sentinel") == [], "a packet above Maximum Packet Size was sent"
    assert [len(m.payload) for m in big.expect_n(2)] == [1000, len(b"sentinel")]
    try:
        small.disconnects.get_nowait()
        raise AssertionError("the small client was disconnected")
    except queue.Empty:
        pass
