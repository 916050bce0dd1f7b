//! The core's rules through the tokio endpoints, with no copy of them in
//! the adapter: Receive Maximum as the core's session queue, acknowledgement
//! after handling, and the PINGRESP timeout through the core's
//! `TimerTable`.

mod common;

use common::*;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, MqttString, ProtocolVersion, QoS};
use mqtt_core::{AckPolicy, ConnectionError, ConnectionOptions, SendError};
use mqtt_tokio::{ClientEndpoint, Error, Server};

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];

/// The next packet of `incoming`.
async fn next<R: mqtt_core::role::Role>(incoming: &mut mqtt_tokio::Incoming<R>) -> GenericPacket {
    t("next packet", incoming.recv()).await.expect("open")
}

/// The packet identifier of a PUBLISH, PUBACK, PUBREC or PUBCOMP.
fn packet_id(p: &GenericPacket) -> Option<u16> {
    match p {
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => p.packet_id(),
        GenericPacket::V5_0(v5_0::Packet::Puback(p)) => Some(p.packet_id()),
        GenericPacket::V5_0(v5_0::Packet::Pubrec(p)) => Some(p.packet_id()),
        GenericPacket::V5_0(v5_0::Packet::Pubcomp(p)) => Some(p.packet_id()),
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => p.packet_id(),
        GenericPacket::V3_1_1(v3_1_1::Packet::Puback(p)) => Some(p.packet_id()),
        GenericPacket::V3_1_1(v3_1_1::Packet::Pubrec(p)) => Some(p.packet_id()),
        GenericPacket::V3_1_1(v3_1_1::Packet::Pubcomp(p)) => Some(p.packet_id()),
        _ => None,
    }
}

/// v5.0 Receive Maximum [MQTT-3.3.4-7], with no queue in the endpoint:
/// with the server's CONNACK announcing 2, a third QoS 1 message is
/// accepted at once into the core's session queue and goes out only after
/// a PUBACK [MQTT-4.9.0-2]; a QoS 0 message before it went at once
/// [MQTT-4.9.0-3]. Past the queue's bound, `publish` errs `QueueFull`
/// (`WouldBlock`) and succeeds again once an acknowledgement made room.
#[tokio::test]
async fn qos1_over_receive_maximum_goes_out_after_pubacks() {
    let mut server_opts = opts();
    server_opts.ack = AckPolicy::Manual;
    let mut client_opts = opts();
    client_opts.session.queue_max_messages = 1;
    let p = pair_with(ProtocolVersion::V5_0, server_opts, client_opts, Some(2)).await;
    let (client, server, mut server_in) = (p.client, p.server, p.server_in);
    let status = t("status", client.status()).await.unwrap();
    assert_eq!(status.peer_receive_maximum.get(), 2);
    let publish = |qos, byte| client.publish(message("q", qos, &[byte]));
    let a = t("publish", publish(QoS::AtLeastOnce, 0)).await.unwrap();
    let b = t("publish", publish(QoS::AtLeastOnce, 1)).await.unwrap();
    let q0 = t("publish", publish(QoS::AtMostOnce, 9)).await.unwrap();
    assert_eq!(q0, None);
    let third = t("publish", publish(QoS::AtLeastOnce, 2)).await.unwrap();
    assert!(third.is_some(), "numbered although queued");
    let status = t("status", client.status()).await.unwrap();
    assert_eq!(
        (status.in_flight, status.queued, status.send_quota),
        (2, 1, 0)
    );
    let full = t("publish", publish(QoS::AtLeastOnce, 3))
        .await
        .unwrap_err();
    assert!(
        matches!(full, Error::Send(SendError::QueueFull)),
        "{full:?}"
    );
    assert_eq!(full.io_kind(), std::io::ErrorKind::WouldBlock);

    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(next_publish(&mut server_in).await.2[0]);
    }
    assert_eq!(got, [0, 1, 9]);
    t("puback", server.send(v5_0::Puback::new(a.unwrap())))
        .await
        .unwrap();
    assert_eq!(next_publish(&mut server_in).await.2[0], 2);
    let fourth = t("publish", publish(QoS::AtLeastOnce, 3)).await.unwrap();
    assert!(fourth.is_some());
    t("puback", server.send(v5_0::Puback::new(b.unwrap())))
        .await
        .unwrap();
    assert_eq!(next_publish(&mut server_in).await.2[0], 3);
    let status = t("status", client.status()).await.unwrap();
    assert_eq!((status.in_flight, status.queued), (2, 0));
    t("close", client.close()).await.unwrap();
}

/// `AckPolicy::AfterHandling` through the server endpoint: a received QoS 1
/// or 2 PUBLISH is answered only when the application calls `acknowledge`
/// (a broker, after routing it), then the QoS 2 exchange runs by itself
/// (§4.3.2, §4.3.3); on v5.0 `acknowledge_with` sends the Reason Code and
/// Reason String chosen (§3.4.2.1). An identifier with no message waiting
/// is ignored, and the connection goes on.
#[tokio::test]
async fn acknowledge_after_handling_through_the_server_endpoint() {
    for version in VERSIONS {
        let mut server_opts = opts();
        server_opts.ack = AckPolicy::AfterHandling;
        let p = pair(version, server_opts, None).await;
        let (client, mut client_in, server, mut server_in) =
            (p.client, p.client_in, p.server, p.server_in);
        let one = t(
            "publish",
            client.publish(message("a", QoS::AtLeastOnce, b"1")),
        )
        .await
        .unwrap();
        let two = t(
            "publish",
            client.publish(message("a", QoS::ExactlyOnce, b"2")),
        )
        .await
        .unwrap();
        for want in [one, two] {
            assert_eq!(packet_id(&next(&mut server_in).await), want);
        }
        // Not acknowledged yet: the marker comes before any answer.
        let marker = message("marker", QoS::AtMostOnce, b"m");
        t("marker", server.publish(marker)).await.unwrap();
        let first = next(&mut client_in).await;
        assert_eq!(as_publish(&first).map(|m| m.0), Some("marker".into()));
        let status = t("status", client.status()).await.unwrap();
        assert_eq!(status.in_flight, 2, "{version:?}");

        t("unknown id", server.acknowledge(999)).await.unwrap();
        t("ack", server.acknowledge(one.unwrap())).await.unwrap();
        let puback = next(&mut client_in).await;
        assert_eq!(puback.packet_type(), PacketType::Puback);
        assert_eq!(packet_id(&puback), one);
        t("ack", server.acknowledge(two.unwrap())).await.unwrap();
        let pubrec = next(&mut client_in).await;
        assert_eq!(pubrec.packet_type(), PacketType::Pubrec);
        let pubcomp = next(&mut client_in).await;
        assert_eq!(pubcomp.packet_type(), PacketType::Pubcomp);
        assert_eq!(packet_id(&pubcomp), two);

        if version == ProtocolVersion::V5_0 {
            let three = t(
                "publish",
                client.publish(message("a", QoS::AtLeastOnce, b"3")),
            )
            .await
            .unwrap();
            while packet_id(&next(&mut server_in).await) != three {}
            let properties = v5_0::PubackProperties {
                reason_string: Some(MqttString::try_from("not now").unwrap()),
                ..Default::default()
            };
            let code = v5_0::PubackReasonCode::ImplementationSpecificError;
            let ack = server.acknowledge_with(three.unwrap(), code, properties);
            t("ack", ack).await.unwrap();
            let GenericPacket::V5_0(v5_0::Packet::Puback(puback)) = next(&mut client_in).await
            else {
                panic!("expected a PUBACK");
            };
            assert_eq!(puback.reason_code(), code);
            let reason = puback.properties().reason_string.as_ref();
            assert_eq!(reason.map(|r| r.as_str()), Some("not now"));
        }
        let status = t("status", client.status()).await.unwrap();
        assert_eq!(status.in_flight, 0, "{version:?}");
        t("close", client.close()).await.unwrap();
    }
}

/// §3.1.2.10: with the default options a client whose PINGREQ gets no
/// PINGRESP within the Keep Alive closes: the core's `PingreqSend` and
/// `PingrespRecv` timers fire through the driver's `TimerTable`.
#[tokio::test]
async fn client_closes_when_no_pingresp_comes() {
    for version in VERSIONS {
        let mut server_opts = opts();
        server_opts.auto_ping_response = false;
        let server = Server::bind("127.0.0.1:0")
            .await
            .unwrap()
            .with_options(server_opts);
        let addr = server.local_addr().unwrap();
        let accept = tokio::spawn(async move {
            let (endpoint, mut incoming, _) = server.accept().await.unwrap();
            let c = incoming.recv().await.unwrap();
            endpoint
                .send_generic(connack(c.version(), None))
                .await
                .unwrap();
            let mut types = Vec::new();
            while let Some(p) = incoming.recv().await {
                types.push(p.packet_type());
            }
            types
        });
        // PINGREQ after 2 s, closed at 4 s; the server's own timeout (3 s
        // after the PINGREQ) leaves a second of margin.
        let connect = connect(version, "no-pingresp", 2, true);
        let options = ConnectionOptions::default();
        let (_client, mut incoming) = t("connect", ClientEndpoint::connect(addr, connect, options))
            .await
            .unwrap();
        assert!(t("closed", incoming.recv()).await.is_none(), "{version:?}");
        let reason = incoming.close_reason();
        assert!(
            matches!(
                reason,
                Some(Error::Connection(ConnectionError::PingrespTimeout))
            ),
            "{version:?}: {reason:?}"
        );
        let types = t("server", accept).await.unwrap();
        assert_eq!(types.first(), Some(&PacketType::Pingreq), "{version:?}");
    }
}

/// A graceful `close` lets the messages queued in the session for the
/// peer's Receive Maximum go out before the DISCONNECT [MQTT-4.9.0-2].
#[tokio::test]
async fn close_sends_the_queued_messages_first() {
    let p = pair(ProtocolVersion::V5_0, opts(), Some(1)).await;
    let (client, mut server_in) = (p.client, p.server_in);
    for i in 0..5u8 {
        let m = message("q", QoS::AtLeastOnce, &[i]);
        t("publish", client.publish(m)).await.unwrap();
    }
    t("close", client.close()).await.unwrap();
    let mut got = Vec::new();
    while let Some(p) = t("recv", server_in.recv()).await {
        got.push(as_publish(&p).map_or(0xFF, |m| m.2[0]));
    }
    assert_eq!(got, [0, 1, 2, 3, 4, 0xFF], "the DISCONNECT last");
}
