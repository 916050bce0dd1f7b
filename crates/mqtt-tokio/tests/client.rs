//! The high-level [`Client`]: publish and subscribe resolving with the
//! broker's answers, messages received as `Message`s, reconnection with
//! backoff that resumes the session or subscribes again. Against mosquitto
//! (each test starts its own; skipped when it is not installed, unless
//! `MQTT_REQUIRE_MOSQUITTO=1`), through a proxy that cuts the network
//! connections, and against fake brokers that misbehave.

mod common;

use std::time::Duration;

use common::{delivery, t};
use mqtt_codec::v5_0::PubackReasonCode;
use mqtt_codec::{ProtocolVersion, QoS};
use mqtt_testkit::mosquitto_log::assert_qos2_explained;
use mqtt_testkit::{Cutter, Mosquitto};
use mqtt_tokio::{Client, ClientOptions, ClientState, Delivered, Error, Messages, Reconnect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];

/// Options for `addr` as `client_id` on `version`, reconnecting quickly.
fn options(addr: std::net::SocketAddr, client_id: &str, version: ProtocolVersion) -> ClientOptions {
    ClientOptions::new(&format!("mqtt://{addr}"))
        .unwrap()
        .client_id(format!("{client_id}-{version:?}"))
        .version(version)
        .reconnect(Reconnect::new(
            Duration::from_millis(20),
            Duration::from_millis(200),
        ))
}

async fn connect(options: ClientOptions) -> (Client, Messages) {
    t("connect", Client::connect(options))
        .await
        .expect("connected")
}

/// Waits until the client's state satisfies `pred`.
async fn wait_state(client: &Client, what: &str, pred: impl Fn(&ClientState) -> bool) {
    let mut state = client.watch_state();
    t(what, state.wait_for(|s| pred(s))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_and_subscribe_resolve_with_the_brokers_answers() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    for v in VERSIONS {
        let (client, mut messages) = connect(options(broker.addr(), "pubsub", v)).await;
        assert!(matches!(
            client.state(),
            ClientState::Connected {
                session_present: false
            }
        ));
        let granted = t("subscribe", client.subscribe("pubsub/#", QoS::ExactlyOnce)).await;
        assert_eq!(granted.unwrap(), QoS::ExactlyOnce);

        let sent = t(
            "qos0",
            client.publish("pubsub/0", QoS::AtMostOnce, false, "zero"),
        )
        .await;
        assert_eq!(sent.unwrap(), Delivered::Sent);
        let acked = t(
            "qos1",
            client.publish("pubsub/1", QoS::AtLeastOnce, false, "one"),
        )
        .await;
        assert!(matches!(
            acked.unwrap(),
            Delivered::Acknowledged(PubackReasonCode::Success)
        ));
        let done = t(
            "qos2",
            client.publish("pubsub/2", QoS::ExactlyOnce, false, "two"),
        )
        .await;
        assert!(matches!(done.unwrap(), Delivered::Completed(_)));

        for (topic, payload, qos) in [
            ("pubsub/0", "zero", QoS::AtMostOnce),
            ("pubsub/1", "one", QoS::AtLeastOnce),
            ("pubsub/2", "two", QoS::ExactlyOnce),
        ] {
            // Every other message through the `Stream` impl.
            let m = if qos == QoS::AtLeastOnce {
                t("message", common::next(&mut messages)).await
            } else {
                t("message", messages.recv()).await
            };
            let m = m.expect("a message");
            assert_eq!(
                (m.topic_name(), m.payload(), m.qos()),
                (topic, payload.as_bytes(), qos)
            );
        }

        t("unsubscribe", client.unsubscribe("pubsub/#"))
            .await
            .unwrap();
        let acked = t(
            "qos1",
            client.publish("pubsub/1", QoS::AtLeastOnce, false, "x"),
        )
        .await;
        if v == ProtocolVersion::V5_0 {
            // Nobody subscribes now (§3.4.2.1: 0x10).
            let code = PubackReasonCode::NoMatchingSubscribers;
            assert_eq!(acked.unwrap(), Delivered::Acknowledged(code));
        } else {
            assert!(acked.is_ok());
        }
        let bad = client.subscribe("a/#/b", QoS::AtMostOnce).await;
        assert!(matches!(bad, Err(Error::Topic(_))), "{bad:?}");

        t("disconnect", client.disconnect()).await.unwrap();
        assert!(matches!(client.state(), ClientState::Closed { .. }));
        assert!(t("end", messages.recv()).await.is_none());
        let after = client
            .publish("pubsub/1", QoS::AtLeastOnce, false, "late")
            .await;
        assert!(matches!(after, Err(Error::Closed)), "{after:?}");
    }
}

/// A subscriber and a publisher whose network connections are cut again
/// and again: every QoS 1 message arrives at least once, every QoS 2
/// message exactly once, every publish resolves ([MQTT-4.4.0-1],
/// §4.3.2, §4.3.3).
///
/// A QoS 2 message may arrive once more for each time mosquitto's log
/// shows it sent the PUBLISH again after its PUBREL (mosquitto 2.0.11 does
/// across reconnections too: see `tests/restart.rs`), never else. On
/// failure, a timed-out wait included, mosquitto's log is printed.
#[test]
fn cut_connections_lose_nothing() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    let run = common::block_on_two_workers(async {
        for v in VERSIONS {
            cuts(&broker, v).await;
        }
    });
    if let Err(panic) = run {
        eprintln!("mosquitto's log:\n{}", broker.all_logs());
        std::panic::resume_unwind(panic);
    }
}

/// Five cuts of both clients' connections while 200 messages go from the
/// publisher to the subscriber on `v`.
async fn cuts(broker: &Mosquitto, v: ProtocolVersion) {
    const N: usize = 200;
    let cutter = Cutter::start(broker.addr());
    let (sub, mut messages) = connect(options(cutter.addr, "cut-sub", v)).await;
    t("subscribe", sub.subscribe("cut/#", QoS::ExactlyOnce))
        .await
        .unwrap();
    // Its own proxy: the two clients' connections are cut apart.
    let pub_cutter = Cutter::start(broker.addr());
    let (publisher, _unused) = connect(options(pub_cutter.addr, "cut-pub", v)).await;

    let publishing = delivery::publish_numbered(&publisher, "cut/x", N);
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(40)).await;
        cutter.cut_all();
        pub_cutter.cut_all();
    }
    let outcomes = t("publishes", publishing).await.unwrap();
    for (i, outcome) in outcomes.iter().enumerate() {
        assert!(outcome.is_ok(), "publish {i} on {v:?}: {outcome:?}");
    }
    let seen = delivery::receive_numbered(&mut messages, &publisher, "cut/kick", N).await;
    let subscriber = format!("cut-sub-{v:?}");
    let log = broker.all_logs();
    assert_qos2_explained(&log, &subscriber, "cut/x", &seen, N, &format!("{v:?}"));
    assert!(
        cutter.accepted() + pub_cutter.accepted() > 2,
        "the connections were cut and made again"
    );
    t("disconnect", publisher.disconnect()).await.unwrap();
    t("disconnect", sub.disconnect()).await.unwrap();
}

/// A reconnection that finds no session (Session Present 0) subscribes
/// again to what the client subscribed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubscribes_when_the_session_is_gone() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    for v in VERSIONS {
        let cutter = Cutter::start(broker.addr());
        let forgetful = options(cutter.addr, "resub", v).session_expiry_interval(0);
        let (client, mut messages) = connect(forgetful).await;
        t("subscribe", client.subscribe("resub/#", QoS::AtLeastOnce))
            .await
            .unwrap();
        cutter.cut_all();
        wait_state(&client, "reconnecting", |s| {
            matches!(s, ClientState::Reconnecting { .. })
        })
        .await;
        wait_state(&client, "connected again", |s| {
            matches!(
                s,
                ClientState::Connected {
                    session_present: false
                }
            )
        })
        .await;

        let (other, _m) = connect(options(broker.addr(), "resub-pub", v)).await;
        // The SUBSCRIBE made again may still be on its way: publish until
        // the message comes through.
        let received = t("message after resubscription", async {
            loop {
                other
                    .publish("resub/a", QoS::AtLeastOnce, false, "back")
                    .await
                    .unwrap();
                if let Ok(m) =
                    tokio::time::timeout(Duration::from_millis(200), messages.recv()).await
                {
                    break m;
                }
            }
        })
        .await;
        assert_eq!(received.expect("a message").payload(), b"back");
        t("disconnect", other.disconnect()).await.unwrap();
        t("disconnect", client.disconnect()).await.unwrap();
    }
}

/// The first CONNACK of the fake brokers below: v3.1.1, accepted.
const CONNACK: [u8; 4] = [0x20, 0x02, 0x00, 0x00];

/// Reads the CONNECT (any bytes) of a fake broker's connection.
async fn read_some(stream: &mut tokio::net::TcpStream) {
    let mut buf = [0u8; 256];
    let _ = stream.read(&mut buf).await;
}

/// A broker that accepts the first connection and then drops it, and
/// answers every later CONNECT with garbage: the client backs off between
/// attempts, gives up after its maximum, and ends with a typed reason.
#[tokio::test]
async fn garbage_after_a_loss_backs_off_then_gives_up() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broker = tokio::spawn(async move {
        let mut accepted = 0usize;
        loop {
            let Ok(Ok((mut stream, _))) =
                tokio::time::timeout(Duration::from_secs(3), listener.accept()).await
            else {
                return accepted;
            };
            accepted += 1;
            read_some(&mut stream).await;
            if accepted == 1 {
                stream.write_all(&CONNACK).await.unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await;
            } else {
                // A reserved packet type with a Remaining Length over the limit.
                let _ = stream
                    .write_all(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
                    .await;
                let _ = stream.read(&mut [0u8; 16]).await;
            }
        }
    });
    let reconnect =
        Reconnect::new(Duration::from_millis(10), Duration::from_millis(40)).max_attempts(4);
    let options = options(addr, "garbage", ProtocolVersion::V3_1_1).reconnect(reconnect);
    let (client, mut messages) = connect(options).await;
    assert!(
        t("end", messages.recv()).await.is_none(),
        "no messages, then the end"
    );
    let state = client.state();
    let ClientState::Closed {
        reason: Some(reason),
    } = state
    else {
        panic!("closed with a reason: {state:?}");
    };
    assert!(
        matches!(*reason, Error::Connection(_) | Error::Io(_)),
        "a typed reason: {reason:?}"
    );
    let accepted = t("broker", broker).await.unwrap();
    assert_eq!(
        accepted,
        1 + 4,
        "the first connection, then 4 attempts and no more"
    );
}

/// The packets in `bytes` (each with a one-byte Remaining Length): first
/// byte and body.
fn small_packets(bytes: &[u8]) -> Vec<(u8, &[u8])> {
    let mut packets = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 2 && rest.len() >= 2 + rest[1] as usize {
        let (packet, after) = rest.split_at(2 + rest[1] as usize);
        packets.push((packet[0], &packet[2..]));
        rest = after;
    }
    packets
}

/// A subscription in the options leaves right after the CONNECT, before
/// the CONNACK (§3.1.4): this broker answers nothing until both arrived.
#[tokio::test]
async fn options_subscriptions_go_with_the_connect() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broker = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut bytes = Vec::new();
        let subscribe = loop {
            let mut buf = [0u8; 256];
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client waits for nothing before SUBSCRIBE");
            bytes.extend_from_slice(&buf[..n]);
            let packets = small_packets(&bytes);
            if let Some((_, body)) = packets.iter().find(|(first, _)| *first == 0x82) {
                assert_eq!(packets[0].0, 0x10, "CONNECT first");
                break body.to_vec();
            }
        };
        // Packet identifier, then "pre/#" at QoS 1.
        assert_eq!(&subscribe[2..], b"\x00\x05pre/#\x01");
        let (id_msb, id_lsb) = (subscribe[0], subscribe[1]);
        stream.write_all(&[0x20, 0x02, 0x00, 0x00]).await.unwrap();
        stream
            .write_all(&[0x90, 0x03, id_msb, id_lsb, 0x01])
            .await
            .unwrap();
        stream.write_all(b"\x30\x09\x00\x05pre/1hi").await.unwrap();
        let _ = stream.read(&mut [0u8; 64]).await;
    });
    let options = options(addr, "pre", ProtocolVersion::V3_1_1)
        .subscribe("pre/#", QoS::AtLeastOnce)
        .unwrap();
    let (client, mut messages) = connect(options).await;
    let m = t("message", messages.recv()).await.expect("a message");
    assert_eq!((m.topic_name(), m.payload()), ("pre/1", &b"hi"[..]));
    let bad = ClientOptions::new("mqtt://h")
        .unwrap()
        .subscribe("a/#/b", QoS::AtMostOnce);
    assert!(matches!(bad, Err(Error::Topic(_))), "{bad:?}");
    drop(client);
    t("broker", broker).await.unwrap();
}

/// Garbage instead of the first CONNACK: a typed error, no panic, no retry.
#[tokio::test]
async fn garbage_instead_of_the_connack_is_a_typed_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            read_some(&mut stream).await;
            // A CONNACK whose Remaining Length is 3, not 2.
            let _ = stream.write_all(&[0x20, 0x03, 0x00, 0x00, 0x00]).await;
            let _ = stream.read(&mut [0u8; 16]).await;
        }
    });
    let result = t(
        "connect",
        Client::connect(options(addr, "bad", ProtocolVersion::V3_1_1)),
    )
    .await;
    assert!(matches!(result, Err(Error::Connection(_))), "{result:?}");
}

/// No broker at the address: the error says so.
#[tokio::test]
async fn no_broker_is_connection_refused() {
    let addr = mqtt_testkit::free_addr();
    let result = t(
        "connect",
        Client::connect(options(addr, "none", ProtocolVersion::V5_0)),
    )
    .await;
    match result {
        Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused),
        other => panic!("{other:?}"),
    }
}

/// The broker refuses the CONNECT: its code, no retry.
#[tokio::test]
async fn a_refusing_connack_is_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            read_some(&mut stream).await;
            // v3.1.1 CONNACK 0x05: not authorized.
            let _ = stream.write_all(&[0x20, 0x02, 0x00, 0x05]).await;
        }
    });
    let result = t(
        "connect",
        Client::connect(options(addr, "no", ProtocolVersion::V3_1_1)),
    )
    .await;
    assert!(matches!(result, Err(Error::Refused(5))), "{result:?}");
}

/// A broker that accepts the TCP connection and never answers the
/// CONNECT: the first attempt ends at the connect timeout, with
/// `TimedOut`, and is not retried.
#[tokio::test]
async fn no_connack_within_the_connect_timeout_is_timed_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broker = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        // Reads until the client drops the connection.
        let mut buf = [0u8; 256];
        while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
        listener.accept().await.is_ok()
    });
    let options =
        options(addr, "silent", ProtocolVersion::V5_0).connect_timeout(Duration::from_millis(150));
    let result = t("connect", Client::connect(options)).await;
    match result {
        Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}"),
        other => panic!("{other:?}"),
    }
    let again = tokio::time::timeout(Duration::from_millis(300), broker).await;
    assert!(again.is_err(), "a first attempt is not retried: {again:?}");
}

/// The connect timeout bounds the CONNACK of every attempt: a broker that
/// accepts the first connection, drops it, and then answers no CONNECT
/// ends the client's reconnections with `TimedOut`. The established
/// connection outlived that timeout.
#[tokio::test]
async fn reconnections_without_connack_time_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (lasted, mut outlived) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut first, _) = listener.accept().await.unwrap();
        read_some(&mut first).await;
        first.write_all(&CONNACK).await.unwrap();
        // Three connect timeouts later the connection is still open.
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_millis(300), first.read(&mut buf));
        let _ = lasted.send(read.await.is_err());
        drop(first);
        let mut silent = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            silent.push(stream);
        }
    });
    let reconnect =
        Reconnect::new(Duration::from_millis(10), Duration::from_millis(20)).max_attempts(2);
    let options = options(addr, "late", ProtocolVersion::V3_1_1)
        .reconnect(reconnect)
        .connect_timeout(Duration::from_millis(100));
    let (client, mut messages) = connect(options).await;
    assert!(t("end", messages.recv()).await.is_none());
    assert_eq!(outlived.try_recv(), Ok(true), "connected past the timeout");
    let state = client.state();
    let ClientState::Closed {
        reason: Some(reason),
    } = &state
    else {
        panic!("closed with a reason: {state:?}");
    };
    assert_eq!(reason.io_kind(), std::io::ErrorKind::TimedOut, "{reason:?}");
}

/// `disconnect` during the backoff between attempts ends the client at
/// once, without waiting for the delay or trying again.
#[tokio::test]
async fn disconnect_ends_the_backoff() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broker = tokio::spawn(async move {
        let (mut first, _) = listener.accept().await.unwrap();
        read_some(&mut first).await;
        first.write_all(&CONNACK).await.unwrap();
        drop(first);
        // No other connection is accepted in time.
        tokio::time::timeout(Duration::from_millis(500), listener.accept())
            .await
            .is_ok()
    });
    let reconnect = Reconnect::new(Duration::from_secs(60), Duration::from_secs(60));
    let options = options(addr, "backoff", ProtocolVersion::V3_1_1).reconnect(reconnect);
    let (client, mut messages) = connect(options).await;
    wait_state(&client, "backoff", |s| {
        matches!(s, ClientState::Reconnecting { .. })
    })
    .await;
    t("disconnect", client.disconnect()).await.unwrap();
    assert!(matches!(client.state(), ClientState::Closed { .. }));
    assert!(t("end", messages.recv()).await.is_none());
    assert!(!t("broker", broker).await.unwrap(), "no attempt after");
}
