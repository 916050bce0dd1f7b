//! Publishing: the session's flows on a network connection, Topic Aliases
//! on the wire copy, and the peer's Maximum Packet Size.

use core::num::NonZeroU16;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, Encode, GenericPacket, Message, PacketId, QoS, TopicName};
use mqtt_session::{Outbound, Outgoing, Publish, SessionError};

use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::{ConnectionError, ConnectionState, GenericEvent, SendError};

/// An alias the application put on a PUBLISH, kept when no automatic
/// aliasing is on: the alias, and whether the Topic Name goes out empty.
type Explicit = Option<(NonZeroU16, bool)>;

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    /// How many QoS 1 and 2 messages may be in flight: the peer's Receive
    /// Maximum [MQTT-4.9.0-2], capped by
    /// [`ConnectionOptions::send_maximum`](crate::ConnectionOptions::send_maximum).
    fn send_quota(&self) -> NonZeroU16 {
        let peer = self.neg.peer_receive_maximum;
        self.options
            .send_maximum
            .map_or(peer, |ours| ours.min(peer))
    }

    /// The network connection is established: the session re-sends what it
    /// stored (session present) or discards it [MQTT-3.1.2-4], and what
    /// waits in its queue follows.
    pub(super) fn start_session(
        &mut self,
        session_present: bool,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        let released: Vec<P> = if session_present {
            Vec::new()
        } else {
            // SUBSCRIBE, UNSUBSCRIBE and queued messages keep theirs.
            let kept = self.kept_packet_ids();
            self.session
                .packet_ids()
                .iter()
                .filter(|id| !kept.contains(id))
                .collect()
        };
        self.neg.session_present = session_present;
        self.session_discarded = false;
        self.session
            .set_qos2_send_maximum(self.options.qos2_send_maximum);
        let resend = self
            .session
            .on_connected(session_present, self.send_quota(), self.now);
        if !session_present {
            // SUBSCRIBE and UNSUBSCRIBE sent before the CONNACK keep theirs.
            for id in self.sub_requests.sent_ids() {
                let _ = self.session.register_packet_id(id);
            }
        }
        events.extend(
            released
                .into_iter()
                .map(GenericEvent::NotifyPacketIdReleased),
        );
        if !session_present {
            self.acks.clear();
        }
        for packet in resend {
            match packet {
                Outgoing::Publish(p) => self.emit_publish(p, None, events),
                Outgoing::Pubrel(r) => self.emit(r, None, events),
            }
        }
        // Acknowledgements the application gave while disconnected.
        self.flush_acks(events);
        self.pump(events);
    }

    /// Discards the stored flows of a session whose Session Expiry Interval
    /// has passed while disconnected (at once for 0) [MQTT-4.1.0-2]; their
    /// identifiers are released. Messages queued while offline stay. A
    /// Session Present 1 after this is one the Client cannot have
    /// [MQTT-3.2.2-4].
    pub(super) fn discard_expired_session(&mut self, events: &mut Vec<GenericEvent<P>>) {
        if !self.session.is_expired(self.now) {
            return;
        }
        self.session_discarded = true;
        // Received QoS 2 messages waiting for their acknowledgement belong
        // to the session too.
        self.acks.clear();
        if self.session.in_flight_len() == 0
            && self.session.packet_ids().is_empty()
            && self.session.qos2_pending_len() == 0
        {
            return;
        }
        let kept = self.kept_packet_ids();
        let released: Vec<P> = self
            .session
            .packet_ids()
            .iter()
            .filter(|id| !kept.contains(id))
            .collect();
        // Connecting without a present session discards flows, QoS 2
        // identifiers and packet identifiers, and keeps the queue (with
        // the identifiers its messages were numbered with).
        let _ = self
            .session
            .on_connected(false, core::num::NonZeroU16::MAX, self.now);
        // SUBSCRIBE and UNSUBSCRIBE keep theirs, released (and reported)
        // when their answer comes or the network connection closes.
        for id in self.sub_requests.sent_ids() {
            let _ = self.session.register_packet_id(id);
        }
        self.session.on_disconnected(self.now);
        events.extend(
            released
                .into_iter()
                .map(GenericEvent::NotifyPacketIdReleased),
        );
    }

    /// The packet identifiers a session without its flows keeps: those of
    /// SUBSCRIBE and UNSUBSCRIBE packets waiting for their answer, and of
    /// queued messages.
    fn kept_packet_ids(&self) -> std::collections::HashSet<P> {
        self.sub_requests
            .sent_ids()
            .chain(self.session.queued_packet_ids())
            .collect()
    }

    /// Sends what the session's queue holds, as far as the send quota
    /// allows [MQTT-4.9.0-2].
    ///
    /// A message leaving the queue is checked against the limits of the
    /// CONNACK in force, as they may have changed since it was queued
    /// (offline, against the previous connection's or the defaults):
    /// one above the Maximum QoS [MQTT-3.2.2-11] or retained where Retain
    /// Available is 0 [MQTT-3.2.2-14] is refused as it would be if sent now
    /// (`NotifyError`, its flow ended and its identifier released), and the
    /// messages behind it follow. Stored PUBLISH packets re-sent (DUP) keep
    /// their flow's QoS.
    pub(super) fn pump(&mut self, events: &mut Vec<GenericEvent<P>>) {
        if self.state != ConnectionState::Connected {
            return;
        }
        while let Some(p) = self.session.pop_ready(self.now) {
            if !p.dup() {
                if let Err(error) = self.check_publish_limits(p.qos(), p.retain()) {
                    self.refuse_popped(p.packet_id(), p.qos(), error, events);
                    continue;
                }
            }
            self.emit_publish(p, None, events);
        }
        self.report_released(events);
    }

    /// Reports the identifiers the session released on its own (queued
    /// messages whose Message Expiry Interval passed).
    pub(super) fn report_released(&mut self, events: &mut Vec<GenericEvent<P>>) {
        if self.session.has_released() {
            let released = self.session.take_released();
            events.extend(
                released
                    .into_iter()
                    .map(GenericEvent::NotifyPacketIdReleased),
            );
        }
    }

    /// What the CONNACK lets a Client publish: no QoS above its Maximum QoS
    /// [MQTT-3.2.2-11], no RETAIN where Retain Available is 0
    /// [MQTT-3.2.2-14] (both absent on v3.1.1: QoS 2 and retain allowed).
    pub(super) fn check_publish_limits(&self, qos: QoS, retain: bool) -> Result<(), SendError> {
        if self.role != RoleKind::Client {
            return Ok(());
        }
        if qos > self.neg.maximum_qos {
            return Err(SendError::QosNotSupported {
                qos,
                maximum: self.neg.maximum_qos,
            });
        }
        if retain && !self.neg.retain_available {
            return Err(SendError::RetainNotSupported);
        }
        Ok(())
    }

    /// A PUBLISH the application sends as a packet: its Topic Alias and
    /// Subscription Identifiers checked, then sent as the message it
    /// carries, with its packet identifier.
    pub(super) fn send_publish(
        &mut self,
        mut publish: Publish<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), SendError> {
        let id = publish.packet_id();
        let mut explicit: Explicit = None;
        if let Publish::V5_0(p) = &mut publish {
            let sub_ids = p.properties().subscription_identifiers().next().is_some();
            if self.role == RoleKind::Client && sub_ids {
                return Err(SendError::Forbidden(
                    "a Client sends no Subscription Identifier in PUBLISH [MQTT-3.3.4-6]",
                ));
            }
            explicit = self.own_alias(p)?;
        }
        self.publish_message(into_message(publish), id, explicit, events)
            .map(drop)
    }

    /// A message the application publishes, numbered by the session at
    /// QoS > 0 (with `id` when the application chose it): checked against
    /// the limits of the CONNACK and the peer's Maximum Packet Size, then
    /// sent now or queued in the session until a connection or send quota
    /// lets it go [MQTT-4.9.0-2]. Returns its packet identifier. Errs,
    /// changing nothing, when it may not be sent.
    pub(super) fn publish_message(
        &mut self,
        message: Message,
        id: Option<P>,
        explicit: Explicit,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<Option<P>, SendError> {
        if self.state != ConnectionState::Connected && !self.options.offline_publish {
            return Err(self.not_now(PacketType::Publish));
        }
        // Checked again when it leaves the queue (see `pump`).
        self.check_publish_limits(message.qos(), message.retain())?;
        self.check_publish_size(&message, explicit)?;
        if let Some(id) = id.filter(|_| message.qos() != QoS::AtMostOnce) {
            if self.sub_requests.is_sent(id) {
                return Err(SessionError::PacketIdInUse(id.to_u32()).into());
            }
        }
        if message.qos() == QoS::AtMostOnce && self.session.sends_now() {
            // Nothing for the session to keep: straight into its event.
            self.session.check_message(&message)?;
            let version = self.session.version();
            let publish = Publish::from_message(version, message, P::default());
            self.emit_publish(publish, explicit, events);
            return Ok(None);
        }
        let outbound = match id {
            None => self.session.try_publish(message, self.now),
            Some(id) => self.session.publish_with_id(message, id, self.now),
        };
        let id = match outbound.map_err(|rejected| SendError::from(rejected.into_parts().0))? {
            Outbound::Send(p) => {
                let id = p.packet_id();
                self.emit_publish(p, explicit, events);
                id
            }
            Outbound::Queued { packet_id, .. } => packet_id,
        };
        self.report_released(events);
        Ok(id)
    }

    /// The peer's Maximum Packet Size, checked before the session takes a
    /// message [MQTT-3.2.2-15], [MQTT-3.1.2-24]: its PUBLISH as it would go
    /// now, with the application's Topic Alias (an automatic one is put
    /// only where it fits).
    fn check_publish_size(&self, message: &Message, explicit: Explicit) -> Result<(), SendError> {
        let (Some(max), Some(version)) = (self.neg.peer_maximum_packet_size, self.version) else {
            return Ok(());
        };
        let size = match explicit {
            None => message.packet_len::<P>(version),
            Some((_, empty)) => aliased_len::<P>(message, empty),
        };
        if size > max.get() as usize {
            return Err(SendError::PacketTooLarge {
                size,
                maximum: max.get(),
            });
        }
        Ok(())
    }

    /// A Topic Alias the application put on a PUBLISH: within the peer's
    /// maximum [MQTT-3.3.2-9], [MQTT-3.3.2-11]; an empty Topic Name is
    /// replaced by the topic of the mapping (the session stores full
    /// topics). With automatic mapping on, the connection numbers aliases
    /// itself and the application's is dropped.
    pub(super) fn own_alias(&self, p: &mut v5_0::Publish<P>) -> Result<Explicit, SendError> {
        let Some(alias) = p.topic_alias() else {
            return Ok(None);
        };
        let max = self.neg.peer_topic_alias_maximum;
        if alias.get() > max {
            return Err(crate::TopicAliasError::OutOfRange {
                alias: alias.get(),
                max,
            }
            .into());
        }
        let auto_map = self.options.auto_map_topic_alias_send;
        let empty = p.topic_name_is_empty();
        if empty {
            let topic = if auto_map {
                self.aliases.existing().and_then(|a| a.send.topic(alias))
            } else {
                self.aliases
                    .existing()
                    .and_then(|a| a.app.topic(alias.get()))
            };
            let topic = topic.ok_or(crate::TopicAliasError::Unmapped(alias.get()))?;
            // The alias is set, so an empty name would be accepted too.
            let _ = p.set_topic_name(topic.clone());
        }
        Ok((!auto_map).then_some((alias, empty)))
    }

    /// Sends a PUBLISH the session handed out (full Topic Name, no alias),
    /// with a Topic Alias where one applies. The packet is measured as it
    /// goes on the wire, alias applied: one larger than the peer's Maximum
    /// Packet Size is not sent; its flow ends as if it had been
    /// [MQTT-3.1.2-25], [MQTT-3.2.2-15], [MQTT-3.1.2-24].
    #[inline]
    pub(super) fn emit_publish(
        &mut self,
        publish: Publish<P>,
        explicit: Explicit,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        let (id, qos) = (publish.packet_id(), publish.qos());
        // Moved once, into its event; the alias and the size are worked
        // out there.
        events.push(GenericEvent::RequestSendPacket {
            packet: publish.into(),
            release_packet_id_if_send_error: None,
        });
        let aliases = self.neg.peer_topic_alias_maximum > 0;
        if aliases || self.neg.peer_maximum_packet_size.is_some() {
            if let Err(error) = self.fit_publish(explicit, events) {
                events.pop();
                return self.refuse_popped(id, qos, error, events);
            }
        }
        self.keep_alive.packet_sent();
    }

    /// The Topic Alias and the size of the PUBLISH last pushed to `events`
    /// (see [`emit_publish`](Self::emit_publish)); errs when it is too
    /// large to send.
    fn fit_publish(
        &mut self,
        explicit: Explicit,
        events: &mut [GenericEvent<P>],
    ) -> Result<(), SendError> {
        let Some(GenericEvent::RequestSendPacket { packet, .. }) = events.last_mut() else {
            return Ok(());
        };
        let max = self
            .neg
            .peer_maximum_packet_size
            .map(|m| usize::try_from(m.get()).unwrap_or(usize::MAX));
        let unaliased = max.map(|_| packet.encoded_len());
        let (size, record) = match packet {
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => {
                // An automatic alias adds 5 bytes at most: it is only put
                // where it cannot make the packet too large, so that the
                // mapping it may create is always sent.
                let room = match (max, unaliased) {
                    (Some(max), Some(len)) => len.saturating_add(5) <= max,
                    _ => true,
                };
                let (aliased, record) = self.apply_alias(p, explicit, room);
                let size = match aliased {
                    true => max.map(|_| p.encoded_len()),
                    false => unaliased,
                };
                (size, record)
            }
            _ => (unaliased, None),
        };
        if let (Some(max), Some(size)) = (max, size) {
            if size > max {
                return Err(SendError::PacketTooLarge {
                    size,
                    maximum: u32::try_from(max).unwrap_or(u32::MAX),
                });
            }
        }
        if let Some((alias, topic)) = record {
            self.aliases.tables().app.insert(alias.get(), &topic);
        }
        Ok(())
    }

    /// A PUBLISH the session handed out is not sent: `error` is reported
    /// and its flow (identifier `id`, `qos`) ends as if it had been sent
    /// and refused, releasing the identifier and the send quota.
    pub(super) fn refuse_popped(
        &mut self,
        id: Option<P>,
        qos: QoS,
        error: SendError,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        events.push(GenericEvent::NotifyError(ConnectionError::Refused(error)));
        if let Some(id) = id {
            let ended = match qos {
                QoS::AtLeastOnce => self.session.on_puback(id).is_ok(),
                _ => self.session.on_pubrec(id, true).is_ok(),
            };
            if ended {
                events.push(GenericEvent::NotifyPacketIdReleased(id));
            }
        }
    }

    /// Topic Alias on the wire copy (§3.3.2.3.4): the application's own
    /// (recorded), else with automatic replacement the alias mapped to the
    /// topic and an empty Topic Name, else with automatic mapping a new
    /// mapping, the least recently used one replaced when all are taken
    /// (only with `room`).
    ///
    /// Returns whether an alias was put on, and the application's mapping
    /// to record once the packet is known to be sent.
    pub(super) fn apply_alias(
        &mut self,
        p: &mut v5_0::Publish<P>,
        explicit: Explicit,
        room: bool,
    ) -> (bool, Option<(NonZeroU16, TopicName)>) {
        if self.neg.peer_topic_alias_maximum == 0 {
            return (false, None);
        }
        if let Some((alias, empty)) = explicit {
            let _ = p.set_topic_alias(Some(alias));
            if empty {
                let _ = p.set_topic_name(TopicName::empty());
                return (true, None);
            }
            return (true, Some((alias, p.to_topic_name())));
        }
        if !room {
            return (false, None);
        }
        let alias = if self.options.auto_map_topic_alias_send {
            if self.aliases.send_max() == 0 {
                // No alias may be sent: no table to make.
                None
            } else {
                let send = &mut self.aliases.tables().send;
                match send.get(p.topic_name()) {
                    Some(alias) => Some((alias, true)),
                    None => send.map(p.topic_name()).map(|a| (a, false)),
                }
            }
        } else if self.options.auto_replace_topic_alias_send {
            self.aliases
                .existing()
                .and_then(|a| a.app.alias(p.topic_name()))
                .and_then(NonZeroU16::new)
                .map(|a| (a, true))
        } else {
            None
        };
        let Some((alias, empty)) = alias else {
            return (false, None);
        };
        let _ = p.set_topic_alias(Some(alias));
        if empty {
            let _ = p.set_topic_name(TopicName::empty());
        }
        (true, None)
    }
}

/// Bytes the v5.0 PUBLISH of `message` takes with a Topic Alias property
/// (3 bytes) in its property block and, when `empty`, no Topic Name: the
/// lengths are worked out again, as either may need a longer Variable Byte
/// Integer (§3.3.2.3.4).
fn aliased_len<P: PacketId>(message: &Message, empty: bool) -> usize {
    use mqtt_codec::wire::varint_len;
    let props = message.properties().as_bytes().len() + 3;
    let topic = if empty { 0 } else { message.topic_name().len() };
    let id = if message.qos() == QoS::AtMostOnce {
        0
    } else {
        P::WIRE_LEN
    };
    let body = 2 + topic + id + varint_len(props as u32) + props + message.payload().len();
    1 + varint_len(body as u32) + body
}

/// The message a PUBLISH the application sends carries, for the session to
/// number and store, keeping its Subscription Identifiers: a Server sends
/// them with this delivery and its re-sends [MQTT-3.3.4-3].
fn into_message<P: PacketId>(publish: Publish<P>) -> mqtt_codec::Message {
    let ids: Vec<_> = match &publish {
        Publish::V5_0(p) => p.properties().subscription_identifiers().collect(),
        Publish::V3_1_1(_) => Vec::new(),
    };
    let mut message = publish.into_message();
    message.set_subscription_identifiers(&ids);
    message
}
