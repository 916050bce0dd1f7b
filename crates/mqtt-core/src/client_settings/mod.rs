//! [`ClientSettings`]: what a high-level client's connections share,
//! whatever carries them — what its CONNECT says, how it reconnects and
//! subscribes, the core's options — and the CONNECT of each attempt. The
//! adapters' `ClientOptions` hold one, add their transport, and expand
//! [`client_settings_builder!`](crate::client_settings_builder) for the
//! builder methods, so that both clients take the same settings with the
//! same defaults and documentation.

use std::num::{NonZeroU16, NonZeroU32};
use std::time::Duration;

use bytes::Bytes;
use mqtt_codec::v5_0::SubscriptionOptions;
use mqtt_codec::{v3_1_1, v5_0, BuildError, GenericPacket, Message, ProtocolVersion};
use mqtt_codec::{TopicFilter, ValueError};

use crate::{ConnectionOptions, Reconnect};

/// QoS 1 and 2 messages in flight by default on v3.1.1, where the broker
/// cannot announce a Receive Maximum: mosquitto's default takes 20 per
/// client (QoS 2 flows until their PUBREL, and the QoS 1 PUBLISH it is
/// handling) and drops the excess, acknowledging it (its PUBACK's 0x97
/// does not exist on v3.1.1). On v5.0 the broker's Receive Maximum is the
/// limit.
pub const DEFAULT_SEND_MAXIMUM: u16 = 20;

/// The settings of a high-level client; see the adapters' `ClientOptions`
/// for each one's meaning (documented once, in
/// [`client_settings_builder!`](crate::client_settings_builder)).
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The configured Client Identifier (empty: the server's, or made up).
    pub client_id: String,
    /// The MQTT version.
    pub version: ProtocolVersion,
    /// Keep Alive, in seconds.
    pub keep_alive: u16,
    /// Clean Start (Clean Session) of the first connection.
    pub clean_start: bool,
    /// Session Expiry Interval (v5.0), in seconds.
    pub session_expiry_interval: u32,
    /// User Name.
    pub user_name: Option<String>,
    /// Password.
    pub password: Option<Bytes>,
    /// The Will Message.
    pub will: Option<Message>,
    /// The Receive Maximum announced (v5.0).
    pub receive_maximum: Option<NonZeroU16>,
    /// The Maximum Packet Size announced (v5.0).
    pub maximum_packet_size: Option<NonZeroU32>,
    /// The backoff between attempts; `None`: no reconnection.
    pub reconnect: Option<Reconnect>,
    /// Subscribe again when a reconnection finds no session.
    pub resubscribe: bool,
    /// Subscribed with the first CONNECT.
    pub subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
    /// TCP_NODELAY.
    pub nodelay: bool,
    /// The bound on one attempt, from the TCP connect to the CONNACK.
    pub connect_timeout: Duration,
    /// The core's options of every connection.
    pub connection: ConnectionOptions,
}

impl Default for ClientSettings {
    /// MQTT 5.0, Keep Alive 60 s, an empty Client Identifier, a clean
    /// first session kept 1 hour past a disconnection, reconnection with
    /// [`Reconnect::default`], subscriptions made again, as many messages
    /// in flight as the broker's Receive Maximum allows (v3.1.1: at most
    /// [`DEFAULT_SEND_MAXIMUM`]), Nagle off, 10 s to connect.
    fn default() -> Self {
        ClientSettings {
            client_id: String::new(),
            version: ProtocolVersion::V5_0,
            keep_alive: 60,
            clean_start: true,
            session_expiry_interval: 3600,
            user_name: None,
            password: None,
            will: None,
            receive_maximum: None,
            maximum_packet_size: None,
            reconnect: Some(Reconnect::default()),
            resubscribe: true,
            subscriptions: Vec::new(),
            nodelay: true,
            connect_timeout: Duration::from_secs(10),
            connection: ConnectionOptions::default(),
        }
    }
}

/// Why the CONNECT could not be built from the settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectBuildError {
    /// A value does not fit an MQTT string or binary value.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// The packet breaks a rule of the codec.
    #[error(transparent)]
    Build(#[from] BuildError),
}

impl ClientSettings {
    /// The core's options of a connection: [`connection`](Self::connection),
    /// on v3.1.1 with at most [`DEFAULT_SEND_MAXIMUM`] messages in flight
    /// unless a send maximum was set.
    pub fn connection_options(&self) -> ConnectionOptions {
        let mut options = self.connection.clone();
        if self.version == ProtocolVersion::V3_1_1 {
            const DEFAULT: NonZeroU16 = NonZeroU16::new(DEFAULT_SEND_MAXIMUM).unwrap();
            options.send_maximum.get_or_insert(DEFAULT);
        }
        options
    }

    /// The CONNECT of an attempt: `resume` after the first connection
    /// (Clean Start 0), with `client_id` (the one the server assigned, if
    /// any). v3.1.1 asks for Clean Session 0 when the session is to last
    /// (a Session Expiry Interval above 0).
    pub fn connect_packet(
        &self,
        resume: bool,
        client_id: &str,
    ) -> Result<GenericPacket<u16>, ConnectBuildError> {
        let clean_start = self.clean_start && !resume;
        let packet = match self.version {
            ProtocolVersion::V3_1_1 => {
                let mut b = v3_1_1::Connect::builder();
                b.try_client_id(client_id)?
                    .keep_alive(self.keep_alive)
                    .clean_session(clean_start && self.session_expiry_interval == 0);
                if let Some(user) = &self.user_name {
                    b.try_user_name(user.as_str())?;
                }
                if let Some(password) = &self.password {
                    b.try_password(password.clone())?;
                }
                if let Some(will) = &self.will {
                    let mut w = v3_1_1::Will::builder();
                    w.topic(will.to_topic_name())
                        .try_message(will.payload_bytes())?
                        .qos(will.qos())
                        .retain(will.retain());
                    b.will(w.build()?);
                }
                GenericPacket::V3_1_1(b.build()?.into())
            }
            ProtocolVersion::V5_0 => {
                let mut b = v5_0::Connect::builder();
                let properties = v5_0::ConnectProperties {
                    session_expiry_interval: Some(self.session_expiry_interval).filter(|&s| s != 0),
                    receive_maximum: self.receive_maximum,
                    maximum_packet_size: self.maximum_packet_size,
                    ..Default::default()
                };
                b.try_client_id(client_id)?
                    .keep_alive(self.keep_alive)
                    .clean_start(clean_start)
                    .properties(properties);
                if let Some(user) = &self.user_name {
                    b.try_user_name(user.as_str())?;
                }
                if let Some(password) = &self.password {
                    b.try_password(password.clone())?;
                }
                if let Some(will) = &self.will {
                    let mut w = v5_0::Will::builder();
                    w.topic(will.to_topic_name())
                        .try_payload(will.payload_bytes())?
                        .qos(will.qos())
                        .retain(will.retain());
                    b.will(Box::new(w.build()?));
                }
                GenericPacket::V5_0(b.build()?.into())
            }
        };
        Ok(packet)
    }
}

mod builder;
mod url;

pub use url::ClientUrl;

#[cfg(test)]
mod tests;
