//! Fields located in a body before it is taken off the receive buffer.
//!
//! A PUBLISH reads where its Topic Name and packet identifier lie first,
//! then takes its whole body off the buffer at once (one `split_to`, one
//! reference count) and keeps it whole: its Topic Name and payload are
//! ranges of it (see `Content`).

use core::ops::Range;

use super::cold;
use crate::{DecodeError, PacketId, QoS};

/// Where the field with a Two Byte Integer length at `input[at..]` lies,
/// length excluded.
#[inline(always)]
pub(crate) fn length_prefixed_at(input: &[u8], at: usize) -> Result<Range<usize>, DecodeError> {
    let Some(&len) = input.get(at..).and_then(<[u8]>::first_chunk::<2>) else {
        return Err(cold(DecodeError::UnexpectedEnd));
    };
    let range = at + 2..at + 2 + usize::from(u16::from_be_bytes(len));
    if input.len() < range.end {
        return Err(cold(DecodeError::UnexpectedEnd));
    }
    Ok(range)
}

/// The packet identifier of width `P` at `input[at..]`; 0 is refused
/// [MQTT-2.2.1-3].
#[inline(always)]
pub(crate) fn packet_id_at<P: PacketId>(input: &[u8], at: usize) -> Result<P, DecodeError> {
    let rest = input.get(at..).unwrap_or_default();
    let raw = if P::WIRE_LEN == 2 {
        rest.first_chunk::<2>()
            .map(|&b| u32::from(u16::from_be_bytes(b)))
    } else {
        rest.first_chunk::<4>().map(|&b| u32::from_be_bytes(b))
    };
    let Some(raw) = raw else {
        return Err(cold(DecodeError::UnexpectedEnd));
    };
    match P::from_u32(raw) {
        Some(id) => Ok(id),
        None => Err(cold(DecodeError::ZeroPacketId)),
    }
}

/// The packet identifier a PUBLISH of `qos` carries at `body[at..]`
/// (present exactly when QoS > 0), and where what follows it starts.
#[inline(always)]
pub(crate) fn publish_packet_id_at<P: PacketId>(
    body: &[u8],
    qos: QoS,
    at: usize,
) -> Result<(Option<P>, usize), DecodeError> {
    Ok(match qos {
        QoS::AtMostOnce => (None, at),
        _ => (Some(packet_id_at(body, at)?), at + P::WIRE_LEN),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_located() {
        let body = [0, 2, b'a', b'b', 0, 7, b'p'];
        assert_eq!(length_prefixed_at(&body, 0), Ok(2..4));
        assert_eq!(packet_id_at::<u16>(&body, 4), Ok(7));
    }

    #[test]
    fn short_bodies_and_zero_ids_are_refused() {
        let end = Err(DecodeError::UnexpectedEnd);
        assert_eq!(length_prefixed_at(&[0], 0), end);
        assert_eq!(length_prefixed_at(&[0, 3, b'a', b'b'], 0), end);
        assert_eq!(length_prefixed_at(&[0, 0], 3), end);
        assert_eq!(
            packet_id_at::<u32>(&[0, 0, 1], 0),
            Err(DecodeError::UnexpectedEnd)
        );
        assert_eq!(packet_id_at::<u16>(&[9, 0, 1], 1), Ok(1));
        // [MQTT-2.2.1-3]
        assert_eq!(
            packet_id_at::<u16>(&[0, 0], 0),
            Err(DecodeError::ZeroPacketId)
        );
    }
}
