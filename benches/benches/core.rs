//! mqtt-core: a server connection's `recv` of one buffer holding 1,000
//! v3.1.1 QoS 1 PUBLISH packets with automatic PUBACK, side by side with
//! mqtt-protocol-core 0.7's `Connection<Server>::recv`; and a connected
//! client's `checked_send` of a QoS 0 PUBLISH (with mqtt-protocol-core's for
//! reference). Checks both sides, prints allocations per packet and a
//! paired measurement (ours and the peer's alternately, ratio per round)
//! before criterion runs. See README.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use mqtt_benches::{allocs_per, CountingAlloc};
use mqtt_codec::{v3_1_1, Encode, GenericPacket, ProtocolVersion, QoS};
use mqtt_core::{role, Connection, ConnectionOptions, ConnectionState, Event, GenericEvent};
use mqtt_protocol_core::mqtt as mpc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// PUBLISH packets in the buffer.
const N: usize = 1_000;
const TOPIC: &str = "sensors/abc/temp";
const PAYLOAD_LEN: usize = 64;
/// `checked_send` calls per measured iteration.
const SENDS: usize = 1_000;
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

fn ours_options() -> ConnectionOptions {
    let mut options = ConnectionOptions::default();
    options.auto_pub_response = true;
    options
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
    let events = server.checked_send(connack);
    assert!(
        matches!(events.first(), Some(GenericEvent::RequestSendPacket { .. })),
        "{events:?}"
    );
    assert_eq!(server.state(), ConnectionState::Connected);
    server
}

/// What a driver does with the events: takes the packets to write (here
/// counted), hands the received PUBLISH packets on (here touched).
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
    fn ours(&mut self, event: &Event) {
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
    fn peer(&mut self, event: &mpc::connection::Event) {
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
    fn check(&self, name: &str) {
        assert_eq!(
            (self.publishes, self.pubacks, self.in_order),
            (N, N, true),
            "{name}: every PUBLISH delivered and acknowledged in order"
        );
    }
}

/// `recv`: one call for the whole buffer, a new event `Vec` each time.
fn ours_recv(server: &mut Connection<role::Server>, input: &mut BytesMut) -> Tally {
    let mut tally = Tally::new();
    let events = server.recv(input);
    for event in &events {
        tally.ours(event);
    }
    drop(events);
    tally
}

/// `recv_into` with an event `Vec` the driver reuses.
fn ours_recv_into(
    server: &mut Connection<role::Server>,
    input: &mut BytesMut,
    events: &mut Vec<Event>,
) -> Tally {
    let mut tally = Tally::new();
    server.recv_into(input, events);
    for event in events.iter() {
        tally.ours(event);
    }
    events.clear();
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

/// Its `recv` takes one packet per call: called until the buffer is consumed,
/// as its users do.
fn peer_recv(server: &mut PeerServer, stream: &[u8]) -> Tally {
    let mut tally = Tally::new();
    let mut cursor = mpc::common::Cursor::new(stream);
    while (cursor.position() as usize) < stream.len() {
        let events = server.recv(&mut cursor);
        for event in &events {
            tally.peer(event);
        }
    }
    tally
}

// ----- checked_send of a QoS 0 PUBLISH on a connected client -----

fn ours_client() -> Connection<role::Client> {
    let mut client = Connection::<role::Client>::new(ProtocolVersion::V3_1_1);
    let connect = v3_1_1::Connect::builder()
        .try_client_id("bench")
        .expect("client id")
        .keep_alive(0)
        .build()
        .expect("CONNECT");
    let events = client.checked_send(connect);
    assert!(matches!(
        events.as_slice(),
        [GenericEvent::RequestSendPacket { .. }]
    ));
    let events = client.recv(&mut BytesMut::from(&CONNACK[..]));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(client.state(), ConnectionState::Connected);
    client
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

/// `checked_send_into` `SENDS` times with a reused event `Vec`.
fn ours_send_into(
    client: &mut Connection<role::Client>,
    publish: &v3_1_1::Publish,
    events: &mut Vec<Event>,
) -> usize {
    let mut sent = 0;
    for _ in 0..SENDS {
        client.checked_send_into(publish.clone(), events);
        for event in events.iter() {
            match event {
                GenericEvent::RequestSendPacket { packet, .. } => {
                    black_box(packet);
                    sent += 1;
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
        events.clear();
    }
    sent
}

/// `checked_send` `SENDS` times (a new event `Vec` per call).
fn ours_send(client: &mut Connection<role::Client>, publish: &v3_1_1::Publish) -> usize {
    let mut sent = 0;
    for _ in 0..SENDS {
        for event in client.checked_send(publish.clone()) {
            match event {
                GenericEvent::RequestSendPacket { packet, .. } => {
                    black_box(packet);
                    sent += 1;
                }
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

fn peer_qos0() -> mpc::packet::v3_1_1::Publish {
    use mpc::IntoPayload;
    mpc::packet::v3_1_1::Publish::builder()
        .topic_name(TOPIC)
        .expect("topic")
        .qos(mpc::packet::Qos::AtMostOnce)
        .payload(payload().into_payload())
        .build()
        .expect("PUBLISH")
}

fn peer_send(client: &mut PeerClient, publish: &mpc::packet::v3_1_1::Publish) -> usize {
    let mut sent = 0;
    for _ in 0..SENDS {
        for event in client.checked_send(publish.clone()) {
            match event {
                mpc::connection::Event::RequestSendPacket { packet, .. } => {
                    black_box(packet);
                    sent += 1;
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
    }
    sent
}

/// Checks every case once, outside any timing, and prints allocations per
/// packet (per call for the sends).
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
    let theirs = mpc::packet::v3_1_1::Publish::builder()
        .topic_name(TOPIC)
        .expect("topic")
        .qos(mpc::packet::Qos::AtLeastOnce)
        .packet_id(1u16)
        .payload(payload())
        .build()
        .expect("PUBLISH")
        .to_continuous_buffer();
    assert_eq!(theirs, stream[..86]);

    println!(
        "size_of: mqtt-core Event {} B, mqtt-codec GenericPacket<u16> {} B",
        std::mem::size_of::<Event>(),
        std::mem::size_of::<GenericPacket<u16>>()
    );
    // Twice each, on the same connection, as criterion will: the second
    // pass is the steady state (and shows nothing accumulates).
    for (keep_alive, suffix) in KEEP_ALIVES {
        let mut server = ours_server(keep_alive);
        for pass in 0..2 {
            let mut input = BytesMut::from(stream);
            let mut tally = Tally::new();
            let per = allocs_per(N, || tally = ours_recv(&mut server, &mut input));
            tally.check("mqtt-core recv");
            assert!(input.is_empty());
            assert_eq!(server.session().unacknowledged_received(), 0);
            // One restart of the receive timer per call.
            assert_eq!(tally.timers, usize::from(keep_alive != 0));
            if pass == 1 {
                println!("allocs/packet core recv mqtt-core{suffix}: {per:.3}");
            }
        }
        let mut server = ours_server(keep_alive);
        let mut events = Vec::new();
        for pass in 0..2 {
            let mut input = BytesMut::from(stream);
            let mut tally = Tally::new();
            let per = allocs_per(N, || {
                tally = ours_recv_into(&mut server, &mut input, &mut events)
            });
            tally.check("mqtt-core recv_into");
            if pass == 1 {
                println!("allocs/packet core recv mqtt-core recv_into{suffix}: {per:.3}");
            }
        }
        let mut server = peer_server(keep_alive);
        for pass in 0..2 {
            let mut tally = Tally::new();
            let per = allocs_per(N, || tally = peer_recv(&mut server, stream));
            tally.check("mqtt-protocol-core recv");
            // One restart per packet (one packet per call).
            assert_eq!(tally.timers, if keep_alive != 0 { N } else { 0 });
            if pass == 1 {
                println!("allocs/packet core recv mqtt-protocol-core{suffix}: {per:.3}");
            }
        }
    }

    let mut client = ours_client();
    let publish = ours_qos0();
    let mut events = Vec::with_capacity(4);
    for pass in 0..2 {
        let mut sent = 0;
        let per = allocs_per(SENDS, || {
            sent = ours_send_into(&mut client, &publish, &mut events)
        });
        assert_eq!(sent, SENDS);
        if pass == 1 {
            println!("allocs/call core send mqtt-core checked_send_into: {per:.3}");
        }
    }
    for pass in 0..2 {
        let mut sent = 0;
        let per = allocs_per(SENDS, || sent = ours_send(&mut client, &publish));
        assert_eq!(sent, SENDS);
        if pass == 1 {
            println!("allocs/call core send mqtt-core checked_send: {per:.3}");
        }
    }
    let mut client = peer_client();
    let publish = peer_qos0();
    for pass in 0..2 {
        let mut sent = 0;
        let per = allocs_per(SENDS, || sent = peer_send(&mut client, &publish));
        assert_eq!(sent, SENDS);
        if pass == 1 {
            println!("allocs/call core send mqtt-protocol-core checked_send: {per:.3}");
        }
    }
}

/// Rounds of [`paired`].
const ROUNDS: usize = 301;

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
    for _ in 0..20 {
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

/// The paired measurements, before criterion's.
fn measure_paired(stream: &[u8]) {
    for (keep_alive, suffix) in KEEP_ALIVES {
        let mut ours = ours_server(keep_alive);
        let mut peer = peer_server(keep_alive);
        paired(
            &format!("core recv{suffix} (ns/packet)"),
            N,
            || {
                let mut input = BytesMut::from(stream);
                let start = Instant::now();
                black_box(ours_recv(&mut ours, &mut input));
                start.elapsed()
            },
            || {
                let start = Instant::now();
                black_box(peer_recv(&mut peer, stream));
                start.elapsed()
            },
        );
        let mut ours = ours_server(keep_alive);
        let mut peer = peer_server(keep_alive);
        let mut events = Vec::new();
        paired(
            &format!("core recv_into{suffix} (ns/packet)"),
            N,
            || {
                let mut input = BytesMut::from(stream);
                let start = Instant::now();
                black_box(ours_recv_into(&mut ours, &mut input, &mut events));
                start.elapsed()
            },
            || {
                let start = Instant::now();
                black_box(peer_recv(&mut peer, stream));
                start.elapsed()
            },
        );
    }
    let (mut ours, ours_publish) = (ours_client(), ours_qos0());
    let (mut peer, peer_publish) = (peer_client(), peer_qos0());
    let mut events = Vec::with_capacity(4);
    paired(
        "core checked_send_into QoS 0 (ns/call)",
        SENDS,
        || {
            let start = Instant::now();
            black_box(ours_send_into(&mut ours, &ours_publish, &mut events));
            start.elapsed()
        },
        || {
            let start = Instant::now();
            black_box(peer_send(&mut peer, &peer_publish));
            start.elapsed()
        },
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
        group.bench_function(format!("mqtt-core{suffix}"), |b| {
            b.iter_batched_ref(
                || BytesMut::from(&stream[..]),
                |input| ours_recv(&mut server, input),
                BatchSize::PerIteration,
            )
        });
        let mut server = ours_server(keep_alive);
        let mut events = Vec::new();
        group.bench_function(format!("mqtt-core recv_into{suffix}"), |b| {
            b.iter_batched_ref(
                || BytesMut::from(&stream[..]),
                |input| ours_recv_into(&mut server, input, &mut events),
                BatchSize::PerIteration,
            )
        });
        let mut server = peer_server(keep_alive);
        group.bench_function(format!("mqtt-protocol-core{suffix}"), |b| {
            b.iter(|| peer_recv(&mut server, &stream))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("core send");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(SENDS as u64));
    let mut client = ours_client();
    let publish = ours_qos0();
    let mut events = Vec::with_capacity(4);
    group.bench_function("mqtt-core checked_send_into", |b| {
        b.iter(|| ours_send_into(&mut client, &publish, &mut events))
    });
    group.bench_function("mqtt-core checked_send", |b| {
        b.iter(|| ours_send(&mut client, &publish))
    });
    let mut client = peer_client();
    let publish = peer_qos0();
    group.bench_function("mqtt-protocol-core checked_send", |b| {
        b.iter(|| peer_send(&mut client, &publish))
    });
    group.finish();

    c.final_summary();
}
