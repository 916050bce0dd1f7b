#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod error;
mod id_pool;
mod incoming;
mod message;
mod outgoing;
mod persist;
mod queue;
mod session;
mod time;

#[cfg(test)]
mod tests;

pub use config::SessionConfig;
pub use error::SessionError;
pub use id_pool::PacketIdPool;
pub use incoming::Delivery;
pub use message::{Outgoing, Publish, Pubrel};
pub use outgoing::{FlowState, PubrecOutcome};
pub use queue::{DEFAULT_QUEUE_MAX_BYTES, DEFAULT_QUEUE_MAX_MESSAGES};
pub use session::{Outbound, Rejected, Session, SESSION_NEVER_EXPIRES};
pub use time::MonotonicTime;
