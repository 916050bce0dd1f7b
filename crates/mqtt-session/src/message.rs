//! The packets the session stores, of either MQTT version: [`Publish`],
//! [`Pubrel`], and [`Outgoing`] (one or the other, to be sent).

use bytes::{BufMut, Bytes};
use mqtt_codec::{
    v3_1_1, v5_0, Encode, EncodeError, GenericPacket, Message, PacketId, ProtocolVersion, QoS,
    TopicName,
};

/// A PUBLISH of either version: what the session hands out to send, a
/// [`Message`] numbered with its packet identifier.
///
/// ```
/// use mqtt_codec::{Message, ProtocolVersion, QoS, TopicName};
/// use mqtt_session::Publish;
///
/// let mut message = Message::new(TopicName::from_static("a/b")?, "hi")?;
/// message.set_qos(QoS::AtLeastOnce);
/// let publish = Publish::<u16>::from_message(ProtocolVersion::V3_1_1, message, 1);
/// assert_eq!(publish.topic_name(), "a/b");
/// assert_eq!(publish.packet_id(), Some(1));
/// assert_eq!(publish.message_expiry_interval(), None); // none on v3.1.1
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publish<P: PacketId = u16> {
    /// An MQTT v3.1.1 PUBLISH.
    V3_1_1(v3_1_1::Publish<P>),
    /// An MQTT v5.0 PUBLISH.
    V5_0(v5_0::Publish<P>),
}

/// Runs `$body` with `$p` bound to the packet of whichever version.
macro_rules! either {
    ($value:expr, $p:ident => $body:expr) => {
        match $value {
            Publish::V3_1_1($p) => $body,
            Publish::V5_0($p) => $body,
        }
    };
}

impl<P: PacketId> Publish<P> {
    /// The PUBLISH of `version` that carries `message`, with `packet_id`
    /// when its QoS is above 0 (ignored at QoS 0). Copies nothing; v3.1.1
    /// drops the properties.
    pub fn from_message(version: ProtocolVersion, message: Message, packet_id: P) -> Self {
        match version {
            ProtocolVersion::V3_1_1 => {
                Publish::V3_1_1(v3_1_1::Publish::from_message(message, packet_id))
            }
            ProtocolVersion::V5_0 => Publish::V5_0(v5_0::Publish::from_message(message, packet_id)),
        }
    }
    /// The message it carries, without packet identifier, DUP or what
    /// belongs to this one delivery (see [`v5_0::Publish::into_message`]).
    pub fn into_message(self) -> Message {
        either!(self, p => p.into_message())
    }
    /// The MQTT version of the packet.
    pub fn version(&self) -> ProtocolVersion {
        match self {
            Publish::V3_1_1(_) => ProtocolVersion::V3_1_1,
            Publish::V5_0(_) => ProtocolVersion::V5_0,
        }
    }
    /// The QoS level.
    pub fn qos(&self) -> QoS {
        either!(self, p => p.qos())
    }
    /// The packet identifier, present when QoS > 0.
    pub fn packet_id(&self) -> Option<P> {
        either!(self, p => p.packet_id())
    }
    /// Replaces the packet identifier of a QoS > 0 PUBLISH; ignored on QoS 0.
    pub fn set_packet_id(&mut self, id: P) {
        either!(self, p => p.set_packet_id(id))
    }
    /// The DUP flag.
    pub fn dup(&self) -> bool {
        either!(self, p => p.dup())
    }
    /// Sets the DUP flag, as a re-sent PUBLISH carries it [MQTT-3.3.1-1];
    /// ignored on QoS 0 [MQTT-3.3.1-2].
    pub fn set_dup(&mut self, dup: bool) {
        either!(self, p => p.set_dup(dup))
    }
    /// The RETAIN flag.
    pub fn retain(&self) -> bool {
        either!(self, p => p.retain())
    }
    /// The Topic Name (empty on a v5.0 PUBLISH that only has a Topic Alias).
    pub fn topic_name(&self) -> &str {
        either!(self, p => p.topic_name())
    }
    /// The Topic Name as a value of its own, sharing the packet's buffer.
    pub fn to_topic_name(&self) -> TopicName {
        either!(self, p => p.to_topic_name())
    }
    /// The Application Message.
    pub fn payload(&self) -> &[u8] {
        either!(self, p => p.payload())
    }
    /// The Application Message as a value of its own, sharing the packet's
    /// buffer.
    pub fn payload_bytes(&self) -> Bytes {
        either!(self, p => p.payload_bytes())
    }
    /// The Message Expiry Interval in seconds (§3.3.2.3.3); always `None`
    /// on v3.1.1, which has no message expiry.
    pub fn message_expiry_interval(&self) -> Option<u32> {
        match self {
            Publish::V3_1_1(_) => None,
            Publish::V5_0(p) => p.properties().message_expiry_interval(),
        }
    }
    /// Sets the Message Expiry Interval of a v5.0 PUBLISH, as a re-sent or
    /// forwarded one carries what is left of it [MQTT-3.3.2-6]; ignored on
    /// v3.1.1.
    pub fn set_message_expiry_interval(&mut self, seconds: Option<u32>) {
        if let Publish::V5_0(p) = self {
            p.set_message_expiry_interval(seconds);
        }
    }
    /// Bytes the whole packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        either!(self, p => p.encoded_len())
    }
    /// Writes the whole packet to `buf`; errs like [`Encode::encode`].
    pub fn encode<B: BufMut>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        either!(self, p => p.encode(buf))
    }
}

impl<P: PacketId> From<v3_1_1::Publish<P>> for Publish<P> {
    fn from(p: v3_1_1::Publish<P>) -> Self {
        Publish::V3_1_1(p)
    }
}

impl<P: PacketId> From<v5_0::Publish<P>> for Publish<P> {
    fn from(p: v5_0::Publish<P>) -> Self {
        Publish::V5_0(p)
    }
}

impl<P: PacketId> From<Publish<P>> for GenericPacket<P> {
    #[inline]
    fn from(p: Publish<P>) -> Self {
        match p {
            Publish::V3_1_1(p) => GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)),
            Publish::V5_0(p) => GenericPacket::V5_0(v5_0::Packet::Publish(p)),
        }
    }
}

impl<P: PacketId> TryFrom<GenericPacket<P>> for Publish<P> {
    type Error = GenericPacket<P>;
    /// The PUBLISH inside `packet`; errs with the packet unchanged when it is
    /// of another type.
    fn try_from(packet: GenericPacket<P>) -> Result<Self, Self::Error> {
        match packet {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => Ok(Publish::V3_1_1(p)),
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => Ok(Publish::V5_0(p)),
            other => Err(other),
        }
    }
}

/// A PUBREL of either version: the second step of a QoS 2 flow that the
/// session stores until its PUBCOMP [MQTT-4.3.3-5].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pubrel<P: PacketId = u16> {
    /// An MQTT v3.1.1 PUBREL.
    V3_1_1(v3_1_1::Pubrel<P>),
    /// An MQTT v5.0 PUBREL.
    V5_0(v5_0::Pubrel<P>),
}

impl<P: PacketId> Pubrel<P> {
    /// The PUBREL of `version` that releases `packet_id`, with Reason Code
    /// Success on v5.0 [MQTT-4.3.3-4].
    pub fn new(version: ProtocolVersion, packet_id: P) -> Self {
        match version {
            ProtocolVersion::V3_1_1 => Pubrel::V3_1_1(v3_1_1::Pubrel::new(packet_id)),
            ProtocolVersion::V5_0 => Pubrel::V5_0(v5_0::Pubrel::new(packet_id)),
        }
    }
    /// The MQTT version of the packet.
    pub fn version(&self) -> ProtocolVersion {
        match self {
            Pubrel::V3_1_1(_) => ProtocolVersion::V3_1_1,
            Pubrel::V5_0(_) => ProtocolVersion::V5_0,
        }
    }
    /// The packet identifier.
    pub fn packet_id(&self) -> P {
        match self {
            Pubrel::V3_1_1(p) => p.packet_id(),
            Pubrel::V5_0(p) => p.packet_id(),
        }
    }
    /// Bytes the whole packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        match self {
            Pubrel::V3_1_1(p) => p.encoded_len(),
            Pubrel::V5_0(p) => p.encoded_len(),
        }
    }
    /// Writes the whole packet to `buf`; errs like [`Encode::encode`].
    pub fn encode<B: BufMut>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        match self {
            Pubrel::V3_1_1(p) => p.encode(buf),
            Pubrel::V5_0(p) => p.encode(buf),
        }
    }
}

impl<P: PacketId> From<Pubrel<P>> for GenericPacket<P> {
    fn from(p: Pubrel<P>) -> Self {
        match p {
            Pubrel::V3_1_1(p) => GenericPacket::V3_1_1(v3_1_1::Packet::Pubrel(p)),
            Pubrel::V5_0(p) => GenericPacket::V5_0(v5_0::Packet::Pubrel(p)),
        }
    }
}

/// A stored packet to send again: what
/// [`Session::on_connected`](crate::Session::on_connected) returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing<P: PacketId = u16> {
    /// An unacknowledged PUBLISH, with DUP set [MQTT-3.3.1-1].
    Publish(Publish<P>),
    /// A PUBREL waiting for its PUBCOMP.
    Pubrel(Pubrel<P>),
}

impl<P: PacketId> Outgoing<P> {
    /// The packet identifier.
    pub fn packet_id(&self) -> Option<P> {
        match self {
            Outgoing::Publish(p) => p.packet_id(),
            Outgoing::Pubrel(p) => Some(p.packet_id()),
        }
    }
    /// Bytes the whole packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        match self {
            Outgoing::Publish(p) => p.encoded_len(),
            Outgoing::Pubrel(p) => p.encoded_len(),
        }
    }
    /// Writes the whole packet to `buf`; errs like [`Encode::encode`].
    pub fn encode<B: BufMut>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        match self {
            Outgoing::Publish(p) => p.encode(buf),
            Outgoing::Pubrel(p) => p.encode(buf),
        }
    }
}

impl<P: PacketId> From<Outgoing<P>> for GenericPacket<P> {
    fn from(p: Outgoing<P>) -> Self {
        match p {
            Outgoing::Publish(p) => p.into(),
            Outgoing::Pubrel(p) => p.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v5(expiry: Option<u32>) -> Publish<u16> {
        let mut b = v5_0::Publish::<u16>::builder()
            .try_topic_name("t")
            .unwrap()
            .qos(QoS::ExactlyOnce)
            .packet_id(3);
        if let Some(secs) = expiry {
            b = b.properties(v5_0::PublishProperties {
                message_expiry_interval: Some(secs),
                ..Default::default()
            });
        }
        b.build().unwrap().into()
    }

    /// [MQTT-3.3.1-1] DUP set on a re-send; [MQTT-3.3.2-6] the expiry left.
    #[test]
    fn setters_forward_to_the_packet() {
        let mut p = v5(Some(60));
        p.set_dup(true);
        p.set_packet_id(9);
        p.set_message_expiry_interval(Some(59));
        assert!(p.dup());
        assert_eq!(p.packet_id(), Some(9));
        assert_eq!(p.message_expiry_interval(), Some(59));
        let mut buf = Vec::new();
        assert_eq!(p.encode(&mut buf).unwrap(), p.encoded_len());
        // PUBLISH DUP QoS 2; topic "t"; id 9; Property Length 5; expiry 59.
        assert_eq!(
            buf,
            [0x3C, 0x0B, 0x00, 0x01, b't', 0x00, 0x09, 0x05, 0x02, 0x00, 0x00, 0x00, 0x3B]
        );
        let generic: GenericPacket<u16> = p.clone().into();
        assert_eq!(Publish::try_from(generic), Ok(p));
    }

    /// [MQTT-4.3.3-4] the PUBREL carries the identifier of the PUBLISH.
    #[test]
    fn pubrel_of_each_version() {
        for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5_0] {
            let r = Pubrel::new(version, 7u16);
            assert_eq!(r.version(), version);
            assert_eq!(r.packet_id(), 7);
            let mut buf = Vec::new();
            r.encode(&mut buf).unwrap();
            assert_eq!(buf, [0x62, 0x02, 0x00, 0x07]);
            assert_eq!(Outgoing::Pubrel(r).packet_id(), Some(7));
        }
    }
}
