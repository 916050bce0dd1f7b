//! The control packets of MQTT v3.1.1.

mod connack;
mod connect;
mod disconnect;
mod id_only;
mod pingreq;
mod pingresp;
mod puback;
mod pubcomp;
pub(crate) mod publish;
mod pubrec;
mod pubrel;
mod suback;
mod subscribe;
mod unsuback;
mod unsubscribe;

pub use connack::{Connack, ConnackBuilder, ConnectReturnCode};
pub use connect::{Connect, ConnectBuilder, ConnectView, Will, WillBuilder, WillView};
pub use disconnect::Disconnect;
pub use pingreq::Pingreq;
pub use pingresp::Pingresp;
pub use puback::{Puback, PubackBuilder};
pub use pubcomp::{Pubcomp, PubcompBuilder};
pub use publish::{Publish, PublishBuilder, PublishView};
pub use pubrec::{Pubrec, PubrecBuilder};
pub use pubrel::{Pubrel, PubrelBuilder};
pub use suback::{Suback, SubackBuilder, SubackReturnCode, SubackView};
pub use subscribe::{Subscribe, SubscribeBuilder, SubscribeView, Subscription};
pub use unsuback::{Unsuback, UnsubackBuilder};
pub use unsubscribe::{Unsubscribe, UnsubscribeBuilder, UnsubscribeView};

use alloc::boxed::Box;
use bytes::{BufMut, Bytes};

use crate::encode::sealed::Body;
use crate::source::Source;
use crate::wire::{FixedHeader, PacketType, Reader};
use crate::{DecodeError, PacketId};

/// Any MQTT v3.1.1 control packet, generic over the packet identifier width.
///
/// ```
/// use mqtt_codec::{Encode, v3_1_1::{Packet, Puback}};
/// let packet: Packet = Puback::new(1).into();
/// let mut buf = Vec::new();
/// packet.encode(&mut buf)?;
/// assert_eq!(buf, [0x40, 0x02, 0x00, 0x01]);
/// # Ok::<(), mqtt_codec::EncodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<P: PacketId = u16> {
    /// CONNECT (§3.1).
    Connect(Box<Connect>),
    /// CONNACK (§3.2).
    Connack(Connack),
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
}

/// Evaluates `$body` with `$p` bound to the packet inside `$packet`; call
/// trait methods fully qualified, as some packets have inherent ones of the
/// same name (`Publish::payload`).
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
        }
    };
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
                    crate::GenericPacket::V3_1_1(Packet::$variant(packet.into()))
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
        }
    }
}

/// Any MQTT v3.1.1 control packet, read in place: what
/// [`Decoder::decode_view`](crate::Decoder::decode_view) returns for a
/// router, proxy or inspection tool that does not keep the packet. Its
/// strings, binary values and payload are slices of the input; packets
/// that hold none are their owned type. Every rule the owned decoder
/// checks was checked (it is the same parser); [`to_owned`](Self::to_owned)
/// gives the owned packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketView<'a, P: PacketId = u16> {
    /// CONNECT (§3.1).
    Connect(ConnectView<'a>),
    /// CONNACK (§3.2).
    Connack(Connack),
    /// PUBLISH (§3.3).
    Publish(PublishView<'a, P>),
    /// PUBACK (§3.4).
    Puback(Puback<P>),
    /// PUBREC (§3.5).
    Pubrec(Pubrec<P>),
    /// PUBREL (§3.6).
    Pubrel(Pubrel<P>),
    /// PUBCOMP (§3.7).
    Pubcomp(Pubcomp<P>),
    /// SUBSCRIBE (§3.8).
    Subscribe(SubscribeView<'a, P>),
    /// SUBACK (§3.9).
    Suback(SubackView<'a, P>),
    /// UNSUBSCRIBE (§3.10).
    Unsubscribe(UnsubscribeView<'a, P>),
    /// UNSUBACK (§3.11).
    Unsuback(Unsuback<P>),
    /// PINGREQ (§3.12).
    Pingreq(Pingreq),
    /// PINGRESP (§3.13).
    Pingresp(Pingresp),
    /// DISCONNECT (§3.14).
    Disconnect(Disconnect),
}

impl<'a, P: PacketId> PacketView<'a, P> {
    /// Reads and checks the body of one complete packet whose fixed header
    /// (already checked by [`FixedHeader::parse`]) is `header`. Every byte
    /// of `body` must belong to the packet: this is the one place where
    /// trailing bytes are refused. AUTH does not exist on v3.1.1.
    pub(crate) fn parse(header: &FixedHeader, body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let packet = match header.packet_type {
            // Its payload is the rest of the packet: nothing can trail it.
            PacketType::Publish => {
                return Ok(PacketView::Publish(PublishView::parse(header.flags, body)?))
            }
            PacketType::Connect => PacketView::Connect(ConnectView::parse(&mut r)?),
            PacketType::Connack => PacketView::Connack(Connack::parse(&mut r)?),
            PacketType::Puback => PacketView::Puback(Puback::parse(&mut r)?),
            PacketType::Pubrec => PacketView::Pubrec(Pubrec::parse(&mut r)?),
            PacketType::Pubrel => PacketView::Pubrel(Pubrel::parse(&mut r)?),
            PacketType::Pubcomp => PacketView::Pubcomp(Pubcomp::parse(&mut r)?),
            PacketType::Subscribe => PacketView::Subscribe(SubscribeView::parse(&mut r)?),
            PacketType::Suback => PacketView::Suback(SubackView::parse(&mut r)?),
            PacketType::Unsubscribe => PacketView::Unsubscribe(UnsubscribeView::parse(&mut r)?),
            PacketType::Unsuback => PacketView::Unsuback(Unsuback::parse(&mut r)?),
            PacketType::Pingreq => PacketView::Pingreq(Pingreq),
            PacketType::Pingresp => PacketView::Pingresp(Pingresp),
            PacketType::Disconnect => PacketView::Disconnect(Disconnect),
            PacketType::Auth => return Err(DecodeError::InvalidPacketType(PacketType::Auth as u8)),
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
        }
    }

    /// The owned packet, sharing `source` when the view was parsed from
    /// it (its fields are slices of `source`), copying them otherwise.
    pub fn to_owned(&self, source: &Bytes) -> Packet<P> {
        self.owned_in(Source(source))
    }

    pub(crate) fn owned_in(&self, src: Source<'_>) -> Packet<P> {
        match *self {
            PacketView::Connect(v) => Packet::Connect(Box::new(Connect::from_view(&v, src))),
            PacketView::Connack(p) => Packet::Connack(p),
            PacketView::Publish(v) => Packet::Publish(v.owned_in(src)),
            PacketView::Puback(p) => Packet::Puback(p),
            PacketView::Pubrec(p) => Packet::Pubrec(p),
            PacketView::Pubrel(p) => Packet::Pubrel(p),
            PacketView::Pubcomp(p) => Packet::Pubcomp(p),
            PacketView::Subscribe(v) => Packet::Subscribe(Subscribe::from_view(&v, src)),
            PacketView::Suback(v) => Packet::Suback(Suback::from_view(&v)),
            PacketView::Unsubscribe(v) => Packet::Unsubscribe(Unsubscribe::from_view(&v, src)),
            PacketView::Unsuback(p) => Packet::Unsuback(p),
            PacketView::Pingreq(p) => Packet::Pingreq(p),
            PacketView::Pingresp(p) => Packet::Pingresp(p),
            PacketView::Disconnect(p) => Packet::Disconnect(p),
        }
    }
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

/// Helpers for the packet tests of this module.
#[cfg(test)]
pub(crate) mod test_util {
    use alloc::vec::Vec;

    use super::Packet;
    use crate::wire::FixedHeader;
    use crate::{DecodeError, Encode, PacketId};

    /// Decodes `bytes`, which hold exactly one whole packet, fixed header
    /// included, through [`FixedHeader::parse`] and the view's parser, and
    /// checks that the view and the owned packet agree.
    pub(crate) fn decode<P: PacketId>(bytes: &[u8]) -> Result<Packet<P>, DecodeError> {
        let Some(header) = FixedHeader::parse(bytes)? else {
            panic!("test bytes end inside the fixed header");
        };
        assert_eq!(
            header.packet_len(),
            bytes.len(),
            "test bytes hold one packet"
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

    /// Encodes `packet` into a new vector, checking `encoded_len` on the way.
    pub(crate) fn encode<T: Encode>(packet: &T) -> Vec<u8> {
        let mut buf = Vec::new();
        let written = packet.encode(&mut buf).unwrap();
        assert_eq!(written, buf.len());
        assert_eq!(packet.encoded_len(), buf.len());
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::{decode, encode};
    use super::*;
    use crate::QoS;

    /// AUTH (type 15) does not exist on v3.1.1.
    #[test]
    fn auth_is_refused() {
        assert_eq!(
            decode::<u16>(&[0xF0, 0x00]),
            Err(DecodeError::InvalidPacketType(15))
        );
    }

    /// Packet type 0 is reserved (§2.2.1, Table 2.1).
    #[test]
    fn packet_type_0_is_refused() {
        assert_eq!(
            decode::<u16>(&[0x00, 0x00]),
            Err(DecodeError::InvalidPacketType(0))
        );
    }

    /// [MQTT-2.2.2-1], [MQTT-2.2.2-2]: flags other than the ones Table 2.2
    /// fixes are refused, for every type with fixed flags.
    #[test]
    fn invalid_fixed_header_flags_are_refused() {
        for (first, packet_type) in [
            (0x11, PacketType::Connect),
            (0x64, PacketType::Pubrel),
            (0x83, PacketType::Subscribe),
            (0xA8, PacketType::Unsubscribe),
            (0xC2, PacketType::Pingreq),
        ] {
            assert_eq!(
                decode::<u16>(&[first, 0x00]),
                Err(DecodeError::InvalidFixedHeaderFlags {
                    packet_type,
                    flags: first & 0x0F,
                })
            );
        }
    }

    /// [MQTT-2.3.1-1]: SUBSCRIBE, UNSUBSCRIBE and QoS > 0 PUBLISH carry a
    /// non-zero packet identifier.
    #[test]
    fn zero_packet_ids_are_refused() {
        for bytes in [
            &[0x32, 0x05, 0x00, 0x01, b't', 0x00, 0x00][..],
            &[0x82, 0x06, 0x00, 0x00, 0x00, 0x01, b'a', 0x00],
            &[0xA2, 0x05, 0x00, 0x00, 0x00, 0x01, b'a'],
        ] {
            assert_eq!(decode::<u16>(bytes), Err(DecodeError::ZeroPacketId));
        }
    }

    /// PUBLISH goes through the dispatcher with its fixed header flags (DUP,
    /// QoS, RETAIN), both ways.
    #[test]
    fn publish_goes_through_the_dispatcher() {
        let bytes = [0x3B, 0x07, 0x00, 0x01, b't', 0x00, 0x05, b'h', b'i'];
        let publish = Publish::<u16>::builder()
            .try_topic_name("t")
            .unwrap()
            .qos(QoS::AtLeastOnce)
            .retain(true)
            .dup(true)
            .packet_id(5)
            .payload(&b"hi"[..])
            .build()
            .unwrap();
        let packet = Packet::from(publish);
        assert_eq!(packet.packet_type(), PacketType::Publish);
        assert_eq!(encode(&packet), bytes);
        assert_eq!(decode::<u16>(&bytes), Ok(packet));
        let Ok(Packet::Publish(decoded)) = decode::<u16>(&bytes) else {
            unreachable!()
        };
        assert_eq!(decoded.topic_name(), "t");
    }

    /// [MQTT-3.3.1-2] DUP is 0 on every QoS 0 PUBLISH: the decoder refuses
    /// a QoS 0 PUBLISH with DUP set, the builder will not make one, and
    /// `set_dup` leaves DUP 0 on QoS 0.
    #[test]
    fn dup_on_qos0_is_refused() {
        assert_eq!(
            decode::<u16>(&[0x38, 0x03, 0x00, 0x01, b't']),
            Err(DecodeError::InvalidFixedHeaderFlags {
                packet_type: PacketType::Publish,
                flags: 0x08,
            })
        );
        let builder = Publish::<u16>::builder().try_topic_name("t").unwrap();
        assert_eq!(
            builder.clone().dup(true).build(),
            Err(crate::BuildError::Forbidden(
                "DUP must be 0 on a QoS 0 PUBLISH [MQTT-3.3.1-2]"
            ))
        );
        let mut publish = builder.build().unwrap();
        publish.set_dup(true);
        assert!(!publish.dup());
        assert_eq!(encode(&publish), [0x30, 0x03, 0x00, 0x01, b't']);
    }

    /// `Packet` encodes exactly as the packet inside it, and reports its type.
    #[test]
    fn packet_delegates_encoding() {
        let cases: [(Packet<u16>, &[u8], PacketType); 5] = [
            (Pingreq.into(), &[0xC0, 0x00], PacketType::Pingreq),
            (Pingresp.into(), &[0xD0, 0x00], PacketType::Pingresp),
            (Disconnect.into(), &[0xE0, 0x00], PacketType::Disconnect),
            (
                Pubrel::new(1).into(),
                &[0x62, 0x02, 0x00, 0x01],
                PacketType::Pubrel,
            ),
            (
                Connack::builder().build().unwrap().into(),
                &[0x20, 0x02, 0x00, 0x00],
                PacketType::Connack,
            ),
        ];
        for (packet, bytes, packet_type) in cases {
            assert_eq!(packet.packet_type(), packet_type);
            assert_eq!(encode(&packet), bytes);
            assert_eq!(decode::<u16>(bytes), Ok(packet));
        }
    }
}
