//! The broker goes away and comes back: mosquitto with persistence on is
//! stopped with SIGTERM and started again on the same port while a
//! publisher and a subscriber (blocking [`Client`]s with sessions that
//! outlive the connection) run at QoS 1 and 2. Skipped when mosquitto is
//! not installed, unless `MQTT_REQUIRE_MOSQUITTO=1`.
//!
//! # mosquitto 2.0.11 sends a QoS 2 PUBLISH again after its PUBREL
//!
//! Across a restart, mosquitto 2.0.11 (the Debian package) can send a
//! subscriber a QoS 2 message again as a PUBLISH (DUP 1, the same packet
//! identifier) after it had sent that message's PUBREL, which a sender must
//! not do [MQTT-4.3.3-1] (v5.0: [MQTT-4.3.3-6]). Three things in its source
//! (tag v2.0.11) add up to it:
//!
//! 1. `db__message_delete_outgoing` (src/database.c), on a PUBACK or
//!    PUBCOMP, moves queued messages into flight until `msg_index` reaches
//!    `max_inflight_messages` (20), but `msg_index` is the position of the
//!    acknowledged message in the in-flight list, not the list's length:
//!    a client's in-flight list grows past 20. (2.0.13 counts the quota
//!    instead: commit 330bf6ef, "Various fixes around inflight quota
//!    management", eclipse/mosquitto#2306.)
//! 2. On start, `persist__client_msg_restore` (src/persist_read.c) puts the
//!    saved messages of a client past the first 20 in its queue, whatever
//!    their state (`wait_for_pubcomp` included).
//! 3. On the client's reconnection, `db__message_reconnect_reset_outgoing`
//!    (src/database.c) makes every queued QoS 2 message
//!    `mosq_ms_publish_qos2`: it goes out as a PUBLISH, not as a PUBREL.
//!
//! The subscriber had answered that PUBREL with PUBCOMP (which the broker
//! stopped before reading) and released the identifier, so it must take the
//! PUBLISH as a new message [MQTT-4.3.3-2] (v5.0: [MQTT-4.3.3-12]): the
//! message is delivered twice, and not by the client's fault. mosquitto's
//! log shows it: before the stop `Sending PUBREL to rs-sub-V3_1_1 (m894)`
//! and no PUBCOMP; after it, `Sending PUBREL` again for exactly 20
//! identifiers, then `Sending PUBLISH to rs-sub-V3_1_1 (d1, q2, r0, m894,
//! 'restart/x/557', ...)`. With 2,000 messages and 12 restarts per version
//! (under load) it happened in 14 of 40 runs, on both versions, and each of
//! the 448 second deliveries followed such a PUBLISH. It is the likely
//! cause of the one CI failure of `a_broker_restart_loses_nothing`
//! (message 115 twice, v3.1.1), whose log was not kept.
//!
//! So the test allows a QoS 2 message one more delivery for each PUBLISH
//! of it that mosquitto logged sending after its PUBREL, and no other: a
//! message lost, or delivered again without such a PUBLISH, fails. What
//! the Client controls, not delivering a PUBLISH received again before its
//! PUBREL [MQTT-4.3.3-10], is checked deterministically in
//! session_resume.rs. The log reading (`mqtt_testkit::mosquitto_log`,
//! with its own tests) is shared with mqtt-tokio's twin of this test.

mod common;

use common::delivery;

use std::time::Duration;

use mqtt_codec::{ProtocolVersion, QoS};
use mqtt_std::{Client, ClientOptions, ClientState, Reconnect};
use mqtt_testkit::mosquitto_log::assert_qos2_explained;
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
/// A QoS 2 message may arrive once more for each time mosquitto sent it
/// again after its PUBREL (see the module's documentation), never else.
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
    let subscriber = format!("rs-sub-{v:?}");
    let log = broker.all_logs();
    assert_qos2_explained(&log, &subscriber, "restart/x", &seen, N, &format!("{v:?}"));
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
