//! The byte stream under a [`Client`](crate::Client): TCP, TLS, WebSocket
//! or WebSocket over TLS, from the URL's scheme.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::options::Transport;
use super::ClientOptions;
use crate::Error;

/// Why a scheme cannot be served: the build lacks a feature, or the
/// options a TLS configuration.
const NEEDS_TLS: &str = "mqtts:// and wss:// need mqtt-tokio's feature `tls`";
const NEEDS_WEBSOCKET: &str = "ws:// and wss:// need mqtt-tokio's feature `websocket`";
#[cfg(feature = "tls")]
const NEEDS_TLS_CONFIG: &str =
    "mqtts:// and wss:// need a TLS configuration: ClientOptions::tls_config";

/// Any stream a driver runs a client connection over.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// Connects to the broker of `options` and runs the TLS and WebSocket
/// handshakes its scheme asks for. Errs with what failed, or with
/// `InvalidInput` when the scheme needs a feature this build lacks (or a
/// TLS configuration that was not given).
pub(crate) async fn open(options: &ClientOptions) -> Result<Box<dyn Stream>, Error> {
    check(options)?;
    let (host, port) = options.address();
    let tcp = TcpStream::connect((host, port)).await?;
    tcp.set_nodelay(options.settings.nodelay)?;
    match options.transport {
        Transport::Tcp => Ok(Box::new(tcp)),
        Transport::Tls => Ok(Box::new(tls(tcp, options).await?)),
        Transport::Ws => ws(tcp, options, "ws").await,
        Transport::Wss => {
            let tls = tls(tcp, options).await?;
            ws(tls, options, "wss").await
        }
    }
}

#[cfg(feature = "tls")]
async fn tls<S>(tcp: S, options: &ClientOptions) -> Result<impl Stream, Error>
where
    S: Stream,
{
    let config = options
        .tls
        .clone()
        .ok_or_else(|| missing(NEEDS_TLS_CONFIG))?;
    Ok(crate::tls::tls_handshake(tcp, options.address().0, config).await?)
}

#[cfg(not(feature = "tls"))]
async fn tls<S: Stream>(_: S, _: &ClientOptions) -> Result<S, Error> {
    Err(missing(NEEDS_TLS))
}

#[cfg(feature = "websocket")]
async fn ws<S: Stream>(
    stream: S,
    options: &ClientOptions,
    scheme: &str,
) -> Result<Box<dyn Stream>, Error> {
    let (host, port) = options.address();
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let url = format!("{scheme}://{host}:{port}{}", options.path);
    let request = crate::websocket::ws_request(&url)?;
    Ok(Box::new(
        crate::websocket::ws_handshake(request, stream).await?,
    ))
}

#[cfg(not(feature = "websocket"))]
async fn ws<S: Stream>(_: S, _: &ClientOptions, _: &str) -> Result<Box<dyn Stream>, Error> {
    Err(missing(NEEDS_WEBSOCKET))
}

/// What the scheme needs and this build or these options lack, known
/// before connecting.
fn check(options: &ClientOptions) -> Result<(), Error> {
    let tls = matches!(options.transport, Transport::Tls | Transport::Wss);
    let ws = matches!(options.transport, Transport::Ws | Transport::Wss);
    if tls && !cfg!(feature = "tls") {
        return Err(missing(NEEDS_TLS));
    }
    if ws && !cfg!(feature = "websocket") {
        return Err(missing(NEEDS_WEBSOCKET));
    }
    #[cfg(feature = "tls")]
    if tls && options.tls.is_none() {
        return Err(missing(NEEDS_TLS_CONFIG));
    }
    Ok(())
}

fn missing(what: &'static str) -> Error {
    Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, what))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(url: &str) -> Result<(), String> {
        check(&ClientOptions::new(url).unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn what_a_scheme_needs_is_known_before_connecting() {
        assert_eq!(checked("mqtt://h"), Ok(()));
        let tls = checked("mqtts://h").unwrap_err();
        match cfg!(feature = "tls") {
            true => assert!(tls.contains("ClientOptions::tls_config"), "{tls}"),
            false => assert!(tls.contains("feature `tls`"), "{tls}"),
        }
        match cfg!(feature = "websocket") {
            true => assert_eq!(checked("ws://h"), Ok(())),
            false => assert!(checked("ws://h")
                .unwrap_err()
                .contains("feature `websocket`")),
        }
    }

    #[cfg(feature = "tls")]
    #[test]
    fn a_tls_configuration_satisfies_mqtts() {
        use crate::tls::rustls;
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let options = ClientOptions::new("mqtts://h")
            .unwrap()
            .tls_config(std::sync::Arc::new(config));
        assert!(check(&options).is_ok());
        let wss = ClientOptions::new("wss://h").unwrap();
        let expected = match cfg!(feature = "websocket") {
            true => "tls_config",
            false => "feature `websocket`",
        };
        assert!(check(&wss).unwrap_err().to_string().contains(expected));
    }
}
