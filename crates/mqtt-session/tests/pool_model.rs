//! Property test: any sequence of acquire, register and release keeps a
//! [`PacketIdPool`] consistent with a `BTreeSet` model, including where
//! next-fit puts each acquired identifier [MQTT-2.2.1-3].

use std::collections::BTreeSet;

use mqtt_codec::PacketId;
use mqtt_session::{PacketIdPool, SessionError};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Acquire,
    Register(u32),
    Release(u32),
}

/// Identifiers near both ends of the range and a few in the middle, so that
/// operations collide and wrap around.
fn id(max: u32) -> impl Strategy<Value = u32> {
    prop_oneof![1..=64u32, (max - 64)..=max, 0..=2u32, Just(max / 2)]
}

fn ops(max: u32) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => Just(Op::Acquire),
        2 => id(max).prop_map(Op::Register),
        3 => id(max).prop_map(Op::Release),
    ];
    proptest::collection::vec(op, 0..400)
}

/// The smallest free identifier at or after `cursor`, else from 1.
fn next_fit(used: &BTreeSet<u32>, cursor: u32, max: u32) -> Option<u32> {
    let free_from = |from: u32| (from..=max).find(|id| !used.contains(id));
    free_from(cursor).or_else(|| free_from(1))
}

fn check<P: PacketId>(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let max = P::MAX.to_u32();
    let mut pool = PacketIdPool::<P>::new();
    let mut model = BTreeSet::new();
    let mut cursor = 1u32;
    for op in ops {
        match op {
            Op::Acquire => {
                let expected = next_fit(&model, cursor, max).expect("never full here");
                let got = pool.acquire().map(PacketId::to_u32);
                prop_assert_eq!(got, Ok(expected));
                prop_assert!(model.insert(expected));
                cursor = if expected == max { 1 } else { expected + 1 };
            }
            Op::Register(raw) => {
                let Some(id) = P::from_u32(raw) else {
                    continue;
                };
                let expected = if model.insert(raw) {
                    Ok(())
                } else {
                    Err(SessionError::PacketIdInUse(raw))
                };
                prop_assert_eq!(pool.register(id), expected);
            }
            Op::Release(raw) => {
                let Some(id) = P::from_u32(raw) else {
                    continue;
                };
                prop_assert_eq!(pool.release(id), model.remove(&raw));
            }
        }
        prop_assert_eq!(pool.len(), model.len());
    }
    let ids: Vec<u32> = pool.iter().map(PacketId::to_u32).collect();
    prop_assert_eq!(ids, model.iter().copied().collect::<Vec<_>>());
    for raw in [1, 2, max / 2, max - 1, max] {
        let id = P::from_u32(raw).expect("non-zero");
        prop_assert_eq!(pool.is_in_use(id), model.contains(&raw));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn u16_pool_matches_the_model(ops in ops(u32::from(u16::MAX))) {
        check::<u16>(ops)?;
    }

    #[test]
    fn u32_pool_matches_the_model(ops in ops(u32::MAX)) {
        check::<u32>(ops)?;
    }
}

/// Exhaustion and recovery at the top of the u16 range.
#[test]
fn u16_exhaustion() {
    let mut pool = PacketIdPool::<u16>::new();
    for _ in 0..u16::MAX {
        pool.acquire().unwrap();
    }
    assert_eq!(pool.acquire(), Err(SessionError::PacketIdsExhausted));
    assert!(pool.release(7));
    assert!(pool.release(3));
    // Next-fit from the top wraps to the lowest free identifier.
    assert_eq!(pool.acquire(), Ok(3));
    assert_eq!(pool.acquire(), Ok(7));
    assert_eq!(pool.acquire(), Err(SessionError::PacketIdsExhausted));
}
