//! [`client_settings_builder!`](crate::client_settings_builder): the
//! builder methods of both clients' `ClientOptions`, documented once.

/// The builder methods of an adapter's `ClientOptions` over its
/// [`ClientSettings`](crate::ClientSettings) field `$settings`; `$error` is its error type (it
/// converts from [`TopicError`](mqtt_codec::TopicError)), and `$client` the
/// path of its `Client` (for the documentation's links). Expand it inside
/// `impl ClientOptions { .. }`.
#[macro_export]
macro_rules! client_settings_builder {
    ($settings:ident, $error:ty, $client:literal) => {
        /// The Client Identifier (§3.1.3.1); it names the session a
        /// reconnection resumes. Empty (the default): the server assigns one
        /// on v5.0, and on v3.1.1 the client makes one up.
        pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
            self.$settings.client_id = client_id.into();
            self
        }

        /// The MQTT version (default 5.0).
        pub fn version(mut self, version: $crate::codec::ProtocolVersion) -> Self {
            self.$settings.version = version;
            self
        }

        /// The Keep Alive (§3.1.2.10), in whole seconds up to 65,535 (0: none).
        /// Default 60 s. A client that hears nothing for it closes and
        /// reconnects.
        pub fn keep_alive(mut self, keep_alive: std::time::Duration) -> Self {
            self.$settings.keep_alive = keep_alive.as_secs().min(u64::from(u16::MAX)) as u16;
            self
        }

        /// Whether the first connection starts a new session (Clean Start /
        /// Clean Session 1; default true). Reconnections always resume.
        pub fn clean_start(mut self, clean_start: bool) -> Self {
            self.$settings.clean_start = clean_start;
            self
        }

        /// v5.0: how long the broker keeps the session after a disconnection,
        /// in seconds (§3.1.2.11.2; default 3600). On v3.1.1 a session lasts
        /// until a Clean Session 1 ends it, and the first connection asks for
        /// Clean Session 0 when this is not 0.
        pub fn session_expiry_interval(mut self, seconds: u32) -> Self {
            self.$settings.session_expiry_interval = seconds;
            self
        }

        /// User Name and Password (§3.1.3.5, §3.1.3.6).
        pub fn credentials(
            mut self,
            user_name: impl Into<String>,
            password: impl Into<$crate::bytes::Bytes>,
        ) -> Self {
            self.$settings.user_name = Some(user_name.into());
            self.$settings.password = Some(password.into());
            self
        }

        /// The Will Message the broker publishes if this client goes away
        /// without a DISCONNECT (§3.1.2.5): its Topic Name, payload, QoS and
        /// retain flag.
        pub fn will(mut self, will: $crate::codec::Message) -> Self {
            self.$settings.will = Some(will);
            self
        }

        /// v5.0: the Receive Maximum this client announces (§3.1.2.11.3):
        /// QoS 1 and 2 messages the broker may send before their
        /// acknowledgements.
        pub fn receive_maximum(mut self, receive_maximum: std::num::NonZeroU16) -> Self {
            self.$settings.receive_maximum = Some(receive_maximum);
            self
        }

        /// The most QoS 1 and 2 messages in flight at once, below the
        /// broker's Receive Maximum; more wait in the session's queue.
        /// Default: the broker's Receive Maximum alone on v5.0; 20 on
        /// v3.1.1, where the broker cannot announce its limit and one that
        /// holds fewer drops the excess while acknowledging it (mosquitto's
        /// default holds 20).
        pub fn send_maximum(mut self, send_maximum: std::num::NonZeroU16) -> Self {
            self.$settings.connection.send_maximum = Some(send_maximum);
            self
        }

        /// The most QoS 2 messages in flight at once (until their
        /// PUBCOMP), below [`send_maximum`](Self::send_maximum); a QoS 2
        /// message beyond them waits in the session's queue with those
        /// published after it. Default: none of its own. With mosquitto
        /// (20 per client, counting QoS 2 flows until their PUBREL and the
        /// QoS 1 PUBLISH it is handling), `send_maximum(100)` and
        /// `qos2_send_maximum(19)` keep QoS 1 fast and lose nothing on
        /// v3.1.1.
        pub fn qos2_send_maximum(mut self, max: std::num::NonZeroU16) -> Self {
            self.$settings.connection.qos2_send_maximum = Some(max);
            self
        }

        /// v5.0: the largest packet this client accepts (§3.1.2.11.4).
        pub fn maximum_packet_size(mut self, size: std::num::NonZeroU32) -> Self {
            self.$settings.maximum_packet_size = Some(size);
            self
        }

        /// v5.0: let the connection map Topic Names to Topic Aliases it
        /// numbers itself, up to the broker's Topic Alias Maximum (§3.3.2.3.4).
        pub fn topic_alias_automation(mut self, on: bool) -> Self {
            self.$settings.connection.auto_map_topic_alias_send = on;
            self.$settings.connection.auto_replace_topic_alias_send = on;
            self
        }

        /// How to reconnect after the network connection is lost; `None`: do
        /// not (the client then ends with the connection).
        pub fn reconnect(mut self, reconnect: impl Into<Option<$crate::Reconnect>>) -> Self {
            self.$settings.reconnect = reconnect.into();
            self
        }

        /// Whether a reconnection that finds no session (Session Present 0)
        /// subscribes again to what the client subscribed (default true).
        pub fn resubscribe(mut self, on: bool) -> Self {
            self.$settings.resubscribe = on;
            self
        }

        #[doc = concat!(
                    "Subscribes to `filter` with maximum QoS `qos` as part of connecting: ",
                    "the SUBSCRIBE leaves right after the first CONNECT, without waiting ",
                    "for the CONNACK (§3.1.4), so that the first messages arrive a round ",
                    "trip sooner than with [`Client::subscribe`](", $client, "::subscribe) ",
                    "after [`Client::connect`](", $client, "::connect). Like one made by ",
                    "`subscribe`, it is made again when a reconnection finds no session. ",
                    "Its SUBACK is not reported (a refusal is logged). Errs on an invalid ",
                    "Topic Filter."
                )]
        pub fn subscribe(mut self, filter: &str, qos: $crate::codec::QoS) -> Result<Self, $error> {
            let filter = $crate::codec::TopicFilter::try_from(filter)?;
            self.$settings.subscriptions.push((filter, qos.into()));
            Ok(self)
        }

        /// Whether to turn Nagle's algorithm off (TCP_NODELAY; default true):
        /// with it on, small packets wait for the acknowledgement of earlier
        /// ones, up to the peer's delayed-ACK timeout.
        pub fn nodelay(mut self, nodelay: bool) -> Self {
            self.$settings.nodelay = nodelay;
            self
        }

        /// How long one attempt may take, from the TCP connect to the CONNACK
        /// (default 10 s).
        pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.$settings.connect_timeout = timeout;
            self
        }

        /// The core's automation and limits
        /// ([`ConnectionOptions`]($crate::ConnectionOptions)); the defaults
        /// suit a client. Offline publishing:
        /// [`ConnectionOptions::offline_publish`]($crate::ConnectionOptions::offline_publish).
        pub fn connection_options(mut self, options: $crate::ConnectionOptions) -> Self {
            self.$settings.connection = options;
            self
        }

        /// The settings every client shares
        /// ([`ClientSettings`]($crate::client_settings::ClientSettings)).
        pub fn settings(&self) -> &$crate::client_settings::ClientSettings {
            &self.$settings
        }
    };
}
