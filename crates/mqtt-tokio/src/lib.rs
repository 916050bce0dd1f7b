//! Async MQTT v3.1.1 and v5.0 endpoints on tokio, over
//! [`mqtt-core`](mqtt_core)'s Sans-I/O connection.
//!
//! A driver task owns each connection and its transport (a `TcpStream`, or
//! any `AsyncRead + AsyncWrite`) and runs the loop: read → `recv` → handle
//! the events → write, with the timers the connection asks for on
//! `tokio::time`. It holds no rule of MQTT: automatic acknowledgements,
//! keep alive, Topic Aliases, Receive Maximum and protocol errors are the
//! core's ([`ConnectionOptions`]).
//!
//! - [`Client::connect`] returns a cloneable [`Client`] handle, usable from
//!   several tasks, and an [`Incoming`] receiver whose
//!   [`recv`](Incoming::recv) is cancel-safe.
//! - [`Endpoint::send`] waits for the peer's Receive Maximum quota;
//!   [`Endpoint::try_send`] reports [`Error::Full`] instead.
//! - [`Server::bind`] / [`Server::accept`] hand out Server-role endpoints,
//!   each learning its version from the CONNECT it receives.
//! - Errors are [`Error`], which converts to [`std::io::Error`];
//!   [`io_error`] converts a [`ConnectionError`].
//! - [`Endpoint::publish`] gives a QoS 1 or 2 PUBLISH its packet
//!   identifier in the same round trip to the driver.
//! - Transports: TCP; TLS with the feature `tls` (`Client::connect_tls`,
//!   `Server::accept_tls`); WebSocket with the feature `websocket`
//!   (`Client::connect_ws`, `Server::accept_ws`, subprotocol `mqtt`); any
//!   other `AsyncRead + AsyncWrite` with [`Client::connect_with`] and
//!   [`Server::serve`].
//! - `tracing` spans (`mqtt_client`, `mqtt_server`) and events for connects,
//!   disconnects and protocol errors.
//!
//! ```no_run
//! use mqtt_codec::{v5_0, GenericPacket, QoS};
//! use mqtt_core::ConnectionOptions;
//! use mqtt_tokio::Client;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut options = ConnectionOptions::default();
//! options.auto_pub_response = true;
//! let connect = v5_0::Connect::builder().try_client_id("demo")?.keep_alive(30).build()?;
//! let (client, mut incoming) = Client::connect("127.0.0.1:1883", connect, options).await?;
//!
//! let id = client.acquire_packet_id().await?;
//! let subscribe = v5_0::Subscribe::builder()
//!     .packet_id(id)
//!     .try_subscription("sensors/#", QoS::AtLeastOnce)?
//!     .build()?;
//! client.send(subscribe).await?;
//!
//! let id = client.acquire_packet_id().await?;
//! let publish = v5_0::Publish::builder()
//!     .try_topic_name("sensors/1")?
//!     .qos(QoS::AtLeastOnce)
//!     .packet_id(id)
//!     .payload(&b"21.5"[..])
//!     .build()?;
//! client.send(publish).await?; // waits for Receive Maximum quota
//!
//! while let Some(packet) = incoming.recv().await {
//!     if let GenericPacket::V5_0(v5_0::Packet::Publish(p)) = packet {
//!         println!("{:?}: {:?}", p.topic_name(), p.payload());
//!         break;
//!     }
//! }
//! client.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! A client and a server in one process, on loopback (the server's
//! application answers the CONNECT; the core acknowledges the rest):
//!
//! ```
//! use mqtt_codec::{v5_0, GenericPacket, QoS};
//! use mqtt_tokio::{Client, ConnectionOptions, Server};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut options = ConnectionOptions::default();
//! options.auto_pub_response = true;
//! options.auto_ping_response = true;
//! let server = Server::bind("127.0.0.1:0").await?.with_options(options.clone());
//! let addr = server.local_addr()?;
//! let broker = tokio::spawn(async move {
//!     let (endpoint, mut incoming, _peer) = server.accept().await?;
//!     let connect = incoming.recv().await.ok_or("no CONNECT")?;
//!     assert_eq!(connect.version(), mqtt_codec::ProtocolVersion::V5_0);
//!     endpoint.send(v5_0::Connack::builder().build()?).await?;
//!     // What arrives until the client disconnects (PUBACKs are automatic).
//!     let mut payloads = Vec::new();
//!     while let Some(packet) = incoming.recv().await {
//!         if let GenericPacket::V5_0(v5_0::Packet::Publish(p)) = packet {
//!             payloads.push(p.into_payload());
//!         }
//!     }
//!     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(payloads)
//! });
//!
//! let connect = v5_0::Connect::builder().try_client_id("c1")?.build()?;
//! let (client, _incoming) = Client::connect(addr, connect, options).await?;
//! let publish = v5_0::Publish::builder()
//!     .try_topic_name("t")?
//!     .qos(QoS::AtLeastOnce)
//!     .packet_id(1) // `publish` replaces it with one the connection takes
//!     .payload(&b"hi"[..])
//!     .build()?;
//! client.publish(publish).await?;
//! client.close().await?; // DISCONNECT, after the PUBLISH
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
mod queue;
mod server;
mod timers;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "websocket")]
pub mod websocket;

pub use client::{Client, IntoConnect};
pub use config::Config;
pub use endpoint::{Endpoint, Incoming, Status};
pub use error::{connection_error_kind, io_error, Error, ForwardError};
pub use mqtt_core::{role, ConnectionError, ConnectionOptions, ConnectionState};
pub use server::{Server, ServerEndpoint};
