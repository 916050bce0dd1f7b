//! `Endpoint::try_forward` / `forward` (a broker's sends, answered by no
//! one) and `Endpoint::import_session` (a broker resuming a session).

mod common;

use common::*;
use mqtt_codec::{v5_0, GenericPacket, ProtocolVersion, QoS};
use mqtt_core::{role, AckPolicy, ConnectionOptions, GenericConnection};
use mqtt_tokio::{ClientEndpoint, Config, Endpoint, Incoming, Server, ServerEndpoint};

/// What [`connect_pair`] returns.
type Connected = (
    ClientEndpoint,
    Incoming<role::Client>,
    ServerEndpoint,
    Incoming<role::Server>,
);

/// The server's options: `offline_publish` on.
fn server_opts() -> ConnectionOptions {
    let mut server_opts = opts();
    server_opts.offline_publish = true;
    server_opts
}

/// A v5.0 client announcing `receive_maximum`, which acknowledges nothing
/// by itself, connected to a server endpoint with `config`; the server
/// imports `session` (if any) before its CONNACK.
async fn connect_pair(config: Config, receive_maximum: u16, session: Option<Vec<u8>>) -> Connected {
    connect_pair_with(server_opts(), config, receive_maximum, session).await
}

/// [`connect_pair`] with the server's options.
async fn connect_pair_with(
    server_opts: ConnectionOptions,
    config: Config,
    receive_maximum: u16,
    session: Option<Vec<u8>>,
) -> Connected {
    let server = Server::bind("127.0.0.1:0")
        .await
        .unwrap()
        .with_options(server_opts)
        .with_config(config);
    let addr = server.local_addr().unwrap();
    let accept = tokio::spawn(async move {
        let (endpoint, mut incoming, _) = server.accept().await.unwrap();
        incoming.recv().await.expect("CONNECT");
        let present = session.is_some();
        if let Some(bytes) = session {
            endpoint.import_session(bytes).await.unwrap();
        }
        let connack = v5_0::Connack::builder()
            .session_present(present)
            .build()
            .unwrap();
        endpoint.send(connack).await.unwrap();
        (endpoint, incoming)
    });
    let spec = ConnectSpec {
        id: "fwd",
        persistent: true,
        receive_maximum: Some(receive_maximum),
        ..Default::default()
    };
    let stream = t("tcp", tokio::net::TcpStream::connect(addr))
        .await
        .unwrap();
    let mut client_opts = ConnectionOptions::default();
    client_opts.ack = AckPolicy::Manual;
    let conn = GenericConnection::with_options(ProtocolVersion::V5_0, client_opts);
    let connect = connect_spec(ProtocolVersion::V5_0, &spec);
    let (client, client_in) = t(
        "connect",
        ClientEndpoint::connect_with(stream, conn, connect, Default::default()),
    )
    .await
    .unwrap();
    let (server, server_in) = t("accept", accept).await.unwrap();
    (client, client_in, server, server_in)
}

fn qos1(payload: u8) -> GenericPacket {
    // Packet identifier 1 is a placeholder: the connection assigns one.
    publish(
        ProtocolVersion::V5_0,
        "fwd/t",
        QoS::AtLeastOnce,
        Some(1),
        &[payload],
    )
}

/// The (packet identifier, first payload byte) of the next PUBLISH.
async fn next_id_and_byte(incoming: &mut Incoming<role::Client>) -> (u16, u8, bool) {
    loop {
        let p = t("publish", incoming.recv()).await.expect("closed");
        if let GenericPacket::V5_0(v5_0::Packet::Publish(p)) = p {
            return (p.packet_id().unwrap(), p.payload()[0], p.dup());
        }
    }
}

async fn wait_status<F: Fn(&mqtt_tokio::Status) -> bool>(server: &Endpoint<role::Server>, f: F) {
    t("status", async {
        loop {
            let s = server.status().await.unwrap();
            if f(&s) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
}

/// Forwarded QoS 1 PUBLISH packets and messages get distinct identifiers
/// and wait in the connection's session queue for the client's Receive
/// Maximum [MQTT-3.3.4-7], not in the endpoint: they leave, in order, as
/// acknowledgements free quota.
#[tokio::test]
async fn forwarded_publishes_wait_for_quota_in_order() {
    let (client, mut client_in, server, _server_in) =
        connect_pair(Config::default(), 2, None).await;
    for i in 0..5 {
        if i % 2 == 0 {
            server.try_forward(qos1(i)).unwrap();
        } else {
            server
                .try_forward(message("fwd/t", QoS::AtLeastOnce, &[i]))
                .unwrap();
        }
    }
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(next_id_and_byte(&mut client_in).await);
    }
    wait_status(&server, |s| s.in_flight == 2 && s.queued == 3).await;
    // Nothing more until the client acknowledges.
    for _ in 0..3 {
        let (id, _, _) = seen[seen.len() - 2];
        client.send(v5_0::Puback::new(id)).await.unwrap();
        seen.push(next_id_and_byte(&mut client_in).await);
    }
    let bytes: Vec<u8> = seen.iter().map(|s| s.1).collect();
    assert_eq!(bytes, vec![0, 1, 2, 3, 4]);
    let in_flight: Vec<u16> = seen[3..].iter().map(|s| s.0).collect();
    assert_ne!(in_flight[0], in_flight[1], "identifiers in flight differ");
    let status = server.status().await.unwrap();
    assert_eq!((status.queued, status.dropped), (0, 0));
}

/// Beyond the bound of the session's queue
/// (`ConnectionOptions::session.queue_max_messages`), forwarded packets
/// and messages are refused (`SendError::QueueFull`), dropped and counted;
/// the connection goes on.
#[tokio::test]
async fn forwards_beyond_the_session_queue_are_dropped_and_counted() {
    let mut opts = server_opts();
    opts.session.queue_max_messages = 2;
    let (_client, mut client_in, server, _server_in) =
        connect_pair_with(opts, Config::default(), 1, None).await;
    for i in 0..6 {
        server.try_forward(qos1(i)).unwrap();
    }
    // One in flight, two queued, three dropped.
    wait_status(&server, |s| s.dropped == 3).await;
    assert_eq!(next_id_and_byte(&mut client_in).await.1, 0);
    let status = server.status().await.unwrap();
    assert_eq!((status.in_flight, status.queued, status.dropped), (1, 2, 3));
}

/// When the network connection closes, forwarded QoS 1 packets that were
/// waiting stay in the session, and a server that imports it re-sends them
/// after a CONNACK with Session Present, the one in flight with DUP
/// [MQTT-4.4.0-1], [MQTT-3.3.1-1].
#[tokio::test]
async fn waiting_forwards_survive_the_close_and_an_imported_session_resends_them() {
    let (client, mut client_in, server, server_in) = connect_pair(Config::default(), 1, None).await;
    for i in 0..3 {
        server.forward(qos1(i)).await.unwrap();
    }
    assert_eq!(next_id_and_byte(&mut client_in).await.1, 0);
    wait_status(&server, |s| s.in_flight == 1).await;
    client.abort();
    let conn = t("into_connection", server_in.into_connection())
        .await
        .unwrap();
    assert_eq!(conn.session().in_flight_len(), 1);
    assert_eq!(conn.session().queue_len(), 2);
    let exported = conn.export_session();

    let (client, mut client_in, _server, _server_in) =
        connect_pair(Config::default(), 10, Some(exported)).await;
    let first = next_id_and_byte(&mut client_in).await;
    assert_eq!((first.1, first.2), (0, true), "resent with DUP");
    let rest = [
        next_id_and_byte(&mut client_in).await,
        next_id_and_byte(&mut client_in).await,
    ];
    assert_eq!(
        rest.iter().map(|r| (r.1, r.2)).collect::<Vec<_>>(),
        vec![(1, false), (2, false)]
    );
    client.close().await.unwrap();
}

/// A session is imported before the CONNACK only.
#[tokio::test]
async fn import_session_after_connack_errs() {
    let (client, _client_in, server, _server_in) = connect_pair(Config::default(), 10, None).await;
    let other = GenericConnection::<role::Server, u16>::with_options(
        ProtocolVersion::V5_0,
        ConnectionOptions::default(),
    );
    let err = server
        .import_session(other.export_session())
        .await
        .unwrap_err();
    assert!(matches!(err, mqtt_tokio::Error::Connection(_)), "{err:?}");
    client.close().await.unwrap();
}
