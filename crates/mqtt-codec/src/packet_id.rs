//! Packet identifiers (§2.2.1): `u16` on the standard wire, `u32` in the
//! extended mode used on links inside a broker cluster.

use core::fmt::{Debug, Display};
use core::hash::Hash;

mod sealed {
    pub trait Sealed {}
    impl Sealed for u16 {}
    impl Sealed for u32 {}
}

/// The width of packet identifiers: `u16` (2 bytes on the wire, the MQTT
/// standard) or `u32` (4 bytes, an extension for broker-to-broker links).
/// Identifiers are never 0 [MQTT-2.2.1-3].
pub trait PacketId:
    sealed::Sealed + Copy + Eq + Ord + Hash + Debug + Display + Default + Send + Sync + 'static
{
    /// Bytes an identifier takes on the wire.
    const WIRE_LEN: usize;
    /// The largest identifier.
    const MAX: Self;
    /// The identifier `value`, or `None` for 0 or a value wider than `Self`.
    fn from_u32(value: u32) -> Option<Self>;
    /// The identifier as a `u32`.
    fn to_u32(self) -> u32;
}

impl PacketId for u16 {
    const WIRE_LEN: usize = 2;
    const MAX: Self = u16::MAX;
    #[inline]
    fn from_u32(value: u32) -> Option<Self> {
        match u16::try_from(value) {
            Ok(0) | Err(_) => None,
            Ok(id) => Some(id),
        }
    }
    #[inline]
    fn to_u32(self) -> u32 {
        u32::from(self)
    }
}

impl PacketId for u32 {
    const WIRE_LEN: usize = 4;
    const MAX: Self = u32::MAX;
    #[inline]
    fn from_u32(value: u32) -> Option<Self> {
        (value != 0).then_some(value)
    }
    #[inline]
    fn to_u32(self) -> u32 {
        self
    }
}
