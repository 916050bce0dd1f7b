//! Helpers of the integration tests: timeouts on every await, packet
//! builders of both versions, a loopback client/server pair.
#![allow(dead_code)]

pub mod delivery;
pub mod proxy;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use mqtt_codec::properties::ConnackProperties;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, Message, ProtocolVersion, QoS, TopicName};
use mqtt_core::{role, AckPolicy, ConnectionOptions};
use mqtt_tokio::{ClientEndpoint, Incoming, Server, ServerEndpoint};

/// Every await of the tests is bounded by this.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Runs `test` on the runtime `#[tokio::test(flavor = "multi_thread")]`
/// builds (two workers), its panic caught outside it: the caller can print
/// what a broker logged, then resume the panic.
pub fn block_on_two_workers<F: Future>(test: F) -> std::thread::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(test)))
}

/// `fut`, or a panic naming `what` after [`LIMIT`].
pub async fn t<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(LIMIT, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// The next item of `stream`, through its `Stream` impl.
pub async fn next<S: futures_core::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

/// Automatic acknowledgements and PINGRESP (the defaults).
pub fn opts() -> ConnectionOptions {
    let mut o = ConnectionOptions::default();
    o.ack = AckPolicy::OnReceipt;
    o.auto_ping_response = true;
    o
}

/// A message to `topic`.
pub fn message(topic: &str, qos: QoS, payload: &[u8]) -> Message {
    Message::builder()
        .topic_name(TopicName::new(topic).unwrap())
        .qos(qos)
        .payload(Bytes::copy_from_slice(payload))
        .build()
        .unwrap()
}

pub fn connect(version: ProtocolVersion, id: &str, keep_alive: u16, clean: bool) -> GenericPacket {
    match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Connect::builder()
                .try_client_id(id)
                .unwrap()
                .keep_alive(keep_alive)
                .clean_session(clean)
                .build()
                .unwrap(),
        )
        .into(),
        _ => v5_0::Packet::from(
            v5_0::Connect::builder()
                .try_client_id(id)
                .unwrap()
                .keep_alive(keep_alive)
                .clean_start(clean)
                .build()
                .unwrap(),
        )
        .into(),
    }
}

/// A CONNECT with every option the broker tests use.
#[derive(Debug, Clone, Default)]
pub struct ConnectSpec<'a> {
    pub id: &'a str,
    pub keep_alive: u16,
    /// Keep the session (v3.1.1 clean_session 0; v5.0 Clean Start 0 and a
    /// Session Expiry Interval of 300 s).
    pub persistent: bool,
    pub will: Option<(&'a str, &'a [u8])>,
    /// v5.0 Receive Maximum.
    pub receive_maximum: Option<u16>,
    /// v5.0 Topic Alias Maximum.
    pub topic_alias_maximum: Option<u16>,
}

pub fn connect_spec(version: ProtocolVersion, spec: &ConnectSpec<'_>) -> GenericPacket {
    match version {
        ProtocolVersion::V3_1_1 => {
            let mut b = v3_1_1::Connect::builder();
            b.try_client_id(spec.id)
                .unwrap()
                .keep_alive(spec.keep_alive)
                .clean_session(!spec.persistent);
            if let Some((topic, payload)) = spec.will {
                let will = v3_1_1::Will::builder()
                    .try_topic(topic)
                    .unwrap()
                    .try_message(payload)
                    .unwrap()
                    .qos(QoS::AtLeastOnce)
                    .build()
                    .unwrap();
                b.will(will);
            }
            v3_1_1::Packet::from(b.build().unwrap()).into()
        }
        _ => {
            let mut b = v5_0::Connect::builder();
            b.try_client_id(spec.id)
                .unwrap()
                .keep_alive(spec.keep_alive)
                .clean_start(!spec.persistent)
                .properties(mqtt_codec::properties::ConnectProperties {
                    session_expiry_interval: spec.persistent.then_some(300),
                    receive_maximum: spec.receive_maximum.and_then(std::num::NonZeroU16::new),
                    topic_alias_maximum: spec.topic_alias_maximum,
                    ..Default::default()
                });
            if let Some((topic, payload)) = spec.will {
                let will = v5_0::Will::builder()
                    .try_topic(topic)
                    .unwrap()
                    .try_payload(payload)
                    .unwrap()
                    .qos(QoS::AtLeastOnce)
                    .build()
                    .unwrap();
                b.will(Box::new(will));
            }
            v5_0::Packet::from(b.build().unwrap()).into()
        }
    }
}

pub fn publish(
    version: ProtocolVersion,
    topic: &str,
    qos: QoS,
    id: Option<u16>,
    payload: &[u8],
) -> GenericPacket {
    publish_r(version, topic, qos, id, payload, false)
}

pub fn publish_r(
    version: ProtocolVersion,
    topic: &str,
    qos: QoS,
    id: Option<u16>,
    payload: &[u8],
    retain: bool,
) -> GenericPacket {
    let payload = Bytes::copy_from_slice(payload);
    match version {
        ProtocolVersion::V3_1_1 => {
            let mut b = v3_1_1::Publish::builder()
                .try_topic_name(topic)
                .unwrap()
                .qos(qos)
                .retain(retain)
                .payload(payload);
            if let Some(id) = id {
                b = b.packet_id(id);
            }
            v3_1_1::Packet::from(b.build().unwrap()).into()
        }
        _ => {
            let mut b = v5_0::Publish::builder()
                .try_topic_name(topic)
                .unwrap()
                .qos(qos)
                .retain(retain)
                .payload(payload);
            if let Some(id) = id {
                b = b.packet_id(id);
            }
            v5_0::Packet::from(b.build().unwrap()).into()
        }
    }
}

pub fn subscribe(version: ProtocolVersion, id: u16, filters: &[(&str, QoS)]) -> GenericPacket {
    match version {
        ProtocolVersion::V3_1_1 => {
            let mut b = v3_1_1::Subscribe::builder();
            b.packet_id(id);
            for (f, q) in filters {
                b.subscription((mqtt_codec::TopicFilter::new(*f).unwrap(), *q));
            }
            v3_1_1::Packet::from(b.build().unwrap()).into()
        }
        _ => {
            let mut b = v5_0::Subscribe::builder();
            b.packet_id(id);
            for (f, q) in filters {
                b.try_subscription(*f, *q).unwrap();
            }
            v5_0::Packet::from(b.build().unwrap()).into()
        }
    }
}

/// The PUBLISH in `p`, as (topic, qos, payload, retain).
pub fn as_publish(p: &GenericPacket) -> Option<(String, QoS, Bytes, bool)> {
    match p {
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => Some((
            p.topic_name().to_string(),
            p.qos(),
            p.payload_bytes(),
            p.retain(),
        )),
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => Some((
            p.topic_name().to_string(),
            p.qos(),
            p.payload_bytes(),
            p.retain(),
        )),
        _ => None,
    }
}

/// The next PUBLISH, skipping other packets.
pub async fn next_publish<R: mqtt_core::role::Role>(
    incoming: &mut Incoming<R, u16>,
) -> (String, QoS, Bytes, bool) {
    loop {
        let p = t("next publish", incoming.recv())
            .await
            .expect("closed while waiting for a PUBLISH");
        if let Some(p) = as_publish(&p) {
            return p;
        }
    }
}

pub fn connack(version: ProtocolVersion, receive_maximum: Option<u16>) -> GenericPacket {
    match version {
        ProtocolVersion::V3_1_1 => {
            v3_1_1::Packet::from(v3_1_1::Connack::builder().build().unwrap()).into()
        }
        _ => {
            let props = ConnackProperties {
                receive_maximum: receive_maximum.and_then(std::num::NonZeroU16::new),
                ..Default::default()
            };
            v5_0::Packet::from(v5_0::Connack::builder().properties(props).build().unwrap()).into()
        }
    }
}

/// A client connected to a server endpoint of our own on loopback.
pub struct Pair {
    pub client: ClientEndpoint,
    pub client_in: Incoming<role::Client>,
    pub server: ServerEndpoint,
    pub server_in: Incoming<role::Server>,
}

/// Connects a client of `version` to a loopback [`Server`]; the server's
/// CONNACK announces `receive_maximum` (v5.0).
pub async fn pair(
    version: ProtocolVersion,
    server_opts: ConnectionOptions,
    receive_maximum: Option<u16>,
) -> Pair {
    pair_with(version, server_opts, opts(), receive_maximum).await
}

/// [`pair`] with the client's options.
pub async fn pair_with(
    version: ProtocolVersion,
    server_opts: ConnectionOptions,
    client_opts: ConnectionOptions,
    receive_maximum: Option<u16>,
) -> Pair {
    let server = Server::bind("127.0.0.1:0")
        .await
        .unwrap()
        .with_options(server_opts);
    let addr = server.local_addr().unwrap();
    let accept = tokio::spawn(async move {
        let (endpoint, mut incoming, _) = server.accept().await.unwrap();
        let first = incoming.recv().await.expect("CONNECT");
        assert_eq!(first.packet_type(), mqtt_codec::wire::PacketType::Connect);
        assert_eq!(first.version(), version);
        endpoint
            .send_generic(connack(version, receive_maximum))
            .await
            .unwrap();
        (endpoint, incoming)
    });
    let connect_packet = connect(version, "loop", 0, true);
    let stream = t("tcp connect", tokio::net::TcpStream::connect(addr))
        .await
        .unwrap();
    let conn = mqtt_core::GenericConnection::with_options(version, client_opts);
    let (client, client_in) = t(
        "mqtt connect",
        ClientEndpoint::connect_with(stream, conn, connect_packet, Default::default()),
    )
    .await
    .unwrap();
    let (server, server_in) = t("accept", accept).await.unwrap();
    Pair {
        client,
        client_in,
        server,
        server_in,
    }
}

/// Answers the CONNECT that comes first on a server connection with a
/// CONNACK.
pub async fn accept(endpoint: &ServerEndpoint, incoming: &mut Incoming<role::Server>) {
    let c = incoming.recv().await.expect("CONNECT");
    endpoint
        .send_generic(connack(c.version(), None))
        .await
        .unwrap();
}
