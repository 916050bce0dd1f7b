//! A seeded, deterministic choice of where the link cuts the byte stream.

/// Decides how many of the bytes waiting on a link are delivered in one step.
///
/// `Splitter::whole()` delivers everything at once; a seeded splitter cuts at
/// points drawn from a xorshift64* generator: sometimes a single byte,
/// sometimes all that waits (which merges packets), otherwise a random length.
#[derive(Clone, Debug)]
pub struct Splitter {
    state: u64,
    whole: bool,
}

impl Splitter {
    /// Delivers every waiting byte in one step.
    pub fn whole() -> Self {
        Splitter {
            state: 1,
            whole: true,
        }
    }

    /// Cuts at points drawn from `seed` (any value; 0 is mapped to 1).
    pub fn seeded(seed: u64) -> Self {
        Splitter {
            state: seed.max(1),
            whole: false,
        }
    }

    fn next_u64(&mut self) -> u64 {
        // xorshift64* (Vigna 2016).
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// How many of `available` (> 0) bytes to deliver now: 1 ..= available.
    pub fn chunk(&mut self, available: usize) -> usize {
        if self.whole || available <= 1 {
            return available;
        }
        match self.next_u64() % 4 {
            0 => available,
            1 => 1,
            _ => 1 + (self.next_u64() % available as u64) as usize,
        }
    }
}
