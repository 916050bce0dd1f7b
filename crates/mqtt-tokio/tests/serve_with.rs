//! `Server::serve_with`: a connection's driver and the application's
//! future polled as one (`Joined`), in one task.

mod common;

use std::time::Duration;

use common::*;
use mqtt_codec::{ProtocolVersion, QoS};
use mqtt_core::{ConnectionState, GenericConnection};
use mqtt_tokio::{ClientEndpoint, Config, Server};

async fn server() -> Server {
    Server::bind("127.0.0.1:0")
        .await
        .unwrap()
        .with_options(opts())
}

/// A client over `stream`, connected with Clean Start 0 so that the
/// server's session outlives the connection.
async fn client(
    stream: tokio::io::DuplexStream,
    version: ProtocolVersion,
) -> (
    ClientEndpoint,
    mqtt_tokio::Incoming<mqtt_core::role::Client>,
) {
    let conn = GenericConnection::with_options(version, opts());
    t(
        "connect",
        ClientEndpoint::connect_with(
            stream,
            conn,
            connect(version, "joined", 60, false),
            Config::default(),
        ),
    )
    .await
    .unwrap()
}

/// One spawned task serves the whole connection: the handler answers the
/// CONNECT and receives a QoS 1 PUBLISH (the client's `publish` resolves,
/// so the driver ran in that task and sent the PUBACK); once the client
/// disconnects, the handler gets the connection back, closed,
/// and the future outputs what the handler returned.
#[tokio::test]
async fn one_task_drives_and_serves_the_connection() {
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0] {
        let (a, b) = tokio::io::duplex(4096);
        let server = server().await;
        let task = tokio::spawn(server.serve_with(b, |endpoint, mut incoming| async move {
            accept(&endpoint, &mut incoming).await;
            let (topic, qos, payload, _) = next_publish(&mut incoming).await;
            while incoming.recv().await.is_some() {}
            let conn = incoming.into_connection().await;
            (topic, qos, payload, conn.map(|c| c.state()))
        }));
        let (client, client_in) = client(a, version).await;
        t(
            "publish",
            client.publish(message("a/b", QoS::AtLeastOnce, b"x")),
        )
        .await
        .unwrap();
        t("close", client.close()).await.unwrap();
        drop(client_in);
        let (topic, qos, payload, conn) = t("joined", task).await.unwrap();
        assert_eq!(
            (topic.as_str(), qos, &payload[..], conn),
            (
                "a/b",
                QoS::AtLeastOnce,
                &b"x"[..],
                Some(ConnectionState::Disconnected)
            )
        );
    }
}

/// Dropping the future before the driver is done closes the transport:
/// the client's connection ends.
#[tokio::test]
async fn dropping_the_future_closes_the_transport() {
    let (a, b) = tokio::io::duplex(4096);
    let server = server().await;
    let task = tokio::spawn(server.serve_with(b, |endpoint, mut incoming| async move {
        accept(&endpoint, &mut incoming).await;
        std::future::pending::<()>().await
    }));
    let (_client, mut client_in) = client(a, ProtocolVersion::V5_0).await;
    // Connected, and stays so while the task runs.
    let quiet = tokio::time::timeout(Duration::from_millis(50), client_in.recv()).await;
    assert!(quiet.is_err(), "the connection ended while served");
    task.abort();
    assert!(t("closed", client_in.recv()).await.is_none());
}

/// The future completes only once the driver is done too: a handler that
/// hands a PUBLISH far larger than the pipe to the driver and returns at
/// once, dropping the endpoint and the incoming queue, leaves the driver
/// to write it whole and close the connection; the output comes after.
#[tokio::test]
async fn the_future_waits_for_the_driver() {
    let (a, b) = tokio::io::duplex(4096);
    let server = server().await;
    let big = vec![7u8; 100_000];
    let payload = big.clone();
    let task = tokio::spawn(server.serve_with(b, |endpoint, mut incoming| async move {
        accept(&endpoint, &mut incoming).await;
        let m = message("big", QoS::AtMostOnce, &payload);
        endpoint.publish(m).await.unwrap();
        7
    }));
    let (_client, mut client_in) = client(a, ProtocolVersion::V5_0).await;
    let (topic, _, got, _) = next_publish(&mut client_in).await;
    assert_eq!((topic.as_str(), got.len()), ("big", big.len()));
    while t("closed", client_in.recv()).await.is_some() {}
    assert_eq!(t("joined", task).await.unwrap(), 7);
}
