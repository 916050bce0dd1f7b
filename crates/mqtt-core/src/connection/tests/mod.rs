//! Unit tests of the connection, one per rule it enforces, citing the
//! statement. Whole flows through a simulated pair are in `tests/`.

mod ack;
mod alias;
mod auth;
mod fit;
mod flow;
mod keep_alive;
mod limits;
mod reconnect;
mod robust;
mod state;

use core::time::Duration;

use bytes::BytesMut;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, Encode, GenericPacket, ProtocolVersion, QoS};

use crate::role::{Client, Server};
use crate::{
    AckPolicy, Connection, ConnectionOptions, ConnectionState, Event, GenericEvent, Role, SendError,
};

pub(super) const V3: ProtocolVersion = ProtocolVersion::V3_1_1;
pub(super) const V5: ProtocolVersion = ProtocolVersion::V5_0;

/// Encodes packets into one buffer.
pub(super) fn wire<I: IntoIterator<Item = GenericPacket>>(packets: I) -> BytesMut {
    let mut buf = BytesMut::new();
    for p in packets {
        p.encode(&mut buf).unwrap();
    }
    buf
}

/// Feeds `packets` to `conn` as received bytes.
pub(super) fn feed<R: Role, I: IntoIterator<Item = GenericPacket>>(
    conn: &mut Connection<R>,
    packets: I,
) -> Vec<Event> {
    let mut buf = wire(packets);
    conn.recv(&mut buf)
}

/// Sends `packet`, which the connection must accept: its events.
#[track_caller]
pub(super) fn send<R: Role>(conn: &mut Connection<R>, packet: GenericPacket) -> Vec<Event> {
    conn.send(packet)
        .unwrap_or_else(|e| panic!("refused: {e:?} ({})", e.rule()))
}

/// Sends `packet`, which the connection must refuse: returns why, having
/// checked that nothing changed: no event appended, and the whole state of
/// the connection (session, identifiers, timers, aliases) as it was.
#[track_caller]
pub(super) fn refused<R: Role>(conn: &mut Connection<R>, packet: GenericPacket) -> SendError {
    let before = format!("{conn:?}");
    let mut events = vec![GenericEvent::RequestClose];
    let error = conn
        .send_into(packet, &mut events)
        .expect_err("the packet is refused");
    assert_eq!(events, [GenericEvent::RequestClose], "no event appended");
    assert_eq!(format!("{conn:?}"), before, "{error:?} changed nothing");
    error
}

/// The packet identifiers the events report released.
pub(super) fn released(events: &[Event]) -> Vec<u16> {
    events
        .iter()
        .filter_map(|e| match e {
            GenericEvent::NotifyPacketIdReleased(id) => Some(*id),
            _ => None,
        })
        .collect()
}

/// The packets the events ask to send.
pub(super) fn sent(events: &[Event]) -> Vec<GenericPacket> {
    events
        .iter()
        .filter_map(|e| match e {
            GenericEvent::RequestSendPacket { packet, .. } => Some(packet.clone()),
            _ => None,
        })
        .collect()
}

/// The packets the events deliver.
pub(super) fn received(events: &[Event]) -> Vec<GenericPacket> {
    events
        .iter()
        .filter_map(|e| match e {
            GenericEvent::NotifyPacketReceived(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// The errors the events report.
pub(super) fn errors(events: &[Event]) -> Vec<crate::ConnectionError> {
    events
        .iter()
        .filter_map(|e| match e {
            GenericEvent::NotifyError(err) => Some(err.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn types(packets: &[GenericPacket]) -> Vec<PacketType> {
    packets.iter().map(GenericPacket::packet_type).collect()
}

pub(super) fn closes(events: &[Event]) -> bool {
    events.last() == Some(&GenericEvent::RequestClose)
}

/// The Reason Code of the v5.0 DISCONNECT among the packets sent.
pub(super) fn disconnect_code(events: &[Event]) -> Option<u8> {
    sent(events).iter().find_map(|p| match p {
        GenericPacket::V5_0(v5_0::Packet::Disconnect(d)) => Some(d.reason_code().as_u8()),
        _ => None,
    })
}

/// The Reason Code of the v5.0 CONNACK among the packets sent.
pub(super) fn connack_code(events: &[Event]) -> Option<u8> {
    sent(events).iter().find_map(|p| match p {
        GenericPacket::V5_0(v5_0::Packet::Connack(c)) => Some(c.reason_code().as_u8()),
        GenericPacket::V3_1_1(v3_1_1::Packet::Connack(c)) => Some(c.return_code() as u8),
        _ => None,
    })
}

pub(super) fn connect(version: ProtocolVersion, keep_alive: u16) -> GenericPacket {
    match version {
        V3 => v3_1_1::Packet::from(
            v3_1_1::Connect::builder()
                .try_client_id("c")
                .unwrap()
                .keep_alive(keep_alive)
                .build()
                .unwrap(),
        )
        .into(),
        _ => connect_v5(keep_alive, v5_0::ConnectProperties::default(), true),
    }
}

pub(super) fn connect_v5(
    keep_alive: u16,
    properties: v5_0::ConnectProperties,
    clean_start: bool,
) -> GenericPacket {
    v5_0::Packet::from(
        v5_0::Connect::builder()
            .try_client_id("c")
            .unwrap()
            .keep_alive(keep_alive)
            .clean_start(clean_start)
            .properties(properties)
            .build()
            .unwrap(),
    )
    .into()
}

pub(super) fn connack(version: ProtocolVersion) -> GenericPacket {
    match version {
        V3 => v3_1_1::Packet::from(v3_1_1::Connack::builder().build().unwrap()).into(),
        _ => connack_v5(v5_0::ConnackProperties::default()),
    }
}

/// A CONNACK that accepts with Session Present 1.
pub(super) fn connack_present(version: ProtocolVersion) -> GenericPacket {
    match version {
        V3 => v3_1_1::Packet::from(
            v3_1_1::Connack::builder()
                .session_present(true)
                .build()
                .unwrap(),
        )
        .into(),
        _ => v5_0::Packet::from(
            v5_0::Connack::builder()
                .session_present(true)
                .build()
                .unwrap(),
        )
        .into(),
    }
}

pub(super) fn connack_v5(properties: v5_0::ConnackProperties) -> GenericPacket {
    v5_0::Packet::from(
        v5_0::Connack::builder()
            .properties(properties)
            .build()
            .unwrap(),
    )
    .into()
}

pub(super) fn publish(
    version: ProtocolVersion,
    topic: &str,
    qos: QoS,
    id: Option<u16>,
) -> GenericPacket {
    match version {
        V3 => {
            let mut b = v3_1_1::Publish::<u16>::builder()
                .try_topic_name(topic)
                .unwrap()
                .qos(qos)
                .payload(&b"p"[..]);
            if let Some(id) = id {
                b = b.packet_id(id);
            }
            v3_1_1::Packet::from(b.build().unwrap()).into()
        }
        _ => publish_v5(topic, qos, id, v5_0::PublishProperties::default()),
    }
}

pub(super) fn publish_v5(
    topic: &str,
    qos: QoS,
    id: Option<u16>,
    properties: v5_0::PublishProperties,
) -> GenericPacket {
    let mut b = v5_0::Publish::<u16>::builder()
        .try_topic_name(topic)
        .unwrap()
        .qos(qos)
        .payload(&b"p"[..])
        .properties(properties);
    if let Some(id) = id {
        b = b.packet_id(id);
    }
    v5_0::Packet::from(b.build().unwrap()).into()
}

/// A v5.0 PUBLISH to `topic` (empty: the alias alone) with the Topic Alias
/// `alias` (0: none).
pub(super) fn publish_aliased(topic: &str, alias: u16, qos: QoS, id: Option<u16>) -> GenericPacket {
    let name = match topic {
        "" => mqtt_codec::TopicName::empty(),
        topic => mqtt_codec::TopicName::new(topic).unwrap(),
    };
    let mut b = v5_0::Publish::<u16>::builder()
        .topic_name(name)
        .qos(qos)
        .payload(&b"p"[..]);
    if let Some(alias) = core::num::NonZeroU16::new(alias) {
        b = b.topic_alias(alias);
    }
    if let Some(id) = id {
        b = b.packet_id(id);
    }
    v5_0::Packet::from(b.build().unwrap()).into()
}

/// The default options: acknowledgements on receipt, PINGREQ answered,
/// PINGRESP awaited for the Keep Alive.
pub(super) fn options() -> ConnectionOptions {
    ConnectionOptions::default()
}

/// Options without automation, for tests where the application answers:
/// manual acknowledgements, no automatic PINGRESP, no PINGRESP timeout.
pub(super) fn manual() -> ConnectionOptions {
    ConnectionOptions {
        ack: AckPolicy::Manual,
        auto_ping_response: false,
        pingresp_recv_timeout: Some(Duration::ZERO),
        ..Default::default()
    }
}

/// A client that sent `connect` and received `connack`.
pub(super) fn client_with(
    version: ProtocolVersion,
    options: ConnectionOptions,
    connect: GenericPacket,
    connack: GenericPacket,
) -> Connection<Client> {
    let mut c = Connection::<Client>::with_options(version, options);
    let events = send(&mut c, connect);
    assert!(errors(&events).is_empty(), "{events:?}");
    let events = feed(&mut c, [connack]);
    assert!(errors(&events).is_empty(), "{events:?}");
    assert_eq!(c.state(), ConnectionState::Connected);
    c
}

/// A connected client with the default CONNECT and CONNACK.
pub(super) fn client(version: ProtocolVersion) -> Connection<Client> {
    client_with(version, options(), connect(version, 0), connack(version))
}

/// A server that received `connect` and sent `connack`.
pub(super) fn server_with(
    version: ProtocolVersion,
    options: ConnectionOptions,
    connect: GenericPacket,
    connack: GenericPacket,
) -> Connection<Server> {
    let mut s = Connection::<Server>::with_options(version, options);
    let events = feed(&mut s, [connect]);
    assert!(errors(&events).is_empty(), "{events:?}");
    let events = send(&mut s, connack);
    assert!(errors(&events).is_empty(), "{events:?}");
    assert_eq!(s.state(), ConnectionState::Connected);
    s
}

/// A persistent CONNECT: v3.1.1 Clean Session 0, v5.0 Clean Start 0 with the
/// Session Expiry Interval `expiry`.
pub(super) fn persistent_connect(version: ProtocolVersion, expiry: u32) -> GenericPacket {
    match version {
        V3 => v3_1_1::Packet::from(
            v3_1_1::Connect::builder()
                .try_client_id("c")
                .unwrap()
                .clean_session(false)
                .build()
                .unwrap(),
        )
        .into(),
        _ => {
            let properties = v5_0::ConnectProperties {
                session_expiry_interval: Some(expiry),
                ..Default::default()
            };
            connect_v5(0, properties, false)
        }
    }
}

/// A connected server with the default CONNECT and CONNACK.
pub(super) fn server(version: ProtocolVersion) -> Connection<Server> {
    server_with(version, options(), connect(version, 0), connack(version))
}
