//! The wire primitives both versions share: fixed header, Variable Byte
//! Integers, and the reader and writer that packet modules are built from.

mod fixed_header;
pub(crate) mod reader;
pub(crate) mod split;
pub(crate) mod varint;
pub(crate) mod writer;

pub(crate) use fixed_header::publish_flags;
pub use fixed_header::{FixedHeader, PacketType};
pub(crate) use reader::Reader;
pub use varint::{complete_packets, varint_len, VARINT_MAX};

/// Returns `value` unchanged. Calling it marks the path it is on as rarely
/// taken (a `#[cold]` call), so that the optimizer lays out and inlines the
/// decoder for valid input: wrap every error the hot path can return in it.
#[cold]
#[inline(never)]
pub(crate) fn cold<T>(value: T) -> T {
    value
}

/// Marks the path it is called on as rarely taken, like [`cold`]: for the
/// paths of the decoder that are valid but rare (a packet not complete yet,
/// an empty field).
#[cold]
#[inline(never)]
pub(crate) fn cold_path() {}
