"""Sessions: persistence across connections, the offline queue and its bound,
Clean Start, Session Expiry and session takeover."""

import time

from paho.mqtt.packettypes import PacketTypes

import raw
from peer import V5, V311, connect_props, props

HOUR = 3600


def persistent(peers, client_id, version):
    """A client whose session outlives its connection (Clean Session 0, or
    Clean Start 0 with a Session Expiry Interval)."""
    return peers(client_id, version, clean=False)


def connect_persistent(peer, clean=False):
    """Connects `peer` keeping (or, with `clean`, discarding) its session;
    returns the session present flag."""
    if peer.version == V5:
        present, _, _ = peer.connect(
            clean=clean, properties=connect_props(SessionExpiryInterval=HOUR)
        )
    else:
        present, _, _ = peer.connect()
    return present


def test_persistent_session_queues_while_away(peers, uid, version):
    """v3.1.1 [MQTT-3.1.2-4] [MQTT-3.1.2-5] [MQTT-3.2.2-2] / v5 [MQTT-3.1.2-5]
    [MQTT-3.1.2-23] [MQTT-3.2.2-3]: a session kept across
    connections keeps its subscriptions; QoS 1 and 2 messages published while the
    client is away arrive after it reconnects with Session Present 1, in order."""
    topic = f"{uid}/q"
    client_id = f"{uid}-sleeper"
    sleeper = persistent(peers, client_id, version)
    connect_persistent(sleeper)
    sleeper.subscribe(topic, qos=2)
    sleeper.disconnect()

    pub = peers(f"{uid}-pub", version)
    pub.connect()
    for i, qos in enumerate([1, 2, 1, 2]):
        pub.publish(topic, f"away{i}".encode(), qos=qos)

    back = persistent(peers, client_id, version)
    assert connect_persistent(back) is True, "Session Present must be 1"
    got = back.expect_n(4)
    # Order is kept per QoS [MQTT-4.6.0-5 (v5)]; mosquitto sends QoS 2 first.
    assert [m.payload for m in got if m.qos == 1] == [b"away0", b"away2"]
    assert [m.payload for m in got if m.qos == 2] == [b"away1", b"away3"]
    pub.publish(topic, b"live", qos=1)
    assert back.expect().payload == b"live", "the subscription itself was kept"
    back.disconnect()
    # End the session.
    cleanup = peers(client_id, version)
    cleanup.connect()


def test_offline_queue_is_bounded(peers, broker, uid, version):
    """Issue 6 (offline queue with a bound; v5 §4.1 lets a server limit stored
    state): of many messages published while a persistent client is away, the
    broker queues a bounded number and delivers those on reconnect."""
    topic = f"{uid}/q"
    client_id = f"{uid}-sleeper"
    sleeper = persistent(peers, client_id, version)
    connect_persistent(sleeper)
    sleeper.subscribe(topic, qos=1)
    sleeper.disconnect()

    published = 4 * broker.max_queued + 40
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    for i in range(published):
        pub.publish(topic, f"m{i}".encode(), qos=1)

    back = persistent(peers, client_id, version)
    assert connect_persistent(back) is True
    back.subscribe(f"{uid}/sentinel", qos=1)
    pub.publish(f"{uid}/sentinel", b"sentinel", qos=1)
    got = [m for m in back.until(b"sentinel") if m.topic == topic]
    assert 0 < len(got) < published, f"{len(got)} of {published} queued messages delivered"
    # mosquitto counts its in-flight window on top of the queue bound.
    bound = broker.max_queued if broker.ours else broker.max_queued + 10
    assert len(got) <= bound, f"{len(got)} delivered, bound {bound}"
    payloads = [int(m.payload[1:]) for m in got]
    assert payloads == sorted(payloads), "queued messages keep their order"
    if broker.ours:
        # `--max-queued`: "beyond, new ones are dropped".
        assert payloads == list(range(broker.max_queued))
    back.disconnect()
    peers(client_id, version).connect()


def test_clean_start_discards_session(peers, uid, version):
    """v3.1.1 [MQTT-3.1.2-6] [MQTT-3.2.2-1] / v5 [MQTT-3.1.2-4] [MQTT-3.2.2-2]: a
    connection with Clean Session / Clean Start 1 discards the existing session:
    Session Present 0, no queued messages, no subscriptions."""
    topic = f"{uid}/q"
    client_id = f"{uid}-c"
    first = persistent(peers, client_id, version)
    connect_persistent(first)
    first.subscribe(topic, qos=1)
    first.disconnect()
    pub = peers(f"{uid}-pub", version)
    pub.connect()
    pub.publish(topic, b"queued", qos=1)

    fresh = peers(client_id, version, clean=True)
    present, _, _ = fresh.connect()
    assert present is False
    fresh.subscribe(f"{uid}/sentinel", qos=1)
    pub.publish(topic, b"after", qos=1)
    pub.publish(f"{uid}/sentinel", b"sentinel", qos=1)
    assert fresh.until(b"sentinel") == [], "neither the queued message nor the old subscription"


def test_clean_session_v311_not_kept(peers, uid):
    """v3.1.1 [MQTT-3.1.2-6]: a Clean Session 1 session ends with its connection;
    reconnecting with Clean Session 0 finds none (Session Present 0)
    [MQTT-3.2.2-3 (v3.1.1)]."""
    client_id = f"{uid}-c"
    first = peers(client_id, V311, clean=True)
    first.connect()
    first.subscribe(f"{uid}/t", qos=1)
    first.disconnect()
    again = peers(client_id, V311, clean=False)
    present, _, _ = again.connect()
    assert present is False
    again.disconnect()
    peers(client_id, V311).connect()


def test_session_expiry_zero_ends_session(peers, uid):
    """v5 [MQTT-3.1.2-23] (§3.1.2.11.2): with Session Expiry Interval 0 (absent)
    the session ends when the Network Connection closes."""
    client_id = f"{uid}-c"
    first = peers(client_id, V5, clean=False)
    first.connect()
    first.subscribe(f"{uid}/t", qos=1)
    first.disconnect()
    again = peers(client_id, V5, clean=False)
    present, _, _ = again.connect()
    assert present is False


def test_session_expiry_interval_ends_session(peers, uid):
    """v5 [MQTT-3.1.2-23] (§3.1.2.11.2, §4.1): a session with a Session Expiry
    Interval outlives its connection for that long, then ends: a client
    reconnecting after it gets Session Present 0, while one with a longer
    interval still finds its session."""
    short_id, long_id = f"{uid}-short", f"{uid}-long"
    for client_id, expiry in [(short_id, 1), (long_id, HOUR)]:
        c = peers(client_id, V5, clean=False)
        c.connect(properties=connect_props(SessionExpiryInterval=expiry))
        c.subscribe(f"{uid}/t", qos=1)
        c.disconnect()
    time.sleep(2.5)  # the feature is a time limit: wait past it
    short = peers(short_id, V5, clean=False)
    present, _, _ = short.connect()
    assert present is False, "the 1 s session expired"
    long = peers(long_id, V5, clean=False)
    present, _, _ = long.connect()
    assert present is True, "the 1 h session is still there"


def test_session_expiry_set_on_disconnect(peers, uid):
    """v5 §3.14.2.2.2: a Session Expiry Interval in DISCONNECT replaces the one of
    CONNECT; setting it from non-zero to 0 ends the session at once."""
    client_id = f"{uid}-c"
    c = peers(client_id, V5, clean=False)
    c.connect(properties=connect_props(SessionExpiryInterval=HOUR))
    c.subscribe(f"{uid}/t", qos=1)
    c.disconnect(properties=props(PacketTypes.DISCONNECT, SessionExpiryInterval=0))
    again = peers(client_id, V5, clean=False)
    present, _, _ = again.connect()
    assert present is False


def test_session_takeover(peers, raws, broker, uid, version):
    """v3.1.1 [MQTT-3.1.4-2] / v5 [MQTT-3.1.4-3]: a new connection with the same
    Client Identifier closes the existing one; on v5 our broker first sends it
    DISCONNECT with Reason Code 0x8E (Session taken over) (§3.14.2.1, issue 6;
    mosquitto 2.0.11 just closes). The new client keeps working."""
    client_id = f"{uid}-same"
    first = raws(5 if version == V5 else 4)
    first.connack(client_id)
    second = peers(client_id, version)
    second.connect()
    packets = first.recv_until_closed()
    kinds = [p.kind for p in packets]
    if version == V5 and broker.ours:
        assert kinds == [raw.DISCONNECT], f"expected one DISCONNECT, got {packets}"
        assert packets[0].fields["reason_code"] == 0x8E
    else:
        assert kinds in ([], [raw.DISCONNECT]), f"unexpected packets {packets}"
    second.subscribe(f"{uid}/t", qos=1)
    second.publish(f"{uid}/t", b"still here", qos=1)
    assert second.expect().payload == b"still here"


def test_session_expiry_raised_on_disconnect_is_protocol_error(raws, uid):
    """v5 §3.14.2.2.2: with Session Expiry 0 in CONNECT, a non-zero Session
    Expiry in DISCONNECT is a Protocol Error (the broker may answer DISCONNECT
    0x82), and the session still ends with the connection."""
    client_id = f"{uid}-c"
    c = raws(5)
    c.connack(client_id)
    c.subscribe(1, f"{uid}/t", options=1)
    assert c.recv().kind == raw.SUBACK
    c.disconnect(props={"SessionExpiryInterval": HOUR})
    packets = c.recv_until_closed()
    assert [(p.kind, p.fields.get("reason_code")) for p in packets] in ([], [(raw.DISCONNECT, 0x82)])
    again = raws(5)
    p = again.connack(client_id, clean=False)
    assert p.fields["session_present"] is False


def test_resumed_session_respects_new_connection_limits(raws, peers, uid):
    """v5 [MQTT-3.3.2-7] [MQTT-3.3.2-11] [MQTT-3.3.4-9]: messages queued for a
    session are sent on the new connection under its own limits: no Topic Alias
    mapping carried over from the previous connection (every alias is set with a
    topic name before being used, none above the new maximum), and no more
    unacknowledged QoS 1 than the new Receive Maximum."""
    topic, client_id = f"{uid}/t", f"{uid}-c"
    c = raws(5)
    c.connack(client_id, props={"SessionExpiryInterval": HOUR, "TopicAliasMaximum": 5})
    c.subscribe(1, topic, options=1)
    assert c.recv().kind == raw.SUBACK
    pub = peers(f"{uid}-pub", V5)
    pub.connect()
    pub.publish(topic, b"online", qos=1)
    p = c.recv()
    c.ack(raw.PUBACK, p.fields["packet_id"])
    pub.publish(topic, b"online again", qos=1)
    p = c.recv()
    c.ack(raw.PUBACK, p.fields["packet_id"])
    c.disconnect()
    c.recv_until_closed()
    for i in range(4):
        pub.publish(topic, f"queued{i}".encode(), qos=1)

    again = raws(5)
    p = again.connack(
        client_id,
        clean=False,
        props={"SessionExpiryInterval": 0, "TopicAliasMaximum": 1, "ReceiveMaximum": 2},
    )
    assert p.fields["session_present"]
    aliases = {}
    got = []
    in_flight = []
    while len(got) < 4:
        q = again.recv()
        assert q.kind == raw.PUBLISH, q
        alias = q.fields["properties"].get("TopicAlias")
        if alias is not None:
            assert alias == 1, f"alias {alias} above the new maximum 1"
            if q.fields["topic"]:
                aliases[alias] = q.fields["topic"]
            else:
                assert alias in aliases, "an alias of the previous connection was used"
        got.append(q.fields["payload"])
        in_flight.append(q.fields["packet_id"])
        assert len(in_flight) <= 2, "more unacknowledged PUBLISH than Receive Maximum 2"
        if len(in_flight) == 2 or len(got) == 4:
            again.ack(raw.PUBACK, in_flight.pop(0))
    assert got == [f"queued{i}".encode() for i in range(4)]
