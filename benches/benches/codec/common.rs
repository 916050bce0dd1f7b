//! What every row shares: the workload's constants and streams, the sinks a
//! decode loop hands each packet's fields to, and the encoder interface.

use std::hint::black_box;

use bytes::Bytes;
use mqtt_codec::properties::{PublishProperties, UserProperty};
use mqtt_codec::{v5_0, Encode, QoS};

/// Packets in the reference stream.
pub const N: usize = 100_000;
pub const TOPIC: &str = "sensors/abc/temp";
pub const PAYLOAD_LEN: usize = 64;
/// Packet size limit handed to the decoders that take one.
pub const MAX_SIZE: usize = 1 << 20;

/// The properties of the v5.0 PUBLISH "with properties".
pub const EXPIRY: u32 = 3600;
pub const CONTENT_TYPE: &str = "application/json";
pub const USER_PROPERTY: (&str, &str) = ("region", "eu-west");

/// Packet ids 1..=65535, cycling.
pub fn packet_id(i: usize) -> u16 {
    (i % 65_535) as u16 + 1
}

pub fn payload(len: usize) -> Bytes {
    (0..len).map(|i| i as u8).collect()
}

/// How many packets of `packet_len` bytes a stream of about 8 MB holds (at
/// most `N`): the size of the streams of the payload-size and ours-only
/// cases.
pub fn fits_8mb(packet_len: usize) -> usize {
    N.min(8_000_000 / packet_len).max(1)
}

/// `n` v3.1.1 PUBLISH QoS 1 packets, written by hand from the spec (§3.3):
/// 0x32, Remaining Length, topic, packet id, payload.
pub fn publish_stream(n: usize, payload_len: usize) -> Bytes {
    let payload = payload(payload_len);
    let mut stream = Vec::new();
    for i in 0..n {
        stream.push(0x32);
        let mut len = 2 + TOPIC.len() + 2 + payload_len;
        while len >= 128 {
            stream.push(len as u8 | 0x80);
            len >>= 7;
        }
        stream.push(len as u8);
        stream.extend_from_slice(&(TOPIC.len() as u16).to_be_bytes());
        stream.extend_from_slice(TOPIC.as_bytes());
        stream.extend_from_slice(&packet_id(i).to_be_bytes());
        stream.extend_from_slice(&payload);
    }
    stream.into()
}

/// A v5.0 PUBLISH QoS 1 on `TOPIC` with a 64-byte payload, packet id 1,
/// built with mqtt-codec's builder: with Message Expiry Interval, Content
/// Type and one User Property, or with no properties at all.
pub fn v5_publish(with_properties: bool) -> v5_0::Publish<u16> {
    let properties = if with_properties {
        PublishProperties {
            message_expiry_interval: Some(EXPIRY),
            content_type: Some(CONTENT_TYPE.try_into().unwrap()),
            user_properties: vec![UserProperty::new(USER_PROPERTY.0, USER_PROPERTY.1).unwrap()],
            ..Default::default()
        }
    } else {
        PublishProperties::default()
    };
    v5_0::Publish::<u16>::builder()
        .try_topic_name(TOPIC)
        .unwrap()
        .qos(QoS::AtLeastOnce)
        .packet_id(1u16)
        .properties(properties)
        .payload(payload(PAYLOAD_LEN))
        .build()
        .unwrap()
}

/// `N` copies of [`v5_publish`], packet ids 1..=65535 cycling.
pub fn v5_stream(with_properties: bool) -> Bytes {
    let mut packet = v5_publish(with_properties);
    let mut stream = Vec::with_capacity(N * packet.encoded_len());
    for i in 0..N {
        packet.set_packet_id(packet_id(i));
        packet.encode(&mut stream).unwrap();
    }
    stream.into()
}

/// Where a decode loop puts what it reads of each packet. Every loop is
/// generic over it: [`Timed`] when measured, [`Check`] before that.
pub trait Sink {
    /// The packet identifier, Topic Name and payload of a PUBLISH.
    fn publish(&mut self, id: u16, topic: &[u8], payload: &[u8]);
    /// The v5.0 properties the bench reads: Message Expiry Interval,
    /// Content Type, and every User Property.
    fn properties<'a>(
        &mut self,
        expiry: Option<u32>,
        content_type: Option<&str>,
        user_properties: impl Iterator<Item = (&'a str, &'a str)>,
    );
    /// The packet itself, by value: what a user who keeps it does.
    fn keep<T>(&mut self, packet: T);
}

/// The sink of the measured loops: everything goes to `black_box`.
pub struct Timed;

impl Sink for Timed {
    #[inline(always)]
    fn publish(&mut self, id: u16, topic: &[u8], payload: &[u8]) {
        black_box((id, topic, payload));
    }
    #[inline(always)]
    fn properties<'a>(
        &mut self,
        expiry: Option<u32>,
        content_type: Option<&str>,
        user_properties: impl Iterator<Item = (&'a str, &'a str)>,
    ) {
        black_box((expiry, content_type));
        for property in user_properties {
            black_box(property);
        }
    }
    #[inline(always)]
    fn keep<T>(&mut self, packet: T) {
        black_box(packet);
    }
}

/// What a decode loop must find in every packet of its stream.
#[derive(Clone)]
pub struct Expect {
    pub payload_len: usize,
    /// `None` on v3.1.1; on v5.0, the properties of every packet.
    pub properties: Option<Properties>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Properties {
    pub expiry: Option<u32>,
    pub content_type: Option<String>,
    pub user_properties: Vec<(String, String)>,
}

impl Expect {
    pub fn v3(payload_len: usize) -> Self {
        Expect {
            payload_len,
            properties: None,
        }
    }
    pub fn v5(with_properties: bool) -> Self {
        let properties = if with_properties {
            Properties {
                expiry: Some(EXPIRY),
                content_type: Some(CONTENT_TYPE.into()),
                user_properties: vec![(USER_PROPERTY.0.into(), USER_PROPERTY.1.into())],
            }
        } else {
            Properties {
                expiry: None,
                content_type: None,
                user_properties: Vec::new(),
            }
        };
        Expect {
            payload_len: PAYLOAD_LEN,
            properties: Some(properties),
        }
    }
}

/// The sink of the correctness check: each packet must carry packet id
/// `packet_id(i)`, `TOPIC`, the expected payload and properties.
pub struct Check {
    /// The row, named in failures.
    label: String,
    expect: Expect,
    payload: Bytes,
    publishes: usize,
    properties: usize,
    kept: usize,
}

impl Check {
    pub fn new(label: String, expect: Expect) -> Self {
        Check {
            label,
            payload: payload(expect.payload_len),
            expect,
            publishes: 0,
            properties: 0,
            kept: 0,
        }
    }

    /// Checks that the loop, which reported `n` packets, saw `expected`,
    /// read the properties of each when there are some, and kept either
    /// none (by reference) or all (moved out).
    pub fn finish(&self, n: usize, expected: usize) {
        let label = &self.label;
        assert_eq!(n, expected, "{label}: decoded {n} packets");
        assert_eq!(
            self.publishes, n,
            "{label}: read {} packets",
            self.publishes
        );
        let properties = if self.expect.properties.is_some() {
            n
        } else {
            0
        };
        assert_eq!(self.properties, properties, "{label}: properties read");
        assert!(
            self.kept == 0 || self.kept == n,
            "{label}: kept {}",
            self.kept
        );
    }
}

impl Sink for Check {
    fn publish(&mut self, id: u16, topic: &[u8], payload: &[u8]) {
        let (i, label) = (self.publishes, &self.label);
        assert_eq!(id, packet_id(i), "{label}, packet {i}: packet id");
        assert_eq!(topic, TOPIC.as_bytes(), "{label}, packet {i}: topic");
        assert!(payload == &self.payload[..], "{label}, packet {i}: payload");
        self.publishes += 1;
    }
    fn properties<'a>(
        &mut self,
        expiry: Option<u32>,
        content_type: Option<&str>,
        user_properties: impl Iterator<Item = (&'a str, &'a str)>,
    ) {
        let seen = Properties {
            expiry,
            content_type: content_type.map(Into::into),
            user_properties: user_properties.map(|(k, v)| (k.into(), v.into())).collect(),
        };
        let label = &self.label;
        assert_eq!(
            Some(&seen),
            self.expect.properties.as_ref(),
            "{label}: properties"
        );
        self.properties += 1;
    }
    fn keep<T>(&mut self, packet: T) {
        drop(packet);
        self.kept += 1;
    }
}

/// One encoder of a row: of the reference workload, or of an `ours
/// encode` case.
pub trait Encoder {
    /// Writes its packets (`N` reference PUBLISH packets, or the case's),
    /// the packet id changed each time, into its reserved buffer (emptied
    /// first), and returns what it wrote.
    fn encode(&mut self) -> &[u8];
}
