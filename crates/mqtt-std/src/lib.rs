//! Blocking MQTT v3.1.1 and v5.0 clients and endpoints over `std::net`,
//! driving the Sans-I/O connection of [`mqtt_core`].
//!
//! - [`Client`] is the high-level client, the same shape as mqtt-tokio's:
//!   [`ClientOptions`] from an `mqtt://` URL and a builder; `publish`
//!   returns with the broker's answer ([`Delivered`]: at the PUBACK or
//!   PUBCOMP), `subscribe` with the QoS granted; received
//!   [`Message`](codec::Message)s come from [`Messages`] (an iterator);
//!   a lost connection is re-established with the core's [`Reconnect`]
//!   backoff, the session resumed (unacknowledged QoS 1 and 2 messages go
//!   again, [MQTT-4.4.0-1]) and the subscriptions made again when the
//!   broker kept no session; [`Client::state`] and [`StateWatch`] report
//!   each change; errors are [`Error`]. A background thread runs the
//!   connection (see [`Client::connect`]).
//!
//! ```no_run
//! use mqtt_std::prelude::*;
//!
//! let options = ClientOptions::new("mqtt://127.0.0.1:1883")?.client_id("demo");
//! let (client, mut messages) = Client::connect(options)?;
//! client.subscribe("sensors/#", QoS::AtLeastOnce)?;
//! client.publish("sensors/1", QoS::AtLeastOnce, false, "21.5")?; // PUBACK came
//! if let Some(message) = messages.recv() {
//!     println!("{}: {:?}", message.topic_name(), message.payload());
//! }
//! client.disconnect()?;
//! # Ok::<(), mqtt_std::Error>(())
//! ```
//!
//! Under it, the low layer, packet by packet (it does not reconnect):
//! an endpoint owns a stream (`TcpStream` by default, or any
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
//! - [`publish`](GenericEndpoint::publish) a [`Message`](codec::Message)
//!   (the core numbers it), [`send`](GenericEndpoint::send) a packet,
//!   [`recv`](GenericEndpoint::recv),
//!   [`recv_timeout`](GenericEndpoint::recv_timeout),
//!   [`acknowledge`](GenericEndpoint::acknowledge) (with
//!   [`AckPolicy::AfterHandling`]), [`close`](GenericEndpoint::close). A
//!   PUBLISH payload is written uncopied, in a vectored write after its
//!   head.
//! - Beyond the peer's Receive Maximum, QoS 1 and 2 messages wait in the
//!   core's session queue and leave as acknowledgements arrive; the
//!   endpoint keeps no queue of its own.
//! - Timers run while the application is inside a call (reads time out at
//!   the next timer, kept in the core's [`TimerTable`]); see
//!   [`GenericEndpoint`] for an application that only sends.
//! - Errors of the core become [`std::io::Error`] through [`io_error`] and
//!   [`send_io_error`].
//! - One `use`: [`prelude`] holds the core's prelude and the endpoints;
//!   the core is [`mqtt_core`], the codec [`codec`].
//!
//! A client and a server on loopback:
//!
//! ```
//! use std::net::TcpListener;
//! use std::time::Duration;
//! use mqtt_std::prelude::*;
//!
//! let timeout = Duration::from_secs(5);
//! // The defaults acknowledge on receipt and answer PINGREQ.
//! let options = ConnectionOptions::default();
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
//! let message = Message::builder()
//!     .topic_name(TopicName::from_static("sensors/1")?)
//!     .qos(QoS::AtLeastOnce)
//!     .payload("21.5")
//!     .build()?;
//! let id = client.publish(message)?;
//! assert_eq!(id, Some(1));
//! // The PUBACK.
//! let puback = client.recv()?;
//! assert!(matches!(puback, GenericPacket::V5_0(v5_0::Packet::Puback(_))));
//! client.close()?;
//! assert_eq!(server.join().expect("server thread")?, b"21.5");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod connect;
mod deadline;
mod endpoint;
mod error;
mod server;

pub use client::{
    Client, ClientOptions, ClientState, Delivered, Error, Granted, Messages, StateWatch,
};
pub use connect::ConnectPacket;
pub use deadline::Deadline;
pub use endpoint::{ClientEndpoint, Endpoint, GenericEndpoint, ServerEndpoint};
pub use error::{io_error, send_io_error};
/// The Sans-I/O core this crate drives (`mqtt-core`), with the codec, the
/// session and `bytes`.
pub use mqtt_core;
/// The core's types an application of this crate uses, re-exported.
pub use mqtt_core::{
    bytes, codec, role, session, AckPolicy, ConnectionError, ConnectionOptions, ConnectionState,
    Event, GenericEvent, Reconnect, SendError, TimerKind, TimerTable,
};

/// What a program using this crate names, in one `use`:
/// `use mqtt_std::prelude::*;` gives the core's
/// [`prelude`](mqtt_core::prelude) (packets, [`Message`](codec::Message),
/// [`QoS`](codec::QoS), options, events, errors), the client and the endpoints.
pub mod prelude {
    pub use crate::{
        Client, ClientEndpoint, ClientOptions, ClientState, Delivered, Endpoint, GenericEndpoint,
        Messages, Reconnect, ServerEndpoint, StateWatch,
    };
    pub use mqtt_core::prelude::*;
}
