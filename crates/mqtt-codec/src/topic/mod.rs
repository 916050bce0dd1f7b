//! Topic Names and Topic Filters (§4.7): validation, matching, and shared
//! subscriptions (v5.0 §4.8.2).
//!
//! The rules are the same in both versions, but the statement ids differ:
//!
//! | rule                                  | v3.1.1         | v5.0           |
//! |---------------------------------------|----------------|----------------|
//! | no wildcard in a Topic Name           | [MQTT-4.7.1-1] | [MQTT-4.7.0-1] |
//! | `#` alone and last                    | [MQTT-4.7.1-2] | [MQTT-4.7.1-1] |
//! | `+` occupies a whole level            | [MQTT-4.7.1-3] | [MQTT-4.7.1-2] |
//! | wildcard first never matches `$…`     | [MQTT-4.7.2-1] | [MQTT-4.7.2-1] |
//! | at least one character                | [MQTT-4.7.3-1] | [MQTT-4.7.3-1] |
//! | no U+0000                             | [MQTT-4.7.3-2] | [MQTT-4.7.3-2] |
//! | at most 65,535 bytes                  | [MQTT-4.7.3-3] | [MQTT-4.7.3-3] |
//! | no normalization when matching        | [MQTT-4.7.3-4] | [MQTT-4.7.3-4] |
//!
//! Shared Subscriptions exist only in v5.0: on v3.1.1 `$share/g/a` is an
//! ordinary Topic Filter, so [`TopicFilter`] accepts it on either version and
//! [`SharedSubscription::parse`] is what a v5.0 peer calls on top.

mod filter;
mod name;
mod share;

pub use filter::TopicFilter;
pub use name::{IntoTopicName, TopicName};
pub use share::SharedSubscription;

/// Why a string is not a valid Topic Name, Topic Filter or Shared
/// Subscription Topic Filter. The ids cited are v5.0's; see the
/// [module docs](self) for the v3.1.1 ones.
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
    /// A Shared Subscription Topic Filter (`$share/…`) whose ShareName is
    /// empty, as in `$share//a` [MQTT-4.8.2-1].
    #[error("shared subscription with an empty share name")]
    EmptyShareName,
    /// A ShareName that contains `+` or `#`, as in `$share/+/a`
    /// [MQTT-4.8.2-2].
    #[error("wildcard character in a share name")]
    WildcardInShareName,
    /// A ShareName that is not followed by `/` and a non-empty Topic Filter,
    /// as in `$share/group` or `$share/group/` [MQTT-4.8.2-2].
    #[error("shared subscription without a topic filter after the share name")]
    MissingSharedFilter,
    /// Not a valid UTF-8 Encoded String: U+0000 [MQTT-4.7.3-2], longer than
    /// 65,535 bytes [MQTT-4.7.3-3], or ill-formed UTF-8.
    #[error(transparent)]
    Value(#[from] crate::ValueError),
}

/// The levels of a Topic Name or Topic Filter, split at each `/` (§4.7.1.1).
///
/// There is always at least one level, and levels may be empty: `/a` has the
/// levels `""` and `"a"`, `a//b` has `"a"`, `""` and `"b"`. Returned by
/// [`TopicName::levels`] and [`TopicFilter::levels`].
#[derive(Debug, Clone)]
pub struct Levels<'a>(core::str::Split<'a, char>);

impl<'a> Levels<'a> {
    #[inline]
    fn new(s: &'a str) -> Self {
        Levels(s.split('/'))
    }
}

impl<'a> Iterator for Levels<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        self.0.next()
    }
}

impl<'a> DoubleEndedIterator for Levels<'a> {
    #[inline]
    fn next_back(&mut self) -> Option<&'a str> {
        self.0.next_back()
    }
}

impl core::iter::FusedIterator for Levels<'_> {}
