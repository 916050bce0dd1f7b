//! Numbered messages: the restart tests publish message `i` with the
//! payload `i` (in decimal) to a topic of its own, `{topic}/{i}`, so that
//! a broker's log (which shows topics, not payloads) tells each message's
//! flows apart ([`mosquitto_log`](crate::mosquitto_log)). [`Seen`] counts
//! what arrived of them. The odd ones go at QoS 2, the even ones at QoS 1
//! ([`is_qos2`]).

use std::collections::HashMap;

/// Whether message `i` is published at QoS 2 (the odd ones; the even ones
/// at QoS 1).
pub fn is_qos2(i: usize) -> bool {
    i % 2 == 1
}

/// What arrived of the numbered messages.
#[derive(Debug, Default)]
pub struct Seen {
    /// Each number's arrivals.
    pub counts: HashMap<usize, usize>,
    /// The numbers in the order they arrived.
    pub order: Vec<usize>,
}

impl Seen {
    /// Counts a message whose payload is a number (any other, such as a
    /// kick, is not counted); returns how many times that number arrived
    /// now.
    pub fn tally(&mut self, payload: &[u8]) -> Option<usize> {
        let i = std::str::from_utf8(payload).ok()?.parse::<usize>().ok()?;
        let count = self.counts.entry(i).or_default();
        *count += 1;
        self.order.push(i);
        Some(*count)
    }

    /// The numbers of `0..n` that have not arrived.
    pub fn missing(&self, n: usize) -> Vec<usize> {
        (0..n).filter(|i| !self.counts.contains_key(i)).collect()
    }

    /// Those of `numbers` that did not arrive exactly once, with how many
    /// times they arrived.
    pub fn not_once(&self, numbers: impl IntoIterator<Item = usize>) -> Vec<(usize, usize)> {
        numbers
            .into_iter()
            .map(|i| (i, self.counts.get(&i).copied().unwrap_or(0)))
            .filter(|&(_, count)| count != 1)
            .collect()
    }

    /// The QoS 2 messages of `0..n` ([`is_qos2`]) that did not arrive
    /// exactly once, with how many times they arrived.
    pub fn qos2_not_once(&self, n: usize) -> Vec<(usize, usize)> {
        self.not_once((0..n).filter(|&i| is_qos2(i)))
    }

    /// Where message `i` came in the order of arrivals (0-based), each
    /// time it came.
    pub fn positions(&self, i: usize) -> Vec<usize> {
        let at = self.order.iter().enumerate();
        at.filter(|&(_, &m)| m == i).map(|(k, _)| k).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_numbers_in_their_order_and_nothing_else() {
        let mut seen = Seen::default();
        for payload in ["1", "kick", "3", "1"] {
            seen.tally(payload.as_bytes());
        }
        assert_eq!(seen.order, [1, 3, 1]);
        assert_eq!(seen.positions(1), [0, 2]);
        assert_eq!(seen.missing(4), [0, 2]);
        assert_eq!(seen.not_once([0, 1, 3]), [(0, 0), (1, 2)]);
    }

    /// The odd messages are the QoS 2 ones: those of them not arrived once.
    #[test]
    fn qos2_not_once_looks_at_the_odd_numbers() {
        let mut seen = Seen::default();
        for payload in ["1", "1", "2", "5", "0"] {
            seen.tally(payload.as_bytes());
        }
        assert!(is_qos2(1) && !is_qos2(2));
        assert_eq!(seen.qos2_not_once(6), [(1, 2), (3, 0)]);
    }
}
