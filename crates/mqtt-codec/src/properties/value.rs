//! How each property value type is read, sized, written and checked (v5.0
//! §2.2.2.2, §1.5): one implementation per type, shared by every field of
//! every property set.

use alloc::vec::Vec;
use core::num::{NonZeroU16, NonZeroU32};

use bytes::BufMut;

use super::{PayloadFormatIndicator, SubscriptionIdentifier, UserProperty};
use crate::wire::varint::put_varint;
use crate::wire::writer::put_length_prefixed;
use crate::wire::{varint_len, Reader};
use crate::{BinaryData, BuildError, DecodeError, MqttString, QoS, TopicName};

/// Identifier of the Topic Alias property, whose 0 has its own error.
const TOPIC_ALIAS: u8 = 0x23;

/// A property value type: its wire form and the rules the spec sets on it.
pub(crate) trait PropertyValue: Sized {
    /// Reads the value of property `id`; errs on a value the spec forbids.
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError>;
    /// Bytes the value takes on the wire, identifier excluded.
    fn wire_len(&self) -> usize;
    /// Writes the value.
    fn write<B: BufMut>(&self, buf: &mut B);
    /// Refuses a value a sender must not send but the type can hold.
    #[inline]
    fn check(&self) -> Result<(), BuildError> {
        Ok(())
    }
}

/// The error for a value of 0 where the spec forbids it: Topic Alias has its
/// own [MQTT-3.3.2-8], the others are a Protocol Error of their section.
#[inline]
fn zero(id: u8) -> DecodeError {
    if id == TOPIC_ALIAS {
        DecodeError::TopicAliasZero
    } else {
        DecodeError::InvalidPropertyValue(id)
    }
}

/// Byte 0 or 1; other values are a Protocol Error.
impl PropertyValue for bool {
    #[inline]
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::InvalidPropertyValue(id)),
        }
    }
    #[inline]
    fn wire_len(&self) -> usize {
        1
    }
    #[inline]
    fn write<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(u8::from(*self));
    }
}

/// Two Byte Integer.
impl PropertyValue for u16 {
    #[inline]
    fn read(r: &mut Reader<'_>, _id: u8) -> Result<Self, DecodeError> {
        r.u16()
    }
    #[inline]
    fn wire_len(&self) -> usize {
        2
    }
    #[inline]
    fn write<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(*self);
    }
}

/// Two Byte Integer that may not be 0.
impl PropertyValue for NonZeroU16 {
    #[inline]
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        NonZeroU16::new(r.u16()?).ok_or_else(|| zero(id))
    }
    #[inline]
    fn wire_len(&self) -> usize {
        2
    }
    #[inline]
    fn write<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.get());
    }
}

/// Four Byte Integer.
impl PropertyValue for u32 {
    #[inline]
    fn read(r: &mut Reader<'_>, _id: u8) -> Result<Self, DecodeError> {
        r.u32()
    }
    #[inline]
    fn wire_len(&self) -> usize {
        4
    }
    #[inline]
    fn write<B: BufMut>(&self, buf: &mut B) {
        buf.put_u32(*self);
    }
}

/// Four Byte Integer that may not be 0.
impl PropertyValue for NonZeroU32 {
    #[inline]
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        NonZeroU32::new(r.u32()?).ok_or_else(|| zero(id))
    }
    #[inline]
    fn wire_len(&self) -> usize {
        4
    }
    #[inline]
    fn write<B: BufMut>(&self, buf: &mut B) {
        buf.put_u32(self.get());
    }
}

/// Maximum QoS (§3.2.2.3.4): a Byte of 0 or 1; 2 is never sent (its absence
/// means 2), so 2 and above are a Protocol Error.
impl PropertyValue for QoS {
    #[inline]
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(QoS::AtMostOnce),
            1 => Ok(QoS::AtLeastOnce),
            _ => Err(DecodeError::InvalidPropertyValue(id)),
        }
    }
    #[inline]
    fn wire_len(&self) -> usize {
        1
    }
    #[inline]
    fn write<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(*self as u8);
    }
    fn check(&self) -> Result<(), BuildError> {
        match self {
            QoS::ExactlyOnce => Err(BuildError::Forbidden(
                "Maximum QoS is 0 or 1; leave it out to allow QoS 2 (§3.2.2.3.4)",
            )),
            _ => Ok(()),
        }
    }
}

/// Payload Format Indicator: a Byte of 0 or 1.
impl PropertyValue for PayloadFormatIndicator {
    #[inline]
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(PayloadFormatIndicator::Unspecified),
            1 => Ok(PayloadFormatIndicator::Utf8),
            _ => Err(DecodeError::InvalidPropertyValue(id)),
        }
    }
    #[inline]
    fn wire_len(&self) -> usize {
        1
    }
    #[inline]
    fn write<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(*self as u8);
    }
}

/// UTF-8 Encoded String (§1.5.4).
impl PropertyValue for MqttString {
    #[inline]
    fn read(r: &mut Reader<'_>, _id: u8) -> Result<Self, DecodeError> {
        r.string()
    }
    #[inline]
    fn wire_len(&self) -> usize {
        self.encoded_len()
    }
    #[inline]
    fn write<B: BufMut>(&self, buf: &mut B) {
        put_length_prefixed(buf, self.as_bytes());
    }
}

/// Response Topic: a UTF-8 Encoded String [MQTT-3.3.2-13] that is a valid
/// Topic Name, without wildcards [MQTT-3.3.2-14] and not empty [MQTT-4.7.3-1].
impl PropertyValue for TopicName {
    #[inline]
    fn read(r: &mut Reader<'_>, _id: u8) -> Result<Self, DecodeError> {
        TopicName::from_mqtt_string(r.string()?).map_err(DecodeError::InvalidTopicName)
    }
    #[inline]
    fn wire_len(&self) -> usize {
        self.encoded_len()
    }
    #[inline]
    fn write<B: BufMut>(&self, buf: &mut B) {
        put_length_prefixed(buf, self.as_mqtt_string().as_bytes());
    }
    fn check(&self) -> Result<(), BuildError> {
        if self.is_empty() {
            return Err(BuildError::Forbidden(
                "a Response Topic is a Topic Name of at least one character [MQTT-4.7.3-1]",
            ));
        }
        Ok(())
    }
}

/// Binary Data (§1.5.6).
impl PropertyValue for BinaryData {
    #[inline]
    fn read(r: &mut Reader<'_>, _id: u8) -> Result<Self, DecodeError> {
        r.binary()
    }
    #[inline]
    fn wire_len(&self) -> usize {
        self.encoded_len()
    }
    #[inline]
    fn write<B: BufMut>(&self, buf: &mut B) {
        put_length_prefixed(buf, self.as_bytes());
    }
}

/// Variable Byte Integer of 1 to 268,435,455 (§3.3.2.3.8, §3.8.2.1.2).
impl PropertyValue for SubscriptionIdentifier {
    #[inline]
    fn read(r: &mut Reader<'_>, id: u8) -> Result<Self, DecodeError> {
        SubscriptionIdentifier::new(r.varint()?).ok_or(DecodeError::InvalidPropertyValue(id))
    }
    #[inline]
    fn wire_len(&self) -> usize {
        varint_len(self.get())
    }
    #[inline]
    fn write<B: BufMut>(&self, buf: &mut B) {
        put_varint(buf, self.get());
    }
}

/// UTF-8 String Pair (§1.5.7).
impl PropertyValue for UserProperty {
    #[inline]
    fn read(r: &mut Reader<'_>, _id: u8) -> Result<Self, DecodeError> {
        let name = r.string()?;
        let value = r.string()?;
        Ok(UserProperty { name, value })
    }
    #[inline]
    fn wire_len(&self) -> usize {
        self.name.encoded_len() + self.value.encoded_len()
    }
    #[inline]
    fn write<B: BufMut>(&self, buf: &mut B) {
        put_length_prefixed(buf, self.name.as_bytes());
        put_length_prefixed(buf, self.value.as_bytes());
    }
}

/// Where a property set keeps a property: `Option` for one that may appear
/// at most once, `Vec` for one that may repeat (User Property, and
/// Subscription Identifier in PUBLISH).
pub(crate) trait Slot {
    /// The value type.
    type Value: PropertyValue;
    /// Stores a decoded value; errs if the property may not repeat and is
    /// already there.
    fn fill(&mut self, value: Self::Value, id: u8) -> Result<(), DecodeError>;
    /// The values held, in order.
    fn values(&self) -> &[Self::Value];
}

impl<T: PropertyValue> Slot for Option<T> {
    type Value = T;
    #[inline]
    fn fill(&mut self, value: T, id: u8) -> Result<(), DecodeError> {
        if self.is_some() {
            return Err(DecodeError::DuplicateProperty(id));
        }
        *self = Some(value);
        Ok(())
    }
    #[inline]
    fn values(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: PropertyValue> Slot for Vec<T> {
    type Value = T;
    #[inline]
    fn fill(&mut self, value: T, _id: u8) -> Result<(), DecodeError> {
        self.push(value);
        Ok(())
    }
    #[inline]
    fn values(&self) -> &[T] {
        self
    }
}
