//! [`Server`]: accepting MQTT Clients.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use mqtt_codec::PacketId;
use mqtt_core::role;
use mqtt_core::{ConnectionOptions, GenericConnection};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};

use crate::{Config, Endpoint, Incoming, Joined};

/// The handle of a connection accepted by a [`Server`], with `u16` packet
/// identifiers.
pub type ServerEndpoint = Endpoint<role::Server, u16>;

/// A TCP listener that hands out Server-role endpoints, one per accepted
/// network connection. Each connection learns its MQTT version (v3.1.1 or
/// v5.0) from the CONNECT it receives (§3.1.2.2); the application sees that
/// CONNECT first in the [`Incoming`] and answers it with a CONNACK.
#[derive(Debug)]
pub struct Server<P: PacketId = u16> {
    listener: TcpListener,
    /// Shared by every connection accepted (copied by one that changes its own).
    options: Arc<ConnectionOptions>,
    config: std::sync::Arc<Config>,
    _id: std::marker::PhantomData<fn() -> P>,
}

impl Server<u16> {
    /// Listens on `addr` (port 0 picks a free port: see
    /// [`local_addr`](Self::local_addr)), with the default options.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<Self> {
        Ok(Server::from_listener(TcpListener::bind(addr).await?))
    }
}

impl<P: PacketId + Send + 'static> Server<P>
where
    GenericConnection<role::Server, P>: Send,
{
    /// Accepts on `listener`, with packet identifiers of width `P`.
    pub fn from_listener(listener: TcpListener) -> Self {
        Server {
            listener,
            options: Arc::new(ConnectionOptions::default()),
            config: Default::default(),
            _id: std::marker::PhantomData,
        }
    }

    /// Sets the core options of each accepted connection (a broker:
    /// [`AckPolicy::AfterHandling`](mqtt_core::AckPolicy::AfterHandling),
    /// then [`Endpoint::acknowledge`] once a message is routed).
    pub fn with_options(mut self, options: ConnectionOptions) -> Self {
        self.options = Arc::new(options);
        self
    }

    /// Sets the driver configuration of each accepted connection.
    pub fn with_config(mut self, config: Config) -> Self {
        self.config = config.into();
        self
    }

    /// The address listened on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The driver configuration of each accepted connection.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Waits for the next TCP connection (Nagle off), without starting an
    /// endpoint: for a transport set up by the application (a TLS or
    /// WebSocket handshake in a task of its own), then [`serve`](Self::serve).
    pub async fn accept_stream(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.listener.accept().await?;
        stream.set_nodelay(true)?;
        tracing::debug!(%peer, "accepted");
        Ok((stream, peer))
    }

    /// Waits for the next network connection and starts its endpoint.
    pub async fn accept(
        &self,
    ) -> io::Result<(
        Endpoint<role::Server, P>,
        Incoming<role::Server, P>,
        SocketAddr,
    )> {
        let (stream, peer) = self.accept_stream().await?;
        let span = tracing::info_span!("mqtt_server", %peer);
        let connection = self.connection();
        let (endpoint, incoming) =
            Endpoint::spawn(connection, stream, self.config.clone(), None, span);
        Ok((endpoint, incoming, peer))
    }

    /// A new connection with this server's options, learning its version
    /// from the CONNECT.
    fn connection(&self) -> GenericConnection<role::Server, P> {
        GenericConnection::<role::Server, P>::detect_version_with_options(self.options.clone())
    }

    /// Starts a Server-role endpoint over an accepted transport of any kind
    /// (TLS, WebSocket), with this server's options.
    pub fn serve<S>(&self, stream: S) -> (Endpoint<role::Server, P>, Incoming<role::Server, P>)
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let connection = self.connection();
        let span = tracing::info_span!("mqtt_server");
        Endpoint::spawn(connection, stream, self.config.clone(), None, span)
    }

    /// [`serve`](Self::serve) in one future with the application's:
    /// `handle` gets the endpoint and the incoming packets and returns the
    /// future that serves them; the returned future runs it and the
    /// connection's driver together, and completes when both have (with
    /// `handle`'s output). Spawn it: one task per connection instead of
    /// two, so less memory per connection, and the application and its
    /// driver wake each other without another thread's help (a broker
    /// with many connections, or many short ones).
    ///
    /// The connection is driven only while that future is polled. Dropped
    /// before the driver is done, it closes the transport at once, with
    /// nothing more written.
    ///
    /// With [`Config::hibernate_after`], a quiet connection's driver may
    /// stop with the transport open: `incoming` then ends, and
    /// [`Incoming::take_hibernated`] hands the connection over.
    ///
    /// ```no_run
    /// # async fn run(server: mqtt_tokio::Server) -> std::io::Result<()> {
    /// let (stream, _peer) = server.accept_stream().await?;
    /// tokio::spawn(server.serve_with(stream, |endpoint, mut incoming| async move {
    ///     while let Some(packet) = incoming.recv().await {
    ///         // answer the CONNECT, route PUBLISH packets with `endpoint`...
    ///         # let _ = (&packet, &endpoint);
    ///     }
    /// }));
    /// # Ok(())
    /// # }
    /// ```
    pub fn serve_with<S, F, H>(
        &self,
        stream: S,
        handle: H,
    ) -> Joined<impl std::future::Future<Output = ()> + Send + 'static, F>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
        H: FnOnce(Endpoint<role::Server, P>, Incoming<role::Server, P>) -> F,
        F: std::future::Future,
    {
        let connection = self.connection();
        let span = tracing::info_span!("mqtt_server");
        let (endpoint, incoming, driver) =
            Endpoint::unspawned(connection, stream, self.config.clone(), span, |_| {});
        Joined::new(driver, handle(endpoint, incoming))
    }
}
