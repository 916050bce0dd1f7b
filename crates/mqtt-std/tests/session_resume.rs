//! The blocking [`Client`] resumes its session against a scripted broker
//! that writes raw packets: what the Client received of a QoS 2 flow
//! before the connection went away decides what it delivers after.
//!
//! The broker's side is scripted byte by byte so that it can do what a
//! conforming broker does after a restart (send a PUBLISH again with DUP 1
//! and its original identifier, [MQTT-4.4.0-1]) at a chosen point of the
//! flow, deterministically.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use mqtt_codec::ProtocolVersion;
use mqtt_std::{Client, ClientOptions, Reconnect};
use mqtt_testkit::run_with_timeout;

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0];
/// The bound on one wait.
const STEP: Duration = Duration::from_secs(10);
/// The bound on a whole test.
const TEST: Duration = Duration::from_secs(60);

const PUBREC: u8 = 0x50;
const PUBCOMP: u8 = 0x70;

/// One packet: its first byte and its body (Remaining Length read).
fn read_packet(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut byte = [0u8; 1];
    stream.read_exact(&mut byte).expect("a packet's first byte");
    let first = byte[0];
    let (mut len, mut shift) = (0usize, 0);
    loop {
        stream.read_exact(&mut byte).expect("Remaining Length");
        len |= usize::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).expect("a packet's body");
    (first, body)
}

/// The next packet's type and Packet Identifier, which must be a PUBREC
/// or PUBCOMP (4 bytes with Success, in both versions).
fn read_ack(stream: &mut TcpStream) -> (u8, u16) {
    let (first, body) = read_packet(stream);
    assert!(body.len() >= 2, "an acknowledgement: {first:#x} {body:?}");
    (first, u16::from_be_bytes([body[0], body[1]]))
}

/// A CONNACK accepting the connection, with `session_present`.
fn connack(v: ProtocolVersion, session_present: bool) -> Vec<u8> {
    let flags = u8::from(session_present);
    match v {
        ProtocolVersion::V3_1_1 => vec![0x20, 0x02, flags, 0x00],
        // Reason Code 0, no properties.
        ProtocolVersion::V5_0 => vec![0x20, 0x03, flags, 0x00, 0x00],
    }
}

/// A QoS 2 PUBLISH of `payload` to `topic` with identifier `id`.
fn publish_qos2(v: ProtocolVersion, id: u16, dup: bool, topic: &str, payload: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    body.extend_from_slice(topic.as_bytes());
    body.extend_from_slice(&id.to_be_bytes());
    if v == ProtocolVersion::V5_0 {
        body.push(0x00); // no properties
    }
    body.extend_from_slice(payload.as_bytes());
    assert!(body.len() < 128, "one byte of Remaining Length");
    let mut packet = vec![0x34 | if dup { 0x08 } else { 0 }, body.len() as u8];
    packet.extend_from_slice(&body);
    packet
}

/// A PUBREL of `id` (Success, no properties: the same in both versions).
fn pubrel(id: u16) -> [u8; 4] {
    let [hi, lo] = id.to_be_bytes();
    [0x62, 0x02, hi, lo]
}

/// Options for a session that outlives the connection, reconnecting at
/// once.
fn options(addr: std::net::SocketAddr, v: ProtocolVersion) -> ClientOptions {
    ClientOptions::new(&format!("mqtt://{addr}"))
        .unwrap()
        .client_id(format!("resume-{v:?}"))
        .version(v)
        .clean_start(false)
        .session_expiry_interval(3600)
        .reconnect(Reconnect::new(
            Duration::from_millis(10),
            Duration::from_millis(50),
        ))
}

/// Where the first connection ends in the flow of QoS 2 message `id`.
#[derive(Debug, Clone, Copy)]
enum Cut {
    /// After the Client's PUBREC: it holds the identifier (received, not
    /// released).
    AfterPubrec,
    /// Right after the PUBLISH is written, before the Client's answer:
    /// whether the Client read it is up to the race.
    AfterPublish,
}

/// [MQTT-4.3.3-10] (v3.1.1: [MQTT-4.3.3-2]): a QoS 2 PUBLISH whose PUBREL
/// has not come is received again on the next connection of the session,
/// with DUP 1 and its original identifier, as a broker sends it after a
/// restart [MQTT-4.4.0-1]. The Client answers PUBREC again and does not
/// deliver it twice, whether the first connection ended after its PUBREC
/// or before it read the PUBLISH; after its PUBCOMP [MQTT-4.3.3-11] the
/// identifier carries a new message [MQTT-4.3.3-12].
#[test]
fn a_qos2_message_sent_again_after_a_reconnection_is_delivered_once() {
    run_with_timeout(TEST, || {
        for v in VERSIONS {
            for cut in [Cut::AfterPubrec, Cut::AfterPublish] {
                resumes_once(v, cut);
            }
        }
    });
}

fn resumes_once(v: ProtocolVersion, cut: Cut) {
    const ID: u16 = 7;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (acks_tx, acks) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    let broker = std::thread::spawn(move || {
        // The first connection: the PUBLISH, then the end.
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(STEP)).unwrap();
        read_packet(&mut stream); // CONNECT
        stream.write_all(&connack(v, false)).unwrap();
        stream
            .write_all(&publish_qos2(v, ID, false, "r/a", "first"))
            .unwrap();
        if let Cut::AfterPubrec = cut {
            acks_tx.send(read_ack(&mut stream)).unwrap();
        }
        let _ = stream.shutdown(Shutdown::Both);
        drop(stream);
        // The session resumed: the PUBLISH again, then its PUBREL, then a
        // new message with the same identifier.
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(STEP)).unwrap();
        let (first, connect) = read_packet(&mut stream);
        // CONNECT with Clean Start 0: the flags follow "MQTT" and the level.
        acks_tx.send((first, u16::from(connect[7] & 0x02))).unwrap();
        stream.write_all(&connack(v, true)).unwrap();
        stream
            .write_all(&publish_qos2(v, ID, true, "r/a", "first"))
            .unwrap();
        acks_tx.send(read_ack(&mut stream)).unwrap();
        stream.write_all(&pubrel(ID)).unwrap();
        acks_tx.send(read_ack(&mut stream)).unwrap();
        stream
            .write_all(&publish_qos2(v, ID, false, "r/a", "second"))
            .unwrap();
        acks_tx.send(read_ack(&mut stream)).unwrap();
        stream.write_all(&pubrel(ID)).unwrap();
        acks_tx.send(read_ack(&mut stream)).unwrap();
        done_tx.send(()).unwrap();
        // Until the Client disconnects.
        let _ = read_packet(&mut stream);
    });

    let (client, mut messages) = Client::connect(options(addr, v)).expect("connected");
    let first = messages.recv_timeout(STEP).expect("the first message");
    let second = messages.recv_timeout(STEP).expect("the second message");
    let what = format!("{v:?}, cut {cut:?}");
    assert_eq!(String::from_utf8_lossy(first.payload()), "first", "{what}");
    // A duplicate of "first" would come before "second" (one connection,
    // in order, §4.6).
    assert_eq!(
        String::from_utf8_lossy(second.payload()),
        "second",
        "{what}: delivered once"
    );
    done.recv_timeout(STEP).expect("the script ran to its end");
    client.disconnect().unwrap();
    broker.join().expect("the scripted broker");

    let mut seen: Vec<(u8, u16)> = acks.try_iter().collect();
    if let Cut::AfterPubrec = cut {
        assert_eq!(seen.remove(0), (PUBREC, ID), "{what}: PUBREC on the first");
    }
    assert_eq!(
        seen.remove(0),
        (0x10, 0),
        "{what}: CONNECT again, Clean Start 0"
    );
    assert_eq!(
        seen,
        [(PUBREC, ID), (PUBCOMP, ID), (PUBREC, ID), (PUBCOMP, ID)],
        "{what}: PUBREC for the DUP, PUBCOMP for the PUBREL, then the new message's flow"
    );
}
