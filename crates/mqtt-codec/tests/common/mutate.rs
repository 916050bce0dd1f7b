//! Inputs for the decoders beyond valid packets: random bytes, and valid
//! packet streams with a few random mutations (a flipped byte, an inserted
//! or removed byte, a cut), which reach far deeper into the packet decoders
//! than random bytes do.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use super::{concat, v3, v5};

/// One edit of a byte string.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// XOR the byte at the index with a non-zero value.
    Flip(Index, u8),
    /// Insert a byte at the index.
    Insert(Index, u8),
    /// Remove the byte at the index.
    Remove(Index),
    /// Cut the string at the index.
    Truncate(Index),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 1..=u8::MAX).prop_map(|(i, v)| Mutation::Flip(i, v)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Mutation::Insert(i, v)),
        1 => any::<Index>().prop_map(Mutation::Remove),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

pub fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match *m {
            Mutation::Flip(i, v) if len > 0 => bytes[i.index(len)] ^= v,
            Mutation::Insert(i, v) => bytes.insert(i.index(len + 1), v),
            Mutation::Remove(i) if len > 0 => {
                bytes.remove(i.index(len));
            }
            Mutation::Truncate(i) => bytes.truncate(i.index(len + 1)),
            _ => {}
        }
    }
    bytes
}

/// A stream of one to three valid packets of either version and width.
pub fn valid_stream() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        vec(v3::packet::<u16>(), 1..4).prop_map(|p| concat(&p)),
        vec(v3::packet::<u32>(), 1..4).prop_map(|p| concat(&p)),
        vec(v5::packet::<u16>(), 1..4).prop_map(|p| concat(&p)),
        vec(v5::packet::<u32>(), 1..4).prop_map(|p| concat(&p)),
    ]
    .boxed()
}

/// Random bytes, or a valid stream with one to four mutations.
pub fn input() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        1 => vec(any::<u8>(), 0..64),
        // A plausible first byte makes the body decoders run more often.
        1 => (0x10..=0xF0u8, vec(any::<u8>(), 0..64)).prop_map(|(first, mut rest)| {
            rest.insert(0, first & 0xF0);
            rest
        }),
        4 => (valid_stream(), vec(mutation(), 1..5)).prop_map(|(b, m)| mutate(b, &m)),
    ]
    .boxed()
}
