"""MQTT v5 properties the broker acts on or forwards: user properties and
payload format, request/response, Message Expiry, Assigned Client Identifier,
Server Keep Alive."""

import time

import pytest

import raw

from peer import V5, V311, connect_props, get_prop, publish_props

HOUR = 3600


def test_user_properties_and_payload_format_forwarded(peers, uid):
    """v5 [MQTT-3.3.2-17] [MQTT-3.3.2-18] [MQTT-3.3.2-4] [MQTT-3.3.2-20]: User
    Properties are forwarded unaltered and in order; Payload Format Indicator
    and Content Type are forwarded unaltered."""
    topic = f"{uid}/t"
    sub = peers(f"{uid}-sub", V5)
    sub.connect()
    sub.subscribe(topic, qos=1)
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    user = [("a", "1"), ("b", "2"), ("a", "3"), ("ü", "é")]
    pub.publish(
        topic,
        "text ✓".encode(),
        qos=1,
        properties=publish_props(
            UserProperty=user, PayloadFormatIndicator=1, ContentType="text/plain; charset=utf-8"
        ),
    )
    m = sub.expect()
    assert m.prop("UserProperty") == user
    assert m.prop("PayloadFormatIndicator") == 1
    assert m.prop("ContentType") == "text/plain; charset=utf-8"


def test_request_response_properties_forwarded(peers, uid):
    """v5 [MQTT-3.3.2-15] [MQTT-3.3.2-16] (§4.10): Response Topic and Correlation
    Data reach the responder unaltered, and the response it publishes to the
    Response Topic reaches the requester with the Correlation Data."""
    requests, responses = f"{uid}/requests", f"{uid}/responses"
    responder = peers(f"{uid}-responder", V5)
    responder.connect()
    responder.subscribe(requests, qos=1)
    requester = peers(f"{uid}-requester", V5)
    requester.connect()
    requester.subscribe(responses, qos=1)
    correlation = bytes(range(256))
    requester.publish(
        requests,
        b"ping",
        qos=1,
        properties=publish_props(ResponseTopic=responses, CorrelationData=correlation),
    )
    request = responder.expect()
    assert request.prop("ResponseTopic") == responses
    assert request.prop("CorrelationData") == correlation
    responder.publish(
        request.prop("ResponseTopic"),
        b"pong",
        qos=1,
        properties=publish_props(CorrelationData=request.prop("CorrelationData")),
    )
    response = requester.expect()
    assert (response.payload, response.prop("CorrelationData")) == (b"pong", correlation)


def test_response_information_not_sent_unrequested(peers, uid):
    """v5 [MQTT-3.1.2-28]: without Request Response Information (or with 0) the
    broker sends no Response Information in CONNACK."""
    c = peers(f"{uid}-c", V5)
    _, _, props = c.connect(properties=connect_props(RequestResponseInformation=0))
    assert get_prop(props, "ResponseInformation") is None


@pytest.mark.ours
def test_response_information_when_requested(peers, uid):
    """v5 §3.1.2.11.6, §3.2.2.3.15 (issue 6: request/response properties): a
    client sending Request Response Information 1 gets a Response Information
    string in CONNACK (our broker always answers; the spec allows not to)."""
    c = peers(f"{uid}-c", V5)
    _, _, props = c.connect(properties=connect_props(RequestResponseInformation=1))
    info = get_prop(props, "ResponseInformation")
    assert isinstance(info, str) and info, f"CONNACK properties: {props}"


def test_message_expiry_queued(peers, uid):
    """v5 [MQTT-3.3.2-5] [MQTT-3.3.2-6]: a queued message whose Message Expiry
    Interval has passed is not delivered; one still valid is delivered with the
    interval minus the time it waited in the broker."""
    topic = f"{uid}/t"
    client_id = f"{uid}-sleeper"
    sleeper = peers(client_id, V5, clean=False)
    sleeper.connect(properties=connect_props(SessionExpiryInterval=HOUR))
    sleeper.subscribe(topic, qos=1)
    sleeper.disconnect()
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    pub.publish(topic, b"short", qos=1, properties=publish_props(MessageExpiryInterval=1))
    pub.publish(topic, b"long", qos=1, properties=publish_props(MessageExpiryInterval=HOUR))
    time.sleep(2.2)  # the feature is a time limit: wait past the short one's
    back = peers(client_id, V5, clean=False)
    present, _, _ = back.connect(properties=connect_props(SessionExpiryInterval=0))
    assert present
    m = back.expect()
    assert m.payload == b"long", "the expired message was delivered"
    remaining = m.prop("MessageExpiryInterval")
    assert remaining is not None and remaining < HOUR, f"remaining interval {remaining}"
    assert remaining >= HOUR - 30


def test_message_expiry_forwarded_live(peers, uid, version):
    """v5 [MQTT-3.3.2-6]: a message forwarded at once carries a Message Expiry
    Interval no larger than the one published (v3.1.1 subscribers get the message
    without it)."""
    topic = f"{uid}/t"
    sub = peers(f"{uid}-sub", version)
    sub.connect()
    sub.subscribe(topic, qos=1)
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    pub.publish(topic, b"x", qos=1, properties=publish_props(MessageExpiryInterval=100))
    pub.publish(topic, b"y", qos=1)
    m, n = sub.expect_n(2)
    if version == V5:
        assert 0 < m.prop("MessageExpiryInterval") <= 100
        assert n.prop("MessageExpiryInterval") is None, "no expiry added to a message without"
    else:
        assert (m.payload, n.payload) == (b"x", b"y")


def test_assigned_client_identifier(peers, uid):
    """v5 [MQTT-3.1.3-6] [MQTT-3.2.2-16]: a zero-length Client Identifier gets a
    unique identifier, returned in CONNACK as Assigned Client Identifier."""
    ids = []
    for _ in range(2):
        c = peers("", V5)
        _, _, props = c.connect()
        assigned = get_prop(props, "AssignedClientIdentifier")
        assert isinstance(assigned, str) and assigned, f"CONNACK properties: {props}"
        ids.append(assigned)
    assert ids[0] != ids[1]


def test_empty_client_id_v311(peers, raws, uid):
    """v3.1.1 [MQTT-3.1.3-6] [MQTT-3.1.3-8]: a zero-byte ClientId with Clean Session
    1 is accepted (the broker assigns one internally); with Clean Session 0 it
    is refused with return code 0x02 and the connection is closed."""
    c = peers("", V311)
    c.connect()
    c.subscribe(f"{uid}/t", qos=1)
    c.publish(f"{uid}/t", b"anonymous", qos=1)
    assert c.expect().payload == b"anonymous"
    bad = raws(4)
    bad.connect("", clean=False)
    p = bad.recv()
    assert p is not None and p.kind == 2 and p.fields["reason_code"] == 0x02, p
    assert bad.recv_until_closed() == []


def test_server_keep_alive(raws, broker, uid):
    """v5 [MQTT-3.2.2-21] [MQTT-3.1.2-21] (issue 6: keep alive with Server Keep
    Alive): a Keep Alive above the broker's maximum is lowered through Server
    Keep Alive in CONNACK."""
    c = raws(5)
    p = c.connack(f"{uid}-c", keepalive=2 * broker.max_keep_alive)
    ska = p.fields["properties"].get("ServerKeepAlive")
    assert ska is not None and 0 < ska <= broker.max_keep_alive, p
    c.disconnect()



@pytest.mark.ours
def test_keep_alive_zero_lowered(raws, broker, uid):
    """v5 [MQTT-3.2.2-21] (issue 6; our `--max-keep-alive` also bounds a Keep
    Alive of 0, which would disable it): Server Keep Alive is the maximum."""
    c = raws(5)
    p = c.connack(f"{uid}-c", keepalive=0)
    assert p.fields["properties"].get("ServerKeepAlive") == broker.max_keep_alive, p
    c.disconnect()


def test_server_keep_alive_enforced(keep_alive_broker, uid):
    """v5 [MQTT-3.2.2-21] [MQTT-3.1.2-22]: a broker that answers with a Server
    Keep Alive holds the client to that value, not the one it sent: a client
    that sent 60 s but then stays silent is disconnected after 1.5 × the
    Server Keep Alive."""
    c = raw.RawClient(keep_alive_broker, 5)
    try:
        p = c.connack(f"{uid}-c", keepalive=60)
        ska = p.fields["properties"].get("ServerKeepAlive")
        assert ska == keep_alive_broker.server_keep_alive, p
        packets = c.recv_until_closed(timeout=1.5 * ska + 8)
        assert all(q.kind == raw.DISCONNECT for q in packets), packets
    finally:
        c.close()


def test_retained_message_expiry(peers, uid):
    """v5 [MQTT-3.3.2-5] [MQTT-3.3.2-6] (§3.3.2.3.3): a retained message is not
    sent to new subscribers after its Message Expiry Interval; before that it is
    sent with the remaining interval."""
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    pub.publish(f"{uid}/short", b"short", qos=1, retain=True,
                properties=publish_props(MessageExpiryInterval=1))
    pub.publish(f"{uid}/long", b"long", qos=1, retain=True,
                properties=publish_props(MessageExpiryInterval=HOUR))
    time.sleep(2.2)  # the feature is a time limit: wait past the short one's
    sub = peers(f"{uid}-sub", V5)
    sub.connect()
    sub.subscribe(f"{uid}/+", qos=1)
    pub.publish(f"{uid}/long", b"sentinel", qos=1)
    got = sub.until(b"sentinel")
    assert [m.payload for m in got] == [b"long"], "the expired retained message was sent"
    assert HOUR - 30 <= got[0].prop("MessageExpiryInterval") < HOUR
    pub.publish(f"{uid}/long", b"", qos=1, retain=True)
