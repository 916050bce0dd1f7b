//! A tour of `mqtt-codec`: build packets of both versions, encode them into
//! one byte stream, and decode that stream back as it arrives in small
//! pieces, the way a server reads a socket. Ends with the typed error a
//! malformed packet gives.
//!
//! Run with `cargo run --example codec_tour`.

use bytes::{Bytes, BytesMut};
use mqtt_codec::v5_0::{self, PublishProperties, SubscriptionOptions, UserProperty};
use mqtt_codec::{v3_1_1, Decoder, Encode, GenericPacket, ProtocolVersion, QoS};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    println!("== MQTT v5.0, as a client sends it ==");
    let v5 = v5_stream()?;
    decode_in_pieces(&v5, 7)?;

    println!("\n== MQTT v3.1.1, as a client sends it ==");
    let v3 = v3_stream()?;
    decode_in_pieces(&v3, 5)?;

    println!("\n== a PUBLISH encoded for a vectored write ==");
    let publish = v3_1_1::Publish::<u16>::builder()
        .try_topic_name("video/frame")?
        .qos(QoS::AtMostOnce)
        .payload(Bytes::from(vec![0xAB; 64 * 1024]))
        .build()?;
    let mut head = BytesMut::new();
    let payload = publish.encode_vectored(&mut head)?.unwrap_or_default();
    println!(
        "head {} bytes {:02x?}, payload {} bytes handed out uncopied",
        head.len(),
        &head[..],
        payload.len()
    );

    println!("\n== strict decoding ==");
    // A v3.1.1 PUBLISH whose topic name holds a wildcard [MQTT-3.3.2-2].
    let mut bad = BytesMut::from(&[0x30, 0x05, 0x00, 0x03, b'a', b'/', b'#'][..]);
    let error = Decoder::<u16>::new(ProtocolVersion::V3_1_1)
        .decode(&mut bad)
        .expect_err("a wildcard in a topic name is refused");
    println!(
        "refused: {error} (v5.0 reason code {:#04x})",
        error.reason_code()
    );
    Ok(())
}

/// CONNECT, SUBSCRIBE, and a PUBLISH with properties, as one v5.0 stream.
fn v5_stream() -> Result<BytesMut, Error> {
    let connect = v5_0::Connect::builder()
        .try_client_id("tour-client")?
        .keep_alive(30)
        .build()?;
    let subscribe = v5_0::Subscribe::<u16>::builder()
        .packet_id(1)
        .try_subscription("sensors/+/temp", SubscriptionOptions::new(QoS::AtLeastOnce))?
        .build()?;
    let publish = v5_0::Publish::<u16>::builder()
        .try_topic_name("sensors/abc/temp")?
        .qos(QoS::ExactlyOnce)
        .packet_id(2)
        .properties(PublishProperties {
            message_expiry_interval: Some(60),
            user_properties: vec![UserProperty::new("unit", "celsius")?],
            ..Default::default()
        })
        .payload(&b"21.5"[..])
        .build()?;
    let mut wire = BytesMut::new();
    connect.encode(&mut wire)?;
    subscribe.encode(&mut wire)?;
    publish.encode(&mut wire)?;
    Ok(wire)
}

/// CONNECT, PUBLISH QoS 1 and DISCONNECT, as one v3.1.1 stream.
fn v3_stream() -> Result<BytesMut, Error> {
    let connect = v3_1_1::Connect::builder()
        .try_client_id("tour-legacy")?
        .keep_alive(60)
        .build()?;
    let publish = v3_1_1::Publish::<u16>::builder()
        .try_topic_name("sensors/abc/temp")?
        .qos(QoS::AtLeastOnce)
        .packet_id(1)
        .payload(&b"20.9"[..])
        .build()?;
    let mut wire = BytesMut::new();
    connect.encode(&mut wire)?;
    publish.encode(&mut wire)?;
    v3_1_1::Disconnect.encode(&mut wire)?;
    Ok(wire)
}

/// Feeds `wire` to a version-detecting decoder `piece` bytes at a time.
fn decode_in_pieces(wire: &[u8], piece: usize) -> Result<(), Error> {
    println!("{} bytes on the wire, fed {piece} at a time", wire.len());
    let mut decoder = Decoder::<u16>::detect_version();
    let mut buf = BytesMut::new();
    for chunk in wire.chunks(piece) {
        buf.extend_from_slice(chunk);
        while let Some(packet) = decoder.decode(&mut buf)? {
            describe(&packet);
        }
    }
    Ok(())
}

fn describe(packet: &GenericPacket) {
    match packet {
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => println!(
            "  v5.0 PUBLISH {} qos={:?} id={:?} expiry={:?} user={:?} payload={:?}",
            p.topic_name(),
            p.qos(),
            p.packet_id(),
            p.properties().message_expiry_interval(),
            p.properties().user_properties(),
            p.payload()
        ),
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => println!(
            "  v3.1.1 PUBLISH {} qos={:?} id={:?} payload={:?}",
            p.topic_name(),
            p.qos(),
            p.packet_id(),
            p.payload()
        ),
        other => println!("  {:?} {:?}", other.version(), other),
    }
}
