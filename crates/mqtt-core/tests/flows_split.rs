//! Splitting the byte stream at arbitrary points never changes the packets
//! delivered: the same flow through a link that delivers whole writes and
//! through one that cuts and merges them (a seeded splitter, proptest
//! driving the seed and the flow) gives the same packets on both sides, in
//! both versions and both packet identifier widths.

#[macro_use]
mod pair;

use mqtt_codec::{GenericPacket, PacketId, ProtocolVersion, QoS};
use pair::*;
use proptest::prelude::*;

/// One step of a flow: who sends, what (0..=2 a PUBLISH of that QoS, 3 a
/// PINGREQ from the client or a SUBSCRIBE / SUBACK pair), how many payload
/// bytes, and whether the link is driven after it.
type Step = (bool, u8, usize, bool);

/// What both sides sent and received.
type Outcome<P> = [Vec<GenericPacket<P>>; 4];

fn run<P: PacketId>(v: ProtocolVersion, splitter: Splitter, steps: &[Step]) -> (Outcome<P>, usize) {
    let mut config = PairConfig::new(v);
    config.splitter = splitter;
    let mut pair: Pair<P> = config.build();
    pair.connect_with(connect(v, "split", true, 30), connack(v, false));
    for (i, &(from_client, kind, len, drive)) in steps.iter().enumerate() {
        let from = if from_client {
            Side::Client
        } else {
            Side::Server
        };
        let payload: Vec<u8> = (0..len).map(|b| (b + i) as u8).collect();
        match kind {
            0 => pair.send(
                from,
                publish(v, &format!("s/{i}"), QoS::AtMostOnce, None, &payload),
            ),
            1 | 2 => {
                let qos = if kind == 1 {
                    QoS::AtLeastOnce
                } else {
                    QoS::ExactlyOnce
                };
                let id = pair.acquire(from);
                pair.send(from, publish(v, &format!("s/{i}"), qos, Some(id), &payload));
            }
            _ if from_client => pair.send(Side::Client, pingreq(v)),
            _ => {
                let id = pair.acquire(Side::Client);
                pair.send(Side::Client, subscribe(v, id, "s/#", QoS::ExactlyOnce));
                pair.drive();
                pair.send(Side::Server, suback(v, id, QoS::ExactlyOnce));
            }
        }
        if drive {
            pair.drive();
        }
    }
    pair.drive();
    assert!(pair.client.errors.is_empty(), "{:?}", pair.client.errors);
    assert!(pair.server.errors.is_empty(), "{:?}", pair.server.errors);
    assert!(pair.link_up);
    assert!(pair.client.inbox.is_empty() && pair.server.inbox.is_empty());
    let chunks = pair.chunks;
    (
        [
            pair.client.sent,
            pair.client.received,
            pair.server.sent,
            pair.server.received,
        ],
        chunks,
    )
}

fn same_packets<P: PacketId>(v: ProtocolVersion, seed: u64, steps: &[Step]) {
    let (whole, whole_chunks) = run::<P>(v, Splitter::whole(), steps);
    let (split, split_chunks) = run::<P>(v, Splitter::seeded(seed), steps);
    assert_eq!(whole, split, "seed {seed}");
    assert!(
        split_chunks >= whole_chunks,
        "the splitter cuts: {split_chunks} chunks"
    );
    // Everything sent was received, in order.
    assert_eq!(whole[0], whole[3]);
    assert_eq!(whole[2], whole[1]);
}

fn step() -> impl Strategy<Value = Step> {
    (
        any::<bool>(),
        0u8..4,
        prop_oneof![0usize..8, 100usize..300],
        any::<bool>(),
    )
}

fn version(v5: bool) -> ProtocolVersion {
    if v5 {
        ProtocolVersion::V5_0
    } else {
        ProtocolVersion::V3_1_1
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn splitting_never_changes_packets_u16(
        seed in any::<u64>(),
        v5 in any::<bool>(),
        steps in prop::collection::vec(step(), 1..16),
    ) {
        same_packets::<u16>(version(v5), seed, &steps);
    }

    #[test]
    fn splitting_never_changes_packets_u32(
        seed in any::<u64>(),
        v5 in any::<bool>(),
        steps in prop::collection::vec(step(), 1..16),
    ) {
        same_packets::<u32>(version(v5), seed, &steps);
    }
}

/// [MQTT-4.2-1] (listed as [MQTT-4.2.0-1] too): the connection runs over
/// an ordered, lossless byte stream with no packet boundaries. A fixed flow
/// through 200 seeds, every kind of packet split everywhere and merged:
/// each side receives everything the other sent, in order, as through a
/// link that keeps every write whole.
fn seed_sweep<P: PacketId>(v: ProtocolVersion) {
    let steps: Vec<Step> = (0..12)
        .map(|i| (i % 2 == 0, (i % 4) as u8, [0, 5, 130][i % 3], i % 5 == 0))
        .collect();
    let mut more = 0;
    for seed in 1..=200 {
        let (_, whole) = run::<P>(v, Splitter::whole(), &steps);
        let (_, split) = run::<P>(v, Splitter::seeded(seed), &steps);
        more += usize::from(split > whole);
        same_packets::<P>(v, seed, &steps);
    }
    assert!(more > 150, "most seeds cut packets apart: {more}");
}

matrix!(seed_sweep);
