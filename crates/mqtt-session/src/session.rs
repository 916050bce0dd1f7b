//! [`Session`]: the state that outlives one network connection, and the
//! rules of the QoS flows, for the core to drive.

// A refused message is handed back by value: the `Err` is as large as the
// PUBLISH the `Ok` side carries anyway, and boxing it would allocate.
#![allow(clippy::result_large_err)]

use core::num::NonZeroU16;

use mqtt_codec::{Message, PacketId, ProtocolVersion, QoS, MAX_PACKET_SIZE};

use crate::incoming::{Delivery, Incoming};
use crate::message::{Outgoing, Publish};
use crate::outgoing::{FlowState, Held, InFlight, PubrecOutcome};
use crate::queue::{Pending, Queue};
use crate::{MonotonicTime, PacketIdPool, SessionConfig, SessionError};

/// The Session Expiry Interval that means "never" (§3.1.2.11.2).
pub const SESSION_NEVER_EXPIRES: u32 = u32::MAX;

/// What [`Session::publish`] did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // `Send` is the common case: no box.
pub enum Outbound<P: PacketId = u16> {
    /// Send this PUBLISH now. At QoS > 0 it carries the packet identifier
    /// the session numbered it with and is stored until acknowledged.
    Send(Publish<P>),
    /// The message waits in the pending queue for a connection or for send
    /// quota; [`Session::pop_ready`] hands it out, in order.
    Queued {
        /// The packet identifier it was numbered with (QoS > 0), which it
        /// keeps until its flow ends.
        packet_id: Option<P>,
        /// Queued messages dropped, oldest first, to make room (usually
        /// none), with the identifiers they released.
        evicted: Vec<(Message, Option<P>)>,
    },
}

/// A message the session refused, handed back with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct Rejected {
    error: SessionError,
    message: Message,
}

impl Rejected {
    /// Why the message was refused.
    pub fn error(&self) -> &SessionError {
        &self.error
    }
    /// The message, unchanged.
    pub fn into_message(self) -> Message {
        self.message
    }
    /// Both parts.
    pub fn into_parts(self) -> (SessionError, Message) {
        (self.error, self.message)
    }
}

impl From<Rejected> for SessionError {
    fn from(r: Rejected) -> Self {
        r.error
    }
}

fn reject<T>(error: SessionError, message: Message) -> Result<T, Rejected> {
    Err(Rejected { error, message })
}

/// The session state of one side of an MQTT session (§4.1), client or
/// server, with packet identifiers of width `P`: the packet identifiers in
/// use, the outgoing QoS 1 and 2 flows and their stored packets, the QoS 2
/// identifiers received, the send quota and the receive count (§4.9), the
/// pending queue, Message Expiry and Session Expiry.
///
/// It does no I/O and reads no clock: the caller passes what arrived and
/// the [`MonotonicTime`] where a rule needs it, and sends what the session
/// returns. No call panics on what a peer sends, and no error loses a
/// stored message.
///
/// Inputs: [`publish`](Self::publish), [`try_publish`](Self::try_publish),
/// [`publish_with_id`](Self::publish_with_id); what arrived:
/// [`on_puback`](Self::on_puback), [`on_pubrec`](Self::on_pubrec),
/// [`on_pubcomp`](Self::on_pubcomp), [`on_publish`](Self::on_publish),
/// [`on_pubrel`](Self::on_pubrel); what we sent:
/// [`puback_sent`](Self::puback_sent), [`pubrec_sent`](Self::pubrec_sent);
/// the connection: [`on_connected`](Self::on_connected),
/// [`on_disconnected`](Self::on_disconnected).
/// Output: [`pop_ready`](Self::pop_ready), besides what the inputs return.
///
/// ```
/// use core::num::NonZeroU16;
/// use mqtt_codec::{Message, ProtocolVersion, QoS, TopicName};
/// use mqtt_session::{MonotonicTime, Outbound, Session};
///
/// let mut session = Session::<u16>::new(ProtocolVersion::V3_1_1);
/// let now = MonotonicTime::from_millis(0);
/// let message = Message::builder()
///     .topic_name(TopicName::from_static("a/b")?)
///     .qos(QoS::AtLeastOnce)
///     .payload(&b"hi"[..])
///     .build()?;
///
/// // Offline: the message waits.
/// assert!(matches!(session.publish(message, now)?, Outbound::Queued { .. }));
///
/// // CONNACK arrived (no session present, the peer's Receive Maximum).
/// let resend = session.on_connected(false, NonZeroU16::MAX, now);
/// assert!(resend.is_empty());
/// let publish = session.pop_ready(now).expect("the queued message");
/// let id = publish.packet_id().expect("QoS 1 has an id");
/// assert_eq!(session.in_flight_len(), 1);
///
/// // The PUBACK ends the flow and releases the identifier.
/// session.on_puback(id)?;
/// assert_eq!(session.in_flight_len(), 0);
/// assert!(!session.packet_ids().is_in_use(id));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Session<P: PacketId = u16> {
    pub(crate) version: ProtocolVersion,
    pub(crate) config: SessionConfig,
    pub(crate) pool: PacketIdPool<P>,
    pub(crate) in_flight: InFlight<P>,
    pub(crate) incoming: Incoming<P>,
    pub(crate) queue: Queue<P>,
    pub(crate) connected: bool,
    /// The peer's Receive Maximum: the send quota of this connection.
    pub(crate) send_quota: NonZeroU16,
    /// Identifiers of queued messages dropped as their Message Expiry
    /// Interval passed, for [`take_released`](Session::take_released).
    /// Allocated by the first (rare), freed by `take_released`: boxed so
    /// that every session holds one word, not a `Vec`'s three.
    #[allow(clippy::box_collection)]
    pub(crate) released: Option<Box<Vec<P>>>,
    pub(crate) session_expiry_interval: u32,
    /// When the session ends, once disconnected.
    pub(crate) expires_at: Option<MonotonicTime>,
}

impl<P: PacketId> Session<P> {
    /// A new, empty, disconnected session of `version` with the default
    /// [`SessionConfig`].
    pub fn new(version: ProtocolVersion) -> Self {
        Self::with_config(version, SessionConfig::default())
    }

    /// A new, empty, disconnected session of `version`.
    pub fn with_config(version: ProtocolVersion, config: SessionConfig) -> Self {
        Session {
            version,
            pool: PacketIdPool::new(),
            in_flight: InFlight::default(),
            incoming: Incoming::new(config.receive_maximum),
            queue: Queue::new(),
            connected: false,
            send_quota: NonZeroU16::MAX,
            released: None,
            session_expiry_interval: config.session_expiry_interval,
            expires_at: None,
            config,
        }
    }

    // ----- Inputs: messages to send -----

    /// Publishes a new Application Message.
    ///
    /// At QoS > 0 the session numbers it at once with an unused packet
    /// identifier [MQTT-4.3.2-1], [MQTT-4.3.3-1], which it keeps until its
    /// flow ends. It sends it now ([`Outbound::Send`]) when connected,
    /// nothing is waiting before it, and, at QoS > 0, the send quota allows
    /// [MQTT-4.9.0-2], with DUP clear [MQTT-4.3.2-2], [MQTT-4.3.3-2], and
    /// stores it until acknowledged [MQTT-4.3.2-3], [MQTT-4.3.3-3].
    /// Otherwise it queues it ([`Outbound::Queued`]), dropping the oldest
    /// queued messages if the queue is full; [`pop_ready`](Self::pop_ready)
    /// sends it later, in order. The Message Expiry Interval of a v5.0
    /// message starts now.
    ///
    /// Errs, handing the message back and changing nothing, when it has no
    /// Topic Name (it came from a PUBLISH whose Topic Alias stood for it),
    /// is too large for MQTT or for the queue, every packet identifier is
    /// in use, or it is QoS 0 while disconnected and
    /// [`SessionConfig::queue_qos0_offline`] is off.
    pub fn publish(
        &mut self,
        message: Message,
        now: MonotonicTime,
    ) -> Result<Outbound<P>, Rejected> {
        self.publish_inner(message, now, true)
    }

    /// Like [`publish`](Self::publish), but errs with
    /// [`SessionError::QueueFull`] instead of dropping queued messages.
    #[inline]
    pub fn try_publish(
        &mut self,
        message: Message,
        now: MonotonicTime,
    ) -> Result<Outbound<P>, Rejected> {
        self.publish_inner(message, now, false)
    }

    /// The hot path, short enough to inline: a QoS 0 message that goes out
    /// at once; the rest in [`publish_numbered`](Self::publish_numbered).
    #[inline]
    fn publish_inner(
        &mut self,
        message: Message,
        now: MonotonicTime,
        evict: bool,
    ) -> Result<Outbound<P>, Rejected> {
        if let Err(error) = self.check_message(&message) {
            return reject(error, message);
        }
        if message.qos() == QoS::AtMostOnce && self.sends_now() {
            let publish = Publish::from_message(self.version, message, P::default());
            return Ok(Outbound::Send(publish));
        }
        self.publish_numbered(message, now, evict)
    }

    /// Whether a message goes out now rather than into the queue:
    /// connected, with nothing queued or held back before it (send quota
    /// aside). A QoS 0 message that does, and passes
    /// [`check_message`](Self::check_message), needs nothing of the
    /// session: the caller may send it without [`publish`](Self::publish).
    #[inline]
    pub fn sends_now(&self) -> bool {
        self.connected && self.queue.is_empty() && self.in_flight.held_back() == 0
    }

    fn publish_numbered(
        &mut self,
        message: Message,
        now: MonotonicTime,
        evict: bool,
    ) -> Result<Outbound<P>, Rejected> {
        if message.qos() == QoS::AtMostOnce {
            return self.take(message, None, now, evict);
        }
        let cursor = self.pool.cursor();
        match self.pool.acquire() {
            Ok(id) => self.take(message, Some(id), now, evict).inspect_err(|_| {
                self.pool.unacquire(id, cursor);
            }),
            Err(error) => reject(error, message),
        }
    }

    /// Sends `message` now, numbered `id` (QoS > 0, in use in the pool),
    /// or queues it; errs, changing nothing but the pool, when it cannot.
    fn take(
        &mut self,
        message: Message,
        id: Option<P>,
        now: MonotonicTime,
        evict: bool,
    ) -> Result<Outbound<P>, Rejected> {
        let free = self.sends_now();
        if id.is_none() && free {
            let publish = Publish::from_message(self.version, message, P::default());
            return Ok(Outbound::Send(publish));
        }
        let deadline = self.deadline_of(&message, now);
        match id {
            Some(id) if free && self.has_quota(message.qos()) => {
                return Ok(Outbound::Send(self.store_sent(message, id, deadline)));
            }
            None if !self.connected && !self.config.queue_qos0_offline => {
                return reject(SessionError::NotConnected, message);
            }
            _ => {}
        }
        let pending = Pending::new(message, id, self.version, deadline);
        let mut dropped = Vec::new();
        let limits = self.config.queue_limits();
        let queued = if evict {
            self.queue.push_evicting(pending, limits, now, &mut dropped)
        } else {
            self.queue
                .try_push(pending, limits, now, &mut dropped)
                .map(|()| Vec::new())
        };
        self.release_all(dropped);
        match queued {
            Ok(evicted) => {
                self.release_all(evicted.iter().filter_map(|(_, id)| *id));
                Ok(Outbound::Queued {
                    packet_id: id,
                    evicted,
                })
            }
            Err(p) => reject(SessionError::QueueFull, p.message),
        }
    }

    /// Releases the identifiers of queued messages dropped, for
    /// [`take_released`](Self::take_released) to report.
    fn release_all(&mut self, ids: impl IntoIterator<Item = P>) {
        for id in ids {
            if self.pool.release(id) {
                self.released.get_or_insert_with(Default::default).push(id);
            }
        }
    }

    /// The packet identifiers of queued messages dropped since the last
    /// call, as their Message Expiry Interval passed [MQTT-3.3.2-5] or the
    /// queue made room: they are free again. Evicted ones are also in
    /// [`Outbound::Queued`].
    pub fn take_released(&mut self) -> Vec<P> {
        self.released.take().map_or_else(Vec::new, |ids| *ids)
    }

    /// Whether any identifier waits to be reported by
    /// [`take_released`](Self::take_released).
    pub fn has_released(&self) -> bool {
        self.released.as_ref().is_some_and(|ids| !ids.is_empty())
    }

    /// Publishes a message numbered with a packet identifier the caller
    /// chose, typically with [`acquire_packet_id`](Self::acquire_packet_id)
    /// (ignored at QoS 0): sent now or queued as [`publish`](Self::publish)
    /// does, registering the identifier if it is not in use yet. Never
    /// drops queued messages.
    ///
    /// Errs, handing the message back and changing nothing, like
    /// [`try_publish`](Self::try_publish), and with
    /// [`SessionError::ZeroPacketId`], or [`SessionError::PacketIdInUse`]
    /// when a stored flow or a queued message has the identifier.
    pub fn publish_with_id(
        &mut self,
        message: Message,
        id: P,
        now: MonotonicTime,
    ) -> Result<Outbound<P>, Rejected> {
        if let Err(error) = self.check_message(&message) {
            return reject(error, message);
        }
        if message.qos() == QoS::AtMostOnce {
            return self.take(message, None, now, false);
        }
        if id.to_u32() == 0 {
            return reject(SessionError::ZeroPacketId, message);
        }
        if self.in_flight.contains(id) || self.queue.holds(id) {
            return reject(SessionError::PacketIdInUse(id.to_u32()), message);
        }
        let registered = !self.pool.is_in_use(id);
        if registered {
            // Cannot fail: checked just above.
            let _ = self.pool.register(id);
        }
        self.take(message, Some(id), now, false).inspect_err(|_| {
            if registered {
                self.pool.release(id);
            }
        })
    }

    /// The next message to send now: first the stored PUBLISH packets that
    /// wait to be re-sent after a reconnection (in their order, DUP set), then
    /// the pending queue in order, as long as the send quota allows
    /// [MQTT-4.9.0-2]. Drops queued messages whose Message Expiry Interval
    /// has passed [MQTT-3.3.2-5] (their identifiers are then reported by
    /// [`take_released`](Self::take_released)); a message sent carries what
    /// is left of its interval [MQTT-3.3.2-6].
    ///
    /// Call it after [`on_connected`](Self::on_connected) and after each
    /// acknowledgement that ends a flow, until it returns `None`. `None`
    /// while disconnected.
    pub fn pop_ready(&mut self, now: MonotonicTime) -> Option<Publish<P>> {
        if !self.connected {
            return None;
        }
        if self.in_flight.held_back() > 0 {
            return self.in_flight.next_resend(self.quota(), self.version, now);
        }
        loop {
            let front = self.queue.front()?;
            if front.is_expired(now) {
                let id = self.queue.pop_front().and_then(|p| p.id);
                self.release_all(id);
                continue;
            }
            let qos = front.message.qos();
            if qos != QoS::AtMostOnce && !self.has_quota(qos) {
                return None;
            }
            let Pending {
                mut message,
                id,
                deadline,
                ..
            } = self.queue.pop_front()?;
            if let Some(deadline) = deadline {
                message.set_message_expiry_interval(Some(now.secs_until(deadline)));
            }
            return Some(match id {
                Some(id) => self.store_sent(message, id, deadline),
                None => Publish::from_message(self.version, message, P::default()),
            });
        }
    }

    /// Checks a message handed in; errs with why it is refused.
    /// What every message must be for the session to take it: a Topic
    /// Name ([`SessionError::TopicAliasOnly`] without one) and a PUBLISH
    /// within MQTT's size limit ([`SessionError::PacketTooLarge`]).
    #[inline]
    pub fn check_message(&self, message: &Message) -> Result<(), SessionError> {
        if message.topic_name_is_empty() {
            return Err(SessionError::TopicAliasOnly);
        }
        let len = message.packet_len::<P>(self.version);
        if len > MAX_PACKET_SIZE as usize {
            return Err(SessionError::PacketTooLarge(len));
        }
        Ok(())
    }

    /// When the Message Expiry Interval of `message` ends, counted from
    /// `now` (v5.0; v3.1.1 has no message expiry).
    fn deadline_of(&self, message: &Message, now: MonotonicTime) -> Option<MonotonicTime> {
        if self.version == ProtocolVersion::V3_1_1 {
            return None;
        }
        let seconds = message.properties().message_expiry_interval()?;
        Some(now.after_secs(seconds))
    }

    /// The send quota of this connection: the peer's Receive Maximum.
    fn quota(&self) -> usize {
        usize::from(self.send_quota.get())
    }

    /// Whether a message of `qos` (1 or 2) may be sent now.
    fn has_quota(&self, qos: QoS) -> bool {
        let qos2 = qos == QoS::ExactlyOnce;
        self.in_flight.admits(self.quota(), qos2)
    }

    /// Stores a message sent now with identifier `id` (in use in the
    /// pool), and returns the PUBLISH to send.
    fn store_sent(
        &mut self,
        message: Message,
        id: P,
        deadline: Option<MonotonicTime>,
    ) -> Publish<P> {
        let sent = Publish::from_message(self.version, message.clone(), id);
        self.in_flight
            .push(id, Held::Publish { message, deadline }, true);
        sent
    }

    // ----- Inputs: acknowledgements of what we sent -----

    /// A PUBACK arrived: ends the QoS 1 flow [MQTT-4.3.2-3], releases its
    /// identifier (§2.2.1) and the send quota it held (§4.9), whatever the
    /// Reason Code [MQTT-4.4.0-2]. Returns the acknowledged message.
    ///
    /// Errs, changing nothing, with [`SessionError::PacketIdNotFound`] when
    /// no flow has the identifier (v5.0: 0x92), or
    /// [`SessionError::UnexpectedAck`] when its flow is QoS 2.
    pub fn on_puback(&mut self, id: P) -> Result<Message, SessionError> {
        let message = self.in_flight.on_puback(id)?;
        self.pool.release(id);
        Ok(message)
    }

    /// A PUBREC arrived, `failure` when its v5.0 Reason Code is 0x80 or more.
    ///
    /// On success the PUBREL replaces the stored PUBLISH, which is never
    /// re-sent again [MQTT-4.3.3-6], and is returned to send now
    /// [MQTT-4.3.3-4] ([`PubrecOutcome::Release`]; also for a repeated
    /// PUBREC of a flow already released). On failure the flow ends: the
    /// identifier and the send quota are released (§4.9) and the PUBLISH is
    /// not re-sent [MQTT-4.4.0-2] ([`PubrecOutcome::Failed`]).
    ///
    /// Errs, changing nothing, with [`SessionError::PacketIdNotFound`] when
    /// no flow has the identifier (v5.0: answer PUBREL 0x92), or
    /// [`SessionError::UnexpectedAck`] when its flow is QoS 1.
    pub fn on_pubrec(&mut self, id: P, failure: bool) -> Result<PubrecOutcome<P>, SessionError> {
        let outcome = self.in_flight.on_pubrec(id, failure, self.version)?;
        if let PubrecOutcome::Failed(_) = outcome {
            self.pool.release(id);
        }
        Ok(outcome)
    }

    /// A PUBCOMP arrived: ends the QoS 2 flow [MQTT-4.3.3-5] and releases its
    /// identifier (§2.2.1) and send quota (§4.9).
    ///
    /// Errs, changing nothing, with [`SessionError::PacketIdNotFound`] or
    /// [`SessionError::UnexpectedAck`] when the flow waits for a PUBREC or
    /// PUBACK.
    pub fn on_pubcomp(&mut self, id: P) -> Result<(), SessionError> {
        self.in_flight.on_pubcomp(id)?;
        self.pool.release(id);
        Ok(())
    }

    // ----- Inputs: what the peer sends us -----

    /// A PUBLISH arrived with `qos` and, at QoS > 0, `packet_id`.
    ///
    /// Returns [`Delivery::New`] for a message to deliver (QoS 0 and 1 always
    /// [MQTT-4.3.2-5]; QoS 2 when its identifier is not kept, which it is from
    /// now until the PUBREL), or [`Delivery::Duplicate`] for a QoS 2 PUBLISH
    /// whose identifier is kept: answer PUBREC, do not deliver it again
    /// [MQTT-4.3.3-10]. Acknowledge each QoS > 0 PUBLISH and say so with
    /// [`puback_sent`](Self::puback_sent) or [`pubrec_sent`](Self::pubrec_sent).
    ///
    /// Errs with [`SessionError::ReceiveMaximumExceeded`] when the peer now
    /// has more than our Receive Maximum unacknowledged (close with
    /// DISCONNECT 0x93, §3.3.4), and [`SessionError::ZeroPacketId`] at
    /// QoS > 0 without an identifier; nothing changes then.
    pub fn on_publish(&mut self, qos: QoS, packet_id: Option<P>) -> Result<Delivery, SessionError> {
        self.incoming.on_publish(qos, packet_id)
    }

    /// We sent a PUBACK [MQTT-4.3.2-4]: the peer's PUBLISH no longer counts
    /// against our Receive Maximum.
    pub fn puback_sent(&mut self, _packet_id: P) {
        self.incoming.puback_sent();
    }

    /// We sent a PUBREC [MQTT-4.3.3-8]; `failure` when its v5.0 Reason Code
    /// is 0x80 or more, after which the identifier is forgotten so that a
    /// later PUBLISH with it is a new message [MQTT-4.3.3-9].
    pub fn pubrec_sent(&mut self, packet_id: P, failure: bool) {
        self.incoming.pubrec_sent(packet_id, failure);
    }

    /// A PUBREL arrived: forgets the QoS 2 identifier, so that a later
    /// PUBLISH with it is a new message [MQTT-4.3.3-12]. Answer with PUBCOMP
    /// in any case [MQTT-4.3.3-11].
    ///
    /// Errs with [`SessionError::PacketIdNotFound`] when the identifier was
    /// not kept: on v5.0 the PUBCOMP then carries 0x92 (§3.7.2.1).
    pub fn on_pubrel(&mut self, packet_id: P) -> Result<(), SessionError> {
        self.incoming.on_pubrel(packet_id)
    }

    /// Forgets every QoS 2 identifier received and not yet released, as if
    /// each had its PUBREL: a later PUBLISH under one is a new message. For
    /// a restored session whose record of them may be stale (its peer may
    /// have released them since); a PUBREL for one still gets its PUBCOMP
    /// (v5.0: 0x92, §3.7.2.1).
    pub fn forget_qos2_received(&mut self) {
        self.incoming.forget_qos2();
    }

    // ----- Inputs: the network connection -----

    /// A network connection is established: the CONNACK was received
    /// (client) or sent (server) with `session_present`, and
    /// `peer_receive_maximum` is the Receive Maximum the peer announced
    /// (65,535 when absent, and on v3.1.1).
    ///
    /// Without a present session, the stored flows, the QoS 2 identifiers
    /// and the packet identifiers in use are discarded [MQTT-3.1.2-4],
    /// [MQTT-3.1.2-6] (read [`packet_ids`](Self::packet_ids) first to learn
    /// which are released); the pending queue stays. With one, returns the
    /// packets to re-send now, in the order of their flows [MQTT-4.4.0-1],
    /// [MQTT-4.6.0-1]: every PUBREL, and the unacknowledged PUBLISH packets
    /// with DUP set [MQTT-3.3.1-1] and their original identifiers, as many as
    /// the new send quota allows [MQTT-4.9.0-1]; the rest follow through
    /// [`pop_ready`](Self::pop_ready) as acknowledgements free quota.
    pub fn on_connected(
        &mut self,
        session_present: bool,
        peer_receive_maximum: NonZeroU16,
        now: MonotonicTime,
    ) -> Vec<Outgoing<P>> {
        if !session_present {
            self.in_flight.clear();
            self.incoming.clear();
            self.pool.clear();
            // Queued messages keep the identifiers they were numbered with.
            for id in self.queue.ids() {
                let _ = self.pool.register(id);
            }
        }
        self.connected = true;
        self.expires_at = None;
        self.send_quota = peer_receive_maximum;
        self.incoming.on_connection();
        self.in_flight.on_reconnect();
        self.in_flight.resend(self.quota(), self.version, now)
    }

    /// The network connection closed. Everything stays stored
    /// [MQTT-3.1.2-23], [MQTT-4.1.0-1]; the Session Expiry Interval in force
    /// now starts to run (see [`is_expired`](Self::is_expired)).
    pub fn on_disconnected(&mut self, now: MonotonicTime) {
        self.connected = false;
        self.incoming.on_connection();
        self.expires_at = match self.session_expiry_interval {
            SESSION_NEVER_EXPIRES => None,
            secs => Some(now.after_secs(secs)),
        };
    }

    /// At most `max` QoS 2 flows in flight (PUBLISH sent until its PUBCOMP),
    /// below the peer's Receive Maximum; a QoS 2 message beyond them waits
    /// in the queue, and the messages after it too (their order is kept).
    /// For a v3.1.1 peer that holds fewer QoS 2 flows than QoS 1. `None`
    /// (the default): no limit of its own. Applies from the next message
    /// sent.
    pub fn set_qos2_send_maximum(&mut self, max: Option<NonZeroU16>) {
        self.in_flight.set_qos2_maximum(max);
    }

    /// Sets the Session Expiry Interval (§3.1.2.11.2), as CONNECT, CONNACK or
    /// DISCONNECT carry it; it applies from the next
    /// [`on_disconnected`](Self::on_disconnected).
    pub fn set_session_expiry_interval(&mut self, secs: u32) {
        self.session_expiry_interval = secs;
    }

    /// Sets our Receive Maximum, as our CONNECT or CONNACK announced it.
    pub fn set_receive_maximum(&mut self, receive_maximum: NonZeroU16) {
        self.incoming.set_receive_maximum(receive_maximum);
    }

    /// Frees the memory of its packet identifier sets while they are empty
    /// (8 KiB each once an identifier was used, kept for the next ones):
    /// call it when the session will be idle a while (its connection
    /// hibernating, or stored offline). They are allocated again on use.
    pub fn shrink_to_fit(&mut self) {
        self.pool.shrink();
        self.incoming.shrink();
    }

    /// Discards the whole session state, the pending queue included, as
    /// when the session expired or a Clean Start discards it.
    pub fn clear(&mut self) {
        self.in_flight.clear();
        self.incoming.clear();
        self.pool.clear();
        self.queue.clear();
    }

    // ----- Packet identifiers for other packets -----

    /// Takes an unused packet identifier for a SUBSCRIBE or UNSUBSCRIBE, or
    /// a PUBLISH for [`publish_with_id`](Self::publish_with_id)
    /// [MQTT-2.2.1-3], [MQTT-2.2.1-4].
    pub fn acquire_packet_id(&mut self) -> Result<P, SessionError> {
        self.pool.acquire()
    }

    /// Marks a packet identifier the caller chose as in use; errs if it is.
    pub fn register_packet_id(&mut self, id: P) -> Result<(), SessionError> {
        self.pool.register(id)
    }

    /// Releases a packet identifier once its SUBACK or UNSUBACK arrived.
    /// Returns false, changing nothing, when it is not in use, or a stored
    /// PUBLISH flow or a queued message holds it (those are released by
    /// their acknowledgements, or when the message leaves the queue unsent).
    pub fn release_packet_id(&mut self, id: P) -> bool {
        !self.in_flight.contains(id) && !self.queue.holds(id) && self.pool.release(id)
    }

    // ----- Getters -----

    /// The MQTT version of the session.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }
    /// Whether a network connection is established.
    pub fn is_connected(&self) -> bool {
        self.connected
    }
    /// Whether the session has ended: disconnected, and its Session Expiry
    /// Interval passed [MQTT-4.1.0-2]. With interval 0 that is as soon as it
    /// is disconnected; with `u32::MAX` never. Discard it then.
    pub fn is_expired(&self, now: MonotonicTime) -> bool {
        !self.connected && self.expires_at.is_some_and(|at| now >= at)
    }
    /// The Session Expiry Interval, in seconds.
    pub fn session_expiry_interval(&self) -> u32 {
        self.session_expiry_interval
    }
    /// Our Receive Maximum.
    pub fn receive_maximum(&self) -> NonZeroU16 {
        self.incoming.receive_maximum()
    }
    /// The peer's Receive Maximum on this connection: the send quota.
    pub fn peer_receive_maximum(&self) -> NonZeroU16 {
        self.send_quota
    }
    /// How many more QoS > 0 PUBLISH packets may be sent now (§4.9).
    pub fn send_quota_available(&self) -> usize {
        usize::from(self.send_quota.get()).saturating_sub(self.in_flight.counted())
    }
    /// The number of stored outgoing flows.
    pub fn in_flight_len(&self) -> usize {
        self.in_flight.len()
    }
    /// The stored outgoing flows, in the order their PUBLISH was first sent.
    pub fn in_flight(&self) -> impl Iterator<Item = (P, FlowState)> + '_ {
        self.in_flight.iter().map(|(id, held)| (id, held.state()))
    }
    /// What the flow of `id` waits for, if there is one.
    pub fn flow_state(&self, id: P) -> Option<FlowState> {
        self.in_flight.state(id)
    }
    /// The packet identifiers the queued messages were numbered with.
    pub fn queued_packet_ids(&self) -> impl Iterator<Item = P> + '_ {
        self.queue.ids()
    }
    /// The number of messages in the pending queue.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }
    /// The bytes of the messages in the pending queue.
    pub fn queue_bytes(&self) -> usize {
        self.queue.bytes()
    }
    /// The packet identifiers in use.
    pub fn packet_ids(&self) -> &PacketIdPool<P> {
        &self.pool
    }
    /// Whether a QoS 2 PUBLISH with `id` was received and not yet released.
    pub fn is_qos2_pending(&self, id: P) -> bool {
        self.incoming.qos2().contains(id.to_u32())
    }
    /// How many QoS 2 PUBLISH identifiers were received and not yet
    /// released by a PUBREL: the receiver's state that outlives a network
    /// connection [MQTT-4.3.3-10].
    pub fn qos2_pending_len(&self) -> usize {
        self.incoming.qos2().len() as usize
    }
    /// Whether the session holds nothing worth keeping: no stored outgoing
    /// flow, no queued message, no received QoS 2 identifier awaiting its
    /// PUBREL [MQTT-4.3.3-10], no packet identifier in use. Call it to decide
    /// whether a disconnected session may be forgotten (a new one would be
    /// the same); the Session Expiry Interval is not considered.
    pub fn is_empty(&self) -> bool {
        self.in_flight.len() == 0
            && self.queue.is_empty()
            && self.incoming.qos2().len() == 0
            && self.pool.is_empty()
    }
    /// QoS > 0 PUBLISH packets received on this connection and not yet
    /// acknowledged.
    pub fn unacknowledged_received(&self) -> u32 {
        self.incoming.unacknowledged()
    }
    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }
}
