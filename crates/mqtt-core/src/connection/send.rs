//! Sending: role, version and state checks, then what each packet type
//! implies.

use core::time::Duration;

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, ProtocolVersion, QoS};
use mqtt_session::{FlowState, Publish, SessionError};

use super::configure::ConnectInfo;
use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::{ConnectionError, ConnectionState, GenericEvent, SendError, TimerKind};

/// The most SUBSCRIBE and UNSUBSCRIBE packet identifiers a Server keeps,
/// received and not answered yet; one more is refused with 0x97 Quota
/// exceeded. Far above what a client that waits for its answers sends.
const MAX_SUB_REQUESTS: usize = 65_536;

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
        match packet {
            GenericPacket::V3_1_1(p) => self.send_v3(p, events),
            GenericPacket::V5_0(p) => self.send_v5(p, events),
        }
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

    pub(super) fn send_v3(
        &mut self,
        packet: v3_1_1::Packet<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), SendError> {
        use v3_1_1::Packet as V3;
        match packet {
            V3::Connect(c) => {
                let info = ConnectInfo::of_v3(&c);
                self.check_connect_version(&info)?;
                self.discard_expired_session(events);
                self.apply_connect(info, true);
                self.emit(GenericPacket::V3_1_1(V3::Connect(c)), None, events);
            }
            V3::Connack(c) => {
                let success = c.return_code().is_success();
                self.send_connack(success, c.session_present(), None)?;
                self.emit(GenericPacket::V3_1_1(V3::Connack(c)), None, events);
                self.after_connack_sent(success, c.session_present(), events);
            }
            V3::Publish(p) => self.send_publish(Publish::V3_1_1(p), events)?,
            V3::Puback(a) => {
                self.session.puback_sent(a.packet_id());
                self.emit(GenericPacket::V3_1_1(V3::Puback(a)), None, events);
            }
            V3::Pubrec(a) => {
                self.session.pubrec_sent(a.packet_id(), false);
                self.emit(GenericPacket::V3_1_1(V3::Pubrec(a)), None, events);
            }
            V3::Pubrel(a) => {
                self.check_pubrel(a.packet_id())?;
                self.emit(GenericPacket::V3_1_1(V3::Pubrel(a)), None, events);
            }
            V3::Subscribe(s) => {
                let id = s.packet_id();
                self.take_sub_id(id)?;
                self.emit(GenericPacket::V3_1_1(V3::Subscribe(s)), Some(id), events);
            }
            V3::Unsubscribe(u) => {
                let id = u.packet_id();
                self.take_sub_id(id)?;
                self.emit(GenericPacket::V3_1_1(V3::Unsubscribe(u)), Some(id), events);
            }
            V3::Pingreq(p) => {
                self.emit(GenericPacket::V3_1_1(V3::Pingreq(p)), None, events);
                self.pingreq_sent(events);
            }
            V3::Disconnect(d) => {
                events.push(GenericEvent::RequestSendPacket {
                    packet: GenericPacket::V3_1_1(V3::Disconnect(d)),
                    release_packet_id_if_send_error: None,
                });
                // [MQTT-3.14.4-1], [MQTT-3.14.4-2]
                self.close(events);
            }
            V3::Suback(a) => {
                self.answer_sub_request(false, a.packet_id())?;
                self.emit(GenericPacket::V3_1_1(V3::Suback(a)), None, events);
            }
            V3::Unsuback(a) => {
                self.answer_sub_request(true, a.packet_id())?;
                self.emit(GenericPacket::V3_1_1(V3::Unsuback(a)), None, events);
            }
            p @ (V3::Pubcomp(_) | V3::Pingresp(_)) => {
                self.emit(GenericPacket::V3_1_1(p), None, events);
            }
        }
        Ok(())
    }

    pub(super) fn send_v5(
        &mut self,
        packet: v5_0::Packet<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), SendError> {
        use v5_0::Packet as V5;
        match packet {
            V5::Connect(c) => {
                let info = ConnectInfo::of_v5(&c);
                self.check_connect_version(&info)?;
                self.discard_expired_session(events);
                self.apply_connect(info, true);
                self.emit(GenericPacket::V5_0(V5::Connect(c)), None, events);
            }
            V5::Connack(c) => {
                let success = c.reason_code().is_success();
                self.send_connack(success, c.session_present(), Some(c.properties()))?;
                let c = self.fit(V5::Connack(c))?;
                let session_present = match &c {
                    V5::Connack(c) => c.session_present(),
                    _ => false,
                };
                if let (true, V5::Connack(connack)) = (success, &c) {
                    self.apply_connack(session_present, Some(connack.properties()), true);
                }
                self.emit(GenericPacket::V5_0(c), None, events);
                self.after_connack_sent(success, session_present, events);
            }
            V5::Publish(p) => self.send_publish(Publish::V5_0(p), events)?,
            V5::Puback(a) => {
                let a = self.fit(V5::Puback(a))?;
                if let V5::Puback(a) = &a {
                    self.session.puback_sent(a.packet_id());
                }
                self.emit(GenericPacket::V5_0(a), None, events);
            }
            V5::Pubrec(a) => {
                let a = self.fit(V5::Pubrec(a))?;
                if let V5::Pubrec(a) = &a {
                    self.session
                        .pubrec_sent(a.packet_id(), a.reason_code().is_failure());
                }
                self.emit(GenericPacket::V5_0(a), None, events);
            }
            V5::Pubrel(a) => {
                self.check_pubrel(a.packet_id())?;
                let a = self.fit(V5::Pubrel(a))?;
                self.emit(GenericPacket::V5_0(a), None, events);
            }
            V5::Subscribe(s) => {
                self.check_subscribe(&s)?;
                let id = s.packet_id();
                let s = self.fit(V5::Subscribe(s))?;
                self.take_sub_id(id)?;
                self.emit(GenericPacket::V5_0(s), Some(id), events);
            }
            V5::Unsubscribe(u) => {
                let id = u.packet_id();
                let u = self.fit(V5::Unsubscribe(u))?;
                self.take_sub_id(id)?;
                self.emit(GenericPacket::V5_0(u), Some(id), events);
            }
            V5::Pingreq(p) => {
                self.emit(GenericPacket::V5_0(V5::Pingreq(p)), None, events);
                self.pingreq_sent(events);
            }
            V5::Disconnect(d) => {
                let expiry = d.properties().session_expiry_interval;
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
                let d = self.fit(V5::Disconnect(d))?;
                if let Some(expiry) = expiry {
                    self.session.set_session_expiry_interval(expiry);
                }
                events.push(GenericEvent::RequestSendPacket {
                    packet: GenericPacket::V5_0(d),
                    release_packet_id_if_send_error: None,
                });
                // [MQTT-3.14.4-1], [MQTT-3.14.4-2]
                self.close(events);
            }
            V5::Auth(a) => {
                self.check_auth_send(&a)?;
                let a = self.fit(V5::Auth(a))?;
                if let V5::Auth(a) = &a {
                    self.auth_sent(a);
                }
                self.emit(GenericPacket::V5_0(a), None, events);
            }
            p @ (V5::Pubcomp(_) | V5::Suback(_) | V5::Unsuback(_) | V5::Pingresp(_)) => {
                let p = self.fit(p)?;
                match &p {
                    V5::Suback(a) => self.answer_sub_request(false, a.packet_id())?,
                    V5::Unsuback(a) => self.answer_sub_request(true, a.packet_id())?,
                    _ => {}
                }
                self.emit(GenericPacket::V5_0(p), None, events);
            }
        }
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
        self.rearm_send = true;
    }

    /// A PINGREQ was sent: the PINGRESP must come within the timeout (the
    /// Keep Alive in force unless set, §3.1.2.10), counted from the first
    /// PINGREQ not answered yet: another PINGREQ does not postpone it.
    pub(super) fn pingreq_sent(&mut self, events: &mut Vec<GenericEvent<P>>) {
        let keep_alive = Duration::from_secs(u64::from(self.keep_alive()));
        let timeout = self.options.pingresp_recv_timeout.unwrap_or(keep_alive);
        if !timeout.is_zero() && !self.neg.pingreq_outstanding {
            self.neg.pingreq_outstanding = true;
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
        if self.sub_ids.contains(&id) || self.session.flow_state(id).is_some() {
            return Err(SessionError::PacketIdInUse(id.to_u32()).into());
        }
        if !self.session.packet_ids().is_in_use(id) {
            self.session.register_packet_id(id)?;
        }
        self.sub_ids.insert(id);
        Ok(())
    }

    /// Server: a SUBSCRIBE (`unsubscribe` false) or UNSUBSCRIBE received,
    /// to be answered. Errs when [`MAX_SUB_REQUESTS`] wait for an answer
    /// already: a bound on what a peer can make us store.
    pub(super) fn sub_request_received(
        &mut self,
        unsubscribe: bool,
        id: P,
    ) -> Result<(), ConnectionError> {
        if self.role != RoleKind::Server {
            return Ok(());
        }
        let waiting = self.sub_requests.len();
        match self.sub_requests.get_mut(&(unsubscribe, id)) {
            Some(n) => *n = n.saturating_add(1),
            None if waiting >= MAX_SUB_REQUESTS => {
                return Err(ConnectionError::QuotaExceeded(
                    "too many SUBSCRIBE and UNSUBSCRIBE packets wait for an answer",
                ))
            }
            None => {
                self.sub_requests.insert((unsubscribe, id), 1);
            }
        }
        Ok(())
    }

    /// Server: a SUBACK (`unsubscribe` false) or UNSUBACK answers a
    /// SUBSCRIBE or UNSUBSCRIBE received on this network connection and not
    /// answered yet, with its Packet Identifier [MQTT-2.2.1-6] (v5.0),
    /// [MQTT-2.3.1-7] (v3.1.1).
    pub(super) fn answer_sub_request(&mut self, unsubscribe: bool, id: P) -> Result<(), SendError> {
        let key = (unsubscribe, id);
        match self.sub_requests.get_mut(&key) {
            Some(n) if *n > 1 => *n -= 1,
            Some(_) => {
                self.sub_requests.remove(&key);
            }
            None => {
                return Err(SendError::Forbidden(
                    "a SUBACK or UNSUBACK carries the Packet Identifier of a SUBSCRIBE or UNSUBSCRIBE received and not answered yet [MQTT-2.2.1-6], [MQTT-2.3.1-7]",
                ))
            }
        }
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
    pub(super) fn send_connack(
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
        self.rearm_recv = true;
        while let Some(packet) = self.deferred.pop_front() {
            if self.state != ConnectionState::Connected {
                self.deferred.clear();
                break;
            }
            self.on_packet(packet, events);
        }
    }
}
