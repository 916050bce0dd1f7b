//! The broker goes away and comes back: mosquitto with persistence on is
//! stopped with SIGTERM and started again on the same port while a
//! publisher and a subscriber ([`Client`]s with sessions that outlive the
//! connection) run at QoS 1 and 2. Skipped when mosquitto is not installed,
//! unless `MQTT_REQUIRE_MOSQUITTO=1`.
//!
//! The twin of mqtt-std's tests/restart.rs, whose documentation tells in
//! full how mosquitto 2.0.11 (the Debian package) can send a subscriber a
//! QoS 2 message again as a PUBLISH (DUP 1, the same packet identifier)
//! after it had sent that message's PUBREL, across a restart: its
//! in-flight list grows past `max_inflight_messages` (eclipse/mosquitto#2306,
//! fixed in 2.0.13), its restore queues the saved messages past the first
//! 20 whatever their state, and the client's reconnection turns a queued
//! QoS 2 message back into a PUBLISH. A sender must not do that
//! [MQTT-4.3.3-1] (v5.0: [MQTT-4.3.3-6]); the subscriber, which had
//! answered the PUBREL with PUBCOMP and released the identifier, must take
//! the PUBLISH as a new message [MQTT-4.3.3-2] (v5.0: [MQTT-4.3.3-12]).
//!
//! So, as there, message `i` goes to its own topic `restart/x/{i}` and
//! mosquitto logs everything; a QoS 2 message may arrive once more for
//! each PUBLISH of it that mosquitto logged sending after its PUBREL
//! (`mqtt_testkit::mosquitto_log::judge_qos2`), and no other way: a message
//! lost, or delivered again without such a PUBLISH, fails.

mod common;

use std::time::Duration;

use common::{delivery, t};
use mqtt_codec::{ProtocolVersion, QoS};
use mqtt_testkit::mosquitto_log::assert_qos2_explained;
use mqtt_testkit::Mosquitto;
use mqtt_tokio::{Client, ClientOptions, ClientState, Reconnect};

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];

/// The bound on the whole test; each wait has its own, shorter one.
const WHOLE: Duration = Duration::from_secs(120);

/// Options for `client_id` on `version`: a session kept for an hour past
/// the connection (v3.1.1: Clean Session 0), reconnecting quickly.
///
/// Clean Start 0 from the first connection: mosquitto 2.0.11 does not save
/// the session of a v5.0 client that connected with Clean Start 1, whatever
/// its Session Expiry Interval (the first restart answers Session Present
/// 0, and the client rightly fails the publishes the session held with
/// `NotDelivered`).
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
async fn reconnected(client: &Client) {
    let mut state = client.watch_state();
    let connected = state.wait_for(|s| matches!(s, ClientState::Connected { .. }));
    t("reconnected", connected).await;
}

/// Every publish resolves, every QoS 1 message arrives at least once and
/// every QoS 2 message exactly once across two broker restarts: the
/// clients resume their sessions (Session Present 1) and send again what
/// was not acknowledged ([MQTT-4.4.0-1], [MQTT-3.1.2-4] / [MQTT-3.1.2-5]:
/// the session is resumed from its state, §4.3.2, §4.3.3).
///
/// A QoS 2 message may arrive once more for each time mosquitto sent it
/// again after its PUBREL (see the module's documentation), never else.
///
/// On failure, a wait that timed out included, it prints what mosquitto
/// logged (`log_type all`, every run): first the lines about each QoS 2
/// message that did not arrive exactly once, then the whole logs.
#[test]
fn a_broker_restart_loses_nothing() {
    let Some(mut broker) = Mosquitto::start_persistent("") else {
        return;
    };
    let run = common::block_on_two_workers(async {
        let all = async {
            for v in VERSIONS {
                restarts(&mut broker, v).await;
            }
        };
        if tokio::time::timeout(WHOLE, all).await.is_err() {
            panic!("the test did not finish within {WHOLE:?}");
        }
    });
    if let Err(panic) = run {
        eprintln!("mosquitto's logs, run by run:\n{}", broker.all_logs());
        std::panic::resume_unwind(panic);
    }
}

/// Two restarts of `broker` while 200 messages go from a publisher to a
/// subscriber on `v`.
async fn restarts(broker: &mut Mosquitto, v: ProtocolVersion) {
    const N: usize = 200;
    let (sub, mut messages) = t("connect", Client::connect(options(broker, "rs-sub", v)))
        .await
        .expect("connected");
    t("subscribe", sub.subscribe("restart/#", QoS::ExactlyOnce))
        .await
        .unwrap();
    let (publisher, _unused) = t("connect", Client::connect(options(broker, "rs-pub", v)))
        .await
        .expect("connected");

    let publishing = delivery::publish_numbered(&publisher, "restart/x", N);
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(60)).await;
        tokio::task::block_in_place(|| broker.restart());
        reconnected(&publisher).await;
        reconnected(&sub).await;
    }
    let outcomes = t("publishes", publishing).await.unwrap();
    for (i, outcome) in outcomes.iter().enumerate() {
        assert!(outcome.is_ok(), "publish {i} on {v:?}: {outcome:?}");
    }
    let seen = delivery::receive_numbered(&mut messages, &publisher, "restart/kick", N).await;
    let subscriber = format!("rs-sub-{v:?}");
    let log = broker.all_logs();
    assert_qos2_explained(&log, &subscriber, "restart/x", &seen, N, &format!("{v:?}"));
    // The broker kept the sessions: no reconnection had to subscribe again.
    assert!(matches!(
        sub.state(),
        ClientState::Connected {
            session_present: true
        }
    ));
    t("disconnect", publisher.disconnect()).await.unwrap();
    t("disconnect", sub.disconnect()).await.unwrap();
}
