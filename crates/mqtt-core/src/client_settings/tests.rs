//! The CONNECT of each attempt, and the parts of a client URL.

use super::*;

fn v5(packet: GenericPacket<u16>) -> v5_0::Connect {
    match packet {
        GenericPacket::V5_0(v5_0::Packet::Connect(c)) => *c,
        other => panic!("a v5.0 CONNECT: {other:?}"),
    }
}

fn v3(packet: GenericPacket<u16>) -> v3_1_1::Connect {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Connect(c)) => *c,
        other => panic!("a v3.1.1 CONNECT: {other:?}"),
    }
}

#[test]
fn the_connect_of_each_attempt() {
    let mut s = ClientSettings::default();
    let c = v5(s.connect_packet(false, "c").unwrap());
    assert!(c.clean_start());
    assert_eq!(c.keep_alive(), 60);
    assert_eq!(c.properties().session_expiry_interval, Some(3600));
    let c = v5(s.connect_packet(true, "c").unwrap());
    assert!(!c.clean_start(), "a reconnection resumes");

    s.version = ProtocolVersion::V3_1_1;
    s.session_expiry_interval = 0;
    let c = v3(s.connect_packet(false, "c").unwrap());
    assert!(c.clean_session(), "no session kept: Clean Session 1");
    s.session_expiry_interval = 60;
    let c = v3(s.connect_packet(true, "c").unwrap());
    assert!(!c.clean_session(), "a session to resume: Clean Session 0");
    let long = "x".repeat(70_000);
    let e = s.connect_packet(false, &long).unwrap_err();
    assert!(matches!(e, ConnectBuildError::Value(_)), "{e:?}");
}

#[test]
fn limits_credentials_and_will_go_into_the_connect() {
    let will = Message::from_parts("gone", mqtt_codec::QoS::AtLeastOnce, true, "bye").unwrap();
    let s = ClientSettings {
        receive_maximum: NonZeroU16::new(5),
        maximum_packet_size: NonZeroU32::new(4096),
        user_name: Some("u".into()),
        password: Some(Bytes::from_static(b"p")),
        will: Some(will),
        ..Default::default()
    };
    // v5.0: the broker's Receive Maximum alone.
    assert_eq!(s.connection_options().send_maximum, None);
    let c = v5(s.connect_packet(false, "c").unwrap());
    assert_eq!(c.properties().receive_maximum, NonZeroU16::new(5));
    assert_eq!(c.properties().maximum_packet_size, NonZeroU32::new(4096));
    assert_eq!(c.user_name().map(|u| u.as_str()), Some("u"));
    assert_eq!(c.password().map(|p| p.as_bytes()), Some(&b"p"[..]));
    let w = c.will().expect("a will");
    assert_eq!(
        (w.topic().as_str(), w.qos(), w.retain()),
        ("gone", mqtt_codec::QoS::AtLeastOnce, true)
    );
    let c = v3(ClientSettings {
        version: ProtocolVersion::V3_1_1,
        ..s
    }
    .connect_packet(false, "c")
    .unwrap());
    assert_eq!(c.user_name().map(|u| u.as_str()), Some("u"));
    let w = c.will().expect("a will");
    assert_eq!(
        (w.topic().as_str(), w.message().as_bytes()),
        ("gone", &b"bye"[..])
    );
}

#[test]
fn url_parts() {
    let url = |s| ClientUrl::split(s).unwrap();
    let mut s = ClientSettings::default();
    s.apply_url(&url("mqtt://u:p@h?client_id=abc")).unwrap();
    assert_eq!(
        (s.user_name.as_deref(), s.client_id.as_str()),
        (Some("u"), "abc")
    );
    assert_eq!(s.password.as_deref(), Some(&b"p"[..]));
    s.apply_url(&url("mqtt://only@h")).unwrap();
    assert_eq!(
        (s.user_name.as_deref(), s.password.as_deref()),
        (Some("only"), None)
    );
    assert_eq!(
        s.apply_url(&url("mqtt://h?x=1")),
        Err("unknown query `x=1`".into())
    );
    let split = url("wss://u@[::1]:1999/ws?client_id=w");
    assert_eq!(
        (split.scheme, split.user_info, split.path, split.query),
        ("wss", Some("u"), "/ws", "client_id=w")
    );
    assert_eq!(split.host_port(1883), Ok(("::1", 1999)));
    assert_eq!(url("mqtt://h").host_port(8883), Ok(("h", 8883)));
    assert!(url("mqtt://h:port").host_port(1).is_err());
    assert!(url("mqtt://:1").host_port(1).is_err());
    assert!(url("mqtt://[::1").host_port(1).is_err());
    assert!(ClientUrl::split("localhost:1883").is_err());
}

/// v3.1.1, where the broker cannot announce a Receive Maximum: at most
/// `DEFAULT_SEND_MAXIMUM` in flight unless the application set its own
/// (and a QoS 2 maximum only if set); v5.0: neither.
#[test]
fn v3_1_1_keeps_the_default_send_maximum_unless_one_is_set() {
    let mut s = ClientSettings {
        version: ProtocolVersion::V3_1_1,
        ..Default::default()
    };
    let options = s.connection_options();
    assert_eq!(options.send_maximum, NonZeroU16::new(DEFAULT_SEND_MAXIMUM));
    assert_eq!(options.qos2_send_maximum, None);
    s.connection.send_maximum = NonZeroU16::new(500);
    s.connection.qos2_send_maximum = NonZeroU16::new(50);
    let options = s.connection_options();
    assert_eq!(options.send_maximum, NonZeroU16::new(500));
    assert_eq!(options.qos2_send_maximum, NonZeroU16::new(50));
    s.version = ProtocolVersion::V5_0;
    s.connection = ConnectionOptions::default();
    let options = s.connection_options();
    assert_eq!(
        (options.send_maximum, options.qos2_send_maximum),
        (None, None)
    );
}
