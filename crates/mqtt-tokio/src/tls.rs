//! TLS over TCP (feature `tls`), with `tokio-rustls`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use mqtt_codec::PacketId;
use mqtt_core::{role, ConnectionOptions, GenericConnection};
use tokio::net::{TcpStream, ToSocketAddrs};
pub use tokio_rustls::{rustls, TlsAcceptor, TlsConnector};

use crate::{Config, Endpoint, Error, Incoming, IntoConnect, Server};

impl<P: PacketId + Send + 'static> Endpoint<role::Client, P>
where
    GenericConnection<role::Client, P>: Send,
{
    /// [`connect`](Self::connect) over TLS: connects over TCP to `addr`,
    /// runs the TLS handshake with `tls` for `server_name` (the name the
    /// certificate must carry), then the MQTT CONNECT / CONNACK.
    ///
    /// Errs with [`Error::Io`] when TCP or the handshake fails, else like
    /// [`connect`](Self::connect).
    pub async fn connect_tls<A: ToSocketAddrs>(
        addr: A,
        server_name: &str,
        tls: Arc<rustls::ClientConfig>,
        connect: impl IntoConnect<P>,
        options: ConnectionOptions,
    ) -> Result<(Self, Incoming<role::Client, P>), Error> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let stream = tls_handshake(tcp, server_name, tls).await?;
        let connect = connect.into_connect();
        let connection = GenericConnection::with_options(connect.version(), options);
        Self::connect_with(stream, connection, connect, Config::default()).await
    }
}

/// The client's TLS handshake over `tcp` for `server_name` (the name the
/// certificate must carry); errs with `InvalidInput` on a name that is not
/// a DNS name or an IP address, and with the handshake's error.
pub(crate) async fn tls_handshake<S>(
    tcp: S,
    server_name: &str,
    tls: Arc<rustls::ClientConfig>,
) -> io::Result<tokio_rustls::client::TlsStream<S>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let name = rustls::pki_types::ServerName::try_from(server_name.to_owned())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    TlsConnector::from(tls).connect(name, tcp).await
}

impl<P: PacketId + Send + 'static> Server<P>
where
    GenericConnection<role::Server, P>: Send,
{
    /// [`accept`](Self::accept) over TLS: accepts a TCP connection, runs
    /// the TLS handshake with `acceptor`, and starts the endpoint. The
    /// handshake is bounded by [`Config::handshake_timeout`]; a server that
    /// must not wait for one client accepts with
    /// [`accept_stream`](Self::accept_stream) and runs the handshake and
    /// [`serve`](Self::serve) in a task of its own.
    pub async fn accept_tls(
        &self,
        acceptor: &TlsAcceptor,
    ) -> io::Result<(
        Endpoint<role::Server, P>,
        Incoming<role::Server, P>,
        SocketAddr,
    )> {
        let (tcp, peer) = self.accept_stream().await?;
        let handshake = acceptor.accept(tcp);
        let stream = tokio::time::timeout(self.config().handshake_timeout, handshake)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake"))??;
        let (endpoint, incoming) = self.serve(stream);
        Ok((endpoint, incoming, peer))
    }
}
