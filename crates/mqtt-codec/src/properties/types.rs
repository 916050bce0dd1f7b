//! The property value types that are not shared with the rest of the codec.

use core::fmt;
use core::num::NonZeroU32;

use crate::wire::VARINT_MAX;
use crate::{MqttString, ValueError};

/// A User Property (v5.0 §3.1.2.11.8 and the like): a UTF-8 String Pair
/// (§1.5.7). A packet may carry any number of them, in an order receivers
/// keep [MQTT-3.3.2-18], and the same name may appear more than once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserProperty {
    /// The name.
    pub name: MqttString,
    /// The value.
    pub value: MqttString,
}

impl UserProperty {
    /// A pair from anything that converts into [`MqttString`].
    ///
    /// Errs if either string is not a valid UTF-8 Encoded String (§1.5.4).
    ///
    /// ```
    /// use mqtt_codec::properties::UserProperty;
    /// let p = UserProperty::new("region", "eu-west")?;
    /// assert_eq!(p.name, "region");
    /// # Ok::<(), mqtt_codec::ValueError>(())
    /// ```
    pub fn new<N, V>(name: N, value: V) -> Result<Self, ValueError>
    where
        N: TryInto<MqttString, Error = ValueError>,
        V: TryInto<MqttString, Error = ValueError>,
    {
        Ok(UserProperty {
            name: name.try_into()?,
            value: value.try_into()?,
        })
    }
}

/// A Subscription Identifier (v5.0 §3.8.2.1.2): 1 to 268,435,455, a Variable
/// Byte Integer on the wire. 0 is a Protocol Error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriptionIdentifier(NonZeroU32);

impl SubscriptionIdentifier {
    /// The largest identifier: 268,435,455.
    pub const MAX: u32 = VARINT_MAX;
    /// The smallest identifier, 1.
    pub const MIN: Self = SubscriptionIdentifier(NonZeroU32::MIN);

    /// The identifier `value`, or `None` outside 1..=268,435,455.
    ///
    /// ```
    /// use mqtt_codec::properties::SubscriptionIdentifier;
    /// assert_eq!(SubscriptionIdentifier::new(7).map(|s| s.get()), Some(7));
    /// assert!(SubscriptionIdentifier::new(0).is_none());
    /// assert!(SubscriptionIdentifier::new(268_435_456).is_none());
    /// ```
    #[inline]
    pub const fn new(value: u32) -> Option<Self> {
        if value > VARINT_MAX {
            return None;
        }
        match NonZeroU32::new(value) {
            Some(v) => Some(SubscriptionIdentifier(v)),
            None => None,
        }
    }

    /// The identifier.
    #[inline]
    pub const fn get(self) -> u32 {
        self.0.get()
    }
}

impl fmt::Display for SubscriptionIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The Payload Format Indicator (v5.0 §3.3.2.3.2, §3.1.3.2.3): what the
/// payload of a PUBLISH or Will Message holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum PayloadFormatIndicator {
    /// 0: unspecified bytes, the meaning when the property is absent.
    #[default]
    Unspecified = 0,
    /// 1: UTF-8 Encoded Character Data.
    Utf8 = 1,
}
