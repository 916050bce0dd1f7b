//! What CONNECT and CONNACK configure: [`Negotiated`].

use core::num::{NonZeroU16, NonZeroU32};

use mqtt_codec::v5_0::ConnackProperties;
use mqtt_codec::{v3_1_1, v5_0, MqttString, PacketId, ProtocolVersion, QoS, MAX_PACKET_SIZE};
use mqtt_session::{Session, SESSION_NEVER_EXPIRES};

use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::{ConnectionState, SendError};

/// The values CONNECT and CONNACK set for one network connection.
#[derive(Debug, Clone)]
pub(crate) struct Negotiated {
    pub(crate) keep_alive: u16,
    pub(crate) server_keep_alive: Option<u16>,
    pub(crate) clean_start: bool,
    pub(crate) client_identifier: MqttString,
    /// Boxed, as `assigned_client_identifier`: rare, and every connection
    /// would hold their 64 bytes.
    pub(crate) auth_method: Option<Box<MqttString>>,
    /// A re-authentication (§4.12.1) is in progress.
    pub(crate) reauthenticating: bool,
    /// Request Problem Information of the CONNECT (§3.1.2.11.7).
    pub(crate) request_problem_information: bool,
    /// The Session Expiry Interval of the CONNECT was 0 (§3.14.2.2.2).
    pub(crate) connect_expiry_zero: bool,
    /// Request Response Information of the CONNECT (§3.1.2.11.6).
    pub(crate) request_response_information: bool,
    /// The QoS and Retain of the CONNECT's Will Message, if any.
    pub(crate) will: Option<(QoS, bool)>,
    pub(crate) peer_receive_maximum: NonZeroU16,
    pub(crate) peer_maximum_packet_size: Option<NonZeroU32>,
    pub(crate) peer_topic_alias_maximum: u16,
    pub(crate) receive_maximum: NonZeroU16,
    pub(crate) topic_alias_maximum: u16,
    /// The CONNACK's Maximum QoS: a Client's limit on send, a Server's on
    /// receive.
    pub(crate) maximum_qos: QoS,
    pub(crate) retain_available: bool,
    pub(crate) wildcard_subscription_available: bool,
    pub(crate) subscription_identifiers_available: bool,
    pub(crate) shared_subscription_available: bool,
    pub(crate) assigned_client_identifier: Option<Box<MqttString>>,
    pub(crate) session_present: bool,
}

impl Default for Negotiated {
    fn default() -> Self {
        Negotiated {
            keep_alive: 0,
            server_keep_alive: None,
            clean_start: true,
            client_identifier: MqttString::default(),
            auth_method: None,
            reauthenticating: false,
            request_problem_information: true,
            connect_expiry_zero: true,
            request_response_information: false,
            will: None,
            peer_receive_maximum: NonZeroU16::MAX,
            peer_maximum_packet_size: None,
            peer_topic_alias_maximum: 0,
            receive_maximum: NonZeroU16::MAX,
            topic_alias_maximum: 0,
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
            wildcard_subscription_available: true,
            subscription_identifiers_available: true,
            shared_subscription_available: true,
            assigned_client_identifier: None,
            session_present: false,
        }
    }
}

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    /// Sets the decoder's maximum packet size from the option (what a
    /// CONNECT or CONNACK we send announces overrides it).
    pub(crate) fn apply_recv_limit(&mut self) {
        let max = self
            .options
            .maximum_packet_size
            .map_or(MAX_PACKET_SIZE, NonZeroU32::get);
        self.decoder.set_max_packet_size(max);
    }
}

/// What a CONNECT of either version configures.
pub(crate) struct ConnectInfo {
    version: ProtocolVersion,
    keep_alive: u16,
    clean_start: bool,
    client_identifier: MqttString,
    auth_method: Option<MqttString>,
    request_problem_information: bool,
    request_response_information: bool,
    will: Option<(QoS, bool)>,
    session_expiry_interval: u32,
    receive_maximum: Option<NonZeroU16>,
    maximum_packet_size: Option<NonZeroU32>,
    topic_alias_maximum: u16,
}

impl ConnectInfo {
    pub(crate) fn of_v3(c: &v3_1_1::Connect) -> Self {
        ConnectInfo {
            version: ProtocolVersion::V3_1_1,
            keep_alive: c.keep_alive(),
            clean_start: c.clean_session(),
            client_identifier: detached(c.client_id()),
            auth_method: None,
            request_problem_information: true,
            request_response_information: false,
            will: c.will().map(|w| (w.qos(), w.retain())),
            // CleanSession 1: the session lasts as long as the network
            // connection; 0: it is kept (§3.1.2.4).
            session_expiry_interval: if c.clean_session() {
                0
            } else {
                SESSION_NEVER_EXPIRES
            },
            receive_maximum: None,
            maximum_packet_size: None,
            topic_alias_maximum: 0,
        }
    }

    pub(crate) fn of_v5(c: &v5_0::Connect) -> Self {
        let p = c.properties();
        ConnectInfo {
            version: ProtocolVersion::V5_0,
            keep_alive: c.keep_alive(),
            clean_start: c.clean_start(),
            client_identifier: detached(c.client_id()),
            auth_method: p.authentication_method.as_ref().map(detached),
            request_problem_information: p.request_problem_information.unwrap_or(true),
            request_response_information: p.request_response_information.unwrap_or(false),
            will: c.will().map(|w| (w.qos(), w.retain())),
            session_expiry_interval: p.session_expiry_interval.unwrap_or(0),
            receive_maximum: p.receive_maximum,
            maximum_packet_size: p.maximum_packet_size,
            topic_alias_maximum: p.topic_alias_maximum.unwrap_or(0),
        }
    }
}

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    /// Whether a CONNECT of `info`'s version may start a session here:
    /// errs when the session holds state of the other MQTT version.
    pub(crate) fn check_connect_version(&self, info: &ConnectInfo) -> Result<(), SendError> {
        let busy = self.session.in_flight_len() > 0
            || self.session.queue_len() > 0
            || !self.session.packet_ids().is_empty();
        if self.session.version() != info.version && busy {
            return Err(SendError::VersionMismatch {
                connection: self.session.version(),
                packet: info.version,
            });
        }
        Ok(())
    }

    /// A CONNECT was sent (`sent`, Client) or received (Server): fixes the
    /// version and role, and sets what it announces: Keep Alive, Session
    /// Expiry, and the limits of its sender (Receive Maximum, Maximum
    /// Packet Size, Topic Alias Maximum). Call it after
    /// [`check_connect_version`](Self::check_connect_version).
    pub(crate) fn apply_connect(&mut self, info: ConnectInfo, sent: bool) {
        if self.session.version() != info.version {
            let mut config = self.options.session.clone();
            config.session_expiry_interval = self.session.session_expiry_interval();
            self.session = Session::with_config(info.version, config);
        }
        self.version = Some(info.version);
        self.decoder.set_version(info.version);
        self.role = if sent {
            RoleKind::Client
        } else {
            RoleKind::Server
        };
        self.neg = Negotiated {
            keep_alive: info.keep_alive,
            clean_start: info.clean_start,
            client_identifier: info.client_identifier,
            auth_method: info.auth_method.map(Box::new),
            request_problem_information: info.request_problem_information,
            request_response_information: info.request_response_information,
            will: info.will,
            connect_expiry_zero: info.session_expiry_interval == 0,
            ..Negotiated::default()
        };
        // A v3.1.1 peer cannot be told a Receive Maximum: it may leave any
        // number of PUBLISH packets unacknowledged, and none is enforced
        // (an application that acknowledges late holds what it reads).
        let receive_maximum = info.receive_maximum.unwrap_or(NonZeroU16::MAX);
        self.apply_recv_limit();
        if sent {
            // Our limits, for what we receive.
            self.neg.receive_maximum = receive_maximum;
            self.session.set_receive_maximum(receive_maximum);
            self.neg.topic_alias_maximum = info.topic_alias_maximum;
            self.aliases.set_recv_max(info.topic_alias_maximum);
            self.aliases.set_send_max(0);
            if let Some(max) = info.maximum_packet_size {
                self.decoder.set_max_packet_size(max.get());
            }
        } else {
            // The Client's limits, for what we send.
            self.neg.peer_receive_maximum = receive_maximum;
            self.neg.peer_maximum_packet_size = info.maximum_packet_size;
            self.neg.peer_topic_alias_maximum = info.topic_alias_maximum;
            self.aliases.set_send_max(info.topic_alias_maximum);
            self.aliases.set_recv_max(0);
            // Ours is the CONNACK's (v5.0), none until then or on v3.1.1.
            self.neg.receive_maximum = NonZeroU16::MAX;
            self.session.set_receive_maximum(NonZeroU16::MAX);
        }
        self.session
            .set_session_expiry_interval(info.session_expiry_interval);
        self.state = ConnectionState::Connecting;
    }

    /// A successful CONNACK was sent (`sent`, Server) or received (Client):
    /// sets Session Present and what its properties announce: the Server
    /// Keep Alive [MQTT-3.2.2-21], [MQTT-3.2.2-22], Maximum QoS, Retain
    /// Available, the subscription features, the Assigned Client
    /// Identifier, the Session Expiry Interval, and the Server's limits
    /// (Receive Maximum, Maximum Packet Size, Topic Alias Maximum).
    pub(crate) fn apply_connack(
        &mut self,
        session_present: bool,
        properties: Option<&ConnackProperties>,
        sent: bool,
    ) {
        self.neg.session_present = session_present;
        let Some(p) = properties else {
            return;
        };
        self.neg.server_keep_alive = p.server_keep_alive;
        self.neg.maximum_qos = p.maximum_qos.unwrap_or(QoS::ExactlyOnce);
        self.neg.retain_available = p.retain_available.unwrap_or(true);
        self.neg.wildcard_subscription_available =
            p.wildcard_subscription_available.unwrap_or(true);
        self.neg.subscription_identifiers_available =
            p.subscription_identifiers_available.unwrap_or(true);
        self.neg.shared_subscription_available = p.shared_subscription_available.unwrap_or(true);
        self.neg.assigned_client_identifier = p
            .assigned_client_identifier
            .as_ref()
            .map(|id| Box::new(detached(id)));
        if let Some(expiry) = p.session_expiry_interval {
            self.session.set_session_expiry_interval(expiry);
        }
        let receive_maximum = p.receive_maximum.unwrap_or(NonZeroU16::MAX);
        let topic_alias_maximum = p.topic_alias_maximum.unwrap_or(0);
        if sent {
            self.neg.receive_maximum = receive_maximum;
            self.session.set_receive_maximum(receive_maximum);
            self.neg.topic_alias_maximum = topic_alias_maximum;
            self.aliases.set_recv_max(topic_alias_maximum);
            if let Some(max) = p.maximum_packet_size {
                self.decoder.set_max_packet_size(max.get());
            }
        } else {
            self.neg.peer_receive_maximum = receive_maximum;
            self.neg.peer_maximum_packet_size = p.maximum_packet_size;
            self.neg.peer_topic_alias_maximum = topic_alias_maximum;
            self.aliases.set_send_max(topic_alias_maximum);
        }
    }
}

/// `s` in an allocation of its own: a string of a received packet shares
/// the packet's receive buffer, which it would keep (with whatever else
/// arrived in the same read) for as long as the connection keeps it.
fn detached(s: &MqttString) -> MqttString {
    MqttString::try_from(s.as_str()).unwrap_or_else(|_| s.clone())
}
