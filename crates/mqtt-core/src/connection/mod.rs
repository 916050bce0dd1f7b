//! [`GenericConnection`]: the role-typed Sans-I/O connection.

mod ack;
mod aliases;
mod auth;
mod configure;
mod fit;
mod incoming;
mod keep_alive;
mod lazy_deque;
mod protocol_error;
mod publish;
mod recv;
mod send;
mod sub_requests;
mod timers;

use std::sync::Arc;

use bytes::BytesMut;
use core::marker::PhantomData;
use core::num::{NonZeroU16, NonZeroU32};
use core::time::Duration;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{Decoder, GenericPacket, Message, MqttString, PacketId, ProtocolVersion, QoS};
use mqtt_session::{MonotonicTime, Session};

use crate::role::{Role, RoleKind};
use crate::{
    ConnectionError, ConnectionOptions, ConnectionState, GenericEvent, SendError, Sendable,
    TimerKind,
};

pub(crate) use configure::Negotiated;

/// A Sans-I/O MQTT connection of role `R` (see [`role`](crate::role)) with
/// packet identifiers of width `P` (`u16`, or `u32` on links inside a broker
/// cluster).
///
/// It owns no socket, reads no clock and starts no thread. The driver feeds
/// it what arrives ([`recv`](Self::recv)), what the application sends
/// ([`send`](Self::send), [`checked_send`](Self::checked_send)), fired timers
/// ([`notify_timer_fired`](Self::notify_timer_fired)), the closing of the
/// network connection ([`notify_closed`](Self::notify_closed)) and the time
/// ([`set_time`](Self::set_time)); each call returns the
/// [`GenericEvent`]s to handle, in order: packets to write, packets received,
/// timers to start or stop, errors, and when to close.
///
/// - **Inputs**: [`send`](Self::send), [`checked_send`](Self::checked_send),
///   [`recv`](Self::recv), [`recv_into`](Self::recv_into),
///   [`notify_timer_fired`](Self::notify_timer_fired),
///   [`notify_closed`](Self::notify_closed), [`set_time`](Self::set_time).
/// - **Packet identifiers**: [`acquire_packet_id`](Self::acquire_packet_id),
///   [`register_packet_id`](Self::register_packet_id),
///   [`release_packet_id`](Self::release_packet_id).
/// - **Session**: [`session`](Self::session),
///   [`export_session`](Self::export_session),
///   [`import_session`](Self::import_session).
/// - **Getters**: [`state`](Self::state), [`version`](Self::version), and what
///   CONNECT and CONNACK configured ([`keep_alive`](Self::keep_alive),
///   [`peer_receive_maximum`](Self::peer_receive_maximum), ...).
#[derive(Debug)]
pub struct GenericConnection<R: Role, P: PacketId = u16> {
    /// The role: `R::KIND`, or for `role::Any` what the first CONNECT made it.
    role: RoleKind,
    version: Option<ProtocolVersion>,
    /// Whether the version is learnt from each CONNECT received.
    detect: bool,
    /// Shared by the connections made with the same `Arc` (a server's):
    /// copied on the first change.
    options: Arc<ConnectionOptions>,
    state: ConnectionState,
    decoder: Decoder<P>,
    session: Session<P>,
    now: MonotonicTime,
    /// What CONNECT and CONNACK set for the current network connection.
    neg: Negotiated,
    /// SUBSCRIBE and UNSUBSCRIBE packets awaiting their answer, both ways.
    sub_requests: sub_requests::SubRequests<P>,
    /// Server: packets received after CONNECT, processed once the CONNACK
    /// is sent [MQTT-3.1.4-5] (v3.1.1), [MQTT-3.1.4-6] (v5.0).
    deferred: lazy_deque::LazyDeque<GenericPacket<P>>,
    /// The keep alive timers and the PINGREQ awaiting its PINGRESP.
    keep_alive: keep_alive::KeepAlive,
    /// The session expired while disconnected and its flows were discarded
    /// since the last CONNACK.
    session_discarded: bool,
    /// The Topic Alias mappings of this network connection (v5.0).
    aliases: aliases::LazyAliases,
    /// Received QoS 1 and 2 messages not acknowledged yet.
    acks: ack::Acks<P>,
    _role: PhantomData<R>,
}

/// [`GenericConnection`] with the standard `u16` packet identifiers.
pub type Connection<R> = GenericConnection<R, u16>;

/// What [`publish`](GenericConnection::publish) did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the events say what to write"]
pub struct Published<P: PacketId = u16> {
    /// The packet identifier the message was numbered with (QoS 1 and 2):
    /// its acknowledgement and the release of the identifier name it.
    pub packet_id: Option<P>,
    /// The events: the PUBLISH to write, or none when it waits in the
    /// session's queue.
    pub events: Vec<GenericEvent<P>>,
}

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    /// A connection of `version` with the default [`ConnectionOptions`].
    pub fn new(version: ProtocolVersion) -> Self {
        Self::with_options(version, ConnectionOptions::default())
    }

    /// A connection of `version` with `options`: an `Arc` of them is
    /// shared by the connections given it (72 bytes less each), until one
    /// changes its own ([`options_mut`](Self::options_mut)).
    pub fn with_options(
        version: ProtocolVersion,
        options: impl Into<Arc<ConnectionOptions>>,
    ) -> Self {
        Self::build(Some(version), options.into())
    }

    fn build(version: Option<ProtocolVersion>, options: Arc<ConnectionOptions>) -> Self {
        let decoder = match version {
            Some(v) => Decoder::new(v),
            None => Decoder::detect_version(),
        };
        let session = Session::with_config(
            version.unwrap_or(ProtocolVersion::V5_0),
            options.session.clone(),
        );
        let mut conn = GenericConnection {
            role: R::KIND,
            version,
            detect: version.is_none(),
            options,
            state: ConnectionState::Disconnected,
            decoder,
            session,
            now: MonotonicTime::ZERO,
            neg: Negotiated::default(),
            sub_requests: sub_requests::SubRequests::default(),
            deferred: Default::default(),
            keep_alive: keep_alive::KeepAlive::default(),
            session_discarded: false,
            aliases: aliases::LazyAliases::default(),
            acks: ack::Acks::default(),
            _role: PhantomData,
        };
        conn.apply_recv_limit();
        conn
    }

    /// The options.
    pub fn options(&self) -> &ConnectionOptions {
        &self.options
    }

    /// The options, to change. Changes to automation take effect on the
    /// next call; the session configuration on the next session created
    /// (after a version is detected or a session imported).
    pub fn options_mut(&mut self) -> &mut ConnectionOptions {
        Arc::make_mut(&mut self.options)
    }

    // ----- Inputs: what the application sends -----

    /// Publishes `message`: the connection numbers it with a packet
    /// identifier at QoS 1 and 2 [MQTT-2.2.1-3] and sends it now, or, when
    /// the peer's Receive Maximum is used up [MQTT-4.9.0-2] (or, with
    /// [`ConnectionOptions::offline_publish`], while disconnected), keeps it
    /// in the session's queue and sends it, in order, as acknowledgements
    /// free quota. Returns the identifier (`None` at QoS 0), which the
    /// flow's acknowledgement and [`GenericEvent::NotifyPacketIdReleased`]
    /// name later, and the events: the PUBLISH to write (with a Topic Alias
    /// where automatic aliasing applies), or none when it was queued.
    ///
    /// Errs with the rule it would break, changing nothing: the CONNACK's
    /// Maximum QoS [MQTT-3.2.2-11] or Retain Available [MQTT-3.2.2-14], the
    /// peer's Maximum Packet Size [MQTT-3.2.2-15], [MQTT-3.1.2-24], a full
    /// queue ([`SendError::QueueFull`]), every identifier in use, or a
    /// state that allows no PUBLISH.
    ///
    /// ```
    /// use mqtt_core::prelude::*;
    ///
    /// let mut client = Connection::<role::Client>::new(ProtocolVersion::V5_0);
    /// let connect = v5_0::Connect::builder().try_client_id("c1")?.build()?;
    /// let _ = client.checked_send(connect)?;
    /// let mut wire = BytesMut::from(&[0x20, 0x03, 0x00, 0x00, 0x00][..]); // CONNACK
    /// let _ = client.recv(&mut wire);
    /// let message = Message::builder()
    ///     .topic_name(TopicName::from_static("sensors/abc/temp")?)
    ///     .qos(QoS::AtLeastOnce)
    ///     .payload("21.5")
    ///     .build()?;
    /// let published = client.publish(message)?;
    /// assert_eq!(published.packet_id, Some(1));
    /// assert!(matches!(published.events[0], Event::RequestSendPacket { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use = "the events say what to write"]
    pub fn publish(&mut self, message: Message) -> Result<Published<P>, SendError> {
        let mut events = Vec::new();
        let packet_id = self.publish_into(message, &mut events)?;
        Ok(Published { packet_id, events })
    }

    /// [`publish`](Self::publish), appending the events to `events` (no
    /// allocation when it has room); returns the packet identifier.
    #[must_use = "the packet identifier names the flow's acknowledgement"]
    #[inline]
    pub fn publish_into(
        &mut self,
        message: Message,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<Option<P>, SendError> {
        if self.version.is_none() {
            return Err(self.not_now(PacketType::Publish));
        }
        let id = self.publish_message(message, None, None, events)?;
        self.flush_timers(events);
        Ok(id)
    }

    /// Sends `packet`, whose type the role `R` may send (checked at compile
    /// time); otherwise like [`send`](Self::send).
    #[must_use = "the events say what to write"]
    pub fn checked_send<T: Sendable<R, P>>(
        &mut self,
        packet: T,
    ) -> Result<Vec<GenericEvent<P>>, SendError> {
        self.send(packet.into_generic())
    }

    /// [`checked_send`](Self::checked_send), appending the events to `events`.
    pub fn checked_send_into<T: Sendable<R, P>>(
        &mut self,
        packet: T,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), SendError> {
        self.send_into(packet.into_generic(), events)
    }

    /// Sends `packet`, checking at run time that the role, the version and
    /// the state allow it: for what only a packet says (acknowledgements
    /// with reason codes and properties, AUTH, SUBSCRIBE, a PUBLISH with an
    /// identifier the application chose). To publish a message, prefer
    /// [`publish`](Self::publish).
    ///
    /// Returns [`GenericEvent::RequestSendPacket`] with the packet to write
    /// (for a PUBLISH possibly with a Topic Alias, for an acknowledgement
    /// possibly without its Reason String and User Properties where the
    /// peer's Maximum Packet Size requires it), followed by what sending it
    /// implies (timers, a CONNACK's re-sent packets, a DISCONNECT's
    /// [`GenericEvent::RequestClose`]). A PUBLISH beyond the peer's Receive
    /// Maximum, or while disconnected with
    /// [`ConnectionOptions::offline_publish`], waits in the session's queue
    /// with its identifier, as [`publish`](Self::publish) does.
    ///
    /// Errs with the rule the packet would break ([`SendError::rule`]),
    /// changing nothing: no event, no identifier released or taken.
    #[must_use = "the events say what to write"]
    pub fn send(&mut self, packet: GenericPacket<P>) -> Result<Vec<GenericEvent<P>>, SendError> {
        let mut events = Vec::new();
        self.send_into(packet, &mut events)?;
        Ok(events)
    }

    /// [`send`](Self::send), appending the events to `events` (no
    /// allocation when it has room); on an error nothing is appended.
    pub fn send_into(
        &mut self,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), SendError> {
        self.try_send(packet, events)?;
        self.flush_timers(events);
        Ok(())
    }

    // ----- Inputs: what arrives -----

    /// Takes every complete packet off the front of `buf` and returns their
    /// events in order; a partial packet stays in `buf` for the next call.
    ///
    /// A packet that breaks the protocol ends the processing: the connection
    /// reports [`GenericEvent::NotifyError`], asks to send what the spec
    /// requires (v5.0: a DISCONNECT with the Reason Code, or a CONNACK
    /// refusing a CONNECT; v3.1.1: a CONNACK refusing an unsupported
    /// protocol level), then [`GenericEvent::RequestClose`], and ignores
    /// what follows.
    #[must_use = "the events say what arrived and what to write"]
    pub fn recv(&mut self, buf: &mut BytesMut) -> Vec<GenericEvent<P>> {
        // Sized once: a packet received makes about two events (the packet,
        // its answer), and growing the `Vec` would copy them all again.
        let mut events = Vec::with_capacity(2 * mqtt_codec::wire::complete_packets(buf) + 1);
        self.recv_into(buf, &mut events);
        events
    }

    /// [`recv`](Self::recv), appending the events to `events`.
    pub fn recv_into(&mut self, buf: &mut BytesMut, events: &mut Vec<GenericEvent<P>>) {
        self.do_recv(buf, events);
        self.flush_timers(events);
    }

    /// The driver's timer `kind` expired: sends a PINGREQ
    /// ([`TimerKind::PingreqSend`]), or closes on a missing PINGRESP
    /// ([`TimerKind::PingrespRecv`]) or a silent client
    /// ([`TimerKind::PingreqRecv`], v5.0 with DISCONNECT 0x8D).
    #[must_use = "the events say what to write or close"]
    pub fn notify_timer_fired(&mut self, kind: TimerKind) -> Vec<GenericEvent<P>> {
        let mut events = Vec::new();
        self.timer_fired(kind, &mut events);
        self.flush_timers(&mut events);
        events
    }

    /// The network connection closed (whoever closed it). The session stays
    /// (its Session Expiry starts to run), Topic Alias mappings end
    /// [MQTT-3.3.2-7], SUBSCRIBE and UNSUBSCRIBE identifiers awaiting an
    /// answer are released, timers are cancelled; the state is
    /// [`ConnectionState::Disconnected`], ready for a new CONNECT.
    #[must_use = "the events report the packet identifiers released"]
    pub fn notify_closed(&mut self) -> Vec<GenericEvent<P>> {
        let mut events = Vec::new();
        self.closed(&mut events);
        events
    }

    /// Sets the time the expiry rules use (Message Expiry, Session Expiry)
    /// until the next call. Call it before the calls whose time matters;
    /// the values must not go backwards.
    pub fn set_time(&mut self, now: MonotonicTime) {
        self.now = now;
    }

    // ----- Packet identifiers -----

    /// Takes an unused packet identifier for a PUBLISH (QoS > 0), SUBSCRIBE
    /// or UNSUBSCRIBE [MQTT-2.2.1-3]. It is released when the flow ends
    /// ([`GenericEvent::NotifyPacketIdReleased`]).
    ///
    /// Errs with [`ConnectionError::Session`] when every identifier is in use.
    pub fn acquire_packet_id(&mut self) -> Result<P, ConnectionError> {
        Ok(self.session.acquire_packet_id()?)
    }

    /// Marks `id`, chosen by the application, as in use; errs if it is.
    pub fn register_packet_id(&mut self, id: P) -> Result<(), ConnectionError> {
        Ok(self.session.register_packet_id(id)?)
    }

    /// Releases `id`: a SUBSCRIBE or UNSUBSCRIBE that will not be answered,
    /// or an identifier acquired and not used. Returns
    /// [`GenericEvent::NotifyPacketIdReleased`] if it was in use. Identifiers
    /// of stored PUBLISH flows and of queued messages are released by their
    /// acknowledgements only (or when a queued message is dropped).
    #[must_use = "the events report the packet identifier released"]
    pub fn release_packet_id(&mut self, id: P) -> Vec<GenericEvent<P>> {
        let mut events = Vec::new();
        self.sub_requests.answered(id);
        if self.session.release_packet_id(id) {
            events.push(GenericEvent::NotifyPacketIdReleased(id));
        }
        events
    }

    /// Whether the connection waits for nothing but the peer: connected,
    /// no PUBLISH in flight or queued either way but a received QoS 2
    /// message awaiting the peer's PUBREL, no acknowledgement or SUBACK /
    /// UNSUBACK of ours due, no PINGRESP or re-authentication awaited, no
    /// packet held for after the CONNACK. Call it to decide whether the
    /// connection may be put aside until the peer sends again (an adapter
    /// hibernating idle connections): nothing of it would happen meanwhile
    /// but its timers.
    pub fn is_quiet(&self) -> bool {
        self.state == ConnectionState::Connected
            && self.session.in_flight_len() == 0
            && self.session.queue_len() == 0
            && self.session.packet_ids().is_empty()
            && !self.session.has_released()
            && self.acks.is_empty()
            && self.sub_requests.is_empty()
            && self.deferred.is_empty()
            && !self.keep_alive.pingreq_outstanding()
            && !self.neg.reauthenticating
    }

    /// Frees what the connection holds allocated for nothing now: its
    /// emptied queues of packets deferred until the CONNACK and of
    /// messages awaiting the application's acknowledgement, its session's
    /// empty packet identifier sets ([`Session::shrink_to_fit`]: 8 KiB
    /// each once used), all kept while in use, for the next ones. Call it
    /// when the connection is to be kept idle a while (an adapter
    /// hibernating it, a broker storing it offline); they are allocated
    /// again when needed.
    pub fn shrink_to_fit(&mut self) {
        self.deferred.shrink();
        self.acks.shrink();
        self.session.shrink_to_fit();
    }

    // ----- Session -----

    /// The session: stored flows, packet identifiers, queue.
    pub fn session(&self) -> &Session<P> {
        &self.session
    }

    /// The session as bytes (see [`Session::export`]), at the time of the
    /// last [`set_time`](Self::set_time).
    pub fn export_session(&self) -> Vec<u8> {
        self.session.export(self.now)
    }

    /// Replaces the session by one exported earlier. Allowed before the
    /// CONNACK only (a Server imports the session of the Client Identifier
    /// the CONNECT named, then sends CONNACK with Session Present).
    ///
    /// Errs on bytes that are not a session of this version and identifier
    /// width, or after the CONNACK.
    pub fn import_session(&mut self, bytes: &[u8]) -> Result<(), ConnectionError> {
        if matches!(
            self.state,
            ConnectionState::Connected | ConnectionState::Closed
        ) {
            return Err(ConnectionError::InvalidCall(
                "a session is imported before the CONNACK",
            ));
        }
        let session = Session::import(bytes, self.now)?;
        if let Some(version) = self.version {
            if session.version() != version {
                return Err(ConnectionError::VersionMismatch {
                    connection: version,
                    packet: session.version(),
                });
            }
        }
        let expiry = self.session.session_expiry_interval();
        self.session = session;
        self.session.set_receive_maximum(self.neg.receive_maximum);
        if self.state == ConnectionState::Connecting {
            // The CONNECT's Session Expiry Interval applies.
            self.session.set_session_expiry_interval(expiry);
        }
        Ok(())
    }

    // ----- Getters -----

    /// The MQTT version, once known.
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.version
    }
    /// The state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }
    /// The role: `R`'s, or for `role::Any` what the first CONNECT decided.
    pub fn role(&self) -> RoleKind {
        self.role
    }
    /// The Keep Alive in force, in seconds: the Server Keep Alive if the
    /// CONNACK carried one [MQTT-3.2.2-21], else the CONNECT's; 0 is none.
    pub fn keep_alive(&self) -> u16 {
        self.neg.server_keep_alive.unwrap_or(self.neg.keep_alive)
    }
    /// The Keep Alive the CONNECT carried, in seconds.
    pub fn connect_keep_alive(&self) -> u16 {
        self.neg.keep_alive
    }
    /// The Server Keep Alive the CONNACK carried (v5.0).
    pub fn server_keep_alive(&self) -> Option<u16> {
        self.neg.server_keep_alive
    }
    /// The peer's Receive Maximum: how many QoS 1 and 2 PUBLISH packets we
    /// may leave unacknowledged (65,535 when absent and on v3.1.1).
    pub fn peer_receive_maximum(&self) -> NonZeroU16 {
        self.neg.peer_receive_maximum
    }
    /// Our Receive Maximum, as the CONNECT or CONNACK we sent announced it.
    pub fn receive_maximum(&self) -> NonZeroU16 {
        self.neg.receive_maximum
    }
    /// The largest packet the peer accepts, if it said.
    pub fn peer_maximum_packet_size(&self) -> Option<NonZeroU32> {
        self.neg.peer_maximum_packet_size
    }
    /// The largest packet we accept: what we announced, else
    /// [`ConnectionOptions::maximum_packet_size`].
    pub fn maximum_packet_size(&self) -> u32 {
        self.decoder.max_packet_size()
    }
    /// The highest Topic Alias the peer accepts from us (0: none).
    pub fn peer_topic_alias_maximum(&self) -> u16 {
        self.neg.peer_topic_alias_maximum
    }
    /// The highest Topic Alias we accept, as we announced it (0: none).
    pub fn topic_alias_maximum(&self) -> u16 {
        self.neg.topic_alias_maximum
    }
    /// The Maximum QoS of the CONNACK (QoS 2 when absent).
    pub fn maximum_qos(&self) -> QoS {
        self.neg.maximum_qos
    }
    /// Retain Available of the CONNACK (true when absent).
    pub fn retain_available(&self) -> bool {
        self.neg.retain_available
    }
    /// Wildcard Subscription Available of the CONNACK (true when absent).
    pub fn wildcard_subscription_available(&self) -> bool {
        self.neg.wildcard_subscription_available
    }
    /// Subscription Identifiers Available of the CONNACK (true when absent).
    pub fn subscription_identifiers_available(&self) -> bool {
        self.neg.subscription_identifiers_available
    }
    /// Shared Subscription Available of the CONNACK (true when absent).
    pub fn shared_subscription_available(&self) -> bool {
        self.neg.shared_subscription_available
    }
    /// The Client Identifier of the CONNECT (empty if the Server assigns one).
    pub fn client_identifier(&self) -> &MqttString {
        &self.neg.client_identifier
    }
    /// The Assigned Client Identifier of the CONNACK [MQTT-3.2.2-16].
    pub fn assigned_client_identifier(&self) -> Option<&MqttString> {
        self.neg.assigned_client_identifier.as_deref()
    }
    /// Session Present of the last successful CONNACK.
    pub fn session_present(&self) -> bool {
        self.neg.session_present
    }
    /// The Session Expiry Interval in force, in seconds.
    pub fn session_expiry_interval(&self) -> u32 {
        self.session.session_expiry_interval()
    }
    /// The Authentication Method of the CONNECT (v5.0, §4.12).
    pub fn authentication_method(&self) -> Option<&MqttString> {
        self.neg.auth_method.as_deref()
    }
    /// The PINGREQ interval in force for a Client: the option, else the
    /// Keep Alive in force; `None` when no PINGREQ is sent.
    pub fn pingreq_send_interval(&self) -> Option<Duration> {
        self.ping_interval()
    }
}

impl<P: PacketId> GenericConnection<crate::role::Server, P> {
    /// A Server connection that learns the version (v3.1.1 or v5.0) from the
    /// CONNECT it receives (§3.1.2.2), with the default options.
    pub fn detect_version() -> Self {
        Self::build(None, ConnectionOptions::default().into())
    }

    /// [`detect_version`](Self::detect_version) with `options` (shared, as
    /// [`with_options`](Self::with_options) says).
    pub fn detect_version_with_options(options: impl Into<Arc<ConnectionOptions>>) -> Self {
        Self::build(None, options.into())
    }
}

impl<P: PacketId> GenericConnection<crate::role::Any, P> {
    /// A connection whose role and version the first CONNECT decides: one
    /// sent makes it a Client of that CONNECT's version, one received a
    /// Server of the detected version.
    pub fn detect_version() -> Self {
        Self::build(None, ConnectionOptions::default().into())
    }

    /// [`detect_version`](Self::detect_version) with `options` (shared, as
    /// [`with_options`](Self::with_options) says).
    pub fn detect_version_with_options(options: impl Into<Arc<ConnectionOptions>>) -> Self {
        Self::build(None, options.into())
    }
}

#[cfg(test)]
mod tests;
