//! Refused sends through the simulated pair: each rule a send would break
//! is an `Err(SendError)` naming it, and the refusal changes nothing: two
//! pairs built alike, one of which is refused a send, then do the same
//! valid sends and see exactly the same events on both sides, with the
//! same packet identifiers, as if the refused call had never been made.

#[macro_use]
mod pair;

use std::num::{NonZeroU16, NonZeroU32};

use mqtt_codec::properties::SubscriptionIdentifier;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, ProtocolVersion, QoS, TopicName};
use mqtt_core::{ConnectionState, RoleKind, SendError, TopicAliasError};
use mqtt_session::SessionError;
use pair::*;

const SIDES: [Side; 2] = [Side::Client, Side::Server];
const V5: ProtocolVersion = ProtocolVersion::V5_0;

/// Builds two pairs with `build`; on one, `refused` must be refused (its
/// sends go through `Pair::refuse`, which checks that the connection did
/// not change); then `after` runs on both, and each side of both pairs has
/// handled exactly the same events and is in the same state. Returns the
/// error.
fn as_if_never_sent<P: PacketId>(
    build: impl Fn() -> Pair<P>,
    refused: impl FnOnce(&mut Pair<P>) -> SendError,
    after: impl Fn(&mut Pair<P>),
) -> SendError {
    let mut with = build();
    let mut without = build();
    let events_before = with.client.log.len() + with.server.log.len();
    let error = refused(&mut with);
    after(&mut with);
    after(&mut without);
    for side in SIDES {
        let log = |pair: &Pair<P>| match side {
            Side::Client => pair.client.log.clone(),
            Side::Server => pair.server.log.clone(),
        };
        assert_eq!(log(&with), log(&without), "{side:?} after {error:?}");
        assert_unchanged(&without.snapshot(side), &with.snapshot(side), "twin");
    }
    let events_after = without.client.log.len() + without.server.log.len();
    assert!(events_after > events_before, "`after` sends something");
    error
}

/// A v5.0 pair connected with these CONNECT and CONNACK properties.
fn connected_v5<P: PacketId>(
    connect: v5_0::ConnectProperties,
    connack: v5_0::ConnackProperties,
) -> Pair<P> {
    let mut pair: Pair<P> = PairConfig::new(V5).build();
    pair.connect_with(
        v5_0::Packet::from(connect_v5("c", true, 0, connect)).into(),
        v5_0::Packet::from(connack_v5(false, connack)).into(),
    );
    pair
}

fn connected<P: PacketId>(v: ProtocolVersion) -> Pair<P> {
    let mut pair: Pair<P> = PairConfig::new(v).build();
    pair.connect();
    pair
}

/// A QoS 1 message each way, acknowledged.
fn one_each_way<P: PacketId>(pair: &mut Pair<P>) {
    pair.publish(Side::Client, message("up", QoS::AtLeastOnce, b"u"));
    pair.publish(Side::Server, message("down", QoS::AtLeastOnce, b"d"));
    pair.drive();
}

/// §2.1.2 (Table 2-1): a Client sends no SUBACK, a Server no SUBSCRIBE:
/// `NotAllowedForRole`.
fn refused_for_role<P: PacketId>(v: ProtocolVersion) {
    let cases = [
        (Side::Client, suback(v, pid(1), QoS::AtMostOnce)),
        (Side::Server, subscribe(v, pid(1), "a", QoS::AtMostOnce)),
    ];
    for (side, packet) in cases {
        let packet_type = packet.packet_type();
        let role = match side {
            Side::Client => RoleKind::Client,
            Side::Server => RoleKind::Server,
        };
        let error = as_if_never_sent(
            || connected::<P>(v),
            |pair| pair.refuse(side, packet),
            one_each_way,
        );
        assert_eq!(error, SendError::NotAllowedForRole { packet_type, role });
    }
}

/// [MQTT-3.1.0-1]: nothing but CONNECT before it, and [MQTT-3.14.4-1]
/// nothing after a DISCONNECT: `NotAllowedInState`. The identifier the
/// refused PUBLISH carried stays the application's, and goes out on the
/// PUBLISH sent once connected.
fn refused_in_state<P: PacketId>(v: ProtocolVersion) {
    let build = || {
        let mut pair: Pair<P> = PairConfig::new(v).build();
        pair.acquire(Side::Client);
        pair
    };
    let id = pid::<P>(1);
    let packet = || publish(v, "a", QoS::AtLeastOnce, Some(id), b"x");
    let error = as_if_never_sent(
        build,
        |pair| pair.refuse(Side::Client, packet()),
        |pair| {
            pair.connect();
            pair.send_drive(Side::Client, packet());
            assert_eq!(pair.server.publishes()[0].packet_id, Some(id));
        },
    );
    let state = ConnectionState::Disconnected;
    let packet_type = PacketType::Publish;
    assert_eq!(error, SendError::NotAllowedInState { packet_type, state });
    let error = as_if_never_sent(
        build,
        |pair| pair.refuse_publish(Side::Client, message("a", QoS::AtMostOnce, b"x")),
        Pair::connect,
    );
    assert_eq!(error, SendError::NotAllowedInState { packet_type, state });

    let closed = || {
        let mut pair = connected::<P>(v);
        pair.send(Side::Client, disconnect(v));
        pair
    };
    let error = as_if_never_sent(
        closed,
        |pair| pair.refuse_publish(Side::Client, message("a", QoS::AtMostOnce, b"x")),
        Pair::drive,
    );
    let state = ConnectionState::Closed;
    assert_eq!(error, SendError::NotAllowedInState { packet_type, state });
}

/// One version per connection (§3.1.2.2): a packet of the other version
/// is `VersionMismatch`; the same packet in the connection's version goes,
/// with the identifier it carries.
fn refused_version_mismatch<P: PacketId>(v: ProtocolVersion) {
    let other = match v {
        ProtocolVersion::V3_1_1 => V5,
        ProtocolVersion::V5_0 => ProtocolVersion::V3_1_1,
    };
    let id = pid::<P>(7);
    for side in SIDES {
        let error = as_if_never_sent(
            || connected::<P>(v),
            |pair| pair.refuse(side, publish(other, "a", QoS::AtLeastOnce, Some(id), b"x")),
            |pair| pair.send_drive(side, publish(v, "a", QoS::AtLeastOnce, Some(id), b"x")),
        );
        let expected = SendError::VersionMismatch {
            connection: v,
            packet: other,
        };
        assert_eq!(error, expected, "{side:?}");
    }
}

/// A packet identifier a flow holds is refused to a new PUBLISH
/// [MQTT-2.2.1-3]: `Session(PacketIdInUse)`; the flow that holds it goes
/// on.
fn refused_identifier_in_use<P: PacketId>(v: ProtocolVersion) {
    let id = pid::<P>(1);
    let build = || {
        let mut pair: Pair<P> = PairConfig::manual(v).build();
        pair.connect();
        pair.send_drive(
            Side::Client,
            publish(v, "a", QoS::AtLeastOnce, Some(id), b"1"),
        );
        pair
    };
    let error = as_if_never_sent(
        build,
        |pair| {
            pair.refuse(
                Side::Client,
                publish(v, "a", QoS::ExactlyOnce, Some(id), b"2"),
            )
        },
        |pair| pair.send_drive(Side::Server, puback(v, id)),
    );
    assert_eq!(
        error,
        SendError::Session(SessionError::PacketIdInUse(id.to_u32()))
    );
}

/// [MQTT-3.2.2-2] (v3.1.1 [MQTT-3.2.2-1]): a CONNACK answering a clean
/// start may not claim a session: `Forbidden`, naming the statement.
fn refused_session_present_after_clean_start<P: PacketId>(v: ProtocolVersion) {
    let build = || {
        let mut pair: Pair<P> = PairConfig::new(v).build();
        pair.send_drive(Side::Client, connect(v, "c", true, 0));
        pair
    };
    let error = as_if_never_sent(
        build,
        |pair| pair.refuse(Side::Server, connack(v, true)),
        |pair| pair.send_drive(Side::Server, connack(v, false)),
    );
    assert!(
        matches!(error, SendError::Forbidden(rule) if rule.contains("MQTT-3.2.2-2")),
        "{error:?}"
    );
}

/// [MQTT-3.2.2-15], [MQTT-3.1.2-24]: nothing larger than the peer's
/// Maximum Packet Size (40): `PacketTooLarge`, from `publish` and `send`.
fn refused_packet_too_large<P: PacketId>() {
    let max = NonZeroU32::new(40);
    let build = || {
        connected_v5::<P>(
            v5_0::ConnectProperties {
                maximum_packet_size: max,
                ..Default::default()
            },
            v5_0::ConnackProperties {
                maximum_packet_size: max,
                ..Default::default()
            },
        )
    };
    for side in SIDES {
        let big = || message("a", QoS::AtLeastOnce, &[0; 64]);
        let error = as_if_never_sent(build, |pair| pair.refuse_publish(side, big()), one_each_way);
        assert!(
            matches!(error, SendError::PacketTooLarge { size, maximum: 40 } if size > 40),
            "{side:?}: {error:?}"
        );
        let error = as_if_never_sent(
            build,
            |pair| pair.refuse(side, publish(V5, "a", QoS::AtMostOnce, None, &[0; 64])),
            one_each_way,
        );
        assert!(
            matches!(error, SendError::PacketTooLarge { .. }),
            "{error:?}"
        );
    }
}

/// [MQTT-3.2.2-11]: no PUBLISH above the Server's Maximum QoS (1, then 0):
/// `QosNotSupported`; the next message gets the identifier the refused one
/// would have had.
fn refused_qos_not_supported<P: PacketId>() {
    for (maximum, qos) in [
        (QoS::AtLeastOnce, QoS::ExactlyOnce),
        (QoS::AtMostOnce, QoS::AtLeastOnce),
    ] {
        let build = || {
            connected_v5::<P>(
                Default::default(),
                v5_0::ConnackProperties {
                    maximum_qos: Some(maximum),
                    ..Default::default()
                },
            )
        };
        let error = as_if_never_sent(
            build,
            |pair| pair.refuse_publish(Side::Client, message("a", qos, b"x")),
            |pair| {
                pair.publish(Side::Client, message("a", maximum, b"y"));
                pair.drive();
            },
        );
        assert_eq!(error, SendError::QosNotSupported { qos, maximum });
    }
}

/// [MQTT-3.2.2-14]: no retained PUBLISH where Retain Available is 0:
/// `RetainNotSupported`.
fn refused_retain_not_supported<P: PacketId>() {
    let build = || {
        connected_v5::<P>(
            Default::default(),
            v5_0::ConnackProperties {
                retain_available: Some(false),
                ..Default::default()
            },
        )
    };
    let retained = mqtt_codec::Message::builder()
        .topic_name(TopicName::from_static("a").expect("topic"))
        .qos(QoS::AtLeastOnce)
        .retain(true)
        .build()
        .expect("message");
    let error = as_if_never_sent(
        build,
        |pair| pair.refuse_publish(Side::Client, retained),
        one_each_way,
    );
    assert_eq!(error, SendError::RetainNotSupported);
}

/// A v5.0 PUBLISH of QoS 0 with Topic Name `topic` and Topic Alias `alias`.
fn aliased<P: PacketId>(topic: &str, alias: u16) -> GenericPacket<P> {
    aliased_with(topic, alias, b"")
}

/// [`aliased`] with `payload`.
fn aliased_with<P: PacketId>(topic: &str, alias: u16, payload: &[u8]) -> GenericPacket<P> {
    let mut p = v5_0::Publish::<P>::builder()
        .topic_name(TopicName::empty())
        .topic_alias(NonZeroU16::new(alias).expect("alias"))
        .payload(bytes::Bytes::copy_from_slice(payload))
        .build()
        .expect("PUBLISH");
    if !topic.is_empty() {
        p.set_topic_name(TopicName::try_from(topic).expect("topic"))
            .expect("topic");
    }
    v5_0::Packet::from(p).into()
}

/// [MQTT-3.3.2-9]: no Topic Alias above the peer's Topic Alias Maximum
/// (2); an alias alone that was never mapped (§3.3.2.3.4): `TopicAlias`.
/// The mapping the following PUBLISH makes is used as if nothing happened.
fn refused_topic_alias<P: PacketId>() {
    let build = || {
        connected_v5::<P>(
            Default::default(),
            v5_0::ConnackProperties {
                topic_alias_maximum: Some(2),
                ..Default::default()
            },
        )
    };
    let after = |pair: &mut Pair<P>| {
        pair.send(Side::Client, aliased("a", 1));
        pair.send_drive(Side::Client, aliased("", 1));
        let topics = topics(pair.server.publishes());
        assert_eq!(topics, ["a", "a"]);
    };
    let cases = [
        (
            aliased("a", 3),
            TopicAliasError::OutOfRange { alias: 3, max: 2 },
        ),
        (aliased("", 1), TopicAliasError::Unmapped(1)),
    ];
    for (packet, expected) in cases {
        let error = as_if_never_sent(build, |pair| pair.refuse(Side::Client, packet), after);
        assert_eq!(error, SendError::TopicAlias(expected));
    }
}

/// [MQTT-3.2.2-15] with a Topic Alias: a PUBLISH that names its topic by
/// the alias alone is measured without the Topic Name (48 bytes here,
/// over the 40 the Server allows): `PacketTooLarge` before anything
/// changes; with a smaller payload (40 bytes) it goes.
fn refused_alias_only_too_large<P: PacketId>() {
    let build = || {
        let mut pair = connected_v5::<P>(
            Default::default(),
            v5_0::ConnackProperties {
                topic_alias_maximum: Some(2),
                maximum_packet_size: NonZeroU32::new(40),
                ..Default::default()
            },
        );
        pair.send_drive(Side::Client, aliased_with("t/topic", 1, b"p"));
        pair
    };
    let error = as_if_never_sent(
        build,
        |pair| pair.refuse(Side::Client, aliased_with("", 1, &[0; 40])),
        |pair| pair.send_drive(Side::Client, aliased_with("", 1, &[0; 32])),
    );
    assert_eq!(
        error,
        SendError::PacketTooLarge {
            size: 48,
            maximum: 40
        }
    );
}

/// What a CONNACK says is not available (§3.2.2.3.11 to §3.2.2.3.13):
/// wildcards, Subscription Identifiers, shared subscriptions, each refused
/// with its error; a SUBSCRIBE the Server allows then goes with the same
/// identifier, which its SUBACK releases.
fn refused_subscriptions_not_available<P: PacketId>() {
    let id = pid::<P>(5);
    let build = || {
        connected_v5::<P>(
            Default::default(),
            v5_0::ConnackProperties {
                wildcard_subscription_available: Some(false),
                subscription_identifiers_available: Some(false),
                shared_subscription_available: Some(false),
                ..Default::default()
            },
        )
    };
    let with_sub_id: GenericPacket<P> = v5_0::Packet::from(
        v5_0::Subscribe::<P>::builder()
            .packet_id(id)
            .properties(v5_0::SubscribeProperties {
                subscription_identifier: SubscriptionIdentifier::new(3),
                ..Default::default()
            })
            .try_subscription("a", QoS::AtMostOnce)
            .expect("filter")
            .build()
            .expect("SUBSCRIBE"),
    )
    .into();
    let cases = [
        (
            subscribe(V5, id, "a/#", QoS::AtMostOnce),
            SendError::WildcardSubscriptionNotAvailable,
        ),
        (with_sub_id, SendError::SubscriptionIdentifierNotAvailable),
        (
            subscribe(V5, id, "$share/g/a", QoS::AtMostOnce),
            SendError::SharedSubscriptionNotAvailable,
        ),
    ];
    for (packet, expected) in cases {
        let error = as_if_never_sent(
            build,
            |pair| pair.refuse(Side::Client, packet),
            |pair| {
                pair.send_drive(Side::Client, subscribe(V5, id, "a/b", QoS::AtMostOnce));
                pair.send_drive(Side::Server, suback(V5, id, QoS::AtMostOnce));
                assert_eq!(pair.client.released, [id]);
            },
        );
        assert_eq!(error, expected);
    }
}

/// Rules for the sender, `Forbidden` with the statement: a Client's
/// PUBLISH carries no Subscription Identifier [MQTT-3.3.4-6]; a Server's
/// DISCONNECT no Session Expiry Interval [MQTT-3.14.2-2].
fn refused_forbidden<P: PacketId>() {
    let with_sub_id: GenericPacket<P> = v5_0::Packet::from(publish_v5(
        "a",
        QoS::AtMostOnce,
        None,
        b"x",
        v5_0::PublishProperties {
            subscription_identifiers: vec![SubscriptionIdentifier::new(1).expect("id")],
            ..Default::default()
        },
    ))
    .into();
    let bye: GenericPacket<P> = disconnect_expiry(10);
    let cases = [
        (Side::Client, with_sub_id, "MQTT-3.3.4-6"),
        (Side::Server, bye, "MQTT-3.14.2-2"),
    ];
    for (side, packet, statement) in cases {
        let error = as_if_never_sent(
            || connected::<P>(V5),
            |pair| pair.refuse(side, packet),
            one_each_way,
        );
        assert!(
            matches!(error, SendError::Forbidden(rule) if rule.contains(statement)),
            "{error:?}"
        );
    }
}

/// The bound of the queue of messages waiting for a connection
/// (`SessionConfig::queue_max_messages`, 1): `QueueFull`; the queued one
/// goes after the CONNACK.
fn refused_queue_full<P: PacketId>(v: ProtocolVersion) {
    let build = || {
        let mut config = PairConfig::new(v);
        config.client.offline_publish = true;
        config.client.session.queue_max_messages = 1;
        let mut pair: Pair<P> = config.build();
        pair.publish(Side::Client, message("a", QoS::AtLeastOnce, b"1"));
        pair
    };
    let error = as_if_never_sent(
        build,
        |pair| pair.refuse_publish(Side::Client, message("a", QoS::AtLeastOnce, b"2")),
        |pair| {
            pair.connect();
            assert_eq!(pair.server.publishes().len(), 1);
        },
    );
    assert_eq!(error, SendError::QueueFull);
}

/// A v3.1.1 Server sends no DISCONNECT (§3.14): `NotAllowedForRole`.
fn refused_v3_server_disconnect<P: PacketId>() {
    let v = ProtocolVersion::V3_1_1;
    let error = as_if_never_sent(
        || connected::<P>(v),
        |pair| {
            pair.refuse(
                Side::Server,
                v3_1_1::Packet::from(v3_1_1::Disconnect).into(),
            )
        },
        one_each_way,
    );
    assert_eq!(
        error,
        SendError::NotAllowedForRole {
            packet_type: PacketType::Disconnect,
            role: RoleKind::Server
        }
    );
}

matrix!(
    refused_for_role,
    refused_in_state,
    refused_version_mismatch,
    refused_identifier_in_use,
    refused_session_present_after_clean_start,
    refused_queue_full,
);
widths!(
    refused_packet_too_large,
    refused_qos_not_supported,
    refused_retain_not_supported,
    refused_topic_alias,
    refused_alias_only_too_large,
    refused_subscriptions_not_available,
    refused_forbidden,
    refused_v3_server_disconnect,
);
