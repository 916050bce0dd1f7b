"""Delivery guarantees across reconnections and protocol limits: resending
unacknowledged messages, QoS 2 exactly once, subscription replacement,
resuming a session taken over, packets too large, aliases per connection."""

import pytest

import raw
from peer import V5, V311, connect_props

RAW = {V311: 4, V5: 5}
HOUR = 3600


def raw_persistent(raws, version, client_id, clean=False):
    """A raw client connected with a session that outlives the connection."""
    c = raws(RAW[version])
    props = {"SessionExpiryInterval": HOUR} if version == V5 else None
    p = c.connack(client_id, clean=clean, props=props)
    return c, p.fields["session_present"]


def end_session(raws, version, client_id):
    """Ends a session: connects with Clean Start 1 and expiry 0, disconnects."""
    c = raws(RAW[version])
    c.connack(client_id, clean=True)
    c.disconnect()
    c.recv_until_closed()


def test_unacknowledged_publish_resent_on_reconnect(raws, peers, uid, version):
    """v3.1.1 [MQTT-4.4.0-1] [MQTT-3.3.1-3] / v5 [MQTT-4.4.0-1] [MQTT-3.3.1-3]: a
    QoS 1 message the client did not acknowledge is resent, with its Packet
    Identifier and DUP=1, when the client resumes its session."""
    topic, client_id = f"{uid}/t", f"{uid}-c"
    c, _ = raw_persistent(raws, version, client_id)
    c.subscribe(1, topic, options=1)
    assert c.recv().kind == raw.SUBACK
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(topic, b"unacked", qos=1)
    first = c.recv()
    assert first.kind == raw.PUBLISH and not first.fields["dup"]
    c.close()  # no PUBACK

    again, present = raw_persistent(raws, version, client_id)
    assert present
    resent = again.recv()
    assert resent.kind == raw.PUBLISH, resent
    assert resent.fields["payload"] == b"unacked"
    assert resent.fields["packet_id"] == first.fields["packet_id"]
    assert resent.fields["dup"], "a resent PUBLISH has DUP=1"
    again.ack(raw.PUBACK, resent.fields["packet_id"])
    again.disconnect()
    end_session(raws, version, client_id)


def test_qos2_exactly_once_across_reconnect(raws, peers, uid, version):
    """v3.1.1 §4.3.3 [MQTT-4.4.0-1] / v5 [MQTT-4.3.3-10] [MQTT-4.4.0-1]:
    a QoS 2 PUBLISH sent again with DUP before PUBREL, and a PUBREL sent after a
    reconnect, complete the flow without delivering the message twice."""
    topic, client_id = f"{uid}/t", f"{uid}-pub"
    sub = peers(f"{uid}-sub", version)
    sub.connect()
    sub.subscribe(topic, qos=2)
    c, _ = raw_persistent(raws, version, client_id)
    c.publish(topic, b"once", qos=2, packet_id=7)
    assert c.recv().kind == raw.PUBREC
    c.send(raw.packet(raw.PUBLISH, 0x08 | 0x04, c_body(version, topic, 7, b"once")))
    assert c.recv().kind == raw.PUBREC
    c.close()  # no PUBREL yet

    again, present = raw_persistent(raws, version, client_id)
    assert present
    again.ack(raw.PUBREL, 7)
    comp = again.recv()
    assert (comp.kind, comp.fields["packet_id"]) == (raw.PUBCOMP, 7), comp
    again.publish(topic, b"sentinel", qos=2, packet_id=8)
    assert again.recv().kind == raw.PUBREC
    again.ack(raw.PUBREL, 8)
    assert again.recv().kind == raw.PUBCOMP
    assert [m.payload for m in sub.until(b"sentinel")] == [b"once"]
    again.disconnect()
    end_session(raws, version, client_id)


def c_body(version, topic, packet_id, payload):
    """The body of a QoS > 0 PUBLISH (topic, packet id, properties, payload)."""
    body = raw.string(topic) + packet_id.to_bytes(2, "big")
    if version == V5:
        body += raw.properties({})
    return body + payload


def test_subscribe_again_replaces_subscription(peers, uid, version):
    """v3.1.1 [MQTT-3.8.4-3] / v5 [MQTT-3.8.4-3]: a SUBSCRIBE with a filter equal to
    an existing subscription replaces it: one copy per message, at the new QoS."""
    topic = f"{uid}/t"
    sub = peers(f"{uid}-sub", version)
    sub.connect()
    sub.subscribe(topic, qos=0)
    sub.subscribe(topic, qos=2)
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(topic, b"m", qos=2)
    pub.publish(topic, b"sentinel", qos=2)
    got = sub.until(b"sentinel")
    assert [(m.payload, m.qos) for m in got] == [(b"m", 2)]


def test_takeover_resumes_session(peers, uid, version):
    """v3.1.1 [MQTT-3.1.4-2] [MQTT-3.2.2-2] / v5 [MQTT-3.1.4-3] [MQTT-3.2.2-3]: a
    new connection with the same Client Identifier and Clean Start 0 takes over
    the existing session: Session Present 1 and its subscriptions deliver."""
    topic, client_id = f"{uid}/t", f"{uid}-same"
    props = connect_props(SessionExpiryInterval=HOUR) if version == V5 else None
    first = peers(client_id, version, clean=False)
    first.connect(properties=props)
    first.subscribe(topic, qos=1)
    second = peers(client_id, version, clean=False)
    present, _, _ = second.connect(properties=props)
    assert present is True
    first.expect_disconnect()
    first.stop()
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(topic, b"to the new connection", qos=1)
    assert second.expect().payload == b"to the new connection"
    second.disconnect()
    peers(client_id, version).connect()


def test_packet_too_large_for_broker(raws, broker, uid, version):
    """v5 [MQTT-3.2.2-15] (§3.2.2.3.6, §4.13): a packet larger than the broker's
    Maximum Packet Size (CONNACK, v5) gets DISCONNECT 0x95 (Packet too large) on
    v5 and a closed connection on v3.1.1."""
    c = raws(RAW[version])
    p = c.connack(f"{uid}-c")
    limit = broker.max_packet_size
    if version == V5:
        limit = p.fields["properties"].get("MaximumPacketSize", 268_435_455)
    if limit > 16 * 1024 * 1024:
        return  # no practical limit to exceed
    try:
        c.publish(f"{uid}/t", b"x" * (limit + 16), qos=0)
    except (BrokenPipeError, ConnectionResetError):
        return  # closed while we were still sending: refused
    packets = c.recv_until_closed()
    if version == V5:
        assert [(q.kind, q.fields.get("reason_code")) for q in packets] in ([], [(raw.DISCONNECT, 0x95)])
    else:
        assert packets == []


def test_topic_alias_not_carried_to_next_connection(raws, uid):
    """v5 [MQTT-3.3.2-7]: Topic Alias mappings end with the Network Connection; a
    PUBLISH with only an alias set on an earlier connection is a protocol error
    (DISCONNECT 0x82 Protocol Error, or 0x94 Topic Alias invalid)."""
    client_id = f"{uid}-c"
    c = raws(5)
    c.connack(client_id)
    c.publish(f"{uid}/t", b"set", qos=0, props={"TopicAlias": 1})
    c.disconnect()
    c.recv_until_closed()
    again = raws(5)
    again.connack(client_id)
    again.publish("", b"use", qos=0, props={"TopicAlias": 1})
    packets = again.recv_until_closed()
    assert [(q.kind, q.fields.get("reason_code") in (0x82, 0x94)) for q in packets] == [
        (raw.DISCONNECT, True)
    ], packets


@pytest.mark.ours
def test_will_sent_when_session_ends_before_delay(peers, raws, uid):
    """v5 [MQTT-3.1.3-9] (mosquitto 2.0.11 waits for the delay): the will is delayed until the Will Delay Interval passes
    or the session ends, whichever is first: with Session Expiry 0 and a long
    delay it is published at once on an abrupt close."""
    topic = f"{uid}/will"
    watcher = peers(f"{uid}-watch", V5)
    watcher.connect()
    watcher.subscribe(topic, qos=1)
    c = raws(5)
    c.connack(f"{uid}-c", will=(topic, b"session over", 1, False, {"WillDelayInterval": HOUR}))
    c.close()
    assert watcher.expect().payload == b"session over"


def test_will_properties_forwarded(peers, raws, uid):
    """v5 §3.1.3.2 (Will Properties): the will is published with its Content Type,
    Response Topic, Correlation Data, User Properties and Payload Format
    Indicator [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-17]."""
    topic = f"{uid}/will"
    watcher = peers(f"{uid}-watch", V5)
    watcher.connect()
    watcher.subscribe(topic, qos=1)
    will_props = {
        "PayloadFormatIndicator": 1,
        "ContentType": "text/plain",
        "ResponseTopic": f"{uid}/reply",
        "CorrelationData": b"\x00\x01",
        "UserProperty": [("k", "v"), ("k", "w")],
    }
    c = raws(5)
    c.connack(f"{uid}-c", will=(topic, b"bye", 1, False, will_props))
    c.close()
    m = watcher.expect()
    assert m.payload == b"bye"
    assert m.prop("PayloadFormatIndicator") == 1
    assert m.prop("ContentType") == "text/plain"
    assert m.prop("ResponseTopic") == f"{uid}/reply"
    assert m.prop("CorrelationData") == b"\x00\x01"
    assert m.prop("UserProperty") == [("k", "v"), ("k", "w")]


@pytest.mark.ours
def test_shared_subscription_gets_no_retained(peers, uid):
    """v5 §4.8.2 (mosquitto 2.0.11 sends them): no retained messages are sent to a session when it subscribes
    to a shared subscription; later messages are."""
    topic = f"{uid}/t"
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    pub.publish(topic, b"retained", qos=1, retain=True)
    member = peers(f"{uid}-member", V5)
    member.connect()
    member.subscribe(f"$share/g/{topic}", qos=1)
    pub.publish(topic, b"sentinel", qos=1)
    assert member.until(b"sentinel") == []
    pub.publish(topic, b"", qos=1, retain=True)


def test_large_message(peers, uid, version):
    """v3.1.1/v5 §2.2.3: a 512 KiB payload (a Remaining Length of four bytes'
    range) is forwarded intact."""
    topic = f"{uid}/t"
    sub = peers(f"{uid}-sub", version)
    sub.connect()
    sub.subscribe(topic, qos=1)
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    payload = bytes(i % 251 for i in range(512 * 1024))
    pub.publish(topic, payload, qos=1)
    assert sub.expect().payload == payload


def test_pubrel_resent_on_reconnect(raws, peers, uid, version):
    """v3.1.1 [MQTT-4.4.0-1] / v5 [MQTT-4.4.0-1]: a QoS 2 delivery to a client that
    sent PUBREC but got no chance to send PUBCOMP resumes with a resent PUBREL
    (same Packet Identifier), not a second PUBLISH."""
    topic, client_id = f"{uid}/t", f"{uid}-c"
    c, _ = raw_persistent(raws, version, client_id)
    c.subscribe(1, topic, options=2)
    assert c.recv().kind == raw.SUBACK
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(topic, b"two", qos=2)
    p = c.recv()
    assert p.kind == raw.PUBLISH and p.fields["qos"] == 2
    c.ack(raw.PUBREC, p.fields["packet_id"])
    rel = c.recv()
    assert (rel.kind, rel.fields["packet_id"]) == (raw.PUBREL, p.fields["packet_id"])
    c.close()  # no PUBCOMP

    again, present = raw_persistent(raws, version, client_id)
    assert present
    rel = again.recv()
    assert (rel.kind, rel.fields["packet_id"]) == (raw.PUBREL, p.fields["packet_id"]), rel
    again.ack(raw.PUBCOMP, p.fields["packet_id"])
    pub.publish(topic, b"sentinel", qos=2)
    nxt = again.recv()
    assert nxt.kind == raw.PUBLISH and nxt.fields["payload"] == b"sentinel", nxt
    again.disconnect()
    end_session(raws, version, client_id)


def test_will_published_on_takeover_v311(peers, raws, uid):
    """v3.1.1 [MQTT-3.1.4-2] [MQTT-3.1.2-8]: a connection closed because another
    took over its Client Identifier did not send DISCONNECT, so its will is
    published."""
    topic, client_id = f"{uid}/will", f"{uid}-same"
    watcher = peers(f"{uid}-watch", V311)
    watcher.connect()
    watcher.subscribe(topic, qos=1)
    first = raws(4)
    first.connack(client_id, will=(topic, b"taken over", 1, False, None))
    second = peers(client_id, V311)
    second.connect()
    assert first.recv_until_closed() == []
    assert watcher.expect().payload == b"taken over"
