//! The hand-written floor: no validation at all, only what any zero-copy
//! decoder must do (take each packet off the buffer as one `Bytes`, one
//! reference count, and find its topic and payload in it) and what any
//! encoder must write (a head assembled once, the packet id, the payload).
//! Not a codec: it shows how close the others get.

use bytes::{BufMut, Bytes, BytesMut};

use crate::common::{packet_id, payload, Encoder, Sink, N, PAYLOAD_LEN, TOPIC};

pub const NAME: &str = "floor";

/// A PUBLISH QoS 1 taken off the buffer: its frame, and where its body
/// starts.
#[derive(Debug)]
pub struct Frame {
    bytes: Bytes,
    header_len: usize,
}

impl Frame {
    /// The packet at the front of `stream`, taken off it; `None` once
    /// `stream` is empty. Assumes whole PUBLISH QoS 1 packets whose
    /// Remaining Length takes at most three bytes.
    #[inline(always)]
    fn next(stream: &mut BytesMut) -> Option<Frame> {
        if stream.len() < 2 {
            return None;
        }
        let b1 = usize::from(stream[1]);
        let (len, header_len) = if b1 < 0x80 {
            (b1, 2)
        } else {
            let b2 = usize::from(stream[2]);
            if b2 < 0x80 {
                (b1 & 0x7F | b2 << 7, 3)
            } else {
                (
                    b1 & 0x7F | (b2 & 0x7F) << 7 | usize::from(stream[3]) << 14,
                    4,
                )
            }
        };
        let bytes = stream.split_to(header_len + len).freeze();
        Some(Frame { bytes, header_len })
    }

    /// Packet id, topic and payload.
    #[inline(always)]
    fn fields(&self) -> (u16, &[u8], &[u8]) {
        let body = &self.bytes[self.header_len..];
        let topic_len = usize::from(u16::from_be_bytes([body[0], body[1]]));
        let id = u16::from_be_bytes([body[2 + topic_len], body[3 + topic_len]]);
        (id, &body[2..2 + topic_len], &body[4 + topic_len..])
    }
}

/// Each frame moved out of the `Option` and kept.
pub fn decode_moved<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut n = 0;
    while let Some(frame) = Frame::next(stream) {
        let (id, topic, payload) = frame.fields();
        sink.publish(id, topic, payload);
        sink.keep(frame);
        n += 1;
    }
    n
}

/// Each frame matched by reference.
pub fn decode_ref<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut n = 0;
    loop {
        match &Frame::next(stream) {
            Some(frame) => {
                let (id, topic, payload) = frame.fields();
                sink.publish(id, topic, payload);
            }
            None => break,
        }
        n += 1;
    }
    n
}

/// Fixed header, topic length and topic of the reference PUBLISH.
const HEAD_LEN: usize = 2 + 2 + TOPIC.len();

/// Encode: the 20-byte head of this one topic assembled once, then
/// `put_u16(id)` and the payload.
pub struct Encoding {
    head: [u8; HEAD_LEN],
    payload: Bytes,
    out: BytesMut,
}

impl Encoding {
    pub fn new(capacity: usize) -> Self {
        let mut head = [0; HEAD_LEN];
        head[0] = 0x32;
        head[1] = (HEAD_LEN + PAYLOAD_LEN) as u8;
        head[2..4].copy_from_slice(&(TOPIC.len() as u16).to_be_bytes());
        head[4..].copy_from_slice(TOPIC.as_bytes());
        Encoding {
            head,
            payload: payload(PAYLOAD_LEN),
            out: BytesMut::with_capacity(capacity),
        }
    }
}

impl Encoder for Encoding {
    fn encode(&mut self) -> &[u8] {
        self.out.clear();
        for i in 0..N {
            self.out.put_slice(&self.head);
            self.out.put_u16(packet_id(i));
            self.out.put_slice(&self.payload);
        }
        &self.out
    }
}
