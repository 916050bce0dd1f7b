//! A store file that is not a store, is cut short, or holds a damaged
//! record stops the broker at start with exit 1 and a message naming the
//! file (issue 15: "a corrupt or truncated store file gives a clear error
//! at start, never a panic or silent loss"). The broker runs as a process
//! of its own (`restart/mod.rs`).

mod restart;

use std::path::Path;

use restart::{BrokerProcess, StartFailure};

/// Not a test: the broker process the other tests start.
#[test]
#[ignore = "the broker process of the store tests, started by them"]
fn child_broker() {
    restart::child_main();
}

/// Starting on `store` fails: exit status not 0, stderr names the file,
/// no panic.
fn assert_refused(store: &Path, what: &str) -> String {
    let mut broker = BrokerProcess::start_later(store);
    let Err(StartFailure { status, stderr }) = broker.try_start() else {
        panic!("the broker started on {what}");
    };
    assert_eq!(status.code(), Some(1), "exit 1 on {what}: {stderr}");
    let named = format!("broker: store {}:", store.display());
    assert!(
        stderr.contains(&named),
        "{what}: the message names the file: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{what}: no panic: {stderr}");
    stderr
}

/// A store the broker wrote: a retained message and a durable session.
fn a_real_store(dir: &Path) -> std::path::PathBuf {
    let store = dir.join("good.redb");
    let mut broker = BrokerProcess::start(&store, &[]);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let url = broker.url();
        let options = restart::numbered::options(&url, "damage", mqtt_codec::ProtocolVersion::V5_0);
        let (client, _) = restart::numbered::connect(options).await;
        let sub = client.subscribe("damage/#", mqtt_codec::QoS::AtLeastOnce);
        restart::numbered::t("subscribe", sub)
            .await
            .expect("subscribed");
        let retained = client.publish("damage/r", mqtt_codec::QoS::AtLeastOnce, true, "kept");
        restart::numbered::t("publish", retained)
            .await
            .expect("acknowledged");
    });
    let status = broker.terminate();
    assert!(status.success());
    store
}

#[test]
fn a_file_that_is_not_a_store_is_refused() {
    let dir = restart::temp_dir("not-a-store");
    let store = dir.join("garbage.redb");
    std::fs::write(&store, "not a store at all\n".repeat(500)).expect("written");
    assert_refused(&store, "a text file");
    // Left as it was: nothing silently replaced.
    let text = std::fs::read_to_string(&store).expect("still there");
    assert!(text.starts_with("not a store at all"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_store_cut_short_is_refused() {
    let dir = restart::temp_dir("cut-short");
    let good = a_real_store(&dir);
    let bytes = std::fs::read(&good).expect("read");
    for len in [bytes.len() / 2, 4096, 100] {
        let cut = dir.join(format!("cut-{len}.redb"));
        std::fs::write(&cut, &bytes[..len]).expect("written");
        assert_refused(&cut, &format!("the store cut to {len} bytes"));
    }
    // The whole file still starts.
    let mut broker = BrokerProcess::start(&good, &[]);
    assert!(broker.terminate().success());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_damaged_record_is_refused_naming_it() {
    let dir = restart::temp_dir("bad-record");
    let store = a_real_store(&dir);
    {
        let db = redb::Database::create(&store).expect("opens");
        let txn = db.begin_write().expect("a transaction");
        {
            let table: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("retained");
            let mut retained = txn.open_table(table).expect("the retained table");
            retained
                .insert("damage/r", &b"\x00\x01garbage"[..])
                .expect("written");
        }
        txn.commit().expect("committed");
    }
    let stderr = assert_refused(&store, "a damaged retained record");
    assert!(stderr.contains("damage/r"), "the record is named: {stderr}");
    let _ = std::fs::remove_dir_all(dir);
}
