//! [`LazyDeque`]: a `VecDeque` allocated on first use.

use std::collections::VecDeque;

/// A `VecDeque` that a connection holds as 8 bytes until its first item,
/// instead of 32: most connections never use the ones it is for (packets
/// deferred until the CONNACK, messages awaiting the application's
/// acknowledgement), and an idle connection's size is its memory. Kept
/// once allocated, for the next items, until [`shrink`](Self::shrink).
// The box is the point: 8 bytes inline where a `VecDeque` takes 32.
#[allow(clippy::box_collection)]
#[derive(Debug)]
pub(crate) struct LazyDeque<T>(Option<Box<VecDeque<T>>>);

impl<T> Default for LazyDeque<T> {
    fn default() -> Self {
        LazyDeque(None)
    }
}

impl<T> LazyDeque<T> {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|d| d.is_empty())
    }

    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |d| d.len())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.iter().flat_map(|d| d.iter())
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.0.iter_mut().flat_map(|d| d.iter_mut())
    }

    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.0.as_ref()?.get(i)
    }

    pub(crate) fn push_back(&mut self, item: T) {
        self.0.get_or_insert_with(Default::default).push_back(item);
    }

    pub(crate) fn pop_front(&mut self) -> Option<T> {
        self.0.as_mut()?.pop_front()
    }

    pub(crate) fn remove(&mut self, i: usize) -> Option<T> {
        self.0.as_mut()?.remove(i)
    }

    pub(crate) fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        if let Some(d) = &mut self.0 {
            d.retain(keep);
        }
    }

    pub(crate) fn clear(&mut self) {
        if let Some(d) = &mut self.0 {
            d.clear();
        }
    }

    /// Frees the memory if it holds nothing.
    pub(crate) fn shrink(&mut self) {
        if self.is_empty() {
            self.0 = None;
        }
    }

    /// Whether it holds memory (for tests).
    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        self.0.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_deque_and_frees_when_shrunk_empty() {
        let mut d = LazyDeque::default();
        assert!(d.is_empty() && !d.is_allocated());
        assert_eq!(
            (d.len(), d.pop_front(), d.remove(0), d.get(0)),
            (0, None, None, None)
        );
        d.clear();
        d.retain(|_: &u8| false);
        assert!(!d.is_allocated());
        for i in 1..=4u8 {
            d.push_back(i);
        }
        d.retain(|&i| i != 2);
        assert_eq!(d.iter().copied().collect::<Vec<_>>(), [1, 3, 4]);
        d.iter_mut().for_each(|i| *i *= 10);
        assert_eq!((d.len(), d.get(1)), (3, Some(&30)));
        assert_eq!(d.remove(1), Some(30));
        assert_eq!(d.pop_front(), Some(10));
        d.shrink();
        assert!(d.is_allocated(), "not empty: kept");
        d.clear();
        assert!(d.is_empty() && d.is_allocated(), "kept for the next items");
        d.shrink();
        assert!(!d.is_allocated());
    }
}
