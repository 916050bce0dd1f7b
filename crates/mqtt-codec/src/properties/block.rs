//! Reading a checked property block in place: the wire shape of each
//! property identifier (§2.2.2.2), and the iterators the views are built on.

use core::marker::PhantomData;

use super::value::PropertyValue;
use super::{SubscriptionIdentifier, UserProperty};
use crate::wire::varint::read_varint;

/// How the value of a property is laid out on the wire (§2.2.2.2).
#[derive(Clone, Copy)]
enum Shape {
    /// Byte.
    One,
    /// Two Byte Integer.
    Two,
    /// Four Byte Integer.
    Four,
    /// Variable Byte Integer.
    Varint,
    /// UTF-8 Encoded String or Binary Data: a Two Byte length, then bytes.
    Prefixed,
    /// UTF-8 String Pair: two of them.
    Pair,
}

/// The shape of the value of property `id`; `None` for an identifier the
/// spec does not define.
const fn shape(id: u8) -> Option<Shape> {
    Some(match id {
        0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => Shape::One,
        0x13 | 0x21 | 0x22 | 0x23 => Shape::Two,
        0x02 | 0x11 | 0x18 | 0x27 => Shape::Four,
        0x0B => Shape::Varint,
        0x03 | 0x08 | 0x09 | 0x12 | 0x15 | 0x16 | 0x1A | 0x1C | 0x1F => Shape::Prefixed,
        0x26 => Shape::Pair,
        _ => return None,
    })
}

/// The length of a length-prefixed field at the start of `bytes`.
#[inline]
fn prefixed_len(bytes: &[u8]) -> Option<usize> {
    let len = bytes.first_chunk::<2>()?;
    Some(2 + usize::from(u16::from_be_bytes(*len)))
}

/// The length of the value of property `id` at the start of `rest`.
#[inline]
fn value_len(id: u8, rest: &[u8]) -> Option<usize> {
    Some(match shape(id)? {
        Shape::One => 1,
        Shape::Two => 2,
        Shape::Four => 4,
        Shape::Varint => read_varint(rest).ok()??.1,
        Shape::Prefixed => prefixed_len(rest)?,
        Shape::Pair => {
            let name = prefixed_len(rest)?;
            name + prefixed_len(rest.get(name..)?)?
        }
    })
}

/// The properties of a checked block, in order: each identifier with the
/// bytes of its value (length prefixes included). Stops early, rather than
/// fail, on bytes that were not checked.
#[derive(Clone)]
pub(crate) struct Entries<'a> {
    rest: &'a [u8],
}

impl<'a> Entries<'a> {
    #[inline]
    pub(crate) fn new(block: &'a [u8]) -> Self {
        Entries { rest: block }
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = (u8, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (&id, rest) = self.rest.split_first()?;
        let Some(value) = value_len(id, rest).and_then(|n| rest.get(..n)) else {
            self.rest = &[];
            return None;
        };
        self.rest = &rest[value.len()..];
        Some((id, value))
    }
}

/// The values of a repeatable property (User Property, Subscription
/// Identifier) in a checked block, in the order received.
pub struct Values<'a, T> {
    entries: Entries<'a>,
    id: u8,
    _value: PhantomData<fn() -> T>,
}

impl<'a, T> Values<'a, T> {
    #[inline]
    pub(crate) fn new(block: &'a [u8], id: u8) -> Self {
        Values {
            entries: Entries::new(block),
            id,
            _value: PhantomData,
        }
    }
}

impl<T> Clone for Values<'_, T> {
    fn clone(&self) -> Self {
        Values {
            entries: self.entries.clone(),
            id: self.id,
            _value: PhantomData,
        }
    }
}

/// The next value of `values`.
#[inline]
fn next_value<'a, T: PropertyValue>(values: &mut Values<'a, T>) -> Option<T::View<'a>> {
    let id = values.id;
    values
        .entries
        .by_ref()
        .find(|&(found, _)| found == id)
        .map(|(_, raw)| T::view(raw))
}

/// User Properties, as `(name, value)`.
impl<'a> Iterator for Values<'a, UserProperty> {
    type Item = (&'a str, &'a str);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        next_value(self)
    }
}

impl<'a> Iterator for Values<'a, SubscriptionIdentifier> {
    type Item = SubscriptionIdentifier;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        next_value(self)
    }
}

impl<T> core::fmt::Debug for Values<'_, T>
where
    Self: Iterator + Clone,
    <Self as Iterator>::Item: core::fmt::Debug,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// The first value of property `id` in a checked block.
#[inline]
pub(crate) fn first<T: PropertyValue>(block: &[u8], id: u8) -> Option<T::View<'_>> {
    next_value(&mut Values::<T>::new(block, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every identifier of §2.2.2.2 has a shape, and no other.
    #[test]
    fn every_defined_identifier_has_a_shape() {
        let defined = [
            0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x11, 0x12, 0x13, 0x15, 0x16, 0x17, 0x18, 0x19,
            0x1A, 0x1C, 0x1F, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A,
        ];
        for id in 0..=255u8 {
            assert_eq!(shape(id).is_some(), defined.contains(&id), "{id:#04x}");
        }
    }

    #[test]
    fn entries_walk_each_shape_and_stop_on_a_short_value() {
        let block = [
            0x01, 1, // Byte
            0x13, 0, 5, // Two Byte
            0x02, 0, 0, 0, 9, // Four Byte
            0x0B, 0x80, 0x01, // Variable Byte
            0x03, 0, 1, b'x', // String
            0x26, 0, 1, b'k', 0, 1, b'v', // Pair
            0x1F, 0, 9, b'y', // runs past the end
        ];
        let ids: alloc::vec::Vec<_> = Entries::new(&block).map(|(id, v)| (id, v.len())).collect();
        assert_eq!(
            ids,
            [
                (0x01, 1),
                (0x13, 2),
                (0x02, 4),
                (0x0B, 2),
                (0x03, 3),
                (0x26, 6)
            ]
        );
        assert_eq!(Entries::new(&[0x7F, 0]).count(), 0);
    }
}
