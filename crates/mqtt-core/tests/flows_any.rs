//! `role::Any` through the simulated pair: a connection that becomes a
//! Client by sending the first CONNECT, and one that becomes a Server by
//! receiving it (learning the version from it), then behave as such.

#[macro_use]
mod pair;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{PacketId, ProtocolVersion, QoS};
use mqtt_core::{role, ConnectionOptions, ConnectionState, GenericConnection, RoleKind};
use pair::*;

fn auto() -> ConnectionOptions {
    let mut options = ConnectionOptions::default();
    options.auto_pub_response = true;
    options.auto_ping_response = true;
    options
}

/// Two `role::Any` connections: the roles are decided by the first CONNECT
/// sent and received [MQTT-3.1.0-1]; QoS 1 flows both ways; then each
/// refuses what its role never sends (§2.1.2).
fn any_becomes_client_and_server<P: PacketId>(v: ProtocolVersion) {
    let client = GenericConnection::<role::Any, P>::with_options(v, auto());
    let server = GenericConnection::<role::Any, P>::detect_version_with_options(auto());
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
    pair.send(Side::Client, connack(v, false));
    pair.send(Side::Client, pingresp(v));
    pair.send(Side::Server, pingreq(v));
    pair.send(Side::Server, subscribe(v, pid(9), "t", QoS::AtMostOnce));
    assert_eq!(pair.client.errors.len(), 2, "{:?}", pair.client.errors);
    assert_eq!(pair.server.errors.len(), 2, "{:?}", pair.server.errors);
    pair.drive();
    assert!(pair.client.received.is_empty() && pair.server.received.is_empty());
    pair.send_drive(Side::Client, pingreq(v));
    assert_eq!(types(&pair.client.received), [PacketType::Pingresp]);
}

matrix!(any_becomes_client_and_server);
