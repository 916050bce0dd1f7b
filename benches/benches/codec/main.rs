//! Decode and encode throughput of mqtt-codec, side by side with the MQTT
//! codecs people use instead (PEERS.md), each row on the same bytes for
//! every crate, then a few more cases for mqtt-codec alone. Every row is
//! checked and its allocations per packet counted before criterion runs.
//! See README.md ("What is measured") for the rows.
//!
//! One module per crate; `common` holds the workload and the sinks,
//! `harness` the groups of rows.

mod common;
mod floor;
mod harness;
mod ours;
mod ours_alone;
mod peer_mqttbytes;
mod peer_mqttrs;
mod peer_protocol_core;
mod peer_rumqttc;

use criterion::Criterion;
use mqtt_benches::CountingAlloc;
use mqtt_codec::Encode;

use common::{fits_8mb, publish_stream, v5_stream, Expect, N, PAYLOAD_LEN};
use harness::{both, Allocs, Group, Input};
// Short names, so that a crate's rows fit on one line each.
use {floor as fl, ours as us};
use {peer_mqttbytes as mb, peer_mqttrs as rs, peer_protocol_core as pc, peer_rumqttc as rc};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Rows 1 and 2: the reference stream decoded into owned packets, then
/// into borrowed ones; each crate's packet moved out and by reference.
fn v3_decode(reference: &Input) -> [Group; 2] {
    let r = reference;
    let mut owned = Group::new("v3.1.1 PUBLISH decode");
    owned.ways(us::NAME, r, both!(us::decode_moved), both!(us::decode_ref));
    owned.ways(rc::NAME, r, both!(rc::decode_moved), both!(rc::decode_ref));
    owned.ways(mb::NAME, r, both!(mb::decode_moved), both!(mb::decode_ref));
    owned.ways(pc::NAME, r, both!(pc::decode_moved), both!(pc::decode_ref));
    owned.ways(rs::NAME, r, both!(rs::decode_moved), both!(rs::decode_ref));
    owned.ways(fl::NAME, r, both!(fl::decode_moved), both!(fl::decode_ref));

    let mut view = Group::new("v3.1.1 PUBLISH view decode");
    view.ways(us::NAME, r, both!(us::view_moved), both!(us::view_ref));
    view.ways(rs::NAME, r, both!(rs::decode_moved), both!(rs::decode_ref));
    [owned, view]
}

/// Rows 3 and 4: build + encode per packet, and encode alone.
fn v3_encode(reference: &Input) -> [Group; 2] {
    let (bytes, n) = (&reference.stream, reference.n);
    let mut build = Group::new("v3.1.1 PUBLISH build+encode");
    build.encode(us::NAME, bytes, n, us::Building::new);
    build.encode(
        format!("{} Message", us::NAME),
        bytes,
        n,
        us::FromMessage::new,
    );
    build.encode(rc::NAME, bytes, n, rc::Building::new);
    build.encode(mb::NAME, bytes, n, mb::Building::new);
    build.encode(pc::NAME, bytes, n, pc::Building::new);
    build.encode(rs::NAME, bytes, n, rs::Encoding::new);

    let mut encode = Group::new("v3.1.1 PUBLISH encode");
    encode.encode(us::NAME, bytes, n, us::Encoding::new);
    encode.encode(rc::NAME, bytes, n, rc::Encoding::new);
    encode.encode(mb::NAME, bytes, n, mb::Encoding::new);
    encode.encode(pc::NAME, bytes, n, pc::Building::new);
    encode.encode(rs::NAME, bytes, n, rs::Encoding::new);
    encode.encode(fl::NAME, bytes, n, fl::Encoding::new);
    [build, encode]
}

/// Row 5: v5.0 PUBLISH decode, with three properties and with none.
fn v5_decode() -> [Group; 2] {
    [true, false].map(|with_properties| {
        let name = if with_properties {
            "v5.0 PUBLISH decode, 3 properties"
        } else {
            "v5.0 PUBLISH decode, no properties"
        };
        let input = Input {
            stream: v5_stream(with_properties),
            n: N,
            expect: Expect::v5(with_properties),
        };
        let i = &input;
        let mut group = Group::new(name);
        group.ways(us::NAME, i, both!(us::v5_moved), both!(us::v5_ref));
        group.ways(rc::NAME, i, both!(rc::v5_moved), both!(rc::v5_ref));
        group.ways(pc::NAME, i, both!(pc::v5_moved), both!(pc::v5_ref));
        group
    })
}

/// Row 6: mqtt-codec and the floor by payload size, the same loops (by
/// reference) as row 1, on streams of about 8 MB.
fn by_payload_size() -> Group {
    let mut group = Group::new("v3.1.1 PUBLISH decode by payload size");
    for (len, size) in [(PAYLOAD_LEN, "64 B"), (1024, "1 KiB"), (65536, "64 KiB")] {
        let n = fits_8mb(us::publish(len).encoded_len());
        let input = Input {
            stream: publish_stream(n, len),
            n,
            expect: Expect::v3(len),
        };
        group.decode(
            format!("{} {size}", us::NAME),
            &input,
            both!(us::decode_ref),
        );
        group.decode(
            format!("{} {size}", fl::NAME),
            &input,
            both!(fl::decode_ref),
        );
    }
    group
}

fn main() {
    let reference = Input {
        stream: publish_stream(N, PAYLOAD_LEN),
        n: N,
        expect: Expect::v3(PAYLOAD_LEN),
    };
    let mut groups = Vec::new();
    groups.extend(v3_decode(&reference));
    groups.extend(v3_encode(&reference));
    groups.extend(v5_decode());
    groups.push(by_payload_size());
    groups.extend(ours_alone::groups());
    let mut allocs = Allocs::default();
    for group in &groups {
        group.check(&mut allocs);
    }
    allocs.save();

    let mut c = Criterion::default().configure_from_args();
    for group in &groups {
        group.bench(&mut c);
    }
    c.final_summary();
}
