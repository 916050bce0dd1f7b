#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client_settings;
mod client_state;
mod connection;
mod error;
mod event;
mod options;
pub mod reconnect;
pub mod role;
mod sendable;
mod state;
mod timer_table;
mod topic_alias;
pub mod tracker;

pub use client_settings::{ClientSettings, ConnectBuildError};
pub use client_state::ClientState;
pub use connection::{Connection, GenericConnection, Published};
pub use error::{ConnectionError, SendError};
pub use event::{Event, GenericEvent, TimerKind};
pub use mqtt_session::MonotonicTime;
pub use options::{AckPolicy, ConnectionOptions};
pub use reconnect::Reconnect;
pub use role::{Role, RoleKind};
pub use sendable::Sendable;
pub use state::ConnectionState;
pub use timer_table::TimerTable;
pub use topic_alias::{TopicAliasError, TopicAliasRecv, TopicAliasSend};
pub use tracker::{Delivered, Granted};

/// The buffers packets are read from and written to (the `bytes` crate).
pub use bytes;
/// The codec: packets of both versions, [`Message`](mqtt_codec::Message),
/// topics, the decoder (the `mqtt-codec` crate).
pub use mqtt_codec as codec;
/// The session: packet identifiers, QoS flows, the queue, export and
/// import (the `mqtt-session` crate).
pub use mqtt_session as session;

/// What a program that drives a connection names, in one `use`:
/// `use mqtt_core::prelude::*;`.
pub mod prelude {
    pub use crate::codec::{
        v3_1_1, v5_0, Encode, GenericPacket, Message, MessageProperties, PacketId, ProtocolVersion,
        QoS, TopicFilter, TopicName,
    };
    pub use crate::{
        role, AckPolicy, Connection, ConnectionError, ConnectionOptions, ConnectionState, Event,
        GenericConnection, GenericEvent, MonotonicTime, Published, Reconnect, SendError, TimerKind,
        TimerTable,
    };
    pub use bytes::{Bytes, BytesMut};
}
