//! [`GenericEvent`]: what a connection asks its driver to do, or tells it.

use core::time::Duration;

use mqtt_codec::{GenericPacket, PacketId};

use crate::ConnectionError;

/// The timers a connection asks its driver to run. The connection reads no
/// clock: it asks for a timer with [`GenericEvent::RequestTimerReset`], and
/// the driver calls
/// [`notify_timer_fired`](crate::GenericConnection::notify_timer_fired) when
/// it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// Client: time to send a PINGREQ, as nothing was sent for the keep
    /// alive interval [MQTT-3.1.2-23] (v3.1.1) / §3.1.2.10 (v5.0).
    /// Re-armed on every packet sent.
    PingreqSend,
    /// Client: the PINGRESP did not come in time (§3.12.4); the connection
    /// closes.
    PingrespRecv,
    /// Server: nothing was received for one and a half times the keep
    /// alive [MQTT-3.1.2-24] (v3.1.1) / [MQTT-3.1.2-22] (v5.0); the
    /// connection closes. Re-armed on every packet received.
    PingreqRecv,
}

/// What a connection asks its driver to do, or tells it, with packet
/// identifiers of width `P`. Every method of
/// [`GenericConnection`](crate::GenericConnection) returns these, owned, in
/// the order they are to be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenericEvent<P: PacketId = u16> {
    /// Encode `packet` and write it to the network connection.
    ///
    /// When the write fails and `release_packet_id_if_send_error` is
    /// `Some(id)`, call
    /// [`release_packet_id`](crate::GenericConnection::release_packet_id)
    /// with it (a SUBSCRIBE or UNSUBSCRIBE whose answer will never come).
    /// Stored PUBLISH and PUBREL packets carry `None`: the session keeps them
    /// to re-send on the next connection.
    RequestSendPacket {
        /// The packet to send.
        packet: GenericPacket<P>,
        /// The identifier to release if the packet cannot be written.
        release_packet_id_if_send_error: Option<P>,
    },
    /// A packet arrived and passed every check. A PUBLISH that used a Topic
    /// Alias carries its full Topic Name here.
    NotifyPacketReceived(GenericPacket<P>),
    /// The flow that used this packet identifier ended; it may be used again.
    NotifyPacketIdReleased(P),
    /// Start `kind`, or restart it if it runs, to fire after `duration`.
    RequestTimerReset {
        /// Which timer.
        kind: TimerKind,
        /// When it fires, from now.
        duration: Duration,
    },
    /// Stop `kind` if it runs.
    RequestTimerCancel(TimerKind),
    /// Something went wrong: a packet we tried to send was refused (nothing
    /// was sent), or the peer broke the protocol (followed by the packets
    /// the spec asks for and [`RequestClose`](Self::RequestClose)).
    NotifyError(ConnectionError),
    /// Close the network connection, then call
    /// [`notify_closed`](crate::GenericConnection::notify_closed).
    RequestClose,
}

/// [`GenericEvent`] with the standard `u16` packet identifiers.
pub type Event = GenericEvent<u16>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Events are small, so that moving one costs little: at most 96 bytes
    /// for both packet identifier widths.
    #[test]
    fn events_are_compact() {
        assert!(core::mem::size_of::<GenericEvent<u16>>() <= 96);
        assert!(core::mem::size_of::<GenericEvent<u32>>() <= 96);
    }
}
