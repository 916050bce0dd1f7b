//! PUBLISH (v3.1.1 §3.3).

use bytes::{BufMut, Bytes};
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::wire::writer::{put_length_prefixed, put_packet_id, put_publish_head};
use crate::wire::Reader;
use crate::{BuildError, DecodeError, EncodeError, PacketId, QoS, TopicName};

/// An application message, sent in either direction.
///
/// ```
/// use mqtt_codec::{Encode, QoS, v3_1_1::Publish};
/// let publish = Publish::<u16>::builder()
///     .try_topic_name("sensors/abc/temp")?
///     .qos(QoS::AtLeastOnce)
///     .packet_id(7)
///     .payload(&b"21.5"[..])
///     .build()?;
/// let mut buf = Vec::new();
/// publish.encode(&mut buf)?;
/// assert_eq!(buf.len(), publish.encoded_len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Publish<P: PacketId = u16> {
    /// Set on a re-delivery [MQTT-3.3.1-1]; never on QoS 0 [MQTT-3.3.1-2].
    #[builder(default)]
    dup: bool,
    /// The QoS level (§4.3).
    #[builder(default)]
    qos: QoS,
    /// Whether the server keeps the message for future subscribers (§3.3.1.3).
    #[builder(default)]
    retain: bool,
    /// Where the message goes; never empty in v3.1.1 [MQTT-4.7.3-1].
    #[builder(try_setter)]
    topic_name: TopicName,
    /// Present exactly when QoS > 0 [MQTT-2.3.1-1], [MQTT-2.3.1-5].
    #[builder(default, setter(strip_option, into = false))]
    packet_id: Option<P>,
    /// The application message, carried as is.
    #[builder(default)]
    payload: Bytes,
}

impl<P: PacketId> PublishBuilder<P> {
    fn validate(&self) -> Result<(), BuildError> {
        let qos = self.qos.unwrap_or_default();
        let has_id = matches!(self.packet_id, Some(Some(_)));
        if matches!(self.packet_id, Some(Some(id)) if id.to_u32() == 0) {
            return Err(BuildError::Forbidden(
                "a packet identifier is non-zero [MQTT-2.3.1-1]",
            ));
        }
        if (qos == QoS::AtMostOnce) == has_id {
            return Err(BuildError::Forbidden(
                "a packet identifier is present exactly when QoS > 0 [MQTT-2.3.1-1], [MQTT-2.3.1-5]",
            ));
        }
        if qos == QoS::AtMostOnce && self.dup == Some(true) {
            return Err(BuildError::Forbidden(
                "DUP must be 0 on a QoS 0 PUBLISH [MQTT-3.3.1-2]",
            ));
        }
        if self.topic_name.as_ref().is_some_and(TopicName::is_empty) {
            return Err(BuildError::Forbidden(
                "a topic name is at least one character long [MQTT-4.7.3-1]",
            ));
        }
        Ok(())
    }
}

impl<P: PacketId> Publish<P> {
    /// A builder; `topic_name` is required, QoS > 0 requires `packet_id`.
    pub fn builder() -> PublishBuilder<P> {
        PublishBuilder::default()
    }

    /// The DUP flag: this may be a re-delivery.
    pub fn dup(&self) -> bool {
        self.dup
    }
    /// The QoS level.
    pub fn qos(&self) -> QoS {
        self.qos
    }
    /// The RETAIN flag.
    pub fn retain(&self) -> bool {
        self.retain
    }
    /// The Topic Name.
    pub fn topic_name(&self) -> &TopicName {
        &self.topic_name
    }
    /// The packet identifier, present when QoS > 0.
    pub fn packet_id(&self) -> Option<P> {
        self.packet_id
    }
    /// The application message.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }
    /// Takes the application message out.
    pub fn into_payload(self) -> Bytes {
        self.payload
    }
    /// Sets the DUP flag, as a sender does when it re-sends [MQTT-3.3.1-1].
    /// Ignored on QoS 0 [MQTT-3.3.1-2].
    pub fn set_dup(&mut self, dup: bool) {
        self.dup = dup && self.qos != QoS::AtMostOnce;
    }
    /// Replaces the packet identifier of a QoS > 0 PUBLISH; ignored on QoS 0.
    pub fn set_packet_id(&mut self, id: P) {
        if self.qos != QoS::AtMostOnce {
            self.packet_id = Some(id);
        }
    }

    #[inline(always)]
    pub(crate) fn decode(flags: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (dup, qos, retain) = crate::wire::publish_flags(flags)?;
        let topic_name = TopicName::from_wire(r.length_prefixed()?)?;
        let packet_id = match qos {
            QoS::AtMostOnce => None,
            _ => Some(r.packet_id()?),
        };
        Ok(Publish {
            dup,
            qos,
            retain,
            topic_name,
            packet_id,
            payload: r.rest(),
        })
    }
}

impl<P: PacketId> Body for Publish<P> {
    #[inline]
    fn first_byte(&self) -> u8 {
        crate::wire::publish_first_byte(self.dup, self.qos, self.retain)
    }
    #[inline]
    fn body_len(&self) -> usize {
        self.topic_name.encoded_len()
            + self.packet_id.map_or(0, |_| P::WIRE_LEN)
            + self.payload.len()
    }
    #[inline]
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        put_length_prefixed(buf, self.topic_name.as_mqtt_string().as_bytes());
        if let Some(id) = self.packet_id {
            put_packet_id(buf, id);
        }
    }
    #[inline]
    fn payload(&self) -> Option<&Bytes> {
        Some(&self.payload)
    }
    #[inline(always)]
    fn encode_packet<B: BufMut>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        crate::encode::encode_packet(self, buf)
    }
    #[inline(always)]
    fn write_packet_head<B: BufMut>(&self, buf: &mut B, body_len: usize) {
        put_publish_head(
            buf,
            self.first_byte(),
            body_len,
            self.topic_name.as_mqtt_string().as_bytes(),
            self.packet_id,
        );
    }
}
