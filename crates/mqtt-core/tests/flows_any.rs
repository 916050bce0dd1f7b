//! `role::Any` through the simulated pair: a connection that becomes a
//! Client by sending the first CONNECT, and one that becomes a Server by
//! receiving it (learning the version from it), then behave as such.

#[macro_use]
mod pair;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{PacketId, ProtocolVersion, QoS};
use mqtt_core::{role, ConnectionState, GenericConnection, RoleKind, SendError};
use pair::*;

/// Two `role::Any` connections: the roles are decided by the first CONNECT
/// sent and received [MQTT-3.1.0-1]; QoS 1 flows both ways (acknowledged
/// on receipt, the default); then each refuses what its role never sends
/// (§2.1.2), changing nothing.
fn any_becomes_client_and_server<P: PacketId>(v: ProtocolVersion) {
    let client = GenericConnection::<role::Any, P>::new(v);
    let server = GenericConnection::<role::Any, P>::detect_version();
    let mut pair = Pair::from_connections(v, client, server, Splitter::seeded(7));
    assert_eq!(pair.client.conn.role(), RoleKind::Any);
    assert_eq!(pair.server.conn.role(), RoleKind::Any);
    pair.connect_with(connect(v, "any", true, 0), connack(v, false));
    assert_eq!(pair.client.conn.role(), RoleKind::Client);
    assert_eq!(pair.server.conn.role(), RoleKind::Server);
    assert_eq!(pair.server.conn.version(), Some(v));
    assert_eq!(pair.client.conn.state(), ConnectionState::Connected);
    pair.clear_records();

    for from in [Side::Client, Side::Server] {
        let id = pair.acquire(from);
        pair.send_drive(from, publish(v, "t", QoS::AtLeastOnce, Some(id), b"x"));
        assert_eq!(pair.publishes(from.peer()).len(), 1);
        assert_eq!(pair.released(from), [id]);
    }
    pair.clear_records();
    let refusals = [
        (Side::Client, connack(v, false), PacketType::Connack),
        (Side::Client, pingresp(v), PacketType::Pingresp),
        (Side::Server, pingreq(v), PacketType::Pingreq),
        (
            Side::Server,
            subscribe(v, pid(9), "t", QoS::AtMostOnce),
            PacketType::Subscribe,
        ),
    ];
    for (side, packet, packet_type) in refusals {
        let role = match side {
            Side::Client => RoleKind::Client,
            Side::Server => RoleKind::Server,
        };
        assert_eq!(
            pair.refuse(side, packet),
            SendError::NotAllowedForRole { packet_type, role }
        );
    }
    pair.drive();
    assert!(pair.client.received.is_empty() && pair.server.received.is_empty());
    pair.send_drive(Side::Client, pingreq(v));
    assert_eq!(types(&pair.client.received), [PacketType::Pingresp]);
}

matrix!(any_becomes_client_and_server);
