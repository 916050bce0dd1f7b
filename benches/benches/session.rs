//! mqtt-session: packet identifier acquire + release at several fill levels
//! of the u16 range, and the in-flight store (publish, then acknowledge) of
//! 10,000 messages. Prints allocations per operation before criterion runs.
//! See README.md.

use std::hint::black_box;
use std::num::NonZeroU16;

use criterion::{BatchSize, Criterion, Throughput};
use mqtt_benches::{allocs_per, CountingAlloc};
use mqtt_codec::{Message, ProtocolVersion, QoS};
use mqtt_session::{MonotonicTime, Outbound, PacketIdPool, PubrecOutcome, Session};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Messages in the in-flight store case.
const FLOWS: usize = 10_000;
/// Acquire + release pairs per measured batch.
const ROUNDS: usize = 10_000;

/// A pool with `percent` % of the u16 range in use, spread by a fixed
/// pseudo-random sequence (an LCG), so that free identifiers are scattered.
fn filled_pool(percent: u32) -> PacketIdPool<u16> {
    let mut pool = PacketIdPool::<u16>::new();
    let target = (u32::from(u16::MAX) * percent / 100) as usize;
    let mut x: u32 = 12_345;
    while pool.len() < target {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let id = (x >> 16) as u16;
        if id != 0 {
            let _ = pool.register(id);
        }
    }
    pool
}

/// One acquire and the release of the same identifier, `ROUNDS` times.
fn acquire_release(pool: &mut PacketIdPool<u16>) {
    for _ in 0..ROUNDS {
        let id = pool.acquire().expect("a free identifier");
        black_box(id);
        pool.release(id);
    }
}

fn message(qos: QoS) -> Message {
    Message::builder()
        .try_topic_name("sensors/abc/temp")
        .expect("valid")
        .qos(qos)
        .payload(vec![0u8; 64])
        .build()
        .expect("valid")
}

fn connected() -> Session {
    let mut s = Session::new(ProtocolVersion::V3_1_1);
    s.on_connected(false, NonZeroU16::MAX, MonotonicTime::ZERO);
    s
}

/// Publishes `FLOWS` messages (each stored until acknowledged), then
/// acknowledges them all in order: PUBACK for QoS 1, PUBREC then PUBCOMP
/// for QoS 2.
fn store_and_ack(session: &mut Session, message: &Message) {
    let now = MonotonicTime::ZERO;
    let qos = message.qos();
    let mut ids = [0u16; FLOWS];
    for id in ids.iter_mut() {
        match session.publish(message.clone(), now) {
            Ok(Outbound::Send(p)) => *id = p.packet_id().expect("QoS > 0"),
            _ => panic!("sent at once"),
        }
    }
    for &id in &ids {
        if qos == QoS::AtLeastOnce {
            black_box(session.on_puback(id).expect("a flow"));
        } else {
            let outcome = session.on_pubrec(id, false).expect("a flow");
            assert!(matches!(outcome, PubrecOutcome::Release(_)));
            session.on_pubcomp(id).expect("a flow");
        }
    }
    assert_eq!(session.in_flight_len(), 0);
}

fn count_allocations() {
    for percent in [0, 50, 99] {
        let mut pool = filled_pool(percent);
        acquire_release(&mut pool); // the bitset exists now
        let per = allocs_per(ROUNDS, || acquire_release(&mut pool));
        println!("allocs/op acquire+release u16 {percent}% in use: {per:.2}");
    }
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let m = message(qos);
        let mut session = connected();
        let cold = allocs_per(FLOWS, || store_and_ack(&mut session, &m));
        let warm = allocs_per(FLOWS, || store_and_ack(&mut session, &m));
        println!(
            "allocs/op store+ack QoS {} of {FLOWS}: {cold:.4} (new session), {warm:.4} (reused)",
            qos as u8
        );
    }
}

fn main() {
    count_allocations();
    let mut c = Criterion::default().configure_from_args();

    let mut group = c.benchmark_group("session ids");
    group.throughput(Throughput::Elements(ROUNDS as u64));
    for percent in [0, 50, 99] {
        let mut pool = filled_pool(percent);
        group.bench_function(format!("acquire+release u16 {percent}%"), |b| {
            b.iter(|| acquire_release(&mut pool))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("session store");
    group.throughput(Throughput::Elements(FLOWS as u64));
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let m = message(qos);
        let mut session = connected();
        group.bench_function(format!("publish+ack QoS {} x{FLOWS}", qos as u8), |b| {
            b.iter(|| store_and_ack(&mut session, &m))
        });
        group.bench_function(
            format!("publish+ack QoS {} x{FLOWS} new session", qos as u8),
            |b| {
                b.iter_batched(
                    connected,
                    |mut s| store_and_ack(&mut s, &m),
                    BatchSize::LargeInput,
                )
            },
        );
    }
    group.finish();

    c.final_summary();
}
