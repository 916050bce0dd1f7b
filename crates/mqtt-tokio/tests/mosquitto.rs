//! Interop with a real broker: each test starts its own `mosquitto` on a
//! free loopback port (skipped when it is not installed, unless
//! `MQTT_REQUIRE_MOSQUITTO=1`), both versions, `u16` identifiers.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::proxy::Proxy;
use common::*;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{ProtocolVersion, QoS};
use mqtt_core::{role, ConnectionOptions, ConnectionState, GenericConnection};
use mqtt_testkit::Mosquitto;
use mqtt_tokio::{ClientEndpoint, Config, Incoming};

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];

fn vname(v: ProtocolVersion) -> &'static str {
    match v {
        ProtocolVersion::V3_1_1 => "v311",
        _ => "v5",
    }
}

fn client_opts() -> ConnectionOptions {
    let mut o = ConnectionOptions::default();
    o.ack = mqtt_core::AckPolicy::OnReceipt;
    o
}

async fn client(
    addr: SocketAddr,
    version: ProtocolVersion,
    spec: &ConnectSpec<'_>,
) -> (ClientEndpoint, Incoming<role::Client>) {
    client_with(addr, version, spec, client_opts()).await
}

async fn client_with(
    addr: SocketAddr,
    version: ProtocolVersion,
    spec: &ConnectSpec<'_>,
    options: ConnectionOptions,
) -> (ClientEndpoint, Incoming<role::Client>) {
    t(
        "connect",
        ClientEndpoint::connect(addr, connect_spec(version, spec), options),
    )
    .await
    .expect("connect to mosquitto")
}

/// Subscribes and waits for the SUBACK.
async fn subscribe_wait(
    c: &ClientEndpoint,
    inc: &mut Incoming<role::Client>,
    version: ProtocolVersion,
    filters: &[(&str, QoS)],
) {
    let id = t("id", c.acquire_packet_id()).await.unwrap();
    t("subscribe", c.send_generic(subscribe(version, id, filters)))
        .await
        .unwrap();
    loop {
        let p = t("SUBACK", inc.recv()).await.expect("open");
        if p.packet_type() == PacketType::Suback {
            return;
        }
    }
}

async fn pubq(
    c: &ClientEndpoint,
    version: ProtocolVersion,
    topic: &str,
    qos: QoS,
    payload: &[u8],
    retain: bool,
) {
    let id = match qos {
        QoS::AtMostOnce => None,
        _ => Some(t("id", c.acquire_packet_id()).await.unwrap()),
    };
    t(
        "publish",
        c.send_generic(publish_r(version, topic, qos, id, payload, retain)),
    )
    .await
    .unwrap();
}

async fn wait_idle(c: &ClientEndpoint) {
    for _ in 0..2000 {
        let status = t("status", c.status()).await.unwrap();
        if status.in_flight == 0 && status.queued == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("flows did not end");
}

fn id(base: &str, v: ProtocolVersion) -> String {
    format!("{base}-{}", vname(v))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_and_wildcards() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    for v in VERSIONS {
        let cid = id("wild", v);
        let (c, mut inc) = client(
            broker.addr(),
            v,
            &ConnectSpec {
                id: &cid,
                ..Default::default()
            },
        )
        .await;
        assert_eq!(
            t("status", c.status()).await.unwrap().state,
            ConnectionState::Connected
        );
        subscribe_wait(
            &c,
            &mut inc,
            v,
            &[("a/+/c", QoS::AtLeastOnce), ("x/#", QoS::AtLeastOnce)],
        )
        .await;
        for topic in ["a/b/c", "a/b/d", "x", "x/y/z", "a/c", "b/x", "x/end"] {
            pubq(&c, v, topic, QoS::AtLeastOnce, topic.as_bytes(), false).await;
        }
        let mut got = Vec::new();
        loop {
            let (topic, _, _, _) = next_publish(&mut inc).await;
            got.push(topic.clone());
            if topic == "x/end" {
                break;
            }
        }
        assert_eq!(got, ["a/b/c", "x", "x/y/z", "x/end"], "{v:?}");
        t("close", c.close()).await.unwrap();
    }
}

/// QoS 0, 1 and 2 to the broker and back from it (§4.3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos_0_1_2_both_directions() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    for v in VERSIONS {
        let cid = id("qos", v);
        let (c, mut inc) = client(
            broker.addr(),
            v,
            &ConnectSpec {
                id: &cid,
                ..Default::default()
            },
        )
        .await;
        subscribe_wait(&c, &mut inc, v, &[("q/#", QoS::ExactlyOnce)]).await;
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let topic = format!("q/{qos:?}");
            pubq(&c, v, &topic, qos, b"m", false).await;
            let (got, got_qos, body, _) = next_publish(&mut inc).await;
            assert_eq!(
                (got.as_str(), got_qos, &body[..]),
                (topic.as_str(), qos, &b"m"[..])
            );
        }
        wait_idle(&c).await;
        t("close", c.close()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_messages() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    for v in VERSIONS {
        let (a, _a_in) = client(
            broker.addr(),
            v,
            &ConnectSpec {
                id: &id("ret-a", v),
                ..Default::default()
            },
        )
        .await;
        let topic = format!("r/{}", vname(v));
        pubq(&a, v, &topic, QoS::AtLeastOnce, b"kept", true).await;
        wait_idle(&a).await;
        let (b, mut b_in) = client(
            broker.addr(),
            v,
            &ConnectSpec {
                id: &id("ret-b", v),
                ..Default::default()
            },
        )
        .await;
        subscribe_wait(&b, &mut b_in, v, &[(&topic, QoS::AtLeastOnce)]).await;
        let (got, _, body, retain) = next_publish(&mut b_in).await;
        assert_eq!(
            (got.as_str(), &body[..], retain),
            (topic.as_str(), &b"kept"[..], true)
        );
        t("close", a.close()).await.unwrap();
        t("close", b.close()).await.unwrap();
    }
}

/// A Will Message is published when our client's connection drops without
/// DISCONNECT (§3.1.2.5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn will_on_kill() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    for v in VERSIONS {
        let (w, mut w_in) = client(
            broker.addr(),
            v,
            &ConnectSpec {
                id: &id("watch", v),
                ..Default::default()
            },
        )
        .await;
        subscribe_wait(&w, &mut w_in, v, &[("will/#", QoS::AtLeastOnce)]).await;
        let topic = format!("will/{}", vname(v));
        let spec = ConnectSpec {
            id: &id("dying", v),
            will: Some((&topic, b"gone")),
            ..Default::default()
        };
        let (d, _d_in) = client(broker.addr(), v, &spec).await;
        d.abort();
        let (got, _, body, _) = next_publish(&mut w_in).await;
        assert_eq!((got.as_str(), &body[..]), (topic.as_str(), &b"gone"[..]));
        t("close", w.close()).await.unwrap();
    }
}

/// A persistent session receives what was published while it was away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_session() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    for v in VERSIONS {
        let pid = id("persist", v);
        let spec = ConnectSpec {
            id: &pid,
            persistent: true,
            ..Default::default()
        };
        let topic = format!("p/{}", vname(v));
        let (p, mut p_in) = client(broker.addr(), v, &spec).await;
        subscribe_wait(&p, &mut p_in, v, &[(&topic, QoS::AtLeastOnce)]).await;
        t("close", p.close()).await.unwrap();

        let (o, _o_in) = client(
            broker.addr(),
            v,
            &ConnectSpec {
                id: &id("other", v),
                ..Default::default()
            },
        )
        .await;
        pubq(&o, v, &topic, QoS::AtLeastOnce, b"while away", false).await;
        wait_idle(&o).await;

        let (p, mut p_in) = client(broker.addr(), v, &spec).await;
        assert!(t("status", p.status()).await.unwrap().session_present);
        let (got, _, body, _) = next_publish(&mut p_in).await;
        assert_eq!(
            (got.as_str(), &body[..]),
            (topic.as_str(), &b"while away"[..])
        );
        t("close", p.close()).await.unwrap();
        t("close", o.close()).await.unwrap();
    }
}

/// A QoS 2 PUBLISH whose PUBREC is lost with the connection is re-sent with
/// DUP on the next connection of the same session, and delivered exactly
/// once [MQTT-4.4.0-1], [MQTT-4.3.3-10].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos2_cut_and_completed_once_after_reconnect() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    for v in VERSIONS {
        let topic = format!("e/{}", vname(v));
        let (s, mut s_in) = client(
            broker.addr(),
            v,
            &ConnectSpec {
                id: &id("sink", v),
                ..Default::default()
            },
        )
        .await;
        subscribe_wait(&s, &mut s_in, v, &[(&topic, QoS::ExactlyOnce)]).await;

        let cid = id("cut", v);
        let spec = ConnectSpec {
            id: &cid,
            persistent: true,
            ..Default::default()
        };
        let proxy = Proxy::start(broker.addr()).await;
        let (c, mut c_in) = client(proxy.addr, v, &spec).await;
        proxy.freeze();
        pubq(&c, v, &topic, QoS::ExactlyOnce, b"once", false).await;
        // The broker answered (PUBREC), and the answer was lost.
        t("PUBREC dropped", proxy.wait_dropped()).await;
        t("cut", proxy.cut()).await;
        while t("end", c_in.recv()).await.is_some() {}
        drop(c);
        let conn: GenericConnection<role::Client> =
            t("connection", c_in.into_connection()).await.unwrap();
        assert_eq!(conn.session().in_flight_len(), 1);

        let stream = t("tcp", tokio::net::TcpStream::connect(broker.addr()))
            .await
            .unwrap();
        let (c, _c_in) = t(
            "reconnect",
            ClientEndpoint::connect_with(stream, conn, connect_spec(v, &spec), Config::default()),
        )
        .await
        .unwrap();
        assert!(t("status", c.status()).await.unwrap().session_present);
        let (got, _, body, _) = next_publish(&mut s_in).await;
        assert_eq!((got.as_str(), &body[..]), (topic.as_str(), &b"once"[..]));
        wait_idle(&c).await;
        // Nothing else arrives before the next message: delivered once.
        pubq(&c, v, &topic, QoS::ExactlyOnce, b"next", false).await;
        let (_, _, body, _) = next_publish(&mut s_in).await;
        assert_eq!(&body[..], b"next", "{v:?}: the QoS 2 message arrived twice");
        t("close", c.close()).await.unwrap();
        t("close", s.close()).await.unwrap();
    }
}

/// A QoS 2 flow whose PUBREL is lost with the connection: the PUBREL is
/// re-sent on the next connection of the same session [MQTT-4.4.0-1], and
/// the message is delivered exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos2_pubrel_lost_and_resent_after_reconnect() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    for v in VERSIONS {
        let topic = format!("rel/{}", vname(v));
        let (s, mut s_in) = client(
            broker.addr(),
            v,
            &ConnectSpec {
                id: &id("rel-sink", v),
                ..Default::default()
            },
        )
        .await;
        subscribe_wait(&s, &mut s_in, v, &[(&topic, QoS::ExactlyOnce)]).await;

        let cid = id("rel", v);
        let spec = ConnectSpec {
            id: &cid,
            persistent: true,
            ..Default::default()
        };
        // PUBREL is packet type 6.
        let proxy = Proxy::start_dropping(broker.addr(), Some(6)).await;
        let (c, mut c_in) = client(proxy.addr, v, &spec).await;
        pubq(&c, v, &topic, QoS::ExactlyOnce, b"released once", false).await;
        t("PUBREL dropped", proxy.wait_dropped()).await;
        t("cut", proxy.cut()).await;
        while t("end", c_in.recv()).await.is_some() {}
        drop(c);
        let conn: GenericConnection<role::Client> =
            t("connection", c_in.into_connection()).await.unwrap();
        assert_eq!(
            conn.session()
                .in_flight()
                .map(|(_, s)| s)
                .collect::<Vec<_>>(),
            [mqtt_session::FlowState::AwaitingPubcomp]
        );

        let stream = t("tcp", tokio::net::TcpStream::connect(broker.addr()))
            .await
            .unwrap();
        let (c, _c_in) = t(
            "reconnect",
            ClientEndpoint::connect_with(stream, conn, connect_spec(v, &spec), Config::default()),
        )
        .await
        .unwrap();
        let (got, _, body, _) = next_publish(&mut s_in).await;
        assert_eq!(
            (got.as_str(), &body[..]),
            (topic.as_str(), &b"released once"[..])
        );
        wait_idle(&c).await;
        pubq(&c, v, &topic, QoS::ExactlyOnce, b"next", false).await;
        let (_, _, body, _) = next_publish(&mut s_in).await;
        assert_eq!(&body[..], b"next", "{v:?}: the QoS 2 message arrived twice");
        t("close", c.close()).await.unwrap();
        t("close", s.close()).await.unwrap();
    }
}

/// Topic Aliases with mosquitto's `max_topic_alias` (§3.3.2.3.4): the core
/// maps topics to aliases and replaces the least recently used; every
/// message arrives with its full Topic Name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_aliases_with_max_topic_alias() {
    let Some(broker) = Mosquitto::start("max_topic_alias 3\n") else {
        return;
    };
    let v = ProtocolVersion::V5_0;
    let (s, mut s_in) = client(
        broker.addr(),
        v,
        &ConnectSpec {
            id: "alias-sink",
            ..Default::default()
        },
    )
    .await;
    subscribe_wait(&s, &mut s_in, v, &[("ta/#", QoS::AtLeastOnce)]).await;
    let mut o = client_opts();
    o.auto_map_topic_alias_send = true;
    let (c, _c_in) = client_with(
        broker.addr(),
        v,
        &ConnectSpec {
            id: "alias",
            ..Default::default()
        },
        o,
    )
    .await;
    assert_eq!(
        t("status", c.status())
            .await
            .unwrap()
            .peer_topic_alias_maximum,
        3
    );
    let mut sent = Vec::new();
    for round in 0..3 {
        for i in 0..6 {
            let topic = format!("ta/{i}");
            let body = format!("{round}-{i}");
            pubq(&c, v, &topic, QoS::AtLeastOnce, body.as_bytes(), false).await;
            sent.push((topic, body));
        }
    }
    for (topic, body) in &sent {
        let (got, _, got_body, _) = next_publish(&mut s_in).await;
        assert_eq!((&got, &got_body[..]), (topic, body.as_bytes()));
    }
    let status = t("status", c.status()).await.unwrap();
    assert_eq!(status.state, ConnectionState::Connected);
    t("close", c.close()).await.unwrap();
    t("close", s.close()).await.unwrap();
}

/// An idle client sends PINGREQ every Keep Alive and gets PINGRESP
/// (§3.1.2.10, §3.12).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_pings_on_idle() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    let mut tasks = Vec::new();
    for v in VERSIONS {
        let addr = broker.addr();
        tasks.push(tokio::spawn(async move {
            let (c, mut inc) = client(
                addr,
                v,
                &ConnectSpec {
                    id: &id("idle", v),
                    keep_alive: 1,
                    ..Default::default()
                },
            )
            .await;
            let mut pongs = 0;
            while pongs < 2 {
                let p = t("PINGRESP", inc.recv()).await.expect("stays open");
                if p.packet_type() == PacketType::Pingresp {
                    pongs += 1;
                }
            }
            assert_eq!(
                t("status", c.status()).await.unwrap().state,
                ConnectionState::Connected
            );
            t("close", c.close()).await.unwrap();
        }));
    }
    for task in tasks {
        t("idle client", task).await.unwrap();
    }
}

/// Receive Maximum both ways (v5.0, §3.3.4): the broker's (from
/// `max_inflight_messages`) bounds what we leave unacknowledged, and ours
/// bounds what the broker sends; no side breaks the other's limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_maximum_respected() {
    let Some(broker) = Mosquitto::start("max_inflight_messages 2\n") else {
        return;
    };
    let v = ProtocolVersion::V5_0;
    let spec = ConnectSpec {
        id: "rm-sink",
        receive_maximum: Some(2),
        ..Default::default()
    };
    let (s, mut s_in) = client(broker.addr(), v, &spec).await;
    subscribe_wait(&s, &mut s_in, v, &[("rm/#", QoS::AtLeastOnce)]).await;
    let (c, _c_in) = client(
        broker.addr(),
        v,
        &ConnectSpec {
            id: "rm-pub",
            ..Default::default()
        },
    )
    .await;
    let status = t("status", c.status()).await.unwrap();
    let max = usize::from(status.peer_receive_maximum.get());
    assert_eq!(
        max, 2,
        "mosquitto announces max_inflight_messages as Receive Maximum"
    );
    const N: usize = 40;
    for i in 0..N {
        pubq(
            &c,
            v,
            "rm/t",
            QoS::AtLeastOnce,
            i.to_string().as_bytes(),
            false,
        )
        .await;
        assert!(t("status", c.status()).await.unwrap().in_flight <= max);
    }
    for i in 0..N {
        let (_, _, body, _) = next_publish(&mut s_in).await;
        assert_eq!(&body[..], i.to_string().as_bytes());
    }
    assert_eq!(
        t("status", s.status()).await.unwrap().state,
        ConnectionState::Connected
    );
    assert_eq!(
        t("status", c.status()).await.unwrap().state,
        ConnectionState::Connected
    );
    t("close", c.close()).await.unwrap();
    t("close", s.close()).await.unwrap();
}

/// `mosquitto_pub` and `mosquitto_sub` exchange messages with our client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_pub_and_sub() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    let broker = std::sync::Arc::new(broker);
    let addr = broker.addr();
    for v in VERSIONS {
        let flag = match v {
            ProtocolVersion::V3_1_1 => "mqttv311",
            _ => "mqttv5",
        };
        let (c, mut inc) = client(
            addr,
            v,
            &ConnectSpec {
                id: &id("interop", v),
                ..Default::default()
            },
        )
        .await;
        let topic = format!("ms/{}", vname(v));
        subscribe_wait(&c, &mut inc, v, &[(&topic, QoS::AtLeastOnce)]).await;
        let out = {
            let topic = topic.clone();
            tokio::task::spawn_blocking(move || {
                mqtt_testkit::mosquitto_pub(
                    addr,
                    &["-V", flag, "-q", "1", "-t", &topic, "-m", "hello"],
                    LIMIT,
                )
            })
        };
        let Some(out) = t("mosquitto_pub", out).await.unwrap() else {
            return;
        };
        assert!(out.status.success(), "{out:?}");
        let (got, _, body, _) = next_publish(&mut inc).await;
        assert_eq!((got.as_str(), &body[..]), (topic.as_str(), &b"hello"[..]));

        let back = format!("sm/{}", vname(v));
        let sub = {
            let back = back.clone();
            let broker = broker.clone();
            tokio::task::spawn_blocking(move || {
                let sub = mqtt_testkit::mosquitto_sub(
                    &broker,
                    &["-V", flag, "-q", "1", "-C", "1", "-F", "%t %p", "-t", &back],
                )?;
                sub.wait_subscribed(&broker, LIMIT);
                Some(sub)
            })
        };
        let Some(sub) = t("mosquitto_sub", sub).await.unwrap() else {
            return;
        };
        pubq(&c, v, &back, QoS::AtLeastOnce, b"from-us", false).await;
        let lines = t(
            "mosquitto_sub output",
            tokio::task::spawn_blocking(move || sub.wait_messages(LIMIT)),
        )
        .await
        .unwrap();
        assert_eq!(lines, [format!("{back} from-us")]);
        t("close", c.close()).await.unwrap();
    }
}
