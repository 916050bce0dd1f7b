//! Variable Byte Integers (MQTT v5.0 §1.5.5, v3.1.1 §2.2.3 for the Remaining Length).

use crate::DecodeError;
use bytes::BufMut;

/// The largest value a Variable Byte Integer can hold: 268,435,455.
pub const VARINT_MAX: u32 = 268_435_455;

/// The number of bytes `value` takes as a Variable Byte Integer (1 to 4).
///
/// Values above [`VARINT_MAX`] cannot be encoded; for them this returns 5
/// so that a size check built on it fails.
#[inline]
pub const fn varint_len(value: u32) -> usize {
    if value < 0x80 {
        1
    } else if value < 0x4000 {
        2
    } else if value < 0x20_0000 {
        3
    } else if value <= VARINT_MAX {
        4
    } else {
        5
    }
}

/// Reads a Variable Byte Integer from the start of `buf`.
///
/// Returns `Ok(None)` when `buf` ends before the integer does, and the value
/// with the number of bytes it took otherwise. Errs on a fifth byte or on a
/// non-minimal encoding [MQTT-1.5.5-1].
#[inline(always)]
pub(crate) fn read_varint(buf: &[u8]) -> Result<Option<(u32, usize)>, DecodeError> {
    // One byte, the common case (values below 128), without the loop.
    if let Some(&byte) = buf.first() {
        if byte & 0x80 == 0 {
            return Ok(Some((u32::from(byte), 1)));
        }
    }
    let mut value: u32 = 0;
    for i in 0..4 {
        let Some(&byte) = buf.get(i) else {
            return Ok(None);
        };
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            // A final byte of 0 after a continuation means a longer form than needed.
            if byte == 0 && i > 0 {
                return Err(super::cold(DecodeError::MalformedVariableByteInteger));
            }
            return Ok(Some((value, i + 1)));
        }
    }
    Err(super::cold(DecodeError::MalformedVariableByteInteger))
}

/// Writes `value` as a Variable Byte Integer. The caller ensures
/// `value <= VARINT_MAX`; higher bits are dropped.
#[inline]
pub(crate) fn put_varint<B: BufMut>(buf: &mut B, mut value: u32) {
    loop {
        let mut byte = (value & 0x7F) as u8;
        value >>= 7;
        if value > 0 {
            byte |= 0x80;
        }
        buf.put_u8(byte);
        if value == 0 {
            break;
        }
    }
}

/// How many complete packets start `buf`, counted from their Remaining
/// Lengths alone (nothing else is checked; a malformed length ends the
/// count): for a caller that sizes what it will make of them, once, before
/// decoding.
///
/// ```
/// use mqtt_codec::wire::complete_packets;
/// // PINGREQ, PUBACK 7, then half a PINGRESP.
/// assert_eq!(complete_packets(&[0xC0, 0, 0x40, 2, 0, 7, 0xD0]), 2);
/// ```
pub fn complete_packets(buf: &[u8]) -> usize {
    let (mut at, mut count) = (0, 0);
    while let Some(rest) = buf.get(at + 1..) {
        let Ok(Some((remaining, n))) = read_varint(rest) else {
            break;
        };
        at += 1 + n + remaining as usize;
        if at > buf.len() {
            break;
        }
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn table_1_1_boundaries_round_trip() {
        // Table 1-1 of MQTT v5.0 §1.5.5 (and Table 2.4 of v3.1.1).
        let cases: [(u32, &[u8]); 8] = [
            (0, &[0x00]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (16_383, &[0xFF, 0x7F]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xFF, 0xFF, 0x7F]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ];
        for (value, bytes) in cases {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(out, bytes, "encoding {value}");
            assert_eq!(varint_len(value), bytes.len());
            assert_eq!(read_varint(bytes), Ok(Some((value, bytes.len()))));
        }
        assert_eq!(varint_len(VARINT_MAX + 1), 5);
    }

    #[test]
    fn incomplete_is_not_an_error() {
        assert_eq!(read_varint(&[]), Ok(None));
        assert_eq!(read_varint(&[0x80]), Ok(None));
        assert_eq!(read_varint(&[0xFF, 0xFF, 0xFF]), Ok(None));
    }

    /// [MQTT-1.5.5-1] The encoded value MUST use the minimum number of bytes.
    #[test]
    fn non_minimal_and_five_byte_forms_are_malformed() {
        for bad in [
            &[0x80, 0x00][..],
            &[0xFF, 0x80, 0x00],
            &[0x80, 0x80, 0x80, 0x00],
            &[0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            &[0x80, 0x80, 0x80, 0x80],
        ] {
            assert_eq!(
                read_varint(bad),
                Err(DecodeError::MalformedVariableByteInteger),
                "{bad:02x?}"
            );
        }
    }

    #[test]
    fn complete_packets_counts_whole_frames() {
        assert_eq!(super::complete_packets(&[]), 0);
        assert_eq!(super::complete_packets(&[0xC0]), 0);
        assert_eq!(super::complete_packets(&[0xC0, 0]), 1);
        // A two-byte Remaining Length (128), all there, then a partial one.
        let mut buf = [0u8; 3 + 128 + 3];
        buf[..3].copy_from_slice(&[0x30, 0x80, 0x01]);
        buf[131..].copy_from_slice(&[0x40, 2, 0]);
        assert_eq!(super::complete_packets(&buf), 1);
        // A malformed Remaining Length ends the count.
        assert_eq!(
            super::complete_packets(&[0xC0, 0, 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 1]),
            1
        );
    }
}
