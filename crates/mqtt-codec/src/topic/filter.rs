//! Topic Filters: what a SUBSCRIBE or UNSUBSCRIBE names.

use bytes::Bytes;
use core::fmt;

use super::TopicError;
use crate::MqttString;

/// A Topic Filter: a non-empty UTF-8 Encoded String [MQTT-4.7.3-1] whose
/// wildcards stand where §4.7.1 allows: `#` only as the whole last level
/// [MQTT-4.7.1-1], `+` only as a whole level [MQTT-4.7.1-2].
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicFilter(MqttString);

impl TopicFilter {
    /// Checks `s` and takes it as a Topic Filter.
    pub fn new(s: impl TryInto<MqttString, Error = crate::ValueError>) -> Result<Self, TopicError> {
        Self::from_mqtt_string(s.try_into()?)
    }

    /// A Topic Filter from a `'static str`, without copying it.
    pub fn from_static(s: &'static str) -> Result<Self, TopicError> {
        Self::from_mqtt_string(MqttString::from_static(s)?)
    }

    /// Checks raw bytes for both the string and the Topic Filter rules.
    pub fn from_bytes(b: Bytes) -> Result<Self, TopicError> {
        Self::from_mqtt_string(MqttString::from_bytes(b)?)
    }

    /// Checks an already validated string for the Topic Filter rules.
    pub fn from_mqtt_string(s: MqttString) -> Result<Self, TopicError> {
        if s.is_empty() {
            return Err(TopicError::Empty);
        }
        let mut levels = s.as_bytes().split(|&b| b == b'/').peekable();
        while let Some(level) = levels.next() {
            let last = levels.peek().is_none();
            match level {
                b"#" if last => {}
                b"+" => {}
                _ if level.iter().any(|&b| b == b'+' || b == b'#') => {
                    return Err(TopicError::MisplacedWildcard);
                }
                _ => {}
            }
        }
        Ok(TopicFilter(s))
    }

    /// The filter.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The filter as an [`MqttString`].
    #[inline]
    pub fn as_mqtt_string(&self) -> &MqttString {
        &self.0
    }

    /// Bytes on the wire, length prefix included.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        self.0.encoded_len()
    }

    /// Whether the filter holds a `+` or `#` wildcard.
    pub fn has_wildcard(&self) -> bool {
        self.0.as_bytes().iter().any(|&b| b == b'+' || b == b'#')
    }
}

impl TryFrom<&str> for TopicFilter {
    type Error = TopicError;
    fn try_from(s: &str) -> Result<Self, TopicError> {
        TopicFilter::new(s)
    }
}

impl TryFrom<alloc::string::String> for TopicFilter {
    type Error = TopicError;
    fn try_from(s: alloc::string::String) -> Result<Self, TopicError> {
        TopicFilter::new(s)
    }
}

impl From<TopicFilter> for MqttString {
    fn from(t: TopicFilter) -> Self {
        t.0
    }
}

impl PartialEq<str> for TopicFilter {
    fn eq(&self, other: &str) -> bool {
        self.0.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for TopicFilter {
    fn eq(&self, other: &&str) -> bool {
        self.0.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for TopicFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for TopicFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
