//! Topic Aliases (v5.0 §3.3.2.3.4): a PUBLISH may name its topic by a small
//! integer instead of the Topic Name, once a mapping has been set on the
//! Network Connection.
//!
//! The two directions are independent (§3.3.2.3.4): [`TopicAliasSend`] holds
//! our mappings, for the PUBLISH packets we send, bounded by the Topic Alias
//! Maximum the peer announced; [`TopicAliasRecv`] holds the peer's mappings,
//! for the PUBLISH packets we receive, bounded by the Topic Alias Maximum we
//! announced. Both last only as long as one Network Connection: make new ones,
//! or [`clear`](TopicAliasRecv::clear) them, when a new Network Connection
//! starts [MQTT-3.3.2-7]. Topic Aliases exist only in MQTT v5.0.
//!
//! Both tables copy every Topic Name they keep into a buffer of its own, so a
//! mapping never keeps a whole received packet alive.

use core::fmt;
use core::num::NonZeroU16;
use std::collections::HashMap;

use mqtt_codec::v5_0::DisconnectReasonCode;
use mqtt_codec::TopicName;

/// "No alias" in the links of the LRU list; aliases start at 1.
const NIL: u16 = 0;

/// A Topic Name in a buffer of its own, so that keeping it does not keep the
/// (maybe much larger) buffer it was sliced from alive.
/// `None` for a string that is no Topic Name.
fn detach(topic: &str) -> Option<TopicName> {
    TopicName::new(topic).ok()
}

/// One mapping of [`TopicAliasSend`], at index `alias - 1`.
#[derive(Clone)]
struct Slot {
    topic: TopicName,
    /// The next more recently used alias, [`NIL`] at the head.
    prev: u16,
    /// The next less recently used alias, [`NIL`] at the tail.
    next: u16,
}

/// Our side of the Topic Aliases: Topic Name → Topic Alias, for the PUBLISH
/// packets we send (v5.0 §3.3.2.3.4).
///
/// Aliases are handed out from 1 upwards, never 0 [MQTT-3.3.2-8] and never
/// above `max`, the Topic Alias Maximum the peer announced (a Client takes it
/// from the CONNACK [MQTT-3.2.2-17], [MQTT-3.3.2-9]; a Server from the CONNECT
/// [MQTT-3.1.2-26], [MQTT-3.3.2-11]). With `max` 0 no alias is ever handed out
/// [MQTT-3.2.2-18], [MQTT-3.1.2-27]. Once all `max` aliases are in use,
/// [`map`](Self::map) takes over the least recently used one: both
/// [`get`](Self::get) and [`map`](Self::map) count as use.
///
/// Every operation is O(1) (a hash map from name to alias, and a doubly
/// linked recency list threaded through a `Vec` indexed by alias); memory
/// grows with the number of mappings, never beyond `max` of them.
///
/// When sending a PUBLISH: if [`get`](Self::get) returns an alias, send it
/// with a zero-length Topic Name; otherwise, if [`map`](Self::map) returns
/// one, send it together with the Topic Name, which sets (or replaces) the
/// mapping at the receiver; otherwise send the Topic Name alone.
///
/// ```
/// use mqtt_core::TopicAliasSend;
///
/// let (temp, hum) = ("sensors/kitchen/temperature", "sensors/kitchen/humidity");
/// let mut aliases = TopicAliasSend::new(1); // the peer's Topic Alias Maximum
///
/// // First PUBLISH to `temp`: not mapped yet, so map it and send name + alias 1.
/// assert_eq!(aliases.get(temp), None);
/// let alias = aliases.map(temp).expect("max > 0");
/// assert_eq!(alias.get(), 1);
/// // Next PUBLISH to `temp`: alias 1 with a zero-length Topic Name.
/// assert_eq!(aliases.get(temp), Some(alias));
///
/// // All aliases used: `hum` takes over the least recently used one.
/// assert_eq!(aliases.map(hum), Some(alias));
/// assert_eq!(aliases.topic(alias).map(|t| t.as_str()), Some(hum));
/// assert_eq!(aliases.get(temp), None);
/// ```
#[derive(Clone)]
pub struct TopicAliasSend {
    max: u16,
    by_topic: HashMap<TopicName, u16>,
    /// The mapping of alias `a` is at `slots[a - 1]`; aliases `1..=len` are
    /// all mapped.
    slots: Vec<Slot>,
    /// The most recently used alias, [`NIL`] when empty.
    head: u16,
    /// The least recently used alias, [`NIL`] when empty.
    tail: u16,
}

impl TopicAliasSend {
    /// An empty table for a Network Connection whose peer announced the
    /// Topic Alias Maximum `max` (0, or the property absent: no aliases
    /// [MQTT-3.2.2-18], [MQTT-3.1.2-27]).
    pub fn new(max: u16) -> Self {
        TopicAliasSend {
            max,
            by_topic: HashMap::new(),
            slots: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }

    /// The Topic Alias Maximum: no alias handed out exceeds it.
    #[inline]
    pub fn max(&self) -> u16 {
        self.max
    }

    /// The alias `topic` is mapped to, if any; marks the mapping as the most
    /// recently used. Send the alias with a zero-length Topic Name.
    pub fn get(&mut self, topic: &str) -> Option<NonZeroU16> {
        let alias = *self.by_topic.get(topic)?;
        self.touch(alias);
        NonZeroU16::new(alias)
    }

    /// The alias for `topic`: the one it is already mapped to, else the next
    /// unused one, else the least recently used one, which is remapped to
    /// `topic`. Marks the mapping as the most recently used.
    ///
    /// Returns `None` when `max` is 0 [MQTT-3.2.2-18], [MQTT-3.1.2-27], for
    /// the zero-length name, which cannot be mapped, and for a string that is
    /// no Topic Name. A PUBLISH that sets a new mapping must carry the Topic Name
    /// together with the alias; call [`get`](Self::get) first to know whether
    /// the mapping exists already.
    pub fn map(&mut self, topic: &str) -> Option<NonZeroU16> {
        if self.max == 0 || topic.is_empty() {
            return None;
        }
        if let Some(alias) = self.get(topic) {
            return Some(alias);
        }
        let topic = detach(topic)?;
        let alias = if self.slots.len() < usize::from(self.max) {
            self.slots.push(Slot {
                topic: topic.clone(),
                prev: NIL,
                next: NIL,
            });
            // len <= max <= u16::MAX
            let alias = self.slots.len() as u16;
            self.push_front(alias);
            alias
        } else {
            // All `max` (> 0) aliases are mapped, so the list is not empty.
            let alias = self.tail;
            let old = core::mem::replace(&mut self.slot(alias).topic, topic.clone());
            self.by_topic.remove(&old);
            self.touch(alias);
            alias
        };
        self.by_topic.insert(topic, alias);
        NonZeroU16::new(alias)
    }

    /// The Topic Name `alias` is mapped to, if any. Does not count as use.
    pub fn topic(&self, alias: NonZeroU16) -> Option<&TopicName> {
        self.slots
            .get(usize::from(alias.get()) - 1)
            .map(|slot| &slot.topic)
    }

    /// The number of mappings.
    #[inline]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing is mapped.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Forgets every mapping and frees their memory, keeping `max`. Call it
    /// when a new Network Connection starts [MQTT-3.3.2-7].
    pub fn clear(&mut self) {
        *self = TopicAliasSend::new(self.max);
    }

    /// The slot of a mapped alias (`1..=len`).
    #[inline]
    fn slot(&mut self, alias: u16) -> &mut Slot {
        &mut self.slots[usize::from(alias) - 1]
    }

    /// Makes the mapped `alias` the most recently used.
    fn touch(&mut self, alias: u16) {
        if self.head != alias {
            self.unlink(alias);
            self.push_front(alias);
        }
    }

    /// Takes the mapped `alias` out of the recency list.
    fn unlink(&mut self, alias: u16) {
        let Slot { prev, next, .. } = *self.slot(alias);
        if prev == NIL {
            self.head = next;
        } else {
            self.slot(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.slot(next).prev = prev;
        }
    }

    /// Puts the mapped `alias`, not in the list, at its head.
    fn push_front(&mut self, alias: u16) {
        let head = self.head;
        let slot = self.slot(alias);
        slot.prev = NIL;
        slot.next = head;
        if head == NIL {
            self.tail = alias;
        } else {
            self.slot(head).prev = alias;
        }
        self.head = alias;
    }
}

impl fmt::Debug for TopicAliasSend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mappings = self
            .slots
            .iter()
            .zip(1u16..)
            .map(|(slot, alias)| (alias, &slot.topic));
        f.debug_struct("TopicAliasSend")
            .field("max", &self.max)
            .field("mappings", &DebugMap(mappings))
            .finish()
    }
}

/// Formats pairs as a map, without collecting them.
struct DebugMap<I>(I);

impl<'a, I> fmt::Debug for DebugMap<I>
where
    I: Iterator<Item = (u16, &'a TopicName)> + Clone,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.clone()).finish()
    }
}

/// The peer's side of the Topic Aliases: Topic Alias → Topic Name, for the
/// PUBLISH packets we receive (v5.0 §3.3.2.3.4, §3.3.4).
///
/// `max` is the Topic Alias Maximum we announced (a Client in its CONNECT, a
/// Server in its CONNACK): every alias from 1 to `max` is accepted
/// [MQTT-3.3.2-10], [MQTT-3.3.2-12], and none above, so the peer can make us
/// hold at most `max` mappings. Alias 0 cannot be expressed
/// ([`NonZeroU16`]): the codec refuses it on decode [MQTT-3.3.2-8].
///
/// When receiving a PUBLISH with a Topic Alias: a non-empty Topic Name sets
/// the mapping ([`insert`](Self::insert)), a zero-length one uses it
/// ([`resolve`](Self::resolve)). On an error, close the Network Connection
/// with a DISCONNECT carrying [`TopicAliasError::reason_code`].
///
/// ```
/// use core::num::NonZeroU16;
/// use mqtt_codec::TopicName;
/// use mqtt_core::{TopicAliasError, TopicAliasRecv};
///
/// let mut aliases = TopicAliasRecv::new(10); // the Topic Alias Maximum we sent
/// let one = NonZeroU16::new(1).expect("non-zero");
///
/// // PUBLISH with Topic Name "a/b" and Topic Alias 1 sets the mapping…
/// aliases.insert(one, TopicName::new("a/b")?)?;
/// // …and a later PUBLISH with alias 1 and a zero-length Topic Name uses it.
/// assert_eq!(aliases.resolve(one)?, "a/b");
///
/// let two = NonZeroU16::new(2).expect("non-zero");
/// assert_eq!(aliases.resolve(two), Err(TopicAliasError::Unmapped(2)));
/// let eleven = NonZeroU16::new(11).expect("non-zero");
/// assert_eq!(
///     aliases.insert(eleven, TopicName::new("c")?),
///     Err(TopicAliasError::OutOfRange { alias: 11, max: 10 }),
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TopicAliasRecv {
    max: u16,
    /// The mapping of alias `a` is at `topics[a - 1]`; grows up to the
    /// highest alias mapped, at most `max`.
    topics: Vec<Option<TopicName>>,
}

impl TopicAliasRecv {
    /// An empty table for a Network Connection on which we announced the
    /// Topic Alias Maximum `max` (0, or the property absent: no aliases
    /// accepted).
    pub fn new(max: u16) -> Self {
        TopicAliasRecv {
            max,
            topics: Vec::new(),
        }
    }

    /// The Topic Alias Maximum: the highest alias accepted.
    #[inline]
    pub fn max(&self) -> u16 {
        self.max
    }

    /// Sets, or replaces, the mapping of `alias` to `topic`, as a received
    /// PUBLISH carrying both asks (§3.3.4). The name is copied, so the
    /// mapping does not keep the received packet alive.
    ///
    /// A zero-length `topic` ([`TopicName::empty`]) sets nothing: it only
    /// checks, like [`resolve`](Self::resolve), that `alias` is mapped.
    ///
    /// # Errors
    /// [`TopicAliasError::OutOfRange`] when `alias` is above `max`
    /// [MQTT-3.3.2-10], [MQTT-3.3.2-12]; [`TopicAliasError::Unmapped`] for a
    /// zero-length `topic` and an unmapped `alias`. The table is unchanged.
    pub fn insert(&mut self, alias: NonZeroU16, topic: TopicName) -> Result<(), TopicAliasError> {
        if topic.is_empty() {
            return self.resolve(alias).map(|_| ());
        }
        let index = self.index(alias)?;
        if self.topics.len() <= index {
            self.topics.resize_with(index + 1, || None);
        }
        if let Some(slot) = self.topics.get_mut(index) {
            *slot = Some(detach(topic.as_str()).unwrap_or(topic));
        }
        Ok(())
    }

    /// The Topic Name `alias` is mapped to, for a received PUBLISH with that
    /// alias and a zero-length Topic Name (§3.3.4).
    ///
    /// # Errors
    /// [`TopicAliasError::OutOfRange`] when `alias` is above `max`
    /// [MQTT-3.3.2-10], [MQTT-3.3.2-12]; [`TopicAliasError::Unmapped`] when
    /// no mapping was set for it on this Network Connection.
    pub fn resolve(&self, alias: NonZeroU16) -> Result<&TopicName, TopicAliasError> {
        let index = self.index(alias)?;
        self.topics
            .get(index)
            .and_then(Option::as_ref)
            .ok_or(TopicAliasError::Unmapped(alias.get()))
    }

    /// Forgets every mapping and frees their memory, keeping `max`. Call it
    /// when a new Network Connection starts: mappings are not carried
    /// forward [MQTT-3.3.2-7].
    pub fn clear(&mut self) {
        self.topics = Vec::new();
    }

    /// The index of `alias` in `topics`, if it is in range.
    #[inline]
    fn index(&self, alias: NonZeroU16) -> Result<usize, TopicAliasError> {
        if alias.get() > self.max {
            return Err(TopicAliasError::OutOfRange {
                alias: alias.get(),
                max: self.max,
            });
        }
        Ok(usize::from(alias.get()) - 1)
    }
}

impl fmt::Debug for TopicAliasRecv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mappings = self
            .topics
            .iter()
            .zip(1u16..)
            .filter_map(|(topic, alias)| Some((alias, topic.as_ref()?)));
        f.debug_struct("TopicAliasRecv")
            .field("max", &self.max)
            .field("mappings", &DebugMap(mappings))
            .finish()
    }
}

/// A Topic Alias in a received PUBLISH that cannot be used (§3.3.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicAliasError {
    /// The alias is above the Topic Alias Maximum we announced
    /// [MQTT-3.3.2-10], [MQTT-3.3.2-12]: a Protocol Error answered with
    /// DISCONNECT 0x94 (Topic Alias invalid).
    #[error("topic alias {alias} is above the topic alias maximum {max}")]
    OutOfRange {
        /// The alias received.
        alias: u16,
        /// The Topic Alias Maximum we announced.
        max: u16,
    },
    /// A zero-length Topic Name with an alias that has no mapping on this
    /// Network Connection: a Protocol Error answered with DISCONNECT 0x82
    /// (Protocol Error).
    #[error("topic alias {0} has no mapping")]
    Unmapped(u16),
}

impl TopicAliasError {
    /// The Reason Code of the DISCONNECT that §3.3.4 asks the receiver to
    /// close the Network Connection with.
    pub fn reason_code(&self) -> DisconnectReasonCode {
        match self {
            TopicAliasError::OutOfRange { .. } => DisconnectReasonCode::TopicAliasInvalid,
            TopicAliasError::Unmapped(_) => DisconnectReasonCode::ProtocolError,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use proptest::prelude::*;

    fn name(s: &str) -> TopicName {
        TopicName::new(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn alias(a: u16) -> NonZeroU16 {
        NonZeroU16::new(a).expect("test aliases are non-zero")
    }

    /// [MQTT-3.3.2-8] aliases are numbered from 1, never 0; [MQTT-3.3.2-9],
    /// [MQTT-3.3.2-11], [MQTT-3.2.2-17], [MQTT-3.1.2-26] and never above the
    /// peer's Topic Alias Maximum.
    #[test]
    fn send_numbers_from_one_up_to_max() {
        let mut t = TopicAliasSend::new(3);
        assert_eq!(t.max(), 3);
        assert!(t.is_empty());
        for (i, s) in ["a", "b", "c"].into_iter().enumerate() {
            assert_eq!(t.map(s), Some(alias(i as u16 + 1)));
        }
        assert_eq!(t.len(), 3);
        for s in ["d", "e", "f", "g", "h"] {
            let a = t.map(s).expect("max > 0");
            assert!((1..=3).contains(&a.get()), "{a}");
        }
        assert_eq!(t.len(), 3);
        assert_eq!(t.topic(alias(4)), None);
    }

    /// [MQTT-3.3.2-9] a Topic Alias Maximum of 65,535 hands out 65,535.
    #[test]
    fn send_full_u16_range() {
        let mut t = TopicAliasSend::new(u16::MAX);
        for i in 1..=u16::MAX {
            assert_eq!(t.map(&format!("t/{i}")), Some(alias(i)));
        }
        // The next one evicts the least recently used: alias 1.
        assert_eq!(t.map("new"), Some(alias(1)));
        assert_eq!(t.get("t/1"), None);
        assert_eq!(t.get("t/2"), Some(alias(2)));
    }

    /// [MQTT-3.2.2-18], [MQTT-3.1.2-27] a peer that announced no Topic Alias
    /// Maximum (or 0) is sent no alias.
    #[test]
    fn send_max_zero_maps_nothing() {
        let mut t = TopicAliasSend::new(0);
        assert_eq!(t.map("a"), None);
        assert_eq!(t.get("a"), None);
        assert!(t.is_empty());
    }

    /// The zero-length name cannot be mapped (§3.3.2.3.4: a mapping is set
    /// with a non-zero length Topic Name).
    #[test]
    fn send_empty_name_is_not_mapped() {
        let mut t = TopicAliasSend::new(2);
        assert_eq!(t.map(""), None);
        assert_eq!(t.get(""), None);
        assert!(t.is_empty());
    }

    /// Mapping a name twice gives the same alias; `topic` finds it back.
    #[test]
    fn send_existing_mapping_is_reused() {
        let mut t = TopicAliasSend::new(2);
        assert_eq!(t.get("a"), None);
        assert_eq!(t.map("a"), Some(alias(1)));
        assert_eq!(t.map("a"), Some(alias(1)));
        assert_eq!(t.get("a"), Some(alias(1)));
        assert_eq!(t.topic(alias(1)), Some(&name("a")));
        assert_eq!(t.topic(alias(2)), None);
        assert_eq!(t.len(), 1);
    }

    /// The least recently used mapping is replaced; `get` and `map` count as
    /// use, `topic` does not.
    #[test]
    fn send_evicts_least_recently_used() {
        let mut t = TopicAliasSend::new(3);
        for s in ["a", "b", "c"] {
            t.map(s);
        }
        // Use order, oldest first: a b c. Use a (get) and b (map): c a b.
        assert_eq!(t.get("a"), Some(alias(1)));
        assert_eq!(t.map("b"), Some(alias(2)));
        assert_eq!(t.topic(alias(3)), Some(&name("c")));
        // d replaces c (alias 3): a b d.
        assert_eq!(t.map("d"), Some(alias(3)));
        assert_eq!(t.get("c"), None);
        assert_eq!(t.topic(alias(3)), Some(&name("d")));
        // e replaces a (alias 1): b d e.
        assert_eq!(t.map("e"), Some(alias(1)));
        // c comes back in place of b (alias 2): d e c.
        assert_eq!(t.map("c"), Some(alias(2)));
        assert_eq!(t.get("d"), Some(alias(3)));
        // e c d: f replaces e (alias 1).
        assert_eq!(t.map("f"), Some(alias(1)));
        assert_eq!(t.len(), 3);
        let mut names: Vec<_> = (1..=3)
            .filter_map(|a| t.topic(alias(a)))
            .map(|n| n.as_str().to_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["c", "d", "f"]);
    }

    /// With a single alias, every new name takes it over.
    #[test]
    fn send_single_alias() {
        let mut t = TopicAliasSend::new(1);
        assert_eq!(t.map("a"), Some(alias(1)));
        assert_eq!(t.map("b"), Some(alias(1)));
        assert_eq!(t.get("a"), None);
        assert_eq!(t.get("b"), Some(alias(1)));
        assert_eq!(t.len(), 1);
    }

    /// [MQTT-3.3.2-7] mappings do not outlive the Network Connection:
    /// after `clear`, numbering starts again at 1.
    #[test]
    fn send_clear() {
        let mut t = TopicAliasSend::new(2);
        t.map("a");
        t.map("b");
        t.clear();
        assert!(t.is_empty());
        assert_eq!(t.max(), 2);
        assert_eq!(t.get("a"), None);
        assert_eq!(t.topic(alias(1)), None);
        assert_eq!(t.map("b"), Some(alias(1)));
    }

    /// A kept name does not share the buffer it came from (a received
    /// packet, say).
    #[test]
    fn names_are_detached() {
        let frame = Bytes::from(b"xxsport/tennis".to_vec());
        let topic = TopicName::from_bytes(frame.slice(2..)).expect("valid");
        let in_frame = |n: &TopicName| frame.as_ptr_range().contains(&n.as_str().as_ptr());
        assert!(in_frame(&topic));

        let mut send = TopicAliasSend::new(1);
        let a = send.map(topic.as_str()).expect("max > 0");
        assert!(!in_frame(send.topic(a).expect("mapped")));

        let mut recv = TopicAliasRecv::new(1);
        recv.insert(alias(1), topic.clone()).expect("in range");
        let kept = recv.resolve(alias(1)).expect("mapped");
        assert_eq!(kept, &topic);
        assert!(!in_frame(kept));
    }

    /// [MQTT-3.3.2-10], [MQTT-3.3.2-12] every alias from 1 to the Topic
    /// Alias Maximum we announced is accepted.
    #[test]
    fn recv_accepts_one_to_max() {
        let mut t = TopicAliasRecv::new(5);
        assert_eq!(t.max(), 5);
        for a in (1..=5).rev() {
            t.insert(alias(a), name(&format!("t/{a}")))
                .expect("in range");
        }
        for a in 1..=5 {
            assert_eq!(t.resolve(alias(a)), Ok(&name(&format!("t/{a}"))));
        }
        let mut full = TopicAliasRecv::new(u16::MAX);
        full.insert(alias(u16::MAX), name("last"))
            .expect("in range");
        assert_eq!(full.resolve(alias(u16::MAX)), Ok(&name("last")));
    }

    /// [MQTT-3.3.2-10], [MQTT-3.3.2-12] an alias above the maximum is a
    /// Protocol Error, DISCONNECT 0x94 (§3.3.4); the table is unchanged.
    #[test]
    fn recv_out_of_range() {
        let mut t = TopicAliasRecv::new(2);
        let err = TopicAliasError::OutOfRange { alias: 3, max: 2 };
        assert_eq!(t.insert(alias(3), name("a")), Err(err.clone()));
        assert_eq!(t.resolve(alias(3)), Err(err.clone()));
        assert_eq!(t.insert(alias(3), TopicName::empty()), Err(err.clone()));
        assert_eq!(err.reason_code(), DisconnectReasonCode::TopicAliasInvalid);
        assert_eq!(err.reason_code().as_u8(), 0x94);
        assert!(t.topics.is_empty());
    }

    /// [MQTT-3.1.2-27], [MQTT-3.2.2-18] having announced no maximum (0), we
    /// accept no alias at all.
    #[test]
    fn recv_max_zero_accepts_nothing() {
        let mut t = TopicAliasRecv::new(0);
        assert_eq!(
            t.insert(alias(1), name("a")),
            Err(TopicAliasError::OutOfRange { alias: 1, max: 0 })
        );
        assert_eq!(
            t.resolve(alias(1)),
            Err(TopicAliasError::OutOfRange { alias: 1, max: 0 })
        );
    }

    /// §3.3.4 3a: a zero-length Topic Name with an unmapped alias is a
    /// Protocol Error, DISCONNECT 0x82.
    #[test]
    fn recv_unmapped() {
        let mut t = TopicAliasRecv::new(4);
        t.insert(alias(1), name("a")).expect("in range");
        assert_eq!(t.resolve(alias(2)), Err(TopicAliasError::Unmapped(2)));
        assert_eq!(t.resolve(alias(4)), Err(TopicAliasError::Unmapped(4)));
        assert_eq!(
            t.insert(alias(3), TopicName::empty()),
            Err(TopicAliasError::Unmapped(3))
        );
        assert_eq!(
            TopicAliasError::Unmapped(3).reason_code(),
            DisconnectReasonCode::ProtocolError
        );
        // A zero-length name with a mapped alias changes nothing.
        assert_eq!(t.insert(alias(1), TopicName::empty()), Ok(()));
        assert_eq!(t.resolve(alias(1)), Ok(&name("a")));
    }

    /// §3.3.4 2b: a non-empty Topic Name with a mapped alias replaces the
    /// mapping.
    #[test]
    fn recv_remap() {
        let mut t = TopicAliasRecv::new(1);
        t.insert(alias(1), name("a")).expect("in range");
        t.insert(alias(1), name("b")).expect("in range");
        assert_eq!(t.resolve(alias(1)), Ok(&name("b")));
    }

    /// [MQTT-3.3.2-7] no mapping is carried forward to the next Network
    /// Connection.
    #[test]
    fn recv_clear() {
        let mut t = TopicAliasRecv::new(3);
        t.insert(alias(1), name("a")).expect("in range");
        t.insert(alias(3), name("c")).expect("in range");
        t.clear();
        assert_eq!(t.max(), 3);
        for a in 1..=3 {
            assert_eq!(t.resolve(alias(a)), Err(TopicAliasError::Unmapped(a)));
        }
    }

    #[test]
    fn error_display_and_debug() {
        assert_eq!(
            TopicAliasError::OutOfRange { alias: 9, max: 8 }.to_string(),
            "topic alias 9 is above the topic alias maximum 8"
        );
        assert_eq!(
            TopicAliasError::Unmapped(4).to_string(),
            "topic alias 4 has no mapping"
        );
        let mut send = TopicAliasSend::new(2);
        send.map("a");
        assert_eq!(
            format!("{send:?}"),
            r#"TopicAliasSend { max: 2, mappings: {1: "a"} }"#
        );
        let mut recv = TopicAliasRecv::new(3);
        recv.insert(alias(2), name("b")).expect("in range");
        assert_eq!(
            format!("{recv:?}"),
            r#"TopicAliasRecv { max: 3, mappings: {2: "b"} }"#
        );
    }

    /// A plain model of [`TopicAliasSend`]: `(alias, name)` pairs, most
    /// recently used first.
    struct Model {
        max: u16,
        used: Vec<(u16, String)>,
    }

    impl Model {
        fn position(&self, topic: &str) -> Option<usize> {
            self.used.iter().position(|(_, t)| t == topic)
        }

        fn get(&mut self, topic: &str) -> Option<u16> {
            let entry = self.used.remove(self.position(topic)?);
            self.used.insert(0, entry.clone());
            Some(entry.0)
        }

        fn map(&mut self, topic: &str) -> Option<u16> {
            if self.max == 0 {
                return None;
            }
            if let Some(a) = self.get(topic) {
                return Some(a);
            }
            let a = if self.used.len() < usize::from(self.max) {
                self.used.len() as u16 + 1
            } else {
                self.used.pop().map(|(a, _)| a)?
            };
            self.used.insert(0, (a, topic.to_owned()));
            Some(a)
        }

        fn topic(&self, alias: u16) -> Option<&str> {
            self.used
                .iter()
                .find(|(a, _)| *a == alias)
                .map(|(_, t)| t.as_str())
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Get(usize),
        Map(usize),
        Topic(u16),
        Clear,
    }

    const NAMES: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..NAMES.len()).prop_map(Op::Get),
            6 => (0..NAMES.len()).prop_map(Op::Map),
            2 => (1u16..=8).prop_map(Op::Topic),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        /// [`TopicAliasSend`] agrees with the model after every operation,
        /// and never hands out 0 or more than `max` [MQTT-3.3.2-8],
        /// [MQTT-3.3.2-9], [MQTT-3.3.2-11].
        #[test]
        fn send_agrees_with_model(max in 0u16..=6, ops in prop::collection::vec(op(), 0..200)) {
            let mut t = TopicAliasSend::new(max);
            let mut m = Model { max, used: Vec::new() };
            for op in ops {
                match op {
                    Op::Get(i) => {
                        let got = t.get(NAMES[i]).map(NonZeroU16::get);
                        prop_assert_eq!(got, m.get(NAMES[i]));
                    }
                    Op::Map(i) => {
                        let got = t.map(NAMES[i]).map(NonZeroU16::get);
                        prop_assert_eq!(got, m.map(NAMES[i]));
                        if let Some(a) = got {
                            prop_assert!((1..=max).contains(&a));
                        }
                    }
                    Op::Topic(a) => {
                        let got = t.topic(alias(a)).map(TopicName::as_str);
                        prop_assert_eq!(got, m.topic(a));
                    }
                    Op::Clear => {
                        t.clear();
                        m.used.clear();
                    }
                }
                prop_assert_eq!(t.len(), m.used.len());
                prop_assert_eq!(t.is_empty(), m.used.is_empty());
                prop_assert_eq!(t.by_topic.len(), m.used.len());
                // The recency list, walked from the head, is the model's order.
                let mut order = Vec::new();
                let mut at = t.head;
                while at != NIL && order.len() <= t.len() {
                    order.push(at);
                    at = t.slots[usize::from(at) - 1].next;
                }
                let expected: Vec<u16> = m.used.iter().map(|(a, _)| *a).collect();
                prop_assert_eq!(order, expected);
            }
        }
    }
}
