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

pub use auth::{Auth, AuthBuilder, AuthView};
pub use connack::{Connack, ConnackBuilder, ConnackView};
pub use connect::{Connect, ConnectBuilder, ConnectView, Will, WillBuilder, WillView};
pub use disconnect::{Disconnect, DisconnectBuilder, DisconnectView};
pub use pingreq::Pingreq;
pub use pingresp::Pingresp;
pub use puback::{Puback, PubackBuilder, PubackView};
pub use pubcomp::{Pubcomp, PubcompBuilder, PubcompView};
pub use publish::{Publish, PublishBuilder, PublishView};
pub use pubrec::{Pubrec, PubrecBuilder, PubrecView};
pub use pubrel::{Pubrel, PubrelBuilder, PubrelView};
pub use reason_code::*;
pub use suback::{Suback, SubackBuilder, SubackView};
pub use subscribe::{
    RetainHandling, Subscribe, SubscribeBuilder, SubscribeView, SubscriptionOptions,
};
pub use unsuback::{Unsuback, UnsubackBuilder, UnsubackView};
pub use unsubscribe::{Unsubscribe, UnsubscribeBuilder, UnsubscribeView};

pub use crate::properties::*;

use alloc::boxed::Box;
use bytes::{BufMut, Bytes};

use crate::encode::sealed::Body;
use crate::source::Source;
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
    /// SUBACK (§3.9), boxed: rare, and larger than the rest.
    Suback(Box<Suback<P>>),
    /// UNSUBSCRIBE (§3.10).
    Unsubscribe(Unsubscribe<P>),
    /// UNSUBACK (§3.11), boxed: rare, and larger than the rest.
    Unsuback(Box<Unsuback<P>>),
    /// PINGREQ (§3.12).
    Pingreq(Pingreq),
    /// PINGRESP (§3.13).
    Pingresp(Pingresp),
    /// DISCONNECT (§3.14), boxed: once per connection, and larger than
    /// the rest.
    Disconnect(Box<Disconnect>),
    /// AUTH (§3.15), boxed: rare, and larger than the rest.
    Auth(Box<Auth>),
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
    /// The Packet Identifier the packet carries (§2.2.1): a PUBLISH at QoS
    /// 1 or 2, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK,
    /// UNSUBSCRIBE and UNSUBACK; `None` for the others.
    #[inline]
    pub fn packet_id(&self) -> Option<P> {
        match self {
            Packet::Publish(p) => p.packet_id(),
            Packet::Puback(a) => Some(a.packet_id()),
            Packet::Pubrec(a) => Some(a.packet_id()),
            Packet::Pubrel(a) => Some(a.packet_id()),
            Packet::Pubcomp(a) => Some(a.packet_id()),
            Packet::Subscribe(s) => Some(s.packet_id()),
            Packet::Suback(s) => Some(s.packet_id()),
            Packet::Unsubscribe(u) => Some(u.packet_id()),
            Packet::Unsuback(u) => Some(u.packet_id()),
            Packet::Connect(_)
            | Packet::Connack(_)
            | Packet::Pingreq(_)
            | Packet::Pingresp(_)
            | Packet::Disconnect(_) => None,
            Packet::Auth(_) => None,
        }
    }

    /// The control packet type.
    #[inline]
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
}

/// Any MQTT v5.0 control packet, read in place: what
/// [`Decoder::decode_view`](crate::Decoder::decode_view) returns for a
/// router, proxy or inspection tool that does not keep the packet. Its
/// strings, binary values, properties and payload are slices of the input;
/// packets that hold none are their owned type. Every rule the owned
/// decoder checks was checked (it is the same parser);
/// [`to_owned`](Self::to_owned) gives the owned packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketView<'a, P: PacketId = u16> {
    /// CONNECT (§3.1).
    Connect(ConnectView<'a>),
    /// CONNACK (§3.2).
    Connack(ConnackView<'a>),
    /// PUBLISH (§3.3).
    Publish(PublishView<'a, P>),
    /// PUBACK (§3.4).
    Puback(PubackView<'a, P>),
    /// PUBREC (§3.5).
    Pubrec(PubrecView<'a, P>),
    /// PUBREL (§3.6).
    Pubrel(PubrelView<'a, P>),
    /// PUBCOMP (§3.7).
    Pubcomp(PubcompView<'a, P>),
    /// SUBSCRIBE (§3.8).
    Subscribe(SubscribeView<'a, P>),
    /// SUBACK (§3.9).
    Suback(SubackView<'a, P>),
    /// UNSUBSCRIBE (§3.10).
    Unsubscribe(UnsubscribeView<'a, P>),
    /// UNSUBACK (§3.11).
    Unsuback(UnsubackView<'a, P>),
    /// PINGREQ (§3.12).
    Pingreq(Pingreq),
    /// PINGRESP (§3.13).
    Pingresp(Pingresp),
    /// DISCONNECT (§3.14).
    Disconnect(DisconnectView<'a>),
    /// AUTH (§3.15).
    Auth(AuthView<'a>),
}

impl<'a, P: PacketId> PacketView<'a, P> {
    /// Reads and checks the body of one complete packet whose fixed header
    /// (flags already checked by [`FixedHeader::parse`]) is `header`. Every
    /// byte of `body` must belong to the packet: left-over bytes are
    /// [`DecodeError::TrailingBytes`], checked here once for all types.
    pub(crate) fn parse(header: &FixedHeader, body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let packet = match header.packet_type {
            // Its payload is the rest of the packet: nothing can trail it.
            PacketType::Publish => {
                return Ok(PacketView::Publish(PublishView::parse(header.flags, body)?))
            }
            PacketType::Connect => PacketView::Connect(ConnectView::parse(&mut r)?),
            PacketType::Connack => PacketView::Connack(ConnackView::parse(&mut r)?),
            PacketType::Puback => PacketView::Puback(PubackView::parse(&mut r)?),
            PacketType::Pubrec => PacketView::Pubrec(PubrecView::parse(&mut r)?),
            PacketType::Pubrel => PacketView::Pubrel(PubrelView::parse(&mut r)?),
            PacketType::Pubcomp => PacketView::Pubcomp(PubcompView::parse(&mut r)?),
            PacketType::Subscribe => PacketView::Subscribe(SubscribeView::parse(&mut r)?),
            PacketType::Suback => PacketView::Suback(SubackView::parse(&mut r)?),
            PacketType::Unsubscribe => PacketView::Unsubscribe(UnsubscribeView::parse(&mut r)?),
            PacketType::Unsuback => PacketView::Unsuback(UnsubackView::parse(&mut r)?),
            PacketType::Pingreq => PacketView::Pingreq(Pingreq),
            PacketType::Pingresp => PacketView::Pingresp(Pingresp),
            PacketType::Disconnect => PacketView::Disconnect(DisconnectView::parse(&mut r)?),
            PacketType::Auth => PacketView::Auth(AuthView::parse(&mut r)?),
        };
        r.finish()?;
        Ok(packet)
    }

    /// The control packet type.
    #[inline]
    pub fn packet_type(&self) -> PacketType {
        match self {
            PacketView::Connect(_) => PacketType::Connect,
            PacketView::Connack(_) => PacketType::Connack,
            PacketView::Publish(_) => PacketType::Publish,
            PacketView::Puback(_) => PacketType::Puback,
            PacketView::Pubrec(_) => PacketType::Pubrec,
            PacketView::Pubrel(_) => PacketType::Pubrel,
            PacketView::Pubcomp(_) => PacketType::Pubcomp,
            PacketView::Subscribe(_) => PacketType::Subscribe,
            PacketView::Suback(_) => PacketType::Suback,
            PacketView::Unsubscribe(_) => PacketType::Unsubscribe,
            PacketView::Unsuback(_) => PacketType::Unsuback,
            PacketView::Pingreq(_) => PacketType::Pingreq,
            PacketView::Pingresp(_) => PacketType::Pingresp,
            PacketView::Disconnect(_) => PacketType::Disconnect,
            PacketView::Auth(_) => PacketType::Auth,
        }
    }

    /// The owned packet, sharing `source` when the view was parsed from
    /// it (its fields are slices of `source`), copying them otherwise.
    pub fn to_owned(&self, source: &Bytes) -> Packet<P> {
        self.owned_in(Source(source))
    }

    pub(crate) fn owned_in(&self, src: Source<'_>) -> Packet<P> {
        match self {
            PacketView::Connect(v) => Packet::Connect(Box::new(Connect::from_view(v, src))),
            PacketView::Connack(v) => Packet::Connack(Box::new(Connack::from_view(v, src))),
            PacketView::Publish(v) => Packet::Publish(v.owned_in(src)),
            PacketView::Puback(v) => Packet::Puback(Puback::from_view(v, src)),
            PacketView::Pubrec(v) => Packet::Pubrec(Pubrec::from_view(v, src)),
            PacketView::Pubrel(v) => Packet::Pubrel(Pubrel::from_view(v, src)),
            PacketView::Pubcomp(v) => Packet::Pubcomp(Pubcomp::from_view(v, src)),
            PacketView::Subscribe(v) => Packet::Subscribe(Subscribe::from_view(v, src)),
            PacketView::Suback(v) => Packet::Suback(Box::new(Suback::from_view(v, src))),
            PacketView::Unsubscribe(v) => Packet::Unsubscribe(Unsubscribe::from_view(v, src)),
            PacketView::Unsuback(v) => Packet::Unsuback(Box::new(Unsuback::from_view(v, src))),
            PacketView::Pingreq(p) => Packet::Pingreq(*p),
            PacketView::Pingresp(p) => Packet::Pingresp(*p),
            PacketView::Disconnect(v) => {
                Packet::Disconnect(Box::new(Disconnect::from_view(v, src)))
            }
            PacketView::Auth(v) => Packet::Auth(Box::new(Auth::from_view(v, src))),
        }
    }
}

/// `From` each packet type for [`Packet`] and for
/// [`GenericPacket`](crate::GenericPacket), so that any packet goes where
/// either is asked for with `.into()`.
macro_rules! from_packet {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        $(
            impl<P: PacketId> From<$ty> for Packet<P> {
                #[inline]
                fn from(packet: $ty) -> Self {
                    Packet::$variant(packet.into())
                }
            }

            impl<P: PacketId> From<$ty> for crate::GenericPacket<P> {
                #[inline]
                fn from(packet: $ty) -> Self {
                    crate::GenericPacket::V5_0(Packet::$variant(packet.into()))
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
        let frame = bytes::Bytes::copy_from_slice(bytes);
        let view = super::PacketView::<P>::parse(&header, &frame[header.header_len..])?;
        let owned = view.to_owned(&frame);
        assert_eq!(
            owned,
            view.to_owned(&bytes::Bytes::new()),
            "shared and copied agree"
        );
        Ok(owned)
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
    use bytes::Bytes;
    use proptest::prelude::*;

    use super::test_util::encode;
    use super::Packet;
    use crate::wire::{FixedHeader, PacketType};

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
        let body = Bytes::copy_from_slice(body);
        super::PacketView::parse(&header, &body)
            .ok()
            .map(|view| view.to_owned(&body))
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
                let body = Bytes::copy_from_slice(&bytes[header.header_len..]);
                let again = super::PacketView::parse(&header, &body).map(|view| view.to_owned(&body));
                prop_assert_eq!(again, Ok(packet));
            }
        }
    }
}
