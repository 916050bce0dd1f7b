//! The task behind a [`Client`](crate::Client): one network connection at a
//! time, each run by a driver, and between them the backoff. The session,
//! the channels to the handles and the waiting calls pass from one driver
//! to the next ([`Handover`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use mqtt_codec::{v3_1_1, v5_0, GenericPacket};
use mqtt_core::{role, GenericConnection};
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::Instrument;

use super::{transport, ClientOptions, ClientState};
use crate::driver::{Driver, Finished, Handover};
use crate::Error;

type Connection = GenericConnection<role::Client, u16>;
type Running = JoinHandle<Finished<role::Client, u16>>;

/// [`Client::disconnect`](crate::Client::disconnect) asked the client to end.
#[derive(Default)]
pub(crate) struct Stop {
    asked: AtomicBool,
    notify: Notify,
}

impl Stop {
    pub(crate) fn ask(&self) {
        self.asked.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    fn asked(&self) -> bool {
        self.asked.load(Ordering::SeqCst)
    }
}

/// The client's side of the connections: options, identity, state.
pub(crate) struct Supervisor {
    pub(crate) options: ClientOptions,
    /// The Client Identifier to resume with (the configured one, made up
    /// on v3.1.1 when empty, or the one the server assigned).
    pub(crate) client_id: String,
    pub(crate) state: watch::Sender<ClientState>,
    pub(crate) stop: Arc<Stop>,
    /// Whether a connection was established: later CONNECTs resume.
    connected_once: bool,
}

impl Supervisor {
    pub(crate) fn new(
        options: ClientOptions,
        state: watch::Sender<ClientState>,
        stop: Arc<Stop>,
    ) -> Self {
        let client_id = match (options.configured_client_id(), options.protocol_version()) {
            ("", mqtt_codec::ProtocolVersion::V3_1_1) => made_up_client_id(),
            (id, _) => id.to_owned(),
        };
        Supervisor {
            options,
            client_id,
            state,
            stop,
            connected_once: false,
        }
    }

    /// One attempt: TCP, CONNECT, CONNACK, within the connect timeout;
    /// returns the driver's task, running. `Err` gives the connection and
    /// the handover back, with why it failed.
    pub(crate) async fn attempt(
        &mut self,
        conn: Connection,
        handover: Handover<u16>,
    ) -> Result<Running, (Connection, Handover<u16>, Error)> {
        let deadline = Instant::now() + self.options.connect_timeout;
        let opening = tokio::time::timeout_at(deadline, transport::open(&self.options));
        let stream = match opening.await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return Err((conn, handover, e)),
            Err(_) => return Err((conn, handover, timed_out())),
        };
        let connect = match self
            .options
            .connect_packet(self.connected_once, &self.client_id)
        {
            Ok(connect) => connect,
            Err(e) => return Err((conn, handover, e)),
        };
        // A fresh one: a stale permit of the last driver's would abort this one.
        let mut handover = handover;
        handover.abort = Arc::new(Notify::new());
        let abort = handover.abort.clone();
        let (reply, answer) = oneshot::channel();
        let mut driver = Driver::resume(conn, stream, self.options.config.clone(), handover);
        let span = tracing::info_span!("mqtt_client", client_id = %self.client_id);
        {
            let _enter = span.enter();
            driver.start_connect(connect, reply);
        }
        let task = tokio::spawn(driver.run().instrument(span));
        let outcome = tokio::time::timeout_at(deadline, answer).await;
        let connack = match outcome {
            Ok(Ok(Ok(connack))) => connack,
            other => {
                abort.notify_one();
                let error = match other {
                    Ok(Ok(Err(e))) => e,
                    Err(_) => timed_out(),
                    _ => Error::Closed,
                };
                return match task.await {
                    Ok(finished) => {
                        let handover = finished.handover.expect("a client's driver hands over");
                        Err((finished.connection, handover, error))
                    }
                    Err(join) => std::panic::resume_unwind(join.into_panic()),
                };
            }
        };
        let (session_present, assigned) = connack_facts(&connack);
        if let Some(assigned) = assigned {
            self.client_id = assigned;
        }
        self.connected_once = true;
        self.state
            .send_replace(ClientState::Connected { session_present });
        Ok(task)
    }

    /// Runs until the client ends: waits for each connection to end, then
    /// reconnects with backoff. The delays grow with every attempt until a
    /// connection lasts the backoff's cap; the client gives up after the
    /// backoff's maximum of failed attempts in a row.
    pub(crate) async fn run(mut self, mut task: Running) {
        let mut streak = 0u32;
        loop {
            let started = Instant::now();
            let finished = match task.await {
                Ok(finished) => finished,
                Err(join) => std::panic::resume_unwind(join.into_panic()),
            };
            let mut handover = finished.handover.expect("a client's driver hands over");
            let mut conn = finished.connection;
            let mut reason = finished.reason.map(Arc::new);
            let Some(reconnect) = self.options.reconnect else {
                return self.end(handover, reason).await;
            };
            if handover.ended || self.stop.asked() {
                return self.end(handover, reason).await;
            }
            streak = reconnect.after(streak, started.elapsed());
            let mut failures = 0u32;
            loop {
                if !reconnect.allows(failures) {
                    return self.end(handover, reason).await;
                }
                let delay = reconnect.jittered(streak);
                streak = streak.saturating_add(1);
                tracing::info!(attempt = failures, ?delay, reason = ?reason, "reconnecting");
                self.state.send_replace(ClientState::Reconnecting {
                    attempt: failures,
                    delay,
                    reason: reason.clone(),
                });
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = self.stop.notify.notified() => {}
                }
                let gone = handover.cmd_rx.senders_gone() && handover.incoming_tx.is_closed();
                if self.stop.asked() || gone {
                    return self.end(handover, reason).await;
                }
                match self.attempt(conn, handover).await {
                    Ok(running) => {
                        task = running;
                        break;
                    }
                    Err((c, h, e)) => {
                        tracing::debug!(error = %e, attempt = failures, "reconnection failed");
                        (conn, handover, reason) = (c, h, Some(Arc::new(e)));
                        failures = failures.saturating_add(1);
                    }
                }
            }
        }
    }

    /// The client ends: callers still waiting learn it, the messages
    /// received but not yet taken are delivered, the state says why.
    async fn end(self, mut handover: Handover<u16>, reason: Option<Arc<Error>>) {
        crate::driver::tracker::send_all(handover.tracker.close());
        // Commands still queued are dropped with their reply channels:
        // their callers get `Error::Closed`.
        drop(handover.cmd_rx);
        self.state.send_replace(ClientState::Closed { reason });
        let pending = &mut handover.pending;
        while !pending.is_empty() && handover.incoming_tx.send_from(pending).await {}
    }
}

/// The first CONNACK's Session Present and Assigned Client Identifier.
fn connack_facts(connack: &GenericPacket<u16>) -> (bool, Option<String>) {
    match connack {
        GenericPacket::V3_1_1(v3_1_1::Packet::Connack(c)) => (c.session_present(), None),
        GenericPacket::V5_0(v5_0::Packet::Connack(c)) => {
            let assigned = c.properties().assigned_client_identifier.as_ref();
            (
                c.session_present(),
                assigned.map(|id| id.as_str().to_owned()),
            )
        }
        _ => (false, None),
    }
}

/// A Client Identifier for a v3.1.1 client that gave none: a server must
/// refuse an empty one with Clean Session 0 [MQTT-3.1.3-8], and a
/// reconnection resumes with Clean Session 0.
fn made_up_client_id() -> String {
    use std::hash::BuildHasher;
    let bits = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
    format!("mqtt-tokio-{bits:016x}")
}

fn timed_out() -> Error {
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "no connection and CONNACK within the connect timeout",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_codec::ProtocolVersion;

    fn client_id(options: ClientOptions) -> String {
        let (state, _) = watch::channel(ClientState::Closed { reason: None });
        Supervisor::new(options, state, Arc::default()).client_id
    }

    #[test]
    fn a_v3_client_without_an_identifier_gets_one() {
        let o = ClientOptions::new("mqtt://h").unwrap();
        assert_eq!(client_id(o.clone().client_id("mine")), "mine");
        assert_eq!(client_id(o.clone()), "", "v5.0: the server assigns one");
        let made_up = client_id(o.version(ProtocolVersion::V3_1_1));
        assert!(
            made_up.starts_with("mqtt-tokio-") && made_up.len() > 11,
            "{made_up}"
        );
    }
}
