//! Packets of either version, built from the few fields a flow test varies,
//! and version-neutral views of received packets.

use bytes::Bytes;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{
    v3_1_1, v5_0, GenericPacket, Message, PacketId, ProtocolVersion, QoS, TopicFilter,
};

/// Both versions, for loops over them.
pub const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];

/// A CONNECT with `client_id`, Clean Session / Clean Start, and Keep Alive.
/// On v5.0 with `clean == false` the Session Expiry Interval is set to
/// "never" so that the session outlives the connection, as it does on v3.1.1.
pub fn connect<P: PacketId>(
    version: ProtocolVersion,
    client_id: &str,
    clean: bool,
    keep_alive: u16,
) -> GenericPacket<P> {
    match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Connect::builder()
                .try_client_id(client_id)
                .expect("client id")
                .clean_session(clean)
                .keep_alive(keep_alive)
                .build()
                .expect("v3.1.1 CONNECT"),
        )
        .into(),
        ProtocolVersion::V5_0 => {
            let properties = v5_0::ConnectProperties {
                session_expiry_interval: (!clean).then_some(u32::MAX),
                ..Default::default()
            };
            v5_0::Packet::from(connect_v5(client_id, clean, keep_alive, properties)).into()
        }
    }
}

/// A v5.0 CONNECT with the given properties.
pub fn connect_v5(
    client_id: &str,
    clean: bool,
    keep_alive: u16,
    properties: v5_0::ConnectProperties,
) -> v5_0::Connect {
    v5_0::Connect::builder()
        .try_client_id(client_id)
        .expect("client id")
        .clean_start(clean)
        .keep_alive(keep_alive)
        .properties(properties)
        .build()
        .expect("v5.0 CONNECT")
}

/// A CONNACK accepting the connection.
pub fn connack<P: PacketId>(version: ProtocolVersion, session_present: bool) -> GenericPacket<P> {
    match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Connack::builder()
                .session_present(session_present)
                .build()
                .expect("v3.1.1 CONNACK"),
        )
        .into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(connack_v5(
            session_present,
            v5_0::ConnackProperties::default(),
        ))
        .into(),
    }
}

/// A successful v5.0 CONNACK with the given properties.
pub fn connack_v5(session_present: bool, properties: v5_0::ConnackProperties) -> v5_0::Connack {
    v5_0::Connack::builder()
        .session_present(session_present)
        .properties(properties)
        .build()
        .expect("v5.0 CONNACK")
}

/// A CONNACK refusing the connection as not authorized (v3.1.1 return code
/// 5, v5.0 reason code 0x87).
pub fn connack_refused<P: PacketId>(version: ProtocolVersion) -> GenericPacket<P> {
    match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Connack::builder()
                .return_code(v3_1_1::ConnectReturnCode::NotAuthorized)
                .build()
                .expect("v3.1.1 CONNACK"),
        )
        .into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(
            v5_0::Connack::builder()
                .reason_code(v5_0::ConnectReasonCode::NotAuthorized)
                .build()
                .expect("v5.0 CONNACK"),
        )
        .into(),
    }
}

/// A PUBLISH; `packet_id` is required for QoS 1 and 2.
pub fn publish<P: PacketId>(
    version: ProtocolVersion,
    topic: &str,
    qos: QoS,
    packet_id: Option<P>,
    payload: &[u8],
) -> GenericPacket<P> {
    match version {
        ProtocolVersion::V3_1_1 => {
            let mut b = v3_1_1::Publish::<P>::builder()
                .try_topic_name(topic)
                .expect("topic")
                .qos(qos)
                .payload(Bytes::copy_from_slice(payload));
            if let Some(id) = packet_id {
                b = b.packet_id(id);
            }
            v3_1_1::Packet::from(b.build().expect("v3.1.1 PUBLISH")).into()
        }
        ProtocolVersion::V5_0 => v5_0::Packet::from(publish_v5(
            topic,
            qos,
            packet_id,
            payload,
            v5_0::PublishProperties::default(),
        ))
        .into(),
    }
}

/// An application message: `topic`, `qos`, `payload`, not retained.
pub fn message(topic: &str, qos: QoS, payload: &[u8]) -> Message {
    Message::builder()
        .try_topic_name(topic)
        .expect("topic")
        .qos(qos)
        .payload(Bytes::copy_from_slice(payload))
        .build()
        .expect("message")
}

/// A QoS 1 message to `topic` without payload whose Message Expiry
/// Interval is `seconds` (§3.3.2.3.3).
pub fn expiring(topic: &str, seconds: u32) -> Message {
    Message::builder()
        .try_topic_name(topic)
        .expect("topic")
        .qos(QoS::AtLeastOnce)
        .properties(mqtt_codec::MessageProperties {
            message_expiry_interval: Some(seconds),
            ..Default::default()
        })
        .build()
        .expect("message")
}

/// `packet`, a PUBLISH, with DUP set: as a peer re-sends it.
pub fn with_dup<P: PacketId>(packet: GenericPacket<P>) -> GenericPacket<P> {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(mut p)) => {
            p.set_dup(true);
            GenericPacket::V3_1_1(p.into())
        }
        GenericPacket::V5_0(v5_0::Packet::Publish(mut p)) => {
            p.set_dup(true);
            GenericPacket::V5_0(p.into())
        }
        other => panic!("a PUBLISH expected: {other:?}"),
    }
}

/// A v5.0 PUBLISH with the given properties.
pub fn publish_v5<P: PacketId>(
    topic: &str,
    qos: QoS,
    packet_id: Option<P>,
    payload: &[u8],
    properties: v5_0::PublishProperties,
) -> v5_0::Publish<P> {
    let mut b = v5_0::Publish::<P>::builder()
        .try_topic_name(topic)
        .expect("topic")
        .qos(qos)
        .properties(properties)
        .payload(Bytes::copy_from_slice(payload));
    if let Some(id) = packet_id {
        b = b.packet_id(id);
    }
    b.build().expect("v5.0 PUBLISH")
}

/// A SUBSCRIBE to one filter.
pub fn subscribe<P: PacketId>(
    version: ProtocolVersion,
    packet_id: P,
    filter: &str,
    qos: QoS,
) -> GenericPacket<P> {
    let filter = TopicFilter::new(filter).expect("topic filter");
    match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Subscribe::<P>::builder()
                .packet_id(packet_id)
                .subscription(v3_1_1::Subscription::new(filter, qos))
                .build()
                .expect("v3.1.1 SUBSCRIBE"),
        )
        .into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(
            v5_0::Subscribe::<P>::builder()
                .packet_id(packet_id)
                .subscription((filter, v5_0::SubscriptionOptions::new(qos)))
                .build()
                .expect("v5.0 SUBSCRIBE"),
        )
        .into(),
    }
}

/// A SUBACK granting `qos` to one filter.
pub fn suback<P: PacketId>(version: ProtocolVersion, packet_id: P, qos: QoS) -> GenericPacket<P> {
    match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Suback::<P>::builder()
                .packet_id(packet_id)
                .return_code(v3_1_1::SubackReturnCode::Success(qos))
                .build()
                .expect("v3.1.1 SUBACK"),
        )
        .into(),
        ProtocolVersion::V5_0 => {
            let code = match qos {
                QoS::AtMostOnce => v5_0::SubackReasonCode::GrantedQoS0,
                QoS::AtLeastOnce => v5_0::SubackReasonCode::GrantedQoS1,
                QoS::ExactlyOnce => v5_0::SubackReasonCode::GrantedQoS2,
            };
            v5_0::Packet::from(
                v5_0::Suback::<P>::builder()
                    .packet_id(packet_id)
                    .reason_code(code)
                    .build()
                    .expect("v5.0 SUBACK"),
            )
            .into()
        }
    }
}

/// An UNSUBSCRIBE of one filter.
pub fn unsubscribe<P: PacketId>(
    version: ProtocolVersion,
    packet_id: P,
    filter: &str,
) -> GenericPacket<P> {
    let filter = TopicFilter::new(filter).expect("topic filter");
    match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Unsubscribe::<P>::builder()
                .packet_id(packet_id)
                .topic_filter(filter)
                .build()
                .expect("v3.1.1 UNSUBSCRIBE"),
        )
        .into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(
            v5_0::Unsubscribe::<P>::builder()
                .packet_id(packet_id)
                .filter(filter)
                .build()
                .expect("v5.0 UNSUBSCRIBE"),
        )
        .into(),
    }
}

/// An UNSUBACK for one filter.
pub fn unsuback<P: PacketId>(version: ProtocolVersion, packet_id: P) -> GenericPacket<P> {
    match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(v3_1_1::Unsuback::new(packet_id)).into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(
            v5_0::Unsuback::<P>::builder()
                .packet_id(packet_id)
                .reason_code(v5_0::UnsubackReasonCode::Success)
                .build()
                .expect("v5.0 UNSUBACK"),
        )
        .into(),
    }
}

macro_rules! ack_ctor {
    ($(#[$doc:meta])* $fn:ident, $ty:ident) => {
        $(#[$doc])*
        pub fn $fn<P: PacketId>(version: ProtocolVersion, packet_id: P) -> GenericPacket<P> {
            match version {
                ProtocolVersion::V3_1_1 => {
                    v3_1_1::Packet::from(v3_1_1::$ty::new(packet_id)).into()
                }
                ProtocolVersion::V5_0 => v5_0::Packet::from(v5_0::$ty::new(packet_id)).into(),
            }
        }
    };
}

ack_ctor!(
    /// A PUBACK (success).
    puback,
    Puback
);
ack_ctor!(
    /// A PUBREC (success).
    pubrec,
    Pubrec
);
ack_ctor!(
    /// A PUBREL (success).
    pubrel,
    Pubrel
);
ack_ctor!(
    /// A PUBCOMP (success).
    pubcomp,
    Pubcomp
);

/// A PINGREQ.
pub fn pingreq<P: PacketId>(version: ProtocolVersion) -> GenericPacket<P> {
    match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(v3_1_1::Pingreq).into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(v5_0::Pingreq).into(),
    }
}

/// A PINGRESP.
pub fn pingresp<P: PacketId>(version: ProtocolVersion) -> GenericPacket<P> {
    match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(v3_1_1::Pingresp).into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(v5_0::Pingresp).into(),
    }
}

/// A DISCONNECT (v5.0: Normal disconnection).
pub fn disconnect<P: PacketId>(version: ProtocolVersion) -> GenericPacket<P> {
    match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(v3_1_1::Disconnect).into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(v5_0::Disconnect::new(
            v5_0::DisconnectReasonCode::NormalDisconnection,
        ))
        .into(),
    }
}

/// A v5.0 DISCONNECT that sets the Session Expiry Interval to `seconds`
/// (§3.14.2.2.2).
pub fn disconnect_expiry<P: PacketId>(seconds: u32) -> GenericPacket<P> {
    let disconnect = v5_0::Disconnect::builder()
        .properties(v5_0::DisconnectProperties {
            session_expiry_interval: Some(seconds),
            ..Default::default()
        })
        .build()
        .expect("DISCONNECT");
    v5_0::Packet::from(disconnect).into()
}

/// The Topic Names of `publishes`, in order.
pub fn topics<P: PacketId>(publishes: Vec<PubView<P>>) -> Vec<String> {
    publishes.into_iter().map(|p| p.topic).collect()
}

/// The packet types of `packets`, in order.
pub fn types<P: PacketId>(packets: &[GenericPacket<P>]) -> Vec<PacketType> {
    packets.iter().map(GenericPacket::packet_type).collect()
}

/// A PUBLISH of either version, reduced to what flow tests compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PubView<P> {
    /// The Topic Name (empty when only a Topic Alias was sent).
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// The QoS.
    pub qos: QoS,
    /// The DUP flag.
    pub dup: bool,
    /// The RETAIN flag.
    pub retain: bool,
    /// The packet identifier.
    pub packet_id: Option<P>,
    /// The Topic Alias (v5.0).
    pub topic_alias: Option<u16>,
}

/// `packet` as a [`PubView`] when it is a PUBLISH.
pub fn as_publish<P: PacketId>(packet: &GenericPacket<P>) -> Option<PubView<P>> {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => Some(PubView {
            topic: p.topic_name().to_owned(),
            payload: p.payload().to_vec(),
            qos: p.qos(),
            dup: p.dup(),
            retain: p.retain(),
            packet_id: p.packet_id(),
            topic_alias: None,
        }),
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => Some(PubView {
            topic: p.topic_name().to_owned(),
            payload: p.payload().to_vec(),
            qos: p.qos(),
            dup: p.dup(),
            retain: p.retain(),
            packet_id: p.packet_id(),
            topic_alias: p.topic_alias().map(|a| a.get()),
        }),
        _ => None,
    }
}

/// The PUBLISH packets among `packets`, as views.
pub fn publishes<P: PacketId>(packets: &[GenericPacket<P>]) -> Vec<PubView<P>> {
    packets.iter().filter_map(as_publish).collect()
}

/// The packet identifier `packet` carries, if any.
pub fn packet_id<P: PacketId>(packet: &GenericPacket<P>) -> Option<P> {
    match packet {
        GenericPacket::V3_1_1(p) => match p {
            v3_1_1::Packet::Publish(p) => p.packet_id(),
            v3_1_1::Packet::Puback(p) => Some(p.packet_id()),
            v3_1_1::Packet::Pubrec(p) => Some(p.packet_id()),
            v3_1_1::Packet::Pubrel(p) => Some(p.packet_id()),
            v3_1_1::Packet::Pubcomp(p) => Some(p.packet_id()),
            v3_1_1::Packet::Subscribe(p) => Some(p.packet_id()),
            v3_1_1::Packet::Suback(p) => Some(p.packet_id()),
            v3_1_1::Packet::Unsubscribe(p) => Some(p.packet_id()),
            v3_1_1::Packet::Unsuback(p) => Some(p.packet_id()),
            _ => None,
        },
        GenericPacket::V5_0(p) => match p {
            v5_0::Packet::Publish(p) => p.packet_id(),
            v5_0::Packet::Puback(p) => Some(p.packet_id()),
            v5_0::Packet::Pubrec(p) => Some(p.packet_id()),
            v5_0::Packet::Pubrel(p) => Some(p.packet_id()),
            v5_0::Packet::Pubcomp(p) => Some(p.packet_id()),
            v5_0::Packet::Subscribe(p) => Some(p.packet_id()),
            v5_0::Packet::Suback(p) => Some(p.packet_id()),
            v5_0::Packet::Unsubscribe(p) => Some(p.packet_id()),
            v5_0::Packet::Unsuback(p) => Some(p.packet_id()),
            _ => None,
        },
    }
}

/// The reason code of a v5.0 DISCONNECT, if `packet` is one.
pub fn disconnect_reason<P: PacketId>(packet: &GenericPacket<P>) -> Option<u8> {
    match packet {
        GenericPacket::V5_0(v5_0::Packet::Disconnect(d)) => Some(d.reason_code().as_u8()),
        _ => None,
    }
}

/// `id` as a packet identifier of width `P`.
pub fn pid<P: PacketId>(id: u32) -> P {
    P::from_u32(id).expect("a non-zero packet identifier")
}
