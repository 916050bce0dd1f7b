//! The `ours decode` and `ours encode` groups: mqtt-codec alone on other
//! packets, each case a stream of one packet kind, as many packets as fit
//! in about 8 MB (at most `N`).

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use mqtt_codec::properties::{PublishProperties, WillProperties};
use mqtt_codec::{v3_1_1, v5_0, Decoder, Encode, ProtocolVersion, QoS, TopicFilter};

use crate::common::{self, fits_8mb, packet_id, payload, Encoder, PAYLOAD_LEN, TOPIC};
use crate::harness::Group;
use crate::ours;

/// Writes `n` copies of `packet`, `set_id` applied before each.
struct Case<T> {
    packet: T,
    set_id: fn(&mut T, u16),
    n: usize,
    out: BytesMut,
}

impl<T: Encode> Encoder for Case<T> {
    fn encode(&mut self) -> &[u8] {
        self.out.clear();
        for i in 0..self.n {
            (self.set_id)(&mut self.packet, packet_id(i));
            self.packet.encode(&mut self.out).unwrap();
        }
        &self.out
    }
}

/// Decodes every packet of `input`, the result matched by reference and
/// passed to `black_box` whole; returns how many there were.
fn decode_all(version: ProtocolVersion, input: &mut BytesMut) -> usize {
    let mut decoder = Decoder::<u16>::new(version);
    let mut n = 0;
    loop {
        match &decoder.decode(input) {
            Ok(Some(packet)) => black_box(packet),
            Ok(None) => break,
            Err(e) => panic!("{e}"),
        };
        n += 1;
    }
    n
}

/// Adds the encode row of `packet`, and its decode row when `decode` is
/// given: its stream is what the encoder writes.
fn add<T: Encode + Clone + 'static>(
    encode: &mut Group,
    decode: Option<&mut Group>,
    name: &'static str,
    version: ProtocolVersion,
    packet: T,
    set_id: fn(&mut T, u16),
) {
    let n = fits_8mb(packet.encoded_len());
    let make = move |capacity| Case {
        packet: packet.clone(),
        set_id,
        n,
        out: BytesMut::with_capacity(capacity),
    };
    let stream = Bytes::copy_from_slice(make(0).encode());
    encode.encode(name, &stream, n, make);
    if let Some(decode) = decode {
        decode.decode_counted(name, stream, n, move |input| decode_all(version, input));
    }
}

/// The `ours decode` and `ours encode` groups.
pub fn groups() -> [Group; 2] {
    use ProtocolVersion::{V3_1_1, V5_0};
    let mut decode = Group::new("ours decode");
    let mut encode = Group::new("ours encode");

    // Message Expiry and Content Type, no User Property: decoded without
    // allocating.
    let publish_v5_plain = v5_0::Publish::<u16>::builder()
        .try_topic_name(TOPIC)
        .unwrap()
        .qos(QoS::AtLeastOnce)
        .packet_id(1u16)
        .properties(PublishProperties {
            message_expiry_interval: Some(common::EXPIRY),
            content_type: Some(common::CONTENT_TYPE.try_into().unwrap()),
            ..Default::default()
        })
        .payload(payload(PAYLOAD_LEN))
        .build()
        .unwrap();
    let filters = [
        "sensors/+/temp",
        "sensors/abc/#",
        "alerts/#",
        "+/status",
        "cmd/device-42",
    ];
    let mut subscribe = v3_1_1::Subscribe::<u16>::builder();
    let mut subscribe_v5 = v5_0::Subscribe::<u16>::builder();
    for filter in filters {
        subscribe.subscription((TopicFilter::new(filter).unwrap(), QoS::AtLeastOnce));
        subscribe_v5
            .try_subscription(filter, QoS::AtLeastOnce)
            .unwrap();
    }
    let subscribe = subscribe.packet_id(1).build().unwrap();
    let subscribe_v5 = subscribe_v5.packet_id(1).build().unwrap();
    let will = v5_0::Will::builder()
        .try_topic("clients/device-42/status")
        .unwrap()
        .try_payload(&b"offline"[..])
        .unwrap()
        .qos(QoS::AtLeastOnce)
        .retain(true)
        .properties(WillProperties {
            will_delay_interval: Some(30),
            content_type: Some("text/plain".try_into().unwrap()),
            ..Default::default()
        })
        .build()
        .unwrap();
    let connect_v5 = v5_0::Connect::builder()
        .try_client_id("device-42")
        .unwrap()
        .keep_alive(60)
        .will(will)
        .try_user_name("device")
        .unwrap()
        .try_password(&b"secret"[..])
        .unwrap()
        .build()
        .unwrap();

    let set_v3 = |p: &mut v3_1_1::Publish<u16>, id| p.set_packet_id(id);
    let set_v5 = |p: &mut v5_0::Publish<u16>, id| p.set_packet_id(id);
    let (e, d) = (&mut encode, &mut decode);
    add(
        e,
        None,
        "v3.1.1 publish 64 B",
        V3_1_1,
        ours::publish(64),
        set_v3,
    );
    add(
        e,
        None,
        "v3.1.1 publish 1 KiB",
        V3_1_1,
        ours::publish(1024),
        set_v3,
    );
    add(
        e,
        None,
        "v3.1.1 publish 64 KiB",
        V3_1_1,
        ours::publish(65536),
        set_v3,
    );
    let publish_v5 = common::v5_publish(true);
    add(
        e,
        None,
        "v5 publish with properties",
        V5_0,
        publish_v5,
        set_v5,
    );
    let plain = publish_v5_plain;
    add(
        e,
        Some(d),
        "v5 publish, no user property",
        V5_0,
        plain,
        set_v5,
    );
    // v3.1.1 SUBSCRIBE has no packet id setter: the same packet each time.
    add(
        e,
        Some(d),
        "v3.1.1 subscribe 5 filters",
        V3_1_1,
        subscribe,
        |_, _| {},
    );
    let set_sub = |p: &mut v5_0::Subscribe<u16>, id| p.set_packet_id(id);
    add(
        e,
        Some(d),
        "v5 subscribe 5 filters",
        V5_0,
        subscribe_v5,
        set_sub,
    );
    add(
        e,
        Some(d),
        "v5 connect with will",
        V5_0,
        connect_v5,
        |_, _| {},
    );
    [decode, encode]
}
