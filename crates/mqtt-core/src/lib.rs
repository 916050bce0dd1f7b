#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod connection;
mod error;
mod event;
mod options;
pub mod role;
mod sendable;
mod state;
mod topic_alias;

pub use connection::{Connection, GenericConnection};
pub use error::ConnectionError;
pub use event::{Event, GenericEvent, TimerKind};
pub use mqtt_session::MonotonicTime;
pub use options::ConnectionOptions;
pub use role::{Role, RoleKind};
pub use sendable::Sendable;
pub use state::ConnectionState;
pub use topic_alias::{TopicAliasError, TopicAliasRecv, TopicAliasSend};
