//! UTF-8 Encoded Strings (§1.5.4) and Binary Data (§1.5.6): the two
//! length-prefixed field types, each a zero-copy `Bytes` that has passed the
//! spec's checks once.

use bytes::Bytes;
use bytestring::ByteString;
use core::fmt;

use crate::ValueError;

/// The longest string or binary value a Two Byte Integer length can announce.
pub const MAX_LEN: usize = 65_535;

/// What [`scan`] found in a byte string.
#[derive(Clone, Copy)]
pub(crate) struct Scan {
    /// A 0x00 byte (U+0000 in UTF-8).
    pub nul: bool,
    /// A byte of 0x80 or more: not plain ASCII, so UTF-8 must be checked.
    pub non_ascii: bool,
    /// A `+` or `#`.
    pub wildcard: bool,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Non-zero exactly when some byte of `x` is 0.
#[inline(always)]
const fn zero_byte(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & HI
}

/// One pass over `bytes`, eight at a time, for the bytes that the string
/// and topic rules care about.
#[inline]
pub(crate) fn scan(bytes: &[u8]) -> Scan {
    let (mut nul, mut high, mut wildcard) = (0u64, 0u64, 0u64);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        nul |= zero_byte(w);
        high |= w;
        wildcard |= zero_byte(w ^ (LO * b'+' as u64)) | zero_byte(w ^ (LO * b'#' as u64));
    }
    let mut found = Scan {
        nul: nul != 0,
        non_ascii: high & HI != 0,
        wildcard: wildcard != 0,
    };
    for &b in chunks.remainder() {
        found.nul |= b == 0;
        found.non_ascii |= b >= 0x80;
        found.wildcard |= b == b'+' || b == b'#';
    }
    found
}

/// Checks the UTF-8 rules given what [`scan`] found.
#[inline]
pub(crate) fn check_scanned(bytes: &[u8], found: Scan) -> Result<(), ValueError> {
    if found.nul {
        return Err(ValueError::NullCharacter);
    }
    if found.non_ascii && core::str::from_utf8(bytes).is_err() {
        return Err(ValueError::InvalidUtf8);
    }
    Ok(())
}

/// `bytes` as a checked string, once they passed [`check_scanned`]; the
/// conversion checks UTF-8 itself (plain ASCII in one quick pass).
#[inline(always)]
fn checked(bytes: Bytes) -> Result<ByteString, ValueError> {
    ByteString::try_from(bytes).map_err(|_| ValueError::InvalidUtf8)
}

/// Checks the rules of a UTF-8 Encoded String: well-formed UTF-8 with no
/// surrogates [MQTT-1.5.4-1], no U+0000 [MQTT-1.5.4-2], at most 65,535 bytes.
#[inline]
pub fn validate_str(bytes: &[u8]) -> Result<(), ValueError> {
    if bytes.len() > MAX_LEN {
        return Err(ValueError::TooLong(bytes.len()));
    }
    check_scanned(bytes, scan(bytes))
}

/// A UTF-8 Encoded String: well-formed UTF-8, without U+0000, at most 65,535
/// bytes. Decoded strings are slices of the received buffer.
///
/// The bytes are held as a [`ByteString`], so that [`MqttString::as_str`]
/// costs nothing after the one check at construction.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MqttString(ByteString);

impl MqttString {
    /// The empty string.
    pub const fn new() -> Self {
        MqttString(ByteString::new())
    }

    /// A string from a `'static str`, checked like any other.
    pub fn from_static(s: &'static str) -> Result<Self, ValueError> {
        Self::from_bytes(Bytes::from_static(s.as_bytes()))
    }

    /// Takes `bytes` as a string after checking the rules of §1.5.4.
    #[inline]
    pub fn from_bytes(bytes: Bytes) -> Result<Self, ValueError> {
        validate_str(&bytes)?;
        Self::from_scanned(bytes)
    }

    /// Wraps bytes that passed [`check_scanned`] and are at most
    /// [`MAX_LEN`] long.
    #[inline(always)]
    pub(crate) fn from_scanned(bytes: Bytes) -> Result<Self, ValueError> {
        Ok(MqttString(checked(bytes)?))
    }

    /// The string (free: checked once, when made).
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The UTF-8 bytes, without the length prefix.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The underlying buffer.
    #[inline]
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }

    /// Length in bytes, without the length prefix.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Bytes on the wire, length prefix included.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        2 + self.0.len()
    }
}

impl TryFrom<&str> for MqttString {
    type Error = ValueError;
    fn try_from(s: &str) -> Result<Self, ValueError> {
        Self::from_bytes(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl TryFrom<alloc::string::String> for MqttString {
    type Error = ValueError;
    fn try_from(s: alloc::string::String) -> Result<Self, ValueError> {
        Self::from_bytes(Bytes::from(s))
    }
}

impl TryFrom<Bytes> for MqttString {
    type Error = ValueError;
    fn try_from(b: Bytes) -> Result<Self, ValueError> {
        Self::from_bytes(b)
    }
}

impl AsRef<str> for MqttString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for MqttString {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for MqttString {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for MqttString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for MqttString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Binary Data (§1.5.6): at most 65,535 bytes, a slice of the received buffer
/// when decoded.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct BinaryData(Bytes);

impl BinaryData {
    /// Empty binary data.
    pub const fn new() -> Self {
        BinaryData(Bytes::new())
    }

    /// Takes `bytes` if they fit a Two Byte Integer length.
    pub fn from_bytes(bytes: Bytes) -> Result<Self, ValueError> {
        if bytes.len() > MAX_LEN {
            return Err(ValueError::TooLong(bytes.len()));
        }
        Ok(BinaryData(bytes))
    }

    /// From the wire, where the length prefix already bounds the size.
    pub(crate) fn from_wire(bytes: Bytes) -> Self {
        BinaryData(bytes)
    }

    /// The bytes, without the length prefix.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying buffer.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Length in bytes, without the length prefix.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Bytes on the wire, length prefix included.
    pub fn encoded_len(&self) -> usize {
        2 + self.0.len()
    }
}

impl TryFrom<&[u8]> for BinaryData {
    type Error = ValueError;
    fn try_from(b: &[u8]) -> Result<Self, ValueError> {
        Self::from_bytes(Bytes::copy_from_slice(b))
    }
}

impl TryFrom<Bytes> for BinaryData {
    type Error = ValueError;
    fn try_from(b: Bytes) -> Result<Self, ValueError> {
        Self::from_bytes(b)
    }
}

impl TryFrom<alloc::vec::Vec<u8>> for BinaryData {
    type Error = ValueError;
    fn try_from(b: alloc::vec::Vec<u8>) -> Result<Self, ValueError> {
        Self::from_bytes(Bytes::from(b))
    }
}

impl fmt::Debug for BinaryData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BinaryData({:02x?})", &self.0[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [MQTT-1.5.4-1] ill-formed UTF-8, including encoded surrogates, is refused.
    #[test]
    fn ill_formed_utf8_is_refused() {
        for bad in [
            &[0xC0, 0x80][..],
            &[0xED, 0xA0, 0x80],
            &[0xFF],
            &[b'a', 0xE2, 0x82],
        ] {
            assert_eq!(
                validate_str(bad),
                Err(ValueError::InvalidUtf8),
                "{bad:02x?}"
            );
        }
    }

    /// [MQTT-1.5.4-2] U+0000 is refused.
    #[test]
    fn null_character_is_refused() {
        assert_eq!(validate_str(b"a\0b"), Err(ValueError::NullCharacter));
    }

    /// [MQTT-1.5.4-3] U+FEFF is carried, not stripped.
    #[test]
    fn bom_is_kept() {
        let s = MqttString::try_from("\u{FEFF}x").unwrap();
        assert_eq!(s.as_str(), "\u{FEFF}x");
        assert_eq!(s.len(), 4);
    }

    /// The eight-at-a-time scan finds each byte it looks for at every
    /// position, and nothing in strings without them.
    #[test]
    fn scan_finds_every_position() {
        for len in 0..40 {
            let clean = alloc::vec![b'a'; len];
            let found = scan(&clean);
            assert!(!found.nul && !found.non_ascii && !found.wildcard);
            for at in 0..len {
                for (byte, which) in [(0u8, 0), (0x80, 1), (0xFF, 1), (b'+', 2), (b'#', 2)] {
                    let mut s = clean.clone();
                    s[at] = byte;
                    let found = scan(&s);
                    assert_eq!(
                        [found.nul, found.non_ascii, found.wildcard],
                        [which == 0, which == 1, which == 2],
                        "byte {byte:#04x} at {at} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn length_limit() {
        let long = alloc::vec![b'a'; MAX_LEN + 1];
        assert_eq!(validate_str(&long), Err(ValueError::TooLong(MAX_LEN + 1)));
        assert!(validate_str(&long[..MAX_LEN]).is_ok());
        assert!(BinaryData::try_from(&long[..]).is_err());
    }
}
