//! The broker goes away and comes back: mosquitto with persistence on is
//! stopped with SIGTERM and started again on the same port while a
//! publisher and a subscriber ([`Client`]s with sessions that outlive the
//! connection) run at QoS 1 and 2. Skipped when mosquitto is not installed,
//! unless `MQTT_REQUIRE_MOSQUITTO=1`.

mod common;

use std::time::Duration;

use common::{delivery, t};
use mqtt_codec::{ProtocolVersion, QoS};
use mqtt_testkit::Mosquitto;
use mqtt_tokio::{Client, ClientOptions, ClientState, Reconnect};

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];

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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_loses_nothing() {
    let Some(mut broker) = Mosquitto::start_persistent("") else {
        return;
    };
    const N: usize = 200;
    for v in VERSIONS {
        let (sub, mut messages) = t("connect", Client::connect(options(&broker, "rs-sub", v)))
            .await
            .expect("connected");
        t("subscribe", sub.subscribe("restart/#", QoS::ExactlyOnce))
            .await
            .unwrap();
        let (publisher, _unused) = t("connect", Client::connect(options(&broker, "rs-pub", v)))
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
        delivery::assert_qos2_once(&seen, N, &format!("{v:?}"));
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
}
