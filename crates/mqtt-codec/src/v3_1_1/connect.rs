//! CONNECT (v3.1.1 §3.1).

use bytes::BufMut;
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::source::Source;
use crate::wire::writer::put_length_prefixed;
use crate::wire::{PacketType, Reader};
use crate::{BinaryData, BuildError, DecodeError, MqttString, QoS, TopicName};

/// The Protocol Name of every CONNECT (§3.1.2.1).
const PROTOCOL_NAME: &[u8] = b"MQTT";
/// The Protocol Level of v3.1.1 (§3.1.2.2).
const PROTOCOL_LEVEL: u8 = 4;
/// Variable header length: Protocol Name (6), Level, Connect Flags, Keep Alive (2).
const VARIABLE_HEADER_LEN: usize = 10;

const RESERVED: u8 = 0b0000_0001;
const CLEAN_SESSION: u8 = 0b0000_0010;
const WILL_FLAG: u8 = 0b0000_0100;
const WILL_QOS_SHIFT: u8 = 3;
const WILL_QOS: u8 = 0b0001_1000;
const WILL_RETAIN: u8 = 0b0010_0000;
const PASSWORD: u8 = 0b0100_0000;
const USER_NAME: u8 = 0b1000_0000;

/// The Will Message a CONNECT may carry: published by the server when the
/// connection ends other than by DISCONNECT (§3.1.2.5).
///
/// ```
/// use mqtt_codec::{QoS, v3_1_1::Will};
/// let will = Will::builder()
///     .try_topic("clients/c1/status")?
///     .try_message(&b"offline"[..])?
///     .qos(QoS::AtLeastOnce)
///     .retain(true)
///     .build()?;
/// assert_eq!(will.topic(), "clients/c1/status");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Will {
    /// The Will Topic (§3.1.3.2): a Topic Name, so without wildcards
    /// [MQTT-4.7.1-1] and not empty [MQTT-4.7.3-1].
    #[builder(try_setter)]
    topic: TopicName,
    /// The Will Message (§3.1.3.3): the payload published.
    #[builder(default, try_setter)]
    message: BinaryData,
    /// The Will QoS (§3.1.2.6).
    #[builder(default)]
    qos: QoS,
    /// Will Retain (§3.1.2.7): publish the Will Message as retained.
    #[builder(default)]
    retain: bool,
}

impl WillBuilder {
    fn validate(&self) -> Result<(), BuildError> {
        if self.topic.as_ref().is_some_and(TopicName::is_empty) {
            return Err(BuildError::Forbidden(
                "a Will Topic is at least one character long [MQTT-4.7.3-1]",
            ));
        }
        Ok(())
    }
}

impl Will {
    /// A builder; `topic` is required.
    pub fn builder() -> WillBuilder {
        WillBuilder::default()
    }

    /// The Will Topic.
    pub fn topic(&self) -> &TopicName {
        &self.topic
    }
    /// The Will Message.
    pub fn message(&self) -> &BinaryData {
        &self.message
    }
    /// The Will QoS.
    pub fn qos(&self) -> QoS {
        self.qos
    }
    /// Whether the Will Message is published as retained.
    pub fn retain(&self) -> bool {
        self.retain
    }

    fn encoded_len(&self) -> usize {
        self.topic.encoded_len() + self.message.encoded_len()
    }
}

/// The first packet a client sends on a connection [MQTT-3.1.0-1].
///
/// ```
/// use mqtt_codec::{Encode, v3_1_1::Connect};
/// let connect = Connect::builder()
///     .try_client_id("c1")?
///     .keep_alive(60)
///     .try_user_name("alice")?
///     .try_password(&b"secret"[..])?
///     .build()?;
/// let mut buf = Vec::with_capacity(connect.encoded_len());
/// connect.encode(&mut buf)?;
/// assert_eq!(&buf[..12], b"\x10\x1d\x00\x04MQTT\x04\xc2\x00\x3c");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Connect {
    /// The Client Identifier (§3.1.3.1) [MQTT-3.1.3-3], [MQTT-3.1.3-4].
    /// Empty asks the server to assign one, and then requires
    /// `clean_session` [MQTT-3.1.3-7]. Defaults to empty.
    #[builder(default, try_setter)]
    client_id: MqttString,
    /// CleanSession (§3.1.2.4): discard any previous session and start a new
    /// one that lasts as long as the connection. Defaults to `true`.
    #[builder(default = "true")]
    clean_session: bool,
    /// Keep Alive in seconds (§3.1.2.10); 0 turns the mechanism off.
    /// Defaults to 0.
    #[builder(default, setter(into = false))]
    keep_alive: u16,
    /// The Will Message, if any (§3.1.2.5).
    #[builder(default, setter(strip_option))]
    will: Option<Will>,
    /// The User Name (§3.1.3.4) [MQTT-3.1.3-11].
    #[builder(default, setter(strip_option), try_setter)]
    user_name: Option<MqttString>,
    /// The Password (§3.1.3.5); on v3.1.1 only together with a user name
    /// [MQTT-3.1.2-22].
    #[builder(default, setter(strip_option), try_setter)]
    password: Option<BinaryData>,
}

impl ConnectBuilder {
    fn validate(&self) -> Result<(), BuildError> {
        let has_user_name = matches!(self.user_name, Some(Some(_)));
        if matches!(self.password, Some(Some(_))) && !has_user_name {
            return Err(BuildError::Forbidden(
                "a password requires a user name on v3.1.1 [MQTT-3.1.2-22]",
            ));
        }
        let empty_id = self.client_id.as_ref().is_none_or(MqttString::is_empty);
        if empty_id && self.clean_session == Some(false) {
            return Err(BuildError::Forbidden(
                "a zero-byte client identifier requires clean_session [MQTT-3.1.3-7]",
            ));
        }
        if let Some(Some(will)) = &self.will {
            if will.topic.is_empty() {
                return Err(BuildError::Forbidden(
                    "a Will Topic is at least one character long [MQTT-4.7.3-1]",
                ));
            }
        }
        Ok(())
    }
}

impl Connect {
    /// A builder; every field has a default (an empty client identifier, a
    /// clean session, keep alive off, no will, no credentials).
    pub fn builder() -> ConnectBuilder {
        ConnectBuilder::default()
    }

    /// The Client Identifier; empty when the client asks the server to
    /// assign one.
    pub fn client_id(&self) -> &MqttString {
        &self.client_id
    }
    /// The CleanSession flag.
    pub fn clean_session(&self) -> bool {
        self.clean_session
    }
    /// Keep Alive in seconds; 0 when off.
    pub fn keep_alive(&self) -> u16 {
        self.keep_alive
    }
    /// The Will Message, if any.
    pub fn will(&self) -> Option<&Will> {
        self.will.as_ref()
    }
    /// The User Name, if any.
    pub fn user_name(&self) -> Option<&MqttString> {
        self.user_name.as_ref()
    }
    /// The Password, if any.
    pub fn password(&self) -> Option<&BinaryData> {
        self.password.as_ref()
    }

    fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.clean_session {
            flags |= CLEAN_SESSION;
        }
        if let Some(will) = &self.will {
            flags |= WILL_FLAG | (will.qos as u8) << WILL_QOS_SHIFT;
            if will.retain {
                flags |= WILL_RETAIN;
            }
        }
        if self.user_name.is_some() {
            flags |= USER_NAME;
        }
        if self.password.is_some() {
            flags |= PASSWORD;
        }
        flags
    }

    /// The packet of a checked view whose slices lie in `src`.
    pub(crate) fn from_view(view: &ConnectView<'_>, src: Source<'_>) -> Self {
        let view = view.fields();
        Connect {
            client_id: src.string(view.client_id),
            clean_session: view.clean_session,
            keep_alive: view.keep_alive,
            will: view.will.map(|will| Will {
                topic: src.topic_name(will.topic),
                message: src.binary(will.message),
                qos: will.qos,
                retain: will.retain,
            }),
            user_name: view.user_name.map(|s| src.string(s)),
            password: view.password.map(|b| src.binary(b)),
        }
    }
}

/// A CONNECT read in place (see [`PacketView`](super::PacketView)): its
/// strings and binary values are slices of the bytes it was parsed from.
///
/// It keeps only its checked body, so that every packet view stays small;
/// each accessor reads the field it returns from the body again. CONNECT
/// comes once per connection.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ConnectView<'a> {
    body: &'a [u8],
}

/// The fields of a CONNECT, as [`ConnectView`] reads them.
#[derive(Debug, Clone, Copy, Default)]
struct Fields<'a> {
    client_id: &'a str,
    clean_session: bool,
    keep_alive: u16,
    will: Option<WillView<'a>>,
    user_name: Option<&'a str>,
    password: Option<&'a [u8]>,
}

/// The Will of a [`ConnectView`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WillView<'a> {
    topic: &'a str,
    message: &'a [u8],
    qos: QoS,
    retain: bool,
}

impl<'a> WillView<'a> {
    /// The Will Topic.
    pub fn topic(&self) -> &'a str {
        self.topic
    }
    /// The Will Message.
    pub fn message(&self) -> &'a [u8] {
        self.message
    }
    /// The QoS of the Will Message.
    pub fn qos(&self) -> QoS {
        self.qos
    }
    /// Will Retain.
    pub fn retain(&self) -> bool {
        self.retain
    }
}

impl<'a> ConnectView<'a> {
    /// Reads and checks the body.
    pub(crate) fn parse(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let body = r.unread();
        Fields::parse(r)?;
        let used = body.len() - r.remaining();
        Ok(ConnectView {
            body: body.get(..used).unwrap_or_default(),
        })
    }

    /// The fields, read again from the checked body.
    fn fields(&self) -> Fields<'a> {
        Fields::parse(&mut Reader::new(self.body)).unwrap_or_default()
    }

    /// The Client Identifier.
    pub fn client_id(&self) -> &'a str {
        self.fields().client_id
    }
    /// Clean Session (§3.1.2.4).
    pub fn clean_session(&self) -> bool {
        self.fields().clean_session
    }
    /// Keep Alive in seconds (§3.1.2.10).
    pub fn keep_alive(&self) -> u16 {
        self.fields().keep_alive
    }
    /// The Will, if the Will Flag is set.
    pub fn will(&self) -> Option<WillView<'a>> {
        self.fields().will
    }
    /// The User Name.
    pub fn user_name(&self) -> Option<&'a str> {
        self.fields().user_name
    }
    /// The Password.
    pub fn password(&self) -> Option<&'a [u8]> {
        self.fields().password
    }
    /// The owned packet, sharing `source` when the view was parsed from it
    /// (copying otherwise).
    pub fn to_owned(&self, source: &bytes::Bytes) -> Connect {
        Connect::from_view(self, Source(source))
    }
}

impl core::fmt::Debug for ConnectView<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&self.fields(), f)
    }
}

impl<'a> Fields<'a> {
    /// Reads and checks the body.
    fn parse(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        if r.length_prefixed()? != PROTOCOL_NAME {
            // [MQTT-3.1.2-1]
            return Err(DecodeError::InvalidProtocolName);
        }
        let level = r.u8()?;
        if level != PROTOCOL_LEVEL {
            // [MQTT-3.1.2-2]
            return Err(DecodeError::UnsupportedProtocolLevel(level));
        }
        let flags = r.u8()?;
        let will_flag = flags & WILL_FLAG != 0;
        let flags_ok = flags & RESERVED == 0 // [MQTT-3.1.2-3]
            // [MQTT-3.1.2-11], [MQTT-3.1.2-13], [MQTT-3.1.2-15]
            && (will_flag || flags & (WILL_QOS | WILL_RETAIN) == 0)
            // [MQTT-3.1.2-22]
            && (flags & USER_NAME != 0 || flags & PASSWORD == 0);
        if !flags_ok {
            return Err(DecodeError::InvalidConnectFlags(flags));
        }
        // [MQTT-3.1.2-14]
        let will_qos = QoS::from_u8((flags & WILL_QOS) >> WILL_QOS_SHIFT)?;
        let keep_alive = r.u16()?;
        // The payload, in the order of [MQTT-3.1.3-1]; a flagged field that
        // is missing runs past the end, an unflagged one is left over.
        let client_id = r.string()?;
        let will = if will_flag {
            // [MQTT-3.1.2-9], [MQTT-3.1.3-10]
            let topic = r.topic_name()?;
            Some(WillView {
                topic,
                message: r.binary()?,
                qos: will_qos,
                retain: flags & WILL_RETAIN != 0,
            })
        } else {
            None
        };
        // [MQTT-3.1.2-19], [MQTT-3.1.3-11]
        let user_name = (flags & USER_NAME != 0).then(|| r.string()).transpose()?;
        // [MQTT-3.1.2-21]
        let password = (flags & PASSWORD != 0).then(|| r.binary()).transpose()?;
        Ok(Fields {
            client_id,
            clean_session: flags & CLEAN_SESSION != 0,
            keep_alive,
            will,
            user_name,
            password,
        })
    }
}

impl Body for Connect {
    #[inline]
    fn first_byte(&self) -> u8 {
        (PacketType::Connect as u8) << 4
    }
    #[inline]
    fn body_len(&self) -> usize {
        VARIABLE_HEADER_LEN
            + self.client_id.encoded_len()
            + self.will.as_ref().map_or(0, Will::encoded_len)
            + self.user_name.as_ref().map_or(0, MqttString::encoded_len)
            + self.password.as_ref().map_or(0, BinaryData::encoded_len)
    }
    #[inline]
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        put_length_prefixed(buf, PROTOCOL_NAME);
        buf.put_u8(PROTOCOL_LEVEL);
        buf.put_u8(self.flags());
        buf.put_u16(self.keep_alive);
        put_length_prefixed(buf, self.client_id.as_bytes());
        if let Some(will) = &self.will {
            put_length_prefixed(buf, will.topic.as_mqtt_string().as_bytes());
            put_length_prefixed(buf, will.message.as_bytes());
        }
        if let Some(user_name) = &self.user_name {
            put_length_prefixed(buf, user_name.as_bytes());
        }
        if let Some(password) = &self.password {
            put_length_prefixed(buf, password.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topic::TopicError;
    use crate::v3_1_1::test_util::{decode, encode};
    use crate::v3_1_1::Packet;
    use alloc::boxed::Box;
    use alloc::vec::Vec;

    /// The variable header of the non-normative example of §3.1.2.11
    /// (flags 0xCE: user name, password, Will QoS 1, will, clean session;
    /// keep alive 10), with a payload in the order of [MQTT-3.1.3-1].
    const FULL: &[u8] = &[
        0x10, 0x1F, // CONNECT, remaining length 31
        0x00, 0x04, b'M', b'Q', b'T', b'T', // Protocol Name
        0x04, // Protocol Level
        0xCE, // Connect Flags
        0x00, 0x0A, // Keep Alive 10
        0x00, 0x02, b'c', b'1', // Client Identifier
        0x00, 0x03, b'w', b'/', b't', // Will Topic
        0x00, 0x03, b'b', b'y', b'e', // Will Message
        0x00, 0x01, b'u', // User Name
        0x00, 0x02, b'p', b'w', // Password
    ];

    fn full() -> Connect {
        Connect::builder()
            .try_client_id("c1")
            .unwrap()
            .keep_alive(10)
            .will(
                Will::builder()
                    .try_topic("w/t")
                    .unwrap()
                    .try_message(&b"bye"[..])
                    .unwrap()
                    .qos(QoS::AtLeastOnce)
                    .build()
                    .unwrap(),
            )
            .try_user_name("u")
            .unwrap()
            .try_password(&b"pw"[..])
            .unwrap()
            .build()
            .unwrap()
    }

    fn with_flags(flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = alloc::vec![0x10, 10 + payload.len() as u8];
        bytes.extend_from_slice(&[0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, flags, 0x00, 0x0A]);
        bytes.extend_from_slice(payload);
        bytes
    }

    /// §3.1.2.11 example, both directions.
    #[test]
    fn full_connect_exact_bytes() {
        let connect = full();
        assert_eq!(encode(&connect), FULL);
        assert_eq!(
            decode::<u16>(FULL),
            Ok(Packet::Connect(Box::new(connect.clone())))
        );
        assert_eq!(connect.client_id(), "c1");
        assert!(connect.clean_session());
        assert_eq!(connect.keep_alive(), 10);
        let will = connect.will().unwrap();
        assert_eq!(will.topic(), "w/t");
        assert_eq!(will.message().as_bytes(), b"bye");
        assert_eq!(will.qos(), QoS::AtLeastOnce);
        assert!(!will.retain());
        assert_eq!(connect.user_name().unwrap(), "u");
        assert_eq!(connect.password().unwrap().as_bytes(), b"pw");
    }

    #[test]
    fn minimal_connect_exact_bytes() {
        let bytes = [
            0x10, 0x0C, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x00,
        ];
        let connect = Connect::builder().keep_alive(60).build().unwrap();
        assert_eq!(encode(&connect), bytes);
        assert_eq!(
            decode::<u16>(&bytes),
            Ok(Packet::Connect(Box::new(connect)))
        );
    }

    #[test]
    fn will_retain_and_qos_2_flags() {
        let connect = Connect::builder()
            .try_client_id("c")
            .unwrap()
            .clean_session(false)
            .keep_alive(10)
            .will(
                Will::builder()
                    .try_topic("t")
                    .unwrap()
                    .qos(QoS::ExactlyOnce)
                    .retain(true)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let bytes = with_flags(
            0b0011_0100,
            &[0x00, 0x01, b'c', 0x00, 0x01, b't', 0x00, 0x00],
        );
        assert_eq!(encode(&connect), bytes);
        assert_eq!(
            decode::<u16>(&bytes),
            Ok(Packet::Connect(Box::new(connect)))
        );
    }

    /// Strings and binaries are slices of the received frame.
    #[test]
    fn decode_is_zero_copy() {
        let header = crate::wire::FixedHeader::parse(FULL).unwrap().unwrap();
        let frame = bytes::Bytes::from_static(FULL);
        let range = frame.as_ptr_range();
        let decoded = crate::v3_1_1::PacketView::parse(&header, &frame[header.header_len..])
            .map(|view| view.to_owned(&frame));
        let Ok(Packet::<u16>::Connect(connect)) = decoded else {
            panic!("expected CONNECT");
        };
        let password = connect.password().unwrap().as_bytes();
        assert!(range.contains(&password.as_ptr()));
        assert!(range.contains(&connect.client_id().as_bytes().as_ptr()));
    }

    /// [MQTT-3.1.2-1] the Protocol Name is "MQTT".
    #[test]
    fn wrong_protocol_name_is_refused() {
        let bytes = [
            0x10, 0x0E, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x0A,
            0x00, 0x00,
        ];
        assert_eq!(decode::<u16>(&bytes), Err(DecodeError::InvalidProtocolName));
        let mut lower = with_flags(0x02, &[0x00, 0x00]);
        lower[4] = b'm';
        assert_eq!(decode::<u16>(&lower), Err(DecodeError::InvalidProtocolName));
    }

    /// [MQTT-3.1.2-2] the Protocol Level of v3.1.1 is 4.
    #[test]
    fn other_protocol_levels_are_refused() {
        for level in [3u8, 5, 0xFF] {
            let mut bytes = with_flags(0x02, &[0x00, 0x00]);
            bytes[8] = level;
            assert_eq!(
                decode::<u16>(&bytes),
                Err(DecodeError::UnsupportedProtocolLevel(level))
            );
        }
    }

    /// [MQTT-3.1.2-3] the reserved connect flag is 0.
    #[test]
    fn reserved_flag_is_refused() {
        assert_eq!(
            decode::<u16>(&with_flags(0x03, &[0x00, 0x00])),
            Err(DecodeError::InvalidConnectFlags(0x03))
        );
    }

    /// [MQTT-3.1.2-11], [MQTT-3.1.2-13] Will QoS is 0 without the Will Flag.
    #[test]
    fn will_qos_without_will_flag_is_refused() {
        for flags in [0x0A, 0x12, 0x1A] {
            assert_eq!(
                decode::<u16>(&with_flags(flags, &[0x00, 0x00])),
                Err(DecodeError::InvalidConnectFlags(flags))
            );
        }
    }

    /// [MQTT-3.1.2-11], [MQTT-3.1.2-15] Will Retain is 0 without the Will Flag.
    #[test]
    fn will_retain_without_will_flag_is_refused() {
        assert_eq!(
            decode::<u16>(&with_flags(0x22, &[0x00, 0x00])),
            Err(DecodeError::InvalidConnectFlags(0x22))
        );
    }

    /// [MQTT-3.1.2-14] Will QoS is never 3.
    #[test]
    fn will_qos_3_is_refused() {
        let payload = [0x00, 0x00, 0x00, 0x01, b't', 0x00, 0x00];
        assert_eq!(
            decode::<u16>(&with_flags(0x1E, &payload)),
            Err(DecodeError::InvalidQos)
        );
    }

    /// [MQTT-3.1.2-22] a password without a user name.
    #[test]
    fn password_without_user_name_is_refused() {
        let payload = [0x00, 0x00, 0x00, 0x01, b'p'];
        assert_eq!(
            decode::<u16>(&with_flags(0x42, &payload)),
            Err(DecodeError::InvalidConnectFlags(0x42))
        );
        assert_eq!(
            Connect::builder().try_password(&b"p"[..]).unwrap().build(),
            Err(BuildError::Forbidden(
                "a password requires a user name on v3.1.1 [MQTT-3.1.2-22]"
            ))
        );
    }

    /// [MQTT-3.1.3-1], [MQTT-3.1.2-9], [MQTT-3.1.2-19], [MQTT-3.1.2-21]:
    /// a flagged field must be present.
    #[test]
    fn flagged_fields_must_be_present() {
        // Will Flag, no Will Topic / Message.
        assert_eq!(
            decode::<u16>(&with_flags(0x06, &[0x00, 0x00])),
            Err(DecodeError::UnexpectedEnd)
        );
        // Will Topic, no Will Message.
        assert_eq!(
            decode::<u16>(&with_flags(0x06, &[0x00, 0x00, 0x00, 0x01, b't'])),
            Err(DecodeError::UnexpectedEnd)
        );
        // User Name Flag, no User Name.
        assert_eq!(
            decode::<u16>(&with_flags(0x82, &[0x00, 0x00])),
            Err(DecodeError::UnexpectedEnd)
        );
        // Password Flag, no Password.
        assert_eq!(
            decode::<u16>(&with_flags(0xC2, &[0x00, 0x00, 0x00, 0x01, b'u'])),
            Err(DecodeError::UnexpectedEnd)
        );
        // No Client Identifier at all [MQTT-3.1.3-3].
        assert_eq!(
            decode::<u16>(&with_flags(0x02, &[])),
            Err(DecodeError::UnexpectedEnd)
        );
    }

    /// [MQTT-3.1.3-1], [MQTT-3.1.2-11], [MQTT-3.1.2-18], [MQTT-3.1.2-20]:
    /// an unflagged field must be absent.
    #[test]
    fn unflagged_fields_must_be_absent() {
        // A User Name with no flag for it.
        assert_eq!(
            decode::<u16>(&with_flags(0x02, &[0x00, 0x00, 0x00, 0x01, b'u'])),
            Err(DecodeError::TrailingBytes(3))
        );
        // A Password after the User Name, with only the User Name Flag.
        assert_eq!(
            decode::<u16>(&with_flags(
                0x82,
                &[0x00, 0x00, 0x00, 0x01, b'u', 0x00, 0x01, b'p']
            )),
            Err(DecodeError::TrailingBytes(3))
        );
    }

    /// [MQTT-3.1.3-4], [MQTT-1.5.3-1], [MQTT-1.5.3-2]: the Client Identifier
    /// is a UTF-8 Encoded String.
    #[test]
    fn client_id_must_be_utf8() {
        assert_eq!(
            decode::<u16>(&with_flags(0x02, &[0x00, 0x02, 0xC0, 0x80])),
            Err(DecodeError::InvalidUtf8)
        );
        assert_eq!(
            decode::<u16>(&with_flags(0x02, &[0x00, 0x01, 0x00])),
            Err(DecodeError::NullCharacter)
        );
    }

    /// [MQTT-3.1.3-11] the User Name is a UTF-8 Encoded String.
    #[test]
    fn user_name_must_be_utf8() {
        assert_eq!(
            decode::<u16>(&with_flags(0x82, &[0x00, 0x00, 0x00, 0x01, 0xFF])),
            Err(DecodeError::InvalidUtf8)
        );
    }

    /// [MQTT-3.1.3-10], [MQTT-4.7.1-1], [MQTT-4.7.3-1]: the Will Topic is a
    /// valid Topic Name.
    #[test]
    fn will_topic_must_be_a_topic_name() {
        assert_eq!(
            decode::<u16>(&with_flags(
                0x06,
                &[0x00, 0x00, 0x00, 0x03, b'a', b'/', b'#', 0x00, 0x00]
            )),
            Err(DecodeError::InvalidTopicName(TopicError::WildcardInName))
        );
        assert_eq!(
            decode::<u16>(&with_flags(0x06, &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00])),
            Err(DecodeError::InvalidTopicName(TopicError::Empty))
        );
        assert_eq!(
            decode::<u16>(&with_flags(
                0x06,
                &[0x00, 0x00, 0x00, 0x02, 0xC3, 0x28, 0x00, 0x00]
            )),
            Err(DecodeError::InvalidUtf8)
        );
    }

    /// [MQTT-3.1.3-8]: a zero-byte Client Identifier with CleanSession 0 is
    /// well-formed; the server answers it with return code 0x02, so the
    /// decoder hands it over. [MQTT-3.1.3-7]: a client must not send it.
    #[test]
    fn empty_client_id_without_clean_session() {
        let bytes = with_flags(0x00, &[0x00, 0x00]);
        let Ok(Packet::<u16>::Connect(connect)) = decode(&bytes) else {
            panic!("expected CONNECT");
        };
        assert!(connect.client_id().is_empty());
        assert!(!connect.clean_session());
        assert_eq!(
            Connect::builder().clean_session(false).build(),
            Err(BuildError::Forbidden(
                "a zero-byte client identifier requires clean_session [MQTT-3.1.3-7]"
            ))
        );
        assert!(Connect::builder()
            .try_client_id("c")
            .unwrap()
            .clean_session(false)
            .build()
            .is_ok());
    }

    /// [MQTT-4.7.3-1] the builders refuse an empty Will Topic.
    #[test]
    fn builders_refuse_empty_will_topic() {
        assert!(matches!(
            Will::builder().topic(TopicName::empty()).build(),
            Err(BuildError::Forbidden(_))
        ));
        assert_eq!(
            Will::builder().build(),
            Err(BuildError::MissingField("topic"))
        );
    }

    /// [MQTT-2.2.2-1], [MQTT-2.2.2-2] reserved fixed header flags are refused.
    #[test]
    fn reserved_fixed_header_flags_are_refused() {
        let mut bytes = with_flags(0x02, &[0x00, 0x00]);
        bytes[0] = 0x12;
        assert_eq!(
            decode::<u16>(&bytes),
            Err(DecodeError::InvalidFixedHeaderFlags {
                packet_type: PacketType::Connect,
                flags: 0x02,
            })
        );
    }
}
