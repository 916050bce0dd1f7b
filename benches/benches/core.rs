//! mqtt-core against mqtt-protocol-core 0.7, the loops a driver writes:
//!
//! - `core recv`: a server connection's `recv` of 1,000 v3.1.1 QoS 1
//!   PUBLISH packets with automatic PUBACK, fed in 64 KiB reads (the last
//!   packet of a read split across two), every event moved out of the
//!   returned `Vec` and its packet kept (then dropped); `recv_into` with a
//!   reused `Vec` beside it; mqtt-protocol-core's `recv` over the same reads.
//! - `core publish`: a connected v3.1.1 client publishing a 64-byte message
//!   at QoS 0 (`publish(Message)`, `publish_into`, and the packet-level
//!   `checked_send_into`), and at QoS 1 with its PUBACK received (the flow
//!   complete), against mqtt-protocol-core's `checked_send` of the same
//!   PUBLISH (and, at QoS 1, its `acquire_packet_id` and `recv` of the
//!   PUBACK).
//!
//! Checks both sides, prints allocations per packet and a paired
//! measurement (ours and the peer's alternately, ratio per round) before
//! criterion runs. See README.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, SamplingMode, Throughput};
use mqtt_benches::{allocs_per, CountingAlloc};
use mqtt_codec::{v3_1_1, Encode, GenericPacket, Message, ProtocolVersion, QoS, TopicName};
use mqtt_core::{role, Connection, ConnectionOptions, ConnectionState, Event, GenericEvent};
use mqtt_protocol_core::mqtt as mpc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// PUBLISH packets in the buffer.
const N: usize = 1_000;
const TOPIC: &str = "sensors/abc/temp";
const PAYLOAD_LEN: usize = 64;
/// Publishes per measured iteration.
const SENDS: usize = 1_000;
/// The size of one read from the network.
const READ: usize = 64 * 1024;
/// The Keep Alive of the server cases, and the suffix of their names.
const KEEP_ALIVES: [(u16, &str); 2] = [(0, ""), (60, " keep alive 60")];

fn payload() -> Vec<u8> {
    (0..PAYLOAD_LEN).map(|i| i as u8).collect()
}

/// The buffer, written by hand from §3.3: per packet 0x32 (PUBLISH, QoS 1),
/// Remaining Length 84 (2 + 16 topic bytes + 2 id bytes + 64 payload), the
/// topic, the packet id (1..=1000), the payload: 86 bytes.
fn publish_stream() -> Vec<u8> {
    let mut stream = Vec::with_capacity(N * 86);
    for id in 1..=N as u16 {
        stream.extend_from_slice(&[0x32, 84, 0, TOPIC.len() as u8]);
        stream.extend_from_slice(TOPIC.as_bytes());
        stream.extend_from_slice(&id.to_be_bytes());
        stream.extend_from_slice(&payload());
    }
    assert_eq!(stream.len(), N * 86);
    stream
}

/// A v3.1.1 CONNECT, client id "bench", clean session, with `keep_alive`
/// (seconds). With 0 neither side runs a timer and both only do the PUBLISH
/// work; with 60 each side restarts its receive timer as packets arrive.
fn connect_bytes(keep_alive: u16) -> Vec<u8> {
    let connect = v3_1_1::Connect::builder()
        .try_client_id("bench")
        .expect("client id")
        .clean_session(true)
        .keep_alive(keep_alive)
        .build()
        .expect("CONNECT");
    let mut out = Vec::new();
    connect.encode(&mut out).expect("encodes");
    out
}

/// Accepting CONNACK, no session present: 20 02 00 00.
const CONNACK: [u8; 4] = [0x20, 0x02, 0x00, 0x00];

// ----- mqtt-core -----

/// The defaults: acknowledgement on receipt, PINGRESP answered.
fn ours_options() -> ConnectionOptions {
    ConnectionOptions::default()
}

/// A server that received the CONNECT and sent its CONNACK.
fn ours_server(keep_alive: u16) -> Connection<role::Server> {
    let mut server =
        Connection::<role::Server>::with_options(ProtocolVersion::V3_1_1, ours_options());
    let events = server.recv(&mut BytesMut::from(&connect_bytes(keep_alive)[..]));
    assert!(
        matches!(
            events.first(),
            Some(GenericEvent::NotifyPacketReceived(GenericPacket::V3_1_1(
                v3_1_1::Packet::Connect(_)
            )))
        ),
        "{events:?}"
    );
    let connack = v3_1_1::Connack::builder().build().expect("CONNACK");
    let events = server
        .checked_send(connack)
        .expect("a Server sends CONNACK");
    assert!(
        matches!(events.first(), Some(GenericEvent::RequestSendPacket { .. })),
        "{events:?}"
    );
    assert_eq!(server.state(), ConnectionState::Connected);
    server
}

/// What a driver does with the events: takes the packets to write (here
/// counted and dropped), keeps the received PUBLISH packets (here moved out
/// and dropped).
#[derive(Default, Debug, PartialEq, Eq)]
struct Tally {
    /// PUBLISH packets received.
    publishes: usize,
    /// PUBACK packets to send.
    pubacks: usize,
    /// Every PUBACK id was the next one of 1..=N.
    in_order: bool,
    /// Timer restarts asked for (keep alive).
    timers: usize,
}

impl Tally {
    fn new() -> Self {
        Tally {
            in_order: true,
            ..Tally::default()
        }
    }
    /// Reads what a driver reads of each event, by reference.
    fn ours_ref(&mut self, event: &Event) {
        match event {
            GenericEvent::NotifyPacketReceived(GenericPacket::V3_1_1(v3_1_1::Packet::Publish(
                p,
            ))) => {
                black_box((p.packet_id(), p.topic_name(), p.payload()));
                self.publishes += 1;
            }
            GenericEvent::RequestSendPacket {
                packet: GenericPacket::V3_1_1(v3_1_1::Packet::Puback(a)),
                ..
            } => {
                self.pubacks += 1;
                self.in_order &= usize::from(a.packet_id()) == self.pubacks;
            }
            GenericEvent::RequestTimerReset { duration, .. } => {
                black_box(duration);
                self.timers += 1;
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    /// The event moved out and kept (then dropped).
    fn ours(&mut self, event: Event) {
        self.ours_ref(&event);
        drop(black_box(event));
    }
    fn peer_ref(&mut self, event: &mpc::connection::Event) {
        use mpc::connection::Event as E;
        use mpc::packet::Packet as P;
        match event {
            E::NotifyPacketReceived(P::V3_1_1Publish(p)) => {
                black_box((p.packet_id(), p.topic_name(), p.payload().as_slice()));
                self.publishes += 1;
            }
            E::RequestSendPacket {
                packet: P::V3_1_1Puback(a),
                ..
            } => {
                self.pubacks += 1;
                self.in_order &= usize::from(a.packet_id()) == self.pubacks;
            }
            E::RequestTimerReset { duration_ms, .. } => {
                black_box(duration_ms);
                self.timers += 1;
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    fn peer(&mut self, event: mpc::connection::Event) {
        self.peer_ref(&event);
        drop(black_box(event));
    }
    fn check(&self, name: &str) {
        assert_eq!(
            (self.publishes, self.pubacks, self.in_order),
            (N, N, true),
            "{name}: every PUBLISH delivered and acknowledged in order"
        );
    }
}

/// `recv` of each 64 KiB read appended to the driver's buffer; every event
/// moved out of the returned `Vec`.
fn ours_recv(server: &mut Connection<role::Server>, stream: &[u8], input: &mut BytesMut) -> Tally {
    let mut tally = Tally::new();
    for read in stream.chunks(READ) {
        input.extend_from_slice(read);
        for event in server.recv(input) {
            tally.ours(event);
        }
    }
    tally
}

/// The best case beside the user's loop: the whole stream in one buffer,
/// one `recv`, the events read by reference and dropped with their `Vec`.
fn ours_recv_by_ref(server: &mut Connection<role::Server>, input: &mut BytesMut) -> Tally {
    let mut tally = Tally::new();
    let events = server.recv(input);
    for event in &events {
        tally.ours_ref(event);
    }
    tally
}

/// Its best case: one cursor over the whole stream, events by reference.
fn peer_recv_by_ref(server: &mut PeerServer, stream: &[u8]) -> Tally {
    let mut tally = Tally::new();
    let mut cursor = mpc::common::Cursor::new(stream);
    while (cursor.position() as usize) < stream.len() {
        for event in &server.recv(&mut cursor) {
            tally.peer_ref(event);
        }
    }
    tally
}

/// `recv_into` with an event `Vec` the driver reuses, drained.
fn ours_recv_into(
    server: &mut Connection<role::Server>,
    stream: &[u8],
    input: &mut BytesMut,
    events: &mut Vec<Event>,
) -> Tally {
    let mut tally = Tally::new();
    for read in stream.chunks(READ) {
        input.extend_from_slice(read);
        server.recv_into(input, events);
        for event in events.drain(..) {
            tally.ours(event);
        }
    }
    tally
}

// ----- mqtt-protocol-core 0.7 -----

type PeerServer = mpc::Connection<mpc::role::Server>;

fn peer_server(keep_alive: u16) -> PeerServer {
    let mut server = PeerServer::new(mpc::Version::V3_1_1);
    server.set_auto_pub_response(true);
    let connect = connect_bytes(keep_alive);
    let events = server.recv(&mut mpc::common::Cursor::new(&connect[..]));
    assert!(
        events.iter().any(|e| matches!(
            e,
            mpc::connection::Event::NotifyPacketReceived(mpc::packet::Packet::V3_1_1Connect(_))
        )),
        "mqtt-protocol-core CONNECT: {events:?}"
    );
    let connack = mpc::packet::v3_1_1::Connack::builder()
        .session_present(false)
        .return_code(mpc::result_code::ConnectReturnCode::Accepted)
        .build()
        .expect("CONNACK");
    let events = server.checked_send(connack);
    assert!(
        matches!(
            events.first(),
            Some(mpc::connection::Event::RequestSendPacket { .. })
        ),
        "mqtt-protocol-core CONNACK: {events:?}"
    );
    server
}

/// Its `recv` takes at most one packet per call (keeping a partial one
/// until the next read): called until each read is consumed, as its users
/// do. The read is copied into the driver's buffer, as ours is.
fn peer_recv(server: &mut PeerServer, stream: &[u8], buf: &mut [u8]) -> Tally {
    let mut tally = Tally::new();
    for read in stream.chunks(READ) {
        let buf = &mut buf[..read.len()];
        buf.copy_from_slice(read);
        let mut cursor = mpc::common::Cursor::new(&*buf);
        while (cursor.position() as usize) < read.len() {
            for event in server.recv(&mut cursor) {
                tally.peer(event);
            }
        }
    }
    tally
}

// ----- publishing on a connected client -----

fn ours_client() -> Connection<role::Client> {
    let mut client = Connection::<role::Client>::new(ProtocolVersion::V3_1_1);
    let connect = v3_1_1::Connect::builder()
        .try_client_id("bench")
        .expect("client id")
        .keep_alive(0)
        .build()
        .expect("CONNECT");
    let events = client
        .checked_send(connect)
        .expect("a Client sends CONNECT");
    assert!(matches!(
        events.as_slice(),
        [GenericEvent::RequestSendPacket { .. }]
    ));
    let events = client.recv(&mut BytesMut::from(&CONNACK[..]));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(client.state(), ConnectionState::Connected);
    client
}

fn ours_message(qos: QoS) -> Message {
    Message::builder()
        .topic_name(TopicName::from_static(TOPIC).expect("topic"))
        .qos(qos)
        .payload(Bytes::from(payload()))
        .build()
        .expect("message")
}

fn ours_qos0() -> v3_1_1::Publish {
    v3_1_1::Publish::builder()
        .try_topic_name(TOPIC)
        .expect("topic")
        .qos(QoS::AtMostOnce)
        .payload(Bytes::from(payload()))
        .build()
        .expect("PUBLISH")
}

/// Takes the PUBLISH to write out of `events` (the only event a QoS 0
/// publish without keep alive makes); returns how many.
fn written(events: impl IntoIterator<Item = Event>) -> usize {
    let mut sent = 0;
    for event in events {
        match event {
            GenericEvent::RequestSendPacket { packet, .. } => {
                black_box(packet);
                sent += 1;
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    sent
}

/// `publish(message)` `SENDS` times: the loop a user writes.
fn ours_publish(client: &mut Connection<role::Client>, message: &Message) -> usize {
    let mut sent = 0;
    for _ in 0..SENDS {
        let published = client.publish(message.clone()).expect("QoS 0 is sent");
        sent += written(published.events);
    }
    sent
}

/// `publish_into` `SENDS` times with a reused event `Vec`.
fn ours_publish_into(
    client: &mut Connection<role::Client>,
    message: &Message,
    events: &mut Vec<Event>,
) -> usize {
    let mut sent = 0;
    for _ in 0..SENDS {
        let id = client.publish_into(message.clone(), events).expect("sent");
        black_box(id);
        sent += written(events.drain(..));
    }
    sent
}

/// `checked_send_into` of a built PUBLISH `SENDS` times with a reused
/// event `Vec`: the packet-level path.
fn ours_send_into(
    client: &mut Connection<role::Client>,
    publish: &v3_1_1::Publish,
    events: &mut Vec<Event>,
) -> usize {
    let mut sent = 0;
    for _ in 0..SENDS {
        client
            .checked_send_into(publish.clone(), events)
            .expect("QoS 0 is sent");
        sent += written(events.drain(..));
    }
    sent
}

/// A PUBACK for `id`: 40 02 id.
fn puback_bytes(id: u16, buf: &mut BytesMut) {
    buf.extend_from_slice(&[0x40, 0x02]);
    buf.extend_from_slice(&id.to_be_bytes());
}

/// `publish` of a QoS 1 message, then `recv` of its PUBACK, `SENDS` times:
/// the whole flow, its identifier released each time.
fn ours_publish_qos1(
    client: &mut Connection<role::Client>,
    message: &Message,
    input: &mut BytesMut,
) -> usize {
    let mut sent = 0;
    for _ in 0..SENDS {
        let published = client.publish(message.clone()).expect("QoS 1 is sent");
        let id = published.packet_id.expect("numbered");
        sent += written(published.events);
        puback_bytes(id, input);
        for event in client.recv(input) {
            match event {
                GenericEvent::NotifyPacketReceived(packet) => drop(black_box(packet)),
                GenericEvent::NotifyPacketIdReleased(released) => assert_eq!(released, id),
                other => panic!("unexpected event {other:?}"),
            }
        }
    }
    sent
}

/// [`ours_publish_qos1`] with `publish_into` and `recv_into` on one event
/// `Vec` the driver reuses.
fn ours_publish_qos1_into(
    client: &mut Connection<role::Client>,
    message: &Message,
    input: &mut BytesMut,
    events: &mut Vec<Event>,
) -> usize {
    let mut sent = 0;
    for _ in 0..SENDS {
        let id = client
            .publish_into(message.clone(), events)
            .expect("QoS 1 is sent")
            .expect("numbered");
        sent += written(events.drain(..));
        puback_bytes(id, input);
        client.recv_into(input, events);
        for event in events.drain(..) {
            match event {
                GenericEvent::NotifyPacketReceived(packet) => drop(black_box(packet)),
                GenericEvent::NotifyPacketIdReleased(released) => assert_eq!(released, id),
                other => panic!("unexpected event {other:?}"),
            }
        }
    }
    sent
}

type PeerClient = mpc::Connection<mpc::role::Client>;

fn peer_client() -> PeerClient {
    let mut client = PeerClient::new(mpc::Version::V3_1_1);
    let connect = mpc::packet::v3_1_1::Connect::builder()
        .client_id("bench")
        .expect("client id")
        .keep_alive(0)
        .build()
        .expect("CONNECT");
    let _ = client.checked_send(connect);
    let events = client.recv(&mut mpc::common::Cursor::new(&CONNACK[..]));
    assert!(
        matches!(
            events.as_slice(),
            [mpc::connection::Event::NotifyPacketReceived(_)]
        ),
        "mqtt-protocol-core CONNACK: {events:?}"
    );
    client
}

fn peer_publish(qos: mpc::packet::Qos, id: u16) -> mpc::packet::v3_1_1::Publish {
    use mpc::IntoPayload;
    let builder = mpc::packet::v3_1_1::Publish::builder()
        .topic_name(TOPIC)
        .expect("topic")
        .qos(qos);
    let builder = if id == 0 {
        builder
    } else {
        builder.packet_id(id)
    };
    builder
        .payload(payload().into_payload())
        .build()
        .expect("PUBLISH")
}

fn peer_written(events: Vec<mpc::connection::Event>) -> usize {
    let mut sent = 0;
    for event in events {
        match event {
            mpc::connection::Event::RequestSendPacket { packet, .. } => {
                black_box(packet);
                sent += 1;
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    sent
}

fn peer_send(client: &mut PeerClient, publish: &mpc::packet::v3_1_1::Publish) -> usize {
    let mut sent = 0;
    for _ in 0..SENDS {
        sent += peer_written(client.checked_send(publish.clone()));
    }
    sent
}

/// Its QoS 1 flow: `acquire_packet_id`, the PUBLISH built with it (it has
/// no identifier setter: the same code as a fresh build), `checked_send`,
/// then `recv` of the PUBACK.
fn peer_send_qos1(client: &mut PeerClient) -> usize {
    let mut sent = 0;
    for _ in 0..SENDS {
        let id = client.acquire_packet_id().expect("an identifier");
        let publish = peer_publish(mpc::packet::Qos::AtLeastOnce, id);
        sent += peer_written(client.checked_send(publish));
        let mut puback = [0x40, 0x02, 0, 0];
        puback[2..].copy_from_slice(&id.to_be_bytes());
        for event in client.recv(&mut mpc::common::Cursor::new(&puback[..])) {
            match event {
                mpc::connection::Event::NotifyPacketReceived(packet) => drop(black_box(packet)),
                mpc::connection::Event::NotifyPacketIdReleased(released) => {
                    assert_eq!(released, id)
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
    }
    sent
}

/// Checks every case once, outside any timing, and prints allocations per
/// packet (per publish for the clients).
fn check_and_count(stream: &[u8]) {
    // The hand-written buffer is what both codecs write.
    let mut ours = Vec::new();
    v3_1_1::Publish::<u16>::builder()
        .try_topic_name(TOPIC)
        .expect("topic")
        .qos(QoS::AtLeastOnce)
        .packet_id(1)
        .payload(Bytes::from(payload()))
        .build()
        .expect("PUBLISH")
        .encode(&mut ours)
        .expect("encodes");
    assert_eq!(ours, stream[..86]);
    let theirs = peer_publish(mpc::packet::Qos::AtLeastOnce, 1).to_continuous_buffer();
    assert_eq!(theirs, stream[..86]);
    // A read ends inside a packet: the recv loops carry it over.
    assert_ne!(READ % 86, 0);

    println!(
        "size_of: mqtt-core Event {} B, mqtt-codec GenericPacket<u16> {} B",
        std::mem::size_of::<Event>(),
        std::mem::size_of::<GenericPacket<u16>>()
    );
    // Twice each, on the same connection, as criterion will: the second
    // pass is the steady state (and shows nothing accumulates).
    for (keep_alive, suffix) in KEEP_ALIVES {
        let mut server = ours_server(keep_alive);
        let mut input = BytesMut::new();
        for pass in 0..2 {
            let mut tally = Tally::new();
            let per = allocs_per(N, || tally = ours_recv(&mut server, stream, &mut input));
            tally.check("mqtt-core recv");
            assert!(input.is_empty());
            assert_eq!(server.session().unacknowledged_received(), 0);
            // One restart of the receive timer per call (per read).
            let reads = stream.len().div_ceil(READ);
            assert_eq!(tally.timers, if keep_alive != 0 { reads } else { 0 });
            if pass == 1 {
                println!("allocs/packet core recv mqtt-core{suffix}: {per:.4}");
            }
        }
        let mut server = ours_server(keep_alive);
        let mut events = Vec::new();
        for pass in 0..2 {
            let mut tally = Tally::new();
            let per = allocs_per(N, || {
                tally = ours_recv_into(&mut server, stream, &mut input, &mut events)
            });
            tally.check("mqtt-core recv_into");
            if pass == 1 {
                println!("allocs/packet core recv mqtt-core recv_into{suffix}: {per:.4}");
            }
        }
        let mut server = peer_server(keep_alive);
        let mut buf = vec![0; READ];
        for pass in 0..2 {
            let mut tally = Tally::new();
            let per = allocs_per(N, || tally = peer_recv(&mut server, stream, &mut buf));
            tally.check("mqtt-protocol-core recv");
            // One restart per packet (one packet per call).
            assert_eq!(tally.timers, if keep_alive != 0 { N } else { 0 });
            if pass == 1 {
                println!("allocs/packet core recv mqtt-protocol-core{suffix}: {per:.4}");
            }
        }
    }

    let mut client = ours_client();
    let (qos0, qos1, publish) = (
        ours_message(QoS::AtMostOnce),
        ours_message(QoS::AtLeastOnce),
        ours_qos0(),
    );
    let mut events = Vec::with_capacity(4);
    let mut input = BytesMut::new();
    let names = [
        "publish QoS 0",
        "publish_into QoS 0",
        "checked_send_into QoS 0",
        "publish QoS 1 + PUBACK",
        "publish_into QoS 1 + PUBACK",
    ];
    for (case, name) in names.into_iter().enumerate() {
        for pass in 0..2 {
            let mut sent = 0;
            let per = allocs_per(SENDS, || {
                sent = match case {
                    0 => ours_publish(&mut client, &qos0),
                    1 => ours_publish_into(&mut client, &qos0, &mut events),
                    2 => ours_send_into(&mut client, &publish, &mut events),
                    3 => ours_publish_qos1(&mut client, &qos1, &mut input),
                    _ => ours_publish_qos1_into(&mut client, &qos1, &mut input, &mut events),
                }
            });
            assert_eq!(sent, SENDS, "{name}");
            if pass == 1 {
                println!("allocs/publish core publish mqtt-core {name}: {per:.4}");
            }
        }
    }
    assert_eq!(client.session().in_flight_len(), 0);
    let mut client = peer_client();
    let publish = peer_publish(mpc::packet::Qos::AtMostOnce, 0);
    for pass in 0..2 {
        let mut sent = 0;
        let per = allocs_per(SENDS, || sent = peer_send(&mut client, &publish));
        assert_eq!(sent, SENDS);
        if pass == 1 {
            println!("allocs/publish core publish mqtt-protocol-core QoS 0: {per:.4}");
        }
    }
    for pass in 0..2 {
        let mut sent = 0;
        let per = allocs_per(SENDS, || sent = peer_send_qos1(&mut client));
        assert_eq!(sent, SENDS);
        if pass == 1 {
            println!("allocs/publish core publish mqtt-protocol-core QoS 1 + PUBACK: {per:.4}");
        }
    }
}

/// Rounds of [`paired`], and its warm-up rounds before them.
const ROUNDS: usize = 301;
const WARM_UP: usize = 20;

/// Times `ours` and `peer` alternately, `ROUNDS` times after a warm-up,
/// each returning the time of its timed part for `per` operations; prints
/// the median ns per operation of each and the median of the per-round
/// ratios peer / ours (with the 10th and 90th percentiles), which drifts
/// in the machine's load affect far less than separate measurements.
fn paired(
    name: &str,
    per: usize,
    mut ours: impl FnMut() -> Duration,
    mut peer: impl FnMut() -> Duration,
) {
    for _ in 0..WARM_UP {
        ours();
        peer();
    }
    let (mut a, mut b, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let (x, y) = (ours(), peer());
        a.push(x.as_nanos() as f64 / per as f64);
        b.push(y.as_nanos() as f64 / per as f64);
        ratio.push(y.as_secs_f64() / x.as_secs_f64());
    }
    for v in [&mut a, &mut b, &mut ratio] {
        v.sort_by(f64::total_cmp);
    }
    let (mid, p10, p90) = (ROUNDS / 2, ROUNDS / 10, ROUNDS * 9 / 10);
    println!(
        "paired {name}: mqtt-core {:.1} ns, peer {:.1} ns, peer/ours {:.2} (p10 {:.2}, p90 {:.2})",
        a[mid], b[mid], ratio[mid], ratio[p10], ratio[p90]
    );
}

/// The time `f` takes, its result passed to `black_box`.
fn timed(f: impl FnOnce() -> usize) -> Duration {
    let start = Instant::now();
    black_box(f());
    start.elapsed()
}

/// The paired measurements, before criterion's.
fn measure_paired(stream: &[u8]) {
    for (keep_alive, suffix) in KEEP_ALIVES {
        let (mut ours, mut peer) = (ours_server(keep_alive), peer_server(keep_alive));
        let (mut input, mut buf) = (BytesMut::new(), vec![0; READ]);
        paired(
            &format!("core recv{suffix} (ns/packet)"),
            N,
            || timed(|| ours_recv(&mut ours, stream, &mut input).publishes),
            || timed(|| peer_recv(&mut peer, stream, &mut buf).publishes),
        );
        let (mut ours, mut peer) = (ours_server(keep_alive), peer_server(keep_alive));
        paired(
            &format!("core recv whole buffer, by ref (best case){suffix} (ns/packet)"),
            N,
            || {
                let mut input = BytesMut::from(stream);
                timed(|| ours_recv_by_ref(&mut ours, &mut input).publishes)
            },
            || timed(|| peer_recv_by_ref(&mut peer, stream).publishes),
        );
        let (mut ours, mut peer) = (ours_server(keep_alive), peer_server(keep_alive));
        let mut events = Vec::new();
        paired(
            &format!("core recv_into{suffix} (ns/packet)"),
            N,
            || timed(|| ours_recv_into(&mut ours, stream, &mut input, &mut events).publishes),
            || timed(|| peer_recv(&mut peer, stream, &mut buf).publishes),
        );
    }
    let (mut ours, mut peer) = (ours_client(), peer_client());
    let (qos0, qos1) = (
        ours_message(QoS::AtMostOnce),
        ours_message(QoS::AtLeastOnce),
    );
    let peer_qos0 = peer_publish(mpc::packet::Qos::AtMostOnce, 0);
    let mut events = Vec::with_capacity(4);
    let mut input = BytesMut::new();
    paired(
        "core publish QoS 0 (ns/publish)",
        SENDS,
        || timed(|| ours_publish(&mut ours, &qos0)),
        || timed(|| peer_send(&mut peer, &peer_qos0)),
    );
    paired(
        "core publish_into QoS 0 (ns/publish)",
        SENDS,
        || timed(|| ours_publish_into(&mut ours, &qos0, &mut events)),
        || timed(|| peer_send(&mut peer, &peer_qos0)),
    );
    paired(
        "core publish QoS 1 + PUBACK (ns/publish)",
        SENDS,
        || timed(|| ours_publish_qos1(&mut ours, &qos1, &mut input)),
        || timed(|| peer_send_qos1(&mut peer)),
    );
    paired(
        "core publish_into QoS 1 + PUBACK (ns/publish)",
        SENDS,
        || timed(|| ours_publish_qos1_into(&mut ours, &qos1, &mut input, &mut events)),
        || timed(|| peer_send_qos1(&mut peer)),
    );
}

fn main() {
    let stream = publish_stream();
    check_and_count(&stream);
    // Not in `cargo test --benches` (a debug build, each bench run once).
    if std::env::args().any(|a| a == "--bench") {
        measure_paired(&stream);
    }

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("core recv");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(N as u64));
    for (keep_alive, suffix) in KEEP_ALIVES {
        let mut server = ours_server(keep_alive);
        let mut input = BytesMut::new();
        group.bench_function(format!("mqtt-core recv{suffix}"), |b| {
            b.iter(|| ours_recv(&mut server, &stream, &mut input))
        });
        let mut server = ours_server(keep_alive);
        let mut events = Vec::new();
        group.bench_function(format!("mqtt-core recv_into{suffix}"), |b| {
            b.iter(|| ours_recv_into(&mut server, &stream, &mut input, &mut events))
        });
        let mut server = peer_server(keep_alive);
        let mut buf = vec![0; READ];
        group.bench_function(format!("mqtt-protocol-core recv{suffix}"), |b| {
            b.iter(|| peer_recv(&mut server, &stream, &mut buf))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("core publish");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(SENDS as u64));
    let mut client = ours_client();
    let (qos0, qos1, publish) = (
        ours_message(QoS::AtMostOnce),
        ours_message(QoS::AtLeastOnce),
        ours_qos0(),
    );
    let mut events = Vec::with_capacity(4);
    let mut input = BytesMut::new();
    group.bench_function("mqtt-core publish QoS 0", |b| {
        b.iter(|| ours_publish(&mut client, &qos0))
    });
    group.bench_function("mqtt-core publish_into QoS 0", |b| {
        b.iter(|| ours_publish_into(&mut client, &qos0, &mut events))
    });
    group.bench_function("mqtt-core checked_send_into QoS 0", |b| {
        b.iter(|| ours_send_into(&mut client, &publish, &mut events))
    });
    group.bench_function("mqtt-core publish QoS 1 + PUBACK", |b| {
        b.iter(|| ours_publish_qos1(&mut client, &qos1, &mut input))
    });
    group.bench_function("mqtt-core publish_into QoS 1 + PUBACK", |b| {
        b.iter(|| ours_publish_qos1_into(&mut client, &qos1, &mut input, &mut events))
    });
    let mut client = peer_client();
    let publish = peer_publish(mpc::packet::Qos::AtMostOnce, 0);
    group.bench_function("mqtt-protocol-core checked_send QoS 0", |b| {
        b.iter(|| peer_send(&mut client, &publish))
    });
    group.bench_function("mqtt-protocol-core checked_send QoS 1 + PUBACK", |b| {
        b.iter(|| peer_send_qos1(&mut client))
    });
    group.finish();

    c.final_summary();
}
