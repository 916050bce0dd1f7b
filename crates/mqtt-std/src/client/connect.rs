//! The CONNECT of each attempt, from the [`ClientOptions`].

use mqtt_codec::GenericPacket;

use super::options::bad;
use super::{ClientOptions, Error};

impl ClientOptions {
    /// The CONNECT of an attempt (see [`ClientSettings::connect_packet`](mqtt_core::ClientSettings::connect_packet)).
    pub(crate) fn connect_packet(
        &self,
        resume: bool,
        client_id: &str,
    ) -> Result<GenericPacket<u16>, Error> {
        self.settings.connect_packet(resume, client_id).map_err(bad)
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
        assert_eq!(o.settings.client_id, "");
        let o = ClientOptions::new("mqtt://u:p@[::1]:1999/?client_id=abc").unwrap();
        assert_eq!(o.address(), ("::1", 1999));
        assert_eq!(o.settings.client_id, "abc");
        assert_eq!(o.settings.user_name.as_deref(), Some("u"));
        assert_eq!(o.settings.password.as_deref(), Some(&b"p"[..]));
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

    /// The builder methods (shared with mqtt-tokio's) set the settings.
    #[test]
    fn builder_methods_set_the_settings() {
        let o = ClientOptions::new("mqtt://h")
            .unwrap()
            .receive_maximum(NonZeroU16::new(5).unwrap())
            .maximum_packet_size(NonZeroU32::new(4096).unwrap())
            .send_maximum(NonZeroU16::new(3).unwrap())
            .keep_alive(std::time::Duration::from_secs(100_000))
            .topic_alias_automation(true)
            .resubscribe(false)
            .nodelay(false)
            .reconnect(None)
            .subscribe("a/#", mqtt_codec::QoS::AtLeastOnce)
            .unwrap();
        let s = o.settings();
        assert_eq!(s.receive_maximum, NonZeroU16::new(5));
        assert_eq!(s.maximum_packet_size, NonZeroU32::new(4096));
        assert_eq!(s.connection.send_maximum, NonZeroU16::new(3));
        assert_eq!(s.keep_alive, u16::MAX, "whole seconds, at most 65,535");
        assert!(
            s.connection.auto_map_topic_alias_send && s.connection.auto_replace_topic_alias_send
        );
        assert!(!s.resubscribe && !s.nodelay && s.reconnect.is_none());
        assert_eq!(s.subscriptions.len(), 1);
        let bad = ClientOptions::new("mqtt://h")
            .unwrap()
            .subscribe("a/#/b", mqtt_codec::QoS::AtMostOnce);
        assert!(matches!(bad, Err(Error::Topic(_))), "{bad:?}");
        assert_eq!(o.command_capacity(0).command_capacity, 1);
    }
}
