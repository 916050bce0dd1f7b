//! The broker goes away and comes back: mosquitto with persistence on is
//! stopped with SIGTERM and started again on the same port while a
//! publisher and a subscriber (blocking [`Client`]s with sessions that
//! outlive the connection) run at QoS 1 and 2. Skipped when mosquitto is
//! not installed, unless `MQTT_REQUIRE_MOSQUITTO=1`.

mod common;

use common::delivery;

use std::time::Duration;

use mqtt_codec::{ProtocolVersion, QoS};
use mqtt_std::{Client, ClientOptions, ClientState, Reconnect};
use mqtt_testkit::{run_with_timeout, Mosquitto};

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];

/// Options for `client_id` on `version`: a session kept for an hour past
/// the connection, from the first one (mosquitto 2.0.11 does not save the
/// session of a v5.0 client that connected with Clean Start 1), and quick
/// reconnection.
fn options(broker: &Mosquitto, client_id: &str, version: ProtocolVersion) -> ClientOptions {
    ClientOptions::new(&format!("mqtt://{}", broker.addr()))
        .unwrap()
        .client_id(format!("{client_id}-{version:?}"))
        .version(version)
        .clean_start(false)
        .session_expiry_interval(3600)
        .reconnect(Reconnect::new(
            Duration::from_millis(20),
            Duration::from_millis(200),
        ))
}

/// Waits until `client` is connected again.
fn reconnected(client: &Client) {
    let mut watch = client.watch_state();
    let connected = |s: &ClientState| matches!(s, ClientState::Connected { .. });
    let state = watch.wait_for(Some(Duration::from_secs(10)), connected);
    assert!(state.is_some(), "not reconnected: {:?}", client.state());
}

/// Every publish returns Ok, every QoS 1 message arrives at least once and
/// every QoS 2 message exactly once across two broker restarts: the
/// clients resume their sessions and send again what was not acknowledged
/// [MQTT-4.4.0-1] (§4.3.2, §4.3.3).
///
/// On failure it prints what mosquitto logged (`log_type all`, every run):
/// first the lines about each QoS 2 message that did not arrive exactly
/// once (its PUBLISH packets and their acknowledgements, with each client),
/// then the whole logs.
#[test]
fn a_broker_restart_loses_nothing() {
    let Some(mut broker) = Mosquitto::start_persistent("") else {
        return;
    };
    run_with_timeout(Duration::from_secs(120), move || {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for v in VERSIONS {
                restarts(&mut broker, v);
            }
        }));
        if let Err(panic) = run {
            eprintln!("mosquitto's logs, run by run:\n{}", broker.all_logs());
            std::panic::resume_unwind(panic);
        }
    });
}

/// Two restarts of `broker` while 200 messages go from a publisher to a
/// subscriber on `v`.
fn restarts(broker: &mut Mosquitto, v: ProtocolVersion) {
    const N: usize = 200;
    let (sub, mut messages) = Client::connect(options(broker, "rs-sub", v)).unwrap();
    sub.subscribe("restart/#", QoS::ExactlyOnce).unwrap();
    let (publisher, _unused) = Client::connect(options(broker, "rs-pub", v)).unwrap();

    let p = publisher.clone();
    let publishing = std::thread::spawn(move || delivery::publish_all(&p, "restart/x", N, 10));
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(60));
        broker.restart();
        reconnected(&publisher);
        reconnected(&sub);
    }
    let outcomes = publishing.join().unwrap();
    for (i, outcome) in outcomes.iter().enumerate() {
        assert!(outcome.is_ok(), "publish {i} on {v:?}: {outcome:?}");
    }
    let seen = delivery::receive_numbered(&mut messages, &publisher, "restart/kick", N);
    let wrong = seen.qos2_not_once(N);
    if !wrong.is_empty() {
        let log = broker.all_logs();
        let traces: String = wrong
            .iter()
            .map(|&(i, times)| {
                format!(
                    "QoS 2 message {i} arrived {times} times (at {:?} of {} arrivals); \
                     mosquitto logged:\n{}\n",
                    seen.positions(i),
                    seen.order.len(),
                    delivery::trace(&log, "restart/x", i)
                )
            })
            .collect();
        panic!("QoS 2 messages not delivered exactly once on {v:?}: {wrong:?}\n{traces}");
    }
    // The broker kept the sessions: Session Present 1.
    assert!(matches!(
        sub.state(),
        ClientState::Connected {
            session_present: true
        }
    ));
    publisher.disconnect().unwrap();
    sub.disconnect().unwrap();
}
