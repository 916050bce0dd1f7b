//! [`Sendable`]: the packet types each role may send, checked at compile
//! time by [`checked_send`](crate::GenericConnection::checked_send).

use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId};

use crate::role::{Any, Client, Role, Server};

pub(crate) mod sealed {
    use mqtt_codec::{GenericPacket, PacketId};

    /// Turns a packet into a [`GenericPacket`]; sealed, implemented by this
    /// crate for the packet types of both versions.
    pub trait IntoGeneric<P: PacketId> {
        /// The packet as a [`GenericPacket`].
        fn into_generic(self) -> GenericPacket<P>;
    }
}

/// A packet type that role `R` may send on a connection with packet
/// identifiers of width `P` (§2.1.2, Table 2-1).
///
/// Implemented for each packet type of both versions, for [`Client`] and
/// [`Server`] as the spec's direction column says, and for every type for
/// [`Any`] (checked at run time). [`GenericPacket`] and the version enums
/// are `Sendable` for [`Any`] only; use
/// [`send`](crate::GenericConnection::send) to send them with another role.
///
/// ```
/// use mqtt_codec::{ProtocolVersion, v3_1_1::Connect};
/// use mqtt_core::{Connection, role};
/// let mut client = Connection::<role::Client>::new(ProtocolVersion::V3_1_1);
/// let events = client.checked_send(Connect::builder().try_client_id("c")?.build()?)?;
/// assert_eq!(events.len(), 1); // RequestSendPacket
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ```compile_fail
/// use mqtt_codec::{ProtocolVersion, v3_1_1::Connack};
/// use mqtt_core::{Connection, role};
/// let mut client = Connection::<role::Client>::new(ProtocolVersion::V3_1_1);
/// // A Client never sends CONNACK: this does not compile.
/// let _ = client.checked_send(Connack::builder().build().unwrap());
/// ```
#[diagnostic::on_unimplemented(
    message = "a {R} may not send `{Self}` (MQTT §2.1.2, Table 2-1)",
    label = "not a packet this role sends",
    note = "use `send` on a `role::Any` connection to decide the role at run time"
)]
pub trait Sendable<R: Role, P: PacketId>: sealed::IntoGeneric<P> {}

macro_rules! into_generic {
    ($version:ident: $($ty:ty),* $(,)?) => {
        $(
            impl<P: PacketId> sealed::IntoGeneric<P> for $ty {
                #[inline]
                fn into_generic(self) -> GenericPacket<P> {
                    GenericPacket::from($version::Packet::<P>::from(self))
                }
            }
            impl<P: PacketId> Sendable<Any, P> for $ty {}
        )*
    };
}

macro_rules! sendable {
    ($role:ty: $($ty:ty),* $(,)?) => {
        $( impl<P: PacketId> Sendable<$role, P> for $ty {} )*
    };
}

into_generic!(v3_1_1: v3_1_1::Connect, v3_1_1::Connack, v3_1_1::Publish<P>, v3_1_1::Puback<P>,
    v3_1_1::Pubrec<P>, v3_1_1::Pubrel<P>, v3_1_1::Pubcomp<P>, v3_1_1::Subscribe<P>,
    v3_1_1::Suback<P>, v3_1_1::Unsubscribe<P>, v3_1_1::Unsuback<P>, v3_1_1::Pingreq,
    v3_1_1::Pingresp, v3_1_1::Disconnect);
into_generic!(v5_0: v5_0::Connect, v5_0::Connack, v5_0::Publish<P>, v5_0::Puback<P>,
    v5_0::Pubrec<P>, v5_0::Pubrel<P>, v5_0::Pubcomp<P>, v5_0::Subscribe<P>, v5_0::Suback<P>,
    v5_0::Unsubscribe<P>, v5_0::Unsuback<P>, v5_0::Pingreq, v5_0::Pingresp,
    v5_0::Disconnect, v5_0::Auth);

sendable!(Client: v3_1_1::Connect, v3_1_1::Publish<P>, v3_1_1::Puback<P>, v3_1_1::Pubrec<P>,
    v3_1_1::Pubrel<P>, v3_1_1::Pubcomp<P>, v3_1_1::Subscribe<P>, v3_1_1::Unsubscribe<P>,
    v3_1_1::Pingreq, v3_1_1::Disconnect);
sendable!(Client: v5_0::Connect, v5_0::Publish<P>, v5_0::Puback<P>, v5_0::Pubrec<P>,
    v5_0::Pubrel<P>, v5_0::Pubcomp<P>, v5_0::Subscribe<P>, v5_0::Unsubscribe<P>,
    v5_0::Pingreq, v5_0::Disconnect, v5_0::Auth);
// A v3.1.1 Server sends no DISCONNECT (§3.14).
sendable!(Server: v3_1_1::Connack, v3_1_1::Publish<P>, v3_1_1::Puback<P>, v3_1_1::Pubrec<P>,
    v3_1_1::Pubrel<P>, v3_1_1::Pubcomp<P>, v3_1_1::Suback<P>, v3_1_1::Unsuback<P>,
    v3_1_1::Pingresp);
sendable!(Server: v5_0::Connack, v5_0::Publish<P>, v5_0::Puback<P>, v5_0::Pubrec<P>,
    v5_0::Pubrel<P>, v5_0::Pubcomp<P>, v5_0::Suback<P>, v5_0::Unsuback<P>, v5_0::Pingresp,
    v5_0::Disconnect, v5_0::Auth);

impl<P: PacketId> sealed::IntoGeneric<P> for GenericPacket<P> {
    #[inline]
    fn into_generic(self) -> GenericPacket<P> {
        self
    }
}
impl<P: PacketId> sealed::IntoGeneric<P> for v3_1_1::Packet<P> {
    #[inline]
    fn into_generic(self) -> GenericPacket<P> {
        GenericPacket::V3_1_1(self)
    }
}
impl<P: PacketId> sealed::IntoGeneric<P> for v5_0::Packet<P> {
    #[inline]
    fn into_generic(self) -> GenericPacket<P> {
        GenericPacket::V5_0(self)
    }
}
sendable!(Any: GenericPacket<P>, v3_1_1::Packet<P>, v5_0::Packet<P>);
