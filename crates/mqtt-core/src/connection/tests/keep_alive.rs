//! Keep alive (§3.1.2.10, §3.12, §3.13): timers as events.

use core::time::Duration;

use super::*;
use crate::{ConnectionError, TimerKind};

fn timer_resets(events: &[Event]) -> Vec<(TimerKind, Duration)> {
    events
        .iter()
        .filter_map(|e| match e {
            GenericEvent::RequestTimerReset { kind, duration } => Some((*kind, *duration)),
            _ => None,
        })
        .collect()
}

/// [MQTT-3.1.2-23] (v3.1.1): the Client sends PINGREQ when it sent nothing
/// for the Keep Alive; the timer starts with the CONNACK and restarts on
/// every packet sent. By default it then waits the Keep Alive for the
/// PINGRESP (§3.1.2.10).
#[test]
fn pingreq_on_the_keep_alive() {
    for v in [V3, V5] {
        let mut c = Connection::<Client>::with_options(v, options());
        let events = send(&mut c, connect(v, 10));
        assert!(timer_resets(&events).is_empty(), "not before the CONNACK");
        let events = feed(&mut c, [connack(v)]);
        assert_eq!(
            timer_resets(&events),
            [(TimerKind::PingreqSend, Duration::from_secs(10))]
        );
        let events = send(&mut c, publish(v, "t", QoS::AtMostOnce, None));
        assert_eq!(
            timer_resets(&events),
            [(TimerKind::PingreqSend, Duration::from_secs(10))]
        );
        let events = c.notify_timer_fired(TimerKind::PingreqSend);
        assert_eq!(types(&sent(&events)), [PacketType::Pingreq]);
        assert_eq!(
            timer_resets(&events),
            [
                (TimerKind::PingrespRecv, Duration::from_secs(10)),
                (TimerKind::PingreqSend, Duration::from_secs(10))
            ]
        );
    }
}

/// §3.1.2.10: the PINGRESP timeout is the Keep Alive in force unless set
/// (the Server Keep Alive [MQTT-3.2.2-21] when there is one); `Some(ZERO)`
/// waits forever. A PINGREQ the application sends starts it too.
#[test]
fn pingresp_timeout_defaults_to_the_keep_alive() {
    let server_keep_alive = connack_v5(v5_0::ConnackProperties {
        server_keep_alive: Some(4),
        ..Default::default()
    });
    let mut c = client_with(V5, options(), connect(V5, 60), server_keep_alive);
    let events = send(&mut c, v5_0::Packet::from(v5_0::Pingreq).into());
    assert!(timer_resets(&events).contains(&(TimerKind::PingrespRecv, Duration::from_secs(4))));
    let events = c.notify_timer_fired(TimerKind::PingrespRecv);
    assert_eq!(errors(&events), [ConnectionError::PingrespTimeout]);
    assert!(closes(&events));

    let mut c = client_with(V3, manual(), connect(V3, 10), connack(V3));
    let events = c.notify_timer_fired(TimerKind::PingreqSend);
    assert_eq!(types(&sent(&events)), [PacketType::Pingreq]);
    assert_eq!(
        timer_resets(&events),
        [(TimerKind::PingreqSend, Duration::from_secs(10))]
    );
    assert!(c.notify_timer_fired(TimerKind::PingrespRecv).is_empty());
    assert_eq!(c.state(), ConnectionState::Connected);
}

/// The option overrides the interval; Keep Alive 0 sends no PINGREQ.
#[test]
fn pingreq_interval_option() {
    let mut o = options();
    o.pingreq_send_interval = Some(Duration::from_secs(3));
    let c = client_with(V5, o, connect(V5, 60), connack(V5));
    assert_eq!(c.pingreq_send_interval(), Some(Duration::from_secs(3)));
    let c = client_with(V5, options(), connect(V5, 0), connack(V5));
    assert_eq!(c.pingreq_send_interval(), None);
}

/// [MQTT-3.2.2-21], [MQTT-3.1.2-21] the Client uses the Server Keep Alive
/// instead of its own.
#[test]
fn server_keep_alive_replaces_keep_alive() {
    let mut c = Connection::<Client>::with_options(V5, options());
    send(&mut c, connect(V5, 60));
    let properties = v5_0::ConnackProperties {
        server_keep_alive: Some(5),
        ..Default::default()
    };
    let events = feed(&mut c, [connack_v5(properties.clone())]);
    assert_eq!(c.keep_alive(), 5);
    assert_eq!(c.server_keep_alive(), Some(5));
    assert_eq!(
        timer_resets(&events),
        [(TimerKind::PingreqSend, Duration::from_secs(5))]
    );

    // The server side uses it for its own timeout too.
    let s = server_with(V5, options(), connect(V5, 60), connack_v5(properties));
    assert_eq!(s.keep_alive(), 5);
}

/// [MQTT-3.2.2-22] (v5.0) / [MQTT-3.1.2-24] (v3.1.1): without a Server Keep
/// Alive the Server uses the Client's, and closes after 1.5 times it
/// without a packet; every packet restarts the timer. v5.0 sends DISCONNECT
/// 0x8D (Keep Alive timeout) first [MQTT-3.1.2-22].
#[test]
fn server_receive_timeout() {
    for v in [V3, V5] {
        let mut s = Connection::<Server>::with_options(v, options());
        let events = feed(&mut s, [connect(v, 10)]);
        assert_eq!(
            timer_resets(&events),
            [(TimerKind::PingreqRecv, Duration::from_secs(15))]
        );
        send(&mut s, connack(v));
        let events = feed(&mut s, [publish(v, "t", QoS::AtMostOnce, None)]);
        assert_eq!(
            timer_resets(&events),
            [(TimerKind::PingreqRecv, Duration::from_secs(15))]
        );
        let events = s.notify_timer_fired(TimerKind::PingreqRecv);
        assert!(matches!(
            errors(&events)[..],
            [ConnectionError::KeepAliveTimeout]
        ));
        assert_eq!(disconnect_code(&events), (v == V5).then_some(0x8D));
        assert!(closes(&events));
    }
}

/// [MQTT-3.12.4-1] the Server answers PINGREQ with PINGRESP (automatic);
/// the PINGRESP stops the Client's PINGRESP timeout, whose firing closes.
#[test]
fn ping_exchange_and_timeout() {
    for v in [V3, V5] {
        let mut o = options();
        o.pingresp_recv_timeout = Some(Duration::from_secs(2));
        let mut c = client_with(v, o, connect(v, 10), connack(v));
        let mut s = server(v);

        let events = c.notify_timer_fired(TimerKind::PingreqSend);
        assert!(timer_resets(&events).contains(&(TimerKind::PingrespRecv, Duration::from_secs(2))));
        let events = feed(&mut s, sent(&events));
        assert_eq!(types(&received(&events)), [PacketType::Pingreq]);
        assert_eq!(types(&sent(&events)), [PacketType::Pingresp]);
        let events = feed(&mut c, sent(&events));
        assert!(events.contains(&GenericEvent::RequestTimerCancel(TimerKind::PingrespRecv)));
        // A late firing of the cancelled timer does nothing.
        assert!(c.notify_timer_fired(TimerKind::PingrespRecv).is_empty());

        let _ = c.notify_timer_fired(TimerKind::PingreqSend);
        let events = c.notify_timer_fired(TimerKind::PingrespRecv);
        assert!(matches!(
            errors(&events)[..],
            [ConnectionError::PingrespTimeout]
        ));
        assert!(closes(&events));
    }
}

/// [MQTT-3.12.4-1] a Server answers PINGREQ by default; without
/// `auto_ping_response` the application answers.
#[test]
fn manual_pingresp() {
    let mut s = Connection::<Server>::new(V3);
    feed(&mut s, [connect(V3, 0)]);
    send(&mut s, connack(V3));
    let events = feed(&mut s, [v3_1_1::Packet::from(v3_1_1::Pingreq).into()]);
    assert_eq!(types(&sent(&events)), [PacketType::Pingresp]);

    let mut s = server_with(V5, manual(), connect(V5, 0), connack(V5));
    let events = feed(&mut s, [v5_0::Packet::from(v5_0::Pingreq).into()]);
    assert_eq!(types(&received(&events)), [PacketType::Pingreq]);
    assert!(sent(&events).is_empty());
    let events = s.checked_send(v5_0::Pingresp).unwrap();
    assert_eq!(types(&sent(&events)), [PacketType::Pingresp]);
}

/// Closing cancels the timers that run.
#[test]
fn close_cancels_timers() {
    let mut c = client_with(V5, options(), connect(V5, 10), connack(V5));
    let events = c.notify_closed();
    assert_eq!(
        events,
        [GenericEvent::RequestTimerCancel(TimerKind::PingreqSend)]
    );
    assert_eq!(c.state(), ConnectionState::Disconnected);
}
