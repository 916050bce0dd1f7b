//! The task behind a [`Client`](crate::Client): one network connection at a
//! time, each run by a driver, and between them the backoff. The session,
//! the channels to the handles and the waiting calls pass from one driver
//! to the next ([`Handover`]).

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use mqtt_codec::{v3_1_1, v5_0, GenericPacket};
use mqtt_core::{role, GenericConnection};
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::Instrument;

use super::state::StateCell;
use super::{transport, ClientOptions, ClientState};
use crate::driver::{connect_timed_out, Driver, Finished, Handover};
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

/// Where a driver's CONNACK (or the error before it) goes.
type Answer = oneshot::Receiver<Result<GenericPacket<u16>, Error>>;

/// A network connection opened: the transport, the CONNECT to send on
/// it, and the deadline of its CONNACK.
type Opened = (Box<dyn transport::Stream>, GenericPacket<u16>, Instant);

/// The reconnections' count: attempts since a connection lasted the
/// backoff's cap (the delay grows with it), and failed attempts in a row.
#[derive(Default)]
struct Backoff {
    streak: u32,
    failures: u32,
}

/// What the driver left when it ended.
fn left_by(finished: Box<Finished<role::Client, u16>>) -> Next {
    let handover = finished.handover.expect("a client's driver hands over");
    let connection = finished
        .connection
        .expect("a client's driver never hibernates");
    Box::new((connection, handover))
}

/// An attempt whose driver ended before the CONNACK with `error`.
fn failed(finished: Box<Finished<role::Client, u16>>, error: Error) -> Attempt {
    Attempt::Failed(left_by(finished), error)
}

/// The client's side of the connections: options, identity, state.
pub(crate) struct Supervisor {
    /// Their Client Identifier is the one to resume with: the configured
    /// one, made up on v3.1.1 when empty, or the one the server assigned.
    pub(crate) options: ClientOptions,
    pub(crate) state: Arc<StateCell>,
    /// Whether a connection was established: later CONNECTs resume.
    connected_once: bool,
}

impl Supervisor {
    pub(crate) fn new(mut options: ClientOptions, state: Arc<StateCell>) -> Self {
        if let ("", mqtt_codec::ProtocolVersion::V3_1_1) =
            (options.client_identifier(), options.protocol_version())
        {
            options.settings.client_id = made_up_client_id();
        }
        Supervisor {
            options,
            state,
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
    pub(crate) fn run(
        mut self,
        mut next: Next,
        mut first: Option<First>,
    ) -> impl Future<Output = ()> + Send {
        async move {
            let mut backoff = Backoff::default();
            // Each value this future keeps across a wait is a field of
            // its own, and one kept across waits of several kinds takes
            // room while the driver runs: what decides after an attempt
            // is a function, and the one wait for the end is after the loop.
            let (last, reason) = loop {
                let started = Instant::now();
                let attempt = 'attempt: {
                    // Not a `match` around the connection's wait: this
                    // future would keep its scrutinee meanwhile.
                    let opened = match self.open().await {
                        Ok(opened) => opened,
                        Err(e) => break 'attempt Attempt::Failed(next, e),
                    };
                    let (reply, answer) = oneshot::channel();
                    let running = pin!(self.start(next, opened, reply));
                    self.connection(running, answer, &mut first).await
                };
                let (left, reason, delay) =
                    match self.after(attempt, started, &mut first, &mut backoff) {
                        Ok(again) => again,
                        Err(end) => break end,
                    };
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = self.state.stopped() => {}
                }
                let handover = &left.1;
                let gone = handover.cmd_rx.senders_gone() && handover.incoming_tx.is_closed();
                if self.state.stop_asked() || gone {
                    break (left, reason);
                }
                next = left;
            };
            self.end(last.1, reason).await
        }
    }

    /// What follows an attempt: `Ok` with the delay before the next one
    /// (the state says so), or `Err` when the client ends: the first
    /// attempt failed (its error goes to `first`), the connection was
    /// closed by the application, reconnection is off or gave up.
    #[allow(clippy::type_complexity)]
    fn after(
        &mut self,
        attempt: Attempt,
        started: Instant,
        first: &mut Option<First>,
        backoff: &mut Backoff,
    ) -> Result<(Next, Option<Arc<Error>>, Duration), (Next, Option<Arc<Error>>)> {
        let (next, reason) = match attempt {
            Attempt::Ran(next, reason) => {
                backoff.failures = 0;
                if let Some(reconnect) = self.options.settings.reconnect {
                    backoff.streak = reconnect.after(backoff.streak, started.elapsed());
                }
                (next, reason.map(Arc::new))
            }
            Attempt::Failed(next, e) => {
                if let Some(first) = first.take() {
                    let _ = first.send(Err(e));
                    return Err((next, None));
                }
                let failures = backoff.failures;
                tracing::debug!(error = %e, attempt = failures, "reconnection failed");
                backoff.failures = failures.saturating_add(1);
                (next, Some(Arc::new(e)))
            }
        };
        let Some(reconnect) = self.options.settings.reconnect else {
            return Err((next, reason));
        };
        if next.1.ended || self.state.stop_asked() || !reconnect.allows(backoff.failures) {
            return Err((next, reason));
        }
        let delay = reconnect.jittered(backoff.streak);
        backoff.streak = backoff.streak.saturating_add(1);
        let attempt = backoff.failures;
        tracing::info!(attempt, ?delay, reason = ?reason, "reconnecting");
        self.state.set(ClientState::Reconnecting {
            attempt,
            delay,
            reason: reason.clone(),
        });
        Ok((next, reason, delay))
    }

    /// Opens a network connection: the CONNECT, and TCP (TLS, WebSocket)
    /// within the connect timeout, which ends at the returned deadline.
    async fn open(&self) -> Result<Opened, Error> {
        let deadline = Instant::now() + self.options.settings.connect_timeout;
        let connect = self.options.connect_packet(self.connected_once)?;
        // Boxed: the transports' connect futures are large and live only
        // while connecting.
        let opening = Box::pin(transport::open(&self.options));
        match tokio::time::timeout_at(deadline, opening).await {
            Ok(stream) => Ok((stream?, connect, deadline)),
            Err(_) => Err(connect_timed_out()),
        }
    }

    /// The driver of an opened network connection, in its span: it has
    /// sent the CONNECT, and drops the connection if the CONNACK does not
    /// come by `deadline`; `reply` gets the CONNACK. Not run yet.
    fn start(
        &self,
        next: Next,
        (stream, connect, deadline): Opened,
        reply: crate::driver::Reply<GenericPacket<u16>>,
    ) -> impl Future<Output = Box<Finished<role::Client, u16>>> {
        let span =
            tracing::info_span!("mqtt_client", client_id = %self.options.client_identifier());
        let driver = span.in_scope(|| {
            let (conn, handover) = *next;
            let mut driver = Driver::resume(conn, stream, self.options.config.clone(), handover);
            driver.start_connect(connect, reply);
            driver.connack_by(deadline);
            let subscriptions = &self.options.settings.subscriptions;
            if !self.connected_once && !subscriptions.is_empty() {
                // Right after the CONNECT, before the CONNACK (§3.1.4).
                driver.subscribe(subscriptions.clone(), None);
            }
            driver
        });
        driver.run().instrument(span)
    }

    /// Runs the driver of a network connection until it ends; at its
    /// CONNACK, the client is connected (the first one's acceptance goes
    /// to `first`). A poll of the driver and of the CONNACK's receiver,
    /// rather than a `select!` or an `async fn`: the CONNACK's deadline is
    /// the driver's, and this future holds little beside them.
    fn connection<'a>(
        &'a mut self,
        mut running: Pin<&'a mut impl Future<Output = Box<Finished<role::Client, u16>>>>,
        answer: Answer,
        first: &'a mut Option<First>,
    ) -> impl Future<Output = Attempt> + 'a {
        let mut answer = Some(answer);
        // The CONNACK's acceptance, or the error before it.
        let mut established = Err(Error::Closed);
        std::future::poll_fn(move |cx| {
            let finished = running.as_mut().poll(cx);
            if let Some(rx) = &mut answer {
                // Once the driver ended, its answer was sent.
                let answered = match finished.is_ready() {
                    true => Poll::Ready(rx.try_recv().map_err(|_| ())),
                    false => Pin::new(rx).poll(cx).map_err(|_| ()),
                };
                if let Poll::Ready(answered) = answered {
                    answer = None;
                    established = match answered {
                        Ok(Ok(connack)) => {
                            self.connected(&connack, first);
                            Ok(())
                        }
                        Ok(Err(e)) => Err(e),
                        Err(()) => Err(Error::Closed),
                    };
                }
            }
            let mut finished = std::task::ready!(finished);
            Poll::Ready(
                match std::mem::replace(&mut established, Err(Error::Closed)) {
                    Ok(()) => {
                        let reason = finished.reason.take();
                        Attempt::Ran(left_by(finished), reason)
                    }
                    Err(e) => failed(finished, e),
                },
            )
        })
    }

    /// The CONNACK accepted the connection: the client is connected.
    fn connected(&mut self, connack: &GenericPacket<u16>, first: &mut Option<First>) {
        let (session_present, assigned) = connack_facts(connack);
        if let Some(assigned) = assigned {
            self.options.settings.client_id = assigned;
        }
        self.connected_once = true;
        self.state.set(ClientState::Connected { session_present });
        if let Some(first) = first.take() {
            let _ = first.send(Ok(()));
        }
    }

    /// The client ends: callers still waiting learn it, the messages
    /// received but not yet taken are delivered, the state says why.
    async fn end(&self, mut handover: Handover<u16>, reason: Option<Arc<Error>>) {
        if let Some(tracker) = handover.tracker.made() {
            crate::driver::tracker::send_all(tracker.close());
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_codec::ProtocolVersion;

    fn client_id(options: ClientOptions) -> String {
        let state = StateCell::new();
        Supervisor::new(options, state).options.settings.client_id
    }

    #[test]
    fn a_v3_client_without_an_identifier_gets_one() {
        let o = ClientOptions::new("mqtt://h").unwrap();
        assert_eq!(client_id(o.clone().client_id("mine")), "mine");
        let v3 = o.clone().version(ProtocolVersion::V3_1_1);
        assert_eq!(client_id(v3.client_id("mine")), "mine");
        assert_eq!(client_id(o.clone()), "", "v5.0: the server assigns one");
        let made_up = client_id(o.version(ProtocolVersion::V3_1_1));
        assert!(
            made_up.starts_with("mqtt-tokio-") && made_up.len() > 11,
            "{made_up}"
        );
    }

    /// What one idle client costs, type by type (issue 14: ≤ 4 KiB per
    /// idle connected client): printed, and bounded so that a change that
    /// grows them fails here. `cargo test -p mqtt-tokio --lib sizes --
    /// --nocapture` prints the table (the layout of futures is the same in
    /// the debug and the release build). The RSS per idle client is
    /// measured by the adapters bench (`ADAPTERS_ROWS=RSS`).
    ///
    /// An idle client is one task, allocated at its future's size: the
    /// driver's state and the supervisor's, not a reconnection's (the
    /// transports' connect futures are boxed while they live). Tokio's
    /// task cell is the future and ~104 bytes, aligned to 128 on x86_64:
    /// up to 1,944 bytes of future it is 2,048 bytes, one byte more costs
    /// 128.
    #[test]
    fn idle_client_sizes() {
        use std::mem::{size_of, size_of_val};
        type ClientDriver = Driver<role::Client, u16, Box<dyn transport::Stream>>;
        let state = StateCell::new();
        let options = ClientOptions::new("mqtt://h").unwrap();
        let supervisor = Supervisor::new(options, state);
        let (handover, _tx, _rx) = Handover::new(&crate::Config::default(), true);
        let conn = Connection::with_options(
            ProtocolVersion::V5_0,
            mqtt_core::ConnectionOptions::default(),
        );
        let run = supervisor.run(Box::new((conn, handover)), Some(oneshot::channel().0));
        let rows = [
            (
                "client task future (supervisor + driver)",
                size_of_val(&run),
            ),
            (
                "Driver<Client, u16, Box<dyn Stream>>",
                size_of::<ClientDriver>(),
            ),
            ("GenericConnection<Client, u16>", size_of::<Connection>()),
            ("Supervisor", size_of::<Supervisor>()),
            ("ClientOptions", size_of::<ClientOptions>()),
            ("Handover<u16>", size_of::<Handover<u16>>()),
            ("StateCell (heap, shared)", size_of::<StateCell>()),
            ("Client (handle)", size_of::<crate::Client>()),
        ];
        for (what, bytes) in rows {
            println!("{what:<42} {bytes:>6} bytes");
        }
        let task = size_of_val(&run);
        assert!(task <= 1_816, "task {task}: tokio's cell grows to 2,048");
        assert!(size_of::<ClientDriver>() <= 1_056);
        assert!(size_of::<Supervisor>() <= 432);
        assert!(size_of::<Handover<u16>>() <= 96);
        assert!(size_of::<StateCell>() <= 88);
        assert!(size_of::<crate::Client>() <= 16);
    }
}
