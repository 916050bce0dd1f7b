//! Async MQTT v3.1.1 and v5.0 endpoints on tokio, over
//! [`mqtt-core`](mqtt_core)'s Sans-I/O connection.
//!
//! A driver task owns each connection and its transport (a `TcpStream`, or
//! any `AsyncRead + AsyncWrite`) and runs the loop: read → `recv` → handle
//! the events → write, with the timers the connection asks for (the core's
//! [`TimerTable`] on `tokio::time`). It holds no rule of MQTT: automatic
//! acknowledgements, keep alive, Topic Aliases, Receive Maximum and
//! protocol errors are the core's ([`ConnectionOptions`]).
//!
//! - [`Client`] is the high-level client: [`ClientOptions`] from a URL and a
//!   builder, `publish` and `subscribe` by topic that resolve with the
//!   broker's answer, received [`Message`](codec::Message)s from
//!   [`Messages`] (`recv`, or as a `futures` `Stream`), and automatic reconnection ([`Reconnect`]) that resumes
//!   the session, sends unacknowledged messages again and subscribes again
//!   when the session is gone; [`Client::state`] reports each change.
//! - Under it, packet by packet: [`ClientEndpoint::connect`] returns a
//!   cloneable [`ClientEndpoint`] handle, usable from several tasks, and an
//!   [`Incoming`] receiver whose [`recv`](Incoming::recv) is cancel-safe
//!   (it is a `Stream` too).
//!   It does not reconnect.
//! - [`Endpoint::publish`] publishes a [`Message`](codec::Message), numbered
//!   by the connection; [`Endpoint::send`] sends a packet. Beyond the
//!   peer's Receive Maximum, QoS 1 and 2 messages wait in the core's
//!   session queue (bounded by [`ConnectionOptions::session`]) and leave as
//!   acknowledgements arrive; the endpoint keeps no queue of its own.
//! - [`Endpoint::acknowledge`] acknowledges a received message once
//!   handled, with [`AckPolicy::AfterHandling`].
//! - [`Server::bind`] / [`Server::accept`] hand out Server-role endpoints,
//!   each learning its version from the CONNECT it receives;
//!   [`Endpoint::forward`] hands packets or messages to one without a
//!   round trip.
//! - Errors are [`Error`], which converts to [`std::io::Error`];
//!   [`io_error`] converts a [`ConnectionError`].
//! - Transports: TCP; TLS with the feature `tls` (`ClientEndpoint::connect_tls`,
//!   `Server::accept_tls`); WebSocket with the feature `websocket`
//!   (`ClientEndpoint::connect_ws`, `Server::accept_ws`, subprotocol `mqtt`); any
//!   other `AsyncRead + AsyncWrite` with [`ClientEndpoint::connect_with`] and
//!   [`Server::serve`].
//! - One `use`: [`prelude`] holds the core's prelude and this crate's
//!   handles; the core is [`mqtt_core`], the codec [`codec`].
//! - `tracing` spans (`mqtt_client`, `mqtt_server`) and events for connects,
//!   disconnects and protocol errors.
//!
//! ```no_run
//! use mqtt_tokio::prelude::*;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), mqtt_tokio::Error> {
//!     let options = ClientOptions::new("mqtt://127.0.0.1:1883")?.client_id("demo");
//!     let (client, mut messages) = Client::connect(options).await?;
//!     client.subscribe("sensors/#", QoS::AtLeastOnce).await?;
//!     client.publish("sensors/1", QoS::AtLeastOnce, false, "21.5").await?; // PUBACK came
//!     while let Some(message) = messages.recv().await {
//!         println!("{}: {:?}", message.topic_name(), message.payload());
//!         break;
//!     }
//!     client.disconnect().await
//! }
//! ```
//!
//! A client and a server in one process, on loopback (the server's
//! application answers the CONNECT, and acknowledges each message after
//! handling it):
//!
//! ```
//! use mqtt_tokio::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut server_options = ConnectionOptions::default();
//! server_options.ack = AckPolicy::AfterHandling;
//! let server = Server::bind("127.0.0.1:0").await?.with_options(server_options);
//! let addr = server.local_addr()?;
//! let broker = tokio::spawn(async move {
//!     let (endpoint, mut incoming, _peer) = server.accept().await?;
//!     let connect = incoming.recv().await.ok_or("no CONNECT")?;
//!     assert_eq!(connect.version(), ProtocolVersion::V5_0);
//!     endpoint.send(v5_0::Connack::builder().build()?).await?;
//!     // What arrives until the client disconnects.
//!     let mut payloads = Vec::new();
//!     while let Some(packet) = incoming.recv().await {
//!         if let GenericPacket::V5_0(v5_0::Packet::Publish(p)) = packet {
//!             if let Some(id) = p.packet_id() {
//!                 endpoint.acknowledge(id).await?; // the PUBACK, now
//!             }
//!             payloads.push(p.into_payload());
//!         }
//!     }
//!     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(payloads)
//! });
//!
//! let connect = v5_0::Connect::builder().try_client_id("c1")?.build()?;
//! let options = ConnectionOptions::default();
//! let (client, mut incoming) = ClientEndpoint::connect(addr, connect, options).await?;
//! let message = Message::builder()
//!     .topic_name(TopicName::from_static("t")?)
//!     .qos(QoS::AtLeastOnce)
//!     .payload("hi")
//!     .build()?;
//! let id = client.publish(message).await?;
//! let puback = incoming.recv().await.ok_or("no PUBACK")?;
//! assert!(matches!(puback, GenericPacket::V5_0(v5_0::Packet::Puback(ref a)) if Some(a.packet_id()) == id));
//! client.close().await?; // DISCONNECT
//! let payloads = broker.await?.map_err(|e| e.to_string())?;
//! assert_eq!(payloads, [&b"hi"[..]]);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod config;
mod driver;
mod endpoint;
mod error;
mod forward;
mod hibernate;
mod joined;
mod queue;
mod server;
mod timers;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "websocket")]
pub mod websocket;

pub use client::{
    Client, ClientEndpoint, ClientOptions, ClientState, Delivered, Granted, IntoConnect, Messages,
    Reconnect, StateWatch,
};
pub use config::Config;
pub use endpoint::{Endpoint, Incoming, Status};
pub use error::{connection_error_kind, io_error, send_error_kind, Error, ForwardError};
pub use forward::Forward;
pub use hibernate::{Hibernated, Unmapped};
pub use joined::Joined;
/// The Sans-I/O core this crate drives (`mqtt-core`), with the codec, the
/// session and `bytes`.
pub use mqtt_core;
/// The core's types an application of this crate uses, re-exported.
pub use mqtt_core::{
    bytes, codec, role, session, AckPolicy, ConnectionError, ConnectionOptions, ConnectionState,
    SendError, TimerTable,
};
pub use server::{Server, ServerEndpoint};

/// What a program using this crate names, in one `use`:
/// `use mqtt_tokio::prelude::*;` gives the core's
/// [`prelude`](mqtt_core::prelude) (packets, [`Message`](codec::Message),
/// [`QoS`](codec::QoS), options, events, errors) and this crate's handles.
pub mod prelude {
    pub use crate::{
        Client, ClientEndpoint, ClientOptions, ClientState, Config, Delivered, Endpoint, Incoming,
        Messages, Reconnect, Server, ServerEndpoint,
    };
    pub use mqtt_core::prelude::*;
}
