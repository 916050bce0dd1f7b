//! MQTT v5.0 properties (§2.2.2), typed per packet.
//!
//! Each packet that carries properties has its own set in two forms:
//!
//! - an owned struct (`PublishProperties`, `ConnackProperties`, ...) whose
//!   public fields are exactly the properties §2.2.2.2 allows in that
//!   packet: what a sender fills in. A property that may appear once is an
//!   `Option`; User Property (and Subscription Identifier in PUBLISH) is a
//!   `Vec` that keeps the order and duplicates.
//! - a view (`PublishPropertiesView`, ...): the checked property block of a
//!   received packet, read in place through accessors of the same names
//!   (iterators for the repeatable ones). Accessors never fail: the block
//!   was checked when the packet was decoded. A view's
//!   [`to_owned`](PublishPropertiesView::to_owned) gives the owned struct.
//!
//! A PUBLISH keeps its properties as a block (see
//! [`v5_0::Publish::properties`](crate::v5_0::Publish::properties)), so that
//! decoding one allocates nothing whatever it carries; the other packets
//! hold the owned struct.
//!
//! ```
//! use mqtt_codec::properties::{PublishProperties, UserProperty};
//! let props = PublishProperties {
//!     message_expiry_interval: Some(60),
//!     content_type: Some("application/json".try_into()?),
//!     user_properties: vec![UserProperty::new("trace", "42")?],
//!     ..Default::default()
//! };
//! assert!(!props.is_empty());
//! assert!(props.validate().is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Decoding is strict: a property not allowed in the packet is a Malformed
//! Packet (§2.2.2.2); a property that may appear once appearing twice, or a
//! value the property's section forbids, is a Protocol Error. Each maps to
//! the [`DecodeError`] variant whose
//! [`reason_code`](crate::DecodeError::reason_code) the spec names.

pub(crate) mod block;
mod sets;
#[cfg(test)]
mod tests;
mod types;
mod value;

pub use block::Values;
pub(crate) use sets::TOPIC_ALIAS;
pub use sets::{
    AuthProperties, AuthPropertiesView, ConnackProperties, ConnackPropertiesView,
    ConnectProperties, ConnectPropertiesView, DisconnectProperties, DisconnectPropertiesView,
    MessageProperties, MessagePropertiesView, PubackProperties, PubackPropertiesView,
    PubcompProperties, PubcompPropertiesView, PublishProperties, PublishPropertiesView,
    PubrecProperties, PubrecPropertiesView, PubrelProperties, PubrelPropertiesView,
    SubackProperties, SubackPropertiesView, SubscribeProperties, SubscribePropertiesView,
    UnsubackProperties, UnsubackPropertiesView, UnsubscribeProperties, UnsubscribePropertiesView,
    WillProperties, WillPropertiesView,
};
pub use types::{PayloadFormatIndicator, SubscriptionIdentifier, UserProperty};

use crate::{BuildError, DecodeError};

/// Authentication Data without an Authentication Method is a Protocol Error
/// (§3.1.2.11.10); the same holds in CONNACK and AUTH, where the data only
/// has meaning within the method (§4.12). `seen` has bit `id` set for each
/// property identifier present.
#[inline]
fn auth_data_needs_method(seen: u64, method: u8, data: u8) -> Result<(), DecodeError> {
    if seen & (1 << data) != 0 && seen & (1 << method) == 0 {
        return Err(DecodeError::AuthenticationDataWithoutMethod);
    }
    Ok(())
}

/// [`auth_data_needs_method`] for a sender.
#[inline]
fn auth_data_needs_method_build(has_method: bool, has_data: bool) -> Result<(), BuildError> {
    if has_data && !has_method {
        return Err(BuildError::Forbidden(
            "Authentication Data requires an Authentication Method (§3.1.2.11.10)",
        ));
    }
    Ok(())
}

/// Defines one property set: the owned struct and its view, the check of a
/// received block, the view's accessors, the conversions, and sizing,
/// encoding and sender-side validation of the struct. Fields are listed in
/// identifier order, which is the order they are encoded in (checked at
/// compile time). Each field is `Option<T>` (at most once) or `Vec<T>`
/// (repeatable), `T` a [`value::PropertyValue`]. `also` lists identifiers
/// the packet allows that the set keeps elsewhere (PUBLISH's Topic Alias):
/// they are checked in a received block like the others, but have no field.
macro_rules! properties {
    (
        $(#[$meta:meta])*
        pub struct $name:ident, view $view:ident for $packet_type:ident
            $(where auth($method:ident = $method_id:literal, $data:ident = $data_id:literal))?
            $(also($($also_id:literal: $also_ty:ty),*))?
        {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty as $view_ty:ty = $id:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                pub $field: $ty,
            )*
        }

        #[doc = concat!("The checked property block of a received packet, read in place: the view of [`", stringify!($name), "`].")]
        ///
        /// Accessors never fail (the block was checked when the packet was
        /// decoded) and return slices of the packet.
        #[derive(Clone, Copy, PartialEq, Eq, Default)]
        pub struct $view<'a> {
            block: &'a [u8],
        }

        // Identifiers strictly increase: one field per property, encoded in
        // identifier order.
        const _: () = {
            let ids: &[u8] = &[$($id),*];
            let mut i = 1;
            while i < ids.len() {
                assert!(ids[i - 1] < ids[i], "properties out of identifier order");
                i += 1;
            }
        };

        #[allow(dead_code)]
        impl<'a> $view<'a> {
            /// Reads the Property Length and then exactly that many bytes of
            /// properties (§2.2.2), and checks them.
            #[inline]
            pub(crate) fn parse(
                r: &mut $crate::wire::Reader<'a>,
            ) -> Result<Self, $crate::DecodeError> {
                let len = r.varint()? as usize;
                let block = r.bytes(len)?;
                Self::check(block)?;
                Ok($view { block })
            }

            /// Checks a property block (the bytes after the Property
            /// Length) and returns a bit set of the identifiers in it.
            ///
            /// A Property Identifier is a Variable Byte Integer, but every
            /// defined one fits in a single byte below 0x80; a first byte of
            /// 0x80 or more starts no valid identifier, so it is refused like
            /// any identifier this set does not allow.
            #[inline]
            pub(crate) fn check(block: &'a [u8]) -> Result<u64, $crate::DecodeError> {
                use $crate::properties::value::{PropertyValue, Slot};
                let mut r = $crate::wire::Reader::new(block);
                let mut seen: u64 = 0;
                while r.remaining() > 0 {
                    let id = r.u8()?;
                    let once = match id {
                        $(
                            $id => {
                                <<$ty as Slot>::Value as PropertyValue>::read(&mut r, id)?;
                                !<$ty as Slot>::REPEATS
                            }
                        )*
                        $($(
                            $also_id => {
                                <$also_ty as PropertyValue>::read(&mut r, id)?;
                                true
                            }
                        )*)?
                        _ => {
                            return Err($crate::wire::cold($crate::DecodeError::PropertyNotAllowed {
                                packet_type: $crate::wire::PacketType::$packet_type,
                                id,
                            }));
                        }
                    };
                    // Every identifier allowed here is below 64.
                    let bit = 1u64 << (id & 63);
                    if once && seen & bit != 0 {
                        return Err($crate::wire::cold($crate::DecodeError::DuplicateProperty(id)));
                    }
                    seen |= bit;
                }
                $(
                    $crate::properties::auth_data_needs_method(seen, $method_id, $data_id)?;
                )?
                Ok(seen)
            }

            /// The view of a block that passed [`check`](Self::check).
            #[inline(always)]
            pub(crate) fn from_checked(block: &'a [u8]) -> Self {
                $view { block }
            }

            $(
                $(#[$fmeta])*
                #[inline]
                pub fn $field(&self) -> $view_ty {
                    <$ty as $crate::properties::value::Slot>::access(self.block, $id)
                }
            )*

            /// Whether no property is set (the Property Length is 0).
            #[inline]
            pub fn is_empty(&self) -> bool {
                self.block.is_empty()
            }

            /// The property block as received, without its Property Length.
            #[inline]
            pub fn as_bytes(&self) -> &'a [u8] {
                self.block
            }

            /// The properties as an owned struct (strings and binary
            /// values copied).
            pub fn to_owned(&self) -> $name {
                $name::from_view(*self, $crate::source::Source(&bytes::Bytes::new()))
            }
        }

        impl core::fmt::Debug for $view<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::Debug::fmt(&self.to_owned(), f)
            }
        }

        #[allow(dead_code)]
        impl $name {
            /// The owned properties of a checked view whose strings lie in
            /// `src` (shared, not copied).
            pub(crate) fn from_view(view: $view<'_>, src: $crate::source::Source<'_>) -> Self {
                use $crate::properties::value::{PropertyValue, Slot};
                let mut out = Self::default();
                for (id, raw) in $crate::properties::block::Entries::new(view.block) {
                    match id {
                        $(
                            $id => <$ty as Slot>::fill(
                                &mut out.$field,
                                <<$ty as Slot>::Value as PropertyValue>::to_owned(
                                    <<$ty as Slot>::Value as PropertyValue>::view(raw),
                                    src,
                                ),
                            ),
                        )*
                        _ => {}
                    }
                }
                out
            }

            /// Reads and checks a Property Length and its block into the
            /// owned struct, its strings copied (for tests).
            #[cfg(test)]
            pub(crate) fn decode(
                r: &mut $crate::wire::Reader<'_>,
            ) -> Result<Self, $crate::DecodeError> {
                $view::parse(r).map(|view| view.to_owned())
            }

            /// The Property Length: bytes of the properties, without the
            /// length itself.
            #[inline]
            pub(crate) fn properties_len(&self) -> usize {
                use $crate::properties::value::{PropertyValue, Slot};
                0 $(
                    + <$ty as Slot>::values(&self.$field)
                        .iter()
                        .map(|v| 1 + v.wire_len())
                        .sum::<usize>()
                )*
            }

            /// Bytes on the wire: the Property Length and the properties.
            #[inline]
            pub(crate) fn encoded_len(&self) -> usize {
                let n = self.properties_len();
                $crate::wire::varint_len(u32::try_from(n).unwrap_or(u32::MAX)) + n
            }

            /// Writes the Property Length and the properties.
            #[inline]
            pub(crate) fn encode<B: bytes::BufMut>(&self, buf: &mut B) {
                let n = self.properties_len();
                $crate::wire::varint::put_varint(buf, u32::try_from(n).unwrap_or(u32::MAX));
                self.encode_block(buf);
            }

            /// Writes the properties without their Property Length, in
            /// identifier order, repeated ones in their order.
            #[inline]
            pub(crate) fn encode_block<B: bytes::BufMut>(&self, buf: &mut B) {
                use $crate::properties::value::{PropertyValue, Slot};
                $(
                    for v in <$ty as Slot>::values(&self.$field) {
                        buf.put_u8($id);
                        v.write(buf);
                    }
                )*
            }

            /// The properties in wire form without their Property Length,
            /// as a packet keeps them: empty (no allocation) when there are
            /// none.
            pub(crate) fn to_block(&self) -> bytes::BytesMut {
                let mut block = bytes::BytesMut::new();
                if !self.is_empty() {
                    block.reserve(self.properties_len());
                    self.encode_block(&mut block);
                }
                block
            }

            /// Whether no property is set (the Property Length is 0).
            #[inline]
            pub fn is_empty(&self) -> bool {
                use $crate::properties::value::Slot;
                true $( && <$ty as Slot>::values(&self.$field).is_empty() )*
            }

            /// Checks what a sender must not send but the field types can
            /// hold: a Maximum QoS of 2, an empty Response Topic,
            /// Authentication Data without an Authentication Method. Packet
            /// builders call this; decoding never yields such values.
            pub fn validate(&self) -> Result<(), $crate::BuildError> {
                use $crate::properties::value::{PropertyValue, Slot};
                $(
                    for v in <$ty as Slot>::values(&self.$field) {
                        v.check()?;
                    }
                )*
                $(
                    $crate::properties::auth_data_needs_method_build(
                        self.$method.is_some(),
                        self.$data.is_some(),
                    )?;
                )?
                Ok(())
            }
        }
    };
}
use properties;
