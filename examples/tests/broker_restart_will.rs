//! Wills across a restart of the example broker on its store: a Will
//! pending (its client gone without DISCONNECT, its Will Delay Interval
//! running) or of a client connected when the broker was killed is
//! published once the broker is back (§3.1.2.5, §3.1.3.2.2). The broker
//! runs as a process of its own (`restart/mod.rs`); the Will's client is
//! Paho (python3), skipped without it unless `MQTT_REQUIRE_INTEROP=1`.
//! Tests never assert on time: the Will is awaited with a bound.

mod restart;

use mqtt_codec::{ProtocolVersion, QoS};
use restart::numbered::{connect, options, t};
use restart::paho::{paho_ready, spawn_will};
use restart::{BrokerProcess, LIMIT};

/// Not a test: the broker process the other tests start.
#[test]
#[ignore = "the broker process of the restart tests, started by them"]
fn child_broker() {
    restart::child_main();
}

/// A durable subscriber of `will/#` (offline during the restart) and a
/// Paho client with a Will on each version (v5.0: Will Delay Interval 3 s,
/// Session Expiry 3600 s); the broker stopped (SIGTERM, then kill -9)
/// while the Will clients are connected, and started again without them:
/// the subscriber's resumed session gets both Wills [MQTT-3.1.2-8] (the
/// Will is published when the Network Connection is closed without
/// DISCONNECT; after its delay, unless the session resumed first
/// [MQTT-3.1.3-9]).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wills_pending_at_a_restart_are_published_after_it() {
    if !paho_ready() {
        return;
    }
    let dir = restart::temp_dir("wills");
    let mut broker = BrokerProcess::start(&dir.join("broker.redb"), &[]);
    for kill in [false, true] {
        let url = broker.url();
        let v = ProtocolVersion::V5_0;
        let name = format!("will-sub-{kill}");
        let (sub, _) = connect(options(&url, &name, v)).await;
        let filter = format!("will/{kill}/#");
        t("subscribe", sub.subscribe(&filter, QoS::AtLeastOnce))
            .await
            .expect("subscribed");
        t("disconnect", sub.disconnect())
            .await
            .expect("disconnected");
        let mut wills = Vec::new();
        for version in ["3", "5"] {
            let topic = format!("will/{kill}/{version}");
            let id = format!("will-{kill}-{version}");
            wills.push(spawn_will(&broker, &id, version, &topic, 3));
        }
        tokio::task::block_in_place(|| {
            if kill {
                broker.kill9();
            } else {
                assert!(broker.terminate().success(), "SIGTERM ends with exit 0");
            }
            for mut will in wills {
                // Gone with its connection, no DISCONNECT, no reconnect.
                let _ = will.wait();
            }
            broker.restart();
        });
        let (sub, mut messages) = connect(options(&url, &name, v)).await;
        let mut got = Vec::new();
        while got.len() < 2 {
            let Ok(Some(m)) = tokio::time::timeout(LIMIT, messages.recv()).await else {
                panic!("the Wills did not come after the restart (kill -9: {kill}): {got:?}");
            };
            assert_eq!(m.payload(), b"gone");
            got.push(m.topic_name().to_string());
        }
        got.sort();
        assert_eq!(got, [format!("will/{kill}/3"), format!("will/{kill}/5")]);
        t("disconnect", sub.disconnect())
            .await
            .expect("disconnected");
    }
    assert!(broker.terminate().success());
    let _ = std::fs::remove_dir_all(dir);
}
