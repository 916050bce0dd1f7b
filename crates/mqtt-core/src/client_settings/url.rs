//! [`ClientUrl`]: a client URL split into its parts, the same for every
//! adapter; the adapter judges the scheme and the path.

use bytes::Bytes;

use super::ClientSettings;

/// A client URL, `SCHEME://[user[:password]@]host[:port][/path][?query]`,
/// split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientUrl<'a> {
    /// Before `://`.
    pub scheme: &'a str,
    /// `user[:password]`, before the `@`.
    pub user_info: Option<&'a str>,
    /// `host[:port]` or `[v6]:port` (see [`host_port`](Self::host_port)).
    pub host_port: &'a str,
    /// From the first `/` after the host on (empty without one).
    pub path: &'a str,
    /// After the `?`: pairs joined by `&`.
    pub query: &'a str,
}

impl<'a> ClientUrl<'a> {
    /// Splits `url`; errs when it has no `://`.
    pub fn split(url: &'a str) -> Result<Self, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or("not a URL (mqtt://host:port)")?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = match rest.find('/') {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        let (user_info, host_port) = match authority.rsplit_once('@') {
            Some((user_info, host_port)) => (Some(user_info), host_port),
            None => (None, authority),
        };
        Ok(ClientUrl {
            scheme,
            user_info,
            host_port,
            path,
            query,
        })
    }

    /// The host and the port, `default` when absent; errs without a host
    /// or with a bad port.
    pub fn host_port(&self, default: u16) -> Result<(&'a str, u16), String> {
        let s = self.host_port;
        let bad = || "no host, or a bad port".to_owned();
        let (host, port) = if let Some(v6) = s.strip_prefix('[') {
            let (host, rest) = v6.split_once(']').ok_or_else(bad)?;
            (host, rest.strip_prefix(':'))
        } else {
            match s.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (s, None),
            }
        };
        let port = match port {
            Some(port) => port.parse().map_err(|_| bad())?,
            None => default,
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok((host, port))
    }
}

impl ClientSettings {
    /// Takes what `url` says past the host: the user info (User Name and
    /// Password) and the query (`client_id=ID`). Errs naming an unknown
    /// query pair.
    pub fn apply_url(&mut self, url: &ClientUrl<'_>) -> Result<(), String> {
        if let Some(user_info) = url.user_info {
            let (user, password) = match user_info.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (user_info, None),
            };
            self.user_name = Some(user.to_owned());
            self.password = password.map(|p| Bytes::copy_from_slice(p.as_bytes()));
        }
        for pair in url.query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("client_id", id)) => self.client_id = id.to_owned(),
                _ => return Err(format!("unknown query `{pair}`")),
            }
        }
        Ok(())
    }
}
