//! encode → decode is the identity for every packet type of both versions,
//! with 2-byte (`u16`) and 4-byte (`u32`) packet identifiers; `encoded_len`
//! is exact and `encode_vectored` agrees with `encode`.
//!
//! Packets come from the public builders (strategies in `common`), so they
//! hold only what a sender may send; the Decoder must take each back as it
//! was, consuming exactly its bytes.

mod common;

use common::{assert_round_trip, v3, v5};
use mqtt_codec::ProtocolVersion::{V3_1_1, V5_0};
use proptest::prelude::*;

/// Cases per packet type and identifier width.
const CASES: u32 = 256;

/// One module per packet type, with a property for each identifier width.
/// `id` strategies are generic over the width, `plain` ones (packets
/// without an identifier) are not, but still go through a `Decoder<P>`.
macro_rules! round_trip {
    ($version:expr, $module:ident, $strategies:ident;
     id: [$($id:ident),* $(,)?];
     plain: [$($plain:ident),* $(,)?] $(,)?) => {
        $(
            mod $id {
                use super::*;
                proptest! {
                    #![proptest_config(ProptestConfig::with_cases(CASES))]
                    #[test]
                    fn u16_ids(packet in $strategies::$id::<u16>()) {
                        assert_round_trip::<u16, _, mqtt_codec::$module::Packet<u16>>(packet, $version)?;
                    }
                    #[test]
                    fn u32_ids(packet in $strategies::$id::<u32>()) {
                        assert_round_trip::<u32, _, mqtt_codec::$module::Packet<u32>>(packet, $version)?;
                    }
                }
            }
        )*
        $(
            mod $plain {
                use super::*;
                proptest! {
                    #![proptest_config(ProptestConfig::with_cases(CASES))]
                    #[test]
                    fn u16_ids(packet in $strategies::$plain()) {
                        assert_round_trip::<u16, _, mqtt_codec::$module::Packet<u16>>(packet, $version)?;
                    }
                    #[test]
                    fn u32_ids(packet in $strategies::$plain()) {
                        assert_round_trip::<u32, _, mqtt_codec::$module::Packet<u32>>(packet, $version)?;
                    }
                }
            }
        )*
    };
}

/// MQTT v3.1.1: the fourteen packet types.
mod v3_1_1 {
    use super::*;
    round_trip! {
        V3_1_1, v3_1_1, v3;
        id: [publish, puback, pubrec, pubrel, pubcomp, subscribe, suback, unsubscribe, unsuback];
        plain: [connect, connack, pingreq, pingresp, disconnect],
    }

    proptest! {
        /// The `Packet` enum encodes as the packet inside it.
        #[test]
        fn any_packet(packet in v3::packet::<u16>()) {
            assert_round_trip::<u16, _, mqtt_codec::v3_1_1::Packet<u16>>(packet, V3_1_1)?;
        }
        #[test]
        fn any_packet_u32(packet in v3::packet::<u32>()) {
            assert_round_trip::<u32, _, mqtt_codec::v3_1_1::Packet<u32>>(packet, V3_1_1)?;
        }
    }
}

/// MQTT v5.0: the fifteen packet types.
mod v5_0 {
    use super::*;
    round_trip! {
        V5_0, v5_0, v5;
        id: [publish, puback, pubrec, pubrel, pubcomp, subscribe, suback, unsubscribe, unsuback];
        plain: [connect, connack, pingreq, pingresp, disconnect, auth],
    }

    proptest! {
        /// The `Packet` enum encodes as the packet inside it.
        #[test]
        fn any_packet(packet in v5::packet::<u16>()) {
            assert_round_trip::<u16, _, mqtt_codec::v5_0::Packet<u16>>(packet, V5_0)?;
        }
        #[test]
        fn any_packet_u32(packet in v5::packet::<u32>()) {
            assert_round_trip::<u32, _, mqtt_codec::v5_0::Packet<u32>>(packet, V5_0)?;
        }
    }
}
