//! The SUBSCRIBE and UNSUBSCRIBE a high-level client sends, in the
//! connection's version.

use mqtt_codec::v5_0::SubscriptionOptions;
use mqtt_codec::{v3_1_1, v5_0, BuildError, GenericPacket, PacketId, ProtocolVersion, TopicFilter};

/// The SUBSCRIBE of `version` for `subscriptions`, numbered `id`; v3.1.1
/// keeps only each filter's maximum QoS (it has no subscription options).
/// Errs when the list is empty (§3.8.3: at least one Topic Filter).
pub fn subscribe_packet<P: PacketId>(
    version: ProtocolVersion,
    id: P,
    subscriptions: &[(TopicFilter, SubscriptionOptions)],
) -> Result<GenericPacket<P>, BuildError> {
    let packet = match version {
        ProtocolVersion::V3_1_1 => {
            let mut builder = v3_1_1::Subscribe::builder();
            builder.packet_id(id);
            for (filter, options) in subscriptions {
                builder.subscription((filter.clone(), options.qos));
            }
            GenericPacket::V3_1_1(builder.build()?.into())
        }
        ProtocolVersion::V5_0 => {
            let mut builder = v5_0::Subscribe::builder();
            builder.packet_id(id);
            for (filter, options) in subscriptions {
                builder.subscription((filter.clone(), *options));
            }
            GenericPacket::V5_0(builder.build()?.into())
        }
    };
    Ok(packet)
}

/// The UNSUBSCRIBE of `version` for `filters`, numbered `id`. Errs when
/// the list is empty [MQTT-3.10.3-2].
pub fn unsubscribe_packet<P: PacketId>(
    version: ProtocolVersion,
    id: P,
    filters: &[TopicFilter],
) -> Result<GenericPacket<P>, BuildError> {
    let packet = match version {
        ProtocolVersion::V3_1_1 => {
            let mut builder = v3_1_1::Unsubscribe::builder();
            builder.packet_id(id).topic_filters(filters.to_vec());
            GenericPacket::V3_1_1(builder.build()?.into())
        }
        ProtocolVersion::V5_0 => {
            let mut builder = v5_0::Unsubscribe::builder();
            builder.packet_id(id).filters(filters.to_vec());
            GenericPacket::V5_0(builder.build()?.into())
        }
    };
    Ok(packet)
}
