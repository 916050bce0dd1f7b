//! Blocking MQTT v3.1.1 and v5.0 endpoints over `std::net`, driving the
//! Sans-I/O connection of [`mqtt_core`].
//!
//! An endpoint owns a stream (`TcpStream` by default, or any
//! `Read + Write + `[`Deadline`]) and a [`GenericConnection`](mqtt_core::GenericConnection).
//! Its loop is the core's: read → `recv` → handle the events → write. It
//! holds no MQTT rule of its own: acknowledgements, keep alive, Topic
//! Aliases, Receive Maximum are the core's, configured by
//! [`ConnectionOptions`].
//!
//! - [`ClientEndpoint::connect`](GenericEndpoint::connect): TCP connect,
//!   CONNECT, CONNACK, with a timeout.
//! - [`ServerEndpoint::accept`](GenericEndpoint::accept): accept and wait
//!   for the CONNECT, whose version the endpoint takes.
//! - [`send`](GenericEndpoint::send), [`recv`](GenericEndpoint::recv),
//!   [`recv_timeout`](GenericEndpoint::recv_timeout),
//!   [`close`](GenericEndpoint::close). A PUBLISH payload is written
//!   uncopied, in a vectored write after its head.
//! - Timers run while the application is inside a call (reads time out at
//!   the next timer); see [`GenericEndpoint`] for an application that only
//!   sends.
//! - Errors of the core become [`std::io::Error`] through [`io_error`].
//!
//! A client and a server on loopback:
//!
//! ```
//! use std::net::TcpListener;
//! use std::time::Duration;
//! use mqtt_codec::{v5_0, GenericPacket, QoS};
//! use mqtt_std::{ClientEndpoint, ConnectionOptions, ServerEndpoint};
//!
//! let timeout = Duration::from_secs(5);
//! let mut options = ConnectionOptions::default();
//! options.auto_pub_response = true;
//! options.auto_ping_response = true;
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! let server_options = options.clone();
//! let server = std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
//!     let (mut server, _connect) = ServerEndpoint::accept(&listener, server_options, timeout)?;
//!     server.set_timeout(Some(timeout));
//!     server.send(v5_0::Connack::builder().build().expect("CONNACK"))?;
//!     // The PUBLISH; its PUBACK goes out automatically.
//!     let publish = server.recv()?;
//!     let GenericPacket::V5_0(v5_0::Packet::Publish(publish)) = publish else {
//!         panic!("expected a PUBLISH, got {publish:?}");
//!     };
//!     // Then the DISCONNECT.
//!     server.recv()?;
//!     Ok(publish.payload().to_vec())
//! });
//!
//! let connect = v5_0::Connect::builder().try_client_id("c1")?.keep_alive(30).build()?;
//! let (mut client, _connack) = ClientEndpoint::connect(addr, connect, options, timeout)?;
//! client.set_timeout(Some(timeout));
//! let id = client.acquire_packet_id()?;
//! let publish = v5_0::Publish::builder()
//!     .try_topic_name("sensors/1")?
//!     .qos(QoS::AtLeastOnce)
//!     .packet_id(id)
//!     .payload(&b"21.5"[..])
//!     .build()?;
//! client.send(publish)?;
//! // The PUBACK.
//! let puback = client.recv()?;
//! assert!(matches!(puback, GenericPacket::V5_0(v5_0::Packet::Puback(_))));
//! client.close()?;
//! assert_eq!(server.join().expect("server thread")?, b"21.5");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod deadline;
mod endpoint;
mod error;
mod server;

pub use client::ConnectPacket;
pub use deadline::Deadline;
pub use endpoint::{ClientEndpoint, Endpoint, GenericEndpoint, ServerEndpoint};
pub use error::io_error;
/// The core's types an application of this crate uses, re-exported.
pub use mqtt_core::{
    role, ConnectionError, ConnectionOptions, ConnectionState, Event, GenericEvent, TimerKind,
};
