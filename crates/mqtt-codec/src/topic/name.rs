//! Topic Names: what a PUBLISH is sent to.

use bytes::Bytes;
use core::fmt;

use super::{Levels, TopicError};
use crate::MqttString;

/// A Topic Name: a non-empty UTF-8 Encoded String without wildcards
/// [MQTT-4.7.3-1], [MQTT-4.7.0-1] (v3.1.1: [MQTT-4.7.1-1]). The one exception
/// is [`TopicName::empty`] (also the [`Default`]), which only a v5.0 PUBLISH
/// carrying a Topic Alias may use.
///
/// Names are compared byte for byte, case-sensitively, without any
/// normalization [MQTT-4.7.3-4]; levels may be empty (`/a`, `a//b`, `/`).
///
/// ```
/// use mqtt_codec::{TopicError, TopicName};
/// let name = TopicName::new("sport/tennis/player1")?;
/// assert_eq!(name.levels().collect::<Vec<_>>(), ["sport", "tennis", "player1"]);
/// assert_eq!(TopicName::new("sport/+"), Err(TopicError::WildcardInName));
/// # Ok::<(), TopicError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TopicName(MqttString);

impl TopicName {
    /// Checks `s` and takes it as a Topic Name.
    ///
    /// # Errors
    /// [`TopicError::Empty`], [`TopicError::WildcardInName`], or
    /// [`TopicError::Value`] when `s` is not a UTF-8 Encoded String.
    pub fn new(s: impl TryInto<MqttString, Error = crate::ValueError>) -> Result<Self, TopicError> {
        Self::from_mqtt_string(s.try_into()?)
    }

    /// A Topic Name from a `'static str`, without copying it.
    ///
    /// Errs as [`TopicName::new`].
    #[inline]
    pub fn from_static(s: &'static str) -> Result<Self, TopicError> {
        let bytes = s.as_bytes();
        let plain = !bytes.is_empty()
            && bytes.len() <= crate::string::MAX_LEN
            && crate::string::is_plain(bytes);
        if !plain {
            // Not plain ASCII, or empty, or too long: the whole check.
            return Self::from_mqtt_string(MqttString::from_static(s)?);
        }
        Ok(TopicName(MqttString::from_checked(Bytes::from_static(
            bytes,
        ))))
    }

    /// Checks an already validated string for the Topic Name rules; the
    /// name shares the string's buffer.
    ///
    /// # Errors
    /// [`TopicError::Empty`] or [`TopicError::WildcardInName`].
    #[inline]
    pub fn from_mqtt_string(s: MqttString) -> Result<Self, TopicError> {
        Self::check_name(s.as_bytes())?;
        Ok(TopicName(s))
    }

    /// The Topic Name rules past those of a string: not empty, no wildcard.
    #[inline]
    pub(crate) fn check_name(checked: &[u8]) -> Result<(), TopicError> {
        if checked.is_empty() {
            return Err(TopicError::Empty);
        }
        if crate::string::scan(checked).wildcard {
            return Err(TopicError::WildcardInName);
        }
        Ok(())
    }

    /// Checks the bytes of a non-empty Topic Name read off the wire, in one
    /// pass for the common case.
    #[inline(always)]
    pub(crate) fn check_wire(raw: &[u8]) -> Result<(), crate::DecodeError> {
        if !crate::string::is_plain(raw) || raw.is_empty() {
            // Rare: an invalid name, or a valid one that is not plain ASCII.
            Self::check_wire_rest(raw, crate::string::scan(raw))?;
        }
        Ok(())
    }

    /// A Topic Name of bytes that passed [`TopicName::check_wire`].
    #[inline(always)]
    pub(crate) fn from_checked_wire(raw: Bytes) -> Self {
        TopicName(MqttString::from_checked(raw))
    }

    /// The checks of [`TopicName::check_wire`] past the one-pass scan.
    #[cold]
    #[inline(never)]
    fn check_wire_rest(raw: &[u8], found: crate::string::Scan) -> Result<(), crate::DecodeError> {
        crate::string::check_scanned(raw, found)?;
        if raw.is_empty() {
            return Err(crate::DecodeError::InvalidTopicName(TopicError::Empty));
        }
        if found.wildcard {
            return Err(crate::DecodeError::InvalidTopicName(
                TopicError::WildcardInName,
            ));
        }
        Ok(())
    }

    /// Checks raw bytes for both the string and the Topic Name rules,
    /// without copying them.
    ///
    /// # Errors
    /// As [`TopicName::new`].
    #[inline]
    pub fn from_bytes(b: Bytes) -> Result<Self, TopicError> {
        Self::from_mqtt_string(MqttString::from_bytes(b)?)
    }

    /// The zero-length Topic Name that a v5.0 PUBLISH sends together with a
    /// Topic Alias that is already mapped (§3.3.2.3.4). Nowhere else valid.
    pub const fn empty() -> Self {
        TopicName(MqttString::new())
    }

    /// The name.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The underlying buffer.
    #[inline]
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }

    /// The name as an [`MqttString`].
    #[inline]
    pub fn as_mqtt_string(&self) -> &MqttString {
        &self.0
    }

    /// The levels of the name, split at each `/` (§4.7.1.1).
    #[inline]
    pub fn levels(&self) -> Levels<'_> {
        Levels::new(self.as_str())
    }

    /// Whether this is the zero-length name of [`TopicName::empty`].
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Bytes on the wire, length prefix included.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        self.0.encoded_len()
    }

    /// Whether the name starts with `$` (§4.7.2): such topics are not matched
    /// by filters that begin with a wildcard [MQTT-4.7.2-1].
    #[inline]
    pub fn is_dollar(&self) -> bool {
        self.0.as_bytes().first() == Some(&b'$')
    }
}

impl TryFrom<&str> for TopicName {
    type Error = TopicError;
    fn try_from(s: &str) -> Result<Self, TopicError> {
        TopicName::new(s)
    }
}

impl TryFrom<alloc::string::String> for TopicName {
    type Error = TopicError;
    fn try_from(s: alloc::string::String) -> Result<Self, TopicError> {
        TopicName::new(s)
    }
}

/// What a high-level publish takes as its Topic Name: a `&str` or
/// `String` (checked, copied or taken over), or a [`TopicName`] already
/// checked (no copy, no allocation: keep one and clone it per message).
pub trait IntoTopicName {
    /// The Topic Name; errs when it is not a valid one (§4.7.3).
    fn into_topic_name(self) -> Result<TopicName, TopicError>;
}

impl IntoTopicName for TopicName {
    #[inline]
    fn into_topic_name(self) -> Result<TopicName, TopicError> {
        Ok(self)
    }
}

impl IntoTopicName for &TopicName {
    #[inline]
    fn into_topic_name(self) -> Result<TopicName, TopicError> {
        Ok(self.clone())
    }
}

impl IntoTopicName for &str {
    fn into_topic_name(self) -> Result<TopicName, TopicError> {
        TopicName::new(self)
    }
}

impl IntoTopicName for alloc::string::String {
    fn into_topic_name(self) -> Result<TopicName, TopicError> {
        TopicName::new(self)
    }
}

impl IntoTopicName for &alloc::string::String {
    fn into_topic_name(self) -> Result<TopicName, TopicError> {
        TopicName::new(self.as_str())
    }
}

impl From<TopicName> for MqttString {
    fn from(t: TopicName) -> Self {
        t.0
    }
}

/// A map keyed by Topic Names can be searched with a `&str` (equality,
/// order and hash agree with the `str`'s).
impl core::borrow::Borrow<str> for TopicName {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for TopicName {
    fn eq(&self, other: &str) -> bool {
        self.0.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for TopicName {
    fn eq(&self, other: &&str) -> bool {
        self.0.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ValueError;
    use alloc::string::String;
    use alloc::vec::Vec;

    fn name(s: &str) -> Result<TopicName, TopicError> {
        TopicName::new(s)
    }

    /// [MQTT-4.7.0-1] (v3.1.1 [MQTT-4.7.1-1]), [MQTT-3.3.2-2]: no wildcard
    /// character anywhere in a Topic Name, alone or inside a level.
    #[test]
    fn wildcards_are_refused() {
        for s in [
            "#",
            "+",
            "a/#",
            "a/+",
            "+/a",
            "a/b#",
            "a+/b",
            "a/+b/c",
            "sport/tennis#",
        ] {
            assert_eq!(name(s), Err(TopicError::WildcardInName), "{s}");
        }
    }

    /// [MQTT-4.7.3-1] a Topic Name is at least one character long.
    #[test]
    fn empty_is_refused() {
        assert_eq!(name(""), Err(TopicError::Empty));
        assert_eq!(TopicName::from_bytes(Bytes::new()), Err(TopicError::Empty));
        assert_eq!(
            TopicName::from_mqtt_string(MqttString::new()),
            Err(TopicError::Empty)
        );
    }

    /// [MQTT-4.7.3-2] U+0000 is refused.
    #[test]
    fn null_character_is_refused() {
        assert_eq!(
            name("a\0b"),
            Err(TopicError::Value(ValueError::NullCharacter))
        );
        assert_eq!(
            TopicName::from_bytes(Bytes::from_static(b"a/\0")),
            Err(TopicError::Value(ValueError::NullCharacter))
        );
    }

    /// [MQTT-4.7.3-3] at most 65,535 bytes.
    #[test]
    fn length_limit() {
        let long = alloc::vec![b'a'; 65_536];
        assert_eq!(
            TopicName::from_bytes(Bytes::from(long.clone())),
            Err(TopicError::Value(ValueError::TooLong(65_536)))
        );
        let max = TopicName::from_bytes(Bytes::copy_from_slice(&long[..65_535])).unwrap();
        assert_eq!(max.encoded_len(), 65_537);
    }

    /// Ill-formed UTF-8 is refused (§1.5.4).
    #[test]
    fn ill_formed_utf8_is_refused() {
        assert_eq!(
            TopicName::from_bytes(Bytes::from_static(&[b'a', 0xFF])),
            Err(TopicError::Value(ValueError::InvalidUtf8))
        );
    }

    /// §4.7.3: spaces, a lone `/`, leading and trailing `/`, `$` and
    /// non-ASCII characters are all valid; distinct strings are distinct names.
    #[test]
    fn valid_names() {
        for s in [
            "/",
            "//",
            "/finance",
            "finance/",
            "a//b",
            "Accounts payable",
            "$SYS/x",
            "é/ü",
            " ",
        ] {
            assert_eq!(name(s).unwrap().as_str(), s);
        }
        assert_ne!(name("/finance").unwrap(), name("finance").unwrap());
        // [MQTT-4.7.3-4] case-sensitive, no normalization.
        assert_ne!(name("ACCOUNTS").unwrap(), name("Accounts").unwrap());
        assert_ne!(name("\u{e9}").unwrap(), name("e\u{301}").unwrap());
    }

    /// Zero-copy: the name is the buffer it was made from.
    #[test]
    fn from_bytes_does_not_copy() {
        let buf = Bytes::from_static(b"a/b");
        let n = TopicName::from_bytes(buf.clone()).unwrap();
        assert_eq!(n.as_str().as_ptr(), buf.as_ptr());
    }

    /// §4.7.1.1: adjacent separators make an empty level.
    #[test]
    fn levels() {
        let levels = |s: &str| {
            name(s)
                .unwrap()
                .levels()
                .map(String::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(levels("a"), ["a"]);
        assert_eq!(levels("/"), ["", ""]);
        assert_eq!(levels("/a"), ["", "a"]);
        assert_eq!(levels("a//b"), ["a", "", "b"]);
        assert_eq!(levels("a/"), ["a", ""]);
        assert_eq!(name("a/b/c").unwrap().levels().next_back(), Some("c"));
        assert_eq!(TopicName::empty().levels().collect::<Vec<_>>(), [""]);
    }

    /// §4.7.2: `$` topics are recognised.
    #[test]
    fn dollar() {
        assert!(name("$SYS/broker").unwrap().is_dollar());
        assert!(name("$").unwrap().is_dollar());
        assert!(!name("a/$SYS").unwrap().is_dollar());
        assert!(!TopicName::empty().is_dollar());
        assert!(TopicName::default().is_empty());
    }
}
