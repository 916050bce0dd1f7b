//! The driver's reads: a connection between packets holds no read buffer,
//! and a large packet is read into one allocation of its size.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

/// The most bytes read at once on the stack while nothing is buffered.
const STACK_READ: usize = 8 * 1024;

/// Reads what the transport has into `buf`; `Ok(0)` at the end of the
/// stream. With part of a packet in `buf`, more is on its way: reads into
/// the spare capacity of `buf`, made room for the rest of the packet when
/// its fixed header is in (within bounds: one allocation of a 64 KiB
/// PUBLISH, rather than copies at each doubling and an allocation its
/// payload would share with the next packet), else for at least half of
/// `chunk`. With `buf`
/// empty, reads up to `chunk` bytes (at most [`STACK_READ`]) into a stack
/// buffer and copies them into `buf`, so that a connection waiting for its
/// next packet holds no read buffer. Cancel-safe: what was read is in `buf`.
pub(super) fn read_some<'a, T: AsyncRead + Unpin>(
    read: &'a mut T,
    buf: &'a mut BytesMut,
    chunk: usize,
) -> impl Future<Output = std::io::Result<usize>> + 'a {
    std::future::poll_fn(move |cx| {
        if !buf.is_empty() {
            let room = buf.capacity() - buf.len();
            // Room for the rest of the packet, but never more than
            // [`PACKET_RESERVE`] or twice what the peer sent: its header
            // alone does not make us allocate its Remaining Length.
            let missing = packet_missing(buf).min(PACKET_RESERVE.max(2 * buf.len()));
            if missing > room {
                buf.reserve(missing);
            } else if room < chunk / 2 {
                buf.reserve(chunk);
            }
            return std::pin::pin!(read.read_buf(&mut *buf)).poll(cx);
        }
        let mut space = [std::mem::MaybeUninit::<u8>::uninit(); STACK_READ];
        let mut space = ReadBuf::uninit(&mut space[..chunk.clamp(1, STACK_READ)]);
        match Pin::new(&mut *read).poll_read(cx, &mut space) {
            Poll::Ready(Ok(())) => {
                buf.extend_from_slice(space.filled());
                Poll::Ready(Ok(space.filled().len()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    })
}

/// The most [`read_some`] reserves for the rest of a packet beyond twice
/// what is in the buffer: a 64 KiB PUBLISH is read into one allocation.
const PACKET_RESERVE: usize = 64 * 1024;

/// The bytes of the packet at the front of `buf` that are not in it yet;
/// 0 while its fixed header is incomplete or invalid (the connection
/// reports the latter).
fn packet_missing(buf: &[u8]) -> usize {
    match mqtt_codec::wire::FixedHeader::parse(buf) {
        Ok(Some(header)) => header.packet_len().saturating_sub(buf.len()),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PUBLISH (v3.1.1, QoS 0) with a payload of `len` bytes.
    fn publish(len: usize) -> Vec<u8> {
        let remaining = 2 + 1 + len;
        let mut packet = vec![0x30];
        let mut n = remaining;
        loop {
            let byte = (n % 128) as u8;
            n /= 128;
            packet.push(if n > 0 { byte | 0x80 } else { byte });
            if n == 0 {
                break;
            }
        }
        packet.extend_from_slice(&[0, 1, b't']);
        packet.resize(packet.len() + len, 0xAB);
        packet
    }

    #[test]
    fn what_is_missing_of_the_packet_at_the_front() {
        let packet = publish(65536);
        assert_eq!(packet_missing(&packet[..1]), 0, "header incomplete");
        assert_eq!(packet_missing(&packet[..4]), packet.len() - 4);
        assert_eq!(packet_missing(&packet), 0);
        assert_eq!(packet_missing(&[0x00, 0x00]), 0, "invalid type: none");
    }

    #[tokio::test]
    async fn a_large_packet_is_read_into_one_allocation_of_its_size() {
        let packet = publish(65536);
        let (mut tx, mut rx) = tokio::io::duplex(1 << 20);
        tokio::io::AsyncWriteExt::write_all(&mut tx, &packet)
            .await
            .unwrap();
        let mut buf = BytesMut::new();
        let first = read_some(&mut rx, &mut buf, 4096).await.unwrap();
        assert_eq!(first, 4096, "the first read: one chunk, on the stack");
        let second = read_some(&mut rx, &mut buf, 4096).await.unwrap();
        assert_eq!(second, packet.len() - 4096, "the rest at once");
        assert_eq!(buf.capacity(), packet.len(), "no room past the packet");
        assert_eq!(&buf[..], &packet[..]);
    }

    #[tokio::test]
    async fn a_partial_header_reads_at_least_half_a_chunk() {
        let packet = publish(65536);
        let (mut tx, mut rx) = tokio::io::duplex(1 << 20);
        tokio::io::AsyncWriteExt::write_all(&mut tx, &packet)
            .await
            .unwrap();
        let mut buf = BytesMut::from(&packet[..1]);
        let n = read_some(&mut rx, &mut buf, 4096).await.unwrap();
        assert!(n >= 2048, "read {n} after one byte of header");
    }

    #[tokio::test]
    async fn half_a_chunk_of_room_is_read_into_without_growing() {
        let (mut tx, mut rx) = tokio::io::duplex(1 << 16);
        tokio::io::AsyncWriteExt::write_all(&mut tx, &[0u8; 8192])
            .await
            .unwrap();
        // A Remaining Length still incomplete, and room for 2,100 bytes.
        let mut buf = BytesMut::with_capacity(3 + 2100);
        buf.extend_from_slice(&[0x30, 0x80, 0x80]);
        let capacity = buf.capacity();
        let n = read_some(&mut rx, &mut buf, 4096).await.unwrap();
        assert_eq!((n, buf.capacity()), (capacity - 3, capacity));
    }

    #[tokio::test]
    async fn a_large_packet_grows_by_twice_what_arrived() {
        let packet = publish(8 << 20);
        let (mut tx, mut rx) = tokio::io::duplex(1 << 16);
        let have = 300 * 1024;
        let mut buf = BytesMut::from(&packet[..have]);
        tokio::io::AsyncWriteExt::write_all(&mut tx, &packet[have..have + 10])
            .await
            .unwrap();
        read_some(&mut rx, &mut buf, 4096).await.unwrap();
        assert!(buf.capacity() >= 3 * have, "{}", buf.capacity());
        assert!(buf.capacity() <= 4 * have, "{}", buf.capacity());
    }

    #[tokio::test]
    async fn a_header_alone_does_not_reserve_its_remaining_length() {
        let packet = publish(8 << 20);
        let (mut tx, mut rx) = tokio::io::duplex(1 << 16);
        tokio::io::AsyncWriteExt::write_all(&mut tx, &packet[..100])
            .await
            .unwrap();
        let mut buf = BytesMut::new();
        read_some(&mut rx, &mut buf, 4096).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut tx, &packet[100..200])
            .await
            .unwrap();
        read_some(&mut rx, &mut buf, 4096).await.unwrap();
        assert_eq!(buf.len(), 200);
        assert!(
            buf.capacity() <= 200 + PACKET_RESERVE,
            "{} for 200 bytes received",
            buf.capacity()
        );
        assert!(buf.capacity() >= 200 + PACKET_RESERVE / 2);
    }
}
