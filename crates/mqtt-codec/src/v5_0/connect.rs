//! CONNECT (v5.0 §3.1).

use alloc::boxed::Box;
use bytes::{BufMut, Bytes};
use derive_builder::Builder;

use crate::encode::sealed::Body;
use crate::properties::{
    ConnectProperties, ConnectPropertiesView, PayloadFormatIndicator, WillProperties,
    WillPropertiesView,
};
use crate::source::Source;
use crate::wire::writer::put_length_prefixed;
use crate::wire::{PacketType, Reader};
use crate::{BinaryData, BuildError, DecodeError, MqttString, QoS, TopicName};

/// The Protocol Name of every CONNECT (§3.1.2.1).
const PROTOCOL_NAME: &[u8] = b"MQTT";
/// The Protocol Version of v5.0 (§3.1.2.2).
const PROTOCOL_VERSION: u8 = 5;
/// Protocol Name (6), Protocol Version, Connect Flags, Keep Alive (2).
const FIXED_PART_LEN: usize = 10;

const RESERVED: u8 = 0b0000_0001;
const CLEAN_START: u8 = 0b0000_0010;
const WILL_FLAG: u8 = 0b0000_0100;
const WILL_QOS_SHIFT: u8 = 3;
const WILL_QOS: u8 = 0b0001_1000;
const WILL_RETAIN: u8 = 0b0010_0000;
const PASSWORD: u8 = 0b0100_0000;
const USER_NAME: u8 = 0b1000_0000;

/// The Will Message a CONNECT may carry: published by the Server when the
/// Network Connection closes without a DISCONNECT with Reason Code 0x00,
/// after the Will Delay Interval (§3.1.2.5, §3.1.3.2).
///
/// ```
/// use mqtt_codec::QoS;
/// use mqtt_codec::v5_0::{Will, WillProperties};
/// let will = Will::builder()
///     .try_topic("clients/c1/status")?
///     .try_payload(&b"offline"[..])?
///     .qos(QoS::AtLeastOnce)
///     .retain(true)
///     .properties(WillProperties { will_delay_interval: Some(30), ..Default::default() })
///     .build()?;
/// assert_eq!(will.topic(), "clients/c1/status");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Will {
    /// The Will Topic (§3.1.3.3): a Topic Name, so without wildcards
    /// [MQTT-4.7.0-1] and not empty [MQTT-4.7.3-1].
    #[builder(try_setter)]
    topic: TopicName,
    /// The Will Payload (§3.1.3.4): the Application Message published.
    #[builder(default, try_setter)]
    payload: BinaryData,
    /// The Will QoS (§3.1.2.6).
    #[builder(default)]
    qos: QoS,
    /// Will Retain (§3.1.2.7): publish the Will Message as retained.
    #[builder(default)]
    retain: bool,
    /// The Will Properties (§3.1.3.2).
    #[builder(default)]
    properties: WillProperties,
}

impl WillBuilder {
    fn validate(&self) -> Result<(), BuildError> {
        if self.topic.as_ref().is_some_and(TopicName::is_empty) {
            return Err(BuildError::Forbidden(
                "a Will Topic is at least one character long [MQTT-4.7.3-1]",
            ));
        }
        if let Some(properties) = &self.properties {
            properties.validate()?;
            if properties.payload_format_indicator == Some(PayloadFormatIndicator::Utf8) {
                let payload = self.payload.as_ref().map_or(&[][..], BinaryData::as_bytes);
                crate::message::check_utf8_payload(payload)?;
            }
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
    /// The Will Payload.
    pub fn payload(&self) -> &BinaryData {
        &self.payload
    }
    /// The Will QoS.
    pub fn qos(&self) -> QoS {
        self.qos
    }
    /// Whether the Will Message is published as retained.
    pub fn retain(&self) -> bool {
        self.retain
    }
    /// The Will Properties.
    pub fn properties(&self) -> &WillProperties {
        &self.properties
    }

    fn encoded_len(&self) -> usize {
        self.properties.encoded_len() + self.topic.encoded_len() + self.payload.encoded_len()
    }
}

/// The first packet a Client sends: asks to open a Session (§3.1).
///
/// MQTT v5.0 allows a Password without a User Name (§3.1.2.9).
///
/// ```
/// use mqtt_codec::Encode;
/// use mqtt_codec::v5_0::{Connect, ConnectProperties};
/// let connect = Connect::builder()
///     .try_client_id("c1")?
///     .keep_alive(60)
///     .properties(ConnectProperties {
///         session_expiry_interval: Some(3600),
///         ..Default::default()
///     })
///     .try_user_name("alice")?
///     .try_password(&b"secret"[..])?
///     .build()?;
/// let mut buf = Vec::new();
/// connect.encode(&mut buf)?;
/// assert_eq!(&buf[2..9], b"\x00\x04MQTT\x05");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Builder)]
#[builder(
    no_std,
    setter(into),
    build_fn(validate = "Self::validate", error = "BuildError")
)]
pub struct Connect {
    /// Clean Start (§3.1.2.4): discard any existing Session. Default `true`.
    #[builder(default = "true")]
    clean_start: bool,
    /// Keep Alive in seconds (§3.1.2.10); 0 turns the mechanism off.
    /// Default 0.
    #[builder(default, setter(into = false))]
    keep_alive: u16,
    /// The CONNECT Properties (§3.1.2.11).
    #[builder(default)]
    properties: ConnectProperties,
    /// The Client Identifier (§3.1.3.1); empty asks the Server to assign one
    /// [MQTT-3.1.3-6]. Default empty.
    #[builder(default, try_setter)]
    client_id: MqttString,
    /// The Will Message, if any (§3.1.2.5). Boxed, as it is large and
    /// rare, to keep [`Packet`](super::Packet) small for the packets that
    /// flow all the time.
    #[builder(default, setter(strip_option))]
    will: Option<Box<Will>>,
    /// The User Name, if any (§3.1.3.5).
    #[builder(default, setter(strip_option), try_setter)]
    user_name: Option<MqttString>,
    /// The Password, if any (§3.1.3.6); allowed without a User Name.
    #[builder(default, setter(strip_option), try_setter)]
    password: Option<BinaryData>,
}

impl ConnectBuilder {
    fn validate(&self) -> Result<(), BuildError> {
        if let Some(properties) = &self.properties {
            properties.validate()?;
        }
        Ok(())
    }
}

impl Connect {
    /// A builder; every field has a default.
    pub fn builder() -> ConnectBuilder {
        ConnectBuilder::default()
    }

    /// Clean Start.
    pub fn clean_start(&self) -> bool {
        self.clean_start
    }
    /// The Keep Alive, in seconds.
    pub fn keep_alive(&self) -> u16 {
        self.keep_alive
    }
    /// The CONNECT Properties.
    pub fn properties(&self) -> &ConnectProperties {
        &self.properties
    }
    /// The Client Identifier; empty when the Server is to assign one.
    pub fn client_id(&self) -> &MqttString {
        &self.client_id
    }
    /// The Will Message.
    pub fn will(&self) -> Option<&Will> {
        self.will.as_deref()
    }
    /// The User Name.
    pub fn user_name(&self) -> Option<&MqttString> {
        self.user_name.as_ref()
    }
    /// The Password.
    pub fn password(&self) -> Option<&BinaryData> {
        self.password.as_ref()
    }

    fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.clean_start {
            flags |= CLEAN_START;
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
            clean_start: view.clean_start,
            keep_alive: view.keep_alive,
            properties: ConnectProperties::from_view(view.properties, src),
            client_id: src.string(view.client_id),
            will: view.will.map(|will| {
                Box::new(Will {
                    topic: src.topic_name(will.topic),
                    payload: src.binary(will.payload),
                    qos: will.qos,
                    retain: will.retain,
                    properties: WillProperties::from_view(will.properties, src),
                })
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
    clean_start: bool,
    keep_alive: u16,
    properties: ConnectPropertiesView<'a>,
    client_id: &'a str,
    will: Option<WillView<'a>>,
    user_name: Option<&'a str>,
    password: Option<&'a [u8]>,
}

/// The Will of a [`ConnectView`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WillView<'a> {
    topic: &'a str,
    payload: &'a [u8],
    qos: QoS,
    retain: bool,
    properties: WillPropertiesView<'a>,
}

impl<'a> WillView<'a> {
    /// The Will Topic.
    pub fn topic(&self) -> &'a str {
        self.topic
    }
    /// The Will Payload.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// The QoS of the Will Message.
    pub fn qos(&self) -> QoS {
        self.qos
    }
    /// Will Retain.
    pub fn retain(&self) -> bool {
        self.retain
    }
    /// The Will Properties.
    pub fn properties(&self) -> WillPropertiesView<'a> {
        self.properties
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

    /// Clean Start (§3.1.2.4).
    pub fn clean_start(&self) -> bool {
        self.fields().clean_start
    }
    /// Keep Alive in seconds (§3.1.2.10).
    pub fn keep_alive(&self) -> u16 {
        self.fields().keep_alive
    }
    /// The CONNECT Properties.
    pub fn properties(&self) -> ConnectPropertiesView<'a> {
        self.fields().properties
    }
    /// The Client Identifier.
    pub fn client_id(&self) -> &'a str {
        self.fields().client_id
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
    pub fn to_owned(&self, source: &Bytes) -> Connect {
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
        // [MQTT-3.1.2-1]
        if r.length_prefixed()? != PROTOCOL_NAME {
            return Err(DecodeError::InvalidProtocolName);
        }
        // [MQTT-3.1.2-2]
        let version = r.u8()?;
        if version != PROTOCOL_VERSION {
            return Err(DecodeError::UnsupportedProtocolLevel(version));
        }
        let flags = r.u8()?;
        // [MQTT-3.1.2-3]
        if flags & RESERVED != 0 {
            return Err(DecodeError::InvalidConnectFlags(flags));
        }
        let has_will = flags & WILL_FLAG != 0;
        // [MQTT-3.1.2-11], [MQTT-3.1.2-13]
        if !has_will && flags & (WILL_QOS | WILL_RETAIN) != 0 {
            return Err(DecodeError::InvalidConnectFlags(flags));
        }
        // [MQTT-3.1.2-12]: Will QoS 3 is malformed.
        let will_qos = QoS::from_u8((flags & WILL_QOS) >> WILL_QOS_SHIFT)?;
        let keep_alive = r.u16()?;
        let properties = ConnectPropertiesView::parse(r)?;
        // [MQTT-3.1.3-1]: Client Identifier, Will Properties, Will Topic,
        // Will Payload, User Name, Password, each present iff flagged
        // [MQTT-3.1.2-9], [MQTT-3.1.2-16] to [MQTT-3.1.2-19]; a field not
        // flagged is left over, and refused as trailing bytes.
        let client_id = r.string()?;
        let will = if has_will {
            let properties = WillPropertiesView::parse(r)?;
            let topic = r.topic_name()?;
            Some(WillView {
                topic,
                payload: r.binary()?,
                qos: will_qos,
                retain: flags & WILL_RETAIN != 0,
                properties,
            })
        } else {
            None
        };
        let user_name = match flags & USER_NAME {
            0 => None,
            _ => Some(r.string()?),
        };
        let password = match flags & PASSWORD {
            0 => None,
            _ => Some(r.binary()?),
        };
        Ok(Fields {
            clean_start: flags & CLEAN_START != 0,
            keep_alive,
            properties,
            client_id,
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
    fn body_len(&self) -> usize {
        FIXED_PART_LEN
            + self.properties.encoded_len()
            + self.client_id.encoded_len()
            + self.will.as_deref().map_or(0, Will::encoded_len)
            + self.user_name.as_ref().map_or(0, MqttString::encoded_len)
            + self.password.as_ref().map_or(0, BinaryData::encoded_len)
    }
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        put_length_prefixed(buf, PROTOCOL_NAME);
        buf.put_u8(PROTOCOL_VERSION);
        buf.put_u8(self.flags());
        buf.put_u16(self.keep_alive);
        self.properties.encode(buf);
        put_length_prefixed(buf, self.client_id.as_bytes());
        if let Some(will) = &self.will {
            will.properties.encode(buf);
            put_length_prefixed(buf, will.topic.as_mqtt_string().as_bytes());
            put_length_prefixed(buf, will.payload.as_bytes());
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
    use crate::v5_0::test_util::{decode, round_trip};
    use crate::BinaryData;
    use alloc::vec::Vec;

    /// The variable header of the spec's example (§3.1.2.12: flags 0xCE,
    /// Keep Alive 10, Session Expiry Interval 10), with a payload that has
    /// every field.
    const FULL: &[u8] = &[
        0x10, 0x28, // CONNECT, Remaining Length 40
        0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // Protocol Name, Version
        0xCE, // User Name, Password, Will QoS 1, Will Flag, Clean Start
        0x00, 0x0A, // Keep Alive 10
        0x05, 0x11, 0x00, 0x00, 0x00, 0x0A, // Session Expiry Interval 10
        0x00, 0x02, b'c', b'1', // Client Identifier
        0x05, 0x18, 0x00, 0x00, 0x00, 0x05, // Will Delay Interval 5
        0x00, 0x01, b'w', // Will Topic
        0x00, 0x03, b'b', b'y', b'e', // Will Payload
        0x00, 0x01, b'u', // User Name
        0x00, 0x01, b'p', // Password
    ];

    fn full() -> Connect {
        let will = Will::builder()
            .try_topic("w")
            .unwrap()
            .try_payload(&b"bye"[..])
            .unwrap()
            .qos(QoS::AtLeastOnce)
            .properties(WillProperties {
                will_delay_interval: Some(5),
                ..Default::default()
            })
            .build()
            .unwrap();
        Connect::builder()
            .keep_alive(10)
            .properties(ConnectProperties {
                session_expiry_interval: Some(10),
                ..Default::default()
            })
            .try_client_id("c1")
            .unwrap()
            .will(will)
            .try_user_name("u")
            .unwrap()
            .try_password(&b"p"[..])
            .unwrap()
            .build()
            .unwrap()
    }

    /// With `FULL`'s connect flags byte replaced.
    fn with_flags(flags: u8) -> Vec<u8> {
        let mut bytes = FULL.to_vec();
        bytes[9] = flags;
        bytes
    }

    /// [MQTT-3.1.3-1] the payload fields, each flagged here, go in the order
    /// Client Identifier, Will Properties, Will Topic, Will Payload, User
    /// Name, Password: they are encoded in that order, and decoded from it
    /// into the right fields.
    #[test]
    fn every_field() {
        round_trip::<u16>(full(), FULL);
    }

    /// [MQTT-3.1.3-3] the Client Identifier is present: a CONNECT whose
    /// payload ends before it is refused. (That it comes first is part of
    /// the order that `every_field` checks.)
    #[test]
    fn client_id_must_be_present() {
        let without = [
            0x10, 0x0B, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x00, 0x00,
        ];
        assert_eq!(decode::<u16>(&without), Err(DecodeError::UnexpectedEnd));
    }

    #[test]
    fn minimal() {
        let connect = Connect::builder().clean_start(false).build().unwrap();
        round_trip::<u16>(
            connect,
            &[
                0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x00,
            ],
        );
    }

    /// §3.1.2.9: v5.0 allows a Password without a User Name.
    #[test]
    fn password_without_user_name() {
        let connect = Connect::builder()
            .password(BinaryData::try_from(&b"p"[..]).unwrap())
            .build()
            .unwrap();
        round_trip::<u16>(
            connect,
            &[
                0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x42, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x01, b'p',
            ],
        );
    }

    /// [MQTT-3.1.2-1] the Protocol Name is "MQTT".
    #[test]
    fn protocol_name() {
        let mut bytes = FULL.to_vec();
        bytes[4] = b'm';
        assert_eq!(decode::<u16>(&bytes), Err(DecodeError::InvalidProtocolName));
    }

    /// [MQTT-3.1.2-2] the Protocol Version is 5.
    #[test]
    fn protocol_version() {
        let mut bytes = FULL.to_vec();
        bytes[8] = 4;
        let err = decode::<u16>(&bytes).unwrap_err();
        assert_eq!(err, DecodeError::UnsupportedProtocolLevel(4));
        assert_eq!(err.reason_code(), 0x84);
    }

    /// [MQTT-3.1.2-3] the reserved flag is 0.
    #[test]
    fn reserved_flag() {
        assert_eq!(
            decode::<u16>(&with_flags(0xCF)),
            Err(DecodeError::InvalidConnectFlags(0xCF))
        );
    }

    /// [MQTT-3.1.2-11] Will QoS without the Will Flag.
    #[test]
    fn will_qos_without_will() {
        let bytes = [
            0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x08, 0x00, 0x00, 0x00, 0x00,
            0x00,
        ];
        assert_eq!(
            decode::<u16>(&bytes),
            Err(DecodeError::InvalidConnectFlags(0x08))
        );
    }

    /// [MQTT-3.1.2-13] Will Retain without the Will Flag.
    #[test]
    fn will_retain_without_will() {
        let bytes = [
            0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x20, 0x00, 0x00, 0x00, 0x00,
            0x00,
        ];
        assert_eq!(
            decode::<u16>(&bytes),
            Err(DecodeError::InvalidConnectFlags(0x20))
        );
    }

    /// [MQTT-3.1.2-12] Will QoS 3 is malformed.
    #[test]
    fn will_qos_3() {
        assert_eq!(
            decode::<u16>(&with_flags(0xDE)),
            Err(DecodeError::InvalidQos)
        );
    }

    /// [MQTT-3.1.2-16], [MQTT-3.1.2-18]: with the User Name and Password
    /// flags cleared, their fields are left over.
    #[test]
    fn fields_without_flags() {
        assert_eq!(
            decode::<u16>(&with_flags(0x4E)),
            Err(DecodeError::TrailingBytes(3))
        );
        assert_eq!(
            decode::<u16>(&with_flags(0x0E)),
            Err(DecodeError::TrailingBytes(6))
        );
    }

    /// [MQTT-3.1.2-9], [MQTT-3.1.2-17], [MQTT-3.1.2-19]: a flagged field
    /// must be present.
    #[test]
    fn flagged_fields_missing() {
        // Will flag set, nothing after the Client Identifier.
        let bytes = [
            0x10, 0x0F, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x04, 0x00, 0x00, 0x00, 0x00,
            0x01, b'c', 0x00,
        ];
        assert_eq!(decode::<u16>(&bytes), Err(DecodeError::UnexpectedEnd));
        // User Name and Password flags set, only the User Name there.
        let bytes = [
            0x10, 0x11, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0xC0, 0x00, 0x00, 0x00, 0x00,
            0x01, b'c', 0x00, 0x01, b'u',
        ];
        assert_eq!(decode::<u16>(&bytes), Err(DecodeError::UnexpectedEnd));
    }

    /// [MQTT-3.1.3-4] the Client Identifier is a UTF-8 Encoded String.
    #[test]
    fn client_id_utf8() {
        let bytes = [
            0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x01, 0x00,
        ];
        assert_eq!(decode::<u16>(&bytes), Err(DecodeError::NullCharacter));
    }

    /// [MQTT-3.1.3-11] the Will Topic is a Topic Name, so [MQTT-4.7.0-1] no wildcards.
    #[test]
    fn will_topic_wildcard() {
        let mut bytes = FULL.to_vec();
        bytes[30] = b'#';
        assert_eq!(
            decode::<u16>(&bytes),
            Err(DecodeError::InvalidTopicName(TopicError::WildcardInName))
        );
    }

    /// A property of the Will set is not allowed among the CONNECT
    /// Properties (Will Delay Interval, 0x18).
    #[test]
    fn will_property_in_connect_properties() {
        let mut bytes = FULL.to_vec();
        bytes[13] = 0x18;
        assert!(matches!(
            decode::<u16>(&bytes),
            Err(DecodeError::PropertyNotAllowed { id: 0x18, .. })
        ));
    }

    #[test]
    fn builder_refusals() {
        // [MQTT-4.7.3-1] an empty Will Topic.
        assert!(matches!(
            Will::builder().topic(TopicName::empty()).build(),
            Err(BuildError::Forbidden(_))
        ));
        // §3.1.2.11.10 Authentication Data without Authentication Method.
        assert!(matches!(
            Connect::builder()
                .properties(ConnectProperties {
                    authentication_data: Some(BinaryData::try_from(&b"x"[..]).unwrap()),
                    ..Default::default()
                })
                .build(),
            Err(BuildError::Forbidden(_))
        ));
        // §3.1.3.2.3 a Will Payload marked UTF-8 that is not.
        assert!(matches!(
            Will::builder()
                .try_topic("w")
                .unwrap()
                .try_payload(&[0xC0, 0x80][..])
                .unwrap()
                .properties(WillProperties {
                    payload_format_indicator: Some(PayloadFormatIndicator::Utf8),
                    ..Default::default()
                })
                .build(),
            Err(BuildError::Forbidden(_))
        ));
    }

    /// [MQTT-3.1.3-12] The User Name is a UTF-8 Encoded String: ill-formed
    /// UTF-8 there makes the CONNECT malformed.
    #[test]
    fn user_name_must_be_utf8() {
        // CONNECT v5, flags: user name; keep alive 0; no properties;
        // client id "c"; user name 0xFF.
        let bytes = b"\x10\x11\x00\x04MQTT\x05\x82\x00\x00\x00\x00\x01c\x00\x01\xFF";
        let decoded = decode::<u16>(bytes).map(|_| ());
        assert_eq!(decoded, Err(DecodeError::InvalidUtf8));
    }
}
