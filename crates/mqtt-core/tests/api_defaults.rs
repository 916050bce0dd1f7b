//! The defaults of each role, and the timers, through the simulated pair
//! driven by `TimerTable` against its fake clock: a Client with
//! `ConnectionOptions::default()` acknowledges what it receives and closes
//! when no PINGRESP comes within the Keep Alive; a Server answers PINGREQ;
//! deadlines follow the timer requests, cancelled timers never fire, due
//! timers fire earliest first.

#[macro_use]
mod pair;

use std::time::Duration;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{PacketId, ProtocolVersion, QoS};
use mqtt_core::{AckPolicy, ConnectionError, ConnectionOptions, ConnectionState, TimerKind};
use pair::*;

const SECS_10: Duration = Duration::from_secs(10);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn at(ms: u64) -> mqtt_core::MonotonicTime {
    mqtt_core::MonotonicTime::from_millis(ms)
}

/// A pair connected with Keep Alive `keep_alive`: the client with the
/// default options, the server with `server`, records cleared.
fn connected<P: PacketId>(
    v: ProtocolVersion,
    keep_alive: u16,
    server: ConnectionOptions,
) -> Pair<P> {
    let mut config = PairConfig::new(v);
    config.server = server;
    let mut pair: Pair<P> = config.build();
    pair.connect_with(connect(v, "c", true, keep_alive), connack(v, false));
    pair.clear_records();
    pair
}

/// The defaults: acknowledgements on receipt, PINGRESP answered, PINGRESP
/// awaited for the Keep Alive, for both roles.
#[test]
fn default_options_are_safe() {
    let options = ConnectionOptions::default();
    assert_eq!(options.ack, AckPolicy::OnReceipt);
    assert!(options.auto_ping_response);
    assert_eq!(options.pingresp_recv_timeout, None);
}

/// A Client with the default options acknowledges a QoS 1 PUBLISH with
/// PUBACK [MQTT-4.3.2-4] and runs the QoS 2 exchange, PUBREC then PUBCOMP
/// [MQTT-4.3.3-8], [MQTT-4.3.3-11], with no call from the application.
fn client_acknowledges_by_default<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = connected(v, 0, manual_options());
    let one = pair.publish(Side::Server, message("a", QoS::AtLeastOnce, b"1"));
    let two = pair.publish(Side::Server, message("a", QoS::ExactlyOnce, b"2"));
    let (Some(one), Some(two)) = (one, two) else {
        unreachable!()
    };
    pair.drive();
    assert_eq!(pair.client.sent, [puback(v, one), pubrec(v, two)]);
    pair.send_drive(Side::Server, pubrel(v, two));
    assert_eq!(pair.client.sent.last(), Some(&pubcomp(v, two)));
    assert_eq!(pair.server.released, [one, two]);
}

/// A Server with the default options answers PINGREQ with PINGRESP
/// [MQTT-3.12.4-1].
fn server_answers_pingreq_by_default<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = connected(v, 0, ConnectionOptions::default());
    pair.send_drive(Side::Client, pingreq(v));
    assert_eq!(types(&pair.server.sent), [PacketType::Pingresp]);
    assert_eq!(types(&pair.client.received), [PacketType::Pingresp]);
}

/// §3.1.2.10, [MQTT-3.1.2-23] (v3.1.1): a Client with the default options
/// and Keep Alive 10 s sends PINGREQ after 10 s of silence and, when no
/// PINGRESP comes within the Keep Alive after it, reports
/// `PingrespTimeout` and closes, at 20 s on the fake clock, not before.
/// (A regression: the PINGREQ re-sent at 20 s used to restart the timeout,
/// so with the defaults the Client never closed.)
fn client_closes_without_pingresp_by_default<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = connected(v, 10, manual_options());
    let fired = pair.advance(secs(10));
    assert_eq!(fired, [(Side::Client, TimerKind::PingreqSend)]);
    assert_eq!(types(&pair.server.received), [PacketType::Pingreq]);
    assert_eq!(
        pair.timer(Side::Client, TimerKind::PingrespRecv),
        Some(SECS_10)
    );
    let fired = pair.advance(secs(10) - Duration::from_millis(1));
    assert!(fired.is_empty(), "{fired:?}");
    assert!(pair.link_up);
    // The PINGREQ timer falls due at the same instant; a second PINGREQ
    // does not postpone the PINGRESP timeout of the first.
    let fired = pair.advance(Duration::from_millis(1));
    assert_eq!(
        fired.last(),
        Some(&(Side::Client, TimerKind::PingrespRecv)),
        "{fired:?}"
    );
    assert_eq!(pair.now, at(20_000));
    assert_eq!(pair.client.errors, [ConnectionError::PingrespTimeout]);
    assert!(pair.client.close_requested && !pair.link_up);
    assert_eq!(pair.client.conn.state(), ConnectionState::Disconnected);
    // Closed: no timer left to fire.
    assert!(pair.advance(secs(60)).is_empty());
}

/// With a default Server answering, the same Client keeps the connection:
/// a minute is six PINGREQ / PINGRESP exchanges, each PINGRESP cancelling
/// the PINGRESP timeout before it fires.
fn client_stays_connected_with_answers<P: PacketId>(v: ProtocolVersion) {
    let mut pair: Pair<P> = connected(v, 10, ConnectionOptions::default());
    let fired = pair.advance(secs(60));
    assert_eq!(fired, [(Side::Client, TimerKind::PingreqSend); 6]);
    assert_eq!(types(&pair.client.received), [PacketType::Pingresp; 6]);
    assert!(pair.client.errors.is_empty() && pair.link_up);
    let cancels = pair
        .client
        .timer_log
        .iter()
        .filter(|op| **op == TimerOp::Cancel(TimerKind::PingrespRecv))
        .count();
    assert_eq!(cancels, 6);
}

/// `Some(Duration::ZERO)` waits for a PINGRESP forever: the Client arms no
/// PINGRESP timeout and keeps pinging.
fn pingresp_timeout_zero_waits_forever<P: PacketId>(v: ProtocolVersion) {
    let mut config = PairConfig::new(v);
    config.client.pingresp_recv_timeout = Some(Duration::ZERO);
    config.server = manual_options();
    let mut pair: Pair<P> = config.build();
    pair.connect_with(connect(v, "c", true, 10), connack(v, false));
    let fired = pair.advance(secs(30));
    assert_eq!(fired, [(Side::Client, TimerKind::PingreqSend); 3]);
    assert!(pair.link_up);
    assert_eq!(pair.timer(Side::Client, TimerKind::PingrespRecv), None);
}

/// The timer table follows the requests against the fake clock: a reset
/// sets the deadline `now + duration` (the Client's PINGREQ 10 s after the
/// last packet sent, the Server's receive timeout 15 s after the last
/// packet received [MQTT-3.1.2-22], [MQTT-3.1.2-24]), a later reset moves
/// it, a cancel removes it; `expired` hands due timers out earliest first,
/// each once.
fn timer_table_follows_the_requests<P: PacketId>(v: ProtocolVersion) {
    let mut server = manual_options();
    server.ack = AckPolicy::OnReceipt;
    let mut pair: Pair<P> = connected(v, 10, server);
    pair.client.conn.options_mut().pingresp_recv_timeout = Some(secs(5));
    let deadline = |pair: &Pair<P>, side: Side, kind| match side {
        Side::Client => pair.client.timers.deadline(kind),
        Side::Server => pair.server.timers.deadline(kind),
    };
    assert_eq!(
        deadline(&pair, Side::Client, TimerKind::PingreqSend),
        Some(at(10_000))
    );
    assert_eq!(
        deadline(&pair, Side::Server, TimerKind::PingreqRecv),
        Some(at(15_000))
    );
    assert!(pair.advance(secs(4)).is_empty());
    pair.publish(Side::Client, message("a", QoS::AtMostOnce, b"x"));
    pair.drive();
    assert_eq!(
        deadline(&pair, Side::Client, TimerKind::PingreqSend),
        Some(at(14_000))
    );
    assert_eq!(
        deadline(&pair, Side::Server, TimerKind::PingreqRecv),
        Some(at(19_000))
    );

    // The PINGREQ at 14 s: its PINGRESP timeout (5 s) runs until the
    // application's PINGRESP cancels it.
    assert_eq!(
        pair.advance(secs(10)),
        [(Side::Client, TimerKind::PingreqSend)]
    );
    assert_eq!(
        deadline(&pair, Side::Client, TimerKind::PingrespRecv),
        Some(at(19_000))
    );
    assert_eq!(
        deadline(&pair, Side::Client, TimerKind::PingreqSend),
        Some(at(24_000))
    );
    pair.send_drive(Side::Server, pingresp(v));
    assert_eq!(deadline(&pair, Side::Client, TimerKind::PingrespRecv), None);
    assert_eq!(
        pair.client.timer_log.last(),
        Some(&TimerOp::Cancel(TimerKind::PingrespRecv))
    );

    // Another PINGREQ at 24 s, unanswered: both Client timers are due at
    // 40 s, and the table hands out the earlier first.
    assert_eq!(
        pair.advance(secs(10)),
        [(Side::Client, TimerKind::PingreqSend)]
    );
    let mut table = pair.client.timers.clone();
    assert_eq!(table.next_deadline(), Some(at(29_000)));
    assert_eq!(table.expired(at(28_999)), None);
    assert_eq!(table.expired(at(40_000)), Some(TimerKind::PingrespRecv));
    assert_eq!(table.expired(at(40_000)), Some(TimerKind::PingreqSend));
    assert_eq!(table.expired(at(40_000)), None);
    assert_eq!(table.next_deadline(), None);
}

/// Across the two sides the earliest deadline fires first: a Client that
/// pings every 20 s on a Keep Alive of 10 s is closed by the Server at
/// 15 s [MQTT-3.1.2-22] (v5.0: DISCONNECT 0x8D first), before its PINGREQ
/// is due; its own timers are cancelled by the close and never fire.
fn earliest_deadline_fires_first<P: PacketId>(v: ProtocolVersion) {
    let mut config = PairConfig::new(v);
    config.client.pingreq_send_interval = Some(secs(20));
    let mut pair: Pair<P> = config.build();
    pair.connect_with(connect(v, "c", true, 10), connack(v, false));
    let fired = pair.advance(secs(60));
    assert_eq!(fired, [(Side::Server, TimerKind::PingreqRecv)]);
    assert!(pair
        .server
        .errors
        .contains(&ConnectionError::KeepAliveTimeout));
    assert!(!pair.link_up);
    if v == ProtocolVersion::V5_0 {
        assert_eq!(
            pair.client.received.last().and_then(disconnect_reason),
            Some(0x8D)
        );
    }
    assert!(!types(&pair.client.sent).contains(&PacketType::Pingreq));
}

matrix!(
    client_acknowledges_by_default,
    server_answers_pingreq_by_default,
    client_closes_without_pingresp_by_default,
    client_stays_connected_with_answers,
    pingresp_timeout_zero_waits_forever,
    timer_table_follows_the_requests,
    earliest_deadline_fires_first,
);
