//! The task behind a [`Client`](crate::Client): one network connection at a
//! time, each run by a driver, and between them the backoff. The session,
//! the channels to the handles and the waiting calls pass from one driver
//! to the next ([`Handover`]).

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use mqtt_codec::{v3_1_1, v5_0, GenericPacket};
use mqtt_core::{role, GenericConnection};
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;
use tracing::Instrument;

use super::state::StateCell;
use super::{transport, ClientOptions, ClientState};
use crate::driver::{Driver, Finished, Handover};
use crate::Error;

type Connection = GenericConnection<role::Client, u16>;

/// Where the first attempt's outcome goes: to [`Client::connect`](crate::Client::connect).
pub(crate) type First = oneshot::Sender<Result<(), Error>>;

/// What passes from one network connection to the next: the session and
/// the handover. Boxed: a future holds its arguments and the values it
/// moves for its whole life, and the client's one task should not hold
/// these twice beside the driver that owns them while connected.
type Next = Box<(Connection, Handover<u16>)>;

/// How a network connection ended.
enum Attempt {
    /// It was established (CONNACK accepted), and ran until it ended;
    /// the last network error, if any.
    Ran(Next, Option<Error>),
    /// It failed before the CONNACK, and why.
    Failed(Next, Error),
}

/// What the driver left when it ended.
fn left_by(finished: Box<Finished<role::Client, u16>>) -> Next {
    let handover = finished.handover.expect("a client's driver hands over");
    Box::new((finished.connection, handover))
}

/// An attempt whose driver ended before the CONNACK with `error`.
fn failed(finished: Box<Finished<role::Client, u16>>, error: Error) -> Attempt {
    Attempt::Failed(left_by(finished), error)
}

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
    pub(crate) state: Arc<StateCell>,
    pub(crate) stop: Arc<Stop>,
    /// Whether a connection was established: later CONNECTs resume.
    connected_once: bool,
}

impl Supervisor {
    pub(crate) fn new(options: ClientOptions, state: Arc<StateCell>, stop: Arc<Stop>) -> Self {
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

    /// Runs the client until it ends, in the task of its own: the first
    /// attempt (its outcome goes to `first`; a failure ends the client),
    /// then each connection until it is lost, the backoff, and the next
    /// attempt. The delays grow with every attempt until a connection
    /// lasts the backoff's cap; the client gives up after the backoff's
    /// maximum of failed attempts in a row.
    ///
    /// One task per client: the driver of the current connection runs
    /// inside this future, not in a task of its own. Not an `async fn
    /// run(mut self, ..)`, whose future would hold the supervisor twice
    /// (the argument and its `mut` binding).
    #[allow(clippy::manual_async_fn)]
    pub(crate) fn run(mut self, mut next: Next, first: First) -> impl Future<Output = ()> + Send {
        async move {
            let mut first = Some(first);
            let (mut streak, mut failures) = (0u32, 0u32);
            loop {
                let started = Instant::now();
                let reason;
                (next, reason) = match self.connection(next, &mut first).await {
                    Attempt::Ran(next, reason) => {
                        failures = 0;
                        if let Some(reconnect) = self.options.settings.reconnect {
                            streak = reconnect.after(streak, started.elapsed());
                        }
                        (next, reason.map(Arc::new))
                    }
                    Attempt::Failed(next, e) => {
                        if let Some(first) = first.take() {
                            let _ = first.send(Err(e));
                            return self.end(next.1, None).await;
                        }
                        tracing::debug!(error = %e, attempt = failures, "reconnection failed");
                        failures = failures.saturating_add(1);
                        (next, Some(Arc::new(e)))
                    }
                };
                let handover = &next.1;
                let Some(reconnect) = self.options.settings.reconnect else {
                    return self.end(next.1, reason).await;
                };
                if handover.ended || self.stop.asked() || !reconnect.allows(failures) {
                    return self.end(next.1, reason).await;
                }
                let delay = reconnect.jittered(streak);
                streak = streak.saturating_add(1);
                tracing::info!(attempt = failures, ?delay, reason = ?reason, "reconnecting");
                self.state.set(ClientState::Reconnecting {
                    attempt: failures,
                    delay,
                    reason: reason.clone(),
                });
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = self.stop.notify.notified() => {}
                }
                let handover = &next.1;
                let gone = handover.cmd_rx.senders_gone() && handover.incoming_tx.is_closed();
                if self.stop.asked() || gone {
                    return self.end(next.1, reason).await;
                }
            }
        }
    }

    /// One network connection: TCP (TLS, WebSocket), CONNECT and CONNACK
    /// within the connect timeout, then its driver until it ends. The
    /// first CONNACK's acceptance goes to `first`.
    async fn connection(&mut self, next: Next, first: &mut Option<First>) -> Attempt {
        let deadline = Instant::now() + self.options.settings.connect_timeout;
        // Boxed: the transports' connect futures are large and live only
        // while connecting.
        let opening = Box::pin(transport::open(&self.options));
        let stream = match tokio::time::timeout_at(deadline, opening).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return Attempt::Failed(next, e),
            Err(_) => return Attempt::Failed(next, timed_out()),
        };
        let connect = match self
            .options
            .connect_packet(self.connected_once, &self.client_id)
        {
            Ok(connect) => connect,
            Err(e) => return Attempt::Failed(next, e),
        };
        // A fresh one: a stale permit of the last driver's would abort this one.
        let abort = Arc::new(Notify::new());
        let (reply, mut answer) = oneshot::channel();
        let span = tracing::info_span!("mqtt_client", client_id = %self.client_id);
        let driver = span.in_scope(|| {
            let (conn, mut handover) = *next;
            handover.abort = abort.clone();
            let mut driver = Driver::resume(conn, stream, self.options.config.clone(), handover);
            driver.start_connect(connect, reply);
            let subscriptions = &self.options.settings.subscriptions;
            if !self.connected_once && !subscriptions.is_empty() {
                // Right after the CONNECT, before the CONNACK (§3.1.4).
                driver.subscribe(subscriptions.clone(), None);
            }
            driver
        });
        let mut running = pin!(driver.run().instrument(span));
        let connack = tokio::select! {
            finished = &mut running => Err(Some(finished)),
            answer = tokio::time::timeout_at(deadline, &mut answer) => match answer {
                Ok(Ok(Ok(connack))) => Ok(connack),
                Ok(Ok(Err(e))) => return self.failed(running, abort, e).await,
                Ok(Err(_)) => Err(None),
                Err(_) => return self.failed(running, abort, timed_out()).await,
            },
        };
        let connack = match connack {
            Ok(connack) => connack,
            Err(finished) => {
                let error = match answer.try_recv() {
                    Ok(Err(e)) => e,
                    _ => Error::Closed,
                };
                let finished = match finished {
                    Some(finished) => finished,
                    None => running.await,
                };
                return failed(finished, error);
            }
        };
        let (session_present, assigned) = connack_facts(&connack);
        // Not kept for the connection's life: it holds its frame's buffer.
        drop(connack);
        if let Some(assigned) = assigned {
            self.client_id = assigned;
        }
        self.connected_once = true;
        self.state.set(ClientState::Connected { session_present });
        if let Some(first) = first.take() {
            let _ = first.send(Ok(()));
        }
        let mut finished = running.await;
        let reason = finished.reason.take();
        Attempt::Ran(left_by(finished), reason)
    }

    /// The attempt failed with `error` before the CONNACK: the driver is
    /// aborted and gives the connection and the handover back.
    async fn failed(
        &self,
        running: Pin<&mut impl Future<Output = Box<Finished<role::Client, u16>>>>,
        abort: Arc<Notify>,
        error: Error,
    ) -> Attempt {
        abort.notify_one();
        failed(running.await, error)
    }

    /// The client ends: callers still waiting learn it, the messages
    /// received but not yet taken are delivered, the state says why.
    async fn end(&self, mut handover: Handover<u16>, reason: Option<Arc<Error>>) {
        crate::driver::tracker::send_all(handover.tracker.close());
        // Commands still queued are dropped with their reply channels:
        // their callers get `Error::Closed`.
        drop(handover.cmd_rx);
        self.state.set(ClientState::Closed { reason });
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
        let state = StateCell::new();
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

    /// An idle client is one task, allocated at its future's size: the
    /// driver's state and the supervisor's, not a reconnection's (the
    /// transports' connect futures are boxed while they live).
    #[test]
    fn an_idle_client_is_one_small_task() {
        let state = StateCell::new();
        let options = ClientOptions::new("mqtt://h").unwrap();
        let supervisor = Supervisor::new(options, state, Arc::default());
        let (handover, _tx, _rx) = Handover::new(&crate::Config::default(), true);
        let conn = Connection::with_options(ProtocolVersion::V5_0, Default::default());
        let run = supervisor.run(Box::new((conn, handover)), oneshot::channel().0);
        let size = std::mem::size_of_val(&run);
        assert!(size <= 3584, "{size}");
    }
}
