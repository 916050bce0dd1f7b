"""A Paho (paho-mqtt 2.x) client with a persistent session, one step per run,
for the broker restart tests (examples/tests/broker_restart.rs):

    paho_session.py HOST PORT CLIENT_ID VERSION subscribe FILTER
        connect (Clean Start 0 / Clean Session 0, Session Expiry 3600 on v5),
        subscribe at QoS 2, disconnect normally: the session stays.
    paho_session.py HOST PORT CLIENT_ID VERSION publish TOPIC N
        publish 0..N-1 (even QoS 1, odd QoS 2), each acknowledged before the
        next; then a retained message "kept" on TOPIC/retained.
    paho_session.py HOST PORT CLIENT_ID VERSION will TOPIC DELAY
        connect with a Will "gone" (QoS 1, v5: Will Delay Interval DELAY s,
        Session Expiry 3600), print "connected", and exit when the
        connection drops (never a DISCONNECT, never a reconnect).
    paho_session.py HOST PORT CLIENT_ID VERSION receive N
        resume the session and print each message received as
        "TOPIC PAYLOAD RETAIN" until 0..N-1 all came and nothing more
        comes for 0.5 s.

VERSION is 3 (MQTT v3.1.1) or 5. Every wait is bounded (exit 3 past it).
"""

import os
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

LIMIT = 20.0


def client(client_id, version):
    protocol = mqtt.MQTTv5 if version == "5" else mqtt.MQTTv311
    kwargs = {} if version == "5" else {"clean_session": False}
    return mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol, **kwargs
    )


def connect(c, host, port, version):
    connected = threading.Event()
    c.on_connect = lambda *args: connected.set()
    if version == "5":
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        c.connect(host, int(port), clean_start=False, properties=props)
    else:
        c.connect(host, int(port))
    c.loop_start()
    if not connected.wait(LIMIT):
        sys.exit(3)


def main():
    host, port, client_id, version, step = sys.argv[1:6]
    args = sys.argv[6:]
    c = client(client_id, version)
    if step == "will":
        props = None
        if version == "5":
            props = Properties(PacketTypes.WILLMESSAGE)
            props.WillDelayInterval = int(args[1])
        c.will_set(args[0], "gone", qos=1, properties=props)
        c.on_disconnect = lambda *a: os._exit(0)
        connect(c, host, port, version)
        print("connected", flush=True)
        time.sleep(LIMIT)
        sys.exit(3)
    if step == "receive":
        n = int(args[0])
        seen = set()
        last = [time.monotonic()]
        lock = threading.Lock()

        def on_message(_c, _u, msg):
            with lock:
                payload = msg.payload.decode()
                print(f"{msg.topic} {payload} {int(msg.retain)}", flush=True)
                if payload.isdigit():
                    seen.add(int(payload))
                last[0] = time.monotonic()

        c.on_message = on_message
        connect(c, host, port, version)
        deadline = time.monotonic() + LIMIT
        while True:
            time.sleep(0.05)
            with lock:
                done = len(seen) >= n and time.monotonic() - last[0] > 0.5
            if done:
                break
            if time.monotonic() > deadline:
                sys.exit(3)
    else:
        connect(c, host, port, version)
        if step == "subscribe":
            done = threading.Event()
            c.on_subscribe = lambda *args: done.set()
            c.subscribe(args[0], qos=2)
            if not done.wait(LIMIT):
                sys.exit(3)
        elif step == "publish":
            topic, n = args[0], int(args[1])
            for i in range(n):
                info = c.publish(topic, str(i), qos=1 + i % 2)
                info.wait_for_publish(LIMIT)
                if not info.is_published():
                    sys.exit(3)
            info = c.publish(topic + "/retained", "kept", qos=1, retain=True)
            info.wait_for_publish(LIMIT)
            if not info.is_published():
                sys.exit(3)
            print("published", flush=True)
    c.disconnect()
    c.loop_stop()


if __name__ == "__main__":
    main()
