//! Numbered messages through a broker that restarts: published by our
//! [`Client`], received by another, each number's arrivals counted.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use mqtt_codec::ProtocolVersion;
use mqtt_tokio::{Client, ClientOptions, ClientState, Messages, Reconnect};

// Not every test file that uses this module uses each of them.
#[allow(unused_imports)]
pub use super::delivery::{assert_qos2_once, publish_numbered, qos_of};
use super::LIMIT;

/// `fut`, or a panic naming `what` after [`LIMIT`].
pub async fn t<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(LIMIT, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// Options for `client_id` on `version` at `url`: a session kept for an
/// hour past the connection (v3.1.1: Clean Session 0) from the first
/// connection, reconnecting quickly.
pub fn options(url: &str, client_id: &str, version: ProtocolVersion) -> ClientOptions {
    ClientOptions::new(url)
        .expect("a client URL")
        .client_id(format!("{client_id}-{version:?}"))
        .version(version)
        .clean_start(false)
        .session_expiry_interval(3600)
        .reconnect(Reconnect::new(
            Duration::from_millis(20),
            Duration::from_millis(200),
        ))
}

/// Connects with `options`.
pub async fn connect(options: ClientOptions) -> (Client, Messages) {
    t("connect", Client::connect(options))
        .await
        .expect("connected")
}

/// Waits until `client` is connected (again).
pub async fn connected(client: &Client) -> bool {
    let mut state = client.watch_state();
    let state = state.wait_for(|s| matches!(s, ClientState::Connected { .. }));
    match t("connected", state).await {
        ClientState::Connected { session_present } => session_present,
        _ => false,
    }
}

/// Publishes `0..n` one after the other and waits for each flow to
/// complete; panics on a failed one.
pub async fn publish_all(publisher: &Client, topic: &str, n: usize) {
    for i in 0..n {
        let done = publisher.publish(topic, qos_of(i), false, i.to_string());
        t("publish", done).await.expect("acknowledged");
    }
}

/// Receives until each of `0..n` arrived, then what is still on its way
/// (a QoS 2 duplicate would be there); returns each number's arrivals.
/// Panics naming how many are missing after [`LIMIT`].
pub async fn receive_numbered(messages: &mut Messages, n: usize) -> HashMap<usize, usize> {
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let deadline = tokio::time::Instant::now() + LIMIT;
    let mut missing = n;
    while missing > 0 {
        let next = tokio::time::timeout_at(deadline, messages.recv()).await;
        let Ok(Some(m)) = next else {
            let lost: Vec<usize> = (0..n).filter(|i| !seen.contains_key(i)).collect();
            panic!("{missing} of the messages never arrived: {lost:?}");
        };
        count(&mut seen, m.payload());
        missing = (0..n).filter(|i| !seen.contains_key(i)).count();
    }
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(300), messages.recv()).await
    {
        count(&mut seen, m.payload());
    }
    seen
}

/// Counts the arrival of the numbered message `payload`.
pub fn count(seen: &mut HashMap<usize, usize>, payload: &[u8]) {
    if let Some(i) = std::str::from_utf8(payload)
        .ok()
        .and_then(|s| s.parse().ok())
    {
        *seen.entry(i).or_default() += 1;
    }
}
