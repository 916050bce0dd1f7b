//! mqttrs 0.4: borrowed packets (`&str` topic, `&[u8]` payload), v3.1.1
//! only. `decode_slice` does not say how many bytes it used, so the next
//! packet starts where the PUBLISH payload (its last field) ends. It
//! encodes into a `&mut [u8]`, so the reserved buffer is zeroed once.

use bytes::{Bytes, BytesMut};
use mqttrs::{decode_slice, encode_slice, Packet, Pid, Publish, QosPid};

use crate::common::{packet_id, payload, Encoder, Sink, N, PAYLOAD_LEN, TOPIC};

pub const NAME: &str = "mqttrs";

/// The bytes of `rest` that `p` was decoded from.
fn used(rest: &[u8], p: &Publish<'_>) -> usize {
    p.payload.as_ptr_range().end as usize - rest.as_ptr() as usize
}

fn id(p: &Publish<'_>) -> u16 {
    p.qospid.pid().map_or(0, Pid::get)
}

/// `decode_slice`, the borrowed packet moved out and kept.
pub fn decode_moved<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut rest = &stream[..];
    let mut n = 0;
    while !rest.is_empty() {
        let packet = decode_slice(rest).unwrap().unwrap();
        let Packet::Publish(p) = &packet else {
            panic!("not a PUBLISH: {packet:?}")
        };
        sink.publish(id(p), p.topic_name.as_bytes(), p.payload);
        rest = &rest[used(rest, p)..];
        sink.keep(packet);
        n += 1;
    }
    n
}

/// `decode_slice`, the result matched by reference.
pub fn decode_ref<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut rest = &stream[..];
    let mut n = 0;
    while !rest.is_empty() {
        match &decode_slice(rest) {
            Ok(Some(Packet::Publish(p))) => {
                sink.publish(id(p), p.topic_name.as_bytes(), p.payload);
                rest = &rest[used(rest, p)..];
            }
            other => panic!("not a PUBLISH: {other:?}"),
        }
        n += 1;
    }
    n
}

/// Build + encode, and encode alone (the same code: its packet is a struct
/// literal of borrowed fields, nothing to build): `Publish` per packet,
/// then `encode_slice`.
pub struct Encoding {
    payload: Bytes,
    out: Vec<u8>,
    len: usize,
}

impl Encoding {
    pub fn new(capacity: usize) -> Self {
        Encoding {
            payload: payload(PAYLOAD_LEN),
            out: vec![0; capacity],
            len: 0,
        }
    }
}

impl Encoder for Encoding {
    fn encode(&mut self) -> &[u8] {
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
