//! The driver's buffers and queues seen from outside: packets split across
//! reads of any size arrive whole, a full command queue says `Full` and a
//! waiting send goes on once the peer reads again.

mod common;

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use bytes::BytesMut;
use common::*;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{Encode, ProtocolVersion, QoS};
use mqtt_core::GenericConnection;
use mqtt_tokio::{role, Config, Error, ForwardError, Incoming, Server, ServerEndpoint};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// A server with `config`, to serve in-memory streams with.
async fn server(config: Config) -> Server {
    Server::bind("127.0.0.1:0")
        .await
        .unwrap()
        .with_options(opts())
        .with_config(config)
}

/// Payloads from empty to larger than any read (the stack buffer is 8 KiB,
/// `read_chunk` 16 KiB by default) cross a pipe that passes 5 bytes at a
/// time, both ways, at QoS 0 and 1: each arrives whole, in order.
#[tokio::test]
async fn packets_split_across_reads_arrive_whole() {
    let sizes = [0usize, 1, 5, 100, 4096, 8 * 1024 + 1, 40_000];
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0] {
        let (a, b) = tokio::io::duplex(5);
        let server = server(Config::default()).await;
        let (server_ep, mut server_in) = server.serve(b);
        let accept = tokio::spawn(async move {
            let c = t("CONNECT", server_in.recv()).await.unwrap();
            t(
                "CONNACK",
                server_ep.send_generic(connack(c.version(), None)),
            )
            .await
            .unwrap();
            (server_ep, server_in)
        });
        let conn = GenericConnection::with_options(version, opts());
        let (client, mut client_in) = t(
            "connect",
            mqtt_tokio::ClientEndpoint::connect_with(
                a,
                conn,
                connect(version, "split", 0, true),
                Config::default(),
            ),
        )
        .await
        .unwrap();
        let (server_ep, mut server_in) = t("accept", accept).await.unwrap();
        for (i, size) in sizes.iter().enumerate() {
            let body: Vec<u8> = (0..*size).map(|j| (i + j) as u8).collect();
            let qos = if i % 2 == 0 {
                QoS::AtMostOnce
            } else {
                QoS::AtLeastOnce
            };
            let m = message("up", qos, &body);
            t("publish up", client.publish(m)).await.unwrap();
            let (topic, _, got, _) = next_publish(&mut server_in).await;
            assert_eq!(
                (topic.as_str(), &got[..]),
                ("up", &body[..]),
                "{version:?} {size}"
            );
            let m = message("down", qos, &body);
            t("publish down", server_ep.publish(m)).await.unwrap();
            let (topic, _, got, _) = next_publish(&mut client_in).await;
            assert_eq!(
                (topic.as_str(), &got[..]),
                ("down", &body[..]),
                "{version:?} {size}"
            );
        }
        t("close", client.close()).await.unwrap();
        let end = t("DISCONNECT", server_in.recv()).await.unwrap();
        assert_eq!(end.packet_type(), PacketType::Disconnect);
        assert!(t("end", server_in.recv()).await.is_none());
    }
}

/// Polls `fut` once.
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *fut).poll(cx))).await
}

/// A v5.0 server endpoint, connected (CONNACK sent), with a command queue
/// of 2 and a write buffer that counts as full from one byte, over an
/// in-memory pipe of 64 bytes whose peer end (returned first) reads nothing
/// unless the test reads it.
async fn stuck_peer() -> (DuplexStream, ServerEndpoint, Incoming<role::Server>) {
    let mut config = Config::default();
    config.command_capacity = 2;
    config.write_high_water = 1;
    let (mut peer, b) = tokio::io::duplex(64);
    let server = server(config).await;
    let (server_ep, mut server_in) = server.serve(b);
    let version = ProtocolVersion::V5_0;
    let mut bytes = BytesMut::new();
    connect(version, "stuck", 0, true)
        .encode(&mut bytes)
        .unwrap();
    peer.write_all(&bytes).await.unwrap();
    t("CONNECT", server_in.recv()).await.unwrap();
    t("CONNACK", server_ep.send_generic(connack(version, None)))
        .await
        .unwrap();
    (peer, server_ep, server_in)
}

/// A peer that stops reading fills the write buffer; the driver then takes
/// no more commands, the command queue fills: `try_forward` and `try_send`
/// say `Full`, `forward` waits, and goes on once the peer reads again.
#[tokio::test]
async fn a_peer_that_does_not_read_fills_the_command_queue() {
    let (mut peer, server_ep, _server_in) = stuck_peer().await;
    let version = ProtocolVersion::V5_0;
    let body = [7u8; 100];
    let qos0 = || publish(version, "t", QoS::AtMostOnce, None, &body);
    // The peer reads nothing: forwards pile up until the queue is full.
    let mut sent = 0;
    loop {
        match server_ep.try_forward(qos0()) {
            Ok(()) => sent += 1,
            Err(ForwardError::Full(_)) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(sent < 1000, "the queue never filled");
        tokio::task::yield_now().await;
    }
    assert!(matches!(
        t("try_send", server_ep.try_send(mqtt_codec::v5_0::Pingresp)).await,
        Err(Error::Full)
    ));
    // No room within the limit: the packet comes back.
    let limit = std::time::Duration::from_millis(20);
    match t("forward_timeout", server_ep.forward_timeout(qos0(), limit)).await {
        Err(ForwardError::Full(p)) => assert_eq!(p, qos0()),
        other => panic!("{other:?}"),
    }
    let mut waiting = pin!(server_ep.forward(qos0()));
    assert!(poll_once(&mut waiting).await.is_pending());
    // The peer reads again: everything gets through, the waiting one last.
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        let mut total = 0;
        loop {
            match peer.read(&mut buf).await {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
        }
    });
    t("forward after room", &mut waiting).await.unwrap();
    sent += 1;
    t("close", server_ep.close()).await.unwrap();
    let total = t("reader", reader).await.unwrap();
    // CONNACK, then `sent` PUBLISH packets of more than 100 bytes each.
    assert!(total > sent * 100, "{total} bytes for {sent} publishes");
}

/// `abort` does not queue behind the commands: with the command queue full
/// (a peer that does not read), it still ends the connection at once.
#[tokio::test]
async fn abort_ends_a_connection_whose_command_queue_is_full() {
    let (peer, server_ep, mut server_in) = stuck_peer().await;
    let version = ProtocolVersion::V5_0;
    let body = [7u8; 100];
    loop {
        let packet = publish(version, "t", QoS::AtMostOnce, None, &body);
        match server_ep.try_forward(packet) {
            Ok(()) => tokio::task::yield_now().await,
            Err(ForwardError::Full(_)) => break,
            Err(e) => panic!("{e}"),
        }
    }
    server_ep.abort();
    assert!(t("end", server_in.recv()).await.is_none());
    assert!(server_ep.is_closed());
    match server_ep.try_forward(publish(version, "t", QoS::AtMostOnce, None, &body)) {
        Err(ForwardError::Closed(_)) => {}
        other => panic!("{other:?}"),
    }
    drop(peer);
}

/// A server endpoint drops a network connection that delivers no CONNECT
/// within `Config::connect_timeout` (here half a CONNECT, then nothing);
/// one whose CONNECT came in time outlives that deadline.
#[tokio::test]
async fn server_drops_a_connection_without_connect_in_time() {
    let mut config = Config::default();
    config.connect_timeout = Some(std::time::Duration::from_millis(100));
    let server = server(config).await;

    let (mut silent, b) = tokio::io::duplex(64);
    let (_silent_ep, mut silent_in) = server.serve(b);
    silent.write_all(&[0x10, 0x20]).await.unwrap();
    assert!(t("dropped", silent_in.recv()).await.is_none());
    assert_eq!(
        silent_in.close_reason().map(Error::io_kind),
        Some(std::io::ErrorKind::TimedOut)
    );
    let mut buf = [0u8; 8];
    assert_eq!(t("EOF", silent.read(&mut buf)).await.unwrap(), 0);

    let (mut prompt, b) = tokio::io::duplex(64);
    let (prompt_ep, mut prompt_in) = server.serve(b);
    let mut bytes = BytesMut::new();
    connect(ProtocolVersion::V5_0, "prompt", 0, true)
        .encode(&mut bytes)
        .unwrap();
    prompt.write_all(&bytes).await.unwrap();
    t("CONNECT", prompt_in.recv()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!prompt_ep.is_closed(), "dropped after its CONNECT arrived");
}
