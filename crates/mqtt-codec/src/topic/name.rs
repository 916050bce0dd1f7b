//! Topic Names: what a PUBLISH is sent to.

use bytes::Bytes;
use core::fmt;

use super::TopicError;
use crate::MqttString;

/// A Topic Name: a non-empty UTF-8 Encoded String without wildcards
/// [MQTT-4.7.3-1], [MQTT-4.7.0-1]. The one exception is
/// [`TopicName::empty`], which only a v5.0 PUBLISH carrying a Topic Alias
/// may use.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TopicName(MqttString);

impl TopicName {
    /// Checks `s` and takes it as a Topic Name.
    pub fn new(s: impl TryInto<MqttString, Error = crate::ValueError>) -> Result<Self, TopicError> {
        Self::from_mqtt_string(s.try_into()?)
    }

    /// A Topic Name from a `'static str`, without copying it.
    pub fn from_static(s: &'static str) -> Result<Self, TopicError> {
        Self::from_mqtt_string(MqttString::from_static(s)?)
    }

    /// Checks an already validated string for the Topic Name rules.
    #[inline]
    pub fn from_mqtt_string(s: MqttString) -> Result<Self, TopicError> {
        if s.is_empty() {
            return Err(TopicError::Empty);
        }
        if s.as_bytes().iter().any(|&b| b == b'+' || b == b'#') {
            return Err(TopicError::WildcardInName);
        }
        Ok(TopicName(s))
    }

    /// Checks raw bytes for both the string and the Topic Name rules.
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

    /// The name as an [`MqttString`].
    #[inline]
    pub fn as_mqtt_string(&self) -> &MqttString {
        &self.0
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

impl From<TopicName> for MqttString {
    fn from(t: TopicName) -> Self {
        t.0
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
