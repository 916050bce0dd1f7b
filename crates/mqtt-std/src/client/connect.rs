//! The CONNECT of each attempt, from the [`ClientOptions`].

use mqtt_codec::{v3_1_1, v5_0, GenericPacket, ProtocolVersion};

use super::options::bad;
use super::{ClientOptions, Error};

impl ClientOptions {
    /// The CONNECT of an attempt: `resume` after the first connection
    /// (Clean Start 0), with `client_id` (the one the server assigned, if
    /// any).
    pub(crate) fn connect_packet(
        &self,
        resume: bool,
        client_id: &str,
    ) -> Result<GenericPacket<u16>, Error> {
        let clean_start = self.clean_start && !resume;
        let packet = match self.version {
            ProtocolVersion::V3_1_1 => {
                let mut b = v3_1_1::Connect::builder();
                b.try_client_id(client_id)
                    .map_err(bad)?
                    .keep_alive(self.keep_alive)
                    .clean_session(clean_start && self.session_expiry_interval == 0);
                if let Some(user) = &self.user_name {
                    b.try_user_name(user.as_str()).map_err(bad)?;
                }
                if let Some(password) = &self.password {
                    b.try_password(password.clone()).map_err(bad)?;
                }
                if let Some(will) = &self.will {
                    let mut w = v3_1_1::Will::builder();
                    w.topic(will.to_topic_name())
                        .try_message(will.payload_bytes())
                        .map_err(bad)?
                        .qos(will.qos())
                        .retain(will.retain());
                    b.will(w.build().map_err(bad)?);
                }
                GenericPacket::V3_1_1(b.build().map_err(bad)?.into())
            }
            ProtocolVersion::V5_0 => {
                let mut b = v5_0::Connect::builder();
                let properties = v5_0::ConnectProperties {
                    session_expiry_interval: Some(self.session_expiry_interval).filter(|&s| s != 0),
                    receive_maximum: self.receive_maximum,
                    maximum_packet_size: self.maximum_packet_size,
                    ..Default::default()
                };
                b.try_client_id(client_id)
                    .map_err(bad)?
                    .keep_alive(self.keep_alive)
                    .clean_start(clean_start)
                    .properties(properties);
                if let Some(user) = &self.user_name {
                    b.try_user_name(user.as_str()).map_err(bad)?;
                }
                if let Some(password) = &self.password {
                    b.try_password(password.clone()).map_err(bad)?;
                }
                if let Some(will) = &self.will {
                    let mut w = v5_0::Will::builder();
                    w.topic(will.to_topic_name())
                        .try_payload(will.payload_bytes())
                        .map_err(bad)?
                        .qos(will.qos())
                        .retain(will.retain());
                    b.will(Box::new(w.build().map_err(bad)?));
                }
                GenericPacket::V5_0(b.build().map_err(bad)?.into())
            }
        };
        Ok(packet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::{NonZeroU16, NonZeroU32};

    #[test]
    fn urls() {
        let o = ClientOptions::new("mqtt://localhost").unwrap();
        assert_eq!(o.address(), ("localhost", 1883));
        assert_eq!(o.client_id, "");
        let o = ClientOptions::new("mqtt://u:p@[::1]:1999/?client_id=abc").unwrap();
        assert_eq!(o.address(), ("::1", 1999));
        assert_eq!(o.client_id, "abc");
        assert_eq!(o.user_name.as_deref(), Some("u"));
        assert_eq!(o.password.as_deref(), Some(&b"p"[..]));
        let o = ClientOptions::new("tcp://10.0.0.1:1884").unwrap();
        assert_eq!(o.address(), ("10.0.0.1", 1884));
        for bad in [
            "http://x",
            "mqtts://broker",
            "ws://broker",
            "localhost:1883",
            "mqtt://",
            "mqtt://h:port",
            "mqtt://h:99999",
            "mqtt://h?x=1",
            "mqtt://h/path",
        ] {
            let e = ClientOptions::new(bad).unwrap_err();
            assert!(matches!(e, Error::InvalidOptions(_)), "{bad}: {e:?}");
        }
    }

    #[test]
    fn connect_packets() {
        let o = ClientOptions::new("mqtt://h?client_id=c").unwrap();
        let GenericPacket::V5_0(v5_0::Packet::Connect(c)) = o.connect_packet(false, "c").unwrap()
        else {
            panic!("a v5.0 CONNECT")
        };
        assert!(c.clean_start());
        assert_eq!(c.keep_alive(), 60);
        assert_eq!(c.properties().session_expiry_interval, Some(3600));
        let GenericPacket::V5_0(v5_0::Packet::Connect(c)) = o.connect_packet(true, "c").unwrap()
        else {
            panic!("a v5.0 CONNECT")
        };
        assert!(!c.clean_start(), "a reconnection resumes");

        let o = o
            .version(ProtocolVersion::V3_1_1)
            .session_expiry_interval(0);
        let GenericPacket::V3_1_1(v3_1_1::Packet::Connect(c)) =
            o.connect_packet(false, "c").unwrap()
        else {
            panic!("a v3.1.1 CONNECT")
        };
        assert!(c.clean_session(), "no session kept: Clean Session 1");
        let o = o.session_expiry_interval(60);
        let GenericPacket::V3_1_1(v3_1_1::Packet::Connect(c)) =
            o.connect_packet(true, "c").unwrap()
        else {
            panic!("a v3.1.1 CONNECT")
        };
        assert!(!c.clean_session(), "a session to resume: Clean Session 0");
        let long = "x".repeat(70_000);
        let e = o.connect_packet(false, &long).unwrap_err();
        assert!(matches!(e, Error::InvalidOptions(_)), "{e:?}");
    }

    #[test]
    fn limits_go_into_the_connect_and_the_connection() {
        let o = ClientOptions::new("mqtt://h")
            .unwrap()
            .receive_maximum(NonZeroU16::new(5).unwrap())
            .maximum_packet_size(NonZeroU32::new(4096).unwrap());
        assert_eq!(
            o.connection.send_maximum,
            NonZeroU16::new(20),
            "the default"
        );
        let GenericPacket::V5_0(v5_0::Packet::Connect(c)) = o.connect_packet(false, "c").unwrap()
        else {
            panic!("a v5.0 CONNECT")
        };
        assert_eq!(c.properties().receive_maximum, NonZeroU16::new(5));
        assert_eq!(c.properties().maximum_packet_size, NonZeroU32::new(4096));
        let o = o.send_maximum(NonZeroU16::new(3).unwrap());
        assert_eq!(o.connection.send_maximum, NonZeroU16::new(3));
        assert!(o.nodelay && o.resubscribe && o.reconnect.is_some());
        assert_eq!(o.command_capacity(0).command_capacity, 1);
    }
}
