//! What each received packet does: configuration, checks, the session's
//! flows, automatic answers.

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, ProtocolVersion};

use super::recv::Admit;
use mqtt_session::{Delivery, PubrecOutcome, SessionError};

use super::configure::ConnectInfo;
use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::{ConnectionError, ConnectionState, GenericEvent, SendError};

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    /// Server: a CONNECT arrived (§3.1.4).
    pub(super) fn connect_received(
        &mut self,
        info: ConnectInfo,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        if let Err(SendError::VersionMismatch { connection, packet }) =
            self.check_connect_version(&info)
        {
            let error = ConnectionError::VersionMismatch { connection, packet };
            self.protocol_error(error, events);
            return;
        }
        self.discard_expired_session(events);
        self.sub_requests.forget_received();
        self.apply_connect(info, false);
        self.keep_alive.packet_received();
        self.notify(packet, events);
    }

    /// Client: a CONNACK arrived (§3.2). A refusal closes; a Session Present
    /// the Client cannot have is a protocol error [MQTT-3.2.2-4] (v5.0).
    pub(super) fn connack_received(
        &mut self,
        success: bool,
        session_present: bool,
        v5: bool,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        if !success {
            self.notify(packet, events);
            self.close(events);
            return;
        }
        if session_present && (self.neg.clean_start || self.session_discarded) {
            let error = ConnectionError::ProtocolError(
                "Session Present without Session State: Clean Start, or the session expired [MQTT-3.2.2-4]",
            );
            self.protocol_error(error, events);
            return;
        }
        if !v5 {
            self.apply_connack(session_present, None, false);
        }
        self.state = ConnectionState::Connected;
        self.start_session(session_present, events);
        self.notify(packet, events);
        // The PINGREQ timer starts with the connection.
        self.keep_alive.packet_sent();
    }

    /// Server: what this Server's CONNACK announced, checked on a PUBLISH
    /// [MQTT-3.2.2-11], [MQTT-3.2.2-14], [MQTT-3.3.4-6]; both roles: the
    /// Topic Alias, resolved to the full Topic Name [MQTT-3.3.2-10],
    /// [MQTT-3.3.2-12], §3.3.4.
    pub(super) fn check_publish_v5(
        &mut self,
        p: &mut v5_0::Publish<P>,
    ) -> Result<(), ConnectionError> {
        if self.role == RoleKind::Server {
            if p.qos() > self.neg.maximum_qos {
                return Err(ConnectionError::QosNotSupported {
                    qos: p.qos(),
                    maximum: self.neg.maximum_qos,
                });
            }
            if p.retain() && !self.neg.retain_available {
                return Err(ConnectionError::RetainNotSupported);
            }
            if p.properties().subscription_identifiers().next().is_some() {
                return Err(ConnectionError::ProtocolError(
                    "a Client sends no Subscription Identifier in PUBLISH [MQTT-3.3.4-6]",
                ));
            }
        }
        if let Some(alias) = p.topic_alias() {
            if p.topic_name_is_empty() {
                let topic = self.aliases.tables().recv.resolve(alias)?.clone();
                // The alias stays set, so the name is accepted.
                let _ = p.set_topic_name(topic);
            } else {
                self.aliases
                    .tables()
                    .recv
                    .insert(alias, p.to_topic_name())?;
            }
        }
        Ok(())
    }

    /// Server: what this Server's CONNACK announced about subscriptions
    /// (§3.2.2.3.11 to §3.2.2.3.13).
    pub(super) fn check_subscribe_received(
        &self,
        s: &v5_0::Subscribe<P>,
    ) -> Result<(), ConnectionError> {
        let mut filters = s.subscriptions().iter().map(|(f, _)| f);
        if !self.neg.wildcard_subscription_available && filters.any(|f| f.has_wildcard()) {
            return Err(ConnectionError::WildcardSubscriptionNotAvailable);
        }
        if !self.neg.subscription_identifiers_available
            && s.properties().subscription_identifier.is_some()
        {
            return Err(ConnectionError::SubscriptionIdentifierNotAvailable);
        }
        let mut filters = s.subscriptions().iter().map(|(f, _)| f);
        if !self.neg.shared_subscription_available && filters.any(|f| f.is_shared()) {
            return Err(ConnectionError::SharedSubscriptionNotAvailable);
        }
        Ok(())
    }

    /// Client: a CONNECT without Request Problem Information gets no Reason
    /// String or User Property except on PUBLISH, CONNACK and DISCONNECT
    /// [MQTT-3.1.2-29].
    pub(super) fn check_problem_information(
        &self,
        packet: &v5_0::Packet<P>,
    ) -> Result<(), ConnectionError> {
        use v5_0::Packet as V5;
        if self.role != RoleKind::Client || self.neg.request_problem_information {
            return Ok(());
        }
        let has = match packet {
            V5::Puback(a) => !a.properties().is_empty(),
            V5::Pubrec(a) => !a.properties().is_empty(),
            V5::Pubrel(a) => !a.properties().is_empty(),
            V5::Pubcomp(a) => !a.properties().is_empty(),
            V5::Suback(a) => !a.properties().is_empty(),
            V5::Unsuback(a) => !a.properties().is_empty(),
            V5::Auth(a) => {
                a.properties().reason_string.is_some() || !a.properties().user_properties.is_empty()
            }
            _ => false,
        };
        if has {
            return Err(ConnectionError::ProtocolError(
                "a Reason String or User Property after Request Problem Information 0 [MQTT-3.1.2-29]",
            ));
        }
        Ok(())
    }

    /// A PUBLISH arrived, pushed as the last of `events` (its delivery):
    /// admitted ([`admission`](Self::admission)), v5.0's rules applied (its
    /// Topic Alias resolved in place), counted against our Receive Maximum
    /// (0x93 when exceeded, [MQTT-3.3.4-7], [MQTT-3.3.4-9]), delivered once
    /// [MQTT-4.3.3-10], acknowledged as the [`AckPolicy`](crate::AckPolicy)
    /// says. Taken back out of `events` when it is not delivered (refused,
    /// held until the CONNACK, or a duplicate).
    pub(super) fn publish_received(&mut self, events: &mut Vec<GenericEvent<P>>) {
        let Some(GenericEvent::NotifyPacketReceived(packet)) = events.last_mut() else {
            return;
        };
        let admitted = self
            .admission(packet.version(), PacketType::Publish)
            .and_then(|admit| match packet {
                GenericPacket::V5_0(p) if matches!(admit, Admit::Now) => {
                    self.v5_rules(p).map(|()| admit)
                }
                _ => Ok(admit),
            });
        let (qos, id) = (packet.publish_qos().unwrap_or_default(), packet.packet_id());
        let delivery = admitted.and_then(|admit| match admit {
            Admit::Now => Ok(Some(self.session.on_publish(qos, id)?)),
            Admit::Defer => Ok(None),
        });
        match delivery {
            Ok(Some(Delivery::New)) => {
                if let Some(id) = id {
                    self.delivered(id, qos, events);
                }
            }
            Ok(Some(Delivery::Duplicate)) => {
                events.pop();
                if let Some(id) = id {
                    self.delivered_again(id, events);
                }
            }
            Ok(None) => {
                if let Some(GenericEvent::NotifyPacketReceived(packet)) = events.pop() {
                    self.defer(packet, events);
                }
            }
            Err(error) => {
                events.pop();
                self.protocol_error(error, events);
            }
        }
    }

    /// A PUBACK ends its QoS 1 flow [MQTT-4.3.2-3].
    pub(super) fn puback_received(
        &mut self,
        id: P,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        match self.session.on_puback(id) {
            Ok(_) => {
                self.notify(packet, events);
                events.push(GenericEvent::NotifyPacketIdReleased(id));
                self.pump(events);
            }
            Err(error) => self.ack_error(error, packet, events),
        }
    }

    /// A PUBREC: the PUBREL follows (automatic, or the application's)
    /// [MQTT-4.3.3-4]; a failure code ends the flow [MQTT-4.3.3-... §4.9].
    pub(super) fn pubrec_received(
        &mut self,
        id: P,
        failure: bool,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        match self.session.on_pubrec(id, failure) {
            Ok(PubrecOutcome::Release(pubrel)) => {
                self.notify(packet, events);
                if self.options.automatic_flow() {
                    self.emit(pubrel, None, events);
                }
            }
            Ok(PubrecOutcome::Failed(_)) => {
                self.notify(packet, events);
                events.push(GenericEvent::NotifyPacketIdReleased(id));
                self.pump(events);
            }
            Err(error @ SessionError::PacketIdNotFound(_)) => {
                self.notify(packet, events);
                events.push(GenericEvent::NotifyError(error.into()));
                if self.options.automatic_flow() {
                    let answer = self.not_found_answer(true, id);
                    self.emit(answer, None, events);
                }
            }
            Err(error) => self.protocol_error(error.into(), events),
        }
    }

    /// A PUBREL: the PUBCOMP answers it in any case [MQTT-4.3.3-11], with
    /// 0x92 on v5.0 when the identifier is unknown (§3.7.2.1).
    pub(super) fn pubrel_received(
        &mut self,
        id: P,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        let known = self.session.on_pubrel(id).is_ok();
        self.notify(packet, events);
        if self.options.automatic_flow() {
            let answer = if known {
                match self.version {
                    Some(ProtocolVersion::V3_1_1) => {
                        GenericPacket::V3_1_1(v3_1_1::Packet::Pubcomp(v3_1_1::Pubcomp::new(id)))
                    }
                    _ => GenericPacket::V5_0(v5_0::Packet::Pubcomp(v5_0::Pubcomp::new(id))),
                }
            } else {
                self.not_found_answer(false, id)
            };
            self.emit(answer, None, events);
        }
    }

    /// A PUBCOMP ends its QoS 2 flow [MQTT-4.3.3-5].
    pub(super) fn pubcomp_received(
        &mut self,
        id: P,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        match self.session.on_pubcomp(id) {
            Ok(()) => {
                self.notify(packet, events);
                events.push(GenericEvent::NotifyPacketIdReleased(id));
                self.pump(events);
            }
            Err(error) => self.ack_error(error, packet, events),
        }
    }

    /// An acknowledgement the session refused: of the wrong kind for its
    /// flow, a Protocol Error (0x82); for no flow, reported, not fatal.
    pub(super) fn ack_error(
        &mut self,
        error: SessionError,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        if let SessionError::PacketIdNotFound(_) = error {
            self.notify(packet, events);
            events.push(GenericEvent::NotifyError(error.into()));
        } else {
            self.protocol_error(error.into(), events);
        }
    }

    /// A SUBACK or UNSUBACK ends its request's use of the identifier.
    pub(super) fn sub_answer_received(
        &mut self,
        id: P,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        self.notify(packet, events);
        if self.sub_requests.answered(id) {
            if self.session.release_packet_id(id) {
                events.push(GenericEvent::NotifyPacketIdReleased(id));
            }
        } else {
            let error = SessionError::PacketIdNotFound(id.to_u32());
            events.push(GenericEvent::NotifyError(error.into()));
        }
    }

    /// Server: PINGRESP answers PINGREQ [MQTT-3.12.4-1], when automatic.
    pub(super) fn pingreq_received(&mut self, events: &mut Vec<GenericEvent<P>>) {
        if !self.options.auto_ping_response {
            return;
        }
        let pingresp = match self.version {
            Some(ProtocolVersion::V3_1_1) => {
                GenericPacket::V3_1_1(v3_1_1::Packet::Pingresp(v3_1_1::Pingresp))
            }
            _ => GenericPacket::V5_0(v5_0::Packet::Pingresp(v5_0::Pingresp)),
        };
        self.emit(pingresp, None, events);
    }

    /// Client: the PINGRESP stops the PINGRESP timeout.
    pub(super) fn pingresp_received(&mut self, events: &mut Vec<GenericEvent<P>>) {
        self.keep_alive.pingresp_received();
        self.cancel_timer(crate::TimerKind::PingrespRecv, events);
    }
}
