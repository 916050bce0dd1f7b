//! [`Endpoint`]: the cloneable handle of a connection run by a driver task,
//! and [`Incoming`]: the receiver of the packets that arrive.

use std::future::Future;
use std::marker::PhantomData;
use std::num::NonZeroU16;
use std::sync::Arc;

use mqtt_codec::{GenericPacket, PacketId, ProtocolVersion};
use mqtt_core::role::Role;
use mqtt_core::{ConnectionState, GenericConnection, Sendable};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::driver::{Command, Driver, Finished};
use crate::queue::{self, TrySendError};
use crate::{Config, Error, ForwardError};

/// A cloneable handle to a connection of role `R` with packet identifiers
/// of width `P`, run by a driver task. [`Client`](crate::Client) and
/// [`ServerEndpoint`](crate::ServerEndpoint) are its usual forms.
///
/// Every method sends a command to the driver and waits for its answer; the
/// driver never waits for the application, so a task may send from inside
/// its receive loop. The connection closes when [`close`](Self::close) is
/// called, when the peer or the protocol closes it, or when every handle
/// and the [`Incoming`] are dropped.
pub struct Endpoint<R: Role, P: PacketId = u16> {
    tx: queue::Sender<Command<P>>,
    abort: Arc<Notify>,
    _role: PhantomData<fn() -> R>,
}

impl<R: Role, P: PacketId> Clone for Endpoint<R, P> {
    fn clone(&self) -> Self {
        Endpoint {
            tx: self.tx.clone(),
            abort: self.abort.clone(),
            _role: PhantomData,
        }
    }
}

impl<R: Role, P: PacketId> std::fmt::Debug for Endpoint<R, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("role", &R::KIND)
            .field("closed", &self.tx.is_closed())
            .finish()
    }
}

/// A snapshot of a connection: its state and what CONNECT and CONNACK
/// configured ([`Endpoint::status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Where the connection is in its life.
    pub state: ConnectionState,
    /// The MQTT version, once known.
    pub version: Option<ProtocolVersion>,
    /// Session Present of the CONNACK.
    pub session_present: bool,
    /// The Keep Alive in force, in seconds (0: none).
    pub keep_alive: u16,
    /// The peer's Receive Maximum (§3.3.4).
    pub peer_receive_maximum: NonZeroU16,
    /// QoS 1 and 2 PUBLISH packets we may still send before an
    /// acknowledgement frees quota.
    pub send_quota: usize,
    /// Stored outgoing QoS 1 and 2 flows.
    pub in_flight: usize,
    /// The highest Topic Alias the peer accepts (0: none).
    pub peer_topic_alias_maximum: u16,
    /// Forwarded packets ([`Endpoint::try_forward`]) dropped: refused by the
    /// connection (e.g. over the peer's Maximum Packet Size), or beyond
    /// [`Config::max_waiting`](crate::Config::max_waiting).
    pub dropped: u64,
}

impl Status {
    pub(crate) fn of<R: Role, P: PacketId>(conn: &GenericConnection<R, P>) -> Self {
        Status {
            state: conn.state(),
            version: conn.version(),
            session_present: conn.session_present(),
            keep_alive: conn.keep_alive(),
            peer_receive_maximum: conn.peer_receive_maximum(),
            send_quota: conn.session().send_quota_available(),
            in_flight: conn.session().in_flight_len(),
            peer_topic_alias_maximum: conn.peer_topic_alias_maximum(),
            dropped: 0,
        }
    }
}

impl<R: Role, P: PacketId + Send + 'static> Endpoint<R, P> {
    /// Starts the driver task of `connection` over `stream`; returns the
    /// handle, the receiver, and the driver for a CONNECT to be sent first.
    pub(crate) fn spawn<S>(
        connection: GenericConnection<R, P>,
        stream: S,
        config: Config,
        first: Option<(GenericPacket<P>, crate::driver::Reply<GenericPacket<P>>)>,
        span: tracing::Span,
    ) -> (Self, Incoming<R, P>)
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
        GenericConnection<R, P>: Send,
    {
        let (tx, cmd_rx) = queue::bounded(config.command_capacity);
        let (incoming_tx, rx) = queue::bounded(config.incoming_capacity);
        let abort = Arc::new(Notify::new());
        let mut driver = Driver::new(
            connection,
            stream,
            config,
            cmd_rx,
            incoming_tx,
            abort.clone(),
        );
        if let Some((connect, reply)) = first {
            let _enter = span.enter();
            driver.start_connect(connect, reply);
        }
        let task = tokio::spawn(driver.run().instrument(span));
        let endpoint = Endpoint {
            tx,
            abort,
            _role: PhantomData,
        };
        let incoming = Incoming {
            rx,
            task: Some(task),
            finished: None,
            connack: None,
        };
        (endpoint, incoming)
    }

    /// Sends the command `make` builds, then waits for the driver's
    /// answer, mapped by `then` (a wrapping `async` block would hold this
    /// future twice).
    ///
    /// The public methods are plain functions returning this future rather
    /// than `async fn`s, whose futures would hold the packet twice more
    /// (the argument, the command built from it) besides the one waiting
    /// in the queue's send: these futures sit in the tasks of applications
    /// with many connections (a broker's, per connection).
    fn command<T: 'static, U: 'static>(
        &self,
        make: impl FnOnce(crate::driver::Reply<T>) -> Command<P>,
        then: fn(Result<T, Error>) -> Result<U, Error>,
    ) -> impl Future<Output = Result<U, Error>> + '_ {
        let (reply, answer) = oneshot::channel();
        let mut send = self.tx.send(make(reply));
        async move {
            // By `&mut`: the command stays in `send`, not copied again;
            // and only a `bool` lives on (a refused command is dropped).
            let sent = (&mut send).await.is_ok();
            let answer = if sent {
                answer.await.unwrap_or(Err(Error::Closed))
            } else {
                Err(Error::Closed)
            };
            then(answer)
        }
    }

    /// Sends `packet`, a type that role `R` may send (checked at compile
    /// time). Returns once the connection accepted it (it is then written
    /// in order); a QoS 1 or 2 PUBLISH first waits until the peer's Receive
    /// Maximum allows one more unacknowledged PUBLISH [MQTT-3.3.4-7], and
    /// PUBLISH packets leave in the order they were sent.
    ///
    /// A QoS 1 or 2 PUBLISH, a SUBSCRIBE or an UNSUBSCRIBE carries an
    /// identifier from [`acquire_packet_id`](Self::acquire_packet_id).
    ///
    /// Cancel-safe in the sense that dropping the future before the command
    /// reached the driver sends nothing; once it did, the packet is sent.
    ///
    /// Errs with [`Error::Connection`] when the connection refuses the
    /// packet (nothing sent, its packet identifier released; see
    /// [`ConnectionError`](mqtt_core::ConnectionError)), and with
    /// [`Error::Closed`] when the connection is closed.
    pub fn send<T: Sendable<R, P>>(
        &self,
        packet: T,
    ) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        self.send_generic(packet.into_generic())
    }

    /// Like [`send`](Self::send) but never waits for send quota or for room
    /// in the command channel: errs with [`Error::Full`] instead (nothing
    /// sent; the packet identifier stays acquired, to retry with). It still
    /// waits for the driver's answer, which never waits for the
    /// application.
    pub fn try_send<T: Sendable<R, P>>(
        &self,
        packet: T,
    ) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        let (reply, answer) = oneshot::channel();
        let cmd = Command::Send {
            packet: packet.into_generic(),
            wait: false,
            assign_id: false,
            reply: Some(reply),
        };
        async move {
            self.tx.try_send(cmd).map_err(|e| match e {
                TrySendError::Full(_) => Error::Full,
                TrySendError::Closed(_) => Error::Closed,
            })?;
            answer.await.map_err(|_| Error::Closed)?.map(drop)
        }
    }

    /// [`send`](Self::send) for a packet whose type is known at run time
    /// (a broker forwarding what it received); the connection checks the
    /// role.
    pub fn send_generic(
        &self,
        packet: GenericPacket<P>,
    ) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        self.command(
            |reply| Command::Send {
                packet,
                wait: true,
                assign_id: false,
                reply: Some(reply),
            },
            |r| r.map(drop),
        )
    }

    /// Sends a PUBLISH like [`send`](Self::send), giving it at QoS 1 or 2 a
    /// packet identifier the connection takes for it (the one it was built
    /// with, e.g. 1, is replaced), in one round trip to the driver instead
    /// of two. Returns that identifier (`None` at QoS 0); its PUBACK or
    /// PUBCOMP carries it.
    ///
    /// Errs like [`send`](Self::send), and with [`Error::Connection`] on a
    /// packet that is not a PUBLISH or when every identifier is in use.
    pub fn publish<T: Sendable<R, P>>(
        &self,
        publish: T,
    ) -> impl Future<Output = Result<Option<P>, Error>> + Send + '_ {
        self.publish_generic(publish.into_generic())
    }

    /// [`publish`](Self::publish) for a PUBLISH whose type is known at run
    /// time.
    pub fn publish_generic(
        &self,
        publish: GenericPacket<P>,
    ) -> impl Future<Output = Result<Option<P>, Error>> + Send + '_ {
        self.command(
            |reply| Command::Send {
                packet: publish,
                wait: true,
                assign_id: true,
                reply: Some(reply),
            },
            |r| r,
        )
    }

    /// Hands `packet` to the driver without waiting for its answer: for a
    /// broker forwarding messages, where one round trip per message would
    /// cost more than the send. A QoS 1 or 2 PUBLISH gets its packet
    /// identifier from the connection (build it with any, e.g. 1) and, when
    /// the peer's Receive Maximum allows no more, waits in the driver (at
    /// most [`Config::max_waiting`](crate::Config::max_waiting) of them).
    /// What the connection refuses, or what finds the waiting room full, is
    /// dropped and counted in [`Status::dropped`]. If the network connection
    /// closes first, a forwarded PUBLISH goes into the session's queue
    /// (with [`offline_publish`](mqtt_core::ConnectionOptions::offline_publish)
    /// on), so [`Incoming::into_connection`] returns it with the session.
    ///
    /// Errs, handing the packet back, with [`ForwardError::Full`] when the
    /// command channel has no room (retry, or [`forward`](Self::forward)),
    /// and with [`ForwardError::Closed`] when the connection is closed.
    // The packet comes back by value, like tokio's `TrySendError`: boxing
    // it would allocate on the path where the channel is full.
    #[allow(clippy::result_large_err)]
    pub fn try_forward(&self, packet: GenericPacket<P>) -> Result<(), ForwardError<P>> {
        self.tx
            .try_send(forward_command(packet))
            .map_err(|e| match e {
                TrySendError::Full(cmd) => ForwardError::Full(forwarded_packet(cmd)),
                TrySendError::Closed(cmd) => ForwardError::Closed(forwarded_packet(cmd)),
            })
    }

    /// [`try_forward`](Self::try_forward), waiting for room in the command
    /// channel instead of erring with [`ForwardError::Full`]. Cancel-safe:
    /// dropped before it has room, it sends nothing. Errs, handing the
    /// packet back, only with [`ForwardError::Closed`].
    pub fn forward(
        &self,
        packet: GenericPacket<P>,
    ) -> impl Future<Output = Result<(), ForwardError<P>>> + Send + '_ {
        let mut send = self.tx.send(forward_command(packet));
        async move {
            (&mut send)
                .await
                .map_err(|cmd| ForwardError::Closed(forwarded_packet(cmd)))
        }
    }

    /// [`forward`](Self::forward), waiting at most `limit` for room: errs
    /// with [`ForwardError::Full`], handing the packet back, when there is
    /// still none (a peer that does not read: a broker's slow consumer).
    pub fn forward_timeout(
        &self,
        packet: GenericPacket<P>,
        limit: std::time::Duration,
    ) -> impl Future<Output = Result<(), ForwardError<P>>> + Send + '_ {
        let mut send = self.tx.send(forward_command(packet));
        async move {
            match tokio::time::timeout(limit, &mut send).await {
                Ok(r) => r.map_err(|cmd| ForwardError::Closed(forwarded_packet(cmd))),
                Err(_) => match send.into_item() {
                    Some(cmd) => Err(ForwardError::Full(forwarded_packet(cmd))),
                    None => Ok(()),
                },
            }
        }
    }

    /// Server: replaces the connection's session by one exported earlier
    /// ([`GenericConnection::export_session`]), after the CONNECT arrived and
    /// before the CONNACK, which then says Session Present; the connection
    /// re-sends its stored messages after the CONNACK [MQTT-4.4.0-1].
    ///
    /// Errs with [`Error::Connection`] on bytes that are not a session of
    /// this version and identifier width, or after the CONNACK.
    pub fn import_session(
        &self,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        self.command(|reply| Command::ImportSession(bytes, reply), |r| r)
    }

    /// Takes an unused packet identifier for a QoS 1 or 2 PUBLISH, a
    /// SUBSCRIBE or an UNSUBSCRIBE [MQTT-2.2.1-3]; the flow releases it.
    /// Errs with [`Error::Connection`] when all are in use.
    pub fn acquire_packet_id(&self) -> impl Future<Output = Result<P, Error>> + Send + '_ {
        self.command(Command::AcquirePacketId, |r| r)
    }

    /// Gives back an identifier acquired and not used.
    pub fn release_packet_id(&self, id: P) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        let mut send = self.tx.send(Command::ReleasePacketId(id));
        async move { (&mut send).await.map_err(|_| Error::Closed) }
    }

    /// The state of the connection and what CONNECT and CONNACK configured.
    pub fn status(&self) -> impl Future<Output = Result<Status, Error>> + Send + '_ {
        self.command(Command::Status, |r| r)
    }

    /// Closes gracefully: sends DISCONNECT where the connection may (not a
    /// v3.1.1 Server, §3.14), writes what is buffered (at most
    /// [`Config::close_timeout`]), shuts the transport down. Returns when
    /// it is closed; `Ok` too when it already was (the peer closed it).
    pub fn close(&self) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        self.command(Command::Close, |r| match r {
            Err(Error::Closed) => Ok(()),
            r => r,
        })
    }

    /// Drops the network connection at once, without DISCONNECT: a Server
    /// then publishes the Client's Will Message (§3.1.2.5). The session
    /// stays in the connection that [`Incoming::into_connection`] returns.
    pub fn abort(&self) {
        self.abort.notify_one();
    }

    /// Whether the driver has ended (the network connection is closed).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The command of a forward: a QoS 1 or 2 PUBLISH gets a packet identifier.
fn forward_command<P: PacketId>(packet: GenericPacket<P>) -> Command<P> {
    let assign_id = packet.publish_qos().is_some();
    Command::Send {
        packet,
        wait: true,
        assign_id,
        reply: None,
    }
}

/// The packet of a command made by [`forward_command`].
fn forwarded_packet<P: PacketId>(cmd: Command<P>) -> GenericPacket<P> {
    match cmd {
        Command::Send { packet, .. } => packet,
        // `forward_command` makes nothing else.
        _ => unreachable!("a forward is a Send command"),
    }
}

/// The packets that arrive on a connection, in order, for the application:
/// every packet the connection delivers (PUBLISH, acknowledgements, SUBACK,
/// ...), after its automatic answers were sent. A Client's CONNACK is
/// [`connack`](Self::connack).
pub struct Incoming<R: Role, P: PacketId = u16> {
    rx: queue::Receiver<GenericPacket<P>>,
    task: Option<JoinHandle<Finished<R, P>>>,
    /// Boxed: an `Incoming` sits in the application's task for the whole
    /// connection, and most of them never finish while it is small.
    finished: Option<Box<Finished<R, P>>>,
    pub(crate) connack: Option<Box<GenericPacket<P>>>,
}

impl<R: Role, P: PacketId> std::fmt::Debug for Incoming<R, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming")
            .field("role", &R::KIND)
            .field("finished", &self.finished.is_some())
            .finish()
    }
}

impl<R: Role, P: PacketId> Incoming<R, P> {
    /// The next packet, or `None` once the connection is closed and every
    /// packet was received ([`close_reason`](Self::close_reason) then says
    /// why).
    ///
    /// Cancel-safe: used in `tokio::select!`, a packet is never lost when
    /// another branch wins.
    pub async fn recv(&mut self) -> Option<GenericPacket<P>> {
        if let Some(p) = self.rx.recv().await {
            return Some(p);
        }
        self.wait_finished().await;
        self.finished.as_mut()?.leftover.pop_front()
    }

    async fn wait_finished(&mut self) {
        if self.finished.is_some() {
            return;
        }
        if let Some(task) = &mut self.task {
            let result = task.await;
            self.task = None;
            self.finished = result.ok().map(Box::new);
        }
    }

    /// The CONNACK that established a Client's connection.
    pub fn connack(&self) -> Option<&GenericPacket<P>> {
        self.connack.as_deref()
    }

    /// Why the connection closed, once [`recv`](Self::recv) returned
    /// `None`: `None` after a DISCONNECT (either side's) or
    /// [`Endpoint::close`], else the transport's or the protocol's error.
    pub fn close_reason(&self) -> Option<&Error> {
        self.finished.as_ref()?.reason.as_ref()
    }

    /// Waits until the connection is closed, and returns it: its session
    /// (stored QoS 1 and 2 flows, packet identifiers) goes on with a new
    /// network connection ([`Client::connect_with`](crate::Client::connect_with)).
    /// Packets not received yet are dropped. `None` if the driver task
    /// panicked.
    pub async fn into_connection(mut self) -> Option<GenericConnection<R, P>> {
        self.wait_finished().await;
        self.finished.map(|f| f.connection)
    }
}
