//! [`Hibernated`]: a quiet server connection put aside with its transport
//! open and no task, until its peer sends again or a message is due.

use std::future::Future;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use mqtt_codec::PacketId;
use mqtt_core::role::{self, Role};
use mqtt_core::{GenericConnection, TimerTable};
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
    pub(crate) timers: TimerTable<Asleep>,
    pub(crate) config: Arc<Config>,
}

/// A timer's deadline while its connection sleeps: nanoseconds after the
/// drivers' origin (`driver::origin`), plus one. 8 bytes, where an
/// `Instant` takes 16: a server may keep many thousands asleep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Asleep(NonZeroU64);

impl Asleep {
    /// `at`; an instant before the origin (none is: every driver's clock
    /// starts there) counts as the origin.
    pub(crate) fn new(at: Instant) -> Asleep {
        let since = at
            .into_std()
            .saturating_duration_since(crate::driver::origin());
        let nanos = u64::try_from(since.as_nanos()).unwrap_or(u64::MAX - 1);
        Asleep(NonZeroU64::MIN.saturating_add(nanos))
    }

    pub(crate) fn instant(self) -> Instant {
        let since = Duration::from_nanos(self.0.get() - 1);
        Instant::from_std(crate::driver::origin() + since)
    }
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
        let deadline = self.timers.next_deadline();
        deadline.map(|at| at.instant().into_std())
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
    connection.set_time(crate::driver::monotonic_now());
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
                driver.woken(timers.map(Asleep::instant))
            });
        Joined::new(driver, handle(endpoint, incoming))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deadline asleep is the same instant when woken, to the
    /// nanosecond, and keeps its order; one before the origin is the
    /// origin.
    #[test]
    fn asleep_deadlines_keep_their_instant() {
        let origin = Instant::from_std(crate::driver::origin());
        let soon = Instant::now() + Duration::from_nanos(1_500_000_001);
        let later = soon + Duration::from_nanos(1);
        assert_eq!(Asleep::new(soon).instant(), soon);
        assert!(Asleep::new(soon) < Asleep::new(later));
        assert_eq!(Asleep::new(origin).instant(), origin);
        let before = origin.checked_sub(Duration::from_secs(1));
        if let Some(before) = before {
            assert_eq!(Asleep::new(before).instant(), origin);
        }
    }

    /// The timers of a sleeping connection take a word each.
    #[test]
    fn asleep_timers_are_small() {
        assert_eq!(std::mem::size_of::<TimerTable<Asleep>>(), 24);
    }
}
