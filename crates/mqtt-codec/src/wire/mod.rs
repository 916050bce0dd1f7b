//! The wire primitives both versions share: fixed header, Variable Byte
//! Integers, and the reader and writer that packet modules are built from.

mod fixed_header;
pub(crate) mod reader;
pub(crate) mod varint;
pub(crate) mod writer;

pub use fixed_header::{FixedHeader, PacketType};
pub(crate) use reader::Reader;
pub use varint::{varint_len, VARINT_MAX};
