//! The body that PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK share on
//! v3.1.1 (§3.4, §3.5, §3.6, §3.7, §3.11): a packet identifier and nothing
//! else. Written once here and instantiated by each packet's file.

/// Defines a v3.1.1 packet that carries only a packet identifier: the
/// struct, its builder (which refuses identifier 0 [MQTT-2.3.1-1]), `new`,
/// the getter, `decode` and the [`Body`](crate::encode::sealed::Body) impl.
macro_rules! id_only_packet {
    (
        $(#[$attr:meta])*
        $name:ident, $builder:ident, $packet_type:expr, $flags:expr
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, derive_builder::Builder)]
        #[builder(
            no_std,
            setter(into),
            build_fn(validate = "Self::validate", error = "crate::BuildError")
        )]
        pub struct $name<P: crate::PacketId = u16> {
            /// The packet identifier of the packet this one answers; never 0
            /// [MQTT-2.3.1-1], [MQTT-2.3.1-6], [MQTT-2.3.1-7].
            #[builder(setter(into = false))]
            packet_id: P,
        }

        impl<P: crate::PacketId> $builder<P> {
            fn validate(&self) -> Result<(), crate::BuildError> {
                if self.packet_id.is_some_and(|id| id.to_u32() == 0) {
                    return Err(crate::BuildError::Forbidden(
                        "a packet identifier is never 0 [MQTT-2.3.1-1]",
                    ));
                }
                Ok(())
            }
        }

        impl<P: crate::PacketId> $name<P> {
            /// A builder; `packet_id` is required and refused when 0.
            pub fn builder() -> $builder<P> {
                $builder::default()
            }

            /// The packet answering the one with identifier `packet_id`,
            /// which is non-zero when it comes from a received packet or an
            /// identifier pool. Use [`builder`](Self::builder) to have 0
            /// refused instead.
            #[inline]
            pub const fn new(packet_id: P) -> Self {
                $name { packet_id }
            }

            /// The packet identifier.
            #[inline]
            pub fn packet_id(&self) -> P {
                self.packet_id
            }

            /// Reads and checks the body; the packet holds no slices, so it
            /// is its own view.
            #[inline]
            pub(crate) fn parse(
                r: &mut crate::wire::Reader<'_>,
            ) -> Result<Self, crate::DecodeError> {
                Ok($name {
                    packet_id: r.packet_id()?,
                })
            }
        }

        impl<P: crate::PacketId> crate::encode::sealed::Body for $name<P> {
            #[inline]
            fn first_byte(&self) -> u8 {
                ($packet_type as u8) << 4 | $flags
            }
            #[inline]
            fn body_len(&self) -> usize {
                P::WIRE_LEN
            }
            #[inline]
            fn write_head<B: bytes::BufMut>(&self, buf: &mut B) {
                crate::wire::writer::put_packet_id(buf, self.packet_id);
            }
        }
    };
}
pub(crate) use id_only_packet;

/// Tests every id-only packet runs: exact bytes both ways for `u16` and
/// `u32` identifiers, identifier 0 refused on the wire and by the builder,
/// and a body of the wrong length refused.
#[cfg(test)]
macro_rules! id_only_tests {
    ($name:ident, $variant:ident, $first_byte:expr) => {
        use super::$name;
        use crate::v3_1_1::test_util::{decode, encode};
        use crate::v3_1_1::Packet;
        use crate::{BuildError, DecodeError, Encode};

        #[test]
        fn encodes_and_decodes_exact_bytes() {
            let bytes = [$first_byte, 0x02, 0x12, 0x34];
            let packet = $name::<u16>::new(0x1234);
            assert_eq!(encode(&packet), bytes);
            assert_eq!(packet.encoded_len(), bytes.len());
            assert_eq!(decode::<u16>(&bytes), Ok(Packet::$variant(packet)));
            assert_eq!(
                $name::<u16>::builder().packet_id(0x1234).build(),
                Ok(packet)
            );
        }

        #[test]
        fn u32_packet_ids_take_four_bytes() {
            let bytes = [$first_byte, 0x04, 0x00, 0x01, 0x00, 0x02];
            let packet = $name::<u32>::new(0x0001_0002);
            assert_eq!(encode(&packet), bytes);
            assert_eq!(decode::<u32>(&bytes), Ok(Packet::$variant(packet)));
        }

        /// [MQTT-2.3.1-1] a packet identifier of 0 is refused on the wire.
        #[test]
        fn zero_packet_id_is_refused() {
            assert_eq!(
                decode::<u16>(&[$first_byte, 0x02, 0x00, 0x00]),
                Err(DecodeError::ZeroPacketId)
            );
        }

        /// [MQTT-2.3.1-1] the builder refuses to send identifier 0.
        #[test]
        fn builder_refuses_zero_packet_id() {
            assert!(matches!(
                $name::<u16>::builder().packet_id(0).build(),
                Err(BuildError::Forbidden(_))
            ));
            assert_eq!(
                $name::<u16>::builder().build(),
                Err(BuildError::MissingField("packet_id"))
            );
        }

        #[test]
        fn body_of_wrong_length_is_refused() {
            assert_eq!(
                decode::<u16>(&[$first_byte, 0x01, 0x01]),
                Err(DecodeError::UnexpectedEnd)
            );
            assert_eq!(
                decode::<u16>(&[$first_byte, 0x03, 0x00, 0x01, 0x00]),
                Err(DecodeError::TrailingBytes(1))
            );
        }
    };
}
#[cfg(test)]
pub(crate) use id_only_tests;
