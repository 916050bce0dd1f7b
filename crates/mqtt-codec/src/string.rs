//! UTF-8 Encoded Strings (§1.5.4) and Binary Data (§1.5.6): the two
//! length-prefixed field types, each a zero-copy `Bytes` that has passed the
//! spec's checks once.

use ascii::AsciiStr;
use bytes::Bytes;
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

/// What one 8-byte word holds, as non-zero high bits per finding.
#[derive(Clone, Copy, Default)]
struct Words {
    nul: u64,
    high: u64,
    wildcard: u64,
}

impl Words {
    #[inline(always)]
    fn add(&mut self, w: u64) {
        self.nul |= zero_byte(w);
        self.high |= w;
        self.wildcard |= wildcards(w);
    }

    #[inline(always)]
    fn scan(self) -> Scan {
        Scan {
            nul: self.nul != 0,
            non_ascii: self.high & HI != 0,
            wildcard: self.wildcard != 0,
        }
    }
}

/// Non-zero exactly when some byte of `w` is `+` or `#`.
#[inline(always)]
const fn wildcards(w: u64) -> u64 {
    zero_byte(w ^ (LO * b'+' as u64)) | zero_byte(w ^ (LO * b'#' as u64))
}

/// The 8 bytes at `bytes[at..]`, which the caller has checked to be there.
#[inline(always)]
fn word(bytes: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(w)
}

/// One pass over `bytes` for the bytes that the string and topic rules care
/// about: eight at a time, the last word overlapping the one before it (and
/// strings of 4 to 7 bytes read as two overlapping halves), so that no byte
/// is left for a loop of its own.
#[inline]
pub(crate) fn scan(bytes: &[u8]) -> Scan {
    let mut words = Words::default();
    each_word(bytes, |w| words.add(w));
    words.scan()
}

/// Whether `bytes` hold none of the bytes [`scan`] looks for: no 0x00, no
/// byte of 0x80 or more, no `+` or `#`. The hot path's check, one
/// accumulator instead of three; always inlined, as a call costs more than
/// its work on a short topic.
#[inline(always)]
pub(crate) fn is_plain(bytes: &[u8]) -> bool {
    let mut found = 0;
    each_word(bytes, |w| {
        found |= zero_byte(w) | (w & HI) | wildcards(w);
    });
    found == 0
}

/// Calls `f` with words that together cover every byte of `bytes` (some
/// twice), padding a string of under 4 bytes with a byte no check looks for.
#[inline(always)]
fn each_word(bytes: &[u8], mut f: impl FnMut(u64)) {
    let n = bytes.len();
    if n >= 8 {
        // Two words a step, the last step's words overlapping what is left.
        let mut at = 0;
        while at + 16 < n {
            f(word(bytes, at));
            f(word(bytes, at + 8));
            at += 16;
        }
        f(word(bytes, at.min(n - 8)));
        f(word(bytes, n - 8));
    } else if n >= 4 {
        let half = |at: usize| {
            let mut h = [0u8; 4];
            h.copy_from_slice(&bytes[at..at + 4]);
            u64::from(u32::from_le_bytes(h))
        };
        f(half(0) | half(n - 4) << 32);
    } else {
        let mut w = [b'a'; 8];
        for (slot, &b) in w.iter_mut().zip(bytes) {
            *slot = b;
        }
        f(u64::from_le_bytes(w));
    }
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

/// `bytes`, already checked to be UTF-8, as a `&str`: a word-at-a-time ASCII
/// check for plain ASCII, a UTF-8 check for other text. Bytes that were not
/// checked and are not UTF-8 read as the empty string.
#[inline(always)]
pub(crate) fn checked_str(bytes: &[u8]) -> &str {
    match AsciiStr::from_ascii(bytes) {
        Ok(ascii) => ascii.as_str(),
        Err(_) => core::str::from_utf8(bytes).unwrap_or_default(),
    }
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
/// The rules are checked once, when the string is made. [`MqttString::as_str`]
/// then costs one word-at-a-time ASCII check for plain ASCII text (nearly all
/// topics and identifiers), and a UTF-8 check for other text: without unsafe
/// code a `&str` cannot be kept over a `Bytes` for free, and a string that
/// kept its own checked copy would cost a UTF-8 check (several ns even for a
/// short topic) on every decode instead.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct MqttString(Bytes);

impl MqttString {
    /// The empty string.
    pub const fn new() -> Self {
        MqttString(Bytes::new())
    }

    /// A string from a `'static str`, checked like any other.
    pub fn from_static(s: &'static str) -> Result<Self, ValueError> {
        Self::from_bytes(Bytes::from_static(s.as_bytes()))
    }

    /// Takes `bytes` as a string after checking the rules of §1.5.4.
    #[inline]
    pub fn from_bytes(bytes: Bytes) -> Result<Self, ValueError> {
        validate_str(&bytes)?;
        Ok(Self::from_checked(bytes))
    }

    /// Wraps bytes that passed [`check_scanned`] and are at most
    /// [`MAX_LEN`] long.
    #[inline(always)]
    pub(crate) fn from_checked(bytes: Bytes) -> Self {
        MqttString(bytes)
    }

    /// The string.
    #[inline]
    pub fn as_str(&self) -> &str {
        checked_str(&self.0)
    }

    /// The UTF-8 bytes, without the length prefix.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying buffer.
    #[inline]
    pub fn into_bytes(self) -> Bytes {
        self.0
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

/// Hashes as the `str` does, so that maps keyed by strings can be searched
/// with a `&str` (see the `Borrow` impl).
impl core::hash::Hash for MqttString {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl core::borrow::Borrow<str> for MqttString {
    fn borrow(&self) -> &str {
        self.as_str()
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

    /// The eight-at-a-time scan, and the one-flag `is_plain`, find each byte
    /// they look for at every position (short strings, overlapping words),
    /// and nothing in strings without them.
    #[test]
    fn scan_finds_every_position() {
        for len in 0..40 {
            let clean = alloc::vec![b'a'; len];
            let found = scan(&clean);
            assert!(!found.nul && !found.non_ascii && !found.wildcard);
            assert!(is_plain(&clean));
            for at in 0..len {
                for (byte, which) in [(0u8, 0), (0x80, 1), (0xFF, 1), (b'+', 2), (b'#', 2)] {
                    let mut s = clean.clone();
                    s[at] = byte;
                    assert!(!is_plain(&s), "byte {byte:#04x} at {at} of {len}");
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
