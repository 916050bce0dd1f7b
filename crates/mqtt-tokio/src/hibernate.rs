//! [`Hibernated`]: a quiet server connection put aside with its transport
//! open and no task, until its peer sends again or a message is due.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant as StdInstant;

use mqtt_codec::PacketId;
use mqtt_core::role::{self, Role};
use mqtt_core::{GenericConnection, MonotonicTime, TimerTable};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use crate::{Config, Endpoint, Incoming, Joined};

/// A connection whose driver hibernated ([`Config::hibernate_after`]): the
/// connection (its session, negotiated limits, Topic Aliases), the
/// transport, still open, and the deadlines of its timers. It holds no
/// task, no queue and no buffer: keep it where the application finds its
/// session, watch the transport for readability (the peer sent a packet or
/// closed) and [`deadline`](Self::deadline) (the Keep Alive ran out), and
/// [`wake_with`](Self::wake_with) it then, or when a message is to be
/// sent to it. Dropped, it closes the transport with nothing written.
#[derive(Debug)]
pub struct Hibernated<S, R: Role = role::Server, P: PacketId = u16> {
    pub(crate) connection: GenericConnection<R, P>,
    pub(crate) transport: S,
    pub(crate) timers: TimerTable<Instant>,
    pub(crate) config: Arc<Config>,
}

/// What [`Hibernated::map_transport`] gives back when the mapping fails:
/// its error, and the connection, closed, for its session.
pub type Unmapped<E, R, P> = (E, GenericConnection<R, P>);

impl<S, R: Role, P: PacketId> Hibernated<S, R, P> {
    /// The connection, as it was when it hibernated.
    pub fn connection(&self) -> &GenericConnection<R, P> {
        &self.connection
    }

    /// The transport.
    pub fn transport(&self) -> &S {
        &self.transport
    }

    /// When the earliest of the connection's timers runs out (a Server's:
    /// the Keep Alive, 1.5 times the client's [MQTT-3.1.2-24]): wake it by
    /// then, and its driver handles the timer. `None`: no timer runs.
    pub fn deadline(&self) -> Option<StdInstant> {
        self.timers.next_deadline().map(Instant::into_std)
    }

    /// The same connection over `f(transport)`: to keep the transport in
    /// another form while it sleeps (a `std` socket, out of the runtime's
    /// reactor) and back. Errs with `f`'s error and the connection, closed
    /// (see [`into_connection`](Self::into_connection)), for its session.
    #[allow(clippy::result_large_err)]
    pub fn map_transport<T, E>(
        self,
        f: impl FnOnce(S) -> Result<T, E>,
    ) -> Result<Hibernated<T, R, P>, Unmapped<E, R, P>> {
        match f(self.transport) {
            Ok(transport) => Ok(Hibernated {
                transport,
                connection: self.connection,
                timers: self.timers,
                config: self.config,
            }),
            Err(e) => Err((e, closed(self.connection))),
        }
    }

    /// The connection, closed as a driver closes one (its session
    /// disconnected, to store or end), for its session; the transport is
    /// dropped, which closes it with nothing written.
    pub fn into_connection(self) -> GenericConnection<R, P> {
        closed(self.connection)
    }
}

/// `connection`, told that its network connection closed now.
fn closed<R: Role, P: PacketId>(
    mut connection: GenericConnection<R, P>,
) -> GenericConnection<R, P> {
    let now = MonotonicTime::from_instant(crate::driver::origin(), StdInstant::now());
    connection.set_time(now);
    let _ = connection.notify_closed();
    connection
}

impl<S, P> Hibernated<S, role::Server, P>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    P: PacketId + Send + 'static,
{
    /// Wakes the connection, as [`Server::serve_with`](crate::Server::serve_with)
    /// starts one: a driver over the same connection and transport, with
    /// its timers (one that ran out fires at once), and `handle`'s future
    /// for the packets that come from now on, joined in the returned
    /// future (spawn it). It may hibernate again.
    pub fn wake_with<F, H>(self, handle: H) -> Joined<impl Future<Output = ()> + Send + 'static, F>
    where
        H: FnOnce(Endpoint<role::Server, P>, Incoming<role::Server, P>) -> F,
        F: Future,
    {
        let Hibernated {
            connection,
            transport,
            timers,
            config,
        } = self;
        let span = tracing::info_span!("mqtt_server");
        let (endpoint, incoming, driver) =
            Endpoint::unspawned(connection, transport, config, span, move |driver| {
                driver.woken(timers)
            });
        Joined::new(driver, handle(endpoint, incoming))
    }
}
