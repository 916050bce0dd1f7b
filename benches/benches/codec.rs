//! Decode and encode throughput of mqtt-codec, side by side with other MQTT
//! codecs on the same bytes (the reference workload of PEERS.md), then a few
//! more cases for mqtt-codec alone. See README.md.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use mqtt_benches::{allocs_per, CountingAlloc};
use mqtt_codec::{v3_1_1, Decoder, Encode, ProtocolVersion, QoS};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Packets in the reference stream.
const N: usize = 100_000;
const TOPIC: &str = "sensors/abc/temp";
const PAYLOAD_LEN: usize = 64;
/// Packet size limit handed to the decoders that take one.
const MAX_SIZE: usize = 1 << 20;

/// Packet ids 1..=65535, cycling.
fn packet_id(i: usize) -> u16 {
    (i % 65_535) as u16 + 1
}

fn payload(len: usize) -> Bytes {
    (0..len).map(|i| i as u8).collect()
}

/// `n` v3.1.1 PUBLISH QoS 1 packets, written by hand from the spec (§3.3):
/// 0x32, Remaining Length, topic, packet id, payload.
fn publish_stream(n: usize, payload_len: usize) -> Vec<u8> {
    let payload = payload(payload_len);
    let mut stream = Vec::new();
    for i in 0..n {
        stream.push(0x32);
        let mut len = 2 + TOPIC.len() + 2 + payload_len;
        while len >= 128 {
            stream.push(len as u8 | 0x80);
            len >>= 7;
        }
        stream.push(len as u8);
        stream.extend_from_slice(&(TOPIC.len() as u16).to_be_bytes());
        stream.extend_from_slice(TOPIC.as_bytes());
        stream.extend_from_slice(&packet_id(i).to_be_bytes());
        stream.extend_from_slice(&payload);
    }
    stream
}

/// One codec under test, on the reference workload.
trait Peer {
    const NAME: &'static str;
    /// Parses every packet of `stream`, touching id, topic and payload;
    /// returns how many there were.
    fn decode(stream: &mut BytesMut) -> usize;
    /// Builds the packet once and reserves `capacity` bytes of output.
    fn new(capacity: usize) -> Self;
    /// Writes `N` packets, the id changed each time, into the reserved
    /// buffer (emptied first), and returns what was written.
    fn encode(&mut self) -> &[u8];
}

/// A v3.1.1 PUBLISH QoS 1 on `TOPIC`, packet id 1.
fn our_publish(payload_len: usize) -> v3_1_1::Publish<u16> {
    v3_1_1::Publish::<u16>::builder()
        .try_topic_name(TOPIC)
        .unwrap()
        .qos(QoS::AtLeastOnce)
        .packet_id(1u16)
        .payload(payload(payload_len))
        .build()
        .unwrap()
}

struct Ours {
    packet: v3_1_1::Publish<u16>,
    out: BytesMut,
}

impl Peer for Ours {
    const NAME: &'static str = "mqtt-codec";
    fn decode(stream: &mut BytesMut) -> usize {
        use mqtt_codec::{v3_1_1::Packet, GenericPacket};
        let mut decoder = Decoder::<u16>::new(ProtocolVersion::V3_1_1);
        let mut n = 0;
        loop {
            match &decoder.decode(stream) {
                Ok(Some(GenericPacket::V3_1_1(Packet::Publish(p)))) => {
                    black_box((p.packet_id(), p.topic_name(), p.payload()));
                }
                Ok(None) => break,
                other => panic!("not a PUBLISH: {other:?}"),
            }
            n += 1;
        }
        n
    }
    fn new(capacity: usize) -> Self {
        let packet = our_publish(PAYLOAD_LEN);
        let out = BytesMut::with_capacity(capacity);
        Ours { packet, out }
    }
    fn encode(&mut self) -> &[u8] {
        self.out.clear();
        for i in 0..N {
            self.packet.set_packet_id(packet_id(i));
            self.packet.encode(&mut self.out).unwrap();
        }
        &self.out
    }
}

struct Rumqttc {
    packet: rumqttc::mqttbytes::v4::Publish,
    out: BytesMut,
}

impl Peer for Rumqttc {
    const NAME: &'static str = "rumqttc";
    fn decode(stream: &mut BytesMut) -> usize {
        use rumqttc::mqttbytes::v4::Packet;
        let mut n = 0;
        while !stream.is_empty() {
            match &Packet::read(stream, MAX_SIZE) {
                Ok(Packet::Publish(p)) => black_box((p.pkid, p.topic.as_str(), &p.payload)),
                other => panic!("not a PUBLISH: {other:?}"),
            };
            n += 1;
        }
        n
    }
    fn new(capacity: usize) -> Self {
        use rumqttc::mqttbytes::{v4::Publish, QoS};
        let packet = Publish::from_bytes(TOPIC, QoS::AtLeastOnce, payload(PAYLOAD_LEN));
        let out = BytesMut::with_capacity(capacity);
        Rumqttc { packet, out }
    }
    fn encode(&mut self) -> &[u8] {
        self.out.clear();
        for i in 0..N {
            self.packet.pkid = packet_id(i);
            self.packet.write(&mut self.out).unwrap();
        }
        &self.out
    }
}

struct Mqttbytes {
    packet: mqttbytes::v4::Publish,
    out: BytesMut,
}

impl Peer for Mqttbytes {
    const NAME: &'static str = "mqttbytes";
    fn decode(stream: &mut BytesMut) -> usize {
        use mqttbytes::v4::{read, Packet};
        let mut n = 0;
        while !stream.is_empty() {
            match &read(stream, MAX_SIZE) {
                Ok(Packet::Publish(p)) => black_box((p.pkid, p.topic.as_str(), &p.payload)),
                other => panic!("not a PUBLISH: {other:?}"),
            };
            n += 1;
        }
        n
    }
    fn new(capacity: usize) -> Self {
        use mqttbytes::{v4::Publish, QoS};
        let packet = Publish::from_bytes(TOPIC, QoS::AtLeastOnce, payload(PAYLOAD_LEN));
        let out = BytesMut::with_capacity(capacity);
        Mqttbytes { packet, out }
    }
    fn encode(&mut self) -> &[u8] {
        self.out.clear();
        for i in 0..N {
            self.packet.pkid = packet_id(i);
            self.packet.write(&mut self.out).unwrap();
        }
        &self.out
    }
}

/// Its PUBLISH has no packet id setter: changing the id means building the
/// packet again. It encodes to `IoSlice`s, copied here into the reserved buffer.
struct ProtocolCore {
    payload: mqtt_protocol_core::mqtt::ArcPayload,
    out: BytesMut,
}

impl Peer for ProtocolCore {
    const NAME: &'static str = "mqtt-protocol-core";
    fn decode(stream: &mut BytesMut) -> usize {
        use mqtt_protocol_core::mqtt::common::Cursor;
        use mqtt_protocol_core::mqtt::connection::{PacketBuildResult, PacketBuilder, PacketData};
        use mqtt_protocol_core::mqtt::packet::v3_1_1::Publish;
        let mut builder = PacketBuilder::new();
        let mut cursor = Cursor::new(&stream[..]);
        let mut n = 0;
        loop {
            let raw = match builder.feed(&mut cursor) {
                PacketBuildResult::Complete(raw) => raw,
                PacketBuildResult::Incomplete => break,
                PacketBuildResult::Error(e) => panic!("{e:?}"),
            };
            let flags = raw.flags();
            let PacketData::Publish(data) = raw.data else {
                panic!("not a PUBLISH")
            };
            let (p, _) = Publish::parse(flags, data).unwrap();
            black_box((p.packet_id(), p.topic_name(), p.payload().as_slice()));
            n += 1;
        }
        n
    }
    fn new(capacity: usize) -> Self {
        use mqtt_protocol_core::mqtt::IntoPayload;
        let payload = payload(PAYLOAD_LEN).to_vec().into_payload();
        let out = BytesMut::with_capacity(capacity);
        ProtocolCore { payload, out }
    }
    fn encode(&mut self) -> &[u8] {
        use mqtt_protocol_core::mqtt::packet::{v3_1_1::Publish, Qos};
        self.out.clear();
        for i in 0..N {
            let packet = Publish::builder()
                .topic_name(TOPIC)
                .unwrap()
                .qos(Qos::AtLeastOnce)
                .packet_id(packet_id(i))
                .payload(self.payload.clone())
                .build()
                .unwrap();
            for slice in packet.to_buffers() {
                self.out.extend_from_slice(&slice);
            }
        }
        &self.out
    }
}

/// Borrowed packets; `decode_slice` does not say how many bytes it used, so
/// the next packet starts where the PUBLISH payload (its last field) ends.
/// It encodes into a `&mut [u8]`, so the reserved buffer is zeroed once.
struct Mqttrs {
    payload: Bytes,
    out: Vec<u8>,
    len: usize,
}

impl Peer for Mqttrs {
    const NAME: &'static str = "mqttrs";
    fn decode(stream: &mut BytesMut) -> usize {
        use mqttrs::{decode_slice, Packet};
        let mut rest = &stream[..];
        let mut n = 0;
        while !rest.is_empty() {
            let Some(Packet::Publish(p)) = decode_slice(rest).unwrap() else {
                panic!("not a PUBLISH")
            };
            black_box((p.qospid.pid(), p.topic_name, p.payload));
            let used = p.payload.as_ptr_range().end as usize - rest.as_ptr() as usize;
            rest = &rest[used..];
            n += 1;
        }
        n
    }
    fn new(capacity: usize) -> Self {
        Mqttrs {
            payload: payload(PAYLOAD_LEN),
            out: vec![0; capacity],
            len: 0,
        }
    }
    fn encode(&mut self) -> &[u8] {
        use mqttrs::{encode_slice, Packet, Pid, Publish, QosPid};
        self.len = 0;
        for i in 0..N {
            let packet = Packet::Publish(Publish {
                dup: false,
                qospid: QosPid::AtLeastOnce(Pid::try_from(packet_id(i)).unwrap()),
                retain: false,
                topic_name: TOPIC,
                payload: &self.payload,
            });
            self.len += encode_slice(&packet, &mut self.out[self.len..]).unwrap();
        }
        &self.out[..self.len]
    }
}

/// The hand-written floor: no validation at all, only what any zero-copy
/// decoder must do (take each packet off the buffer as one `Bytes`, one
/// reference count, and find its topic and payload in it) and what any
/// encoder must write (a head assembled once, the packet id, the payload).
/// Not a codec: it shows how close the others get.
struct Floor {
    head: [u8; HEAD_LEN],
    payload: Bytes,
    out: BytesMut,
}

/// Fixed header, topic length and topic of the reference PUBLISH.
const HEAD_LEN: usize = 2 + 2 + TOPIC.len();

impl Peer for Floor {
    const NAME: &'static str = "floor";
    fn decode(stream: &mut BytesMut) -> usize {
        let mut n = 0;
        while stream.len() >= 2 {
            // Remaining Length of at most two bytes, as in the reference stream.
            let (len, header) = match stream[1] {
                b if b < 0x80 => (usize::from(b), 2),
                b => (usize::from(b & 0x7F) | usize::from(stream[2]) << 7, 3),
            };
            let packet = stream.split_to(header + len).freeze();
            let body = &packet[header..];
            let topic_len = usize::from(u16::from_be_bytes([body[0], body[1]]));
            let id = u16::from_be_bytes([body[2 + topic_len], body[3 + topic_len]]);
            black_box((id, &body[2..2 + topic_len], &body[4 + topic_len..]));
            n += 1;
        }
        n
    }
    fn new(capacity: usize) -> Self {
        let mut head = [0; HEAD_LEN];
        head[0] = 0x32;
        head[1] = (HEAD_LEN + PAYLOAD_LEN) as u8;
        head[2..4].copy_from_slice(&(TOPIC.len() as u16).to_be_bytes());
        head[4..].copy_from_slice(TOPIC.as_bytes());
        let out = BytesMut::with_capacity(capacity);
        Floor {
            head,
            payload: payload(PAYLOAD_LEN),
            out,
        }
    }
    fn encode(&mut self) -> &[u8] {
        use bytes::BufMut;
        self.out.clear();
        for i in 0..N {
            self.out.put_slice(&self.head);
            self.out.put_u16(packet_id(i));
            self.out.put_slice(&self.payload);
        }
        &self.out
    }
}

/// Allocations per packet: printed, and saved for report.py.
#[derive(Default)]
struct Allocs(String);

impl Allocs {
    fn record(&mut self, group: &str, name: &str, per_packet: f64) {
        println!("allocs/packet {group} {name}: {per_packet:.2}");
        self.0 += &format!("{group}\t{name}\t{per_packet:.2}\n");
    }

    /// Writes `allocs.tsv` where criterion writes its results.
    fn save(&self) {
        let dir = match std::env::var_os("CRITERION_HOME") {
            Some(dir) => PathBuf::from(dir),
            None => std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(
                    || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
                    PathBuf::from,
                )
                .join("criterion"),
        };
        let saved = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join("allocs.tsv"), &self.0));
        if let Err(e) = saved {
            eprintln!("cannot save allocs.tsv in {}: {e}", dir.display());
        }
    }
}

/// Checks the peer on the reference stream (outside any timing) and counts
/// its allocations per packet.
fn check_and_count<P: Peer>(stream: &[u8], allocs: &mut Allocs) {
    let mut input = BytesMut::from(stream);
    let mut decoded = 0;
    let decode = allocs_per(N, || decoded = P::decode(&mut input));
    assert_eq!(decoded, N, "{} decoded {decoded} packets", P::NAME);
    allocs.record("decode", P::NAME, decode);

    let mut encoder = P::new(stream.len());
    encoder.encode();
    let encode = allocs_per(N, || {
        encoder.encode();
    });
    assert!(
        encoder.encode() == stream,
        "{} encodes other bytes",
        P::NAME
    );
    allocs.record("encode", P::NAME, encode);
}

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Decodes a fresh copy of `stream` per iteration (the copy is not timed).
fn bench_decode<P: Peer>(group: &mut Group<'_>, stream: &[u8]) {
    group.bench_function(P::NAME, |b| {
        b.iter_batched_ref(
            || BytesMut::from(stream),
            |input| P::decode(input),
            BatchSize::PerIteration,
        )
    });
}

fn bench_encode<P: Peer>(group: &mut Group<'_>, stream: &[u8]) {
    let mut encoder = P::new(stream.len());
    group.bench_function(P::NAME, |b| b.iter(|| encoder.encode().len()));
}

/// Runs `$f::<Peer>($args)` for every peer, ours first.
macro_rules! each_peer {
    ($f:ident($($arg:expr),*)) => {
        $f::<Ours>($($arg),*);
        $f::<Rumqttc>($($arg),*);
        $f::<Mqttbytes>($($arg),*);
        $f::<ProtocolCore>($($arg),*);
        $f::<Mqttrs>($($arg),*);
        $f::<Floor>($($arg),*);
    };
}

/// A case for mqtt-codec alone: a stream of `n` packets of one kind.
struct Case {
    name: &'static str,
    version: ProtocolVersion,
    n: usize,
    stream: Vec<u8>,
    /// Writes the `n` packets again (ids changed each time) into a buffer.
    encode: Box<dyn FnMut(&mut BytesMut)>,
}

impl Case {
    /// `packet`, `set_id` applied before each write, as many times as fit in
    /// about 8 MB (at most `N`).
    fn new<T: Encode + 'static>(
        name: &'static str,
        version: ProtocolVersion,
        mut packet: T,
        mut set_id: impl FnMut(&mut T, u16) + 'static,
    ) -> Self {
        let n = N.min(8_000_000 / packet.encoded_len()).max(1);
        let mut encode = move |out: &mut BytesMut| {
            for i in 0..n {
                set_id(&mut packet, packet_id(i));
                packet.encode(out).unwrap();
            }
        };
        let mut stream = BytesMut::new();
        encode(&mut stream);
        Case {
            name,
            version,
            n,
            stream: stream.to_vec(),
            encode: Box::new(encode),
        }
    }

    /// Parses every packet of `input`; returns how many there were. The
    /// result is matched by reference, as in the `decode` group.
    fn decode(&self, input: &mut BytesMut) -> usize {
        let mut decoder = Decoder::<u16>::new(self.version);
        let mut n = 0;
        loop {
            match &decoder.decode(input) {
                Ok(Some(packet)) => black_box(packet),
                Ok(None) => break,
                Err(e) => panic!("{e}"),
            };
            n += 1;
        }
        n
    }
}

fn ours_cases() -> Vec<Case> {
    use mqtt_codec::properties::{PublishProperties, UserProperty, WillProperties};
    use mqtt_codec::{v5_0, TopicFilter};
    use ProtocolVersion::{V3_1_1, V5_0};

    // Message Expiry, Content Type and the given User Properties.
    let v5_publish = |user_properties: Vec<UserProperty>| {
        v5_0::Publish::<u16>::builder()
            .try_topic_name(TOPIC)
            .unwrap()
            .qos(QoS::AtLeastOnce)
            .packet_id(1u16)
            .properties(PublishProperties {
                message_expiry_interval: Some(3600),
                content_type: Some("application/json".try_into().unwrap()),
                user_properties,
                ..Default::default()
            })
            .payload(payload(PAYLOAD_LEN))
            .build()
            .unwrap()
    };
    let publish_v5 = v5_publish(vec![UserProperty::new("region", "eu-west").unwrap()]);
    // Without a User Property: decoded without allocating.
    let publish_v5_plain = v5_publish(Vec::new());
    let filters = [
        "sensors/+/temp",
        "sensors/abc/#",
        "alerts/#",
        "+/status",
        "cmd/device-42",
    ];
    let mut subscribe = v3_1_1::Subscribe::<u16>::builder();
    let mut subscribe_v5 = v5_0::Subscribe::<u16>::builder();
    for filter in filters {
        subscribe.subscription((TopicFilter::new(filter).unwrap(), QoS::AtLeastOnce));
        subscribe_v5
            .try_subscription(filter, QoS::AtLeastOnce)
            .unwrap();
    }
    let subscribe = subscribe.packet_id(1).build().unwrap();
    let subscribe_v5 = subscribe_v5.packet_id(1).build().unwrap();
    let will = v5_0::Will::builder()
        .try_topic("clients/device-42/status")
        .unwrap()
        .try_payload(&b"offline"[..])
        .unwrap()
        .qos(QoS::AtLeastOnce)
        .retain(true)
        .properties(WillProperties {
            will_delay_interval: Some(30),
            content_type: Some("text/plain".try_into().unwrap()),
            ..Default::default()
        })
        .build()
        .unwrap();
    let connect_v5 = v5_0::Connect::builder()
        .try_client_id("device-42")
        .unwrap()
        .keep_alive(60)
        .will(will)
        .try_user_name("device")
        .unwrap()
        .try_password(&b"secret"[..])
        .unwrap()
        .build()
        .unwrap();

    vec![
        Case::new(
            "v3.1.1 publish 64 B",
            V3_1_1,
            our_publish(PAYLOAD_LEN),
            |p, id| p.set_packet_id(id),
        ),
        Case::new(
            "v3.1.1 publish 1 KiB",
            V3_1_1,
            our_publish(1024),
            |p, id| p.set_packet_id(id),
        ),
        Case::new(
            "v3.1.1 publish 64 KiB",
            V3_1_1,
            our_publish(65536),
            |p, id| p.set_packet_id(id),
        ),
        Case::new("v5 publish with properties", V5_0, publish_v5, |p, id| {
            p.set_packet_id(id)
        }),
        Case::new(
            "v5 publish, no user property",
            V5_0,
            publish_v5_plain,
            |p, id| p.set_packet_id(id),
        ),
        // v3.1.1 SUBSCRIBE has no packet id setter: the same packet each time.
        Case::new("v3.1.1 subscribe 5 filters", V3_1_1, subscribe, |_, _| {}),
        Case::new("v5 subscribe 5 filters", V5_0, subscribe_v5, |p, id| {
            p.set_packet_id(id)
        }),
        Case::new("v5 connect with will", V5_0, connect_v5, |_, _| {}),
    ]
}

fn main() {
    let stream = publish_stream(N, PAYLOAD_LEN);
    let mut allocs = Allocs::default();
    each_peer!(check_and_count(&stream, &mut allocs));
    let mut cases = ours_cases();
    for case in &mut cases {
        let mut input = BytesMut::from(&case.stream[..]);
        let mut decoded = 0;
        let per = allocs_per(case.n, || decoded = case.decode(&mut input));
        assert_eq!(decoded, case.n, "{}: decoded {decoded} packets", case.name);
        allocs.record("ours decode", case.name, per);
        let mut out = BytesMut::with_capacity(case.stream.len());
        let per = allocs_per(case.n, || (case.encode)(&mut out));
        assert!(out == case.stream, "{}: encodes other bytes", case.name);
        allocs.record("ours encode", case.name, per);
    }
    allocs.save();

    // An iteration handles a whole stream (milliseconds): flat sampling.
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("decode");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(N as u64));
    each_peer!(bench_decode(&mut group, &stream));
    group.finish();
    let mut group = c.benchmark_group("encode");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(N as u64));
    each_peer!(bench_encode(&mut group, &stream));
    group.finish();

    let mut group = c.benchmark_group("ours decode");
    group.sampling_mode(SamplingMode::Flat);
    for case in &cases {
        group.throughput(Throughput::Elements(case.n as u64));
        group.bench_function(case.name, |b| {
            b.iter_batched_ref(
                || BytesMut::from(&case.stream[..]),
                |input| case.decode(input),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
    let mut group = c.benchmark_group("ours encode");
    group.sampling_mode(SamplingMode::Flat);
    for case in &mut cases {
        let mut out = BytesMut::with_capacity(case.stream.len());
        group.throughput(Throughput::Elements(case.n as u64));
        group.bench_function(case.name, |b| {
            b.iter(|| {
                out.clear();
                (case.encode)(&mut out);
                out.len()
            })
        });
    }
    group.finish();

    c.final_summary();
}
