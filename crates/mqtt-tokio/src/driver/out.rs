//! [`Out`]: what the driver has encoded and not yet written. Packets are
//! encoded into one buffer; the payload of a PUBLISH of at least
//! [`VECTORED_MIN`] bytes is not copied into it but kept as a chunk of its
//! own (a reference to the message's buffer) and written with its head in
//! one vectored write.

use std::collections::VecDeque;
use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use mqtt_codec::{v3_1_1, v5_0, Encode, EncodeError, GenericPacket, PacketId};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// The smallest payload written uncopied: below it, a copy costs less than
/// the reference count and the extra slice of a vectored write.
pub(crate) const VECTORED_MIN: usize = 256;

/// Slices given to one vectored write at most.
const MAX_SLICES: usize = 32;

/// Encoded bytes waiting for the transport, in order: `chunks`, then
/// `tail`.
#[derive(Default)]
pub(crate) struct Out {
    /// Frozen segments before `tail`: the bytes encoded before a large
    /// payload, and the payload itself.
    chunks: VecDeque<Bytes>,
    /// Bytes in `chunks`.
    chunked: usize,
    /// Encoded after the last chunk.
    tail: BytesMut,
}

impl Out {
    /// Bytes waiting.
    pub(crate) fn len(&self) -> usize {
        self.chunked + self.tail.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops what waits (the transport is gone).
    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.chunked = 0;
        self.tail.clear();
    }

    /// Frees the encoding buffer when nothing waits and it grew past
    /// `keep` bytes (after a burst).
    pub(crate) fn shrink(&mut self, keep: usize) {
        if self.is_empty() && self.tail.capacity() > keep {
            self.tail = BytesMut::new();
        }
    }

    /// Encodes `packet` after what waits; returns its length. Errs (nothing
    /// added) when it cannot be encoded.
    pub(crate) fn encode<P: PacketId>(
        &mut self,
        packet: &GenericPacket<P>,
    ) -> Result<usize, EncodeError> {
        let Some(payload) = large_payload(packet) else {
            return packet.encode(&mut self.tail);
        };
        let before = self.tail.len();
        packet.encode_vectored(&mut self.tail)?;
        let head = self.tail.len() - before;
        let encoded = self.tail.split().freeze();
        self.push_chunk(encoded);
        let n = head + payload.len();
        self.push_chunk(payload);
        Ok(n)
    }

    fn push_chunk(&mut self, chunk: Bytes) {
        if !chunk.is_empty() {
            self.chunked += chunk.len();
            self.chunks.push_back(chunk);
        }
    }

    /// Writes some of what waits to `w` (one write, vectored when there
    /// are chunks); returns how many bytes went out. A poll: the driver's
    /// `select!` holds no future of it (the slices live on the stack of
    /// each poll).
    pub(crate) fn poll_write_to<W: AsyncWrite + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        w: &mut W,
    ) -> Poll<std::io::Result<usize>> {
        if self.chunks.is_empty() {
            return std::pin::pin!(w.write_buf(&mut self.tail)).poll(cx);
        }
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let chunks = self.chunks.iter().map(|c| &c[..]);
        let parts = chunks.chain(std::iter::once(&self.tail[..]));
        let mut count = 0;
        for (slot, part) in slices.iter_mut().zip(parts) {
            *slot = IoSlice::new(part);
            count += 1;
        }
        let n = std::task::ready!(Pin::new(&mut *w).poll_write_vectored(cx, &slices[..count]))?;
        self.advance(n);
        Poll::Ready(Ok(n))
    }

    /// Drops the first `n` bytes, written.
    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.chunks.front_mut() else {
                self.tail.advance(n);
                return;
            };
            let take = n.min(front.len());
            front.advance(take);
            self.chunked -= take;
            n -= take;
            if front.is_empty() {
                self.chunks.pop_front();
            }
        }
    }
}

/// The payload of a PUBLISH worth writing uncopied.
fn large_payload<P: PacketId>(packet: &GenericPacket<P>) -> Option<Bytes> {
    let payload = match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => p.payload_bytes(),
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => p.payload_bytes(),
        _ => return None,
    };
    (payload.len() >= VECTORED_MIN).then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_codec::v3_1_1;
    use mqtt_codec::{Message, QoS, TopicName};

    fn message(payload: &'static [u8]) -> Message {
        let topic = TopicName::from_static("t/1").unwrap();
        Message::from_parts(topic, QoS::AtMostOnce, false, Bytes::from_static(payload)).unwrap()
    }

    fn publish(payload: &'static [u8]) -> GenericPacket {
        v5_0::Packet::Publish(v5_0::Publish::from_message(message(payload), 0)).into()
    }

    fn publish_v3(payload: &'static [u8]) -> GenericPacket {
        v3_1_1::Packet::Publish(v3_1_1::Publish::from_message(message(payload), 0)).into()
    }

    /// A large payload is a chunk of its own (the message's bytes, not a
    /// copy); everything reaches the writer in order, whatever the writes'
    /// sizes.
    #[tokio::test]
    async fn large_payloads_go_uncopied_and_in_order() {
        static BIG: [u8; 1000] = [7; 1000];
        let (small, big, big_v3) = (publish(b"small"), publish(&BIG), publish_v3(&BIG));
        let mut out = Out::default();
        let mut expected = Vec::new();
        for packet in [&small, &big, &small, &big_v3, &small] {
            let n = out.encode(packet).unwrap();
            let before = expected.len();
            packet.encode(&mut expected).unwrap();
            assert_eq!(n, expected.len() - before);
        }
        assert_eq!(out.len(), expected.len());
        let payload_chunks = out.chunks.iter().filter(|c| c.as_ptr() == BIG.as_ptr());
        assert_eq!(
            payload_chunks.count(),
            2,
            "the payload is referenced, not copied"
        );

        // A writer that takes 7 bytes per write.
        let (mut writer, mut reader) = tokio::io::duplex(7);
        let reading = tokio::spawn(async move {
            let mut all = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut all)
                .await
                .unwrap();
            all
        });
        while !out.is_empty() {
            let before = out.len();
            let n = std::future::poll_fn(|cx| out.poll_write_to(cx, &mut writer))
                .await
                .unwrap();
            assert_eq!(out.len(), before - n);
        }
        drop(writer);
        assert_eq!(reading.await.unwrap(), expected);
    }

    #[test]
    fn shrink_frees_only_a_large_empty_buffer() {
        let mut out = Out::default();
        out.tail.reserve(10_000);
        out.encode(&publish(b"x")).unwrap();
        out.shrink(1024);
        assert!(out.tail.capacity() >= 10_000, "bytes wait: kept");
        out.clear();
        out.shrink(100_000);
        assert!(out.tail.capacity() >= 10_000, "within the bound: kept");
        out.shrink(1024);
        assert_eq!(out.tail.capacity(), 0, "empty and past the bound: freed");
    }

    #[test]
    fn small_payloads_are_copied() {
        let mut out = Out::default();
        out.encode(&publish(b"x")).unwrap();
        assert!(out.chunks.is_empty());
        out.clear();
        assert!(out.is_empty());
    }
}
