//! [`ClientState`]: where a high-level client is, as both adapters'
//! `Client::state` report it (`E`: the adapter's error type).

use std::sync::Arc;
use std::time::Duration;

/// Where a high-level client is; `E` is its adapter's error.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientState<E> {
    /// Connected; `session_present`: the broker resumed the session
    /// (§3.2.2.1.1). Without it, the subscriptions were made again (the
    /// `resubscribe` setting).
    Connected {
        /// The CONNACK's Session Present.
        session_present: bool,
    },
    /// The network connection was lost (`reason`: why, when known); the
    /// next attempt, numbered from 0 since the last connection, starts
    /// after `delay`.
    Reconnecting {
        /// Failed attempts since the connection was lost.
        attempt: u32,
        /// The wait before the next attempt.
        delay: Duration,
        /// Why the connection, or the last attempt, failed.
        reason: Option<Arc<E>>,
    },
    /// The client ended: its `disconnect`, every handle and the messages
    /// dropped, or reconnection off or given up (`reason`: the last
    /// failure).
    Closed {
        /// Why the last connection, or attempt, failed.
        reason: Option<Arc<E>>,
    },
}

// Not derived: the error needs no `Clone` (it is shared).
impl<E> Clone for ClientState<E> {
    fn clone(&self) -> Self {
        match self {
            ClientState::Connected { session_present } => ClientState::Connected {
                session_present: *session_present,
            },
            ClientState::Reconnecting {
                attempt,
                delay,
                reason,
            } => ClientState::Reconnecting {
                attempt: *attempt,
                delay: *delay,
                reason: reason.clone(),
            },
            ClientState::Closed { reason } => ClientState::Closed {
                reason: reason.clone(),
            },
        }
    }
}
