//! What a subscriber counts: the sequence numbers seen per publisher
//! ([`Seen`]) and a latency histogram ([`Histogram`]).

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

/// Mantissa bits of the histogram: values are kept to within 1/64 (1.6 %).
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;

/// A log-linear histogram of microsecond values: exact below 64, then
/// within 1.6 %; constant memory whatever the count.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; (65 * SUB) as usize],
            total: 0,
            max: 0,
        }
    }
}

impl Histogram {
    fn bucket(v: u64) -> usize {
        if v < SUB {
            return v as usize;
        }
        let exp = 63 - v.leading_zeros() - SUB_BITS; // >= 0
        let mantissa = (v >> exp) - SUB; // 0..SUB
        ((exp as u64 + 1) * SUB + mantissa) as usize
    }

    fn lower_bound(b: usize) -> u64 {
        let b = b as u64;
        if b < SUB {
            return b;
        }
        let exp = b / SUB - 1;
        (SUB + b % SUB) << exp
    }

    /// Adds one value.
    pub fn record(&mut self, v: u64) {
        self.counts[Self::bucket(v)] += 1;
        self.total += 1;
        self.max = self.max.max(v);
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// The number of values.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// The largest value (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value below which a fraction `q` (0..=1) of the values lie, to
    /// within the bucket width; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (b, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::lower_bound(b).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in [0u64, 1, 63, 64, 65, 127, 128, 1000, 123_456, u64::MAX / 2] {
            let b = Histogram::bucket(v);
            assert!(b >= last);
            last = b;
            let lo = Histogram::lower_bound(b);
            assert!(lo <= v && v - lo <= v / 64, "{v} -> {lo}");
        }
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
