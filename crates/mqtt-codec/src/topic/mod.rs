//! Topic Names and Topic Filters (§4.7): validation, matching, and shared
//! subscriptions.

mod filter;
mod name;

pub use filter::TopicFilter;
pub use name::TopicName;

/// Why a string is not a valid Topic Name or Topic Filter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicError {
    /// Empty [MQTT-4.7.3-1].
    #[error("empty")]
    Empty,
    /// A `+` or `#` in a Topic Name [MQTT-4.7.0-1], [MQTT-3.3.2-2].
    #[error("wildcard character in a topic name")]
    WildcardInName,
    /// A `#` that is not the whole last level, or a `+` that is not a whole
    /// level [MQTT-4.7.1-1], [MQTT-4.7.1-2].
    #[error("wildcard character not at a whole level")]
    MisplacedWildcard,
    /// Not a valid UTF-8 Encoded String.
    #[error(transparent)]
    Value(#[from] crate::ValueError),
}
