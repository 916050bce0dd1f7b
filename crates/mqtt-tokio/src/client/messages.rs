//! [`Messages`]: the application messages a [`Client`](crate::Client)
//! receives.

use std::pin::Pin;
use std::task::{Context, Poll};

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
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`recv`](Self::recv) as a poll, for a hand-written `Future` or
    /// `Stream` (this type is also a `futures_core::Stream`).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        loop {
            match std::task::ready!(self.rx.poll_recv(cx)) {
                Some(GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p))) => {
                    return Poll::Ready(Some(p.into_message()))
                }
                Some(GenericPacket::V5_0(v5_0::Packet::Publish(p))) => {
                    return Poll::Ready(Some(p.into_message()))
                }
                // Only PUBLISH packets are delivered to a client's queue.
                Some(_) => continue,
                None => return Poll::Ready(None),
            }
        }
    }
}

impl futures_core::Stream for Messages {
    type Item = Message;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.get_mut().poll_recv(cx)
    }
}
