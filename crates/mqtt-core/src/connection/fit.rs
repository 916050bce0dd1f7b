//! Fitting what we send to the peer: Maximum Packet Size and Request
//! Problem Information (v5.0), and the answers to unknown identifiers.

use mqtt_codec::v5_0::{PubcompReasonCode, PubrelReasonCode};
use mqtt_codec::{v3_1_1, v5_0, Encode, GenericPacket, PacketId, ProtocolVersion};

use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::SendError;

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    /// Fits a v5.0 packet to the peer: without Reason String and User
    /// Properties where the peer asked for no problem information
    /// [MQTT-3.1.2-29] or the packet would exceed its Maximum Packet Size
    /// ([MQTT-3.4.2-2] and the like); errs when it still exceeds it
    /// [MQTT-3.2.2-15], [MQTT-3.1.2-24].
    pub(super) fn fit(&self, packet: GenericPacket<P>) -> Result<GenericPacket<P>, SendError> {
        match packet {
            // v3.1.1 announces no Maximum Packet Size and has no problem
            // information to leave out.
            GenericPacket::V3_1_1(_) => Ok(packet),
            GenericPacket::V5_0(p) => self.fit_v5(p).map(GenericPacket::V5_0),
        }
    }

    /// [`fit`](Self::fit) of a v5.0 packet.
    pub(super) fn fit_v5(&self, packet: v5_0::Packet<P>) -> Result<v5_0::Packet<P>, SendError> {
        use v5_0::Packet as V5;
        let max = self
            .neg
            .peer_maximum_packet_size
            .map(|m| usize::try_from(m.get()).unwrap_or(usize::MAX));
        let quiet = self.role == RoleKind::Server
            && !self.neg.request_problem_information
            && !matches!(packet, V5::Publish(_) | V5::Connack(_) | V5::Disconnect(_));
        let Some(max) = max else {
            return Ok(if quiet {
                strip_problem_information(packet)
            } else {
                packet
            });
        };
        let packet = if quiet || packet.encoded_len() > max {
            strip_problem_information(packet)
        } else {
            packet
        };
        let size = packet.encoded_len();
        if size > max {
            return Err(SendError::PacketTooLarge {
                size,
                maximum: u32::try_from(max).unwrap_or(u32::MAX),
            });
        }
        Ok(packet)
    }

    /// The PUBREL or PUBCOMP that answers an identifier the session does
    /// not know: Reason Code 0x92 on v5.0 (§3.6.2.1, §3.7.2.1).
    pub(super) fn not_found_answer(&self, pubrel: bool, id: P) -> GenericPacket<P> {
        match (self.version, pubrel) {
            (Some(ProtocolVersion::V3_1_1), true) => v3_1_1::Pubrel::new(id).into_generic3(),
            (Some(ProtocolVersion::V3_1_1), false) => v3_1_1::Pubcomp::new(id).into_generic3(),
            (_, true) => GenericPacket::V5_0(v5_0::Packet::Pubrel(
                v5_0::Pubrel::builder()
                    .packet_id(id)
                    .reason_code(PubrelReasonCode::PacketIdentifierNotFound)
                    .build()
                    .unwrap_or_else(|_| v5_0::Pubrel::new(id)),
            )),
            (_, false) => GenericPacket::V5_0(v5_0::Packet::Pubcomp(
                v5_0::Pubcomp::builder()
                    .packet_id(id)
                    .reason_code(PubcompReasonCode::PacketIdentifierNotFound)
                    .build()
                    .unwrap_or_else(|_| v5_0::Pubcomp::new(id)),
            )),
        }
    }
}

/// v3.1.1 packet → [`GenericPacket`].
trait IntoGeneric3<P: PacketId> {
    fn into_generic3(self) -> GenericPacket<P>;
}
impl<P: PacketId, T: Into<v3_1_1::Packet<P>>> IntoGeneric3<P> for T {
    fn into_generic3(self) -> GenericPacket<P> {
        GenericPacket::V3_1_1(self.into())
    }
}

/// The packet without Reason String and User Properties, where it has them
/// and may go without (not PUBLISH, whose User Properties belong to the
/// application message).
fn strip_problem_information<P: PacketId>(packet: v5_0::Packet<P>) -> v5_0::Packet<P> {
    use v5_0::Packet as V5;
    macro_rules! ack {
        ($variant:ident, $a:expr) => {{
            let a = $a;
            if a.properties().is_empty() {
                V5::$variant(a)
            } else {
                let stripped = v5_0::$variant::builder()
                    .packet_id(a.packet_id())
                    .reason_code(a.reason_code())
                    .build();
                V5::$variant(stripped.unwrap_or(a))
            }
        }};
    }
    macro_rules! list {
        ($variant:ident, $a:expr) => {{
            let a = $a;
            if a.properties().is_empty() {
                V5::$variant(a)
            } else {
                let stripped = v5_0::$variant::builder()
                    .packet_id(a.packet_id())
                    .reason_codes(a.reason_codes().to_vec())
                    .build();
                V5::$variant(stripped.map(Box::new).unwrap_or(a))
            }
        }};
    }
    match packet {
        V5::Puback(a) => ack!(Puback, a),
        V5::Pubrec(a) => ack!(Pubrec, a),
        V5::Pubrel(a) => ack!(Pubrel, a),
        V5::Pubcomp(a) => ack!(Pubcomp, a),
        V5::Suback(a) => list!(Suback, a),
        V5::Unsuback(a) => list!(Unsuback, a),
        V5::Connack(c) => {
            let mut properties = c.properties().clone();
            if properties.reason_string.is_none() && properties.user_properties.is_empty() {
                return V5::Connack(c);
            }
            properties.reason_string = None;
            properties.user_properties.clear();
            let stripped = v5_0::Connack::builder()
                .session_present(c.session_present())
                .reason_code(c.reason_code())
                .properties(properties)
                .build();
            V5::Connack(stripped.map(Box::new).unwrap_or(c))
        }
        V5::Disconnect(d) => {
            let mut properties = d.properties().clone();
            if properties.reason_string.is_none() && properties.user_properties.is_empty() {
                return V5::Disconnect(d);
            }
            properties.reason_string = None;
            properties.user_properties.clear();
            let stripped = v5_0::Disconnect::builder()
                .reason_code(d.reason_code())
                .properties(properties)
                .build();
            V5::Disconnect(stripped.map(Box::new).unwrap_or(d))
        }
        V5::Auth(a) => {
            let mut properties = a.properties().clone();
            if properties.reason_string.is_none() && properties.user_properties.is_empty() {
                return V5::Auth(a);
            }
            properties.reason_string = None;
            properties.user_properties.clear();
            let stripped = v5_0::Auth::builder()
                .reason_code(a.reason_code())
                .properties(properties)
                .build();
            V5::Auth(stripped.map(Box::new).unwrap_or(a))
        }
        other => other,
    }
}
