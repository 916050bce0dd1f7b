//! [`PacketIdPool`]: the packet identifiers in use (§2.2.1), and the set of
//! identifiers the pool and the QoS 2 receiver state are built on.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use mqtt_codec::PacketId;

use crate::SessionError;

/// Words of the bitset for the whole `u16` range: 65,536 bits, 8 KiB.
const U16_WORDS: usize = 1 << 10;

/// The bitset of the `u16` range: bit `id % 64` of word `id / 64`.
type Words = [u64; U16_WORDS];

/// A set of non-zero identifiers up to a maximum: a bitset when the maximum
/// is `u16::MAX`, an interval set of used ranges otherwise, whose memory
/// follows the number of ranges, not the id space. Either is allocated by
/// the first insert and freed by [`shrink`](Self::shrink) once empty: an
/// unused set is 16 bytes and holds nothing else (every session has two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdSet {
    Bits {
        words: Option<Box<Words>>,
        len: u32,
    },
    Ranges {
        ranges: Option<Box<Ranges>>,
        max: u32,
    },
}

/// Disjoint, non-adjacent ranges `start => end` (inclusive), and how many
/// identifiers they hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Ranges {
    map: BTreeMap<u32, u32>,
    len: u32,
}

impl Ranges {
    fn contains(&self, id: u32) -> bool {
        self.map
            .range(..=id)
            .next_back()
            .is_some_and(|(_, &end)| end >= id)
    }

    /// Adds `id`, not in the set, merging it with the ranges beside it.
    fn insert(&mut self, id: u32) {
        let map = &mut self.map;
        let left = id
            .checked_sub(1)
            .and_then(|before| map.range(..=before).next_back())
            .filter(|(_, &end)| end.checked_add(1) == Some(id))
            .map(|(&start, _)| start);
        let right_end = id.checked_add(1).and_then(|after| map.remove(&after));
        let end = right_end.unwrap_or(id);
        map.insert(left.unwrap_or(id), end);
        self.len += 1;
    }

    /// Removes `id`, in the set, splitting its range.
    fn remove(&mut self, id: u32) {
        let Some((&start, &end)) = self.map.range(..=id).next_back() else {
            return;
        };
        self.map.remove(&start);
        if start < id {
            self.map.insert(start, id - 1);
        }
        if id < end {
            self.map.insert(id + 1, end);
        }
        self.len -= 1;
    }
}

/// The identifiers set in `words`, in ascending order.
fn bits(words: &Words) -> impl Iterator<Item = u32> + '_ {
    words.iter().enumerate().flat_map(|(index, &word)| {
        let mut rest = word;
        core::iter::from_fn(move || {
            (rest != 0).then(|| {
                let id = index as u32 * 64 + rest.trailing_zeros();
                rest &= rest - 1;
                id
            })
        })
    })
}

impl IdSet {
    /// An empty set of identifiers `1..=max`.
    pub(crate) fn new(max: u32) -> Self {
        if max <= u32::from(u16::MAX) {
            IdSet::Bits {
                words: None,
                len: 0,
            }
        } else {
            IdSet::Ranges { ranges: None, max }
        }
    }

    fn max(&self) -> u32 {
        match self {
            IdSet::Bits { .. } => u32::from(u16::MAX),
            IdSet::Ranges { max, .. } => *max,
        }
    }

    pub(crate) fn len(&self) -> u32 {
        match self {
            IdSet::Bits { len, .. } => *len,
            IdSet::Ranges { ranges, .. } => ranges.as_ref().map_or(0, |r| r.len),
        }
    }

    pub(crate) fn contains(&self, id: u32) -> bool {
        match self {
            IdSet::Bits { words, .. } => words.as_ref().is_some_and(|words| {
                words
                    .get((id / 64) as usize)
                    .is_some_and(|w| w >> (id % 64) & 1 == 1)
            }),
            IdSet::Ranges { ranges, .. } => ranges.as_ref().is_some_and(|r| r.contains(id)),
        }
    }

    /// Adds `id` (non-zero, at most the maximum); false if it was there.
    pub(crate) fn insert(&mut self, id: u32) -> bool {
        debug_assert!(id != 0 && id <= self.max());
        if self.contains(id) {
            return false;
        }
        match self {
            IdSet::Bits { words, len } => {
                let words = words.get_or_insert_with(|| Box::new([0; U16_WORDS]));
                words[(id / 64) as usize] |= 1 << (id % 64);
                *len += 1;
            }
            IdSet::Ranges { ranges, .. } => ranges.get_or_insert_with(Box::default).insert(id),
        }
        true
    }

    /// Adds `first..=last`, which the caller has checked to be within
    /// `1..=max` and disjoint from, and not adjacent to, the ranges there.
    pub(crate) fn insert_range(&mut self, first: u32, last: u32) {
        match self {
            IdSet::Ranges { ranges, .. } => {
                let ranges = ranges.get_or_insert_with(Box::default);
                ranges.map.insert(first, last);
                ranges.len += last - first + 1;
            }
            IdSet::Bits { .. } => {
                for id in first..=last {
                    self.insert(id);
                }
            }
        }
    }

    /// Removes `id`; false if it was not there.
    pub(crate) fn remove(&mut self, id: u32) -> bool {
        if !self.contains(id) {
            return false;
        }
        match self {
            IdSet::Bits { words, len } => {
                if let Some(words) = words {
                    words[(id / 64) as usize] &= !(1 << (id % 64));
                    *len -= 1;
                }
            }
            IdSet::Ranges { ranges, .. } => {
                if let Some(ranges) = ranges {
                    ranges.remove(id);
                }
            }
        }
        true
    }

    /// Frees its memory (8 KiB for a bitset once any identifier was used)
    /// if the set is empty; the next insert allocates it again.
    pub(crate) fn shrink(&mut self) {
        if self.len() == 0 {
            match self {
                IdSet::Bits { words, .. } => *words = None,
                IdSet::Ranges { ranges, .. } => *ranges = None,
            }
        }
    }

    /// Whether the set holds memory (for tests).
    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        match self {
            IdSet::Bits { words, .. } => words.is_some(),
            IdSet::Ranges { ranges, .. } => ranges.is_some(),
        }
    }

    pub(crate) fn clear(&mut self) {
        match self {
            IdSet::Bits { words, len } => {
                if let Some(words) = words {
                    words.fill(0);
                }
                *len = 0;
            }
            IdSet::Ranges { ranges, .. } => {
                if let Some(ranges) = ranges {
                    **ranges = Ranges::default();
                }
            }
        }
    }

    /// The smallest identifier not in the set in `from..=max`.
    fn first_free_from(&self, from: u32) -> Option<u32> {
        let max = self.max();
        if from == 0 || from > max {
            return None;
        }
        match self {
            IdSet::Bits { words: None, .. } | IdSet::Ranges { ranges: None, .. } => Some(from),
            IdSet::Bits {
                words: Some(words), ..
            } => {
                let mut index = (from / 64) as usize;
                // Bits below `from` count as used; so does id 0.
                let mut word = words[index] | ((1u64 << (from % 64)) - 1);
                loop {
                    if word != u64::MAX {
                        let id = index as u32 * 64 + (!word).trailing_zeros();
                        return (id <= max).then_some(id);
                    }
                    index += 1;
                    word = *words.get(index)?;
                }
            }
            IdSet::Ranges {
                ranges: Some(ranges),
                ..
            } => match ranges.map.range(..=from).next_back() {
                // Ranges are never adjacent, so the id after one is free.
                Some((_, &end)) if end >= from => end.checked_add(1).filter(|&id| id <= max),
                _ => Some(from),
            },
        }
    }

    /// The ranges of consecutive identifiers in the set, in ascending order.
    pub(crate) fn ranges(&self) -> Vec<(u32, u32)> {
        if let IdSet::Ranges { ranges, .. } = self {
            let map = ranges.iter().flat_map(|r| r.map.iter());
            return map.map(|(&s, &e)| (s, e)).collect();
        }
        let mut out = Vec::new();
        let mut open: Option<(u32, u32)> = None;
        for id in self.iter() {
            open = match open {
                Some((start, end)) if end + 1 == id => Some((start, id)),
                Some(range) => {
                    out.push(range);
                    Some((id, id))
                }
                None => Some((id, id)),
            };
        }
        out.extend(open);
        out
    }

    /// The identifiers in the set, in ascending order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let (words, ranges) = match self {
            IdSet::Bits { words, .. } => (words.as_deref(), None),
            IdSet::Ranges { ranges, .. } => (None, ranges.as_deref()),
        };
        let ranges = ranges
            .into_iter()
            .flat_map(|r| r.map.iter().flat_map(|(&start, &end)| start..=end));
        words.into_iter().flat_map(bits).chain(ranges)
    }
}

/// The packet identifiers in use, for PUBLISH (QoS > 0), SUBSCRIBE and
/// UNSUBSCRIBE, which share one set per direction (§2.2.1).
///
/// [`acquire`](Self::acquire) never hands out an identifier in use
/// [MQTT-2.2.1-3], [MQTT-2.2.1-4]. It searches next-fit from the identifier
/// after the last one it handed out, so that an identifier just released is
/// not reused while others are free: a late or duplicated acknowledgement of
/// the old flow cannot be mistaken for one of the new flow.
///
/// For `u16` identifiers the pool is a bitset of 8 KiB, allocated on first
/// use and searched a 64-bit word at a time. For `u32` it is a set of used
/// ranges, whose memory follows the number of ranges in use, never the
/// 4-billion id space.
///
/// ```
/// use mqtt_session::{PacketIdPool, SessionError};
///
/// let mut pool = PacketIdPool::<u16>::new();
/// assert_eq!(pool.acquire()?, 1);
/// assert_eq!(pool.acquire()?, 2);
/// pool.register(5)?;
/// assert_eq!(pool.register(5), Err(SessionError::PacketIdInUse(5)));
/// assert!(pool.release(1));
/// assert_eq!(pool.acquire()?, 3); // not 1: next-fit
/// assert_eq!(pool.len(), 3);
/// # Ok::<(), SessionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketIdPool<P: PacketId = u16> {
    set: IdSet,
    /// Where the next search starts.
    cursor: u32,
    _id: PhantomData<P>,
}

impl<P: PacketId> Default for PacketIdPool<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: PacketId> PacketIdPool<P> {
    /// An empty pool of identifiers `1..=P::MAX`; allocates nothing yet.
    pub fn new() -> Self {
        PacketIdPool {
            set: IdSet::new(P::MAX.to_u32()),
            cursor: 1,
            _id: PhantomData,
        }
    }

    /// Takes an unused identifier, next-fit from the last one taken.
    ///
    /// Call it for each new PUBLISH (QoS > 0), SUBSCRIBE or UNSUBSCRIBE
    /// [MQTT-2.2.1-3], [MQTT-2.2.1-4]. Errs with
    /// [`SessionError::PacketIdsExhausted`] when every identifier is in use.
    pub fn acquire(&mut self) -> Result<P, SessionError> {
        let found = self
            .set
            .first_free_from(self.cursor)
            .or_else(|| self.set.first_free_from(1));
        let id = found.ok_or(SessionError::PacketIdsExhausted)?;
        let packet_id = P::from_u32(id).ok_or(SessionError::PacketIdsExhausted)?;
        self.set.insert(id);
        self.cursor = if id >= P::MAX.to_u32() { 1 } else { id + 1 };
        Ok(packet_id)
    }

    /// Marks `id`, chosen by the caller, as in use.
    ///
    /// Errs with [`SessionError::PacketIdInUse`] if it is, and
    /// [`SessionError::ZeroPacketId`] on 0.
    pub fn register(&mut self, id: P) -> Result<(), SessionError> {
        let raw = id.to_u32();
        if raw == 0 {
            return Err(SessionError::ZeroPacketId);
        }
        if !self.set.insert(raw) {
            return Err(SessionError::PacketIdInUse(raw));
        }
        Ok(())
    }

    /// Makes `id` available again, once its flow has ended (§2.2.1); false
    /// if it was not in use.
    pub fn release(&mut self, id: P) -> bool {
        self.set.remove(id.to_u32())
    }

    /// Whether `id` is in use.
    pub fn is_in_use(&self, id: P) -> bool {
        self.set.contains(id.to_u32())
    }

    /// The number of identifiers in use.
    pub fn len(&self) -> usize {
        usize::try_from(self.set.len()).unwrap_or(usize::MAX)
    }

    /// Whether no identifier is in use.
    pub fn is_empty(&self) -> bool {
        self.set.len() == 0
    }

    /// Releases every identifier, as when the session ends.
    pub fn clear(&mut self) {
        self.set.clear();
    }

    /// Frees its memory if no identifier is in use.
    pub(crate) fn shrink(&mut self) {
        self.set.shrink();
    }

    /// Whether it holds memory (for tests).
    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        self.set.is_allocated()
    }

    /// The identifiers in use, in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = P> + '_ {
        self.set.iter().filter_map(P::from_u32)
    }

    pub(crate) fn cursor(&self) -> u32 {
        self.cursor
    }

    /// Gives back `id`, taken by the last [`acquire`](Self::acquire) and
    /// not used, as if it had never been taken: released, and the next
    /// search starts at `cursor`, where that one started.
    pub(crate) fn unacquire(&mut self, id: P, cursor: u32) {
        self.set.remove(id.to_u32());
        self.cursor = cursor;
    }

    pub(crate) fn set(&self) -> &IdSet {
        &self.set
    }

    /// A pool restored from its parts, as exported.
    pub(crate) fn from_parts(set: IdSet, cursor: u32) -> Self {
        PacketIdPool {
            set,
            cursor: cursor.clamp(1, P::MAX.to_u32()),
            _id: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bitmap, allocated by the first identifier, stays while
    /// identifiers come and go and is freed by `shrink` only once the pool
    /// is empty; the next identifier allocates it again (next-fit goes on
    /// from where it was).
    #[test]
    fn shrink_frees_only_an_empty_bitmap() {
        let mut pool = PacketIdPool::<u16>::new();
        assert!(!pool.is_allocated());
        assert_eq!(pool.acquire(), Ok(1));
        assert_eq!(pool.acquire(), Ok(2));
        assert!(pool.release(1));
        pool.shrink();
        assert!(pool.is_allocated(), "2 is in use");
        assert!(pool.is_in_use(2));
        assert!(pool.release(2));
        assert!(pool.is_allocated(), "kept for the next ones");
        pool.shrink();
        assert!(!pool.is_allocated());
        assert!(pool.is_empty() && !pool.is_in_use(2));
        assert_eq!(pool.acquire(), Ok(3));
        assert!(pool.is_allocated() && pool.is_in_use(3));
    }

    /// [MQTT-2.2.1-3] identifiers are non-zero and unused; next-fit.
    #[test]
    fn acquire_is_next_fit_and_never_zero() {
        let mut pool = PacketIdPool::<u16>::new();
        assert_eq!(pool.acquire(), Ok(1));
        assert_eq!(pool.acquire(), Ok(2));
        assert!(pool.release(1));
        assert_eq!(pool.acquire(), Ok(3));
        pool.register(4).unwrap();
        assert_eq!(pool.acquire(), Ok(5));
        assert_eq!(pool.register(0), Err(SessionError::ZeroPacketId));
        assert!(!pool.release(1));
    }

    /// [MQTT-2.2.1-3] wrapping past the top skips ids in use and never
    /// hands out 0.
    #[test]
    fn wraps_around_u16() {
        let mut pool = PacketIdPool::<u16>::new();
        pool.register(u16::MAX).unwrap();
        pool.register(1).unwrap();
        pool.cursor = u32::from(u16::MAX - 1);
        assert_eq!(pool.acquire(), Ok(u16::MAX - 1));
        assert_eq!(pool.acquire(), Ok(2));
    }

    /// [MQTT-2.2.1-4] exhaustion is an error, and a release makes exactly
    /// that identifier available.
    #[test]
    fn exhausts_u16() {
        let mut pool = PacketIdPool::<u16>::new();
        for expected in 1..=u16::MAX {
            assert_eq!(pool.acquire(), Ok(expected));
        }
        assert_eq!(pool.len(), 65_535);
        assert_eq!(pool.acquire(), Err(SessionError::PacketIdsExhausted));
        assert!(pool.release(40_000));
        assert_eq!(pool.acquire(), Ok(40_000));
        assert_eq!(pool.set.ranges(), vec![(1, 65_535)]);
    }

    #[test]
    fn u32_ranges_merge_and_split() {
        let mut pool = PacketIdPool::<u32>::new();
        for id in [5, 7, 6, u32::MAX, 1] {
            pool.register(id).unwrap();
        }
        assert_eq!(
            pool.set.ranges(),
            vec![(1, 1), (5, 7), (u32::MAX, u32::MAX)]
        );
        assert!(pool.release(6));
        assert_eq!(
            pool.set.ranges(),
            vec![(1, 1), (5, 5), (7, 7), (u32::MAX, u32::MAX)]
        );
        assert_eq!(pool.acquire(), Ok(2));
        pool.cursor = u32::MAX - 1;
        assert_eq!(pool.acquire(), Ok(u32::MAX - 1));
        // Wraps past u32::MAX (in use) to the lowest free id.
        assert_eq!(pool.acquire(), Ok(3));
        assert_eq!(
            pool.iter().collect::<Vec<_>>(),
            vec![1, 2, 3, 5, 7, u32::MAX - 1, u32::MAX]
        );
        assert_eq!(pool.len(), 7);
    }

    /// A u32 pool does not allocate in proportion to the ids in use when
    /// they are consecutive.
    #[test]
    fn u32_consecutive_ids_are_one_range() {
        let mut pool = PacketIdPool::<u32>::new();
        for _ in 0..100_000 {
            pool.acquire().unwrap();
        }
        assert_eq!(pool.set.ranges(), vec![(1, 100_000)]);
        assert_eq!(pool.len(), 100_000);
    }

    #[test]
    fn bitset_is_allocated_on_first_use() {
        let pool = PacketIdPool::<u16>::new();
        assert!(!pool.is_allocated());
        assert_eq!(pool.iter().count(), 0);
    }

    /// `insert_range` (an import) counts what it adds, in either form.
    #[test]
    fn insert_range_counts_its_identifiers() {
        for max in [u32::from(u16::MAX), u32::MAX] {
            let mut set = IdSet::new(max);
            set.insert_range(5, 9);
            set.insert_range(20, 20);
            assert_eq!(set.len(), 6, "max {max}");
            assert_eq!(set.ranges(), vec![(5, 9), (20, 20)]);
            assert!(set.contains(9) && !set.contains(10));
        }
    }

    /// A pool rebuilt from its parts (as exported) goes on where it was:
    /// the same next identifier, up to and including the highest.
    #[test]
    fn a_pool_from_its_parts_goes_on_where_it_was() {
        let mut pool = PacketIdPool::<u16>::new();
        assert!(pool.is_empty());
        for _ in 0..3 {
            pool.acquire().unwrap();
        }
        assert!(pool.release(2));
        assert!(!pool.is_empty());
        let mut again = PacketIdPool::<u16>::from_parts(pool.set().clone(), pool.cursor());
        assert_eq!(again.acquire(), pool.acquire());
        assert_eq!(again.acquire(), Ok(5));
        pool.cursor = u32::from(u16::MAX);
        assert_eq!(pool.acquire(), Ok(u16::MAX), "the highest, free, is next");
        assert_eq!(pool.acquire(), Ok(2), "then the lowest free");
    }

    /// Every session holds two sets: unused, each is two words, whatever
    /// the identifier type.
    #[test]
    fn an_unused_set_is_two_words() {
        assert_eq!(std::mem::size_of::<IdSet>(), 16);
        assert_eq!(std::mem::size_of::<PacketIdPool<u16>>(), 24);
        assert_eq!(std::mem::size_of::<PacketIdPool<u32>>(), 24);
    }

    /// A `u32` set, too, is allocated by its first identifier and freed by
    /// `shrink` only once empty.
    #[test]
    fn u32_ranges_are_allocated_on_use_and_freed_when_empty() {
        let mut pool = PacketIdPool::<u32>::new();
        assert!(!pool.is_allocated() && !pool.is_in_use(1));
        assert_eq!(pool.acquire(), Ok(1));
        pool.register(70_000).unwrap();
        pool.shrink();
        assert!(pool.is_allocated() && pool.is_in_use(70_000));
        assert!(pool.release(1) && pool.release(70_000));
        assert!(!pool.release(70_000));
        assert!(pool.is_empty() && pool.is_allocated());
        pool.shrink();
        assert!(!pool.is_allocated() && pool.set.ranges().is_empty());
        assert_eq!(pool.acquire(), Ok(2), "next-fit goes on");
        pool.clear();
        assert!(pool.is_empty() && !pool.is_in_use(2));
        assert_eq!(pool.acquire(), Ok(3));
    }
}
