//! The roles a connection plays: [`Client`], [`Server`], or [`Any`] (decided
//! at run time by the first CONNECT sent or received).
//!
//! The role is a type parameter of
//! [`GenericConnection`](crate::GenericConnection), so that
//! [`checked_send`](crate::GenericConnection::checked_send) refuses at
//! compile time a packet the role may not send.

use core::fmt::Debug;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Client {}
    impl Sealed for super::Server {}
    impl Sealed for super::Any {}
}

/// Which side of the protocol a connection is on, as a value: what
/// [`Role::KIND`] names, and what a [`role::Any`](Any) connection becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleKind {
    /// The side that sends CONNECT.
    Client,
    /// The side that receives CONNECT and sends CONNACK.
    Server,
    /// Not decided yet: the first CONNECT sent makes a Client, the first
    /// CONNECT received a Server.
    Any,
}

/// A connection role; sealed: [`Client`], [`Server`] and [`Any`] are all.
pub trait Role: sealed::Sealed + Copy + Default + Debug + Send + Sync + 'static {
    /// The role as a value.
    const KIND: RoleKind;
}

/// The MQTT Client role: sends CONNECT, PUBLISH, SUBSCRIBE, UNSUBSCRIBE,
/// PINGREQ, DISCONNECT, AUTH and the publish acknowledgements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Client;

/// The MQTT Server (broker) role: sends CONNACK, PUBLISH, SUBACK, UNSUBACK,
/// PINGRESP, DISCONNECT (v5.0), AUTH and the publish acknowledgements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Server;

/// A role decided at run time: the first CONNECT sent makes the connection
/// a Client, the first CONNECT received a Server. Every packet type is
/// [`Sendable`](crate::Sendable); the role is checked when it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Any;

impl Role for Client {
    const KIND: RoleKind = RoleKind::Client;
}
impl Role for Server {
    const KIND: RoleKind = RoleKind::Server;
}
impl Role for Any {
    const KIND: RoleKind = RoleKind::Any;
}
