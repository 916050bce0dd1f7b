//! The body PUBACK, PUBREC, PUBREL and PUBCOMP share (v5.0 §3.4.2, §3.5.2,
//! §3.6.2, §3.7.2): Packet Identifier, Reason Code, Properties. The Reason
//! Code may be left out when it is Success and there are no properties
//! (Remaining Length 2), the Property Length when there are no properties
//! (Remaining Length 3) (§3.4.2.1, §3.4.2.2.1).

/// Writes one acknowledgement packet type: the struct, its builder, its
/// decoder and its encoder, all with the layout above.
macro_rules! ack_packet {
    (
        $(#[$doc:meta])*
        $name:ident, $builder:ident, $view:ident, $packet_type:ident, $reason:ident,
        $success:path, $success_str:literal, $props:ident, $props_view:ident
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, derive_builder::Builder)]
        #[builder(no_std, setter(into), build_fn(error = "crate::BuildError"))]
        pub struct $name<P: crate::PacketId = u16> {
            /// The Packet Identifier of the packet this one answers.
            #[builder(setter(into = false))]
            packet_id: P,
            /// The Reason Code; Success unless set.
            #[builder(default = $success_str)]
            reason_code: $reason,
            /// The properties: Reason String and User Properties.
            #[builder(default)]
            properties: $props,
        }

        impl<P: crate::PacketId> $name<P> {
            /// A builder; `packet_id` is required.
            pub fn builder() -> $builder<P> {
                $builder::default()
            }

            /// The Success acknowledgement of `packet_id`, without properties:
            /// the shortest form, Remaining Length 2.
            pub fn new(packet_id: P) -> Self {
                $name {
                    packet_id,
                    reason_code: $success,
                    properties: $props::default(),
                }
            }

            /// The Packet Identifier.
            pub fn packet_id(&self) -> P {
                self.packet_id
            }
            /// The Reason Code.
            pub fn reason_code(&self) -> $reason {
                self.reason_code
            }
            /// The properties.
            pub fn properties(&self) -> &$props {
                &self.properties
            }

            /// The packet of a checked view whose slices lie in `src`.
            pub(crate) fn from_view(view: &$view<'_, P>, src: crate::source::Source<'_>) -> Self {
                $name {
                    packet_id: view.packet_id,
                    reason_code: view.reason_code,
                    properties: $props::from_view(view.properties, src),
                }
            }

            /// Bytes after the Packet Identifier, in the shortest form.
            #[inline]
            fn tail_len(&self) -> usize {
                if !self.properties.is_empty() {
                    1 + self.properties.encoded_len()
                } else if self.reason_code == $success {
                    0
                } else {
                    1
                }
            }
        }

        #[doc = concat!("A ", stringify!($packet_type), " read in place (see [`PacketView`](super::PacketView)): its properties are slices of the bytes it was parsed from.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $view<'a, P: crate::PacketId = u16> {
            packet_id: P,
            reason_code: $reason,
            properties: crate::properties::$props_view<'a>,
        }

        impl<'a, P: crate::PacketId> $view<'a, P> {
            /// Reads and checks the body.
            pub(crate) fn parse(
                r: &mut crate::wire::Reader<'a>,
            ) -> Result<Self, crate::DecodeError> {
                let packet_id = r.packet_id()?;
                // Remaining Length 2: Success, no properties (§3.4.2.1).
                let reason_code = if r.remaining() == 0 {
                    $success
                } else {
                    $reason::from_u8(r.u8()?)?
                };
                // Remaining Length 3: no Property Length (§3.4.2.2.1).
                let properties = if r.remaining() == 0 {
                    crate::properties::$props_view::default()
                } else {
                    crate::properties::$props_view::parse(r)?
                };
                Ok($view {
                    packet_id,
                    reason_code,
                    properties,
                })
            }

            /// The Packet Identifier.
            pub fn packet_id(&self) -> P {
                self.packet_id
            }
            /// The Reason Code.
            pub fn reason_code(&self) -> $reason {
                self.reason_code
            }
            /// The properties.
            pub fn properties(&self) -> crate::properties::$props_view<'a> {
                self.properties
            }
            /// The owned packet, sharing `source` when the view was parsed
            /// from it (copying otherwise).
            pub fn to_owned(&self, source: &bytes::Bytes) -> $name<P> {
                $name::from_view(self, crate::source::Source(source))
            }
        }

        impl<P: crate::PacketId> crate::encode::sealed::Body for $name<P> {
            #[inline]
            fn first_byte(&self) -> u8 {
                let packet_type = crate::wire::PacketType::$packet_type;
                (packet_type as u8) << 4 | packet_type.fixed_flags().unwrap_or(0)
            }
            #[inline]
            fn body_len(&self) -> usize {
                P::WIRE_LEN + self.tail_len()
            }
            #[inline]
            fn write_head<B: bytes::BufMut>(&self, buf: &mut B) {
                crate::wire::writer::put_packet_id(buf, self.packet_id);
                let tail = self.tail_len();
                if tail > 0 {
                    buf.put_u8(self.reason_code.as_u8());
                }
                if tail > 1 {
                    self.properties.encode(buf);
                }
            }
        }
    };
}
pub(crate) use ack_packet;
