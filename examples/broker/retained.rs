//! The retained messages: the last message published with RETAIN on each
//! topic, sent to new subscribers (v5.0 §3.3.1.3, v3.1.1 §3.3.1.3).
//!
//! A `HashMap` from topic to message, not a trie: storing (every retained
//! PUBLISH) and a SUBSCRIBE to a filter without wildcards are one lookup;
//! only a SUBSCRIBE with wildcards scans every retained message with
//! [`TopicFilter::matches`]. Subscribing is rare next to publishing, the
//! map is simple and small in memory, and the scan also drops the expired
//! messages it meets.

use std::collections::HashMap;
use std::time::Instant;

use mqtt_codec::topic::SharedSubscription;
use mqtt_codec::{TopicFilter, TopicName};

use super::message::StoredMessage;

/// The retained messages, one per topic at most.
///
/// Call [`RetainedStore::set`] for each PUBLISH received with RETAIN 1, and
/// [`RetainedStore::matching`] for each new subscription whose Retain
/// Handling asks for them. Bounds nothing (the broker bounds what it
/// accepts) and never panics.
#[derive(Debug, Default)]
pub struct RetainedStore {
    messages: HashMap<TopicName, StoredMessage>,
}

impl RetainedStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `message`, a PUBLISH received with RETAIN 1, replacing the
    /// topic's previous one [MQTT-3.3.1-5]. An empty payload removes the
    /// topic's retained message and is not stored itself [MQTT-3.3.1-6],
    /// [MQTT-3.3.1-7] (v3.1.1 [MQTT-3.3.1-10], [MQTT-3.3.1-11]).
    pub fn set(&mut self, stored: StoredMessage) {
        let message = stored.message();
        if message.payload().is_empty() {
            self.remove(&message.to_topic_name());
        } else {
            self.messages.insert(message.to_topic_name(), stored);
        }
    }

    /// Removes the retained message of `topic`; returns whether there was one.
    pub fn remove(&mut self, topic: &TopicName) -> bool {
        let removed = self.messages.remove(topic).is_some();
        self.shrink();
        removed
    }

    /// The retained message of `topic`, if any (expired or not).
    pub fn get(&self, topic: &TopicName) -> Option<&StoredMessage> {
        self.messages.get(topic)
    }

    /// Appends to `out` the retained messages matching `filter` (§4.7, so a
    /// filter starting with a wildcard does not match `$` topics
    /// [MQTT-4.7.2-1]), for a new subscription [MQTT-3.3.1-9]. Those whose
    /// Message Expiry Interval has passed at `now` are dropped, not returned
    /// [MQTT-3.3.2-5].
    ///
    /// A Shared Subscription filter (`$share/{ShareName}/…`) gets none:
    /// retained messages are not sent to shared subscriptions (§4.8.2).
    pub fn matching(&mut self, filter: &TopicFilter, now: Instant, out: &mut Vec<StoredMessage>) {
        if matches!(SharedSubscription::parse(filter), Ok(Some(_))) {
            return;
        }
        if !filter.has_wildcard() {
            // The filter is a topic name: one lookup.
            let Ok(topic) = TopicName::from_mqtt_string(filter.as_mqtt_string().clone()) else {
                return;
            };
            match self.messages.get(&topic) {
                Some(m) if m.is_expired(now) => {
                    self.remove(&topic);
                }
                Some(m) => out.push(m.clone()),
                None => {}
            }
            return;
        }
        self.messages.retain(|topic, m| {
            if m.is_expired(now) {
                return false;
            }
            if filter.matches(topic) {
                out.push(m.clone());
            }
            true
        });
        self.shrink();
    }

    /// Drops every message expired at `now` [MQTT-3.3.2-5]; returns how many.
    /// [`RetainedStore::matching`] drops the ones it meets; call this now and
    /// then so that expired messages on topics nobody subscribes to do not
    /// stay.
    pub fn purge_expired(&mut self, now: Instant) -> usize {
        let before = self.messages.len();
        self.messages.retain(|_, m| !m.is_expired(now));
        self.shrink();
        before - self.messages.len()
    }

    /// The number of retained messages (expired ones not yet dropped included).
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether no message is retained.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Gives memory back once the map has shrunk well below its capacity.
    fn shrink(&mut self) {
        if self.messages.capacity() > 16 && self.messages.len() < self.messages.capacity() / 4 {
            self.messages.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use mqtt_codec::{Message, MessageProperties, QoS};
    use std::time::Duration;

    fn message(
        topic: &str,
        payload: &'static [u8],
        expiry: Option<u32>,
        now: Instant,
    ) -> StoredMessage {
        let message = Message::builder()
            .try_topic_name(topic)
            .unwrap()
            .qos(QoS::AtLeastOnce)
            .retain(true)
            .properties(MessageProperties {
                message_expiry_interval: expiry,
                ..Default::default()
            })
            .payload(Bytes::from_static(payload))
            .build()
            .unwrap();
        StoredMessage::new(message, now)
    }

    fn f(s: &str) -> TopicFilter {
        TopicFilter::new(s).unwrap()
    }

    /// The topics and payloads of the messages matching `filter`, sorted.
    fn matching(store: &mut RetainedStore, filter: &str, now: Instant) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        store.matching(&f(filter), now, &mut out);
        let mut found: Vec<_> = out
            .iter()
            .map(|m| {
                (
                    m.message().topic_name().to_string(),
                    m.message().payload().to_vec(),
                )
            })
            .collect();
        found.sort();
        found
    }

    fn pair(topic: &str, payload: &[u8]) -> (String, Vec<u8>) {
        (topic.to_string(), payload.to_vec())
    }

    /// [MQTT-3.3.1-5] a new retained message replaces the topic's previous one.
    #[test]
    fn replace() {
        let now = Instant::now();
        let mut store = RetainedStore::new();
        store.set(message("a/b", b"1", None, now));
        store.set(message("a/b", b"2", None, now));
        store.set(message("a/c", b"3", None, now));
        assert_eq!(store.len(), 2);
        assert_eq!(matching(&mut store, "a/b", now), [pair("a/b", b"2")]);
        assert_eq!(
            matching(&mut store, "a/+", now),
            [pair("a/b", b"2"), pair("a/c", b"3")]
        );
    }

    /// [MQTT-3.3.1-6], [MQTT-3.3.1-7] an empty payload removes the retained
    /// message and is not stored.
    #[test]
    fn empty_payload_removes() {
        let now = Instant::now();
        let mut store = RetainedStore::new();
        store.set(message("a/b", b"1", None, now));
        store.set(message("a/b", b"", None, now));
        assert!(store.is_empty());
        assert!(matching(&mut store, "#", now).is_empty());
        // On a topic without one, nothing is stored either.
        store.set(message("x", b"", None, now));
        assert!(store.is_empty());
    }

    /// Wildcards match as §4.7 says; a filter without them is one lookup.
    #[test]
    fn matching_filters() {
        let now = Instant::now();
        let mut store = RetainedStore::new();
        for topic in ["a", "a/b", "a/b/c", "b/b", "/x"] {
            store.set(message(topic, b"p", None, now));
        }
        let topics = |found: Vec<(String, Vec<u8>)>| -> Vec<String> {
            found.into_iter().map(|(t, _)| t).collect()
        };
        assert_eq!(
            topics(matching(&mut store, "#", now)),
            ["/x", "a", "a/b", "a/b/c", "b/b"]
        );
        assert_eq!(
            topics(matching(&mut store, "a/#", now)),
            ["a", "a/b", "a/b/c"]
        );
        assert_eq!(topics(matching(&mut store, "+/b", now)), ["a/b", "b/b"]);
        assert_eq!(topics(matching(&mut store, "+/x", now)), ["/x"]);
        assert_eq!(topics(matching(&mut store, "a/b/c", now)), ["a/b/c"]);
        assert!(matching(&mut store, "a/b/c/d", now).is_empty());
        assert_eq!(store.len(), 5);
    }

    /// [MQTT-4.7.2-1] `$` topics are not matched by filters starting with a
    /// wildcard, but by filters naming them.
    #[test]
    fn dollar_topics() {
        let now = Instant::now();
        let mut store = RetainedStore::new();
        store.set(message("$SYS/x", b"s", None, now));
        store.set(message("a/x", b"a", None, now));
        assert_eq!(matching(&mut store, "#", now), [pair("a/x", b"a")]);
        assert_eq!(matching(&mut store, "+/x", now), [pair("a/x", b"a")]);
        assert_eq!(matching(&mut store, "$SYS/#", now), [pair("$SYS/x", b"s")]);
        assert_eq!(matching(&mut store, "$SYS/x", now), [pair("$SYS/x", b"s")]);
    }

    /// [MQTT-3.3.2-5] expired messages are dropped, not sent; the others
    /// keep their reception time so the interval left is forwarded.
    #[test]
    fn expiry() {
        let t0 = Instant::now();
        let mut store = RetainedStore::new();
        store.set(message("a/short", b"1", Some(5), t0));
        store.set(message("a/long", b"2", Some(100), t0));
        store.set(message("a/never", b"3", None, t0));
        store.set(message("b", b"4", Some(5), t0));
        let later = t0 + Duration::from_secs(10);
        let mut out = Vec::new();
        store.matching(&f("a/#"), later, &mut out);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|m| !m.is_expired(later)));
        let long = out
            .iter()
            .find(|m| m.message().topic_name() == "a/long")
            .unwrap();
        assert_eq!(long.remaining_expiry(later), Some(90));
        assert!(store.get(&TopicName::new("a/short").unwrap()).is_none());
        // An exact filter drops its expired message too.
        assert!(matching(&mut store, "b", later).is_empty());
        assert_eq!(store.len(), 2);
        // purge_expired drops what no subscription looked at.
        store.set(message("c", b"5", Some(1), t0));
        assert_eq!(store.purge_expired(later), 1);
        assert_eq!(store.len(), 2);
    }

    /// §4.8.2: no retained messages for a Shared Subscription.
    #[test]
    fn shared_subscriptions_get_none() {
        let now = Instant::now();
        let mut store = RetainedStore::new();
        store.set(message("a", b"1", None, now));
        assert!(matching(&mut store, "$share/g/a", now).is_empty());
        assert!(matching(&mut store, "$share/g/#", now).is_empty());
        assert_eq!(store.len(), 1);
    }

    /// `matching` appends to what `out` holds.
    #[test]
    fn matching_appends() {
        let now = Instant::now();
        let mut store = RetainedStore::new();
        store.set(message("a", b"1", None, now));
        let mut out = vec![message("z", b"0", None, now)];
        store.matching(&f("a"), now, &mut out);
        store.matching(&f("#"), now, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].message().topic_name(), "z");
    }

    /// Memory goes back once messages are removed.
    #[test]
    fn removing_gives_memory_back() {
        let now = Instant::now();
        let mut store = RetainedStore::new();
        let topics: Vec<String> = (0..1000).map(|i| format!("t/{i}")).collect();
        for topic in &topics {
            store.set(message(topic, b"p", None, now));
        }
        for topic in &topics {
            assert!(store.remove(&TopicName::new(topic.as_str()).unwrap()));
        }
        assert!(store.is_empty());
        assert!(
            store.messages.capacity() <= 64,
            "{}",
            store.messages.capacity()
        );
    }
}
