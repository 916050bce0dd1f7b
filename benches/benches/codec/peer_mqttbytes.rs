//! mqttbytes 0.6: the frozen copy of rumqtt's v4 codec (`mqttbytes::v4`),
//! the Topic Name copied into a `String`.

use bytes::{Bytes, BytesMut};
use mqttbytes::v4::{read, Packet, Publish};
use mqttbytes::QoS;

use crate::common::{packet_id, payload, Encoder, Sink, MAX_SIZE, N, PAYLOAD_LEN, TOPIC};

pub const NAME: &str = "mqttbytes";

/// v3.1.1 (`v4::read`), the packet moved out and kept.
pub fn decode_moved<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut n = 0;
    while !stream.is_empty() {
        let packet = read(stream, MAX_SIZE).unwrap();
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
        match &read(stream, MAX_SIZE) {
            Ok(Packet::Publish(p)) => sink.publish(p.pkid, p.topic.as_bytes(), &p.payload),
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
