//! The body SUBACK and UNSUBACK share (v5.0 §3.9, §3.11): Packet Identifier,
//! Properties, then one Reason Code per Topic Filter of the request, never
//! none.

/// Writes one reason-list packet type: the struct, its builder, its decoder
/// and its encoder, all with the layout above.
macro_rules! reason_list_packet {
    (
        $(#[$doc:meta])*
        $name:ident, $builder:ident, $view:ident, $packet_type:ident, $reason:ident,
        $props:ident, $props_view:ident, empty_rule = $empty_rule:literal
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, derive_builder::Builder)]
        #[builder(
            no_std,
            setter(into),
            build_fn(validate = "Self::validate", error = "crate::BuildError")
        )]
        pub struct $name<P: crate::PacketId = u16> {
            /// The Packet Identifier of the request answered.
            #[builder(setter(into = false))]
            packet_id: P,
            /// The properties: Reason String and User Properties.
            #[builder(default)]
            properties: crate::properties::$props,
            /// One Reason Code per Topic Filter of the request, in its order.
            #[builder(default, setter(each(name = "reason_code")))]
            reason_codes: alloc::vec::Vec<crate::v5_0::$reason>,
        }

        impl<P: crate::PacketId> $builder<P> {
            fn validate(&self) -> Result<(), crate::BuildError> {
                if self.reason_codes.as_ref().is_none_or(alloc::vec::Vec::is_empty) {
                    return Err(crate::BuildError::Forbidden($empty_rule));
                }
                if let Some(properties) = &self.properties {
                    properties.validate()?;
                }
                Ok(())
            }
        }

        impl<P: crate::PacketId> $name<P> {
            /// A builder; `packet_id` and at least one reason code are required.
            pub fn builder() -> $builder<P> {
                $builder::default()
            }

            /// The Packet Identifier.
            pub fn packet_id(&self) -> P {
                self.packet_id
            }
            /// The properties.
            pub fn properties(&self) -> &crate::properties::$props {
                &self.properties
            }
            /// The Reason Codes, one per Topic Filter of the request, in order.
            pub fn reason_codes(&self) -> &[crate::v5_0::$reason] {
                &self.reason_codes
            }

            /// The packet of a checked view whose slices lie in `src`.
            pub(crate) fn from_view(view: &$view<'_, P>, src: crate::source::Source<'_>) -> Self {
                $name {
                    packet_id: view.packet_id,
                    properties: crate::properties::$props::from_view(view.properties, src),
                    reason_codes: view.reason_codes().collect(),
                }
            }
        }

        #[doc = concat!("A ", stringify!($packet_type), " read in place (see [`PacketView`](super::PacketView)).")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $view<'a, P: crate::PacketId = u16> {
            packet_id: P,
            properties: crate::properties::$props_view<'a>,
            /// Checked Reason Codes.
            codes: &'a [u8],
        }

        impl<'a, P: crate::PacketId> $view<'a, P> {
            /// Reads and checks the body.
            pub(crate) fn parse(
                r: &mut crate::wire::Reader<'a>,
            ) -> Result<Self, crate::DecodeError> {
                let packet_id = r.packet_id()?;
                let properties = crate::properties::$props_view::parse(r)?;
                let codes = r.rest();
                for &code in codes {
                    crate::v5_0::$reason::from_u8(code)?;
                }
                // A request has at least one Topic Filter, so its answer one code.
                if codes.is_empty() {
                    return Err(crate::DecodeError::EmptyPayload(
                        crate::wire::PacketType::$packet_type,
                    ));
                }
                Ok($view {
                    packet_id,
                    properties,
                    codes,
                })
            }

            /// The Packet Identifier.
            pub fn packet_id(&self) -> P {
                self.packet_id
            }
            /// The properties.
            pub fn properties(&self) -> crate::properties::$props_view<'a> {
                self.properties
            }
            /// The Reason Codes, one per Topic Filter of the request, in order.
            pub fn reason_codes(&self) -> impl Iterator<Item = crate::v5_0::$reason> + 'a {
                self.codes
                    .iter()
                    .filter_map(|&code| crate::v5_0::$reason::from_u8(code).ok())
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
                (crate::wire::PacketType::$packet_type as u8) << 4
            }
            fn body_len(&self) -> usize {
                P::WIRE_LEN + self.properties.encoded_len() + self.reason_codes.len()
            }
            fn write_head<B: bytes::BufMut>(&self, buf: &mut B) {
                crate::wire::writer::put_packet_id(buf, self.packet_id);
                self.properties.encode(buf);
                for code in &self.reason_codes {
                    buf.put_u8(code.as_u8());
                }
            }
        }
    };
}
pub(crate) use reason_list_packet;
