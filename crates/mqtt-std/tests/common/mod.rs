//! Packets of either version built from the few fields the tests vary,
//! version-neutral views of what arrives, and endpoints with timeouts.
#![allow(dead_code)]

pub mod delivery;

use std::net::{SocketAddr, TcpListener};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, ProtocolVersion, QoS, TopicFilter};
use mqtt_core::{AckPolicy, ConnectionOptions};
use mqtt_std::{ClientEndpoint, ServerEndpoint};

/// Both versions.
pub const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];
/// The bound on every blocking step.
pub const STEP: Duration = Duration::from_secs(10);
/// The bound on a whole test.
pub const TEST: Duration = Duration::from_secs(60);

/// Options with automatic acknowledgements and PINGRESP (the defaults).
pub fn auto() -> ConnectionOptions {
    let mut options = ConnectionOptions::default();
    options.ack = AckPolicy::OnReceipt;
    options.auto_ping_response = true;
    options
}

/// What a test varies in a CONNECT.
#[derive(Clone)]
pub struct ConnectSpec {
    pub client_id: String,
    pub clean: bool,
    pub keep_alive: u16,
    /// Will topic, payload, QoS.
    pub will: Option<(String, Vec<u8>, QoS)>,
}

impl ConnectSpec {
    pub fn new(client_id: &str) -> Self {
        ConnectSpec {
            client_id: client_id.into(),
            clean: true,
            keep_alive: 60,
            will: None,
        }
    }
}

/// A CONNECT; on v5.0 a persistent session (`clean == false`) gets a
/// Session Expiry Interval of one hour, so that it outlives the connection
/// as on v3.1.1.
pub fn connect(version: ProtocolVersion, spec: &ConnectSpec) -> GenericPacket {
    match version {
        ProtocolVersion::V3_1_1 => {
            let mut b = v3_1_1::Connect::builder();
            b.try_client_id(spec.client_id.as_str())
                .expect("client id")
                .clean_session(spec.clean)
                .keep_alive(spec.keep_alive);
            if let Some((topic, payload, qos)) = &spec.will {
                let will = v3_1_1::Will::builder()
                    .try_topic(topic.as_str())
                    .expect("will topic")
                    .try_message(Bytes::from(payload.clone()))
                    .expect("will message")
                    .qos(*qos)
                    .build()
                    .expect("will");
                b.will(will);
            }
            v3_1_1::Packet::from(b.build().expect("v3.1.1 CONNECT")).into()
        }
        ProtocolVersion::V5_0 => {
            let mut b = v5_0::Connect::builder();
            b.try_client_id(spec.client_id.as_str())
                .expect("client id")
                .clean_start(spec.clean)
                .keep_alive(spec.keep_alive)
                .properties(v5_0::ConnectProperties {
                    session_expiry_interval: (!spec.clean).then_some(3600),
                    ..Default::default()
                });
            if let Some((topic, payload, qos)) = &spec.will {
                let will = v5_0::Will::builder()
                    .try_topic(topic.as_str())
                    .expect("will topic")
                    .try_payload(Bytes::from(payload.clone()))
                    .expect("will payload")
                    .qos(*qos)
                    .build()
                    .expect("will");
                b.will(will);
            }
            v5_0::Packet::from(b.build().expect("v5.0 CONNECT")).into()
        }
    }
}

/// A CONNACK accepting the connection.
pub fn connack(version: ProtocolVersion) -> GenericPacket {
    match version {
        ProtocolVersion::V3_1_1 => {
            v3_1_1::Packet::from(v3_1_1::Connack::builder().build().expect("CONNACK")).into()
        }
        ProtocolVersion::V5_0 => {
            v5_0::Packet::from(v5_0::Connack::builder().build().expect("CONNACK")).into()
        }
    }
}

/// A PUBLISH; `packet_id` is required for QoS 1 and 2.
pub fn publish(
    version: ProtocolVersion,
    topic: &str,
    qos: QoS,
    packet_id: Option<u16>,
    payload: &[u8],
    retain: bool,
) -> GenericPacket {
    let payload = Bytes::copy_from_slice(payload);
    match version {
        ProtocolVersion::V3_1_1 => {
            let mut b = v3_1_1::Publish::<u16>::builder()
                .try_topic_name(topic)
                .expect("topic")
                .qos(qos)
                .retain(retain)
                .payload(payload);
            if let Some(id) = packet_id {
                b = b.packet_id(id);
            }
            v3_1_1::Packet::from(b.build().expect("v3.1.1 PUBLISH")).into()
        }
        ProtocolVersion::V5_0 => {
            let mut b = v5_0::Publish::<u16>::builder()
                .try_topic_name(topic)
                .expect("topic")
                .qos(qos)
                .retain(retain)
                .payload(payload);
            if let Some(id) = packet_id {
                b = b.packet_id(id);
            }
            v5_0::Packet::from(b.build().expect("v5.0 PUBLISH")).into()
        }
    }
}

/// A SUBSCRIBE to `filters`, each with maximum QoS `qos`.
pub fn subscribe(version: ProtocolVersion, id: u16, filters: &[&str], qos: QoS) -> GenericPacket {
    match version {
        ProtocolVersion::V3_1_1 => {
            let mut b = v3_1_1::Subscribe::<u16>::builder();
            b.packet_id(id);
            for f in filters {
                let filter = TopicFilter::new(*f).expect("filter");
                b.subscription(v3_1_1::Subscription::new(filter, qos));
            }
            v3_1_1::Packet::from(b.build().expect("v3.1.1 SUBSCRIBE")).into()
        }
        ProtocolVersion::V5_0 => {
            let mut b = v5_0::Subscribe::<u16>::builder();
            b.packet_id(id);
            for f in filters {
                let filter = TopicFilter::new(*f).expect("filter");
                b.subscription((filter, v5_0::SubscriptionOptions::new(qos)));
            }
            v5_0::Packet::from(b.build().expect("v5.0 SUBSCRIBE")).into()
        }
    }
}

/// A received PUBLISH, version-neutral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
}

/// The PUBLISH in `packet`, if it is one.
pub fn as_publish(packet: &GenericPacket) -> Option<Msg> {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => Some(Msg {
            topic: p.topic_name().to_string(),
            payload: p.payload().to_vec(),
            qos: p.qos(),
            retain: p.retain(),
        }),
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => Some(Msg {
            topic: p.topic_name().to_string(),
            payload: p.payload().to_vec(),
            qos: p.qos(),
            retain: p.retain(),
        }),
        _ => None,
    }
}

/// Receives until a packet of type `ty` arrives (others are dropped);
/// panics after [`STEP`].
pub fn recv_type<S>(
    ep: &mut mqtt_std::GenericEndpoint<mqtt_core::role::Client, S>,
    ty: PacketType,
) -> GenericPacket
where
    S: std::io::Read + std::io::Write + mqtt_std::Deadline,
{
    let deadline = std::time::Instant::now() + STEP;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let packet = ep
            .recv_timeout(left)
            .expect("recv")
            .unwrap_or_else(|| panic!("no {ty:?} within {STEP:?}"));
        if packet.packet_type() == ty {
            return packet;
        }
    }
}

/// Receives the next PUBLISH, skipping other packets; panics after
/// [`STEP`].
pub fn recv_publish<S>(ep: &mut mqtt_std::GenericEndpoint<mqtt_core::role::Client, S>) -> Msg
where
    S: std::io::Read + std::io::Write + mqtt_std::Deadline,
{
    as_publish(&recv_type(ep, PacketType::Publish)).expect("a PUBLISH")
}

/// A client connected to `addr` with automatic acknowledgements.
pub fn client(addr: SocketAddr, version: ProtocolVersion, spec: &ConnectSpec) -> ClientEndpoint {
    client_with(addr, version, spec, auto())
}

/// A client connected to `addr` with `options`.
pub fn client_with(
    addr: SocketAddr,
    version: ProtocolVersion,
    spec: &ConnectSpec,
    options: ConnectionOptions,
) -> ClientEndpoint {
    let (mut ep, connack) = ClientEndpoint::connect(addr, connect(version, spec), options, STEP)
        .unwrap_or_else(|e| panic!("connect {version:?} to {addr}: {e}"));
    assert_eq!(connack.packet_type(), PacketType::Connack);
    ep.set_timeout(Some(STEP));
    ep
}

/// Subscribes `ep` to `filters` and waits for the SUBACK.
pub fn subscribe_wait(ep: &mut ClientEndpoint, filters: &[&str], qos: QoS) {
    let version = ep.version().expect("version");
    let id = ep.acquire_packet_id().expect("packet id");
    ep.send_generic(subscribe(version, id, filters, qos))
        .expect("SUBSCRIBE");
    recv_type(ep, PacketType::Suback);
}

/// Publishes on `ep` with a packet identifier when QoS > 0.
pub fn publish_on(ep: &mut ClientEndpoint, topic: &str, qos: QoS, payload: &[u8], retain: bool) {
    let version = ep.version().expect("version");
    let id = (qos != QoS::AtMostOnce).then(|| ep.acquire_packet_id().expect("packet id"));
    ep.send_generic(publish(version, topic, qos, id, payload, retain))
        .expect("PUBLISH");
}

/// A listener on a free loopback port.
pub fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

/// Accepts one client, answers its CONNECT, and runs `body` on the
/// endpoint in a thread.
pub fn serve<T: Send + 'static>(
    listener: TcpListener,
    options: ConnectionOptions,
    body: impl FnOnce(&mut ServerEndpoint) -> T + Send + 'static,
) -> JoinHandle<T> {
    std::thread::spawn(move || {
        let (mut server, connect) =
            ServerEndpoint::accept(&listener, options, STEP).expect("accept");
        assert_eq!(connect.packet_type(), PacketType::Connect);
        let version = server.version().expect("version detected from CONNECT");
        assert_eq!(connect.version(), version);
        server.set_timeout(Some(STEP));
        server.send_generic(connack(version)).expect("CONNACK");
        body(&mut server)
    })
}

/// Receives on `server` until the client disconnects; returns the types of
/// the packets received.
pub fn recv_until_closed(server: &mut ServerEndpoint) -> Vec<PacketType> {
    let mut types = Vec::new();
    loop {
        match server.recv() {
            Ok(p) => types.push(p.packet_type()),
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::ConnectionAborted, "{e}");
                return types;
            }
        }
    }
}
