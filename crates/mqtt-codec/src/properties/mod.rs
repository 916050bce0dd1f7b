//! MQTT v5.0 properties (§2.2.2), typed per packet.
//!
//! Each packet that carries properties has its own set, a struct whose
//! public fields are exactly the properties §2.2.2.2 allows in that packet:
//! a packet cannot hold a property the spec forbids for it. A property that
//! may appear once is an `Option`; User Property (and Subscription Identifier
//! in PUBLISH) is a `Vec` that keeps the received order and duplicates.
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

mod sets;
#[cfg(test)]
mod tests;
mod types;
mod value;

pub use sets::{
    AuthProperties, ConnackProperties, ConnectProperties, DisconnectProperties, PubackProperties,
    PubcompProperties, PublishProperties, PubrecProperties, PubrelProperties, SubackProperties,
    SubscribeProperties, UnsubackProperties, UnsubscribeProperties, WillProperties,
};
pub use types::{PayloadFormatIndicator, SubscriptionIdentifier, UserProperty};

use crate::{BinaryData, BuildError, DecodeError, MqttString};

/// Authentication Data without an Authentication Method is a Protocol Error
/// (§3.1.2.11.10); the same holds in CONNACK and AUTH, where the data only
/// has meaning within the method (§4.12).
#[inline]
fn auth_data_needs_method(
    method: &Option<MqttString>,
    data: &Option<BinaryData>,
) -> Result<(), DecodeError> {
    if data.is_some() && method.is_none() {
        return Err(DecodeError::AuthenticationDataWithoutMethod);
    }
    Ok(())
}

/// [`auth_data_needs_method`] for a sender.
#[inline]
fn auth_data_needs_method_build(
    method: &Option<MqttString>,
    data: &Option<BinaryData>,
) -> Result<(), BuildError> {
    auth_data_needs_method(method, data).map_err(|_| {
        BuildError::Forbidden(
            "Authentication Data requires an Authentication Method (§3.1.2.11.10)",
        )
    })
}

/// Defines one property set: the struct, and its decoding, sizing, encoding
/// and sender-side validation. Fields are listed in identifier order, which
/// is the order they are encoded in (checked at compile time). Each field is
/// `Option<T>` (at most once) or `Vec<T>` (repeatable), `T` a
/// [`value::PropertyValue`].
macro_rules! properties {
    (
        $(#[$meta:meta])*
        pub struct $name:ident for $packet_type:ident
            $(where auth($method:ident, $data:ident))?
        {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty = $id:literal
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

        impl $name {
            /// Reads the Property Length and then exactly that many bytes of
            /// properties (§2.2.2).
            ///
            /// A Property Identifier is a Variable Byte Integer, but every
            /// defined one fits in a single byte below 0x80; a first byte of
            /// 0x80 or more starts no valid identifier, so it is refused like
            /// any identifier this set does not allow.
            #[inline]
            pub(crate) fn decode(
                r: &mut $crate::wire::Reader<'_>,
            ) -> Result<Self, $crate::DecodeError> {
                use $crate::properties::value::{PropertyValue, Slot};
                let len = r.varint()? as usize;
                let mut p = r.sub(len)?;
                let mut out = Self::default();
                while p.remaining() > 0 {
                    let id = p.u8()?;
                    match id {
                        $(
                            $id => {
                                let value =
                                    <<$ty as Slot>::Value as PropertyValue>::read(&mut p, id)?;
                                <$ty as Slot>::fill(&mut out.$field, value, id)?;
                            }
                        )*
                        _ => {
                            return Err($crate::DecodeError::PropertyNotAllowed {
                                packet_type: $crate::wire::PacketType::$packet_type,
                                id,
                            });
                        }
                    }
                }
                $(
                    $crate::properties::auth_data_needs_method(&out.$method, &out.$data)?;
                )?
                Ok(out)
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

            /// Writes the Property Length and the properties, in identifier
            /// order, repeated ones in their order.
            #[inline]
            pub(crate) fn encode<B: bytes::BufMut>(&self, buf: &mut B) {
                use $crate::properties::value::{PropertyValue, Slot};
                let n = self.properties_len();
                $crate::wire::varint::put_varint(buf, u32::try_from(n).unwrap_or(u32::MAX));
                $(
                    for v in <$ty as Slot>::values(&self.$field) {
                        buf.put_u8($id);
                        v.write(buf);
                    }
                )*
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
                    $crate::properties::auth_data_needs_method_build(&self.$method, &self.$data)?;
                )?
                Ok(())
            }
        }
    };
}
use properties;
