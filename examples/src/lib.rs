//! What the runnable examples share: their command lines ([`cli`]), the
//! packets they build for either MQTT version, and the messages they
//! publish. The examples themselves are the `[[example]]` targets
//! (`cargo run --example publish`, ...).

pub mod cli;

use bytes::Bytes;
use mqtt_codec::{
    v3_1_1, v5_0, BuildError, GenericPacket, Message, PacketId, ProtocolVersion, QoS, TopicFilter,
    TopicName,
};

/// An error an example reports and exits with.
pub type Error = Box<dyn std::error::Error>;

/// A CONNECT of `version` with a clean start and a keep alive in seconds.
pub fn connect(
    version: ProtocolVersion,
    client_id: &str,
    keep_alive: u16,
) -> Result<GenericPacket, Error> {
    Ok(match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Connect::builder()
                .try_client_id(client_id)?
                .keep_alive(keep_alive)
                .build()?,
        )
        .into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(
            v5_0::Connect::builder()
                .try_client_id(client_id)?
                .keep_alive(keep_alive)
                .build()?,
        )
        .into(),
    })
}

/// A SUBSCRIBE of `version` to one filter at `qos`.
pub fn subscribe<P: PacketId>(
    version: ProtocolVersion,
    packet_id: P,
    filter: &TopicFilter,
    qos: QoS,
) -> Result<GenericPacket<P>, BuildError> {
    Ok(match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Subscribe::builder()
                .packet_id(packet_id)
                .subscription(v3_1_1::Subscription::new(filter.clone(), qos))
                .build()?,
        )
        .into(),
        ProtocolVersion::V5_0 => v5_0::Packet::from(
            v5_0::Subscribe::builder()
                .packet_id(packet_id)
                .subscription((filter.clone(), v5_0::SubscriptionOptions::new(qos)))
                .build()?,
        )
        .into(),
    })
}

/// A message to `topic` at `qos`, for an endpoint's `publish`, which
/// numbers it (QoS 1 and 2) and writes it in the connection's version.
pub fn message(topic: &str, qos: QoS, payload: impl Into<Bytes>) -> Result<Message, Error> {
    Ok(Message::builder()
        .topic_name(TopicName::new(topic)?)
        .qos(qos)
        .payload(payload.into())
        .build()?)
}

/// Prints what a received packet means to a subscriber: a message, the
/// SUBACK codes, or just its type. Returns whether it was a message.
pub fn print_received<P: PacketId>(packet: &GenericPacket<P>, filter: &TopicFilter) -> bool {
    let message = |topic: &str, payload: &[u8]| {
        println!("{topic}: {}", String::from_utf8_lossy(payload));
    };
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => message(p.topic_name(), p.payload()),
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => message(p.topic_name(), p.payload()),
        GenericPacket::V3_1_1(v3_1_1::Packet::Suback(s)) => {
            println!("subscribed to {filter}: {:?}", s.return_codes());
            return false;
        }
        GenericPacket::V5_0(v5_0::Packet::Suback(s)) => {
            println!("subscribed to {filter}: {:?}", s.reason_codes());
            return false;
        }
        other => {
            println!("received {:?}", other.packet_type());
            return false;
        }
    }
    true
}

#[path = "../broker/mod.rs"]
pub mod broker;
pub mod raw;

/// The Rust code blocks of the workspace's README.md, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
