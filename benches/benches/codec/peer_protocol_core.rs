//! mqtt-protocol-core 0.7: its `PacketBuilder` frames the stream (each
//! PUBLISH body copied into an `Arc<[u8]>`), then `Publish::parse(flags,
//! data)` of the version's module parses it (the topic copied into a
//! `String`; v5 properties into a `Vec<Property>`).

use bytes::BytesMut;
use mqtt_protocol_core::mqtt::common::Cursor;
use mqtt_protocol_core::mqtt::connection::{PacketBuildResult, PacketBuilder, PacketData};
use mqtt_protocol_core::mqtt::packet::{v3_1_1, v5_0, Property, Qos};
use mqtt_protocol_core::mqtt::{Arc, ArcPayload, IntoPayload};

use crate::common::{packet_id, payload, Encoder, Sink, N, PAYLOAD_LEN, TOPIC};

pub const NAME: &str = "mqtt-protocol-core";

/// Frames `stream` with a `PacketBuilder` and hands the fixed header flags
/// and body of each PUBLISH to `each`; returns how many there were.
#[inline(always)]
fn for_each_publish(stream: &[u8], mut each: impl FnMut(u8, Arc<[u8]>)) -> usize {
    let mut builder = PacketBuilder::new();
    let mut cursor = Cursor::new(stream);
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
        each(flags, data);
        n += 1;
    }
    n
}

/// v3.1.1 (`v3_1_1::Publish::parse`), the packet moved out and kept.
pub fn decode_moved<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    for_each_publish(stream, |flags, data| {
        let (p, _) = v3_1_1::Publish::parse(flags, data).unwrap();
        let id = p.packet_id().unwrap_or_default();
        sink.publish(id, p.topic_name().as_bytes(), p.payload().as_slice());
        sink.keep(p);
    })
}

/// v3.1.1, the result matched by reference.
pub fn decode_ref<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    for_each_publish(stream, |flags, data| {
        match &v3_1_1::Publish::parse(flags, data) {
            Ok((p, _)) => {
                let id = p.packet_id().unwrap_or_default();
                sink.publish(id, p.topic_name().as_bytes(), p.payload().as_slice())
            }
            Err(e) => panic!("{e:?}"),
        }
    })
}

/// Reads id, topic, payload and the three properties of a v5.0 PUBLISH:
/// its properties are a `Vec<Property>`, searched as its users do.
#[inline(always)]
fn touch_v5<S: Sink>(sink: &mut S, p: &v5_0::Publish) {
    let id = p.packet_id().unwrap_or_default();
    sink.publish(id, p.topic_name().as_bytes(), p.payload().as_slice());
    let properties = p.props();
    sink.properties(
        properties.iter().find_map(|p| match p {
            Property::MessageExpiryInterval(v) => Some(v.val()),
            _ => None,
        }),
        properties.iter().find_map(|p| match p {
            Property::ContentType(v) => Some(v.val()),
            _ => None,
        }),
        properties.iter().filter_map(|p| match p {
            Property::UserProperty(v) => Some((v.key(), v.val())),
            _ => None,
        }),
    );
}

/// v5.0 (`v5_0::Publish::parse`), moved out and kept.
pub fn v5_moved<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    for_each_publish(stream, |flags, data| {
        let (p, _) = v5_0::Publish::parse(flags, data).unwrap();
        touch_v5(sink, &p);
        sink.keep(p);
    })
}

/// v5.0, matched by reference.
pub fn v5_ref<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    for_each_publish(stream, |flags, data| {
        match &v5_0::Publish::parse(flags, data) {
            Ok((p, _)) => touch_v5(sink, p),
            Err(e) => panic!("{e:?}"),
        }
    })
}

/// Build + encode, and encode alone: its PUBLISH has no packet id setter,
/// so changing the id means building the packet again (builder per packet,
/// the topic copied, the payload an `ArcPayload` made once and cloned,
/// its equivalent of a `Bytes`). It encodes to `IoSlice`s (`to_buffers`),
/// copied here into the reserved buffer.
pub struct Building {
    payload: ArcPayload,
    out: BytesMut,
}

impl Building {
    pub fn new(capacity: usize) -> Self {
        Building {
            payload: payload(PAYLOAD_LEN).to_vec().into_payload(),
            out: BytesMut::with_capacity(capacity),
        }
    }
}

impl Encoder for Building {
    fn encode(&mut self) -> &[u8] {
        self.out.clear();
        for i in 0..N {
            let packet = v3_1_1::Publish::builder()
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
