//! What the application sends through a [`GenericEndpoint`]: packets,
//! messages, acknowledgements.

use std::io::{self, Read, Write};
use std::time::Instant;

use mqtt_codec::v5_0::{PubackProperties, PubackReasonCode};
use mqtt_codec::{GenericPacket, Message, PacketId};
use mqtt_core::{ConnectionState, GenericConnection, GenericEvent, Role, SendError, Sendable};

use super::GenericEndpoint;
use crate::{send_io_error, Deadline};

/// What a call of the core returned for an accepted packet or message.
type Accepted<T, P> = Result<(T, Vec<GenericEvent<P>>), SendError>;

impl<R: Role, S: Read + Write + Deadline, P: PacketId> GenericEndpoint<R, S, P> {
    /// Sends `packet` (a type role `R` sends, checked at compile time) and
    /// writes it, with whatever the core sends along. For a message, prefer
    /// [`publish`](Self::publish), which numbers it.
    ///
    /// Runs the timers that are due first (reading what arrived, so that a
    /// PINGRESP counts). A QoS 1 or 2 PUBLISH beyond the peer's Receive
    /// Maximum (§4.9) is accepted into the core's session queue, keeping
    /// its packet identifier, and goes out as acknowledgements free quota
    /// (they are read while the application is in [`recv`](Self::recv) or
    /// in a later send). When that queue is full
    /// ([`SessionConfig`](mqtt_session::SessionConfig)'s bounds), it reads
    /// and handles what arrives until an acknowledgement makes room, at
    /// most for the [`set_timeout`](Self::set_timeout) (then errs with
    /// [`io::ErrorKind::TimedOut`]); packets read meanwhile wait for `recv`.
    ///
    /// Errs when the core refuses the packet (see [`send_io_error`];
    /// nothing was sent, an identifier the packet carries stays acquired),
    /// when the stream fails, or when the connection is closed.
    pub fn send<T: Sendable<R, P>>(&mut self, packet: T) -> io::Result<()> {
        // The role was checked at compile time; the run-time check of
        // `GenericConnection::send` then always passes.
        self.send_generic(packet.into_generic())
    }

    /// [`send`](Self::send) without waiting for room in a full session
    /// queue: errs with [`io::ErrorKind::WouldBlock`] instead.
    pub fn try_send<T: Sendable<R, P>>(&mut self, packet: T) -> io::Result<()> {
        self.before_send()?;
        let result = self.conn.checked_send(packet).map(|e| ((), e));
        self.accepted(result)
    }

    /// [`send`](Self::send) for a packet of either version whose type is
    /// checked against the role at run time.
    pub fn send_generic(&mut self, packet: GenericPacket<P>) -> io::Result<()> {
        self.with_room(packet, |conn, p| conn.send(p).map(|e| ((), e)))
    }

    /// Publishes `message`: the core numbers it at QoS 1 and 2 and sends
    /// it, or queues it beyond the peer's Receive Maximum; see
    /// [`GenericConnection::publish`]. Returns its packet identifier
    /// (`None` at QoS 0), which its PUBACK or PUBCOMP names. Waits for room
    /// in a full session queue and errs like [`send`](Self::send).
    pub fn publish(&mut self, message: Message) -> io::Result<Option<P>> {
        self.with_room(message, |conn, m| {
            conn.publish(m).map(|p| (p.packet_id, p.events))
        })
    }

    /// Acknowledges the received QoS 1 or 2 PUBLISH `packet_id` (PUBACK or
    /// PUBREC with Success) once the application has handled it, with
    /// [`AckPolicy::AfterHandling`](mqtt_core::AckPolicy::AfterHandling);
    /// see [`GenericConnection::acknowledge`]. Allowed while disconnected
    /// (a QoS 2 answer then goes after the next CONNACK).
    ///
    /// Errs with [`io::ErrorKind::InvalidInput`] when no received message
    /// waits under `packet_id`, or with the stream's error.
    pub fn acknowledge(&mut self, packet_id: P) -> io::Result<()> {
        self.set_time();
        let events = self.conn.acknowledge(packet_id).map_err(send_io_error)?;
        self.handle(events)
    }

    /// [`acknowledge`](Self::acknowledge) with a v5.0 Reason Code and
    /// properties (a failure code on QoS 2 ends the flow, §4.3.3).
    pub fn acknowledge_with(
        &mut self,
        packet_id: P,
        reason_code: PubackReasonCode,
        properties: PubackProperties,
    ) -> io::Result<()> {
        self.set_time();
        let events = self
            .conn
            .acknowledge_with(packet_id, reason_code, properties)
            .map_err(send_io_error)?;
        self.handle(events)
    }

    /// Hands `item` to the core with `op`; while the session's queue is
    /// full, reads and handles what arrives until it shrinks, then tries
    /// again, at most for the timeout.
    fn with_room<T: Clone, U>(
        &mut self,
        mut item: T,
        op: impl Fn(&mut GenericConnection<R, P>, T) -> Accepted<U, P>,
    ) -> io::Result<U> {
        self.before_send()?;
        let deadline = self.timeout.map(|t| Instant::now() + t);
        loop {
            // Only a non-empty queue can be full for a message it could
            // hold: only then is a copy kept to try again.
            let queued = self.conn.session().queue_len();
            let retry = (queued > 0).then(|| item.clone());
            match (op(&mut self.conn, item), retry) {
                (Err(SendError::QueueFull), Some(again)) => {
                    self.wait_for_room(queued, deadline)?;
                    item = again;
                }
                (result, _) => return self.accepted(result),
            }
        }
    }

    /// Reads and handles what arrives until the session's queue holds
    /// fewer than `queued` messages.
    fn wait_for_room(&mut self, queued: usize, deadline: Option<Instant>) -> io::Result<()> {
        while self.conn.session().queue_len() >= queued {
            if self.closed || self.conn.state() != ConnectionState::Connected {
                return Err(send_io_error(SendError::QueueFull));
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the session queue had no room in time",
                ));
            }
            self.step(deadline)?;
        }
        self.set_time();
        Ok(())
    }

    /// Handles the events of an accepted packet or message; errs with the
    /// core's refusal.
    fn accepted<U>(&mut self, result: Accepted<U, P>) -> io::Result<U> {
        let (value, events) = result.map_err(send_io_error)?;
        self.handle(events)?;
        Ok(value)
    }
}
