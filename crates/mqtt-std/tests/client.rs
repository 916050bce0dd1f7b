//! The blocking high-level [`Client`]: publish and subscribe returning
//! with the broker's answers, messages received as `Message`s, reconnection
//! with backoff that resumes the session or subscribes again. Against
//! mosquitto (each test starts its own; skipped when it is not installed,
//! unless `MQTT_REQUIRE_MOSQUITTO=1`), through a proxy that cuts the
//! network connections, and against fake brokers that misbehave. Every
//! test body runs under a time bound, so a hang fails; none asserts on
//! time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mqtt_codec::v5_0::PubackReasonCode;
use mqtt_codec::{ProtocolVersion, QoS};
use mqtt_std::{Client, ClientOptions, ClientState, Delivered, Error, Messages, Reconnect};
use mqtt_testkit::mosquitto_log::assert_qos2_explained;
use mqtt_testkit::{run_with_timeout, Cutter, Mosquitto};

mod common;

use common::delivery;

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];
/// The bound on one wait.
const STEP: Duration = Duration::from_secs(10);
/// The bound on a whole test.
const TEST: Duration = Duration::from_secs(120);

/// Options for `addr` as `client_id` on `version`, reconnecting quickly.
fn options(addr: SocketAddr, client_id: &str, version: ProtocolVersion) -> ClientOptions {
    ClientOptions::new(&format!("mqtt://{addr}"))
        .unwrap()
        .client_id(format!("{client_id}-{version:?}"))
        .version(version)
        .reconnect(Reconnect::new(
            Duration::from_millis(20),
            Duration::from_millis(200),
        ))
}

fn connect(options: ClientOptions) -> (Client, Messages) {
    Client::connect(options).expect("connected")
}

/// Waits until the client's state satisfies `pred`.
fn wait_state(client: &Client, what: &str, pred: impl Fn(&ClientState) -> bool) {
    let mut watch = client.watch_state();
    let state = watch.wait_for(Some(STEP), pred);
    assert!(state.is_some(), "{what}: still {:?}", client.state());
}

#[test]
fn publish_and_subscribe_return_with_the_brokers_answers() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    run_with_timeout(TEST, move || {
        for v in VERSIONS {
            let (client, mut messages) = connect(options(broker.addr(), "pubsub", v));
            assert!(matches!(
                client.state(),
                ClientState::Connected {
                    session_present: false
                }
            ));
            assert_eq!(
                client.subscribe("pubsub/#", QoS::ExactlyOnce).unwrap(),
                QoS::ExactlyOnce
            );
            let sent = client.publish("pubsub/0", QoS::AtMostOnce, false, "zero");
            assert_eq!(sent.unwrap(), Delivered::Sent);
            // §4.3.2: the flow of QoS 1 ends at the PUBACK.
            let acked = client.publish("pubsub/1", QoS::AtLeastOnce, false, "one");
            assert_eq!(
                acked.unwrap(),
                Delivered::Acknowledged(PubackReasonCode::Success)
            );
            // §4.3.3: the flow of QoS 2 ends at the PUBCOMP.
            let done = client.publish("pubsub/2", QoS::ExactlyOnce, false, "two");
            assert!(matches!(done.unwrap(), Delivered::Completed(_)));

            for (topic, payload, qos) in [
                ("pubsub/0", "zero", QoS::AtMostOnce),
                ("pubsub/1", "one", QoS::AtLeastOnce),
                ("pubsub/2", "two", QoS::ExactlyOnce),
            ] {
                let m = messages.recv_timeout(STEP).expect("a message");
                assert_eq!(
                    (m.topic_name(), m.payload(), m.qos()),
                    (topic, payload.as_bytes(), qos)
                );
            }

            client.unsubscribe("pubsub/#").unwrap();
            let acked = client.publish("pubsub/1", QoS::AtLeastOnce, false, "x");
            if v == ProtocolVersion::V5_0 {
                // Nobody subscribes now (§3.4.2.1: 0x10).
                let code = PubackReasonCode::NoMatchingSubscribers;
                assert_eq!(acked.unwrap(), Delivered::Acknowledged(code));
            } else {
                assert!(acked.is_ok());
            }
            // [MQTT-4.7.1-1]: a wildcard must be the last level.
            let bad = client.subscribe("a/#/b", QoS::AtMostOnce);
            assert!(matches!(bad, Err(Error::Topic(_))), "{bad:?}");
            // [MQTT-3.3.2-2]: no wildcard in a Topic Name.
            let bad = client.publish("a/+", QoS::AtMostOnce, false, "x");
            assert!(matches!(bad, Err(Error::Topic(_))), "{bad:?}");
            assert!(matches!(client.subscribe_many([]), Err(Error::Build(_))));

            client.disconnect().unwrap();
            assert!(matches!(client.state(), ClientState::Closed { .. }));
            assert!(messages.recv().is_none(), "the end of the messages");
            let after = client.publish("pubsub/1", QoS::AtLeastOnce, false, "late");
            assert!(matches!(after, Err(Error::Closed)), "{after:?}");
            client.disconnect().unwrap();
        }
    });
}

/// A fake broker on loopback: `serve` runs for each connection accepted,
/// numbered from 1; returns the address and the count of connections.
fn fake_broker(
    serve: impl Fn(usize, TcpStream) + Send + 'static,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            serve(n, stream);
        }
    });
    (addr, accepted)
}

/// Reads the CONNECT (any bytes) of a fake broker's connection.
fn read_some(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(STEP));
    let _ = stream.read(&mut [0u8; 256]);
}

/// The v3.1.1 CONNACK of the fake brokers: accepted, no session.
const CONNACK: [u8; 4] = [0x20, 0x02, 0x00, 0x00];

/// A SUBACK whose Return Code is 0x80 fails the subscription (§3.9.3);
/// the filter is not made again later.
#[test]
fn a_refused_subscription_is_rejected() {
    let (addr, _) = fake_broker(|_, mut stream| {
        read_some(&mut stream);
        stream.write_all(&CONNACK).unwrap();
        // SUBSCRIBE 0x82, remaining length, packet id at bytes 2..4.
        let mut buf = [0u8; 64];
        let n = stream.read(&mut buf).unwrap();
        assert!(n >= 4 && buf[0] == 0x82, "a SUBSCRIBE: {:?}", &buf[..n]);
        let suback = [0x90, 0x03, buf[2], buf[3], 0x80];
        stream.write_all(&suback).unwrap();
        let _ = stream.read(&mut buf);
    });
    run_with_timeout(TEST, move || {
        let (client, _messages) = connect(options(addr, "refused", ProtocolVersion::V3_1_1));
        let refused = client.subscribe("secret/#", QoS::AtLeastOnce);
        assert!(matches!(refused, Err(Error::Rejected(0x80))), "{refused:?}");
        client.disconnect().unwrap();
    });
}

/// A subscription in the options leaves right after the CONNECT, before
/// the CONNACK (§3.1.4): this broker answers nothing until both arrived.
#[test]
fn options_subscriptions_go_with_the_connect() {
    run_with_timeout(TEST, || {
        let (addr, _) = fake_broker(|_, mut stream| {
            let _ = stream.set_read_timeout(Some(STEP));
            let mut bytes = Vec::new();
            // CONNECT (0x10), then SUBSCRIBE (0x82): each with a one-byte
            // Remaining Length.
            let subscribe = loop {
                let mut buf = [0u8; 256];
                let n = stream.read(&mut buf).unwrap();
                assert!(n > 0, "the client waits for nothing before SUBSCRIBE");
                bytes.extend_from_slice(&buf[..n]);
                assert_eq!(bytes[0], 0x10, "CONNECT first");
                let after_connect = &bytes[2 + bytes[1] as usize..];
                if after_connect.len() >= 2 && after_connect.len() >= 2 + after_connect[1] as usize
                {
                    assert_eq!(after_connect[0], 0x82, "then SUBSCRIBE");
                    break after_connect[2..2 + after_connect[1] as usize].to_vec();
                }
            };
            assert_eq!(&subscribe[2..], b"\x00\x05pre/#\x01");
            stream.write_all(&CONNACK).unwrap();
            stream
                .write_all(&[0x90, 0x03, subscribe[0], subscribe[1], 0x01])
                .unwrap();
            stream.write_all(b"\x30\x09\x00\x05pre/1hi").unwrap();
            let _ = stream.read(&mut [0u8; 64]);
        });
        let options = options(addr, "pre", ProtocolVersion::V3_1_1)
            .subscribe("pre/#", QoS::AtLeastOnce)
            .unwrap();
        let (client, mut messages) = connect(options);
        let m = messages.recv_timeout(STEP).expect("a message");
        assert_eq!((m.topic_name(), m.payload()), ("pre/1", &b"hi"[..]));
        let bad = ClientOptions::new("mqtt://h")
            .unwrap()
            .subscribe("a/#/b", QoS::AtMostOnce);
        assert!(matches!(bad, Err(Error::Topic(_))), "{bad:?}");
        client.disconnect().unwrap();
    });
}

/// A subscriber and a publisher whose network connections are cut again
/// and again: every publish returns Ok, every QoS 1 message arrives at
/// least once and every QoS 2 message exactly once. The session sends
/// unacknowledged PUBLISH and PUBREL packets again on reconnection
/// [MQTT-4.4.0-1]; the receiver of QoS 2 does not deliver a duplicate
/// [MQTT-4.3.3-10] (v5.0 numbering; v3.1.1 §4.3.3).
///
/// A QoS 2 message may arrive once more for each time mosquitto's log
/// shows it sent the PUBLISH again after its PUBREL (see `restart.rs`),
/// never else. On failure, mosquitto's log is printed.
#[test]
fn cut_connections_lose_nothing() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    run_with_timeout(TEST, move || {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for v in VERSIONS {
                cuts(&broker, v);
            }
        }));
        if let Err(panic) = run {
            eprintln!("mosquitto's log:\n{}", broker.all_logs());
            std::panic::resume_unwind(panic);
        }
    });
}

/// Five cuts of both clients' connections while 200 messages go from the
/// publisher to the subscriber on `v`.
fn cuts(broker: &Mosquitto, v: ProtocolVersion) {
    const N: usize = 200;
    let cutter = Cutter::start(broker.addr());
    let (sub, mut messages) = connect(options(cutter.addr, "cut-sub", v));
    sub.subscribe("cut/#", QoS::ExactlyOnce).unwrap();
    // Its own proxy: the two clients' connections are cut apart.
    let pub_cutter = Cutter::start(broker.addr());
    let (publisher, _unused) = connect(options(pub_cutter.addr, "cut-pub", v));

    let p = publisher.clone();
    let publishing = std::thread::spawn(move || delivery::publish_all(&p, "cut/x", N, 10));
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(40));
        cutter.cut_all();
        pub_cutter.cut_all();
    }
    let outcomes = publishing.join().unwrap();
    for (i, outcome) in outcomes.iter().enumerate() {
        assert!(outcome.is_ok(), "publish {i} on {v:?}: {outcome:?}");
    }
    let seen = delivery::receive_numbered(&mut messages, &publisher, "cut/kick", N);
    let subscriber = format!("cut-sub-{v:?}");
    let log = broker.all_logs();
    assert_qos2_explained(&log, &subscriber, "cut/x", &seen, N, &format!("{v:?}"));
    assert!(
        cutter.accepted() + pub_cutter.accepted() > 2,
        "the connections were cut and made again"
    );
    publisher.disconnect().unwrap();
    sub.disconnect().unwrap();
}

/// A reconnection that finds no session (Session Present 0, §3.2.2.1.1)
/// subscribes again to what the client subscribed.
#[test]
fn resubscribes_when_the_session_is_gone() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    run_with_timeout(TEST, move || {
        for v in VERSIONS {
            let cutter = Cutter::start(broker.addr());
            let forgetful = options(cutter.addr, "resub", v).session_expiry_interval(0);
            let (client, mut messages) = connect(forgetful);
            client.subscribe("resub/#", QoS::AtLeastOnce).unwrap();
            let mut watch = client.watch_state();
            cutter.cut_all();
            let lost = watch.changed(Some(STEP));
            assert!(
                matches!(
                    lost,
                    Some(ClientState::Reconnecting {
                        reason: Some(_),
                        ..
                    })
                ),
                "{lost:?}"
            );
            wait_state(&client, "connected again", |s| {
                matches!(
                    s,
                    ClientState::Connected {
                        session_present: false
                    }
                )
            });
            let (other, _m) = connect(options(broker.addr(), "resub-pub", v));
            // The SUBSCRIBE made again may still be on its way: publish
            // until the message comes through.
            let received = loop {
                other
                    .publish("resub/a", QoS::AtLeastOnce, false, "back")
                    .unwrap();
                if let Ok(m) = messages.recv_timeout(Duration::from_millis(200)) {
                    break m;
                }
            };
            assert_eq!(received.payload(), b"back");
            other.disconnect().unwrap();
            client.disconnect().unwrap();
        }
    });
}

/// While the broker cannot be reached, calls wait in the bounded command
/// queue: `try_publish` errs with `Full` once it is full, and what waited
/// goes out after the reconnection.
#[test]
fn calls_queue_while_disconnected_and_try_publish_reports_full() {
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    run_with_timeout(TEST, move || {
        let v = ProtocolVersion::V5_0;
        let (watcher, mut messages) = connect(options(broker.addr(), "full-sub", v));
        watcher.subscribe("full/#", QoS::AtLeastOnce).unwrap();
        let cutter = Cutter::start(broker.addr());
        let (client, _m) = connect(options(cutter.addr, "full", v).command_capacity(4));
        cutter.refuse(true);
        cutter.cut_all();
        wait_state(&client, "reconnecting", |s| {
            matches!(s, ClientState::Reconnecting { .. })
        });
        for i in 0..4 {
            client
                .try_publish("full/a", QoS::AtLeastOnce, false, format!("{i}"))
                .unwrap();
        }
        let full = client.try_publish("full/a", QoS::AtLeastOnce, false, "4");
        assert!(matches!(full, Err(Error::Full)), "{full:?}");
        cutter.refuse(false);
        let mut got: Vec<_> = (0..4)
            .map(|_| messages.recv_timeout(STEP).expect("a queued message"))
            .map(|m| String::from_utf8(m.payload().to_vec()).unwrap())
            .collect();
        got.sort();
        assert_eq!(got, ["0", "1", "2", "3"]);
        client.disconnect().unwrap();
        watcher.disconnect().unwrap();
    });
}

/// A broker that accepts the first connection and then drops it, and
/// answers every later CONNECT with garbage (a packet type v3.1.1
/// reserves, with a Remaining Length five bytes long where four is the
/// most, §2.2.3): the client backs off between attempts, gives up
/// after its maximum, and ends with a typed reason; no panic, no busy loop
/// (the broker counts exactly the attempts allowed).
#[test]
fn garbage_after_a_loss_backs_off_then_gives_up() {
    let (addr, accepted) = fake_broker(|n, mut stream| {
        read_some(&mut stream);
        if n == 1 {
            stream.write_all(&CONNACK).unwrap();
            std::thread::sleep(Duration::from_millis(50));
        } else {
            let _ = stream.write_all(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]);
            let _ = stream.read(&mut [0u8; 16]);
        }
    });
    run_with_timeout(TEST, move || {
        let reconnect =
            Reconnect::new(Duration::from_millis(10), Duration::from_millis(40)).max_attempts(4);
        let options = options(addr, "garbage", ProtocolVersion::V3_1_1).reconnect(reconnect);
        let (client, mut messages) = connect(options);
        assert!(messages.recv().is_none(), "no messages, then the end");
        let ClientState::Closed {
            reason: Some(reason),
        } = client.state()
        else {
            panic!("closed with a reason: {:?}", client.state());
        };
        assert!(
            matches!(*reason, Error::Connection(_) | Error::Io(_)),
            "a typed reason: {reason:?}"
        );
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1 + 4,
            "the first connection, then 4 attempts and no more"
        );
        let late = client.subscribe("a", QoS::AtMostOnce);
        assert!(matches!(late, Err(Error::Closed)), "{late:?}");
        client.disconnect().unwrap();
    });
}

/// Garbage instead of the first CONNACK (a CONNACK whose Remaining Length
/// is 3, not 2: malformed, §3.2.1): a typed error, no panic, no retry.
#[test]
fn garbage_instead_of_the_connack_is_a_typed_error() {
    let (addr, accepted) = fake_broker(|_, mut stream| {
        read_some(&mut stream);
        let _ = stream.write_all(&[0x20, 0x03, 0x00, 0x00, 0x00]);
        let _ = stream.read(&mut [0u8; 16]);
    });
    run_with_timeout(TEST, move || {
        let result = Client::connect(options(addr, "bad", ProtocolVersion::V3_1_1));
        assert!(matches!(result, Err(Error::Connection(_))), "{result:?}");
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "the first attempt is not retried"
        );
    });
}

/// No broker at the address: the error says so.
#[test]
fn no_broker_is_connection_refused() {
    let addr = mqtt_testkit::free_addr();
    let result = Client::connect(options(addr, "none", ProtocolVersion::V5_0));
    match result {
        Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused),
        other => panic!("{other:?}"),
    }
}

/// The broker refuses the CONNECT (v3.1.1 return code 5, not authorized,
/// §3.2.2.3): its code, no retry.
#[test]
fn a_refusing_connack_is_reported() {
    let (addr, accepted) = fake_broker(|_, mut stream| {
        read_some(&mut stream);
        let _ = stream.write_all(&[0x20, 0x02, 0x00, 0x05]);
    });
    run_with_timeout(TEST, move || {
        let result = Client::connect(options(addr, "no", ProtocolVersion::V3_1_1));
        assert!(matches!(result, Err(Error::Refused(5))), "{result:?}");
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    });
}

/// Messages is an iterator that ends with the client; the handle is
/// `Send + Sync + Clone`.
#[test]
fn messages_iterate_until_the_end() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<Client>();
    let Some(broker) = Mosquitto::start("") else {
        return;
    };
    run_with_timeout(TEST, move || {
        let (client, messages) = connect(options(broker.addr(), "iter", ProtocolVersion::V5_0));
        client.subscribe("iter/#", QoS::AtLeastOnce).unwrap();
        for i in 0..3 {
            client
                .publish("iter/x", QoS::AtLeastOnce, false, format!("{i}"))
                .unwrap();
        }
        let closer = client.clone();
        let payloads: Vec<_> = messages
            .enumerate()
            .map(|(n, m)| {
                if n == 2 {
                    closer.disconnect().unwrap();
                }
                String::from_utf8(m.payload().to_vec()).unwrap()
            })
            .collect();
        assert_eq!(payloads, ["0", "1", "2"]);
    });
}
