//! The rules of UTF-8 Encoded Strings (v3.1.1 §1.5.3, v5.0 §1.5.4) and of
//! the Client Identifier (§3.1.3.1), on both versions, through the public
//! [`Decoder`]: each case is a packet written byte by byte, as a peer would
//! send it, with the string under test in each string field a packet can
//! carry (Client Identifier, User Name, Topic Name, Topic Filter).

mod common;

use bytes::BytesMut;
use common::{encode, VERSIONS};
use mqtt_codec::{v3_1_1, v5_0, DecodeError, Decoder, GenericPacket, ProtocolVersion};

/// `bytes` with a Two Byte Integer length in front (§1.5.2).
fn prefixed(bytes: &[u8]) -> Vec<u8> {
    let len = u16::try_from(bytes.len()).expect("test strings are short");
    [&len.to_be_bytes()[..], bytes].concat()
}

/// A packet: the first byte of its fixed header, then `body` after a
/// one-byte Remaining Length.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let len = u8::try_from(body.len()).expect("test packets are short");
    assert!(len < 0x80, "a one-byte Remaining Length");
    [&[first, len][..], body].concat()
}

/// A CONNECT of `version` with CleanSession / Clean Start, a User Name and
/// no properties.
fn connect(version: ProtocolVersion, client_id: &[u8], user_name: &[u8]) -> Vec<u8> {
    let mut body = b"\x00\x04MQTT".to_vec();
    match version {
        ProtocolVersion::V3_1_1 => body.extend_from_slice(&[0x04, 0x82, 0x00, 0x00]),
        _ => body.extend_from_slice(&[0x05, 0x82, 0x00, 0x00, 0x00]),
    }
    body.extend(prefixed(client_id));
    body.extend(prefixed(user_name));
    packet(0x10, &body)
}

/// A QoS 0 PUBLISH of `version` to `topic`, with payload `hi`.
fn publish(version: ProtocolVersion, topic: &[u8]) -> Vec<u8> {
    let mut body = prefixed(topic);
    if version == ProtocolVersion::V5_0 {
        body.push(0x00);
    }
    body.extend_from_slice(b"hi");
    packet(0x30, &body)
}

/// A SUBSCRIBE (`first` 0x82) or UNSUBSCRIBE (0xA2) of `version`, packet
/// identifier 1, with the one Topic Filter `filter` (and for SUBSCRIBE
/// QoS 0).
fn filter_packet(version: ProtocolVersion, first: u8, filter: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, 0x01];
    if version == ProtocolVersion::V5_0 {
        body.push(0x00);
    }
    body.extend(prefixed(filter));
    if first == 0x82 {
        body.push(0x00);
    }
    packet(first, &body)
}

/// Where a string goes: a name, and the packet of `version` carrying the
/// string `s` in that field.
type Place = (&'static str, fn(ProtocolVersion, &[u8]) -> Vec<u8>);

/// Every string field of the cases, each in a packet that is otherwise
/// well-formed.
const PLACES: [Place; 5] = [
    ("client id", |v, s| connect(v, s, b"u")),
    ("user name", |v, s| connect(v, b"c", s)),
    ("topic name", publish),
    ("subscribe filter", |v, s| filter_packet(v, 0x82, s)),
    ("unsubscribe filter", |v, s| filter_packet(v, 0xA2, s)),
];

/// Decodes `bytes`, one whole packet of `version`; a CONNECT through a
/// decoder that detects the version, as a server's does.
fn decode(version: ProtocolVersion, bytes: &[u8]) -> Result<GenericPacket, DecodeError> {
    let mut decoder = if bytes[0] == 0x10 {
        Decoder::detect_version()
    } else {
        Decoder::new(version)
    };
    let mut buf = BytesMut::from(bytes);
    let packet = decoder.decode(&mut buf)?.expect("a whole packet");
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    Ok(packet)
}

/// The string of `packet` in the field `place` names.
fn field(place: &str, packet: &GenericPacket) -> String {
    use GenericPacket::{V3_1_1, V5_0};
    match (place, packet) {
        ("client id", V3_1_1(v3_1_1::Packet::Connect(c))) => c.client_id().to_string(),
        ("client id", V5_0(v5_0::Packet::Connect(c))) => c.client_id().to_string(),
        ("user name", V3_1_1(v3_1_1::Packet::Connect(c))) => c.user_name().unwrap().to_string(),
        ("user name", V5_0(v5_0::Packet::Connect(c))) => c.user_name().unwrap().to_string(),
        ("topic name", V3_1_1(v3_1_1::Packet::Publish(p))) => p.topic_name().to_string(),
        ("topic name", V5_0(v5_0::Packet::Publish(p))) => p.topic_name().to_string(),
        ("subscribe filter", V3_1_1(v3_1_1::Packet::Subscribe(s))) => {
            s.subscriptions()[0].filter.to_string()
        }
        ("subscribe filter", V5_0(v5_0::Packet::Subscribe(s))) => {
            s.subscriptions()[0].0.to_string()
        }
        ("unsubscribe filter", V3_1_1(v3_1_1::Packet::Unsubscribe(u))) => {
            u.topic_filters()[0].to_string()
        }
        ("unsubscribe filter", V5_0(v5_0::Packet::Unsubscribe(u))) => u.filters()[0].to_string(),
        _ => panic!("{place} not in {packet:?}"),
    }
}

/// v3.1.1 [MQTT-1.5.3-1], v5.0 [MQTT-1.5.4-1]: ill-formed UTF-8 in any
/// string field, encoded surrogates U+D800..U+DFFF among it, makes the
/// packet an error (v3.1.1: the receiver closes the Network Connection;
/// v5.0: a Malformed Packet). So each of these fields is a UTF-8 Encoded
/// String on both versions: the Client Identifier [MQTT-3.1.3-4], the User
/// Name (v3.1.1 [MQTT-3.1.3-11], v5.0 [MQTT-3.1.3-12]), the Topic Name
/// [MQTT-3.3.2-1], the Topic Filters of SUBSCRIBE [MQTT-3.8.3-1] and of
/// UNSUBSCRIBE [MQTT-3.10.3-1].
#[test]
fn ill_formed_utf8_is_refused() {
    let ill_formed: [&[u8]; 7] = [
        b"\xED\xA0\x80",     // U+D800, the first surrogate
        b"a\xED\xBF\xBFb",   // U+DFFF, the last surrogate
        b"\xED\xB0\x80",     // U+DC00, a lone low surrogate
        b"\xC0\x80",         // an overlong U+0000
        b"\xE2\x82",         // a truncated sequence
        b"\xFF",             // never in UTF-8
        b"\xF4\x90\x80\x80", // beyond U+10FFFF
    ];
    for version in VERSIONS {
        for (place, make) in PLACES {
            for bad in ill_formed {
                assert_eq!(
                    decode(version, &make(version, bad)).map(drop),
                    Err(DecodeError::InvalidUtf8),
                    "{version:?} {place} {bad:02x?}"
                );
            }
        }
    }
}

/// v3.1.1 [MQTT-1.5.3-2], v5.0 [MQTT-1.5.4-2]: U+0000 in any string field
/// makes the packet an error, wherever it is in the string.
#[test]
fn null_character_is_refused() {
    for version in VERSIONS {
        for (place, make) in PLACES {
            for bad in [&b"\0"[..], b"\0a", b"a\0", b"a/\0/b"] {
                assert_eq!(
                    decode(version, &make(version, bad)).map(drop),
                    Err(DecodeError::NullCharacter),
                    "{version:?} {place} {bad:02x?}"
                );
            }
        }
    }
}

/// v3.1.1 [MQTT-1.5.3-3], v5.0 [MQTT-1.5.4-3]: 0xEF 0xBB 0xBF is U+FEFF
/// wherever it appears in a string, and the receiver neither skips nor
/// strips it: the decoded field holds it, at the start, inside or at the
/// end, and encodes back to the bytes received.
#[test]
fn zero_width_no_break_space_is_kept() {
    for version in VERSIONS {
        for (place, make) in PLACES {
            for s in [
                "\u{FEFF}",
                "\u{FEFF}a",
                "a\u{FEFF}b",
                "a/\u{FEFF}",
                "\u{FEFF}\u{FEFF}",
            ] {
                let bytes = make(version, s.as_bytes());
                let packet = decode(version, &bytes).unwrap();
                assert_eq!(field(place, &packet), s, "{version:?} {place}");
                assert_eq!(encode(&packet), bytes, "{version:?} {place}");
            }
        }
    }
}

/// The characters every Server must allow in a Client Identifier
/// (§3.1.3.1).
const CLIENT_ID_CHARACTERS: &[u8] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// [MQTT-3.1.3-5], both versions: a Client Identifier of 1 to 23 bytes, of
/// the characters `0-9a-zA-Z` only, is accepted: the CONNECT decodes with
/// it unchanged, and the builders take it. Every character and every length
/// appears.
#[test]
fn short_alphanumeric_client_ids_are_allowed() {
    let all = CLIENT_ID_CHARACTERS.iter().cycle();
    let mut ids: Vec<Vec<u8>> = (1..=23)
        .map(|n| all.clone().take(n).copied().collect())
        .collect();
    ids.extend(CLIENT_ID_CHARACTERS.chunks(23).map(<[u8]>::to_vec));
    for version in VERSIONS {
        for id in &ids {
            let id = std::str::from_utf8(id).unwrap();
            let packet = decode(version, &connect(version, id.as_bytes(), b"u")).unwrap();
            assert_eq!(field("client id", &packet), id, "{version:?}");
        }
    }
    for id in &ids {
        let id = std::str::from_utf8(id).unwrap();
        let v3 = v3_1_1::Connect::builder()
            .try_client_id(id)
            .unwrap()
            .build();
        assert_eq!(v3.unwrap().client_id(), id);
        let v5 = v5_0::Connect::builder().try_client_id(id).unwrap().build();
        assert_eq!(v5.unwrap().client_id(), id);
    }
}
