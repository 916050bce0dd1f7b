//! How each property value type is read, viewed, converted, sized, written
//! and checked (v5.0 §2.2.2.2, §1.5): one implementation per type, shared by
//! every field of every property set.

use alloc::vec::Vec;
use core::num::{NonZeroU16, NonZeroU32};

use bytes::BufMut;

use super::block::{first, Values};
use super::{PayloadFormatIndicator, SubscriptionIdentifier, UserProperty};
use crate::source::Source;
use crate::wire::varint::{put_varint, read_varint};
use crate::wire::writer::put_length_prefixed;
use crate::wire::{varint_len, Reader};
use crate::{BinaryData, BuildError, DecodeError, MqttString, QoS, TopicName};

/// Identifier of the Topic Alias property, whose 0 has its own error.
const TOPIC_ALIAS: u8 = 0x23;

/// A property value type: its wire form, its view in a checked block, and
/// the rules the spec sets on it.
pub(crate) trait PropertyValue: Sized {
    /// What a view's accessor returns: the value, or slices of the block.
    type View<'a>: Copy;
    /// Reads past the value of property `id`, checking it; errs on a value
    /// the spec forbids.
    fn read(r: &mut Reader<'_>, id: u8) -> Result<(), DecodeError>;
    /// The value whose wire bytes (length prefixes included) `raw` are, as
    /// [`read`](Self::read) checked them; never fails.
    fn view(raw: &[u8]) -> Self::View<'_>;
    /// The owned value of a view whose slices lie in `src`.
    fn to_owned(view: Self::View<'_>, src: Source<'_>) -> Self;
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

/// The first `N` bytes of a checked value, zeros if short.
#[inline(always)]
fn fixed<const N: usize>(raw: &[u8]) -> [u8; N] {
    raw.first_chunk::<N>().copied().unwrap_or([0; N])
}

/// The bytes of a checked length-prefixed value, and what follows it.
#[inline(always)]
fn prefixed(raw: &[u8]) -> (&[u8], &[u8]) {
    let len = usize::from(u16::from_be_bytes(fixed(raw)));
    let rest = raw.get(2..).unwrap_or_default();
    rest.split_at_checked(len).unwrap_or((rest, &[]))
}

/// A checked length-prefixed string value.
#[inline(always)]
fn prefixed_str(raw: &[u8]) -> &str {
    crate::string::checked_str(prefixed(raw).0)
}

/// Byte 0 or 1; other values are a Protocol Error.
impl PropertyValue for bool {
    type View<'a> = bool;
    #[inline]
    fn read(r: &mut Reader<'_>, id: u8) -> Result<(), DecodeError> {
        match r.u8()? {
            0 | 1 => Ok(()),
            _ => Err(DecodeError::InvalidPropertyValue(id)),
        }
    }
    #[inline]
    fn view(raw: &[u8]) -> bool {
        raw.first() == Some(&1)
    }
    #[inline]
    fn to_owned(view: bool, _: Source<'_>) -> Self {
        view
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
    type View<'a> = u16;
    #[inline]
    fn read(r: &mut Reader<'_>, _id: u8) -> Result<(), DecodeError> {
        r.u16().map(drop)
    }
    #[inline]
    fn view(raw: &[u8]) -> u16 {
        u16::from_be_bytes(fixed(raw))
    }
    #[inline]
    fn to_owned(view: u16, _: Source<'_>) -> Self {
        view
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
    type View<'a> = NonZeroU16;
    #[inline]
    fn read(r: &mut Reader<'_>, id: u8) -> Result<(), DecodeError> {
        NonZeroU16::new(r.u16()?).map(drop).ok_or_else(|| zero(id))
    }
    #[inline]
    fn view(raw: &[u8]) -> NonZeroU16 {
        NonZeroU16::new(u16::view(raw)).unwrap_or(NonZeroU16::MIN)
    }
    #[inline]
    fn to_owned(view: NonZeroU16, _: Source<'_>) -> Self {
        view
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
    type View<'a> = u32;
    #[inline]
    fn read(r: &mut Reader<'_>, _id: u8) -> Result<(), DecodeError> {
        r.u32().map(drop)
    }
    #[inline]
    fn view(raw: &[u8]) -> u32 {
        u32::from_be_bytes(fixed(raw))
    }
    #[inline]
    fn to_owned(view: u32, _: Source<'_>) -> Self {
        view
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
    type View<'a> = NonZeroU32;
    #[inline]
    fn read(r: &mut Reader<'_>, id: u8) -> Result<(), DecodeError> {
        NonZeroU32::new(r.u32()?).map(drop).ok_or_else(|| zero(id))
    }
    #[inline]
    fn view(raw: &[u8]) -> NonZeroU32 {
        NonZeroU32::new(u32::view(raw)).unwrap_or(NonZeroU32::MIN)
    }
    #[inline]
    fn to_owned(view: NonZeroU32, _: Source<'_>) -> Self {
        view
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
    type View<'a> = QoS;
    #[inline]
    fn read(r: &mut Reader<'_>, id: u8) -> Result<(), DecodeError> {
        match r.u8()? {
            0 | 1 => Ok(()),
            _ => Err(DecodeError::InvalidPropertyValue(id)),
        }
    }
    #[inline]
    fn view(raw: &[u8]) -> QoS {
        if raw.first() == Some(&1) {
            QoS::AtLeastOnce
        } else {
            QoS::AtMostOnce
        }
    }
    #[inline]
    fn to_owned(view: QoS, _: Source<'_>) -> Self {
        view
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
    type View<'a> = PayloadFormatIndicator;
    #[inline]
    fn read(r: &mut Reader<'_>, id: u8) -> Result<(), DecodeError> {
        match r.u8()? {
            0 | 1 => Ok(()),
            _ => Err(DecodeError::InvalidPropertyValue(id)),
        }
    }
    #[inline]
    fn view(raw: &[u8]) -> Self {
        if raw.first() == Some(&1) {
            PayloadFormatIndicator::Utf8
        } else {
            PayloadFormatIndicator::Unspecified
        }
    }
    #[inline]
    fn to_owned(view: Self, _: Source<'_>) -> Self {
        view
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
    type View<'a> = &'a str;
    #[inline]
    fn read(r: &mut Reader<'_>, _id: u8) -> Result<(), DecodeError> {
        r.string_bytes().map(drop)
    }
    #[inline]
    fn view(raw: &[u8]) -> &str {
        prefixed_str(raw)
    }
    #[inline]
    fn to_owned(view: &str, src: Source<'_>) -> Self {
        src.string(view)
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
    type View<'a> = &'a str;
    #[inline]
    fn read(r: &mut Reader<'_>, _id: u8) -> Result<(), DecodeError> {
        let s = r.string_bytes()?;
        TopicName::check_name(s).map_err(DecodeError::InvalidTopicName)
    }
    #[inline]
    fn view(raw: &[u8]) -> &str {
        prefixed_str(raw)
    }
    #[inline]
    fn to_owned(view: &str, src: Source<'_>) -> Self {
        src.topic_name(view)
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
    type View<'a> = &'a [u8];
    #[inline]
    fn read(r: &mut Reader<'_>, _id: u8) -> Result<(), DecodeError> {
        r.binary().map(drop)
    }
    #[inline]
    fn view(raw: &[u8]) -> &[u8] {
        prefixed(raw).0
    }
    #[inline]
    fn to_owned(view: &[u8], src: Source<'_>) -> Self {
        src.binary(view)
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
    type View<'a> = SubscriptionIdentifier;
    #[inline]
    fn read(r: &mut Reader<'_>, id: u8) -> Result<(), DecodeError> {
        SubscriptionIdentifier::new(r.varint()?)
            .map(drop)
            .ok_or(DecodeError::InvalidPropertyValue(id))
    }
    #[inline]
    fn view(raw: &[u8]) -> Self {
        let value = read_varint(raw).ok().flatten().map_or(1, |(v, _)| v);
        SubscriptionIdentifier::new(value).unwrap_or(SubscriptionIdentifier::MIN)
    }
    #[inline]
    fn to_owned(view: Self, _: Source<'_>) -> Self {
        view
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

/// UTF-8 String Pair (§1.5.7): viewed as `(name, value)`.
impl PropertyValue for UserProperty {
    type View<'a> = (&'a str, &'a str);
    #[inline]
    fn read(r: &mut Reader<'_>, _id: u8) -> Result<(), DecodeError> {
        r.string_bytes()?;
        r.string_bytes().map(drop)
    }
    #[inline]
    fn view(raw: &[u8]) -> (&str, &str) {
        let (name, rest) = prefixed(raw);
        (
            crate::string::checked_str(name),
            crate::string::checked_str(prefixed(rest).0),
        )
    }
    #[inline]
    fn to_owned((name, value): (&str, &str), src: Source<'_>) -> Self {
        UserProperty {
            name: src.string(name),
            value: src.string(value),
        }
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
    /// What the view's accessor returns: the value if present, or an
    /// iterator over the values.
    type Access<'a>;
    /// Whether the property may appear more than once.
    const REPEATS: bool;
    /// Stores a value of a checked block.
    fn fill(&mut self, value: Self::Value);
    /// The values held, in order.
    fn values(&self) -> &[Self::Value];
    /// The accessor of property `id` over a checked block.
    fn access(block: &[u8], id: u8) -> Self::Access<'_>;
}

impl<T: PropertyValue> Slot for Option<T> {
    type Value = T;
    type Access<'a> = Option<T::View<'a>>;
    const REPEATS: bool = false;
    #[inline]
    fn fill(&mut self, value: T) {
        *self = Some(value);
    }
    #[inline]
    fn values(&self) -> &[T] {
        self.as_slice()
    }
    #[inline]
    fn access(block: &[u8], id: u8) -> Option<T::View<'_>> {
        first::<T>(block, id)
    }
}

impl<T: PropertyValue> Slot for Vec<T> {
    type Value = T;
    type Access<'a> = Values<'a, T>;
    const REPEATS: bool = true;
    #[inline]
    fn fill(&mut self, value: T) {
        self.push(value);
    }
    #[inline]
    fn values(&self) -> &[T] {
        self
    }
    #[inline]
    fn access(block: &[u8], id: u8) -> Values<'_, T> {
        Values::new(block, id)
    }
}
