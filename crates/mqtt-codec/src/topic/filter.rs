//! Topic Filters: what a SUBSCRIBE or UNSUBSCRIBE names.

use bytes::Bytes;
use core::fmt;

use super::{Levels, TopicError, TopicName};
use crate::MqttString;

/// A Topic Filter: a non-empty UTF-8 Encoded String [MQTT-4.7.3-1] whose
/// wildcards stand where §4.7.1 allows: `#` only as the whole last level
/// [MQTT-4.7.1-1], `+` only as a whole level [MQTT-4.7.1-2] (v3.1.1:
/// [MQTT-4.7.1-2], [MQTT-4.7.1-3]).
///
/// A v5.0 Shared Subscription filter such as `$share/group/sport/#` is a
/// Topic Filter too; [`SharedSubscription::parse`](super::SharedSubscription::parse)
/// checks its extra rules and splits it.
///
/// ```
/// use mqtt_codec::{TopicError, TopicFilter};
/// assert!(TopicFilter::new("sport/+/player1/#").is_ok());
/// assert_eq!(TopicFilter::new("sport/tennis#"), Err(TopicError::MisplacedWildcard));
/// assert_eq!(TopicFilter::new("sport/#/ranking"), Err(TopicError::MisplacedWildcard));
/// assert_eq!(TopicFilter::new("sport+"), Err(TopicError::MisplacedWildcard));
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicFilter(MqttString);

impl TopicFilter {
    /// Checks `s` and takes it as a Topic Filter.
    ///
    /// # Errors
    /// [`TopicError::Empty`], [`TopicError::MisplacedWildcard`], or
    /// [`TopicError::Value`] when `s` is not a UTF-8 Encoded String.
    pub fn new(s: impl TryInto<MqttString, Error = crate::ValueError>) -> Result<Self, TopicError> {
        Self::from_mqtt_string(s.try_into()?)
    }

    /// A Topic Filter from a `'static str`, without copying it.
    pub fn from_static(s: &'static str) -> Result<Self, TopicError> {
        Self::from_mqtt_string(MqttString::from_static(s)?)
    }

    /// Checks raw bytes for both the string and the Topic Filter rules,
    /// without copying them.
    ///
    /// # Errors
    /// As [`TopicFilter::new`].
    pub fn from_bytes(b: Bytes) -> Result<Self, TopicError> {
        Self::from_mqtt_string(MqttString::from_bytes(b)?)
    }

    /// Checks an already validated string for the Topic Filter rules; the
    /// filter shares the string's buffer.
    ///
    /// # Errors
    /// [`TopicError::Empty`] or [`TopicError::MisplacedWildcard`].
    pub fn from_mqtt_string(s: MqttString) -> Result<Self, TopicError> {
        Self::check_filter(s.as_bytes())?;
        Ok(TopicFilter(s))
    }

    /// A filter of a string that passed [`TopicFilter::check_filter`].
    #[inline]
    pub(crate) fn from_checked(s: MqttString) -> Self {
        TopicFilter(s)
    }

    /// The Topic Filter rules past those of a string: not empty, wildcards
    /// only where §4.7.1 allows them.
    pub(crate) fn check_filter(checked: &[u8]) -> Result<(), TopicError> {
        if checked.is_empty() {
            return Err(TopicError::Empty);
        }
        let mut levels = checked.split(|&b| b == b'/').peekable();
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
        Ok(())
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

    /// The levels of the filter, split at each `/` (§4.7.1.1).
    #[inline]
    pub fn levels(&self) -> Levels<'_> {
        Levels::new(self.as_str())
    }

    /// Whether the filter starts with `$share/`, the mark of a v5.0 Shared
    /// Subscription (§4.8.2). Only the prefix is looked at: call
    /// [`SharedSubscription::parse`](super::SharedSubscription::parse) to
    /// check the rest and split it. On v3.1.1 such a filter is an ordinary one.
    #[inline]
    pub fn is_shared(&self) -> bool {
        self.0.as_bytes().starts_with(super::share::PREFIX)
    }

    /// Whether an Application Message published to `name` matches this
    /// filter (§4.7): level by level, byte for byte, case-sensitively and
    /// without normalization [MQTT-4.7.3-4]; `+` matches exactly one level,
    /// empty or not; `#` matches the parent level and any number of child
    /// levels; and a filter starting with `+` or `#` never matches a name
    /// starting with `$` [MQTT-4.7.2-1]. Allocates nothing.
    ///
    /// The filter is taken literally: for a v5.0 Shared Subscription match
    /// with [`SharedSubscription::matches`](super::SharedSubscription::matches),
    /// which leaves out the `$share/{ShareName}/` part (§4.8.2). The empty
    /// name of [`TopicName::empty`] matches nothing.
    ///
    /// ```
    /// use mqtt_codec::{TopicFilter, TopicName};
    /// let filter = TopicFilter::new("sport/tennis/+")?;
    /// assert!(filter.matches(&TopicName::new("sport/tennis/player1")?));
    /// assert!(!filter.matches(&TopicName::new("sport/tennis/player1/ranking")?));
    ///
    /// let all = TopicFilter::new("#")?;
    /// assert!(all.matches(&TopicName::new("sport")?));
    /// assert!(!all.matches(&TopicName::new("$SYS/uptime")?));
    /// # Ok::<(), mqtt_codec::TopicError>(())
    /// ```
    pub fn matches(&self, name: &TopicName) -> bool {
        let filter = self.0.as_bytes();
        let name = name.as_mqtt_string().as_bytes();
        match (filter.first(), name.first()) {
            (_, None) => return false,
            (Some(b'+' | b'#'), Some(b'$')) => return false,
            _ => {}
        }
        let mut filter_levels = filter.split(|&b| b == b'/');
        let mut name_levels = name.split(|&b| b == b'/');
        loop {
            match (filter_levels.next(), name_levels.next()) {
                // `#` is always last: it takes the parent level (the name may
                // end here) and every child level.
                (Some(b"#"), _) => return true,
                (Some(b"+"), Some(_)) => {}
                (Some(f), Some(n)) if f == n => {}
                (None, None) => return true,
                _ => return false,
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ValueError;
    use alloc::string::String;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn filter(s: &str) -> TopicFilter {
        TopicFilter::new(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn name(s: &str) -> TopicName {
        TopicName::new(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn matches(f: &str, n: &str) -> bool {
        filter(f).matches(&name(n))
    }

    /// [MQTT-4.7.3-1] a Topic Filter is at least one character long.
    #[test]
    fn empty_is_refused() {
        assert_eq!(TopicFilter::new(""), Err(TopicError::Empty));
        assert_eq!(
            TopicFilter::from_bytes(Bytes::new()),
            Err(TopicError::Empty)
        );
    }

    /// [MQTT-4.7.3-2] U+0000 is refused.
    #[test]
    fn null_character_is_refused() {
        assert_eq!(
            TopicFilter::new("a/\0/#"),
            Err(TopicError::Value(ValueError::NullCharacter))
        );
    }

    /// [MQTT-4.7.3-3] at most 65,535 bytes.
    #[test]
    fn length_limit() {
        let mut long = alloc::vec![b'a'; 65_534];
        long.extend_from_slice(b"/#");
        assert_eq!(
            TopicFilter::from_bytes(Bytes::from(long.clone())),
            Err(TopicError::Value(ValueError::TooLong(65_536)))
        );
        assert!(TopicFilter::from_bytes(Bytes::copy_from_slice(&long[1..])).is_ok());
    }

    /// [MQTT-4.7.1-1] (v3.1.1 [MQTT-4.7.1-2]): `#` alone or after a `/`, and
    /// last. The examples of §4.7.1.2.
    #[test]
    fn multi_level_wildcard_placement() {
        for ok in ["#", "sport/tennis/#", "sport/#", "/#", "+/#", "a//#"] {
            assert!(TopicFilter::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "sport/tennis#",
            "sport/tennis/#/ranking",
            "#/",
            "##",
            "a/#b",
            "a/b#/c",
            "#/#",
            "#+",
        ] {
            assert_eq!(
                TopicFilter::new(bad),
                Err(TopicError::MisplacedWildcard),
                "{bad}"
            );
        }
    }

    /// [MQTT-4.7.1-2] (v3.1.1 [MQTT-4.7.1-3]): `+` occupies a whole level.
    /// The examples of §4.7.1.3.
    #[test]
    fn single_level_wildcard_placement() {
        for ok in [
            "+",
            "+/tennis/#",
            "sport/+/player1",
            "+/+",
            "/+",
            "+/",
            "+//+",
            "a/+/+/#",
        ] {
            assert!(TopicFilter::new(ok).is_ok(), "{ok}");
        }
        for bad in ["sport+", "+sport", "a/b+/c", "a/+b", "++", "+a/#"] {
            assert_eq!(
                TopicFilter::new(bad),
                Err(TopicError::MisplacedWildcard),
                "{bad}"
            );
        }
    }

    /// §4.7.3: a lone `/`, leading and trailing `/`, empty levels, spaces and
    /// `$` are valid in filters.
    #[test]
    fn valid_filters() {
        for s in [
            "/",
            "//",
            "/finance",
            "finance/",
            "a//b",
            "Accounts payable",
            "$SYS/#",
            "$share/g/a",
        ] {
            assert_eq!(filter(s).as_str(), s);
        }
        assert!(filter("a/+").has_wildcard());
        assert!(!filter("a/b").has_wildcard());
    }

    #[test]
    fn levels() {
        let levels = |s: &str| filter(s).levels().map(String::from).collect::<Vec<_>>();
        assert_eq!(levels("sport/+/#"), ["sport", "+", "#"]);
        assert_eq!(levels("/"), ["", ""]);
        assert_eq!(levels("a//b"), ["a", "", "b"]);
    }

    #[test]
    fn is_shared() {
        assert!(filter("$share/g/a").is_shared());
        assert!(filter("$share/").is_shared());
        assert!(!filter("$share").is_shared());
        assert!(!filter("$SHARE/g/a").is_shared());
        assert!(!filter("a/$share/g/a").is_shared());
    }

    /// The non-normative examples of §4.7.1.2, §4.7.1.3, §4.7.2 and §4.7.3
    /// (both versions), plus empty levels: (filter, name, matches).
    const TABLE: &[(&str, &str, bool)] = &[
        // §4.7.1.2
        ("sport/tennis/player1/#", "sport/tennis/player1", true),
        (
            "sport/tennis/player1/#",
            "sport/tennis/player1/ranking",
            true,
        ),
        (
            "sport/tennis/player1/#",
            "sport/tennis/player1/score/wimbledon",
            true,
        ),
        ("sport/tennis/player1/#", "sport/tennis/player2", false),
        ("sport/tennis/player1/#", "sport/tennis", false),
        ("sport/#", "sport", true),
        ("sport/#", "sport/", true),
        ("sport/#", "sports", false),
        ("#", "sport", true),
        ("#", "sport/tennis/player1", true),
        ("#", "/", true),
        ("#", "/finance", true),
        // §4.7.1.3
        ("sport/tennis/+", "sport/tennis/player1", true),
        ("sport/tennis/+", "sport/tennis/player2", true),
        ("sport/tennis/+", "sport/tennis/player1/ranking", false),
        ("sport/+", "sport", false),
        ("sport/+", "sport/", true),
        ("+/tennis/#", "sport/tennis", true),
        ("+/tennis/#", "sport/tennis/player1/ranking", true),
        ("+/tennis/#", "sport/golf", false),
        ("sport/+/player1", "sport/tennis/player1", true),
        ("sport/+/player1", "sport//player1", true),
        ("sport/+/player1", "sport/tennis/player2", false),
        ("/finance", "/finance", true),
        ("+/+", "/finance", true),
        ("/+", "/finance", true),
        ("+", "/finance", false),
        ("+", "finance", true),
        ("+/#", "finance", true),
        // §4.7.2 [MQTT-4.7.2-1]
        ("#", "$SYS/monitor/Clients", false),
        ("+/monitor/Clients", "$SYS/monitor/Clients", false),
        ("+", "$SYS", false),
        ("$SYS/#", "$SYS/monitor/Clients", true),
        ("$SYS/#", "$SYS", true),
        ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
        ("a/+", "a/$b", true),
        ("a/#", "a/$b", true),
        // §4.7.3 [MQTT-4.7.3-4]: case-sensitive, no normalization
        ("ACCOUNTS", "Accounts", false),
        ("Accounts", "Accounts", true),
        ("Accounts payable", "Accounts payable", true),
        ("/finance", "finance", false),
        ("finance", "/finance", false),
        ("finance/", "finance", false),
        ("\u{e9}", "e\u{301}", false),
        ("\u{feff}a", "a", false),
        // empty levels
        ("a//b", "a//b", true),
        ("a/+/b", "a//b", true),
        ("a/b", "a//b", false),
        ("/", "/", true),
        ("+/+", "/", true),
        ("+", "/", false),
        ("/#", "/", true),
        ("//#", "/", true),
        ("a/+", "a", false),
        ("a", "a/", false),
    ];

    /// §4.7.1.2, §4.7.1.3, §4.7.2 and §4.7.3 examples; [MQTT-4.7.2-1],
    /// [MQTT-4.7.3-4].
    #[test]
    fn spec_examples() {
        for &(f, n, expected) in TABLE {
            assert_eq!(matches(f, n), expected, "{f:?} vs {n:?}");
        }
    }

    /// [MQTT-4.7.2-1] a filter starting with a wildcard does not match a name
    /// starting with `$`, even through `#` as parent level.
    #[test]
    fn dollar_rule() {
        for f in ["#", "+", "+/#", "+/+", "+/monitor/Clients"] {
            for n in ["$SYS", "$SYS/monitor/Clients", "$", "$/a"] {
                assert!(!matches(f, n), "{f:?} vs {n:?}");
            }
        }
        assert!(matches("$/+", "$/a"));
    }

    /// The zero-length name of a v5.0 PUBLISH with a Topic Alias matches
    /// nothing.
    #[test]
    fn empty_name_matches_nothing() {
        for f in ["#", "+", "/#"] {
            assert!(!filter(f).matches(&TopicName::empty()), "{f:?}");
        }
    }

    /// The same rules said differently, to check `matches` against.
    fn reference(filter: &str, name: &str) -> bool {
        let f: Vec<&str> = filter.split('/').collect();
        let n: Vec<&str> = name.split('/').collect();
        if name.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
            return false;
        }
        let level_ok = |(f, n): (&&str, &&str)| *f == "+" || f == n;
        match f.split_last() {
            Some((&"#", prefix)) => n.len() >= prefix.len() && prefix.iter().zip(&n).all(level_ok),
            _ => f.len() == n.len() && f.iter().zip(&n).all(level_ok),
        }
    }

    fn level() -> impl Strategy<Value = String> {
        "[ab$é]{0,2}"
    }

    fn name_strategy() -> impl Strategy<Value = String> {
        proptest::collection::vec(level(), 1..6)
            .prop_map(|levels| levels.join("/"))
            .prop_filter("a Topic Name is not empty", |n| !n.is_empty())
    }

    proptest! {
        /// A filter made from a name by replacing levels with `+`, and
        /// optionally a tail with `#`, matches the name, unless it starts with
        /// a wildcard and the name with `$` [MQTT-4.7.2-1].
        #[test]
        fn generalised_name_matches(
            name in name_strategy(),
            plus in proptest::collection::vec(any::<bool>(), 6),
            hash_at in proptest::option::of(0usize..7),
        ) {
            let levels: Vec<&str> = name.split('/').collect();
            let cut = hash_at.map_or(levels.len(), |at| at.min(levels.len()));
            let mut parts: Vec<&str> = levels[..cut]
                .iter()
                .zip(&plus)
                .map(|(&l, &p)| if p { "+" } else { l })
                .collect();
            if hash_at.is_some() {
                parts.push("#");
            }
            let f = parts.join("/");
            let filter = TopicFilter::new(f.as_str()).unwrap();
            let topic = TopicName::new(name.as_str()).unwrap();
            let wildcard_first = f.starts_with('+') || f.starts_with('#');
            prop_assert_eq!(filter.matches(&topic), !(topic.is_dollar() && wildcard_first));
        }

        /// `matches` agrees with a differently written reference on arbitrary
        /// filters and names over a small alphabet (so that levels collide).
        #[test]
        fn matches_agrees_with_reference(
            levels in proptest::collection::vec(prop_oneof![level(), Just(String::from("+"))], 1..6),
            hash in any::<bool>(),
            name in name_strategy(),
        ) {
            let mut f = levels.join("/");
            if hash {
                f.push_str(if f.is_empty() { "#" } else { "/#" });
            }
            prop_assume!(!f.is_empty());
            let filter = TopicFilter::new(f.as_str()).unwrap();
            let topic = TopicName::new(name.as_str()).unwrap();
            prop_assert_eq!(filter.matches(&topic), reference(&f, &name), "{} vs {}", f, name);
        }

        /// A name taken as a filter matches exactly itself.
        #[test]
        fn name_as_filter_matches_itself(a in name_strategy(), b in name_strategy()) {
            let filter = TopicFilter::new(a.as_str()).unwrap();
            prop_assert!(filter.matches(&TopicName::new(a.as_str()).unwrap()));
            prop_assert_eq!(filter.matches(&TopicName::new(b.as_str()).unwrap()), a == b);
        }

        /// Validation never panics and agrees with the placement rules
        /// [MQTT-4.7.1-1], [MQTT-4.7.1-2].
        #[test]
        fn validation_agrees_with_levels(s in "[a+#/]{0,8}") {
            let levels: Vec<&str> = s.split('/').collect();
            let valid = !s.is_empty()
                && levels.iter().enumerate().all(|(i, l)| {
                    !l.contains(['+', '#']) || *l == "+" || (*l == "#" && i + 1 == levels.len())
                });
            prop_assert_eq!(TopicFilter::new(s.as_str()).is_ok(), valid);
        }
    }
}
