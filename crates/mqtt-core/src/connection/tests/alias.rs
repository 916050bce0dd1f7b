//! Topic Aliases (§3.3.2.3.4): on send through `TopicAliasSend`, on receive
//! through `TopicAliasRecv`.

use core::num::NonZeroU16;

use super::*;
use crate::{SendError, TopicAliasError};
use mqtt_codec::TopicName;

fn wire_publish(events: &[Event]) -> v5_0::Publish {
    match &sent(events)[..] {
        [GenericPacket::V5_0(v5_0::Packet::Publish(p))] => p.clone(),
        other => panic!("{other:?}"),
    }
}

fn with_alias(topic: &str, alias: u16) -> GenericPacket {
    publish_aliased(topic, alias, QoS::AtMostOnce, None)
}

fn aliasing_client(max: u16, map: bool) -> Connection<Client> {
    let mut o = options();
    o.auto_map_topic_alias_send = map;
    o.auto_replace_topic_alias_send = !map;
    client_with(
        V5,
        o,
        connect(V5, 0),
        connack_v5(v5_0::ConnackProperties {
            topic_alias_maximum: Some(max),
            ..Default::default()
        }),
    )
}

/// Automatic mapping numbers topics from 1 [MQTT-3.3.2-8], stays within the
/// Server's Topic Alias Maximum [MQTT-3.2.2-17], [MQTT-3.3.2-9], sends the
/// alias alone once mapped, and replaces the least recently used mapping.
#[test]
fn auto_map() {
    let mut c = aliasing_client(2, true);
    let first = wire_publish(&send(&mut c, publish(V5, "a", QoS::AtMostOnce, None)));
    assert_eq!(
        (first.topic_name(), first.topic_alias()),
        ("a", NonZeroU16::new(1))
    );
    let again = wire_publish(&send(&mut c, publish(V5, "a", QoS::AtMostOnce, None)));
    assert_eq!(
        (again.topic_name(), again.topic_alias()),
        ("", NonZeroU16::new(1))
    );
    let b = wire_publish(&send(&mut c, publish(V5, "b", QoS::AtMostOnce, None)));
    assert_eq!(b.topic_alias(), NonZeroU16::new(2));
    // "a" was last used before "b": it is the least recently used, and
    // "c" takes its alias.
    let c3 = wire_publish(&send(&mut c, publish(V5, "c", QoS::AtMostOnce, None)));
    assert_eq!(
        (c3.topic_name(), c3.topic_alias()),
        ("c", NonZeroU16::new(1))
    );
}

/// [MQTT-3.2.2-18] no alias when the Server's Topic Alias Maximum is 0 or
/// absent, even with automatic mapping.
#[test]
fn no_alias_without_maximum() {
    let mut c = aliasing_client(0, true);
    let p = wire_publish(&send(&mut c, publish(V5, "a", QoS::AtMostOnce, None)));
    assert_eq!(p.topic_alias(), None);
    assert_eq!(p.topic_name(), "a");
}

/// Automatic replacement uses only mappings that exist.
#[test]
fn auto_replace_only_when_mapped() {
    let mut c = aliasing_client(5, false);
    let p = wire_publish(&send(&mut c, publish(V5, "a", QoS::AtMostOnce, None)));
    assert_eq!(p.topic_alias(), None);
}

/// [MQTT-3.3.2-9] an alias of the application above the Server's maximum
/// is refused; an empty Topic Name needs an existing mapping.
#[test]
fn own_alias_checked() {
    let mut c = aliasing_client(2, false);
    assert_eq!(
        refused(&mut c, with_alias("a", 3)),
        SendError::TopicAlias(TopicAliasError::OutOfRange { alias: 3, max: 2 })
    );
    let empty = v5_0::Publish::<u16>::builder()
        .topic_name(TopicName::empty())
        .topic_alias(NonZeroU16::MIN)
        .build()
        .unwrap();
    assert_eq!(
        c.checked_send(empty),
        Err(SendError::TopicAlias(TopicAliasError::Unmapped(1)))
    );
}

/// Stored messages keep the full Topic Name: after a reconnect (mappings
/// gone, [MQTT-3.3.2-7]) the re-sent PUBLISH carries it.
#[test]
fn stored_publish_keeps_the_topic() {
    let mut o = options();
    o.auto_map_topic_alias_send = true;
    let keep = v5_0::ConnectProperties {
        session_expiry_interval: Some(60),
        ..Default::default()
    };
    let aliases = v5_0::ConnackProperties {
        topic_alias_maximum: Some(4),
        ..Default::default()
    };
    let mut c = client_with(
        V5,
        o,
        connect_v5(0, keep.clone(), false),
        connack_v5(aliases),
    );
    send(&mut c, publish(V5, "a", QoS::AtMostOnce, None));
    let id = c.acquire_packet_id().unwrap();
    let p = wire_publish(&send(&mut c, publish(V5, "a", QoS::AtLeastOnce, Some(id))));
    assert_eq!(p.topic_name(), "", "sent with the alias only");
    let _ = c.notify_closed();
    send(&mut c, connect_v5(0, keep, false));
    let present = v5_0::Connack::builder()
        .session_present(true)
        .build()
        .unwrap();
    let p = wire_publish(&feed(&mut c, [v5_0::Packet::from(present).into()]));
    assert_eq!(p.topic_name(), "a");
    assert_eq!(p.topic_alias(), None);
    assert!(p.dup());
}

/// [MQTT-3.3.2-10], [MQTT-3.3.2-12]: aliases up to the maximum we announced
/// are accepted and resolved to the full Topic Name before delivery; one
/// above it is answered with DISCONNECT 0x94, an unmapped one with 0x82
/// (§3.3.4).
#[test]
fn receive_resolves_aliases() {
    let ours = v5_0::ConnectProperties {
        topic_alias_maximum: Some(2),
        ..Default::default()
    };
    let mut c = client_with(
        V5,
        options(),
        connect_v5(0, ours.clone(), true),
        connack(V5),
    );
    let empty = |alias: u16| -> GenericPacket { publish_aliased("", alias, QoS::AtMostOnce, None) };
    let events = feed(&mut c, [with_alias("x/y", 2), empty(2)]);
    let topics: Vec<String> = received(&events)
        .iter()
        .map(|p| match p {
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => p.topic_name().to_owned(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(topics, ["x/y", "x/y"]);

    let events = feed(&mut c, [with_alias("z", 3)]);
    assert_eq!(disconnect_code(&events), Some(0x94));

    let mut c = client_with(V5, options(), connect_v5(0, ours, true), connack(V5));
    let events = feed(&mut c, [empty(1)]);
    assert_eq!(disconnect_code(&events), Some(0x82));
}

/// [MQTT-3.1.2-26], [MQTT-3.1.2-27], [MQTT-3.3.2-11]: a Server's aliases stay within the
/// Client's Topic Alias Maximum; with none announced, no alias is accepted
/// (0x94).
#[test]
fn server_side_maximums() {
    let mut o = options();
    o.auto_map_topic_alias_send = true;
    let client_max = v5_0::ConnectProperties {
        topic_alias_maximum: Some(1),
        ..Default::default()
    };
    let mut s = server_with(V5, o, connect_v5(0, client_max, true), connack(V5));
    let p = wire_publish(&send(&mut s, publish(V5, "a", QoS::AtMostOnce, None)));
    assert_eq!(p.topic_alias(), NonZeroU16::new(1));
    let p = wire_publish(&send(&mut s, publish(V5, "b", QoS::AtMostOnce, None)));
    assert_eq!(p.topic_alias(), NonZeroU16::new(1));

    let mut s = server(V5);
    let events = feed(&mut s, [with_alias("a", 1)]);
    assert_eq!(disconnect_code(&events), Some(0x94));
}
