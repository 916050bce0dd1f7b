#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod content;
mod decoder;
pub mod encode;
mod error;
mod message;
mod packet;
mod packet_id;
pub mod properties;
mod publish;
mod qos;
mod source;
pub mod string;
pub mod topic;
pub mod v3_1_1;
pub mod v5_0;
mod version;
pub mod wire;

pub use decoder::{Decoder, MAX_PACKET_SIZE};
pub use encode::Encode;
pub use error::{BuildError, DecodeError, EncodeError, ValueError};
pub use message::{Message, MessageBuilder};
pub use packet::{GenericPacket, GenericPacketView};
pub use packet_id::PacketId;
pub use properties::{MessageProperties, MessagePropertiesView};
pub use qos::QoS;
pub use string::{BinaryData, MqttString};
pub use topic::{IntoTopicName, SharedSubscription, TopicError, TopicFilter, TopicName};
pub use version::ProtocolVersion;
