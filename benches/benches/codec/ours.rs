//! mqtt-codec (this workspace): `Decoder::decode` (owned packets, one
//! `Bytes` each), `Decoder::decode_view` (borrowed), and `Encode::encode`.

use bytes::{Bytes, BytesMut};
use mqtt_codec::{
    v3_1_1, v5_0, Decoder, Encode, GenericPacket, GenericPacketView, Message, ProtocolVersion, QoS,
    TopicName,
};

use crate::common::{packet_id, payload, Encoder, Sink, N, PAYLOAD_LEN, TOPIC};

pub const NAME: &str = "mqtt-codec";

/// v3.1.1, the packet moved out of the `Result` into a local
/// (`let packet = decoder.decode(buf)?.unwrap()`), kept by value.
pub fn decode_moved<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut decoder = Decoder::<u16>::new(ProtocolVersion::V3_1_1);
    let mut n = 0;
    while let Some(packet) = decoder.decode(stream).unwrap() {
        let GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) = &packet else {
            panic!("not a PUBLISH: {packet:?}")
        };
        sink.publish(
            p.packet_id().unwrap_or_default(),
            p.topic_name().as_bytes(),
            p.payload(),
        );
        sink.keep(packet);
        n += 1;
    }
    n
}

/// v3.1.1, the decoder's result matched by reference.
pub fn decode_ref<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut decoder = Decoder::<u16>::new(ProtocolVersion::V3_1_1);
    let mut n = 0;
    loop {
        match &decoder.decode(stream) {
            Ok(Some(GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)))) => sink.publish(
                p.packet_id().unwrap_or_default(),
                p.topic_name().as_bytes(),
                p.payload(),
            ),
            Ok(None) => break,
            other => panic!("not a PUBLISH: {other:?}"),
        }
        n += 1;
    }
    n
}

/// v3.1.1 views: `decode_view` on the rest of the slice, which then
/// advances by the length it returns; the view moved out and kept.
pub fn view_moved<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut decoder = Decoder::<u16>::new(ProtocolVersion::V3_1_1);
    let mut rest = &stream[..];
    let mut n = 0;
    while let Some((packet, used)) = decoder.decode_view(rest).unwrap() {
        let GenericPacketView::V3_1_1(v3_1_1::PacketView::Publish(p)) = &packet else {
            panic!("not a PUBLISH: {packet:?}")
        };
        sink.publish(
            p.packet_id().unwrap_or_default(),
            p.topic_name().as_bytes(),
            p.payload(),
        );
        sink.keep(packet);
        rest = &rest[used..];
        n += 1;
    }
    n
}

/// v3.1.1 views, the result matched by reference.
pub fn view_ref<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut decoder = Decoder::<u16>::new(ProtocolVersion::V3_1_1);
    let mut rest = &stream[..];
    let mut n = 0;
    loop {
        match &decoder.decode_view(rest) {
            Ok(Some((GenericPacketView::V3_1_1(v3_1_1::PacketView::Publish(p)), used))) => {
                sink.publish(
                    p.packet_id().unwrap_or_default(),
                    p.topic_name().as_bytes(),
                    p.payload(),
                );
                rest = &rest[*used..];
            }
            Ok(None) => break,
            other => panic!("not a PUBLISH: {other:?}"),
        }
        n += 1;
    }
    n
}

/// Reads id, topic, payload and the three properties of a v5.0 PUBLISH.
#[inline(always)]
fn touch_v5<S: Sink>(sink: &mut S, p: &v5_0::Publish<u16>) {
    sink.publish(
        p.packet_id().unwrap_or_default(),
        p.topic_name().as_bytes(),
        p.payload(),
    );
    let properties = p.properties();
    sink.properties(
        properties.message_expiry_interval(),
        properties.content_type(),
        properties.user_properties(),
    );
}

/// v5.0, moved out as in [`decode_moved`].
pub fn v5_moved<S: Sink>(stream: &mut BytesMut, sink: &mut S) -> usize {
    let mut decoder = Decoder::<u16>::new(ProtocolVersion::V5_0);
    let mut n = 0;
    while let Some(packet) = decoder.decode(stream).unwrap() {
        let GenericPacket::V5_0(v5_0::Packet::Publish(p)) = &packet else {
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
    let mut decoder = Decoder::<u16>::new(ProtocolVersion::V5_0);
    let mut n = 0;
    loop {
        match &decoder.decode(stream) {
            Ok(Some(GenericPacket::V5_0(v5_0::Packet::Publish(p)))) => touch_v5(sink, p),
            Ok(None) => break,
            other => panic!("not a PUBLISH: {other:?}"),
        }
        n += 1;
    }
    n
}

/// A v3.1.1 PUBLISH QoS 1 on `TOPIC`, packet id 1.
pub fn publish(payload_len: usize) -> v3_1_1::Publish<u16> {
    v3_1_1::Publish::<u16>::builder()
        .topic_name(TopicName::from_static(TOPIC).unwrap())
        .qos(QoS::AtLeastOnce)
        .packet_id(1u16)
        .payload(payload(payload_len))
        .build()
        .unwrap()
}

/// Encode alone: one built packet, `set_packet_id` before each write.
pub struct Encoding {
    packet: v3_1_1::Publish<u16>,
    out: BytesMut,
}

impl Encoding {
    pub fn new(capacity: usize) -> Self {
        Encoding {
            packet: publish(PAYLOAD_LEN),
            out: BytesMut::with_capacity(capacity),
        }
    }
}

impl Encoder for Encoding {
    fn encode(&mut self) -> &[u8] {
        self.out.clear();
        for i in 0..N {
            self.packet.set_packet_id(packet_id(i));
            self.packet.encode(&mut self.out).unwrap();
        }
        &self.out
    }
}

/// Build + encode: the PUBLISH builder per packet, from the `'static`
/// topic and a clone of one `Bytes` payload.
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
            let packet = v3_1_1::Publish::<u16>::builder()
                .topic_name(TopicName::from_static(TOPIC).unwrap())
                .qos(QoS::AtLeastOnce)
                .packet_id(packet_id(i))
                .payload(self.payload.clone())
                .build()
                .unwrap();
            packet.encode(&mut self.out).unwrap();
        }
        &self.out
    }
}

/// Build + encode through a [`Message`]: the message builder per packet,
/// then `Publish::from_message` with the packet id.
pub struct FromMessage {
    payload: Bytes,
    out: BytesMut,
}

impl FromMessage {
    pub fn new(capacity: usize) -> Self {
        FromMessage {
            payload: payload(PAYLOAD_LEN),
            out: BytesMut::with_capacity(capacity),
        }
    }
}

impl Encoder for FromMessage {
    fn encode(&mut self) -> &[u8] {
        self.out.clear();
        for i in 0..N {
            let message = Message::builder()
                .topic_name(TopicName::from_static(TOPIC).unwrap())
                .qos(QoS::AtLeastOnce)
                .payload(self.payload.clone())
                .build()
                .unwrap();
            let packet = v3_1_1::Publish::from_message(message, packet_id(i));
            packet.encode(&mut self.out).unwrap();
        }
        &self.out
    }
}
