//! Handling a protocol violation of the peer (§4.13, §4.8 of v3.1.1), and
//! closing.

use mqtt_codec::v5_0::{ConnectReasonCode, DisconnectReasonCode};
use mqtt_codec::{v3_1_1, v5_0, DecodeError, GenericPacket, PacketId, ProtocolVersion};

use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::{ConnectionError, ConnectionState, GenericEvent};

/// A v5.0 CONNACK refusing the connection with `code` (0x82 Protocol Error
/// when the CONNACK table does not list it).
pub(super) fn refusing_connack<P: PacketId>(code: u8) -> Option<GenericPacket<P>> {
    let code = ConnectReasonCode::from_u8(code).unwrap_or(ConnectReasonCode::ProtocolError);
    // A failure code without Session Present or properties always builds.
    let connack = v5_0::Connack::builder().reason_code(code).build().ok()?;
    Some(GenericPacket::V5_0(v5_0::Packet::Connack(Box::new(
        connack,
    ))))
}

/// A v5.0 DISCONNECT with `code` (0x82 Protocol Error when the DISCONNECT
/// table does not list it).
pub(super) fn disconnect_with<P: PacketId>(code: u8) -> GenericPacket<P> {
    let code = DisconnectReasonCode::from_u8(code).unwrap_or(DisconnectReasonCode::ProtocolError);
    GenericPacket::V5_0(v5_0::Disconnect::new(code).into())
}

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    /// The peer broke the protocol: reports `error`, sends what the spec
    /// asks for (v5.0: DISCONNECT with the Reason Code once connected or
    /// connecting as a Client [MQTT-3.14.0-1]; a CONNACK refusing the
    /// CONNECT for a Server that has not sent one), and closes.
    pub(super) fn protocol_error(
        &mut self,
        error: ConnectionError,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        let code = error.reason_code();
        events.push(GenericEvent::NotifyError(error));
        if let (Some(ProtocolVersion::V5_0), Some(code)) = (self.version, code) {
            let packet = match (self.role, self.state) {
                (RoleKind::Client, ConnectionState::Connecting | ConnectionState::Connected)
                | (RoleKind::Server, ConnectionState::Connected) => Some(disconnect_with(code)),
                (RoleKind::Server, ConnectionState::Connecting) => refusing_connack(code),
                _ => None,
            };
            if let Some(packet) = packet {
                events.push(GenericEvent::RequestSendPacket {
                    packet,
                    release_packet_id_if_send_error: None,
                });
            }
        }
        self.close(events);
    }

    /// The first packet a Server receives is not a valid CONNECT: answers
    /// an unsupported protocol level with the CONNACK of the Client's
    /// version [MQTT-3.1.2-2], another error of a v5.0 CONNECT with a
    /// refusing CONNACK (§4.13, [MQTT-3.1.4-1]); a v3.1.1 Server closes
    /// without a CONNACK [MQTT-3.1.4-1].
    pub(super) fn bad_connect(&mut self, error: DecodeError, events: &mut Vec<GenericEvent<P>>) {
        let detected = self.version.or(self.decoder.version());
        let answer = match &error {
            DecodeError::UnsupportedProtocolLevel(level) if *level < 5 => {
                let connack = v3_1_1::Connack::builder()
                    .return_code(v3_1_1::ConnectReturnCode::UnacceptableProtocolVersion)
                    .build();
                connack
                    .ok()
                    .map(|c| GenericPacket::V3_1_1(v3_1_1::Packet::Connack(c)))
            }
            DecodeError::UnsupportedProtocolLevel(_) => refusing_connack(0x84),
            DecodeError::ExpectedConnect(_) => None,
            e if detected == Some(ProtocolVersion::V5_0) => refusing_connack(e.reason_code()),
            _ => None,
        };
        events.push(GenericEvent::NotifyError(ConnectionError::Decode(error)));
        if let Some(packet) = answer {
            events.push(GenericEvent::RequestSendPacket {
                packet,
                release_packet_id_if_send_error: None,
            });
        }
        self.close(events);
    }

    /// Nothing more is sent on this network connection: cancels the timers
    /// and asks the driver to close.
    pub(super) fn close(&mut self, events: &mut Vec<GenericEvent<P>>) {
        self.state = ConnectionState::Closed;
        self.cancel_all_timers(events);
        events.push(GenericEvent::RequestClose);
    }

    /// Cancels every armed timer.
    pub(super) fn cancel_all_timers(&mut self, events: &mut Vec<GenericEvent<P>>) {
        self.keep_alive.cancel_all(events);
    }
}
