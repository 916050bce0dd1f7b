//! rumqttc 0.25 (`default-features = false`): its v4 codec
//! (`rumqttc::mqttbytes::v4`) and its v5 codec
//! (`rumqttc::v5::mqttbytes::v5`). The v4 Topic Name is copied into a
//! `String`; the v5 one is a `Bytes` slice of the frame, not checked as
//! UTF-8. v5 properties are parsed into a struct (`String`s and a `Vec`).

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::v4::{Packet, Publish};
use rumqttc::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5 as rumqttc_v5;

use crate::common::{packet_id, payload, Encoder, Sink, MAX_SIZE, N, PAYLOAD_LEN, TOPIC};

pub const NAME: &str = "rumqttc";

/// v3.1.1 (`Packet::read`), the packet moved out and kept.
pub fn decode_moved<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut n = 0;
    while !stream.is_empty() {
        let packet = Packet::read(stream, MAX_SIZE).unwrap();
        let Packet::Publish(p) = &packet else {
            panic!("not a PUBLISH: {packet:?}")
        };
        sink.publish(p.pkid, p.topic.as_bytes(), &p.payload);
        sink.keep(packet);
        n += 1;
    }
    n
}

/// v3.1.1, the result matched by reference.
pub fn decode_ref<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut n = 0;
    while !stream.is_empty() {
        match &Packet::read(stream, MAX_SIZE) {
            Ok(Packet::Publish(p)) => sink.publish(p.pkid, p.topic.as_bytes(), &p.payload),
            other => panic!("not a PUBLISH: {other:?}"),
        }
        n += 1;
    }
    n
}

/// Reads id, topic, payload and the three properties of a v5.0 PUBLISH.
#[inline(always)]
fn touch_v5<S: Sink>(sink: &mut S, p: &rumqttc_v5::Publish) {
    sink.publish(p.pkid, &p.topic, &p.payload);
    let properties = p.properties.as_ref();
    sink.properties(
        properties.and_then(|p| p.message_expiry_interval),
        properties.and_then(|p| p.content_type.as_deref()),
        properties
            .into_iter()
            .flat_map(|p| &p.user_properties)
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
}

/// The largest packet accepted, as `Packet::read` of v5 takes it.
const MAX_SIZE_V5: Option<u32> = Some(MAX_SIZE as u32);

/// v5.0 (`v5::mqttbytes::v5::Packet::read`), moved out and kept.
pub fn v5_moved<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut n = 0;
    while !stream.is_empty() {
        let packet = rumqttc_v5::Packet::read(stream, MAX_SIZE_V5).unwrap();
        let rumqttc_v5::Packet::Publish(p) = &packet else {
            panic!("not a PUBLISH: {packet:?}")
        };
        touch_v5(sink, p);
        sink.keep(packet);
        n += 1;
    }
    n
}

/// v5.0, matched by reference.
pub fn v5_ref<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut n = 0;
    while !stream.is_empty() {
        match &rumqttc_v5::Packet::read(stream, MAX_SIZE_V5) {
            Ok(rumqttc_v5::Packet::Publish(p)) => touch_v5(sink, p),
            other => panic!("not a PUBLISH: {other:?}"),
        }
        n += 1;
    }
    n
}

/// Encode alone: one built packet, `pkid` set before each `write`.
pub struct Encoding {
    packet: Publish,
    out: BytesMut,
}

impl Encoding {
    pub fn new(capacity: usize) -> Self {
        Encoding {
            packet: Publish::from_bytes(TOPIC, QoS::AtLeastOnce, payload(PAYLOAD_LEN)),
            out: BytesMut::with_capacity(capacity),
        }
    }
}

impl Encoder for Encoding {
    fn encode(&mut self) -> &[u8] {
        self.out.clear();
        for i in 0..N {
            self.packet.pkid = packet_id(i);
            self.packet.write(&mut self.out).unwrap();
        }
        &self.out
    }
}

/// Build + encode: `Publish::from_bytes` per packet (the topic copied into
/// a `String`), `pkid` set, `write`.
pub struct Building {
    payload: Bytes,
    out: BytesMut,
}

impl Building {
    pub fn new(capacity: usize) -> Self {
        Building {
            payload: payload(PAYLOAD_LEN),
            out: BytesMut::with_capacity(capacity),
        }
    }
}

impl Encoder for Building {
    fn encode(&mut self) -> &[u8] {
        self.out.clear();
        for i in 0..N {
            let mut packet = Publish::from_bytes(TOPIC, QoS::AtLeastOnce, self.payload.clone());
            packet.pkid = packet_id(i);
            packet.write(&mut self.out).unwrap();
        }
        &self.out
    }
}
