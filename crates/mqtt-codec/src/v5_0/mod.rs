//! The control packets of MQTT v5.0.
//!
//! One type per packet, each with a builder that refuses what the spec
//! forbids a sender to send; [`Packet`] holds any of them. Properties are
//! typed per packet ([`crate::properties`], re-exported here) and reason
//! codes are an enum per packet.
//!
//! ```
//! use bytes::BytesMut;
//! use mqtt_codec::{Decoder, Encode, GenericPacket, ProtocolVersion, QoS};
//! use mqtt_codec::v5_0::{Packet, Publish, PublishProperties};
//!
//! let publish = Publish::<u16>::builder()
//!     .try_topic_name("sensors/abc/temp")?
//!     .qos(QoS::AtLeastOnce)
//!     .packet_id(7)
//!     .properties(PublishProperties {
//!         message_expiry_interval: Some(60),
//!         ..Default::default()
//!     })
//!     .payload(&b"21.5"[..])
//!     .build()?;
//! let mut buf = BytesMut::new();
//! publish.encode(&mut buf)?;
//!
//! let mut decoder = Decoder::<u16>::new(ProtocolVersion::V5_0);
//! let Some(GenericPacket::V5_0(Packet::Publish(received))) = decoder.decode(&mut buf)? else {
//!     panic!("expected a PUBLISH");
//! };
//! assert_eq!(received, publish);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ack;
mod auth;
mod connack;
mod connect;
mod disconnect;
mod pingreq;
mod pingresp;
mod puback;
mod pubcomp;
mod publish;
mod pubrec;
mod pubrel;
mod reason_code;
mod reason_list;
mod suback;
mod subscribe;
mod unsuback;
mod unsubscribe;

pub use auth::{Auth, AuthBuilder};
pub use connack::{Connack, ConnackBuilder};
pub use connect::{Connect, ConnectBuilder, Will, WillBuilder};
pub use disconnect::{Disconnect, DisconnectBuilder};
pub use pingreq::Pingreq;
pub use pingresp::Pingresp;
pub use puback::{Puback, PubackBuilder};
pub use pubcomp::{Pubcomp, PubcompBuilder};
pub use publish::{Publish, PublishBuilder};
pub use pubrec::{Pubrec, PubrecBuilder};
pub use pubrel::{Pubrel, PubrelBuilder};
pub use reason_code::*;
pub use suback::{Suback, SubackBuilder};
pub use subscribe::{RetainHandling, Subscribe, SubscribeBuilder, SubscriptionOptions};
pub use unsuback::{Unsuback, UnsubackBuilder};
pub use unsubscribe::{Unsubscribe, UnsubscribeBuilder};

pub use crate::properties::*;

use alloc::boxed::Box;
use bytes::BufMut;

use crate::encode::sealed::Body;
use crate::wire::{FixedHeader, PacketType, Reader};
use crate::{DecodeError, PacketId};

/// A control packet of MQTT v5.0, with packet identifiers of width `P`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<P: PacketId = u16> {
    /// CONNECT (§3.1).
    Connect(Box<Connect>),
    /// CONNACK (§3.2).
    Connack(Box<Connack>),
    /// PUBLISH (§3.3).
    Publish(Publish<P>),
    /// PUBACK (§3.4).
    Puback(Puback<P>),
    /// PUBREC (§3.5).
    Pubrec(Pubrec<P>),
    /// PUBREL (§3.6).
    Pubrel(Pubrel<P>),
    /// PUBCOMP (§3.7).
    Pubcomp(Pubcomp<P>),
    /// SUBSCRIBE (§3.8).
    Subscribe(Subscribe<P>),
    /// SUBACK (§3.9).
    Suback(Suback<P>),
    /// UNSUBSCRIBE (§3.10).
    Unsubscribe(Unsubscribe<P>),
    /// UNSUBACK (§3.11).
    Unsuback(Unsuback<P>),
    /// PINGREQ (§3.12).
    Pingreq(Pingreq),
    /// PINGRESP (§3.13).
    Pingresp(Pingresp),
    /// DISCONNECT (§3.14).
    Disconnect(Disconnect),
    /// AUTH (§3.15).
    Auth(Auth),
}

/// Runs `$body` with `$p` bound to the packet inside whichever variant.
macro_rules! each_variant {
    ($packet:expr, $p:ident => $body:expr) => {
        match $packet {
            Packet::Connect($p) => $body,
            Packet::Connack($p) => $body,
            Packet::Publish($p) => $body,
            Packet::Puback($p) => $body,
            Packet::Pubrec($p) => $body,
            Packet::Pubrel($p) => $body,
            Packet::Pubcomp($p) => $body,
            Packet::Subscribe($p) => $body,
            Packet::Suback($p) => $body,
            Packet::Unsubscribe($p) => $body,
            Packet::Unsuback($p) => $body,
            Packet::Pingreq($p) => $body,
            Packet::Pingresp($p) => $body,
            Packet::Disconnect($p) => $body,
            Packet::Auth($p) => $body,
        }
    };
}

impl<P: PacketId> Packet<P> {
    /// The control packet type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::Connack(_) => PacketType::Connack,
            Packet::Publish(_) => PacketType::Publish,
            Packet::Puback(_) => PacketType::Puback,
            Packet::Pubrec(_) => PacketType::Pubrec,
            Packet::Pubrel(_) => PacketType::Pubrel,
            Packet::Pubcomp(_) => PacketType::Pubcomp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::Suback(_) => PacketType::Suback,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::Unsuback(_) => PacketType::Unsuback,
            Packet::Pingreq(_) => PacketType::Pingreq,
            Packet::Pingresp(_) => PacketType::Pingresp,
            Packet::Disconnect(_) => PacketType::Disconnect,
            Packet::Auth(_) => PacketType::Auth,
        }
    }

    /// Decodes the body of one complete packet whose fixed header is
    /// `header` (flags already checked by [`FixedHeader::parse`]). Every
    /// byte of `body` must belong to the packet: left-over bytes are
    /// [`DecodeError::TrailingBytes`], checked here once for all types.
    #[inline(always)]
    pub(crate) fn decode(header: &FixedHeader, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        // PUBLISH, the hot path, inline and built in the caller's slot; its
        // payload is the rest of the packet, so nothing can trail it. The
        // others out of line.
        if header.packet_type == PacketType::Publish {
            return Ok(Packet::Publish(Publish::decode(header.flags, r)?));
        }
        let packet = Self::decode_other(header, r)?;
        r.finish()?;
        Ok(packet)
    }

    /// Every packet but PUBLISH, out of line; the caller checks for
    /// trailing bytes.
    #[inline(never)]
    fn decode_other(header: &FixedHeader, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match header.packet_type {
            PacketType::Connect => Packet::Connect(Box::new(Connect::decode(r)?)),
            PacketType::Connack => Packet::Connack(Box::new(Connack::decode(r)?)),
            PacketType::Puback => Packet::Puback(Puback::decode(r)?),
            PacketType::Pubrec => Packet::Pubrec(Pubrec::decode(r)?),
            PacketType::Pubrel => Packet::Pubrel(Pubrel::decode(r)?),
            PacketType::Pubcomp => Packet::Pubcomp(Pubcomp::decode(r)?),
            PacketType::Subscribe => Packet::Subscribe(Subscribe::decode(r)?),
            PacketType::Suback => Packet::Suback(Suback::decode(r)?),
            PacketType::Unsubscribe => Packet::Unsubscribe(Unsubscribe::decode(r)?),
            PacketType::Unsuback => Packet::Unsuback(Unsuback::decode(r)?),
            PacketType::Pingreq => Packet::Pingreq(Pingreq),
            PacketType::Pingresp => Packet::Pingresp(Pingresp),
            PacketType::Disconnect => Packet::Disconnect(Disconnect::decode(r)?),
            PacketType::Auth => Packet::Auth(Auth::decode(r)?),
            PacketType::Publish => Packet::Publish(Publish::decode(header.flags, r)?),
        })
    }
}

macro_rules! from_packet {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        $(
            impl<P: PacketId> From<$ty> for Packet<P> {
                fn from(p: $ty) -> Self {
                    Packet::$variant(p.into())
                }
            }
        )*
    };
}

from_packet! {
    Connect(Connect),
    Connack(Connack),
    Publish(Publish<P>),
    Puback(Puback<P>),
    Pubrec(Pubrec<P>),
    Pubrel(Pubrel<P>),
    Pubcomp(Pubcomp<P>),
    Subscribe(Subscribe<P>),
    Suback(Suback<P>),
    Unsubscribe(Unsubscribe<P>),
    Unsuback(Unsuback<P>),
    Pingreq(Pingreq),
    Pingresp(Pingresp),
    Disconnect(Disconnect),
    Auth(Auth),
}

impl<P: PacketId> Body for Packet<P> {
    #[inline]
    fn first_byte(&self) -> u8 {
        each_variant!(self, p => Body::first_byte(p))
    }
    #[inline]
    fn body_len(&self) -> usize {
        each_variant!(self, p => Body::body_len(p))
    }
    #[inline]
    fn write_head<B: BufMut>(&self, buf: &mut B) {
        each_variant!(self, p => Body::write_head(p, buf))
    }
    #[inline]
    fn payload(&self) -> Option<&[u8]> {
        each_variant!(self, p => Body::payload(p))
    }
    #[inline]
    fn write_packet_head<B: BufMut>(&self, buf: &mut B, body_len: usize) {
        each_variant!(self, p => Body::write_packet_head(p, buf, body_len))
    }
}

/// Helpers for the tests of the packet modules: whole packets from and to
/// bytes, through [`Packet`].
#[cfg(test)]
pub(crate) mod test_util {
    use alloc::vec::Vec;

    use super::Packet;
    use crate::wire::FixedHeader;
    use crate::{DecodeError, Encode, PacketId};

    /// Decodes `bytes`, which must hold exactly one packet (a malformed body
    /// is fine, but the Remaining Length must count the bytes given).
    pub(crate) fn decode<P: PacketId>(bytes: &[u8]) -> Result<Packet<P>, DecodeError> {
        let header = FixedHeader::parse(bytes)?.expect("a whole fixed header");
        assert_eq!(
            header.packet_len(),
            bytes.len(),
            "the test bytes must be exactly one packet"
        );
        let mut body = bytes::BytesMut::from(&bytes[header.header_len..]);
        let mut reader = crate::wire::Reader::new(&mut body);
        Packet::decode(&header, &mut reader)
    }

    /// Encodes `packet`, checking that `encoded_len` announced the length
    /// written and that the vectored form gives the same bytes.
    pub(crate) fn encode<T: Encode>(packet: &T) -> Vec<u8> {
        let mut buf = Vec::new();
        let n = packet.encode(&mut buf).expect("encodes");
        assert_eq!(n, buf.len());
        assert_eq!(packet.encoded_len(), buf.len());
        let mut head = Vec::new();
        let payload = packet.encode_vectored(&mut head).expect("encodes");
        head.extend_from_slice(payload.unwrap_or_default());
        assert_eq!(head, buf);
        buf
    }

    /// Checks both directions: `packet` encodes to `bytes`, and `bytes`
    /// decode to `packet`.
    pub(crate) fn round_trip<P: PacketId>(packet: impl Into<Packet<P>>, bytes: &[u8]) {
        let packet = packet.into();
        assert_eq!(encode(&packet), bytes, "encoding {packet:?}");
        assert_eq!(decode::<P>(bytes), Ok(packet), "decoding {bytes:02x?}");
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;
    use bytes::BytesMut;
    use proptest::prelude::*;

    use super::test_util::encode;
    use super::Packet;
    use crate::wire::{FixedHeader, PacketType, Reader};

    /// Decodes `body` as a packet of type `packet_type` with `flags`.
    fn decode_body(packet_type: u8, flags: u8, body: &[u8]) -> Option<Packet<u16>> {
        let packet_type = PacketType::from_u8(packet_type)?;
        // PUBLISH: any flags but QoS 3, which the fixed header refuses.
        let publish_flags = if flags & 0b0110 == 0b0110 {
            flags & 0b1011
        } else {
            flags
        };
        let flags = packet_type.fixed_flags().unwrap_or(publish_flags);
        let header = FixedHeader {
            packet_type,
            flags,
            remaining_length: body.len() as u32,
            header_len: 2,
        };
        let mut body = BytesMut::from(body);
        let mut reader = Reader::new(&mut body);
        Packet::decode(&header, &mut reader).ok()
    }

    proptest! {
        /// Decoding arbitrary bodies never panics, and whatever decodes
        /// re-encodes to bytes that decode to the same packet.
        #[test]
        fn decode_never_panics_and_reencodes(
            packet_type in 1u8..=15,
            flags in 0u8..16,
            body in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            if let Some(packet) = decode_body(packet_type, flags, &body) {
                let bytes: Vec<u8> = encode(&packet);
                let header = FixedHeader::parse(&bytes).unwrap().unwrap();
                let mut body = BytesMut::from(&bytes[header.header_len..]);
                let again = Packet::decode(&header, &mut Reader::new(&mut body));
                prop_assert_eq!(again, Ok(packet));
            }
        }
    }
}
