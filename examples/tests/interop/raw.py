"""A minimal MQTT client on a plain socket, for what Paho cannot do: hold back
PUBREL, send nothing after CONNECT, close without DISCONNECT at a precise
point, and read the broker's packets (CONNACK properties, DISCONNECT reason
codes, topic aliases) as they are on the wire.

Only the packets the tests need are encoded; any packet is decoded into its
type, flags and body, and CONNACK, PUBLISH and DISCONNECT are parsed further.
"""

import socket
import struct
import time

TIMEOUT = 5.0

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14

# v5 property identifiers and their types (section 2.2.2.2).
BYTE, TWO, FOUR, VARINT, STRING, BINARY, PAIR = range(7)
PROPERTY_TYPES = {
    0x01: ("PayloadFormatIndicator", BYTE),
    0x02: ("MessageExpiryInterval", FOUR),
    0x03: ("ContentType", STRING),
    0x08: ("ResponseTopic", STRING),
    0x09: ("CorrelationData", BINARY),
    0x0B: ("SubscriptionIdentifier", VARINT),
    0x11: ("SessionExpiryInterval", FOUR),
    0x12: ("AssignedClientIdentifier", STRING),
    0x13: ("ServerKeepAlive", TWO),
    0x15: ("AuthenticationMethod", STRING),
    0x16: ("AuthenticationData", BINARY),
    0x17: ("RequestProblemInformation", BYTE),
    0x18: ("WillDelayInterval", FOUR),
    0x19: ("RequestResponseInformation", BYTE),
    0x1A: ("ResponseInformation", STRING),
    0x1C: ("ServerReference", STRING),
    0x1F: ("ReasonString", STRING),
    0x21: ("ReceiveMaximum", TWO),
    0x22: ("TopicAliasMaximum", TWO),
    0x23: ("TopicAlias", TWO),
    0x24: ("MaximumQoS", BYTE),
    0x25: ("RetainAvailable", BYTE),
    0x26: ("UserProperty", PAIR),
    0x27: ("MaximumPacketSize", FOUR),
    0x28: ("WildcardSubscriptionAvailable", BYTE),
    0x29: ("SubscriptionIdentifierAvailable", BYTE),
    0x2A: ("SharedSubscriptionAvailable", BYTE),
}
PROPERTY_IDS = {name: (pid, kind) for pid, (name, kind) in PROPERTY_TYPES.items()}


def varint(n):
    """A Variable Byte Integer (section 1.5.5)."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def string(s):
    """A UTF-8 Encoded String or Binary Data with its two-byte length."""
    data = s.encode() if isinstance(s, str) else bytes(s)
    return struct.pack("!H", len(data)) + data


def properties(values):
    """A v5 property list from {name: value} (UserProperty: list of pairs)."""
    body = bytearray()
    for name, value in values.items():
        pid, kind = PROPERTY_IDS[name]
        items = value if kind == PAIR else [value]
        for item in items:
            body += varint(pid)
            if kind == BYTE:
                body += bytes([item])
            elif kind == TWO:
                body += struct.pack("!H", item)
            elif kind == FOUR:
                body += struct.pack("!I", item)
            elif kind == VARINT:
                body += varint(item)
            elif kind in (STRING, BINARY):
                body += string(item)
            else:
                body += string(item[0]) + string(item[1])
    return varint(len(body)) + bytes(body)


def parse_properties(data, pos):
    """Parses a v5 property list at `pos`; returns ({name: value}, next pos).
    UserProperty and SubscriptionIdentifier collect into lists."""
    length, pos = read_varint(data, pos)
    end = pos + length
    out = {}
    while pos < end:
        pid, pos = read_varint(data, pos)
        name, kind = PROPERTY_TYPES[pid]
        if kind == BYTE:
            value, pos = data[pos], pos + 1
        elif kind == TWO:
            value, pos = struct.unpack_from("!H", data, pos)[0], pos + 2
        elif kind == FOUR:
            value, pos = struct.unpack_from("!I", data, pos)[0], pos + 4
        elif kind == VARINT:
            value, pos = read_varint(data, pos)
        elif kind == PAIR:
            k, pos = read_string(data, pos)
            v, pos = read_string(data, pos)
            value = (k.decode(), v.decode())
        else:
            value, pos = read_string(data, pos)
            if kind == STRING:
                value = value.decode()
        if name in ("UserProperty", "SubscriptionIdentifier"):
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out, end


def read_varint(data, pos):
    """A Variable Byte Integer at `pos`; returns (value, next pos)."""
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def read_string(data, pos):
    """Two-byte length-prefixed bytes at `pos`; returns (bytes, next pos)."""
    (n,) = struct.unpack_from("!H", data, pos)
    return bytes(data[pos + 2 : pos + 2 + n]), pos + 2 + n


def packet(kind, flags, body):
    """A whole packet: fixed header, Remaining Length, body."""
    return bytes([kind << 4 | flags]) + varint(len(body)) + bytes(body)


class Packet:
    """A decoded packet; `fields` holds what was parsed for its type."""

    def __init__(self, kind, flags, body):
        self.kind = kind
        self.flags = flags
        self.body = body
        self.fields = {}

    def __repr__(self):
        return f"Packet(type={self.kind}, flags={self.flags:#x}, fields={self.fields}, body={self.body!r})"


class RawClient:
    """A client on a plain TCP socket, speaking `version` (4 for v3.1.1, 5)."""

    def __init__(self, broker, version):
        self.version = version
        self.sock = socket.create_connection((broker.host, broker.port), timeout=TIMEOUT)
        self.buffer = bytearray()

    def send(self, data):
        """Writes raw bytes."""
        self.sock.sendall(data)

    def connect(self, client_id, keepalive=60, clean=True, props=None, will=None):
        """Sends CONNECT; `will` is (topic, payload, qos, retain, will props)."""
        flags = 0x02 if clean else 0
        payload = string(client_id)
        if will is not None:
            topic, message, qos, retain, will_props = will
            flags |= 0x04 | qos << 3 | (0x20 if retain else 0)
            if self.version == 5:
                payload += properties(will_props or {})
            payload += string(topic) + string(message)
        body = string("MQTT") + bytes([self.version, flags]) + struct.pack("!H", keepalive)
        if self.version == 5:
            body += properties(props or {})
        self.send(packet(CONNECT, 0, body + payload))

    def connack(self, client_id, **connect_args):
        """Connects and returns the CONNACK, asserting it accepted."""
        self.connect(client_id, **connect_args)
        p = self.recv()
        assert p is not None and p.kind == CONNACK, f"expected CONNACK, got {p}"
        assert p.fields["reason_code"] == 0, f"CONNACK refused: {p}"
        return p

    def publish(self, topic, payload, qos=0, packet_id=None, retain=False, props=None):
        """Sends PUBLISH (packet_id required for QoS 1 and 2)."""
        body = string(topic)
        if qos:
            body += struct.pack("!H", packet_id)
        if self.version == 5:
            body += properties(props or {})
        flags = qos << 1 | (1 if retain else 0)
        self.send(packet(PUBLISH, flags, body + payload))

    def subscribe(self, packet_id, topic_filter, options=0, props=None):
        """Sends SUBSCRIBE to one filter with the options byte (QoS in bits 0-1)."""
        body = struct.pack("!H", packet_id)
        if self.version == 5:
            body += properties(props or {})
        body += string(topic_filter) + bytes([options])
        self.send(packet(SUBSCRIBE, 0x02, body))

    def ack(self, kind, packet_id):
        """Sends PUBACK, PUBREC, PUBREL or PUBCOMP with reason Success."""
        flags = 0x02 if kind == PUBREL else 0
        self.send(packet(kind, flags, struct.pack("!H", packet_id)))

    def disconnect(self, reason_code=0, props=None):
        """Sends DISCONNECT."""
        body = b""
        if self.version == 5 and (reason_code or props):
            body = bytes([reason_code]) + properties(props or {})
        self.send(packet(DISCONNECT, 0, body))

    def close(self):
        """Closes the socket (without DISCONNECT when none was sent)."""
        try:
            self.sock.close()
        except OSError:
            pass

    def recv(self, timeout=TIMEOUT):
        """The next packet, or None when the broker closed the connection.
        Fails when nothing arrives within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            p = self._take()
            if p is not None:
                return p
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no packet within {timeout} s")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise AssertionError(f"no packet within {timeout} s") from None
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self.buffer += chunk

    def recv_until_closed(self, timeout=TIMEOUT):
        """Every packet until the broker closes; fails when it does not close
        within `timeout`."""
        deadline = time.monotonic() + timeout
        packets = []
        while True:
            p = self.recv(max(0.0, deadline - time.monotonic()))
            if p is None:
                return packets
            packets.append(p)

    def _take(self):
        data = self.buffer
        if len(data) < 2:
            return None
        length, shift, pos = 0, 0, 1
        while True:
            if pos >= len(data):
                return None
            byte = data[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if len(data) < pos + length:
            return None
        p = Packet(data[0] >> 4, data[0] & 0x0F, bytes(data[pos : pos + length]))
        del data[: pos + length]
        self._parse(p)
        return p

    def _parse(self, p):
        b = p.body
        f = p.fields
        if p.kind == CONNACK:
            f["session_present"] = bool(b[0] & 1)
            f["reason_code"] = b[1]
            if self.version == 5:
                f["properties"], _ = parse_properties(b, 2)
        elif p.kind == PUBLISH:
            qos = (p.flags >> 1) & 3
            f["qos"] = qos
            f["retain"] = bool(p.flags & 1)
            f["dup"] = bool(p.flags & 8)
            topic, pos = read_string(b, 0)
            f["topic"] = topic.decode()
            if qos:
                f["packet_id"] = struct.unpack_from("!H", b, pos)[0]
                pos += 2
            f["properties"] = {}
            if self.version == 5:
                f["properties"], pos = parse_properties(b, pos)
            f["payload"] = b[pos:]
        elif p.kind == DISCONNECT:
            f["reason_code"] = b[0] if b else 0
        elif p.kind == SUBACK:
            f["packet_id"] = struct.unpack_from("!H", b, 0)[0]
            pos = 2
            if self.version == 5:
                f["properties"], pos = parse_properties(b, pos)
            f["reason_codes"] = list(b[pos:])
        elif p.kind in (PUBACK, PUBREC, PUBREL, PUBCOMP):
            f["packet_id"] = struct.unpack_from("!H", b, 0)[0]
            f["reason_code"] = b[2] if len(b) > 2 else 0
