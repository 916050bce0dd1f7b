//! Keep alive through the simulated pair: the client's PINGREQ timer, the
//! PINGRESP and its timeout, the server's 1.5 x keep alive receive timeout,
//! and the Server Keep Alive of v5.0. Timers are fired by the test.

#[macro_use]
mod pair;

use std::time::Duration;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, PacketId, ProtocolVersion, QoS};
use mqtt_core::{ConnectionError, ConnectionState, TimerKind};
use pair::*;

const SECS_10: Duration = Duration::from_secs(10);
const SECS_15: Duration = Duration::from_secs(15);

fn connected<P: PacketId>(config: PairConfig, keep_alive: u16) -> Pair<P> {
    let v = config.version;
    let mut pair: Pair<P> = config.build();
    pair.connect_with(connect(v, "c", true, keep_alive), connack(v, false));
    pair.clear_records();
    pair
}

/// v5.0 [MQTT-3.1.2-20] / v3.1.1 [MQTT-3.1.2-23]: with a non-zero Keep Alive
/// and nothing else to send, the client sends PINGREQ when the interval
/// passes; the server answers PINGRESP [MQTT-3.12.4-1]; the PINGRESP timer
/// runs in between and is cancelled by the answer.
fn pingreq_on_the_interval<P: PacketId>(v: ProtocolVersion) {
    let mut config = PairConfig::new(v);
    config.client.pingresp_recv_timeout = Some(Duration::from_secs(5));
    let mut pair: Pair<P> = connected(config, 10);
    assert_eq!(
        pair.timer(Side::Client, TimerKind::PingreqSend),
        Some(SECS_10)
    );
    assert_eq!(pair.timer(Side::Client, TimerKind::PingrespRecv), None);

    pair.fire_only(Side::Client, TimerKind::PingreqSend);
    assert_eq!(types(&pair.client.sent), [PacketType::Pingreq]);
    assert_eq!(
        pair.timer(Side::Client, TimerKind::PingrespRecv),
        Some(Duration::from_secs(5))
    );
    pair.drive();
    assert_eq!(types(&pair.server.received), [PacketType::Pingreq]);
    assert_eq!(types(&pair.server.sent), [PacketType::Pingresp]);
    assert_eq!(types(&pair.client.received), [PacketType::Pingresp]);
    assert_eq!(pair.timer(Side::Client, TimerKind::PingrespRecv), None);
    assert_eq!(
        pair.timer(Side::Client, TimerKind::PingreqSend),
        Some(SECS_10)
    );
    assert!(pair.link_up);

    // And again: the cycle repeats.
    pair.fire(Side::Client, TimerKind::PingreqSend);
    assert_eq!(types(&pair.client.received), [PacketType::Pingresp; 2]);
}

/// Pings only when idle: every packet sent restarts the PINGREQ timer
/// (v5.0 §3.1.2.10, v3.1.1 [MQTT-3.1.2-23]).
fn any_packet_sent_rearms_pingreq<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = connected(PairConfig::new(v), 10);
    pair.send_drive(Side::Client, publish(v, "t", QoS::AtMostOnce, None, b"x"));
    assert_eq!(
        pair.client.timer_log,
        [TimerOp::Reset(TimerKind::PingreqSend, SECS_10)],
        "a packet sent re-arms the PINGREQ timer"
    );
    // Receiving does not count as sending.
    pair.client.timer_log.clear();
    pair.send_drive(Side::Server, publish(v, "t", QoS::AtMostOnce, None, b"x"));
    assert!(
        !pair
            .client
            .timer_log
            .contains(&TimerOp::Reset(TimerKind::PingreqSend, SECS_10)),
        "{:?}",
        pair.client.timer_log
    );
}

/// Without an automatic PINGRESP the server application sees the PINGREQ and
/// answers it itself [MQTT-3.12.4-1].
fn manual_pingresp<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = connected(PairConfig::manual(v), 10);
    pair.fire(Side::Client, TimerKind::PingreqSend);
    assert_eq!(types(&pair.server.received), [PacketType::Pingreq]);
    assert!(pair.server.sent.is_empty());
    pair.send_drive(Side::Server, pingresp(v));
    assert_eq!(types(&pair.client.received), [PacketType::Pingresp]);
}

/// No PINGRESP within the PINGRESP timeout: the client reports it and
/// closes the network connection (§3.1.2.10, §3.12.4).
fn pingresp_timeout_closes<P: PacketId>(v: ProtocolVersion) {
    let mut config = PairConfig::manual(v);
    config.client.pingresp_recv_timeout = Some(Duration::from_secs(5));
    let mut pair: Pair<P> = connected(config, 10);
    pair.fire(Side::Client, TimerKind::PingreqSend);
    // The server application does not answer.
    assert_eq!(types(&pair.server.received), [PacketType::Pingreq]);
    pair.fire(Side::Client, TimerKind::PingrespRecv);
    assert!(pair.client.close_requested);
    assert!(pair
        .client
        .errors
        .contains(&ConnectionError::PingrespTimeout));
    assert!(!pair.link_up);
    assert_eq!(pair.client.conn.state(), ConnectionState::Disconnected);
}

/// v5.0 [MQTT-3.1.2-22] / v3.1.1 [MQTT-3.1.2-24]: the server closes when
/// nothing arrives for one and a half times the Keep Alive; every packet
/// received restarts that timer.
fn server_receive_timeout<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = connected(PairConfig::new(v), 10);
    assert_eq!(
        pair.timer(Side::Server, TimerKind::PingreqRecv),
        Some(SECS_15)
    );
    pair.server.timer_log.clear();
    pair.send_drive(Side::Client, publish(v, "t", QoS::AtMostOnce, None, b"x"));
    assert_eq!(
        pair.server.timer_log,
        [TimerOp::Reset(TimerKind::PingreqRecv, SECS_15)]
    );
    // What the server sends does not count.
    pair.server.timer_log.clear();
    pair.send_drive(Side::Server, publish(v, "t", QoS::AtMostOnce, None, b"x"));
    assert!(
        pair.server.timer_log.is_empty(),
        "{:?}",
        pair.server.timer_log
    );
    pair.fire(Side::Server, TimerKind::PingreqRecv);
    assert!(pair.server.close_requested);
    assert!(pair
        .server
        .errors
        .contains(&ConnectionError::KeepAliveTimeout));
    if v == ProtocolVersion::V5_0 {
        // v5.0 says why first: 0x8D Keep Alive timeout.
        assert_eq!(
            pair.server.sent.last().and_then(disconnect_reason),
            Some(0x8D)
        );
    } else {
        assert_eq!(
            pair.server.sent.last().map(|p| p.packet_type()),
            Some(PacketType::Publish)
        );
    }
    assert!(!pair.link_up);
    assert_eq!(pair.server.conn.state(), ConnectionState::Disconnected);
}

/// Keep Alive 0 turns the mechanism off: no PINGREQ timer on the client, no
/// receive timeout on the server.
fn keep_alive_zero_runs_no_timers<P: PacketId>(v: ProtocolVersion) {
    let pair: Pair<P> = connected(PairConfig::new(v), 0);
    assert_eq!(pair.timer(Side::Client, TimerKind::PingreqSend), None);
    assert_eq!(pair.timer(Side::Server, TimerKind::PingreqRecv), None);
}

/// The PINGREQ send interval option overrides the Keep Alive.
fn pingreq_interval_option<P: PacketId>(v: ProtocolVersion) {
    let mut config = PairConfig::new(v);
    config.client.pingreq_send_interval = Some(Duration::from_secs(3));
    let pair: Pair<P> = connected(config, 10);
    assert_eq!(
        pair.timer(Side::Client, TimerKind::PingreqSend),
        Some(Duration::from_secs(3))
    );
}

/// v5.0 [MQTT-3.2.2-21]: a Server Keep Alive in CONNACK replaces the
/// client's Keep Alive, for the client's PINGREQ timer and for the server's
/// receive timeout (1.5 x 4 s). Without it the server uses the client's
/// value [MQTT-3.2.2-22] (see `server_receive_timeout`).
fn server_keep_alive<P: PacketId>() {
    let v = ProtocolVersion::V5_0;
    let mut pair: Pair<P> = PairConfig::new(v).build();
    let connack = connack_v5(
        false,
        v5_0::ConnackProperties {
            server_keep_alive: Some(4),
            ..Default::default()
        },
    );
    pair.connect_with(
        connect(v, "c", true, 60),
        v5_0::Packet::from(connack).into(),
    );
    assert_eq!(
        pair.timer(Side::Client, TimerKind::PingreqSend),
        Some(Duration::from_secs(4))
    );
    assert_eq!(
        pair.timer(Side::Server, TimerKind::PingreqRecv),
        Some(Duration::from_secs(6))
    );
    pair.fire(Side::Client, TimerKind::PingreqSend);
    assert_eq!(
        pair.client.received.last().map(|p| p.packet_type()),
        Some(PacketType::Pingresp)
    );
}

matrix!(
    pingreq_on_the_interval,
    any_packet_sent_rearms_pingreq,
    manual_pingresp,
    pingresp_timeout_closes,
    server_receive_timeout,
    keep_alive_zero_runs_no_timers,
    pingreq_interval_option,
);
widths!(server_keep_alive);
