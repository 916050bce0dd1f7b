//! TLS (feature `tls`) and WebSocket (feature `websocket`) transports on
//! loopback: a client and a server endpoint of this crate exchange QoS 1
//! messages both ways, for both versions.
#![cfg(any(feature = "tls", feature = "websocket"))]

mod common;

use common::*;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{ProtocolVersion, QoS};
use mqtt_core::role;
use mqtt_tokio::{Client, Incoming, ServerEndpoint};

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
        .publish_generic(publish(version, "echo", QoS::AtLeastOnce, Some(1), &body))
        .await
        .unwrap();
    while incoming.recv().await.is_some() {}
}

/// The client side: publishes, and receives the echo.
async fn exchange(version: ProtocolVersion, client: Client, mut incoming: Incoming<role::Client>) {
    t(
        "publish",
        client.publish_generic(publish(
            version,
            "t",
            QoS::AtLeastOnce,
            Some(1),
            b"over the transport",
        )),
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

    #[tokio::test]
    async fn tls_loopback_both_versions() {
        let (server_config, client_config) = configs();
        for version in VERSIONS {
            let server = Server::bind("127.0.0.1:0")
                .await
                .unwrap()
                .with_options(opts());
            let addr = server.local_addr().unwrap();
            let acceptor = TlsAcceptor::from(server_config.clone());
            let srv = tokio::spawn(async move {
                let (endpoint, incoming, _) = server.accept_tls(&acceptor).await.unwrap();
                serve_echo(endpoint, incoming).await;
            });
            let connect = connect(version, "tls", 0, true);
            let (client, incoming) = t(
                "connect_tls",
                Client::connect_tls(addr, "localhost", client_config.clone(), connect, opts()),
            )
            .await
            .unwrap();
            exchange(version, client, incoming).await;
            t("server", srv).await.unwrap();
        }
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
            Client::connect_tls(addr, "localhost", other_client, connect, opts()),
        )
        .await;
        assert!(matches!(r, Err(mqtt_tokio::Error::Io(_))), "{r:?}");
    }
}

#[cfg(feature = "websocket")]
mod websocket {
    use super::*;
    use mqtt_tokio::Server;

    #[tokio::test]
    async fn websocket_loopback_both_versions() {
        for version in VERSIONS {
            let server = Server::bind("127.0.0.1:0")
                .await
                .unwrap()
                .with_options(opts());
            let addr = server.local_addr().unwrap();
            let srv = tokio::spawn(async move {
                let (endpoint, incoming, _) = server.accept_ws().await.unwrap();
                serve_echo(endpoint, incoming).await;
            });
            let url = format!("ws://{addr}/mqtt");
            let connect = connect(version, "ws", 0, true);
            let (client, incoming) = t("connect_ws", Client::connect_ws(&url, connect, opts()))
                .await
                .unwrap();
            exchange(version, client, incoming).await;
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

    /// A text frame closes the connection [MQTT-6.0.0-1].
    #[tokio::test]
    async fn websocket_text_frame_closes() {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        use tokio_tungstenite::tungstenite::Message;

        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let srv = tokio::spawn(async move {
            let (_endpoint, mut incoming, _) = server.accept_ws().await.unwrap();
            while incoming.recv().await.is_some() {}
            incoming.close_reason().map(|e| e.io_kind())
        });
        let mut request = format!("ws://{addr}/mqtt").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "mqtt".parse().unwrap());
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut ws, _) = t("handshake", tokio_tungstenite::client_async(request, tcp))
            .await
            .unwrap();
        t("send text", ws.send(Message::text("\u{10}\u{0}")))
            .await
            .unwrap();
        let kind = t("server end", srv).await.unwrap();
        assert_eq!(kind, Some(std::io::ErrorKind::InvalidData));
    }
}
