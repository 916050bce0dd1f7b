//! What a subscriber counts: the sequence numbers seen per publisher
//! ([`Seen`]), a latency histogram ([`Histogram`], the `hdrhistogram`
//! crate's), messages received per second ([`PerSecond`], summarised by
//! [`RateSummary`]) and the time to drain ([`drain_seconds`]).

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

/// Messages received in each second since the publishers' start: bin `i`
/// counts those received in `[i, i + 1)` s (a message received before the
/// start counts in bin 0).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PerSecond {
    bins: Vec<u64>,
}

/// The most bins a series holds (a day): a later message counts in the
/// last one, so that a bad clock cannot make the series allocate without
/// bound.
const MAX_BINS: usize = 86_400;

impl PerSecond {
    /// Counts one message received `offset_ns` after the start.
    pub fn record(&mut self, offset_ns: u64) {
        let i = ((offset_ns / 1_000_000_000) as usize).min(MAX_BINS - 1);
        if i >= self.bins.len() {
            self.bins.resize(i + 1, 0);
        }
        self.bins[i] += 1;
    }

    /// Adds the counts of `other`, second by second.
    pub fn merge(&mut self, other: &PerSecond) {
        if other.bins.len() > self.bins.len() {
            self.bins.resize(other.bins.len(), 0);
        }
        for (a, b) in self.bins.iter_mut().zip(&other.bins) {
            *a += b;
        }
    }

    /// The counts, one per second from the start to the last message.
    pub fn bins(&self) -> &[u64] {
        &self.bins
    }

    /// Min, median and max of the counts of the whole seconds within the
    /// first `window_s` seconds (the publishing window: a second cut by
    /// its end is left out, as are the seconds of the drain); `None` when
    /// the window holds no whole second.
    pub fn summary(&self, window_s: f64) -> Option<RateSummary> {
        let whole = if window_s.is_finite() && window_s >= 1.0 {
            window_s.floor() as usize
        } else {
            return None;
        };
        let mut counts: Vec<u64> = (0..whole.min(MAX_BINS))
            .map(|i| self.bins.get(i).copied().unwrap_or(0))
            .collect();
        counts.sort_unstable();
        let n = counts.len();
        let median = if n % 2 == 1 {
            counts[n / 2] as f64
        } else {
            (counts[n / 2 - 1] + counts[n / 2]) as f64 / 2.0
        };
        Some(RateSummary {
            min: counts[0],
            median,
            max: counts[n - 1],
        })
    }
}

/// The spread of per-second delivered rates over the publishing window
/// (messages per second).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSummary {
    /// The slowest whole second.
    pub min: u64,
    /// The median second (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The fastest whole second.
    pub max: u64,
}

/// Seconds from the publishers' stop (`stop_ns`) to the last message
/// received (`last_ns`), both on one clock; 0 when the last message came
/// before the stop (nothing was left to drain).
pub fn drain_seconds(stop_ns: u64, last_ns: u64) -> f64 {
    last_ns.saturating_sub(stop_ns) as f64 / 1e9
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

    #[test]
    fn per_second_bins_count_by_whole_seconds_and_merge() {
        let mut a = PerSecond::default();
        for offset_ns in [0, 999_999_999, 1_000_000_000, 3_500_000_000] {
            a.record(offset_ns);
        }
        assert_eq!(a.bins(), [2, 1, 0, 1]);
        let mut b = PerSecond::default();
        b.record(5_000_000_000);
        b.record(0);
        a.merge(&b);
        assert_eq!(a.bins(), [3, 1, 0, 1, 0, 1]);
        let mut far = PerSecond::default();
        far.record(u64::MAX);
        assert_eq!(far.bins().len(), MAX_BINS, "a bad clock is bounded");
        assert_eq!(far.bins()[MAX_BINS - 1], 1);
    }

    #[test]
    fn summary_covers_the_whole_seconds_of_the_window_only() {
        let mut s = PerSecond::default();
        // 3 s window: 10, 40, 20 messages; then 1,000 during the drain.
        for (second, n) in [(0u64, 10), (1, 40), (2, 20), (3, 1000)] {
            for _ in 0..n {
                s.record(second * 1_000_000_000 + 5);
            }
        }
        let r = s.summary(3.0).unwrap();
        assert_eq!((r.min, r.median, r.max), (10, 20.0, 40));
        // A window cut mid-second leaves the cut second out.
        let r = s.summary(2.7).unwrap();
        assert_eq!((r.min, r.median, r.max), (10, 25.0, 40));
        // A second with nothing received counts as 0.
        let r = s.summary(6.0).unwrap();
        assert_eq!((r.min, r.median, r.max), (0, 15.0, 1000));
        assert_eq!(s.summary(0.5), None);
        assert_eq!(s.summary(f64::NAN), None);
        assert_eq!(PerSecond::default().summary(2.0).map(|r| r.max), Some(0));
    }

    #[test]
    fn drain_is_from_the_stop_to_the_last_message() {
        assert_eq!(drain_seconds(10_000_000_000, 12_500_000_000), 2.5);
        assert_eq!(drain_seconds(10_000_000_000, 9_000_000_000), 0.0);
    }
}
