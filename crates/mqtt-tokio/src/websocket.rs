//! MQTT over WebSocket (feature `websocket`), with `tokio-tungstenite`:
//! MQTT Control Packets travel in binary frames [MQTT-6.0.0-1] (a frame may
//! hold part of a packet or several [MQTT-6.0.0-2]), with the subprotocol
//! `mqtt` [MQTT-6.0.0-3], [MQTT-6.0.0-4].

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use futures_util::{Sink, Stream};
use mqtt_codec::PacketId;
use mqtt_core::{role, ConnectionOptions, GenericConnection};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::Message;
pub use tokio_tungstenite::WebSocketStream;

use crate::{Config, Endpoint, Error, Incoming, IntoConnect, Server};

/// The WebSocket subprotocol of MQTT (§6).
pub const SUBPROTOCOL: &str = "mqtt";
const PROTOCOL_HEADER: &str = "Sec-WebSocket-Protocol";

/// A WebSocket as a byte stream for an [`Endpoint`]: what is written goes
/// out in binary frames, what arrives in binary frames is read; a text
/// frame is an error that closes the connection [MQTT-6.0.0-1].
#[derive(Debug)]
pub struct WsStream<S> {
    ws: WebSocketStream<S>,
    read: Bytes,
}

impl<S> WsStream<S> {
    /// Wraps an established WebSocket.
    pub fn new(ws: WebSocketStream<S>) -> Self {
        WsStream {
            ws,
            read: Bytes::new(),
        }
    }
}

fn ws_error(e: tokio_tungstenite::tungstenite::Error) -> io::Error {
    io::Error::other(e)
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for WsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.read.is_empty() {
                let n = self.read.len().min(buf.remaining());
                buf.put_slice(&self.read[..n]);
                self.read.advance(n);
                return Poll::Ready(Ok(()));
            }
            match ready!(Pin::new(&mut self.ws).poll_next(cx)) {
                Some(Ok(Message::Binary(data))) => self.read = data,
                Some(Ok(Message::Text(_))) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "a text frame on an MQTT WebSocket [MQTT-6.0.0-1]",
                    )))
                }
                Some(Ok(Message::Close(_))) | None => return Poll::Ready(Ok(())),
                Some(Ok(_)) => {} // Ping, Pong: tungstenite answers pings.
                Some(Err(e)) => return Poll::Ready(Err(ws_error(e))),
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for WsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(Pin::new(&mut self.ws).poll_ready(cx)).map_err(ws_error)?;
        Pin::new(&mut self.ws)
            .start_send(Message::Binary(Bytes::copy_from_slice(buf)))
            .map_err(ws_error)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.ws).poll_flush(cx).map_err(ws_error)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.ws).poll_close(cx).map_err(ws_error)
    }
}

impl<P: PacketId + Send + 'static> Endpoint<role::Client, P>
where
    GenericConnection<role::Client, P>: Send,
{
    /// [`connect`](Self::connect) over WebSocket: `url` is `ws://host:port/path`;
    /// the handshake asks for the subprotocol `mqtt` and fails unless the
    /// server selects it [MQTT-6.0.0-3], [MQTT-6.0.0-4].
    pub async fn connect_ws(
        url: &str,
        connect: impl IntoConnect<P>,
        options: ConnectionOptions,
    ) -> Result<(Self, Incoming<role::Client, P>), Error> {
        let request = ws_request(url)?;
        let host = request.uri().host().unwrap_or_default().to_owned();
        let port = request.uri().port_u16().unwrap_or(80);
        let tcp = TcpStream::connect((host, port)).await?;
        tcp.set_nodelay(true)?;
        let stream = ws_handshake(request, tcp).await?;
        let connect = connect.into_connect();
        let connection = GenericConnection::with_options(connect.version(), options);
        Self::connect_with(stream, connection, connect, Config::default()).await
    }
}

/// The client's upgrade request for `url`, offering the subprotocol `mqtt`;
/// errs with `InvalidInput` on a URL that is not `ws://` or `wss://` with a
/// host.
pub(crate) fn ws_request(url: &str) -> Result<Request, Error> {
    let invalid = |e: &dyn std::fmt::Display| {
        Error::Io(io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))
    };
    let mut request = url.into_client_request().map_err(|e| invalid(&e))?;
    request
        .headers_mut()
        .insert(PROTOCOL_HEADER, HeaderValue::from_static(SUBPROTOCOL));
    if request.uri().host().is_none() {
        return Err(invalid(&"no host"));
    }
    Ok(request)
}

/// The client's WebSocket handshake over `stream` (TCP, or TLS for
/// `wss://`); errs unless the server selects `mqtt` [MQTT-6.0.0-4].
pub(crate) async fn ws_handshake<S>(request: Request, stream: S) -> Result<WsStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (ws, response) = tokio_tungstenite::client_async(request, stream)
        .await
        .map_err(ws_error)?;
    if response
        .headers()
        .get(PROTOCOL_HEADER)
        .map(|v| v.as_bytes())
        != Some(SUBPROTOCOL.as_bytes())
    {
        return Err(Error::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            "the server did not select the WebSocket subprotocol mqtt [MQTT-6.0.0-4]",
        )));
    }
    Ok(WsStream::new(ws))
}

/// The server side of the handshake: selects `mqtt` when the client offers
/// it, refuses the upgrade otherwise.
#[allow(clippy::result_large_err)]
fn select_mqtt(request: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    let offered = request
        .headers()
        .get_all(PROTOCOL_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == SUBPROTOCOL);
    if !offered {
        let mut refuse =
            ErrorResponse::new(Some("the WebSocket subprotocol mqtt is required".into()));
        *refuse.status_mut() = StatusCode::BAD_REQUEST;
        return Err(refuse);
    }
    response
        .headers_mut()
        .insert(PROTOCOL_HEADER, HeaderValue::from_static(SUBPROTOCOL));
    Ok(response)
}

impl<P: PacketId + Send + 'static> Server<P>
where
    GenericConnection<role::Server, P>: Send,
{
    /// [`accept`](Self::accept) over WebSocket: accepts a TCP connection,
    /// runs the WebSocket handshake selecting the subprotocol `mqtt`
    /// [MQTT-6.0.0-4] (bounded by [`Config::handshake_timeout`]), and starts the
    /// endpoint.
    pub async fn accept_ws(
        &self,
    ) -> io::Result<(
        Endpoint<role::Server, P>,
        Incoming<role::Server, P>,
        SocketAddr,
    )> {
        let (tcp, peer) = self.accept_stream().await?;
        let handshake = tokio_tungstenite::accept_hdr_async(tcp, select_mqtt);
        let ws = tokio::time::timeout(self.config().handshake_timeout, handshake)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "WebSocket handshake"))?
            .map_err(ws_error)?;
        let (endpoint, incoming) = self.serve(WsStream::new(ws));
        Ok((endpoint, incoming, peer))
    }
}
