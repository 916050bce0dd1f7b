//! Sending: role, version and state checks, then what each packet type
//! implies.

use core::time::Duration;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, ProtocolVersion, QoS};
use mqtt_session::{FlowState, Publish, SessionError};

use super::configure::ConnectInfo;
use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::{ConnectionState, GenericEvent, SendError, TimerKind};

/// Whether `role` ever sends `packet_type` on `version` (§2.1.2, Table 2-1;
/// a v3.1.1 Server sends no DISCONNECT, §3.14).
pub(super) fn may_send(role: RoleKind, version: ProtocolVersion, packet_type: PacketType) -> bool {
    use PacketType as T;
    match packet_type {
        T::Publish | T::Puback | T::Pubrec | T::Pubrel | T::Pubcomp => true,
        T::Connect | T::Subscribe | T::Unsubscribe | T::Pingreq => role == RoleKind::Client,
        T::Connack | T::Suback | T::Unsuback | T::Pingresp => role == RoleKind::Server,
        T::Disconnect => role == RoleKind::Client || version == ProtocolVersion::V5_0,
        T::Auth => version == ProtocolVersion::V5_0,
    }
}

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    /// Checks and sends; errs, having pushed no event and changed nothing,
    /// when the packet may not be sent.
    pub(super) fn try_send(
        &mut self,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), SendError> {
        let packet_type = packet.packet_type();
        let version = packet.version();
        match self.version {
            Some(connection) if connection != version => {
                return Err(SendError::VersionMismatch {
                    connection,
                    packet: version,
                })
            }
            None if packet_type != PacketType::Connect => {
                return Err(self.not_now(packet_type));
            }
            _ => {}
        }
        let role = match self.role {
            // The first CONNECT sent makes a Client.
            RoleKind::Any if packet_type == PacketType::Connect => RoleKind::Client,
            RoleKind::Any => return Err(self.not_now(packet_type)),
            role => role,
        };
        if !may_send(role, version, packet_type) {
            return Err(SendError::NotAllowedForRole { packet_type, role });
        }
        self.check_send_state(role, packet_type)?;
        self.send_packet(packet, events)
    }

    pub(super) fn not_now(&self, packet_type: PacketType) -> SendError {
        SendError::NotAllowedInState {
            packet_type,
            state: self.state,
        }
    }

    /// What may be sent in each state: CONNECT first and once
    /// [MQTT-3.1.0-1], [MQTT-3.1.0-2]; a Server sends only CONNACK or AUTH
    /// before its CONNACK [MQTT-3.2.0-1], one CONNACK [MQTT-3.2.0-2], no
    /// DISCONNECT before it [MQTT-3.14.0-1]; a Client that sent an
    /// Authentication Method only AUTH or DISCONNECT before the CONNACK
    /// [MQTT-3.1.2-30]; nothing after a DISCONNECT [MQTT-3.14.4-1]. A
    /// PUBLISH before the CONNACK is queued (offline publish).
    pub(super) fn check_send_state(&self, role: RoleKind, t: PacketType) -> Result<(), SendError> {
        use ConnectionState as S;
        use PacketType as T;
        let allowed = match (role, self.state, t) {
            (_, S::Closed, _) => false,
            (_, S::Disconnected | S::Connecting, T::Publish) => true,
            (RoleKind::Client, S::Disconnected, T::Connect) => true,
            (RoleKind::Client, S::Connecting, T::Disconnect | T::Auth) => true,
            (RoleKind::Client, S::Connecting, T::Subscribe | T::Unsubscribe | T::Pingreq) => {
                if self.neg.auth_method.is_some() {
                    return Err(SendError::Forbidden(
                        "only AUTH or DISCONNECT before the CONNACK after a CONNECT with an Authentication Method [MQTT-3.1.2-30]",
                    ));
                }
                true
            }
            (RoleKind::Client, S::Connected, t) => t != T::Connect,
            (RoleKind::Server, S::Connecting, T::Connack | T::Auth) => true,
            (RoleKind::Server, S::Connected, t) => t != T::Connack,
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(self.not_now(t))
        }
    }

    /// What sending `packet` (checked for role, version and state) implies,
    /// by its type, the same in both versions; v5.0 adds its fitting to
    /// the peer ([`fit`](Self::fit)) and its properties. Every check comes
    /// before the first change.
    fn send_packet(
        &mut self,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), SendError> {
        use v3_1_1::Packet as V3;
        use v5_0::Packet as V5;
        use PacketType as T;
        let packet = match packet {
            GenericPacket::V3_1_1(V3::Publish(p)) => {
                return self.send_publish(Publish::V3_1_1(p), events)
            }
            GenericPacket::V5_0(V5::Publish(p)) => {
                return self.send_publish(Publish::V5_0(p), events)
            }
            GenericPacket::V3_1_1(V3::Connect(c)) => {
                let info = ConnectInfo::of_v3(&c);
                return self.send_connect(info, GenericPacket::V3_1_1(V3::Connect(c)), events);
            }
            GenericPacket::V5_0(V5::Connect(c)) => {
                let info = ConnectInfo::of_v5(&c);
                return self.send_connect(info, GenericPacket::V5_0(V5::Connect(c)), events);
            }
            packet => packet,
        };
        let packet_type = packet.packet_type();
        match packet_type {
            T::Connack => return self.send_connack(packet, events),
            T::Disconnect => return self.send_disconnect(packet, events),
            _ => {}
        }
        let id = packet.packet_id();
        match (&packet, id) {
            (_, Some(id)) if packet_type == T::Pubrel => self.check_pubrel(id)?,
            (GenericPacket::V5_0(V5::Subscribe(s)), _) => self.check_subscribe(s)?,
            (GenericPacket::V5_0(V5::Auth(a)), _) => self.check_auth_send(a)?,
            _ => {}
        }
        let packet = self.fit(packet)?;
        // The last checks take what they check: nothing fails after them.
        if let Some(id) = id {
            match packet_type {
                T::Subscribe | T::Unsubscribe => self.take_sub_id(id)?,
                T::Suback => self.sub_requests.answer(false, id)?,
                T::Unsuback => self.sub_requests.answer(true, id)?,
                T::Puback => self.session.puback_sent(id),
                T::Pubrec => self.session.pubrec_sent(id, failure_pubrec(&packet)),
                _ => {}
            }
        }
        if let GenericPacket::V5_0(V5::Auth(a)) = &packet {
            self.auth_sent(a);
        }
        let release = id.filter(|_| matches!(packet_type, T::Subscribe | T::Unsubscribe));
        self.emit(packet, release, events);
        if packet_type == T::Pingreq {
            self.pingreq_sent(events);
        }
        Ok(())
    }

    /// A CONNECT: its version checked, an expired session discarded, what
    /// it says applied [MQTT-3.1.2-4].
    fn send_connect(
        &mut self,
        info: ConnectInfo,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), SendError> {
        self.check_connect_version(&info)?;
        self.discard_expired_session(events);
        self.apply_connect(info, true);
        self.emit(packet, None, events);
        Ok(())
    }

    /// A CONNACK: checked against the CONNECT ([`check_connack`](Self::check_connack)),
    /// fitted (v5.0), then what it announces applied.
    fn send_connack(
        &mut self,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), SendError> {
        let (success, session_present) = match &packet {
            GenericPacket::V3_1_1(v3_1_1::Packet::Connack(c)) => {
                let success = c.return_code().is_success();
                self.check_connack(success, c.session_present(), None)?;
                (success, c.session_present())
            }
            GenericPacket::V5_0(v5_0::Packet::Connack(c)) => {
                let success = c.reason_code().is_success();
                self.check_connack(success, c.session_present(), Some(c.properties()))?;
                (success, c.session_present())
            }
            other => return Err(self.not_now(other.packet_type())),
        };
        let packet = self.fit(packet)?;
        if let (true, GenericPacket::V5_0(v5_0::Packet::Connack(c))) = (success, &packet) {
            self.apply_connack(session_present, Some(c.properties()), true);
        }
        self.emit(packet, None, events);
        self.after_connack_sent(success, session_present, events);
        Ok(())
    }

    /// A DISCONNECT ends the network connection [MQTT-3.14.4-1],
    /// [MQTT-3.14.4-2]; on v5.0 it may change the Session Expiry Interval,
    /// within the rules of §3.14.2.2.2.
    fn send_disconnect(
        &mut self,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), SendError> {
        let mut expiry = None;
        if let GenericPacket::V5_0(v5_0::Packet::Disconnect(d)) = &packet {
            expiry = d.properties().session_expiry_interval;
            if expiry.is_some() && self.role == RoleKind::Server {
                return Err(SendError::Forbidden(
                    "a Server sends no Session Expiry Interval in DISCONNECT [MQTT-3.14.2-2]",
                ));
            }
            if expiry.is_some_and(|e| e != 0) && self.neg.connect_expiry_zero {
                return Err(SendError::Forbidden(
                    "a non-zero Session Expiry Interval in DISCONNECT after 0 in CONNECT (§3.14.2.2.2)",
                ));
            }
        }
        let packet = self.fit(packet)?;
        if let Some(expiry) = expiry {
            self.session.set_session_expiry_interval(expiry);
        }
        events.push(GenericEvent::RequestSendPacket {
            packet,
            release_packet_id_if_send_error: None,
        });
        self.close(events);
        Ok(())
    }

    /// Pushes a packet to send; a Client's PINGREQ timer restarts at the
    /// end of the call.
    #[inline]
    pub(super) fn emit(
        &mut self,
        packet: impl Into<GenericPacket<P>>,
        release: Option<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        events.push(GenericEvent::RequestSendPacket {
            packet: packet.into(),
            release_packet_id_if_send_error: release,
        });
        self.keep_alive.packet_sent();
    }

    /// A PINGREQ was sent: the PINGRESP must come within the timeout (the
    /// Keep Alive in force unless set, §3.1.2.10), counted from the first
    /// PINGREQ not answered yet: another PINGREQ does not postpone it.
    pub(super) fn pingreq_sent(&mut self, events: &mut Vec<GenericEvent<P>>) {
        let keep_alive = Duration::from_secs(u64::from(self.keep_alive()));
        let timeout = self.options.pingresp_recv_timeout.unwrap_or(keep_alive);
        if !timeout.is_zero() && self.keep_alive.pingreq_sent() {
            self.reset_timer(TimerKind::PingrespRecv, timeout, events);
        }
    }

    /// A PUBREL answers a PUBREC we received, whose flow now waits for the
    /// PUBCOMP [MQTT-4.3.3-4].
    pub(super) fn check_pubrel(&self, id: P) -> Result<(), SendError> {
        match self.session.flow_state(id) {
            Some(FlowState::AwaitingPubcomp) => Ok(()),
            _ => Err(SessionError::PacketIdNotFound(id.to_u32()).into()),
        }
    }

    /// Takes `id` for a SUBSCRIBE or UNSUBSCRIBE: acquired or registered by
    /// the application, or registered now; not held by another flow
    /// [MQTT-2.2.1-3].
    pub(super) fn take_sub_id(&mut self, id: P) -> Result<(), SendError> {
        if self.sub_requests.is_sent(id) || self.session.flow_state(id).is_some() {
            return Err(SessionError::PacketIdInUse(id.to_u32()).into());
        }
        if !self.session.packet_ids().is_in_use(id) {
            self.session.register_packet_id(id)?;
        }
        self.sub_requests.sent(id);
        Ok(())
    }

    /// What the CONNACK announced about subscriptions (§3.2.2.3.11 to
    /// §3.2.2.3.13).
    pub(super) fn check_subscribe(&self, s: &v5_0::Subscribe<P>) -> Result<(), SendError> {
        let filters = s.subscriptions().iter().map(|(f, _)| f);
        if !self.neg.wildcard_subscription_available && filters.clone().any(|f| f.has_wildcard()) {
            return Err(SendError::WildcardSubscriptionNotAvailable);
        }
        if !self.neg.subscription_identifiers_available
            && s.properties().subscription_identifier.is_some()
        {
            return Err(SendError::SubscriptionIdentifierNotAvailable);
        }
        if !self.neg.shared_subscription_available && filters.clone().any(|f| f.is_shared()) {
            return Err(SendError::SharedSubscriptionNotAvailable);
        }
        Ok(())
    }

    /// A Server's CONNACK: Session Present only without Clean Start
    /// [MQTT-3.2.2-2] (v5.0), [MQTT-3.2.2-1] (v3.1.1); the Authentication
    /// Method of the CONNECT, and only then [MQTT-4.12.0-5],
    /// [MQTT-4.12.0-6].
    pub(super) fn check_connack(
        &self,
        success: bool,
        session_present: bool,
        properties: Option<&v5_0::ConnackProperties>,
    ) -> Result<(), SendError> {
        if success && session_present && self.neg.clean_start {
            return Err(SendError::Forbidden(
                "Session Present must be 0 after a CONNECT with Clean Start [MQTT-3.2.2-2]",
            ));
        }
        if let (true, Some(properties)) = (success, properties) {
            let maximum_qos = properties.maximum_qos.unwrap_or(QoS::ExactlyOnce);
            if self.neg.will.is_some_and(|(qos, _)| qos > maximum_qos) {
                return Err(SendError::Forbidden(
                    "a Will QoS above the Maximum QoS is refused, not accepted [MQTT-3.2.2-12]",
                ));
            }
            let retain_available = properties.retain_available.unwrap_or(true);
            if !retain_available && self.neg.will.is_some_and(|(_, retain)| retain) {
                return Err(SendError::Forbidden(
                    "a retained Will without Retain Available is refused, not accepted [MQTT-3.2.2-13]",
                ));
            }
            if self.neg.client_identifier.is_empty()
                && properties.assigned_client_identifier.is_none()
            {
                return Err(SendError::Forbidden(
                    "a CONNACK to an empty Client Identifier carries an Assigned Client Identifier [MQTT-3.2.2-16]",
                ));
            }
            if properties.response_information.is_some() && !self.neg.request_response_information {
                return Err(SendError::Forbidden(
                    "no Response Information unless the CONNECT requested it [MQTT-3.1.2-28]",
                ));
            }
        }
        if let Some(properties) = properties {
            let method = properties.authentication_method.as_ref();
            match &self.neg.auth_method {
                None if method.is_some() => {
                    return Err(SendError::Forbidden(
                        "no Authentication Method in CONNACK when CONNECT had none [MQTT-4.12.0-6]",
                    ))
                }
                Some(expected) if success && method != Some(expected) => {
                    return Err(SendError::Forbidden(
                        "a successful CONNACK carries the Authentication Method of the CONNECT [MQTT-4.12.0-5]",
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// After a Server's CONNACK: a refusal closes [MQTT-3.2.2-7] (v5.0),
    /// [MQTT-3.2.2-5] (v3.1.1) without processing what the Client sent
    /// after its CONNECT [MQTT-3.1.4-5] (v3.1.1), [MQTT-3.1.4-6] (v5.0); a
    /// success starts the session, re-sends its stored packets, and
    /// processes what the Client sent meanwhile.
    pub(super) fn after_connack_sent(
        &mut self,
        success: bool,
        session_present: bool,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        if !success {
            self.deferred.clear();
            self.close(events);
            return;
        }
        if self.version == Some(ProtocolVersion::V3_1_1) {
            self.apply_connack(session_present, None, true);
        }
        self.state = ConnectionState::Connected;
        self.start_session(session_present, events);
        // The Keep Alive in force may have changed (Server Keep Alive).
        self.keep_alive.packet_received();
        while let Some(packet) = self.deferred.pop_front() {
            if self.state != ConnectionState::Connected {
                self.deferred.clear();
                break;
            }
            self.on_packet(packet, events);
        }
    }
}

/// Whether a PUBREC ends its QoS 2 flow with a failure Reason Code (v5.0;
/// a v3.1.1 PUBREC has none, §4.3.3).
pub(super) fn failure_pubrec<P: PacketId>(packet: &GenericPacket<P>) -> bool {
    matches!(packet, GenericPacket::V5_0(v5_0::Packet::Pubrec(a)) if a.reason_code().is_failure())
}
