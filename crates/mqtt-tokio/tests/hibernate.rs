//! `Config::hibernate_after`: a quiet server connection's driver stops with
//! the transport open (`Incoming::take_hibernated`), and
//! `Hibernated::wake_with` carries it on where it was.

mod common;

use std::time::{Duration, Instant};

use common::*;
use mqtt_codec::{ProtocolVersion, QoS};
use mqtt_core::{AckPolicy, ConnectionState, GenericConnection};
use mqtt_tokio::{role, ClientEndpoint, Config, Hibernated, Incoming, Server};
use tokio::io::DuplexStream;

/// How long a connection stays quiet before it hibernates, here.
const AFTER: Duration = Duration::from_millis(30);

async fn server(ack: AckPolicy) -> Server {
    let mut options = opts();
    options.ack = ack;
    let mut config = Config::default();
    config.hibernate_after = Some(AFTER);
    Server::bind("127.0.0.1:0")
        .await
        .unwrap()
        .with_options(options)
        .with_config(config)
}

/// A client over `stream` with a Keep Alive of `keep_alive` seconds.
async fn client(
    stream: DuplexStream,
    version: ProtocolVersion,
    keep_alive: u16,
) -> (ClientEndpoint, Incoming<role::Client>) {
    let conn = GenericConnection::with_options(version, opts());
    t(
        "connect",
        ClientEndpoint::connect_with(
            stream,
            conn,
            connect(version, "sleeper", keep_alive, false),
            Config::default(),
        ),
    )
    .await
    .unwrap()
}

/// Receives until the connection's driver ended; its hibernated self.
async fn until_hibernated(
    incoming: &mut Incoming<role::Server>,
) -> Option<Hibernated<DuplexStream>> {
    while incoming.recv().await.is_some() {}
    incoming.take_hibernated::<DuplexStream>().await
}

/// A connected client that sends nothing: its server connection hibernates
/// (its `Incoming` ends with no close reason, and `into_connection` has
/// nothing), quiet, connected, with the Keep Alive's deadline (1.5 times
/// 60 s [MQTT-3.1.2-24]). A PUBLISH the client sends meanwhile waits in
/// the transport; woken, the connection reads it and answers (the client's
/// QoS 1 `publish` resolves with the PUBACK), and sends from the new
/// endpoint reach the client. The client never noticed.
#[tokio::test]
async fn a_quiet_connection_hibernates_and_wakes_where_it_was() {
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0] {
        let (a, b) = tokio::io::duplex(4096);
        let server = server(AckPolicy::OnReceipt).await;
        let task = tokio::spawn(server.serve_with(b, |endpoint, mut incoming| async move {
            accept(&endpoint, &mut incoming).await;
            let hibernated = until_hibernated(&mut incoming).await;
            (hibernated, incoming.close_reason().is_none())
        }));
        let (client, mut client_in) = client(a, version, 60).await;
        let (hibernated, no_reason) = t("hibernated", task).await.unwrap();
        let hibernated = hibernated.expect("the connection hibernated");
        assert!(no_reason, "{version:?}");
        let conn = hibernated.connection();
        assert!(conn.is_quiet(), "{version:?}");
        assert_eq!(conn.state(), ConnectionState::Connected);
        assert_eq!(conn.keep_alive(), 60);
        let deadline = hibernated.deadline().expect("the Keep Alive runs");
        let now = Instant::now();
        assert!(deadline > now + Duration::from_secs(60), "{version:?}");
        assert!(deadline <= now + Duration::from_secs(90), "{version:?}");

        let published = tokio::spawn(async move {
            let r = client
                .publish(message("a/b", QoS::AtLeastOnce, b"while asleep"))
                .await;
            (client, r)
        });
        let woken = tokio::spawn(hibernated.wake_with(|endpoint, mut incoming| async move {
            let publish = next_publish(&mut incoming).await;
            endpoint
                .publish(message("c/d", QoS::AtLeastOnce, b"to the client"))
                .await
                .unwrap();
            let hibernated = until_hibernated(&mut incoming).await;
            (publish, hibernated.is_some())
        }));
        let (client, r) = t("PUBACK", published).await.unwrap();
        r.unwrap();
        let (topic, qos, payload, _) = next_publish(&mut client_in).await;
        assert_eq!(
            (topic.as_str(), qos, &payload[..]),
            ("c/d", QoS::AtLeastOnce, &b"to the client"[..])
        );
        let ((topic, qos, payload, _), again) = t("woken", woken).await.unwrap();
        assert_eq!(
            (topic.as_str(), qos, &payload[..]),
            ("a/b", QoS::AtLeastOnce, &b"while asleep"[..])
        );
        assert!(again, "{version:?}: quiet again, it hibernates again");
        drop(client);
    }
}

/// While a received QoS 1 message waits for the application's
/// acknowledgement (`AckPolicy::AfterHandling`), the connection does not
/// hibernate however long it takes: the acknowledgement, given after many
/// periods, still reaches the client. Then it hibernates.
#[tokio::test]
async fn an_acknowledgement_due_keeps_it_awake() {
    let (a, b) = tokio::io::duplex(4096);
    let server = server(AckPolicy::AfterHandling).await;
    let task = tokio::spawn(server.serve_with(b, |endpoint, mut incoming| async move {
        accept(&endpoint, &mut incoming).await;
        let p = t("PUBLISH", incoming.recv()).await.expect("PUBLISH");
        let id = p.packet_id().expect("QoS 1");
        tokio::time::sleep(AFTER * 5).await;
        endpoint.acknowledge(id).await.unwrap();
        until_hibernated(&mut incoming).await.is_some()
    }));
    let (client, _client_in) = client(a, ProtocolVersion::V5_0, 60).await;
    t(
        "PUBACK",
        client.publish(message("a", QoS::AtLeastOnce, b"x")),
    )
    .await
    .unwrap();
    assert!(t("hibernated", task).await.unwrap());
}

/// A connection that keeps its peer busy does not hibernate: a client
/// that publishes every third of a period keeps it awake (every message
/// acknowledged); once it stops, the connection hibernates.
#[tokio::test]
async fn traffic_keeps_it_awake() {
    let (a, b) = tokio::io::duplex(4096);
    let server = server(AckPolicy::OnReceipt).await;
    let task = tokio::spawn(server.serve_with(b, |endpoint, mut incoming| async move {
        accept(&endpoint, &mut incoming).await;
        let mut received = 0;
        while let Some(p) = incoming.recv().await {
            received += usize::from(as_publish(&p).is_some());
        }
        (
            received,
            incoming.take_hibernated::<DuplexStream>().await.is_some(),
        )
    }));
    let (client, _client_in) = client(a, ProtocolVersion::V5_0, 60).await;
    for i in 0..15u8 {
        t(
            "PUBACK",
            client.publish(message("a", QoS::AtLeastOnce, &[i])),
        )
        .await
        .unwrap();
        tokio::time::sleep(AFTER / 3).await;
    }
    assert_eq!(t("hibernated", task).await.unwrap(), (15, true));
}

/// A driver started by `Server::serve` (its own task) never hibernates:
/// it cannot hand its transport back.
#[tokio::test]
async fn serve_never_hibernates() {
    let (a, b) = tokio::io::duplex(4096);
    let server = server(AckPolicy::OnReceipt).await;
    let (endpoint, mut incoming) = server.serve(b);
    let connecting = tokio::spawn(client(a, ProtocolVersion::V5_0, 60));
    accept(&endpoint, &mut incoming).await;
    let (client, _client_in) = t("connected", connecting).await.unwrap();
    tokio::time::sleep(AFTER * 4).await;
    t(
        "PUBACK",
        client.publish(message("a", QoS::AtLeastOnce, b"x")),
    )
    .await
    .unwrap();
    assert!(next_publish(&mut incoming).await.0 == "a");
}
