//! Shared Subscriptions (v5.0 §4.8.2): `$share/{ShareName}/{filter}`.

use core::fmt;

use super::{TopicError, TopicFilter, TopicName};
use crate::MqttString;

/// What every Shared Subscription Topic Filter starts with [MQTT-4.8.2-1].
pub(super) const PREFIX: &[u8] = b"$share/";

/// A v5.0 Shared Subscription Topic Filter, `$share/{ShareName}/{filter}`,
/// split into its ShareName and the Topic Filter that publications are
/// matched against (§4.8.2). Both parts are slices of the original filter's
/// buffer, not copies.
///
/// v3.1.1 has no Shared Subscriptions: there `$share/…` is an ordinary Topic
/// Filter, so only a v5.0 peer calls [`SharedSubscription::parse`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedSubscription {
    share_name: MqttString,
    filter: TopicFilter,
}

impl SharedSubscription {
    /// Splits a Shared Subscription Topic Filter, for a v5.0 SUBSCRIBE or
    /// UNSUBSCRIBE, into its ShareName and its Topic Filter. `Ok(None)` when
    /// `filter` does not start with `$share/` and so is not shared.
    ///
    /// The parts share `filter`'s buffer (`Bytes::slice`); nothing is copied.
    ///
    /// # Errors
    /// When `filter` starts with `$share/` but breaks a rule of §4.8.2:
    /// [`TopicError::EmptyShareName`] for an empty ShareName [MQTT-4.8.2-1],
    /// [`TopicError::WildcardInShareName`] for a ShareName with `+` or `#`
    /// [MQTT-4.8.2-2], [`TopicError::MissingSharedFilter`] when no `/` and
    /// non-empty Topic Filter follow the ShareName [MQTT-4.8.2-2].
    ///
    /// ```
    /// use mqtt_codec::topic::SharedSubscription;
    /// use mqtt_codec::{TopicError, TopicFilter, TopicName};
    ///
    /// let filter = TopicFilter::new("$share/consumer1/sport/tennis/+")?;
    /// let shared = SharedSubscription::parse(&filter)?.expect("a shared subscription");
    /// assert_eq!(shared.share_name(), "consumer1");
    /// assert_eq!(shared.filter(), "sport/tennis/+");
    /// assert!(shared.matches(&TopicName::new("sport/tennis/player1")?));
    ///
    /// // Not shared.
    /// assert_eq!(SharedSubscription::parse(&TopicFilter::new("sport/#")?)?, None);
    /// // Shared, but without a Topic Filter after the ShareName.
    /// assert_eq!(
    ///     SharedSubscription::parse(&TopicFilter::new("$share/consumer1")?),
    ///     Err(TopicError::MissingSharedFilter)
    /// );
    /// # Ok::<(), TopicError>(())
    /// ```
    pub fn parse(filter: &TopicFilter) -> Result<Option<Self>, TopicError> {
        let bytes = filter.as_mqtt_string().clone().into_bytes();
        let Some(end) = Self::split(&bytes)? else {
            return Ok(None);
        };
        // Both slices start and end next to an ASCII `/` or at an end of a
        // valid string, so they are valid strings; the inner filter's levels
        // are whole levels of a valid filter. Checked again all the same.
        let share_name = MqttString::from_bytes(bytes.slice(PREFIX.len()..end))?;
        let filter = TopicFilter::from_bytes(bytes.slice(end + 1..)).map_err(|e| match e {
            TopicError::Empty => TopicError::MissingSharedFilter,
            e => e,
        })?;
        Ok(Some(SharedSubscription { share_name, filter }))
    }

    /// Checks the rules of §4.8.2 on a Topic Filter's bytes: `Ok(None)`
    /// when it is not shared, else where its ShareName ends. Errs as
    /// [`parse`](Self::parse).
    pub(crate) fn split(filter: &[u8]) -> Result<Option<usize>, TopicError> {
        let Some(after_prefix) = filter.strip_prefix(PREFIX) else {
            return Ok(None);
        };
        let slash = after_prefix.iter().position(|&b| b == b'/');
        let share_name = &after_prefix[..slash.unwrap_or(after_prefix.len())];
        if share_name.is_empty() {
            return Err(TopicError::EmptyShareName);
        }
        // `/` cannot be in it: it ends at the first `/`.
        if share_name.iter().any(|&b| b == b'+' || b == b'#') {
            return Err(TopicError::WildcardInShareName);
        }
        let Some(slash) = slash else {
            return Err(TopicError::MissingSharedFilter);
        };
        let end = PREFIX.len() + slash;
        if filter.len() == end + 1 {
            return Err(TopicError::MissingSharedFilter);
        }
        Ok(Some(end))
    }

    /// The ShareName: at least one character, without `/`, `+` or `#`.
    #[inline]
    pub fn share_name(&self) -> &MqttString {
        &self.share_name
    }

    /// The Topic Filter after `$share/{ShareName}/`: what publications are
    /// matched against.
    #[inline]
    pub fn filter(&self) -> &TopicFilter {
        &self.filter
    }

    /// Whether a publication to `name` matches this subscription: the
    /// `$share` and ShareName parts are not taken into account (§4.8.2), the
    /// rest matches as [`TopicFilter::matches`] does.
    #[inline]
    pub fn matches(&self, name: &TopicName) -> bool {
        self.filter.matches(name)
    }
}

/// Writes the whole Shared Subscription Topic Filter, `$share/{ShareName}/{filter}`.
impl fmt::Display for SharedSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "$share/{}/{}", self.share_name, self.filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::{String, ToString};
    use bytes::Bytes;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<Option<SharedSubscription>, TopicError> {
        SharedSubscription::parse(&TopicFilter::new(s).unwrap())
    }

    fn shared(s: &str) -> SharedSubscription {
        parse(s).unwrap().unwrap()
    }

    /// Filters that do not start with `$share/` are not shared.
    #[test]
    fn not_shared() {
        for s in [
            "sport/#",
            "#",
            "$share",
            "$SHARE/g/a",
            "$shared/g/a",
            "a/$share/g/a",
            "$SYS/#",
        ] {
            assert_eq!(parse(s), Ok(None), "{s}");
        }
    }

    /// The examples of §4.8.2.
    #[test]
    fn spec_examples() {
        let s = shared("$share/consumer1/sport/tennis/+");
        assert_eq!(s.share_name(), "consumer1");
        assert_eq!(s.filter(), "sport/tennis/+");
        let s2 = shared("$share/consumer2/sport/tennis/+");
        assert_eq!(s2.filter(), s.filter());
        assert_ne!(s2, s);
        let s3 = shared("$share/consumer1//finance");
        assert_eq!(s3.share_name(), "consumer1");
        assert_eq!(s3.filter(), "/finance");
        assert_ne!(s3, s);
    }

    #[test]
    fn valid() {
        for (s, share, filter) in [
            ("$share/g/#", "g", "#"),
            ("$share/g/+", "g", "+"),
            ("$share/g//", "g", "/"),
            ("$share/g/$SYS/#", "g", "$SYS/#"),
            ("$share/$share/a", "$share", "a"),
            ("$share/a b\u{e9}/x/+/#", "a b\u{e9}", "x/+/#"),
            ("$share/g/$share/h/a", "g", "$share/h/a"),
        ] {
            let parsed = shared(s);
            assert_eq!(parsed.share_name(), share, "{s}");
            assert_eq!(parsed.filter(), filter, "{s}");
            assert_eq!(parsed.to_string(), s);
        }
    }

    /// [MQTT-4.8.2-1] the ShareName is at least one character long.
    #[test]
    fn empty_share_name_is_refused() {
        for s in ["$share/", "$share//", "$share//a", "$share//#"] {
            assert_eq!(parse(s), Err(TopicError::EmptyShareName), "{s}");
        }
    }

    /// [MQTT-4.8.2-2] the ShareName holds no `+` or `#` (nor `/`: it ends at
    /// the first one). A `+` or `#` inside a longer level is already refused
    /// by the Topic Filter rules.
    #[test]
    fn wildcard_in_share_name_is_refused() {
        for s in ["$share/+/a", "$share/+", "$share/#", "$share/+/#"] {
            assert_eq!(parse(s), Err(TopicError::WildcardInShareName), "{s}");
        }
        assert_eq!(
            TopicFilter::new("$share/a+/b"),
            Err(TopicError::MisplacedWildcard)
        );
    }

    /// [MQTT-4.8.2-2] the ShareName is followed by `/` and a Topic Filter.
    #[test]
    fn missing_filter_is_refused() {
        for s in ["$share/g", "$share/g/", "$share/consumer1"] {
            assert_eq!(parse(s), Err(TopicError::MissingSharedFilter), "{s}");
        }
    }

    /// §4.8.2: matching leaves `$share/{ShareName}/` out.
    #[test]
    fn matching() {
        let s = shared("$share/consumer1/sport/tennis/+");
        let name = |n: &str| TopicName::new(n).unwrap();
        assert!(s.matches(&name("sport/tennis/player1")));
        assert!(!s.matches(&name("sport/tennis/player1/ranking")));
        assert!(!s.matches(&name("$share/consumer1/sport/tennis/player1")));
        // [MQTT-4.7.2-1] applies to the inner filter.
        assert!(!shared("$share/g/#").matches(&name("$SYS/a")));
        assert!(shared("$share/g/$SYS/#").matches(&name("$SYS/a")));
        assert!(shared("$share/g//finance").matches(&name("/finance")));
    }

    /// Zero-copy: both parts are slices of the original buffer.
    #[test]
    fn parts_share_the_buffer() {
        let buf = Bytes::from(String::from("$share/group/a/b"));
        let filter = TopicFilter::from_bytes(buf.clone()).unwrap();
        let s = SharedSubscription::parse(&filter).unwrap().unwrap();
        assert_eq!(s.share_name().as_bytes().as_ptr(), buf[7..].as_ptr());
        assert_eq!(s.filter().as_str().as_ptr(), buf[13..].as_ptr());
    }

    proptest! {
        /// `$share/{ShareName}/{filter}` splits back into its parts.
        #[test]
        fn split_roundtrip(
            share in "[a-z$é ]{1,4}",
            filter in "(\\+|[a-z$]{0,3})(/(\\+|[a-z$]{0,3})){0,3}(/#)?",
        ) {
            prop_assume!(!filter.is_empty());
            let s = alloc::format!("$share/{share}/{filter}");
            let parsed = parse(&s).unwrap().unwrap();
            prop_assert_eq!(parsed.share_name().as_str(), share.as_str());
            prop_assert_eq!(parsed.filter().as_str(), filter.as_str());
            prop_assert_eq!(parsed.to_string(), s);
        }

        /// Parsing any valid filter never panics, and a shared one always
        /// has a non-empty ShareName without wildcards and a non-empty filter.
        #[test]
        fn parse_never_panics(rest in "[a+#/$]{0,8}") {
            let s = alloc::format!("$share/{rest}");
            if let Ok(filter) = TopicFilter::new(s.as_str()) {
                if let Ok(parsed) = SharedSubscription::parse(&filter) {
                    let parsed = parsed.unwrap();
                    prop_assert!(!parsed.share_name().is_empty());
                    prop_assert!(!parsed.share_name().as_str().contains(['/', '+', '#']));
                    prop_assert!(!parsed.filter().as_str().is_empty());
                }
            }
        }
    }
}
