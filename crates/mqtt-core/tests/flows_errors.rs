//! Protocol errors through the simulated pair: on v5.0 a DISCONNECT with
//! the reason code the spec names goes out before the close; on v3.1.1 the
//! connection just closes. Stored messages survive.

#[macro_use]
mod pair;

use std::num::NonZeroU32;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, GenericPacket, PacketId, ProtocolVersion, QoS};
use mqtt_core::{AckPolicy, ConnectionState};
use pair::*;

fn connected<P: PacketId>(config: PairConfig) -> Pair<P> {
    let mut pair: Pair<P> = config.build();
    pair.connect();
    pair.clear_records();
    pair
}

/// What the side that detected an error sent: on v5.0 a DISCONNECT with
/// `code` last, on v3.1.1 no DISCONNECT at all [MQTT-4.8.0-1]; and it asked
/// to close, and the link is down.
fn assert_closed_for<P: PacketId>(pair: &Pair<P>, side: Side, code: u8) {
    let sent = pair.sent(side);
    match pair.version {
        ProtocolVersion::V5_0 => assert_eq!(
            sent.last().and_then(disconnect_reason),
            Some(code),
            "{side:?} ends with DISCONNECT 0x{code:02X}: {sent:?}"
        ),
        ProtocolVersion::V3_1_1 => assert!(
            !types(sent).contains(&PacketType::Disconnect),
            "{side:?}: v3.1.1 closes without DISCONNECT: {sent:?}"
        ),
    }
    assert!(pair.close_requested(side), "{side:?} asks to close");
    assert!(!pair.errors(side).is_empty(), "{side:?} reports the error");
    assert!(!pair.link_up);
}

/// Malformed packets (§4.13, v3.1.1 §4.8): a PUBLISH with QoS 3
/// [MQTT-3.3.1-4] and a PUBREL with reserved flags 0000 [MQTT-3.6.1-1],
/// [MQTT-2.2.2-2], received by either side: v5.0 DISCONNECT 0x81, v3.1.1
/// close.
fn malformed_packets<P: PacketId>(v: ProtocolVersion) {
    let cases: [&[u8]; 2] = [&[0x36, 0x03, 0x00, 0x01, b't'], &[0x60, 0x02, 0x00, 0x01]];
    for bytes in cases {
        for to in [Side::Server, Side::Client] {
            let mut pair: Pair<P> = connected(PairConfig::new(v));
            pair.inject(to.peer(), bytes);
            pair.drive();
            assert_closed_for(&pair, to, 0x81);
            assert!(pair.received(to).is_empty(), "{:?}", pair.received(to));
        }
    }
}

/// A packet type the sender's role never sends is a protocol error: a
/// server receiving CONNACK or SUBACK, a client receiving SUBSCRIBE or
/// PINGREQ (§2.1.2, [MQTT-4.8.0-1], [MQTT-4.13.1-1]): v5.0 DISCONNECT 0x82.
fn wrong_direction_packets<P: PacketId>(v: ProtocolVersion) {
    let cases: [(Side, GenericPacket<P>); 4] = [
        (Side::Server, connack(v, false)),
        (Side::Server, suback(v, pid(1), QoS::AtMostOnce)),
        (Side::Client, subscribe(v, pid(1), "a", QoS::AtMostOnce)),
        (Side::Client, pingreq(v)),
    ];
    for (to, packet) in cases {
        let mut pair: Pair<P> = connected(PairConfig::new(v));
        pair.inject_packet(to.peer(), &packet);
        pair.drive();
        assert_closed_for(&pair, to, 0x82);
    }
}

/// An error in what the peer sent never loses a stored message: the
/// client's unacknowledged QoS 1 PUBLISH survives the close and is re-sent
/// on the next connection [MQTT-4.4.0-1].
fn stored_messages_survive_protocol_error<P: PacketId>(v: ProtocolVersion) {
    let mut config = PairConfig::manual(v);
    config.client.ack = AckPolicy::OnReceipt;
    let mut pair: Pair<P> = config.build();
    pair.connect_with(connect(v, "c", false, 0), connack(v, false));
    let id = pair.acquire(Side::Client);
    pair.send_drive(
        Side::Client,
        publish(v, "a", QoS::AtLeastOnce, Some(id), b"kept"),
    );
    // The server answers garbage instead of a PUBACK.
    pair.inject(Side::Server, &[0x36, 0x03, 0x00, 0x01, b't']);
    pair.drive();
    assert!(pair.client.close_requested);
    assert_eq!(pair.client.conn.session().in_flight_len(), 1);
    assert!(pair.client.released.is_empty());
    pair.reconnect_link();
    pair.server.conn.options_mut().ack = AckPolicy::OnReceipt;
    pair.connect_with(connect(v, "c", false, 0), connack(v, true));
    let got = pair.server.publishes();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[1].payload.as_slice(), got[1].dup),
        (&b"kept"[..], true)
    );
    assert_eq!(pair.client.released, [id]);
}

/// A malformed CONNECT: v3.1.1 [MQTT-3.1.4-1] closes without a CONNACK;
/// v5.0 [MQTT-3.1.4-1] closes, perhaps after a CONNACK with a reason code
/// of 0x80 or more, never a DISCONNECT before a CONNACK [MQTT-3.14.0-1].
/// Here the reserved flag of the Connect Flags is set [MQTT-3.1.2-3].
fn malformed_connect<P: PacketId>(v: ProtocolVersion) {
    let level = match v {
        ProtocolVersion::V3_1_1 => 4,
        ProtocolVersion::V5_0 => 5,
    };
    let mut bytes = vec![
        0x10, 0x00, 0x00, 0x04, b'M', b'Q', b'T', b'T', level, 0x03, 0x00, 0x00,
    ];
    if v == ProtocolVersion::V5_0 {
        bytes.push(0x00); // no properties
    }
    bytes.extend_from_slice(&[0x00, 0x01, b'c']);
    bytes[1] = (bytes.len() - 2) as u8;
    for detect in [true, false] {
        let mut config = PairConfig::manual(v);
        config.server_detects_version = detect;
        let mut pair: Pair<P> = config.build();
        pair.inject(Side::Client, &bytes);
        pair.drive();
        assert!(pair.server.close_requested, "detect {detect}");
        assert!(pair.server.received.is_empty());
        match v {
            ProtocolVersion::V3_1_1 => assert!(pair.server.sent.is_empty()),
            ProtocolVersion::V5_0 => {
                for packet in &pair.server.sent {
                    let GenericPacket::V5_0(v5_0::Packet::Connack(c)) = packet else {
                        panic!("only a CONNACK may answer a bad CONNECT: {packet:?}");
                    };
                    assert!(c.reason_code().is_failure());
                }
            }
        }
        assert_eq!(pair.server.conn.state(), ConnectionState::Disconnected);
    }
}

/// The Maximum Packet Size option limits what we accept on v3.1.1 too,
/// which cannot announce it: a larger packet closes the connection.
fn maximum_packet_size_v3<P: PacketId>() {
    let v = ProtocolVersion::V3_1_1;
    let mut config = PairConfig::manual(v);
    config.client.maximum_packet_size = NonZeroU32::new(32);
    let mut pair: Pair<P> = connected(config);
    pair.send_drive(
        Side::Server,
        publish(v, "t", QoS::AtMostOnce, None, &[0; 16]),
    );
    assert_eq!(pair.client.publishes().len(), 1);
    pair.send_drive(
        Side::Server,
        publish(v, "t", QoS::AtMostOnce, None, &[0; 64]),
    );
    assert_closed_for(&pair, Side::Client, 0x95);
    assert_eq!(pair.client.publishes().len(), 1);
}

/// A v3.1.1 peer sending AUTH (type 15, which v3.1.1 does not have) is a
/// protocol violation: close [MQTT-4.8.0-1].
fn auth_on_v3<P: PacketId>() {
    let v = ProtocolVersion::V3_1_1;
    for to in [Side::Server, Side::Client] {
        let mut pair: Pair<P> = connected(PairConfig::manual(v));
        pair.inject(to.peer(), &[0xF0, 0x00]);
        pair.drive();
        assert_closed_for(&pair, to, 0x81);
    }
}

/// Bytes that arrive after the protocol error are ignored: the connection
/// is closed, nothing more is notified.
fn nothing_after_the_error<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = connected(PairConfig::new(v));
    let mut bytes = vec![0x36, 0x03, 0x00, 0x01, b't'];
    let mut after = bytes::BytesMut::new();
    mqtt_codec::Encode::encode(
        &publish::<P>(v, "t", QoS::AtMostOnce, None, b"late"),
        &mut after,
    )
    .expect("encode");
    bytes.extend_from_slice(&after);
    pair.inject(Side::Client, &bytes);
    pair.drive();
    assert!(
        pair.server.received.is_empty(),
        "{:?}",
        pair.server.received
    );
    assert!(pair.server.close_requested);
}

matrix!(
    malformed_packets,
    wrong_direction_packets,
    stored_messages_survive_protocol_error,
    malformed_connect,
    nothing_after_the_error,
);
widths!(maximum_packet_size_v3, auth_on_v3);
