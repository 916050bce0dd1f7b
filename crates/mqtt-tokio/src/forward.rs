//! [`Forward`]: what [`Endpoint::forward`](crate::Endpoint::forward) hands
//! to the driver.

use mqtt_codec::{GenericPacket, Message, PacketId};

use crate::driver::Command;

mod sealed {
    use mqtt_codec::PacketId;

    use crate::driver::Command;

    pub trait Sealed<P: PacketId>: Sized {
        /// The command that forwards it.
        fn into_command(self) -> Command<P>;
        /// It again, from a command [`into_command`](Self::into_command)
        /// made.
        fn from_command(cmd: Command<P>) -> Self;
    }
}

/// What the forwarding methods of an [`Endpoint`](crate::Endpoint) take
/// and, when they cannot, give back in a
/// [`ForwardError`](crate::ForwardError): a [`GenericPacket`] (a QoS 1 or
/// 2 PUBLISH is numbered by the connection) or a [`Message`] (published).
/// Sealed.
pub trait Forward<P: PacketId>: sealed::Sealed<P> + Send + 'static {}

impl<P: PacketId + Send + 'static> Forward<P> for GenericPacket<P> {}
impl<P: PacketId + Send + 'static> Forward<P> for Message {}

impl<P: PacketId> sealed::Sealed<P> for GenericPacket<P> {
    fn into_command(self) -> Command<P> {
        Command::Send {
            assign_id: self.publish_qos().is_some(),
            packet: self,
            reply: None,
        }
    }

    fn from_command(cmd: Command<P>) -> Self {
        match cmd {
            Command::Send { packet, .. } => packet,
            // `into_command` makes nothing else.
            _ => unreachable!("a forwarded packet is a Send command"),
        }
    }
}

impl<P: PacketId> sealed::Sealed<P> for Message {
    fn into_command(self) -> Command<P> {
        Command::Publish {
            message: self,
            reply: None,
        }
    }

    fn from_command(cmd: Command<P>) -> Self {
        match cmd {
            Command::Publish { message, .. } => message,
            // `into_command` makes nothing else.
            _ => unreachable!("a forwarded message is a Publish command"),
        }
    }
}
