//! [`ClientEndpoint`]: connecting as an MQTT Client, packet by packet.

use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId};
use mqtt_core::role;
use mqtt_core::{ConnectionOptions, GenericConnection};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::sync::oneshot;

use crate::{Config, Endpoint, Error, Incoming};

mod sealed {
    pub trait Sealed {}
}

/// A CONNECT to open a Client connection with: a [`v3_1_1::Connect`], a
/// [`v5_0::Connect`], or a [`GenericPacket`] (whose version is chosen at run
/// time; the connection refuses one that is not a CONNECT). Sealed.
pub trait IntoConnect<P: PacketId>: sealed::Sealed {
    /// The packet.
    fn into_connect(self) -> GenericPacket<P>;
}

impl sealed::Sealed for v3_1_1::Connect {}
impl sealed::Sealed for v5_0::Connect {}
impl<P: PacketId> sealed::Sealed for GenericPacket<P> {}

impl<P: PacketId> IntoConnect<P> for v3_1_1::Connect {
    fn into_connect(self) -> GenericPacket<P> {
        v3_1_1::Packet::from(self).into()
    }
}
impl<P: PacketId> IntoConnect<P> for v5_0::Connect {
    fn into_connect(self) -> GenericPacket<P> {
        v5_0::Packet::from(self).into()
    }
}
impl<P: PacketId> IntoConnect<P> for GenericPacket<P> {
    fn into_connect(self) -> GenericPacket<P> {
        self
    }
}

/// The packet-level handle of a Client connection with `u16` packet
/// identifiers: the low layer under [`Client`](crate::Client), for programs
/// that speak in packets (a bridge, a test tool). See [`Endpoint`] for
/// sending, and [`Endpoint::connect`] to connect. It does not reconnect.
pub type ClientEndpoint = Endpoint<role::Client, u16>;

impl<P: PacketId + Send + 'static> Endpoint<role::Client, P>
where
    GenericConnection<role::Client, P>: Send,
{
    /// Connects over TCP to `addr` (Nagle off), sends `connect` (a v3.1.1
    /// or v5.0 CONNECT, whose version the connection takes), and returns
    /// once a CONNACK accepted it (§3.2), with the handle and the receiver
    /// of incoming packets; the CONNACK is [`Incoming::connack`].
    ///
    /// `options` are the core's automation; the defaults suit a client
    /// (acknowledgements on receipt, PINGRESP watched). Wrap the call in
    /// `tokio::time::timeout` to bound it.
    ///
    /// Errs with [`Error::Refused`] on a refusing CONNACK, [`Error::Io`]
    /// when the transport fails, [`Error::Send`] when the CONNECT is
    /// refused before it is sent (not a CONNECT, say), [`Error::Connection`]
    /// when the Server breaks the protocol.
    pub async fn connect<A: ToSocketAddrs>(
        addr: A,
        connect: impl IntoConnect<P>,
        options: ConnectionOptions,
    ) -> Result<(Self, Incoming<role::Client, P>), Error> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let connect = connect.into_connect();
        let connection = GenericConnection::with_options(connect.version(), options);
        Self::connect_with(stream, connection, connect, Config::default()).await
    }

    /// [`connect`](Self::connect) over any transport `stream` (TLS,
    /// WebSocket, a test pipe), with a `connection` that may carry the
    /// session of an earlier network connection
    /// ([`Incoming::into_connection`]): after a CONNACK with Session
    /// Present, its unacknowledged PUBLISH and PUBREL packets are re-sent
    /// [MQTT-4.4.0-1].
    pub async fn connect_with<S>(
        stream: S,
        connection: GenericConnection<role::Client, P>,
        connect: impl IntoConnect<P>,
        config: Config,
    ) -> Result<(Self, Incoming<role::Client, P>), Error>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let connect = connect.into_connect();
        let span = tracing::info_span!("mqtt_client", version = ?connect.version());
        let (reply, answer) = oneshot::channel();
        let (client, mut incoming) = Endpoint::spawn(
            connection,
            stream,
            config.into(),
            Some((connect, reply)),
            span,
        );
        match answer.await {
            Ok(Ok(connack)) => {
                incoming.connack = Some(Box::new(connack));
                Ok((client, incoming))
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::Closed),
        }
    }
}
