//! TLS (feature `tls`) and WebSocket (feature `websocket`) transports on
//! loopback: a client and a server endpoint of this crate exchange QoS 1
//! messages both ways, for both versions; over WebSocket, each endpoint also
//! meets a raw tungstenite peer that cuts packets across frames (§6).
#![cfg(any(feature = "tls", feature = "websocket"))]

mod common;

use common::*;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{ProtocolVersion, QoS};
use mqtt_core::role;
use mqtt_tokio::{ClientEndpoint, Incoming, ServerEndpoint};

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];

/// The server side: answers CONNECT, echoes the first PUBLISH back on
/// `echo`, then waits for the end.
async fn serve_echo(endpoint: ServerEndpoint, mut incoming: Incoming<role::Server>) {
    let c = incoming.recv().await.expect("CONNECT");
    assert_eq!(c.packet_type(), PacketType::Connect);
    let version = c.version();
    endpoint.send_generic(connack(version, None)).await.unwrap();
    let (_, _, body, _) = next_publish(&mut incoming).await;
    endpoint
        .publish(message("echo", QoS::AtLeastOnce, &body))
        .await
        .unwrap();
    while incoming.recv().await.is_some() {}
}

/// The client side: publishes, and receives the echo.
async fn exchange(
    version: ProtocolVersion,
    client: ClientEndpoint,
    mut incoming: Incoming<role::Client>,
) {
    let status = t("status", client.status()).await.unwrap();
    assert_eq!(status.version, Some(version));
    t(
        "publish",
        client.publish(message("t", QoS::AtLeastOnce, b"over the transport")),
    )
    .await
    .unwrap();
    let (topic, qos, body, _) = next_publish(&mut incoming).await;
    assert_eq!(
        (topic.as_str(), qos, &body[..]),
        ("echo", QoS::AtLeastOnce, &b"over the transport"[..])
    );
    t("close", client.close()).await.unwrap();
}

/// The high-level `Client` side: its QoS 1 message is acknowledged, and
/// the echo arrives as a `Message`.
async fn client_exchange(options: mqtt_tokio::ClientOptions) {
    let (client, mut messages) = t("connect", mqtt_tokio::Client::connect(options))
        .await
        .unwrap();
    let delivered = t(
        "publish",
        client.publish("t", QoS::AtLeastOnce, false, "over the transport"),
    )
    .await;
    assert!(
        matches!(delivered, Ok(mqtt_tokio::Delivered::Acknowledged(_))),
        "{delivered:?}"
    );
    let echo = t("echo", messages.recv()).await.expect("the echo");
    assert_eq!(
        (echo.topic_name(), echo.payload()),
        ("echo", &b"over the transport"[..])
    );
    t("disconnect", client.disconnect()).await.unwrap();
}

#[cfg(feature = "tls")]
mod tls {
    use std::sync::Arc;

    use super::*;
    use mqtt_tokio::tls::rustls::{self, pki_types};
    use mqtt_tokio::tls::TlsAcceptor;
    use mqtt_tokio::Server;

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    /// A certificate for `localhost` made by the test, and configurations
    /// that use and trust it.
    fn configs() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let cert = certified.cert.der().clone();
        let key = pki_types::PrivateKeyDer::Pkcs8(pki_types::PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let server = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        (Arc::new(server), Arc::new(client))
    }

    /// A server that accepts one TLS connection and echoes.
    async fn echo_server(
        config: &Arc<rustls::ServerConfig>,
    ) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
        let server = Server::bind("127.0.0.1:0")
            .await
            .unwrap()
            .with_options(opts());
        let addr = server.local_addr().unwrap();
        let acceptor = TlsAcceptor::from(config.clone());
        let srv = tokio::spawn(async move {
            let (endpoint, incoming, _) = server.accept_tls(&acceptor).await.unwrap();
            serve_echo(endpoint, incoming).await;
        });
        (addr, srv)
    }

    #[tokio::test]
    async fn tls_loopback_both_versions() {
        let (server_config, client_config) = configs();
        for version in VERSIONS {
            let (addr, srv) = echo_server(&server_config).await;
            let connect = connect(version, "tls", 0, true);
            let (client, incoming) = t(
                "connect_tls",
                ClientEndpoint::connect_tls(
                    addr,
                    "localhost",
                    client_config.clone(),
                    connect,
                    opts(),
                ),
            )
            .await
            .unwrap();
            exchange(version, client, incoming).await;
            t("server", srv).await.unwrap();
        }
    }

    /// `mqtts://` with the high-level `Client`, for both versions.
    #[tokio::test]
    async fn client_over_mqtts() {
        let (server_config, client_config) = configs();
        for version in VERSIONS {
            let (addr, srv) = echo_server(&server_config).await;
            let url = format!("mqtts://localhost:{}", addr.port());
            let options = mqtt_tokio::ClientOptions::new(&url)
                .unwrap()
                .client_id("mqtts")
                .version(version)
                .tls_config(client_config.clone());
            client_exchange(options).await;
            t("server", srv).await.unwrap();
        }
    }

    /// `mqtts://` without a TLS configuration is refused before connecting.
    #[tokio::test]
    async fn mqtts_needs_a_tls_config() {
        let options = mqtt_tokio::ClientOptions::new("mqtts://localhost:1").unwrap();
        let r = mqtt_tokio::Client::connect(options).await;
        let Err(mqtt_tokio::Error::Io(e)) = r else {
            panic!("{r:?}")
        };
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains("tls_config"), "{e}");
    }

    /// A certificate the client does not trust fails the handshake.
    #[tokio::test]
    async fn tls_untrusted_certificate_fails() {
        let (server_config, _) = configs();
        let (_, other_client) = configs();
        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let acceptor = TlsAcceptor::from(server_config);
        tokio::spawn(async move {
            let _ = server.accept_tls(&acceptor).await;
        });
        let connect = connect(ProtocolVersion::V5_0, "tls", 0, true);
        let r = t(
            "connect_tls",
            ClientEndpoint::connect_tls(addr, "localhost", other_client, connect, opts()),
        )
        .await;
        assert!(matches!(r, Err(mqtt_tokio::Error::Io(_))), "{r:?}");
    }
}

#[cfg(feature = "websocket")]
mod websocket {
    use std::net::SocketAddr;

    use super::*;
    use bytes::{Bytes, BytesMut};
    use futures_util::{SinkExt, StreamExt};
    use mqtt_codec::{Decoder, Encode, GenericPacket};
    use mqtt_tokio::Server;
    use tokio::net::TcpStream;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::WebSocketStream;

    /// A server that accepts one WebSocket connection and echoes.
    async fn echo_server() -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let server = Server::bind("127.0.0.1:0")
            .await
            .unwrap()
            .with_options(opts());
        let addr = server.local_addr().unwrap();
        let srv = tokio::spawn(async move {
            let (endpoint, incoming, _) = server.accept_ws().await.unwrap();
            serve_echo(endpoint, incoming).await;
        });
        (addr, srv)
    }

    #[tokio::test]
    async fn websocket_loopback_both_versions() {
        for version in VERSIONS {
            let (addr, srv) = echo_server().await;
            let url = format!("ws://{addr}/mqtt");
            let connect = connect(version, "ws", 0, true);
            let (client, incoming) = t(
                "connect_ws",
                ClientEndpoint::connect_ws(&url, connect, opts()),
            )
            .await
            .unwrap();
            exchange(version, client, incoming).await;
            t("server", srv).await.unwrap();
        }
    }

    /// `ws://` with the high-level `Client`, for both versions.
    #[tokio::test]
    async fn client_over_ws() {
        for version in VERSIONS {
            let (addr, srv) = echo_server().await;
            let options = mqtt_tokio::ClientOptions::new(&format!("ws://{addr}"))
                .unwrap()
                .client_id("ws")
                .version(version);
            client_exchange(options).await;
            t("server", srv).await.unwrap();
        }
    }

    /// A client that does not offer the subprotocol `mqtt` is refused
    /// [MQTT-6.0.0-4].
    #[tokio::test]
    async fn websocket_without_mqtt_subprotocol_is_refused() {
        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let srv = tokio::spawn(async move { server.accept_ws().await.map(drop) });
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let r = t(
            "handshake",
            tokio_tungstenite::client_async(format!("ws://{addr}/mqtt"), tcp),
        )
        .await;
        assert!(r.is_err(), "the upgrade must be refused");
        assert!(t("server", srv).await.unwrap().is_err());
    }

    /// A raw WebSocket client of `addr` that offers the subprotocols `x`
    /// and `mqtt`, as a peer written by others could; checks that the server
    /// selected `mqtt` [MQTT-6.0.0-4].
    async fn raw_ws_client(addr: SocketAddr) -> WebSocketStream<TcpStream> {
        let mut request = format!("ws://{addr}/mqtt").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "x, mqtt".parse().unwrap());
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (ws, response) = t("handshake", tokio_tungstenite::client_async(request, tcp))
            .await
            .unwrap();
        let selected = response.headers().get("Sec-WebSocket-Protocol");
        assert_eq!(selected.map(|v| v.as_bytes()), Some(&b"mqtt"[..]));
        ws
    }

    /// The packets, encoded one after the other.
    fn wire(packets: &[GenericPacket]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for p in packets {
            p.encode(&mut bytes).unwrap();
        }
        bytes
    }

    /// Sends `bytes` in one binary frame per range of `cuts`, and the bytes
    /// after the last cut in a last frame.
    async fn send_frames<S>(ws: &mut WebSocketStream<S>, bytes: &[u8], cuts: &[usize])
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let mut from = 0;
        for &to in cuts.iter().chain([&bytes.len()]) {
            let frame = Bytes::copy_from_slice(&bytes[from..to]);
            t("send frame", ws.send(Message::Binary(frame)))
                .await
                .unwrap();
            from = to;
        }
    }

    /// Reads binary frames until `decoder` has a whole packet.
    async fn recv_packet<S>(
        ws: &mut WebSocketStream<S>,
        decoder: &mut Decoder,
        buf: &mut BytesMut,
    ) -> GenericPacket
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        loop {
            if let Some(p) = decoder.decode(buf).unwrap() {
                return p;
            }
            match t("frame", ws.next()).await {
                Some(Ok(Message::Binary(data))) => buf.extend_from_slice(&data),
                other => panic!("expected a binary frame, got {other:?}"),
            }
        }
    }

    /// Four QoS 0 PUBLISHes `p0`..`p3`, and cuts of their bytes into frames
    /// that hold the first byte of `p0`; the rest of `p0`, `p1` and the start
    /// of `p2`; the rest of `p2` and `p3`.
    fn unaligned_publishes(version: ProtocolVersion) -> (Vec<u8>, Vec<usize>) {
        let packets: Vec<GenericPacket> = (0..4)
            .map(|i| publish(version, &format!("p{i}"), QoS::AtMostOnce, None, b"xyz"))
            .collect();
        let bytes = wire(&packets);
        let len = packets[0].encoded_len();
        (bytes, vec![1, 2 * len + 3])
    }

    /// The topics of the next `n` PUBLISHes.
    async fn topics<R: role::Role>(incoming: &mut Incoming<R>, n: usize) -> Vec<String> {
        let mut topics = Vec::new();
        for _ in 0..n {
            topics.push(next_publish(incoming).await.0);
        }
        topics
    }

    /// The server does not assume that packets are aligned on frame
    /// boundaries [MQTT-6.0.0-2]: a CONNECT sent one byte per frame, then
    /// frames that hold part of a packet, several packets, and the end of
    /// one with the start of the next, all arrive whole and in order.
    #[tokio::test]
    async fn websocket_server_reads_packets_across_frames() {
        for version in VERSIONS {
            let server = Server::bind("127.0.0.1:0")
                .await
                .unwrap()
                .with_options(opts());
            let addr = server.local_addr().unwrap();
            let srv = tokio::spawn(async move {
                let (endpoint, mut incoming, _) = server.accept_ws().await.unwrap();
                let c = t("CONNECT", incoming.recv()).await.expect("CONNECT");
                assert_eq!(c.packet_type(), PacketType::Connect);
                endpoint.send_generic(connack(version, None)).await.unwrap();
                topics(&mut incoming, 4).await
            });
            let mut ws = raw_ws_client(addr).await;
            let connect = wire(&[connect(version, "frames", 0, true)]);
            let cuts: Vec<usize> = (1..connect.len()).collect();
            send_frames(&mut ws, &connect, &cuts).await;
            let mut decoder = Decoder::new(version);
            let connack = recv_packet(&mut ws, &mut decoder, &mut BytesMut::new()).await;
            assert_eq!(connack.packet_type(), PacketType::Connack);
            let (bytes, cuts) = unaligned_publishes(version);
            send_frames(&mut ws, &bytes, &cuts).await;
            let got = t("server", srv).await.unwrap();
            assert_eq!(got, ["p0", "p1", "p2", "p3"], "{version:?}");
        }
    }

    /// The client offers the subprotocol `mqtt` [MQTT-6.0.0-3], and does not
    /// assume that packets are aligned on frame boundaries [MQTT-6.0.0-2]: a
    /// server written with tungstenite alone records the offer, then sends
    /// CONNACK in two frames and PUBLISHes across frames; all arrive.
    #[tokio::test]
    async fn websocket_client_offers_mqtt_and_reads_packets_across_frames() {
        use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

        for version in VERSIONS {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let srv = tokio::spawn(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                let mut offered = Vec::new();
                // The callback's type is tungstenite's, error response and all.
                #[allow(clippy::result_large_err)]
                let record = |request: &Request, mut response: Response| {
                    for value in request.headers().get_all("Sec-WebSocket-Protocol") {
                        let value = value.to_str().unwrap();
                        offered.extend(value.split(',').map(|p| p.trim().to_string()));
                    }
                    response
                        .headers_mut()
                        .insert("Sec-WebSocket-Protocol", "mqtt".parse().unwrap());
                    Ok(response)
                };
                let mut ws = tokio_tungstenite::accept_hdr_async(tcp, record)
                    .await
                    .unwrap();
                let mut decoder = Decoder::detect_version();
                let c = recv_packet(&mut ws, &mut decoder, &mut BytesMut::new()).await;
                assert_eq!(c.packet_type(), PacketType::Connect);
                let connack = wire(&[connack(version, None)]);
                send_frames(&mut ws, &connack, &[1]).await;
                let (bytes, cuts) = unaligned_publishes(version);
                send_frames(&mut ws, &bytes, &cuts).await;
                // Until the client closes.
                while let Some(Ok(_)) = ws.next().await {}
                offered
            });
            let url = format!("ws://{addr}/mqtt");
            let connect = connect(version, "frames", 0, true);
            let (client, mut incoming) = t(
                "connect_ws",
                ClientEndpoint::connect_ws(&url, connect, opts()),
            )
            .await
            .unwrap();
            let got = topics(&mut incoming, 4).await;
            assert_eq!(got, ["p0", "p1", "p2", "p3"], "{version:?}");
            t("close", client.close()).await.unwrap();
            let offered = t("server", srv).await.unwrap();
            assert!(offered.iter().any(|p| p == "mqtt"), "offered {offered:?}");
        }
    }

    /// A text frame closes the connection [MQTT-6.0.0-1].
    #[tokio::test]
    async fn websocket_text_frame_closes() {
        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let srv = tokio::spawn(async move {
            let (_endpoint, mut incoming, _) = server.accept_ws().await.unwrap();
            while incoming.recv().await.is_some() {}
            incoming.close_reason().map(|e| e.io_kind())
        });
        let mut ws = raw_ws_client(addr).await;
        t("send text", ws.send(Message::text("\u{10}\u{0}")))
            .await
            .unwrap();
        let kind = t("server end", srv).await.unwrap();
        assert_eq!(kind, Some(std::io::ErrorKind::InvalidData));
    }
}
