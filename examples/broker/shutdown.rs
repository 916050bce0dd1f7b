//! A clean stop: on SIGTERM or SIGINT the broker stops accepting, tells
//! every v5.0 client DISCONNECT 0x8B (Server shutting down, §3.14.2.1),
//! closes every connection once what it has to write is out, and returns.

use std::sync::atomic::Ordering;
use std::time::Duration;

use mqtt_codec::v5_0::DisconnectReasonCode;
use mqtt_codec::{v5_0, GenericPacket, ProtocolVersion};
use mqtt_tokio::ServerEndpoint;

use super::hibernate;
use super::state::{Presence, Shared};

/// How long the connections have to write their DISCONNECT and what they
/// hold before they are dropped.
pub const FLUSH: Duration = Duration::from_secs(5);

/// Completes at SIGINT (Ctrl-C) or, on Unix, SIGTERM. Call it before the
/// broker runs, so that the signals are caught from then on.
pub fn signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        if let Some(terminate) = terminate.as_mut() {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Sends every connected client DISCONNECT 0x8B (v5.0; a v3.1.1 client
/// only sees its connection close) and closes the connections, waiting at
/// most `flush` for them.
pub async fn disconnect_all(shared: &Shared, flush: Duration) {
    let online: Vec<(ServerEndpoint, ProtocolVersion)> = {
        let mut st = shared.lock();
        // Hibernated connections are woken, to be closed as the others.
        for (client, session) in st.sessions.iter_mut() {
            hibernate::wake(shared, session, client);
        }
        st.sessions
            .values()
            .filter_map(|s| match &s.presence {
                Presence::Online(online) => Some((online.endpoint.clone(), online.version)),
                Presence::Offline(_) | Presence::Asleep(_) => None,
            })
            .collect()
    };
    let mut closing = tokio::task::JoinSet::new();
    for (endpoint, version) in online.iter().cloned() {
        closing.spawn(async move {
            if version == ProtocolVersion::V5_0 {
                let disconnect = v5_0::Disconnect::new(DisconnectReasonCode::ServerShuttingDown);
                let packet = GenericPacket::V5_0(v5_0::Packet::from(disconnect));
                let _ = endpoint.forward(packet).await;
            }
            // Flushes what is queued (the DISCONNECT last), then closes.
            let _ = endpoint.close().await;
        });
    }
    let all = async { while closing.join_next().await.is_some() {} };
    if tokio::time::timeout(flush, all).await.is_err() {
        // Peers that do not read: their connections are dropped.
        for (endpoint, _) in &online {
            endpoint.abort();
        }
    }
}

/// Waits until every connection's task has ended (each stored its session
/// as it ended), at most `limit`. Call after [`disconnect_all`].
pub async fn wait_connections(shared: &Shared, limit: Duration) {
    let all = async {
        while shared.stats.connections.load(Ordering::Relaxed) > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let _ = tokio::time::timeout(limit, all).await;
}
