//! Publishing: the session's flows on a network connection, Topic Aliases
//! on the wire copy, and the peer's Maximum Packet Size.

use core::num::NonZeroU16;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, Encode, PacketId, QoS, TopicName};
use mqtt_session::{Outbound, Outgoing, Publish, SessionError};

use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::{ConnectionError, ConnectionState, GenericEvent};

/// An alias the application put on a PUBLISH, kept when no automatic
/// aliasing is on: the alias, and whether the Topic Name goes out empty.
type Explicit = Option<(NonZeroU16, bool)>;

impl<R: Role, P: PacketId> GenericConnection<R, P> {
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
            let sub_ids = &self.sub_ids;
            self.session
                .packet_ids()
                .iter()
                .filter(|id| !sub_ids.contains(id))
                .collect()
        };
        self.neg.session_present = session_present;
        self.session_discarded = false;
        let resend =
            self.session
                .on_connected(session_present, self.neg.peer_receive_maximum, self.now);
        if !session_present {
            // SUBSCRIBE and UNSUBSCRIBE sent before the CONNACK keep theirs.
            for &id in &self.sub_ids {
                let _ = self.session.register_packet_id(id);
            }
        }
        events.extend(
            released
                .into_iter()
                .map(GenericEvent::NotifyPacketIdReleased),
        );
        for packet in resend {
            match packet {
                Outgoing::Publish(p) => self.emit_publish(p, None, events),
                Outgoing::Pubrel(r) => self.emit(r, None, events),
            }
        }
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
        if self.session.in_flight_len() == 0 && self.session.packet_ids().is_empty() {
            return;
        }
        let released: Vec<P> = self.session.packet_ids().iter().collect();
        // Connecting without a present session discards flows, QoS 2
        // identifiers and packet identifiers, and keeps the queue.
        let _ = self
            .session
            .on_connected(false, core::num::NonZeroU16::MAX, self.now);
        self.session.on_disconnected(self.now);
        events.extend(
            released
                .into_iter()
                .map(GenericEvent::NotifyPacketIdReleased),
        );
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
    }

    /// What the CONNACK lets a Client publish: no QoS above its Maximum QoS
    /// [MQTT-3.2.2-11], no RETAIN where Retain Available is 0
    /// [MQTT-3.2.2-14] (both absent on v3.1.1: QoS 2 and retain allowed).
    pub(super) fn check_publish_limits(
        &self,
        qos: QoS,
        retain: bool,
    ) -> Result<(), ConnectionError> {
        if self.role != RoleKind::Client {
            return Ok(());
        }
        if qos > self.neg.maximum_qos {
            return Err(ConnectionError::QosNotSupported {
                qos,
                maximum: self.neg.maximum_qos,
            });
        }
        if retain && !self.neg.retain_available {
            return Err(ConnectionError::RetainNotSupported);
        }
        Ok(())
    }

    /// A PUBLISH the application sends: the limits of the CONNACK, the
    /// session, then the wire.
    pub(super) fn send_publish(
        &mut self,
        mut publish: Publish<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), ConnectionError> {
        let id = publish.packet_id();
        let mut explicit: Explicit = None;
        if let Publish::V5_0(p) = &mut publish {
            // Checked again when it leaves the queue (see `pump`).
            self.check_publish_limits(p.qos(), p.retain())?;
            let sub_ids = p.properties().subscription_identifiers().next().is_some();
            if self.role == RoleKind::Client && sub_ids {
                return Err(ConnectionError::Forbidden(
                    "a Client sends no Subscription Identifier in PUBLISH [MQTT-3.3.4-6]",
                ));
            }
            explicit = self.own_alias(p)?;
        }
        if let Some(id) = id {
            if self.sub_ids.contains(&id) {
                return Err(SessionError::PacketIdInUse(id.to_u32()).into());
            }
        }
        let message = into_message(publish);
        if self.state != ConnectionState::Connected {
            if !self.options.offline_publish {
                return Err(self.not_now(PacketType::Publish));
            }
            // Queued: the session numbers it when it leaves the queue, so
            // the identifier it carries is free again.
            match self.session.try_publish(message, self.now) {
                Ok(Outbound::Queued { .. }) => {
                    if let Some(id) = id {
                        self.release_refused(id, events);
                    }
                }
                Ok(Outbound::Send(p)) => self.emit_publish(p, explicit, events),
                Err(rejected) => return Err(rejected.into_parts().0.into()),
            }
            return Ok(());
        }
        let wire = if message.qos() == QoS::AtMostOnce {
            match self.session.try_publish(message, self.now) {
                Ok(Outbound::Send(p)) => p,
                // Behind messages waiting to be re-sent, in order.
                Ok(Outbound::Queued { .. }) => return Ok(()),
                Err(rejected) => return Err(rejected.into_parts().0.into()),
            }
        } else {
            self.session
                .publish_with_id(message, id.unwrap_or_default(), self.now)
                .map_err(|rejected| ConnectionError::from(rejected.into_parts().0))?
        };
        self.emit_publish(wire, explicit, events);
        Ok(())
    }

    /// A Topic Alias the application put on a PUBLISH: within the peer's
    /// maximum [MQTT-3.3.2-9], [MQTT-3.3.2-11]; an empty Topic Name is
    /// replaced by the topic of the mapping (the session stores full
    /// topics). With automatic mapping on, the connection numbers aliases
    /// itself and the application's is dropped.
    pub(super) fn own_alias(&self, p: &mut v5_0::Publish<P>) -> Result<Explicit, ConnectionError> {
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
        let empty = p.topic_name().is_empty();
        if empty {
            let topic = if auto_map {
                self.alias_send.topic(alias)
            } else {
                self.app_aliases.topic(alias.get())
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
    pub(super) fn emit_publish(
        &mut self,
        mut publish: Publish<P>,
        explicit: Explicit,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        let max = self
            .neg
            .peer_maximum_packet_size
            .map(|m| usize::try_from(m.get()).unwrap_or(usize::MAX));
        let (id, qos) = (publish.packet_id(), publish.qos());
        let unaliased = publish.encoded_len();
        // Worked out in place: the packet is moved once, into its event.
        let (size, record) = match &mut publish {
            Publish::V3_1_1(_) => (unaliased, None),
            Publish::V5_0(p) => {
                // An automatic alias adds 5 bytes at most: it is only put
                // where it cannot make the packet too large, so that the
                // mapping it may create is always sent.
                let room = max.is_none_or(|m| unaliased.saturating_add(5) <= m);
                let (aliased, record) = self.apply_alias(p, explicit, room);
                let size = if aliased { p.encoded_len() } else { unaliased };
                (size, record)
            }
        };
        if let Some(max) = max {
            if size > max {
                let error = ConnectionError::PacketTooLarge {
                    size,
                    maximum: u32::try_from(max).unwrap_or(u32::MAX),
                };
                self.refuse_popped(id, qos, error, events);
                return;
            }
        }
        if let Some((alias, topic)) = record {
            self.app_aliases.insert(alias.get(), &topic);
        }
        self.emit(publish, None, events);
    }

    /// A PUBLISH the session handed out is not sent: `error` is reported
    /// and its flow (identifier `id`, `qos`) ends as if it had been sent
    /// and refused, releasing the identifier and the send quota.
    pub(super) fn refuse_popped(
        &mut self,
        id: Option<P>,
        qos: QoS,
        error: ConnectionError,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        events.push(GenericEvent::NotifyError(error));
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
            match self.alias_send.get(p.topic_name()) {
                Some(alias) => Some((alias, true)),
                None => self.alias_send.map(p.topic_name()).map(|a| (a, false)),
            }
        } else if self.options.auto_replace_topic_alias_send {
            self.app_aliases
                .alias(p.topic_name())
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
