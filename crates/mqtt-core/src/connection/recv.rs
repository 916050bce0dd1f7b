//! Receiving: decode, check the role and state, configure, answer, notify.

use bytes::BytesMut;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, ProtocolVersion};

use super::configure::ConnectInfo;
use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::{ConnectionError, ConnectionState, GenericEvent};

/// The most packets a Server holds back between a CONNECT and its CONNACK
/// (they are processed once the CONNACK is sent, [MQTT-3.1.4-6]); more is
/// refused with 0x97 Quota exceeded.
const MAX_DEFERRED: usize = 1024;

/// What [`GenericConnection::admission`] decided for a received packet.
pub(super) enum Admit {
    /// Handle it now.
    Now,
    /// A Server between CONNECT and CONNACK: handle it after the CONNACK.
    Defer,
}

/// Whether the peer of `role` may send `packet_type` on `version` (§2.1.2,
/// Table 2-1).
fn peer_may_send(role: RoleKind, version: ProtocolVersion, packet_type: PacketType) -> bool {
    let peer = match role {
        RoleKind::Client => RoleKind::Server,
        _ => RoleKind::Client,
    };
    super::send::may_send(peer, version, packet_type)
}

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    pub(super) fn do_recv(&mut self, buf: &mut BytesMut, events: &mut Vec<GenericEvent<P>>) {
        loop {
            if self.state == ConnectionState::Closed {
                // Nothing more is processed on this network connection.
                buf.clear();
                return;
            }
            match self.decoder.decode(buf) {
                Ok(Some(packet)) if packet.packet_type() == PacketType::Publish => {
                    // Moved once, into the event that delivers it (moved
                    // through the checks, it stalls on each copy: measured).
                    events.push(GenericEvent::NotifyPacketReceived(packet));
                    self.publish_received(events);
                }
                Ok(Some(packet)) => self.on_packet(packet, events),
                Ok(None) => return,
                Err(error) => {
                    if self.role != RoleKind::Client && self.state == ConnectionState::Disconnected
                    {
                        self.bad_connect(error, events);
                    } else {
                        self.protocol_error(ConnectionError::Decode(error), events);
                    }
                    buf.clear();
                    return;
                }
            }
        }
    }

    /// One decoded packet: handled now, or, on a Server between CONNECT
    /// and CONNACK, after the CONNACK.
    pub(super) fn on_packet(
        &mut self,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        if packet.packet_type() == PacketType::Publish {
            events.push(GenericEvent::NotifyPacketReceived(packet));
            return self.publish_received(events);
        }
        match self.admission(packet.version(), packet.packet_type()) {
            Ok(Admit::Now) => self.recv_packet(packet, events),
            Ok(Admit::Defer) => self.defer(packet, events),
            Err(error) => self.protocol_error(error, events),
        }
    }

    /// What every received packet goes through before it is handled: may
    /// the peer send it now ([`check_recv`](Self::check_recv)); the
    /// Server's keep alive restarts; before the CONNACK a Server holds it.
    pub(super) fn admission(
        &mut self,
        version: ProtocolVersion,
        packet_type: PacketType,
    ) -> Result<Admit, ConnectionError> {
        if self.role == RoleKind::Any && packet_type == PacketType::Connect {
            // The first CONNECT received makes a Server.
            self.role = RoleKind::Server;
        }
        self.check_recv(version, packet_type)?;
        if self.role == RoleKind::Server && self.state != ConnectionState::Disconnected {
            // [MQTT-3.1.2-22] (v5.0), [MQTT-3.1.2-24] (v3.1.1): any packet.
            self.keep_alive.packet_received();
        }
        if self.role == RoleKind::Server
            && self.state == ConnectionState::Connecting
            && !matches!(packet_type, PacketType::Auth | PacketType::Disconnect)
        {
            return Ok(Admit::Defer);
        }
        Ok(Admit::Now)
    }

    /// Server, between CONNECT and CONNACK: a packet other than AUTH or
    /// DISCONNECT waits for the CONNACK [MQTT-3.1.4-5] (v3.1.1),
    /// [MQTT-3.1.4-6] (v5.0), except after a CONNECT with an Authentication
    /// Method, which allows only AUTH and DISCONNECT [MQTT-3.1.2-30].
    pub(super) fn defer(&mut self, packet: GenericPacket<P>, events: &mut Vec<GenericEvent<P>>) {
        if self.neg.auth_method.is_some() {
            let error = ConnectionError::ProtocolError(
                "only AUTH or DISCONNECT before the CONNACK after a CONNECT with an Authentication Method [MQTT-3.1.2-30]",
            );
            self.protocol_error(error, events);
            return;
        }
        if self.deferred.len() >= MAX_DEFERRED {
            events.push(GenericEvent::NotifyError(ConnectionError::QuotaExceeded(
                "too many packets before the CONNACK",
            )));
            if self.version == Some(ProtocolVersion::V5_0) {
                if let Some(packet) = super::protocol_error::refusing_connack(0x97) {
                    events.push(GenericEvent::RequestSendPacket {
                        packet,
                        release_packet_id_if_send_error: None,
                    });
                }
            }
            self.deferred.clear();
            self.close(events);
            return;
        }
        self.deferred.push_back(packet);
    }

    /// Whether `packet_type` may arrive now: from the peer's role (§2.1.2);
    /// CONNECT first and once [MQTT-3.1.0-1], [MQTT-3.1.0-2]; CONNACK (or
    /// AUTH) first from the Server [MQTT-3.2.0-1], and once [MQTT-3.2.0-2].
    pub(super) fn check_recv(
        &self,
        version: ProtocolVersion,
        t: PacketType,
    ) -> Result<(), ConnectionError> {
        use ConnectionState as S;
        use PacketType as T;
        let unexpected = ConnectionError::UnexpectedPacket {
            packet_type: t,
            state: self.state,
        };
        if !peer_may_send(self.role, version, t) {
            return Err(unexpected);
        }
        let allowed = match (self.role, self.state) {
            (RoleKind::Client, S::Connecting) => matches!(t, T::Connack | T::Auth),
            (RoleKind::Client, S::Connected) => t != T::Connack,
            (RoleKind::Server, S::Disconnected) => t == T::Connect,
            (RoleKind::Server, S::Connecting | S::Connected) => t != T::Connect,
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(unexpected)
        }
    }

    /// Pushes [`GenericEvent::NotifyPacketReceived`]; the packet becomes a
    /// [`GenericPacket`] only there, so that a smaller one moves until then.
    #[inline]
    pub(super) fn notify(
        &mut self,
        packet: impl Into<GenericPacket<P>>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        events.push(GenericEvent::NotifyPacketReceived(packet.into()));
    }

    /// A SUBSCRIBE (`unsubscribe` false) or UNSUBSCRIBE received: kept to
    /// check its answer, then handed to the application; a protocol error
    /// when too many wait for an answer already.
    fn sub_request(
        &mut self,
        unsubscribe: bool,
        id: P,
        packet: impl Into<GenericPacket<P>>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        let admitted = match self.role {
            RoleKind::Server => self.sub_requests.received(unsubscribe, id),
            _ => Ok(()),
        };
        match admitted {
            Ok(()) => self.notify(packet, events),
            Err(error) => self.protocol_error(error, events),
        }
    }

    /// What a received packet implies, by its type, the same in both
    /// versions ([`v5_rules`](Self::v5_rules) first for v5.0's own).
    fn recv_packet(&mut self, mut packet: GenericPacket<P>, events: &mut Vec<GenericEvent<P>>) {
        use PacketType as T;
        if packet.packet_type() == T::Publish {
            events.push(GenericEvent::NotifyPacketReceived(packet));
            return self.publish_received(events);
        }
        if let GenericPacket::V5_0(p) = &mut packet {
            if let Err(error) = self.v5_rules(p) {
                self.protocol_error(error, events);
                return;
            }
        }
        let id = packet.packet_id();
        match (packet.packet_type(), id) {
            (T::Connect, _) => match connect_info(&packet) {
                Some(info) => self.connect_received(info, packet, events),
                None => self.notify(packet, events),
            },
            (T::Connack, _) => {
                let (success, session_present) = connack_outcome(&packet);
                let v5 = packet.version() == ProtocolVersion::V5_0;
                self.connack_received(success, session_present, v5, packet, events);
            }
            (T::Puback, Some(id)) => self.puback_received(id, packet, events),
            (T::Pubrec, Some(id)) => {
                let failure = super::send::failure_pubrec(&packet);
                self.pubrec_received(id, failure, packet, events);
            }
            (T::Pubrel, Some(id)) => self.pubrel_received(id, packet, events),
            (T::Pubcomp, Some(id)) => self.pubcomp_received(id, packet, events),
            (T::Suback | T::Unsuback, Some(id)) => self.sub_answer_received(id, packet, events),
            (T::Subscribe, Some(id)) => self.sub_request(false, id, packet, events),
            (T::Unsubscribe, Some(id)) => self.sub_request(true, id, packet, events),
            (T::Pingreq, _) => {
                self.notify(packet, events);
                self.pingreq_received(events);
            }
            (T::Pingresp, _) => {
                self.pingresp_received(events);
                self.notify(packet, events);
            }
            (T::Disconnect, _) => {
                self.notify(packet, events);
                self.close(events);
            }
            // AUTH (its exchange is taken by `v5_rules`), and no other:
            // every packet type with an identifier has one.
            _ => self.notify(packet, events),
        }
    }

    /// What only v5.0 asks of a received packet, checked and applied
    /// before the rules of both versions: Request Problem Information
    /// [MQTT-3.1.2-29], the CONNACK's authentication and limits, a
    /// PUBLISH's Topic Alias (resolved to its Topic Name), a SUBSCRIBE's
    /// features, a DISCONNECT's Session Expiry Interval (§3.14.2.2.2) and
    /// the AUTH exchange (§4.12).
    pub(super) fn v5_rules(&mut self, packet: &mut v5_0::Packet<P>) -> Result<(), ConnectionError> {
        use v5_0::Packet as V5;
        self.check_problem_information(packet)?;
        match packet {
            V5::Connack(c) => {
                let success = c.reason_code().is_success();
                self.check_connack_auth(success, c.properties())?;
                if success {
                    self.apply_connack(c.session_present(), Some(c.properties()), false);
                }
            }
            V5::Publish(p) => self.check_publish_v5(p)?,
            V5::Subscribe(s) => self.check_subscribe_received(s)?,
            V5::Disconnect(d) => {
                let expiry = d.properties().session_expiry_interval;
                if expiry.is_some() && self.role == RoleKind::Client {
                    return Err(ConnectionError::ProtocolError(
                        "a Server sends no Session Expiry Interval in DISCONNECT [MQTT-3.14.2-2]",
                    ));
                }
                if expiry.is_some_and(|e| e != 0) && self.neg.connect_expiry_zero {
                    return Err(ConnectionError::ProtocolError(
                        "a non-zero Session Expiry Interval in DISCONNECT after 0 in CONNECT (§3.14.2.2.2)",
                    ));
                }
                if let Some(expiry) = expiry {
                    self.session.set_session_expiry_interval(expiry);
                }
            }
            V5::Auth(a) => self.auth_received(a)?,
            _ => {}
        }
        Ok(())
    }
}

/// What a CONNECT of either version says for the connection.
fn connect_info<P: PacketId>(packet: &GenericPacket<P>) -> Option<ConnectInfo> {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Connect(c)) => Some(ConnectInfo::of_v3(c)),
        GenericPacket::V5_0(v5_0::Packet::Connect(c)) => Some(ConnectInfo::of_v5(c)),
        _ => None,
    }
}

/// Whether a CONNACK of either version accepts the connection, and its
/// Session Present.
fn connack_outcome<P: PacketId>(packet: &GenericPacket<P>) -> (bool, bool) {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Connack(c)) => {
            (c.return_code().is_success(), c.session_present())
        }
        GenericPacket::V5_0(v5_0::Packet::Connack(c)) => {
            (c.reason_code().is_success(), c.session_present())
        }
        _ => (false, false),
    }
}
