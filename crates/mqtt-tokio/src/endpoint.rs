//! [`Endpoint`]: the cloneable handle of a connection run by a driver task,
//! and [`Incoming`]: the receiver of the packets that arrive.

use std::future::Future;
use std::marker::PhantomData;
use std::num::NonZeroU16;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use mqtt_codec::v5_0::{PubackProperties, PubackReasonCode};
use mqtt_codec::{GenericPacket, Message, PacketId, ProtocolVersion};
use mqtt_core::role::Role;
use mqtt_core::{ConnectionState, GenericConnection, Sendable};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::driver::{Command, Driver, Finished};
use crate::forward::Forward;
use crate::queue::{self, TrySendError};
use crate::{Config, Error, ForwardError};

/// A cloneable handle to a connection of role `R` with packet identifiers
/// of width `P`, run by a driver task. [`Client`](crate::Client) and
/// [`ServerEndpoint`](crate::ServerEndpoint) are its usual forms.
///
/// - [`publish`](Self::publish) a [`Message`] (the connection numbers it),
///   [`send`](Self::send) a packet; beyond the peer's Receive Maximum they
///   wait in the connection's session queue, not in the endpoint.
/// - [`acknowledge`](Self::acknowledge) a received message once handled
///   ([`AckPolicy::AfterHandling`](mqtt_core::AckPolicy::AfterHandling)).
/// - [`forward`](Self::forward) packets or messages without a round trip
///   (a broker).
///
/// Every method sends a command to the driver; most wait for its answer
/// (the forwards, acknowledgements and releases do not). The driver never
/// waits for the application, so a task may send from inside its receive
/// loop. The connection closes when [`close`](Self::close) is called, when
/// the peer or the protocol closes it, or when every handle and the
/// [`Incoming`] are dropped.
pub struct Endpoint<R: Role, P: PacketId = u16> {
    tx: queue::Sender<Command<P>>,
    _role: PhantomData<fn() -> R>,
}

impl<R: Role, P: PacketId> Clone for Endpoint<R, P> {
    fn clone(&self) -> Self {
        Endpoint {
            tx: self.tx.clone(),
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
    /// Messages waiting in the session's queue for send quota (or, while
    /// disconnected with `offline_publish`, for a connection).
    pub queued: usize,
    /// The highest Topic Alias the peer accepts (0: none).
    pub peer_topic_alias_maximum: u16,
    /// Forwarded packets and messages ([`Endpoint::try_forward`]) the
    /// connection refused (e.g. over the peer's Maximum Packet Size, or the
    /// session's queue full).
    pub dropped: u64,
    /// Queued messages the connection refused as they left its queue (a
    /// new CONNACK's limits forbid them): their flows ended unacknowledged
    /// ([`ConnectionError::Refused`](mqtt_core::ConnectionError::Refused)).
    pub refused: u64,
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
            queued: conn.session().queue_len(),
            peer_topic_alias_maximum: conn.peer_topic_alias_maximum(),
            dropped: 0,
            refused: 0,
        }
    }
}

impl<R: Role, P: PacketId + Send + 'static> Endpoint<R, P> {
    /// Starts the driver task of `connection` over `stream`; returns the
    /// handle, the receiver, and the driver for a CONNECT to be sent first.
    pub(crate) fn spawn<S>(
        connection: GenericConnection<R, P>,
        stream: S,
        config: Arc<Config>,
        first: Option<(GenericPacket<P>, crate::driver::Reply<GenericPacket<P>>)>,
        span: tracing::Span,
    ) -> (Self, Incoming<R, P>)
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
        GenericConnection<R, P>: Send,
    {
        let (endpoint, rx, driver) = Self::parts(connection, stream, config, first, &span);
        let task = tokio::spawn(driver.run().instrument(span));
        (endpoint, Incoming::new(rx, Finishing::Task(task)))
    }

    /// The handle, the receiver and the driver's future, for the caller
    /// to run in a task of its own (see
    /// [`Server::serve_with`](crate::Server::serve_with)).
    /// `setup` prepares the driver before it runs (a woken hibernated
    /// connection's timers); it may hibernate (`Config::hibernate_after`).
    pub(crate) fn unspawned<S>(
        connection: GenericConnection<R, P>,
        stream: S,
        config: Arc<Config>,
        span: tracing::Span,
        setup: impl FnOnce(&mut Driver<R, P, S>),
    ) -> (
        Self,
        Incoming<R, P>,
        impl Future<Output = ()> + Send + 'static,
    )
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
        GenericConnection<R, P>: Send,
    {
        let (endpoint, rx, mut driver) = Self::parts(connection, stream, config, None, &span);
        driver.can_hibernate = true;
        setup(&mut driver);
        let (done, finished) = oneshot::channel();
        let incoming = Incoming::new(rx, Finishing::Local(finished));
        (endpoint, incoming, driver.run_into(done).instrument(span))
    }

    /// The handle, the receiver of the incoming queue, and the driver,
    /// which has sent `first` (a Client's CONNECT).
    #[allow(clippy::type_complexity)]
    fn parts<S>(
        connection: GenericConnection<R, P>,
        stream: S,
        config: Arc<Config>,
        first: Option<(GenericPacket<P>, crate::driver::Reply<GenericPacket<P>>)>,
        span: &tracing::Span,
    ) -> (Self, queue::Receiver<GenericPacket<P>>, Driver<R, P, S>)
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
        GenericConnection<R, P>: Send,
    {
        let (tx, cmd_rx) = queue::bounded(config.command_capacity);
        let (incoming_tx, rx) = queue::bounded(config.incoming_capacity);
        let mut driver = Driver::new(connection, stream, config, cmd_rx, incoming_tx);
        if let Some((connect, reply)) = first {
            let _enter = span.enter();
            driver.start_connect(connect, reply);
        }
        let endpoint = Endpoint {
            tx,
            _role: PhantomData,
        };
        (endpoint, rx, driver)
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
    /// time). Returns once the connection accepted it; it is then written
    /// in order. For a message, prefer [`publish`](Self::publish), which
    /// numbers it.
    ///
    /// A QoS 1 or 2 PUBLISH, a SUBSCRIBE or an UNSUBSCRIBE carries an
    /// identifier from [`acquire_packet_id`](Self::acquire_packet_id). A
    /// QoS 1 or 2 PUBLISH beyond the peer's Receive Maximum is accepted into
    /// the connection's session queue, keeping its identifier, and goes out
    /// as acknowledgements free quota [MQTT-4.9.0-2]; the endpoint keeps no
    /// queue of its own.
    ///
    /// Cancel-safe in the sense that dropping the future before the command
    /// reached the driver sends nothing; once it did, the packet is sent.
    ///
    /// Errs with [`Error::Send`] when the connection refuses the packet
    /// (nothing sent; an identifier it carries stays acquired:
    /// [`release_packet_id`](Self::release_packet_id) it), with
    /// [`SendError::QueueFull`](mqtt_core::SendError::QueueFull) when the
    /// session's queue is full (its bounds are
    /// [`ConnectionOptions::session`](mqtt_core::ConnectionOptions::session);
    /// try again once acknowledgements came), and with [`Error::Closed`]
    /// when the connection is closed.
    pub fn send<T: Sendable<R, P>>(
        &self,
        packet: T,
    ) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        self.send_generic(packet.into_generic())
    }

    /// Like [`send`](Self::send) but never waits for room in the command
    /// channel: errs with [`Error::Full`] instead (nothing sent). It still
    /// waits for the driver's answer, which never waits for the
    /// application.
    pub fn try_send<T: Sendable<R, P>>(
        &self,
        packet: T,
    ) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        let (reply, answer) = oneshot::channel();
        let cmd = Command::Send {
            packet: packet.into_generic(),
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

    /// [`send`](Self::send) for a packet whose type is known at run time;
    /// the connection checks the role.
    pub fn send_generic(
        &self,
        packet: GenericPacket<P>,
    ) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        self.command(
            |reply| Command::Send {
                packet,
                assign_id: false,
                reply: Some(reply),
            },
            |r| r.map(drop),
        )
    }

    /// Publishes `message`: the connection numbers it at QoS 1 and 2 and
    /// sends it, or, beyond the peer's Receive Maximum, keeps it in its
    /// session queue and sends it as acknowledgements free quota (see
    /// [`GenericConnection::publish`]). Returns its packet identifier
    /// (`None` at QoS 0), which its PUBACK or PUBCOMP carries.
    ///
    /// ```no_run
    /// use mqtt_tokio::prelude::*;
    ///
    /// # async fn demo(client: ClientEndpoint) -> Result<(), Box<dyn std::error::Error>> {
    /// let message = Message::builder()
    ///     .topic_name(TopicName::from_static("sensors/1")?)
    ///     .qos(QoS::AtLeastOnce)
    ///     .payload("21.5")
    ///     .build()?;
    /// let id = client.publish(message).await?;
    /// assert!(id.is_some());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Errs like [`send`](Self::send).
    pub fn publish(
        &self,
        message: Message,
    ) -> impl Future<Output = Result<Option<P>, Error>> + Send + '_ {
        self.command(
            |reply| Command::Publish {
                message,
                reply: Some(reply),
            },
            |r| r,
        )
    }

    /// Acknowledges the received QoS 1 or 2 PUBLISH `packet_id` (PUBACK or
    /// PUBREC with Success) once the application has handled it, with
    /// [`AckPolicy::AfterHandling`](mqtt_core::AckPolicy::AfterHandling)
    /// (a broker: after routing it); see
    /// [`GenericConnection::acknowledge`]. A Client's acknowledgements go
    /// in the order the messages arrived [MQTT-4.6.0-2].
    ///
    /// Hands the acknowledgement to the driver without waiting for its
    /// outcome (one round trip per message would cost more than the
    /// acknowledgement): an identifier under which no received message
    /// waits is ignored (logged at debug level). Waits only for room in the
    /// command channel; errs with [`Error::Closed`] when the driver ended.
    pub fn acknowledge(&self, packet_id: P) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        let mut send = self.tx.send(Command::Acknowledge(packet_id, None));
        async move { (&mut send).await.map_err(|_| Error::Closed) }
    }

    /// [`acknowledge`](Self::acknowledge) with a v5.0 Reason Code and
    /// properties (a failure code on QoS 2 ends the flow, §4.3.3; v3.1.1
    /// sends neither).
    pub fn acknowledge_with(
        &self,
        packet_id: P,
        reason_code: PubackReasonCode,
        properties: PubackProperties,
    ) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        let answer = Box::new((reason_code, properties));
        let mut send = self.tx.send(Command::Acknowledge(packet_id, Some(answer)));
        async move { (&mut send).await.map_err(|_| Error::Closed) }
    }

    /// Hands `item`, a [`GenericPacket`] or a [`Message`], to the driver
    /// without waiting for its answer: for a broker forwarding messages,
    /// where one round trip per message would cost more than the send. A
    /// [`Message`] is published (numbered by the connection); a QoS 1 or 2
    /// PUBLISH packet gets a packet identifier from the connection (the
    /// one it was built with is replaced). Beyond the peer's Receive
    /// Maximum they wait in the connection's session queue. What the
    /// connection refuses (over the peer's Maximum Packet Size, the queue
    /// full) is dropped and counted in [`Status::dropped`]. If the network
    /// connection closes first, a forwarded PUBLISH goes into the session's
    /// queue (with [`offline_publish`](mqtt_core::ConnectionOptions::offline_publish)
    /// on), so [`Incoming::into_connection`] returns it with the session.
    ///
    /// Errs, handing the item back, with [`ForwardError::Full`] when the
    /// command channel has no room (retry, or [`forward`](Self::forward)),
    /// and with [`ForwardError::Closed`] when the connection is closed.
    // The item comes back by value, like tokio's `TrySendError`: boxing
    // it would allocate on the path where the channel is full.
    #[allow(clippy::result_large_err)]
    pub fn try_forward<T: Forward<P>>(&self, item: T) -> Result<(), ForwardError<T>> {
        self.tx.try_send(item.into_command()).map_err(|e| match e {
            TrySendError::Full(cmd) => ForwardError::Full(T::from_command(cmd)),
            TrySendError::Closed(cmd) => ForwardError::Closed(T::from_command(cmd)),
        })
    }

    /// [`try_forward`](Self::try_forward), waiting for room in the command
    /// channel instead of erring with [`ForwardError::Full`]. Cancel-safe:
    /// dropped before it has room, it sends nothing. Errs, handing the
    /// item back, only with [`ForwardError::Closed`].
    pub fn forward<T: Forward<P>>(
        &self,
        item: T,
    ) -> impl Future<Output = Result<(), ForwardError<T>>> + Send + '_ {
        let mut send = self.tx.send(item.into_command());
        async move {
            (&mut send)
                .await
                .map_err(|cmd| ForwardError::Closed(T::from_command(cmd)))
        }
    }

    /// [`forward`](Self::forward), waiting at most `limit` for room: errs
    /// with [`ForwardError::Full`], handing the item back, when there is
    /// still none (a peer that does not read: a broker's slow consumer).
    pub fn forward_timeout<T: Forward<P>>(
        &self,
        item: T,
        limit: std::time::Duration,
    ) -> impl Future<Output = Result<(), ForwardError<T>>> + Send + '_ {
        let mut send = self.tx.send(item.into_command());
        async move {
            match tokio::time::timeout(limit, &mut send).await {
                Ok(r) => r.map_err(|cmd| ForwardError::Closed(T::from_command(cmd))),
                Err(_) => match send.into_item() {
                    Some(cmd) => Err(ForwardError::Full(T::from_command(cmd))),
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

    /// Closes gracefully: lets the messages waiting in the session's queue
    /// for the peer's Receive Maximum go out first (at most
    /// [`Config::close_timeout`]; what is still queued then stays in the
    /// session that [`Incoming::into_connection`] returns), sends
    /// DISCONNECT where the connection may (not a v3.1.1 Server, §3.14),
    /// writes what is buffered (at most [`Config::close_timeout`] again),
    /// shuts the transport down. Commands sent after it are answered with
    /// [`Error::Closed`]. Returns when it is closed; `Ok` too when it
    /// already was (the peer closed it).
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
        self.tx.abort();
    }

    /// Whether the driver has ended (the network connection is closed).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The packets that arrive on a connection, in order, for the application:
/// every packet the connection delivers (PUBLISH, acknowledgements, SUBACK,
/// ...), after its automatic answers were sent. A Client's CONNACK is
/// [`connack`](Self::connack).
pub struct Incoming<R: Role, P: PacketId = u16> {
    rx: queue::Receiver<GenericPacket<P>>,
    task: Option<Finishing<R, P>>,
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

/// Where the driver's end comes from: its task, or the future the
/// application runs.
enum Finishing<R: Role, P: PacketId> {
    Task(JoinHandle<Box<Finished<R, P>>>),
    Local(oneshot::Receiver<Box<Finished<R, P>>>),
}

impl<R: Role, P: PacketId> Future for Finishing<R, P> {
    /// `None` if the driver panicked, or its future was dropped unfinished.
    type Output = Option<Box<Finished<R, P>>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Finishing::Task(task) => Pin::new(task).poll(cx).map(Result::ok),
            Finishing::Local(rx) => Pin::new(rx).poll(cx).map(Result::ok),
        }
    }
}

impl<R: Role, P: PacketId> Incoming<R, P> {
    fn new(rx: queue::Receiver<GenericPacket<P>>, task: Finishing<R, P>) -> Self {
        Incoming {
            rx,
            task: Some(task),
            finished: None,
            connack: None,
        }
    }

    /// The next packet, or `None` once the connection is closed and every
    /// packet was received ([`close_reason`](Self::close_reason) then says
    /// why).
    ///
    /// Cancel-safe: used in `tokio::select!`, a packet is never lost when
    /// another branch wins.
    pub async fn recv(&mut self) -> Option<GenericPacket<P>> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`recv`](Self::recv) as a poll, for a hand-written `Future` or
    /// `Stream` (this type is also a `futures_core::Stream`).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<GenericPacket<P>>> {
        if let Some(p) = std::task::ready!(self.rx.poll_recv(cx)) {
            return Poll::Ready(Some(p));
        }
        // The queue ended: the driver is done, or about to be.
        if self.finished.is_none() {
            let Some(task) = &mut self.task else {
                return Poll::Ready(None);
            };
            let result = std::task::ready!(Pin::new(task).poll(cx));
            self.task = None;
            self.finished = result;
        }
        Poll::Ready(self.finished.as_mut().and_then(|f| f.leftover.pop_front()))
    }

    async fn wait_finished(&mut self) {
        if self.finished.is_some() {
            return;
        }
        if let Some(task) = &mut self.task {
            let result = task.await;
            self.task = None;
            self.finished = result;
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
    /// network connection ([`ClientEndpoint::connect_with`](crate::ClientEndpoint::connect_with)).
    /// Packets not received yet are dropped. `None` if the driver task
    /// panicked, or the connection hibernated
    /// ([`take_hibernated`](Self::take_hibernated) has it).
    pub async fn into_connection(mut self) -> Option<GenericConnection<R, P>> {
        self.wait_finished().await;
        self.finished.and_then(|f| f.connection)
    }

    /// Once [`recv`](Self::recv) returned `None`: the connection, if it
    /// hibernated ([`Config::hibernate_after`]) rather than closed, with
    /// its transport, of the type `S` given to
    /// [`Server::serve_with`](crate::Server::serve_with) (of another type,
    /// it is dropped, which closes it). Waits for the driver's end; `None`
    /// when it closed, and on later calls.
    pub async fn take_hibernated<S: 'static>(&mut self) -> Option<crate::Hibernated<S, R, P>>
    where
        R: 'static,
    {
        self.wait_finished().await;
        let boxed = self.finished.as_mut()?.hibernated.take()?;
        boxed.downcast().ok().map(|h| *h)
    }
}

impl<R: Role, P: PacketId> futures_core::Stream for Incoming<R, P> {
    type Item = GenericPacket<P>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;
    use mqtt_core::role;

    /// `abort` drops the network connection at once, with nothing sent:
    /// the peer reads the end of the stream, the receiver ends, the handle
    /// is closed.
    #[tokio::test]
    async fn abort_drops_the_connection_at_once() {
        let (mut peer, stream) = tokio::io::duplex(64);
        let conn = GenericConnection::<role::Server, u16>::detect_version_with_options(
            mqtt_core::ConnectionOptions::default(),
        );
        let span = tracing::Span::none();
        let (endpoint, mut incoming) =
            Endpoint::spawn(conn, stream, Config::shared_default(), None, span);
        endpoint.abort();
        let limit = std::time::Duration::from_secs(5);
        let read = tokio::time::timeout(limit, peer.read(&mut [0u8; 8])).await;
        assert_eq!(read.expect("the end of the stream").unwrap(), 0);
        let end = tokio::time::timeout(limit, incoming.recv()).await;
        assert!(end.expect("the receiver ends").is_none());
        assert!(endpoint.is_closed());
    }
}
