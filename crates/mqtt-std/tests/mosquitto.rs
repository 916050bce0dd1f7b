//! Our client against a real broker, `mosquitto`, started by each test on
//! a free loopback port (skipped when it is not installed, unless
//! `MQTT_REQUIRE_MOSQUITTO=1`), both versions.

mod common;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use common::*;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, Decoder, GenericPacket, ProtocolVersion, QoS};
use mqtt_core::role;
use mqtt_std::{Deadline, GenericEndpoint};
use mqtt_testkit::{mosquitto_pub, mosquitto_sub, run_with_timeout, Mosquitto};

fn vflag(version: ProtocolVersion) -> &'static str {
    match version {
        ProtocolVersion::V3_1_1 => "mqttv311",
        ProtocolVersion::V5_0 => "mqttv5",
    }
}

fn id(prefix: &str, version: ProtocolVersion) -> String {
    format!("{prefix}-{}", vflag(version))
}

/// Connect, subscribe with `+` and `#` filters [MQTT-4.7.1-2],
/// [MQTT-4.7.1-3]: exactly the matching messages arrive, in order (§4.6).
#[test]
fn subscribe_with_wildcards() {
    run_with_timeout(TEST, || {
        let Some(broker) = Mosquitto::start("") else {
            return;
        };
        for version in VERSIONS {
            let mut sub = client(
                broker.addr(),
                version,
                &ConnectSpec::new(&id("wsub", version)),
            );
            subscribe_wait(&mut sub, &["sensors/+/temp", "alerts/#"], QoS::AtLeastOnce);
            let mut publ = client(
                broker.addr(),
                version,
                &ConnectSpec::new(&id("wpub", version)),
            );
            for topic in [
                "sensors/k/temp",
                "sensors/k/hum",
                "alerts",
                "alerts/a/b",
                "other",
                "sensors/temp",
                "alerts/end",
            ] {
                publish_on(&mut publ, topic, QoS::AtLeastOnce, topic.as_bytes(), false);
            }
            let mut got = Vec::new();
            loop {
                let msg = recv_publish(&mut sub);
                got.push(msg.topic.clone());
                if msg.topic == "alerts/end" {
                    break;
                }
            }
            assert_eq!(
                got,
                ["sensors/k/temp", "alerts", "alerts/a/b", "alerts/end"],
                "{version:?}"
            );
            publ.close().expect("close");
            sub.close().expect("close");
        }
    });
}

/// QoS 0, 1 and 2 from our client to the broker and from the broker to our
/// client (§4.3): delivered once at the QoS granted, every flow completed
/// (its packet identifier released).
#[test]
fn qos_0_1_2_both_directions() {
    run_with_timeout(TEST, || {
        let Some(broker) = Mosquitto::start("") else {
            return;
        };
        for version in VERSIONS {
            let mut sub = client(
                broker.addr(),
                version,
                &ConnectSpec::new(&id("qsub", version)),
            );
            subscribe_wait(&mut sub, &["q/#"], QoS::ExactlyOnce);
            let mut publ = client(
                broker.addr(),
                version,
                &ConnectSpec::new(&id("qpub", version)),
            );
            for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
                let topic = format!("q/{}", qos as u8);
                publish_on(&mut publ, &topic, qos, b"payload", false);
                match qos {
                    QoS::AtMostOnce => {}
                    QoS::AtLeastOnce => {
                        recv_type(&mut publ, PacketType::Puback);
                    }
                    QoS::ExactlyOnce => {
                        recv_type(&mut publ, PacketType::Pubcomp);
                    }
                }
                let msg = recv_publish(&mut sub);
                assert_eq!(
                    (msg.topic.as_str(), msg.qos, &msg.payload[..]),
                    (topic.as_str(), qos, &b"payload"[..])
                );
                if qos == QoS::ExactlyOnce {
                    // The broker's PUBREL; our PUBCOMP goes out automatically.
                    recv_type(&mut sub, PacketType::Pubrel);
                }
            }
            assert_eq!(publ.connection().session().in_flight_len(), 0);
            assert_eq!(sub.connection().session().in_flight_len(), 0);
            let released = publ
                .take_events()
                .into_iter()
                .filter(|e| matches!(e, mqtt_core::GenericEvent::NotifyPacketIdReleased(_)))
                .count();
            assert_eq!(released, 2, "{version:?}: the QoS 1 and 2 flows end");
            publ.close().expect("close");
            sub.close().expect("close");
        }
    });
}

/// A retained message is kept by the broker and sent, with RETAIN 1, to a
/// later subscriber [MQTT-3.3.1-6], [MQTT-3.3.1-9].
#[test]
fn retained_message() {
    run_with_timeout(TEST, || {
        let Some(broker) = Mosquitto::start("") else {
            return;
        };
        for version in VERSIONS {
            let topic = format!("ret/{}", vflag(version));
            let mut publ = client(
                broker.addr(),
                version,
                &ConnectSpec::new(&id("rpub", version)),
            );
            publish_on(&mut publ, &topic, QoS::AtLeastOnce, b"kept", true);
            recv_type(&mut publ, PacketType::Puback);
            publ.close().expect("close");
            let mut sub = client(
                broker.addr(),
                version,
                &ConnectSpec::new(&id("rsub", version)),
            );
            subscribe_wait(&mut sub, &[&topic], QoS::AtLeastOnce);
            let msg = recv_publish(&mut sub);
            assert_eq!(
                (msg.topic, msg.payload, msg.retain),
                (topic, b"kept".to_vec(), true)
            );
            sub.close().expect("close");
        }
    });
}

/// The Will Message is published when the connection ends without
/// DISCONNECT [MQTT-3.1.2-8], here our client dropped, and not after a
/// DISCONNECT [MQTT-3.1.2-10] (v3.1.1), [MQTT-3.14.4-3] (v5.0).
#[test]
fn will_on_dropped_connection_only() {
    run_with_timeout(TEST, || {
        let Some(broker) = Mosquitto::start("") else {
            return;
        };
        for version in VERSIONS {
            let mut sub = client(
                broker.addr(),
                version,
                &ConnectSpec::new(&id("wsub", version)),
            );
            subscribe_wait(&mut sub, &["will/#"], QoS::AtLeastOnce);
            for (name, drop_it) in [("polite", false), ("dropped", true)] {
                let mut spec = ConnectSpec::new(&id(name, version));
                spec.will = Some((format!("will/{name}"), b"gone".to_vec(), QoS::AtLeastOnce));
                let mut c = client(broker.addr(), version, &spec);
                if drop_it {
                    drop(c);
                } else {
                    c.close().expect("close");
                }
            }
            let msg = recv_publish(&mut sub);
            assert_eq!(
                (msg.topic.as_str(), &msg.payload[..]),
                ("will/dropped", &b"gone"[..]),
                "{version:?}"
            );
            sub.close().expect("close");
        }
    });
}

/// A persistent session (Clean Session 0 / Clean Start 0 with a Session
/// Expiry Interval) keeps the subscription, and the QoS 1 messages
/// published while the client was away arrive on reconnect with Session
/// Present 1 [MQTT-3.1.2-4], [MQTT-3.1.2-5], [MQTT-3.2.2-2].
#[test]
fn persistent_session_receives_what_came_while_away() {
    run_with_timeout(TEST, || {
        let Some(broker) = Mosquitto::start("") else {
            return;
        };
        for version in VERSIONS {
            let mut spec = ConnectSpec::new(&id("persist", version));
            spec.clean = false;
            let topic = format!("away/{}", vflag(version));
            let mut c = client(broker.addr(), version, &spec);
            subscribe_wait(&mut c, &[&topic], QoS::AtLeastOnce);
            c.close().expect("close");
            let mut publ = client(
                broker.addr(),
                version,
                &ConnectSpec::new(&id("ppub", version)),
            );
            for i in 0..3u8 {
                publish_on(&mut publ, &topic, QoS::AtLeastOnce, &[i], false);
                recv_type(&mut publ, PacketType::Puback);
            }
            publ.close().expect("close");
            let mut c = client(broker.addr(), version, &spec);
            assert!(c.connection().session_present(), "{version:?}");
            for i in 0..3u8 {
                assert_eq!(recv_publish(&mut c).payload, [i], "{version:?}");
            }
            c.close().expect("close");
        }
    });
}

/// An idle client keeps the connection alive with PINGREQ sent from inside
/// `recv` [MQTT-3.1.2-23]; the broker answers each [MQTT-3.12.4-1].
#[test]
fn keep_alive_pings_on_idle_connection() {
    run_with_timeout(TEST, || {
        let Some(broker) = Mosquitto::start("") else {
            return;
        };
        for version in VERSIONS {
            let mut spec = ConnectSpec::new(&id("idle", version));
            spec.keep_alive = 2;
            let mut c = client(broker.addr(), version, &spec);
            let start = Instant::now();
            let mut pingresps = 0;
            while start.elapsed() < Duration::from_millis(5000) {
                if let Some(p) = c.recv_timeout(Duration::from_millis(200)).expect("recv") {
                    assert_eq!(p.packet_type(), PacketType::Pingresp);
                    pingresps += 1;
                }
            }
            assert!(pingresps >= 2, "{version:?}: {pingresps} PINGRESP");
            publish_on(&mut c, "still/alive", QoS::AtLeastOnce, b"", false);
            recv_type(&mut c, PacketType::Puback);
            c.close().expect("close");
        }
    });
}

/// A stream that records what is written, to look at the wire.
struct Recording {
    inner: TcpStream,
    written: Arc<Mutex<Vec<u8>>>,
}

impl Read for Recording {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for Recording {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written
            .lock()
            .expect("lock")
            .extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Deadline for Recording {
    fn set_read_deadline(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.set_read_deadline(timeout)
    }
    fn shutdown(&mut self) -> io::Result<()> {
        Deadline::shutdown(&mut self.inner)
    }
}

/// v5.0 Topic Aliases with mosquitto's `max_topic_alias 3`: the CONNACK's
/// Topic Alias Maximum configures the connection; with automatic mapping
/// our PUBLISH packets carry aliases within it [MQTT-3.3.2-9], repeated
/// topics go out with an empty Topic Name (§3.3.2.3.4), and a subscriber
/// receives every message under its full topic.
#[test]
fn topic_aliases_within_broker_maximum() {
    run_with_timeout(TEST, || {
        let Some(broker) = Mosquitto::start("max_topic_alias 3\n") else {
            return;
        };
        let version = ProtocolVersion::V5_0;
        let mut sub = client(broker.addr(), version, &ConnectSpec::new("alias-sub"));
        subscribe_wait(&mut sub, &["alias/#"], QoS::AtLeastOnce);

        let written = Arc::new(Mutex::new(Vec::new()));
        let inner = TcpStream::connect(broker.addr()).expect("connect");
        inner.set_nodelay(true).expect("nodelay");
        let stream = Recording {
            inner,
            written: written.clone(),
        };
        let mut options = auto();
        options.auto_map_topic_alias_send = true;
        options.auto_replace_topic_alias_send = true;
        let (mut publ, _) = GenericEndpoint::<role::Client, Recording>::handshake(
            stream,
            connect(version, &ConnectSpec::new("alias-pub")),
            options,
            STEP,
        )
        .expect("connect");
        publ.set_timeout(Some(STEP));
        assert_eq!(publ.connection().peer_topic_alias_maximum(), 3);
        // Three topics fill the aliases; then a fourth replaces the least
        // recently used mapping, and the first comes back.
        let topics: Vec<String> = [0, 1, 2, 0, 1, 2, 3, 3, 0, 0]
            .iter()
            .map(|i| format!("alias/t{i}"))
            .collect();
        for (i, topic) in topics.iter().enumerate() {
            let packet = publish(
                version,
                topic,
                QoS::AtLeastOnce,
                Some(publ.acquire_packet_id().expect("id")),
                &[i as u8],
                false,
            );
            publ.send_generic(packet).expect("PUBLISH");
            recv_type(&mut publ, PacketType::Puback);
        }
        for (i, topic) in topics.iter().enumerate() {
            let msg = recv_publish(&mut sub);
            assert_eq!((&msg.topic, &msg.payload[..]), (topic, &[i as u8][..]));
        }
        publ.close().expect("close");
        sub.close().expect("close");

        let mut wire = BytesMut::from(&written.lock().expect("lock")[..]);
        let mut decoder = Decoder::<u16>::new(version);
        let (mut aliased, mut empty) = (0, 0);
        while let Some(packet) = decoder.decode(&mut wire).expect("our own bytes decode") {
            if let GenericPacket::V5_0(v5_0::Packet::Publish(p)) = packet {
                let alias = p.topic_alias().expect("every PUBLISH has an alias");
                assert!(alias.get() <= 3, "alias {alias} above the maximum");
                aliased += 1;
                empty += usize::from(p.topic_name().is_empty());
            }
        }
        assert_eq!(aliased, 10);
        assert_eq!(empty, 5, "repeated topics go out by alias only");
    });
}

/// `mosquitto_sub` receives what our client publishes, and our client what
/// `mosquitto_pub` publishes, both versions.
#[test]
fn mosquitto_pub_and_sub_exchange_with_our_client() {
    run_with_timeout(TEST, || {
        let Some(broker) = Mosquitto::start("") else {
            return;
        };
        for version in VERSIONS {
            let v = vflag(version);
            let Some(cli_sub) = mosquitto_sub(
                &broker,
                &["-V", v, "-t", "cli/#", "-q", "1", "-C", "2", "-F", "%t %p"],
            ) else {
                return;
            };
            cli_sub.wait_subscribed(&broker, STEP);
            let mut c = client(
                broker.addr(),
                version,
                &ConnectSpec::new(&id("ours", version)),
            );
            publish_on(&mut c, "cli/a", QoS::AtLeastOnce, b"one", false);
            publish_on(&mut c, "cli/b", QoS::ExactlyOnce, b"two", false);
            // The PUBREL goes out once the PUBREC is read; mosquitto
            // delivers a QoS 2 message when it has the PUBREL.
            recv_type(&mut c, PacketType::Pubcomp);
            assert_eq!(
                cli_sub.wait_messages(STEP),
                ["cli/a one", "cli/b two"],
                "{version:?}"
            );

            subscribe_wait(&mut c, &["fromcli/#"], QoS::ExactlyOnce);
            let out = mosquitto_pub(
                broker.addr(),
                &["-V", v, "-t", "fromcli/x", "-m", "hello", "-q", "2"],
                STEP,
            )
            .expect("mosquitto_pub");
            assert!(out.status.success(), "{out:?}");
            let msg = recv_publish(&mut c);
            assert_eq!(
                (msg.topic.as_str(), &msg.payload[..], msg.qos),
                ("fromcli/x", &b"hello"[..], QoS::ExactlyOnce)
            );
            c.close().expect("close");
        }
    });
}

/// Measures a QoS 1 publish loop against mosquitto (printed, not
/// asserted: tests never assert on time), and checks that the in-flight
/// PUBLISH packets never exceed the broker's Receive Maximum
/// [MQTT-3.3.4-7]: beyond it, messages wait in the core's session queue.
#[test]
fn qos1_publish_loop_rate() {
    run_with_timeout(TEST, || {
        let Some(broker) = Mosquitto::start("max_inflight_messages 20\n") else {
            return;
        };
        const N: usize = 5000;
        for version in VERSIONS {
            let mut c = client(
                broker.addr(),
                version,
                &ConnectSpec::new(&id("rate", version)),
            );
            let max = c.connection().peer_receive_maximum().get() as usize;
            let payload = [0u8; 64];
            let start = Instant::now();
            for _ in 0..N {
                publish_on(&mut c, "rate/x", QoS::AtLeastOnce, &payload, false);
                assert!(c.connection().session().in_flight_len() <= max);
            }
            let session = |c: &mqtt_std::ClientEndpoint| {
                c.connection().session().in_flight_len() + c.connection().session().queue_len()
            };
            while session(&c) > 0 {
                c.recv_timeout(STEP).expect("recv").expect("a PUBACK");
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "mqtt-std {version:?}: QoS 1 publish loop against mosquitto: {N} messages in {secs:.3} s = {:.0} msgs/s (Receive Maximum {max})",
                N as f64 / secs
            );
            c.close().expect("close");
        }
    });
}

/// A QoS 2 flow cut after the PUBREC by a lost connection completes after
/// reconnecting with the session: the core re-sends the PUBREL
/// [MQTT-4.4.0-1], the broker answers PUBCOMP, and the subscriber gets the
/// message exactly once (§4.3.3).
#[test]
fn qos2_cut_by_lost_connection_completes_once_after_reconnect() {
    run_with_timeout(TEST, || {
        let Some(broker) = Mosquitto::start("") else {
            return;
        };
        for version in VERSIONS {
            let topic = format!("cut/{}", vflag(version));
            let mut sub = client(
                broker.addr(),
                version,
                &ConnectSpec::new(&id("csub", version)),
            );
            subscribe_wait(&mut sub, &[&topic], QoS::ExactlyOnce);

            let mut spec = ConnectSpec::new(&id("cut", version));
            spec.clean = false;
            // Manual acknowledgements: the PUBREL is not sent on PUBREC.
            let mut options = auto();
            options.ack = mqtt_core::AckPolicy::Manual;
            let mut publ = client_with(broker.addr(), version, &spec, options);
            publish_on(&mut publ, &topic, QoS::ExactlyOnce, b"once", false);
            recv_type(&mut publ, PacketType::Pubrec);
            assert_eq!(publ.connection().session().in_flight_len(), 1);

            let connack = publ
                .reconnect(broker.addr(), connect(version, &spec), STEP)
                .expect("reconnect");
            assert_eq!(connack.packet_type(), PacketType::Connack);
            assert!(publ.connection().session_present(), "{version:?}");
            recv_type(&mut publ, PacketType::Pubcomp);
            assert_eq!(publ.connection().session().in_flight_len(), 0);
            publish_on(&mut publ, &topic, QoS::AtMostOnce, b"end", false);

            assert_eq!(recv_publish(&mut sub).payload, b"once", "{version:?}");
            assert_eq!(
                recv_publish(&mut sub).payload,
                b"end",
                "{version:?}: a duplicate"
            );
            publ.close().expect("close");
            sub.close().expect("close");
        }
    });
}
