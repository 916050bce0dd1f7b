//! Receiving: decode, check the role and state, configure, answer, notify.

use bytes::BytesMut;
use mqtt_codec::wire::{FixedHeader, PacketType};
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, ProtocolVersion};

use super::configure::ConnectInfo;
use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::{ConnectionError, ConnectionState, GenericEvent};

/// The most packets a Server holds back between a CONNECT and its CONNACK
/// (they are processed once the CONNACK is sent, [MQTT-3.1.4-6]); more is
/// refused with 0x97 Quota exceeded.
const MAX_DEFERRED: usize = 1024;

/// What [`GenericConnection::admit_recv`] decided for a received packet.
enum Admit {
    /// Handle it now.
    Now,
    /// A Server between CONNECT and CONNACK: handle it after the CONNACK.
    Defer,
    /// It broke the protocol; the connection is closing.
    Refused,
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

/// How many complete packets the front of `buf` holds, counted from their
/// fixed headers (up to the first malformed one, which `recv` reports).
pub(super) fn complete_packets(buf: &[u8]) -> usize {
    let (mut at, mut count) = (0, 0);
    while let Ok(Some(header)) = FixedHeader::parse(&buf[at..]) {
        at += header.packet_len();
        if at > buf.len() {
            break;
        }
        count += 1;
    }
    count
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
                Ok(Some(GenericPacket::V3_1_1(packet))) => self.on_v3(packet, events),
                Ok(Some(GenericPacket::V5_0(packet))) => self.on_v5(packet, events),
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

    /// One decoded packet.
    pub(super) fn on_packet(
        &mut self,
        packet: GenericPacket<P>,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        match packet {
            GenericPacket::V3_1_1(p) => self.on_v3(p, events),
            GenericPacket::V5_0(p) => self.on_v5(p, events),
        }
    }

    /// One decoded v3.1.1 packet: taken apart from its [`GenericPacket`]
    /// first, so that what moves from here on is the (smaller) v3.1.1 one.
    fn on_v3(&mut self, packet: v3_1_1::Packet<P>, events: &mut Vec<GenericEvent<P>>) {
        match self.admit_recv(ProtocolVersion::V3_1_1, packet.packet_type(), events) {
            Admit::Now => self.recv_v3(packet, events),
            Admit::Defer => self.defer(GenericPacket::V3_1_1(packet), events),
            Admit::Refused => {}
        }
    }

    /// One decoded v5.0 packet, like [`on_v3`](Self::on_v3).
    fn on_v5(&mut self, packet: v5_0::Packet<P>, events: &mut Vec<GenericEvent<P>>) {
        match self.admit_recv(ProtocolVersion::V5_0, packet.packet_type(), events) {
            Admit::Now => self.recv_v5(packet, events),
            Admit::Defer => self.defer(GenericPacket::V5_0(packet), events),
            Admit::Refused => {}
        }
    }

    /// What every received packet goes through before it is handled.
    fn admit_recv(
        &mut self,
        version: ProtocolVersion,
        packet_type: PacketType,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Admit {
        if self.role == RoleKind::Any && packet_type == PacketType::Connect {
            // The first CONNECT received makes a Server.
            self.role = RoleKind::Server;
        }
        if let Err(error) = self.check_recv(version, packet_type) {
            self.protocol_error(error, events);
            return Admit::Refused;
        }
        if self.role == RoleKind::Server && self.state != ConnectionState::Disconnected {
            // [MQTT-3.1.2-22] (v5.0), [MQTT-3.1.2-24] (v3.1.1): any packet.
            self.rearm_recv = true;
        }
        if self.role == RoleKind::Server
            && self.state == ConnectionState::Connecting
            && !matches!(packet_type, PacketType::Auth | PacketType::Disconnect)
        {
            return Admit::Defer;
        }
        Admit::Now
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
        match self.sub_request_received(unsubscribe, id) {
            Ok(()) => self.notify(packet, events),
            Err(error) => self.protocol_error(error, events),
        }
    }

    pub(super) fn recv_v3(&mut self, packet: v3_1_1::Packet<P>, events: &mut Vec<GenericEvent<P>>) {
        use v3_1_1::Packet as V3;
        match packet {
            V3::Connect(c) => {
                let info = ConnectInfo::of_v3(&c);
                self.connect_received(info, GenericPacket::V3_1_1(V3::Connect(c)), events);
            }
            V3::Connack(c) => {
                let success = c.return_code().is_success();
                let session_present = c.session_present();
                self.connack_received(
                    success,
                    session_present,
                    false,
                    GenericPacket::V3_1_1(V3::Connack(c)),
                    events,
                );
            }
            V3::Publish(p) => {
                let (qos, id) = (p.qos(), p.packet_id());
                self.publish_received(qos, id, V3::Publish(p), events);
            }
            V3::Puback(a) => {
                let id = a.packet_id();
                self.puback_received(id, GenericPacket::V3_1_1(V3::Puback(a)), events);
            }
            V3::Pubrec(a) => {
                let id = a.packet_id();
                self.pubrec_received(id, false, GenericPacket::V3_1_1(V3::Pubrec(a)), events);
            }
            V3::Pubrel(a) => {
                let id = a.packet_id();
                self.pubrel_received(id, GenericPacket::V3_1_1(V3::Pubrel(a)), events);
            }
            V3::Pubcomp(a) => {
                let id = a.packet_id();
                self.pubcomp_received(id, GenericPacket::V3_1_1(V3::Pubcomp(a)), events);
            }
            V3::Suback(a) => {
                let id = a.packet_id();
                self.sub_answer_received(id, GenericPacket::V3_1_1(V3::Suback(a)), events);
            }
            V3::Unsuback(a) => {
                let id = a.packet_id();
                self.sub_answer_received(id, GenericPacket::V3_1_1(V3::Unsuback(a)), events);
            }
            V3::Pingreq(p) => {
                self.notify(GenericPacket::V3_1_1(V3::Pingreq(p)), events);
                self.pingreq_received(events);
            }
            V3::Pingresp(p) => {
                self.pingresp_received(events);
                self.notify(GenericPacket::V3_1_1(V3::Pingresp(p)), events);
            }
            V3::Disconnect(d) => {
                self.notify(GenericPacket::V3_1_1(V3::Disconnect(d)), events);
                self.close(events);
            }
            V3::Subscribe(s) => {
                self.sub_request(false, s.packet_id(), V3::Subscribe(s), events);
            }
            V3::Unsubscribe(u) => {
                self.sub_request(true, u.packet_id(), V3::Unsubscribe(u), events);
            }
        }
    }

    pub(super) fn recv_v5(&mut self, packet: v5_0::Packet<P>, events: &mut Vec<GenericEvent<P>>) {
        use v5_0::Packet as V5;
        if let Err(error) = self.check_problem_information(&packet) {
            self.protocol_error(error, events);
            return;
        }
        match packet {
            V5::Connect(c) => {
                let info = ConnectInfo::of_v5(&c);
                self.connect_received(info, GenericPacket::V5_0(V5::Connect(c)), events);
            }
            V5::Connack(c) => {
                let success = c.reason_code().is_success();
                let session_present = c.session_present();
                if let Err(error) = self.check_connack_auth(success, c.properties()) {
                    self.protocol_error(error, events);
                    return;
                }
                if success {
                    self.apply_connack(session_present, Some(c.properties()), false);
                }
                self.connack_received(
                    success,
                    session_present,
                    true,
                    GenericPacket::V5_0(V5::Connack(c)),
                    events,
                );
            }
            V5::Publish(mut p) => {
                if let Err(error) = self.check_publish_v5(&mut p) {
                    self.protocol_error(error, events);
                    return;
                }
                let (qos, id) = (p.qos(), p.packet_id());
                self.publish_received(qos, id, V5::Publish(p), events);
            }
            V5::Puback(a) => {
                let id = a.packet_id();
                self.puback_received(id, GenericPacket::V5_0(V5::Puback(a)), events);
            }
            V5::Pubrec(a) => {
                let (id, failure) = (a.packet_id(), a.reason_code().is_failure());
                self.pubrec_received(id, failure, GenericPacket::V5_0(V5::Pubrec(a)), events);
            }
            V5::Pubrel(a) => {
                let id = a.packet_id();
                self.pubrel_received(id, GenericPacket::V5_0(V5::Pubrel(a)), events);
            }
            V5::Pubcomp(a) => {
                let id = a.packet_id();
                self.pubcomp_received(id, GenericPacket::V5_0(V5::Pubcomp(a)), events);
            }
            V5::Subscribe(s) => {
                if let Err(error) = self.check_subscribe_received(&s) {
                    self.protocol_error(error, events);
                    return;
                }
                self.sub_request(false, s.packet_id(), V5::Subscribe(s), events);
            }
            V5::Suback(a) => {
                let id = a.packet_id();
                self.sub_answer_received(id, GenericPacket::V5_0(V5::Suback(a)), events);
            }
            V5::Unsuback(a) => {
                let id = a.packet_id();
                self.sub_answer_received(id, GenericPacket::V5_0(V5::Unsuback(a)), events);
            }
            V5::Pingreq(p) => {
                self.notify(GenericPacket::V5_0(V5::Pingreq(p)), events);
                self.pingreq_received(events);
            }
            V5::Pingresp(p) => {
                self.pingresp_received(events);
                self.notify(GenericPacket::V5_0(V5::Pingresp(p)), events);
            }
            V5::Disconnect(d) => {
                let expiry = d.properties().session_expiry_interval;
                if expiry.is_some() && self.role == RoleKind::Client {
                    let error = ConnectionError::ProtocolError(
                        "a Server sends no Session Expiry Interval in DISCONNECT [MQTT-3.14.2-2]",
                    );
                    self.protocol_error(error, events);
                    return;
                }
                if expiry.is_some_and(|e| e != 0) && self.neg.connect_expiry_zero {
                    let error = ConnectionError::ProtocolError(
                        "a non-zero Session Expiry Interval in DISCONNECT after 0 in CONNECT (§3.14.2.2.2)",
                    );
                    self.protocol_error(error, events);
                    return;
                }
                if let Some(expiry) = expiry {
                    self.session.set_session_expiry_interval(expiry);
                }
                self.notify(GenericPacket::V5_0(V5::Disconnect(d)), events);
                self.close(events);
            }
            V5::Auth(a) => {
                if let Err(error) = self.auth_received(&a) {
                    self.protocol_error(error, events);
                    return;
                }
                self.notify(GenericPacket::V5_0(V5::Auth(a)), events);
            }
            V5::Unsubscribe(u) => {
                self.sub_request(true, u.packet_id(), V5::Unsubscribe(u), events);
            }
        }
    }
}
