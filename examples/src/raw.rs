//! MQTT packets written byte by byte, without the codec: for tools and tests
//! that must send what the codec refuses to build (invalid UTF-8, reserved
//! bits, lengths the broker refuses).

/// Appends `n` as a Variable Byte Integer (§1.5.5).
pub fn varint(mut n: u32, out: &mut Vec<u8>) {
    loop {
        let mut byte = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if n == 0 {
            return;
        }
    }
}

/// A fixed header of `first` byte and the body's length, then the body.
pub fn frame(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    varint(body.len() as u32, &mut out);
    out.extend_from_slice(body);
    out
}

/// Appends a two-byte length and `s` (§1.5.4); `s` need not be UTF-8.
pub fn string(s: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
}

/// A CONNECT with Clean Session / Clean Start and no properties, of v5.0 if
/// `v5`, else v3.1.1.
pub fn connect_packet(v5: bool, client_id: &str, keep_alive: u16) -> Vec<u8> {
    connect_packet_clean(v5, client_id, keep_alive, true)
}

/// [`connect_packet`] with Clean Session / Clean Start `clean` (v5.0 with
/// no Session Expiry Interval: 0 keeps a session only while connected).
pub fn connect_packet_clean(v5: bool, client_id: &str, keep_alive: u16, clean: bool) -> Vec<u8> {
    let mut body = Vec::new();
    string(b"MQTT", &mut body);
    body.push(if v5 { 5 } else { 4 });
    body.push(if clean { 0x02 } else { 0x00 });
    body.extend_from_slice(&keep_alive.to_be_bytes());
    if v5 {
        body.push(0);
    }
    string(client_id.as_bytes(), &mut body);
    frame(0x10, &body)
}

/// A QoS 0 PUBLISH of raw `topic` bytes; `props` are the v5.0 properties
/// (ignored on v3.1.1).
pub fn publish_packet(v5: bool, topic: &[u8], props: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    string(topic, &mut body);
    if v5 {
        varint(props.len() as u32, &mut body);
        body.extend_from_slice(props);
    }
    body.extend_from_slice(payload);
    frame(0x30, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §1.5.5: the examples of the spec's table, one to four bytes.
    #[test]
    fn variable_byte_integers() {
        for (n, bytes) in [
            (0u32, &[0x00][..]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (16_383, &[0xFF, 0x7F]),
            (16_384, &[0x80, 0x80, 0x01]),
            (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ] {
            let mut out = Vec::new();
            varint(n, &mut out);
            assert_eq!(out, bytes, "{n}");
        }
    }

    /// The bytes agree with the codec's decoder for both versions.
    #[test]
    fn connect_and_publish_decode() {
        use bytes::BytesMut;
        use mqtt_codec::{Decoder, ProtocolVersion};
        for (v5, version) in [
            (false, ProtocolVersion::V3_1_1),
            (true, ProtocolVersion::V5_0),
        ] {
            let mut d = Decoder::<u16>::new(version);
            let mut buf = BytesMut::from(&connect_packet(v5, "raw", 30)[..]);
            buf.extend_from_slice(&publish_packet(v5, b"a/b", &[], b"x"));
            let connect = d.decode(&mut buf).unwrap().unwrap();
            assert_eq!(connect.packet_type(), mqtt_codec::wire::PacketType::Connect);
            let publish = d.decode(&mut buf).unwrap().unwrap();
            assert_eq!(publish.packet_type(), mqtt_codec::wire::PacketType::Publish);
            assert!(buf.is_empty());
        }
    }

    /// `connect_packet_clean` sets Clean Session / Clean Start as asked.
    #[test]
    fn connect_packets_carry_the_clean_flag() {
        use bytes::BytesMut;
        use mqtt_codec::{v3_1_1, v5_0, Decoder, GenericPacket, ProtocolVersion};
        for clean in [false, true] {
            let mut buf = BytesMut::from(&connect_packet_clean(false, "c", 60, clean)[..]);
            let d = Decoder::<u16>::new(ProtocolVersion::V3_1_1).decode(&mut buf);
            let Ok(Some(GenericPacket::V3_1_1(v3_1_1::Packet::Connect(c)))) = d else {
                panic!("{d:?}");
            };
            assert_eq!(c.clean_session(), clean);
            let mut buf = BytesMut::from(&connect_packet_clean(true, "c", 60, clean)[..]);
            let d = Decoder::<u16>::new(ProtocolVersion::V5_0).decode(&mut buf);
            let Ok(Some(GenericPacket::V5_0(v5_0::Packet::Connect(c)))) = d else {
                panic!("{d:?}");
            };
            assert_eq!(c.clean_start(), clean);
        }
    }
}
