//! What a subscriber counts: the sequence numbers seen per publisher
//! ([`Seen`]) and a latency histogram ([`Histogram`], the `hdrhistogram`
//! crate's).

#![allow(dead_code)] // shared by loadgen and soak, each using a part

/// The sequence numbers received from one publisher, as a bit set.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    bits: Vec<u64>,
    /// Distinct sequence numbers received.
    pub distinct: u64,
    /// Sequence numbers received more than once (each extra copy counts).
    pub duplicates: u64,
}

impl Seen {
    /// Records `seq`; returns whether it was new.
    pub fn insert(&mut self, seq: u64) -> bool {
        let (word, bit) = ((seq / 64) as usize, seq % 64);
        if word >= self.bits.len() {
            self.bits.resize((word + 1).next_power_of_two(), 0);
        }
        let mask = 1u64 << bit;
        if self.bits[word] & mask != 0 {
            self.duplicates += 1;
            false
        } else {
            self.bits[word] |= mask;
            self.distinct += 1;
            true
        }
    }

    /// Whether `seq` was received.
    pub fn contains(&self, seq: u64) -> bool {
        self.bits
            .get((seq / 64) as usize)
            .is_some_and(|w| w & (1 << (seq % 64)) != 0)
    }

    /// The sequence numbers received, in order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, bits)| {
            (0..64u64)
                .filter(move |b| bits & (1 << b) != 0)
                .map(move |b| w as u64 * 64 + b)
        })
    }
}

/// Latencies in microseconds, kept to 3 significant figures (within
/// 0.1 %) by an HdrHistogram that grows to the largest value recorded.
#[derive(Debug, Clone)]
pub struct Histogram(hdrhistogram::Histogram<u64>);

impl Default for Histogram {
    fn default() -> Self {
        let histogram = hdrhistogram::Histogram::new(3);
        Histogram(histogram.expect("3 significant figures are in 0..=5"))
    }
}

impl Histogram {
    /// Adds one value, growing the histogram to hold it.
    pub fn record(&mut self, v: u64) {
        // Growing fails only where usize cannot count the buckets; then
        // the value counts as the largest one held.
        if self.0.record(v).is_err() {
            self.0.saturating_record(v);
        }
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        // Only a histogram of a fixed range refuses values beyond it.
        self.0
            .add(&other.0)
            .expect("an auto-resizing histogram adds any");
    }

    /// The number of values.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// The largest value, to 3 significant figures (0 when empty).
    pub fn max(&self) -> u64 {
        self.0.max()
    }

    /// The value at or below which a fraction `q` (0..=1) of the values
    /// lie, to 3 significant figures; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        self.0.value_at_quantile(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `value` is `exact` to 3 significant figures.
    fn near(value: u64, exact: u64) -> bool {
        value.abs_diff(exact) * 1000 <= exact
    }

    #[test]
    fn quantiles_are_within_a_thousandth() {
        let mut h = Histogram::default();
        assert_eq!((h.len(), h.quantile(0.5), h.max()), (0, 0, 0));
        for v in 1..=100_000 {
            h.record(v);
        }
        assert_eq!(h.len(), 100_000);
        for (q, exact) in [(0.5, 50_000), (0.99, 99_000), (1.0, 100_000)] {
            assert!(near(h.quantile(q), exact), "{q}: {}", h.quantile(q));
        }
        assert!(near(h.max(), 100_000), "{}", h.max());
        // Exact below 2048 (3 significant figures: 1 µs steps).
        let mut small = Histogram::default();
        for v in [7, 7, 900, 2047] {
            small.record(v);
        }
        assert_eq!((small.quantile(0.5), small.quantile(0.75)), (7, 900));
        assert_eq!(small.max(), 2047);
    }

    #[test]
    fn merge_adds_the_values_of_a_wider_histogram() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        a.record(10);
        b.record(20);
        b.record(1 << 40);
        b.record(u64::MAX); // the histogram grows to hold any u64
        a.merge(&b);
        assert_eq!((a.len(), a.quantile(0.1), a.quantile(0.5)), (4, 10, 20));
        assert!(near(a.quantile(0.75), 1 << 40), "{}", a.quantile(0.75));
        assert!(a.max() > 1 << 60, "{}", a.max());
    }

    #[test]
    fn seen_counts_duplicates() {
        let mut s = Seen::default();
        assert!(s.insert(5));
        assert!(!s.insert(5));
        assert!(s.insert(1000));
        assert_eq!((s.distinct, s.duplicates), (2, 1));
        assert_eq!(s.iter().collect::<Vec<_>>(), [5, 1000]);
    }
}
