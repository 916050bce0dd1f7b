//! [`Messages`]: the application messages a [`Client`](crate::Client)
//! receives.

use mqtt_codec::{v3_1_1, v5_0, GenericPacket, Message};

use crate::queue;

/// The messages the broker sends a [`Client`](crate::Client), in order,
/// across reconnections. Each was acknowledged (PUBACK, or PUBREC then
/// PUBCOMP) when it was received, and a QoS 2 message arrives once.
///
/// Dropping it while [`Client`](crate::Client) handles remain is fine:
/// the messages that arrive are dropped.
pub struct Messages {
    pub(crate) rx: queue::Receiver<GenericPacket<u16>>,
}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messages").finish_non_exhaustive()
    }
}

impl Messages {
    /// The next message, or `None` once the client has ended
    /// ([`Client::disconnect`](crate::Client::disconnect), or the
    /// reconnections gave up; [`Client::state`](crate::Client::state) says
    /// why).
    ///
    /// Cancel-safe: in `tokio::select!`, no message is lost when another
    /// branch wins.
    pub async fn recv(&mut self) -> Option<Message> {
        loop {
            match self.rx.recv().await? {
                GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => return Some(p.into_message()),
                GenericPacket::V5_0(v5_0::Packet::Publish(p)) => return Some(p.into_message()),
                // Only PUBLISH packets are delivered to a client's queue.
                _ => continue,
            }
        }
    }
}
