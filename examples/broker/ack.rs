//! The acknowledgements the broker sends itself, once it has handled what
//! it acknowledges (the connections run with `auto_pub_response` off).
//!
//! A PUBACK or PUBREC goes out only after the PUBLISH was routed and, if
//! retained, stored: a publisher that has its acknowledgement knows that a
//! subscriber arriving next sees the retained message, and a publisher can
//! never have more unhandled messages in the broker than our Receive
//! Maximum (§4.9), which makes the back-pressure reach it.

use mqtt_codec::{v3_1_1, v5_0, GenericPacket, QoS};

/// What the broker owes once it has handled `packet` from a client: PUBACK
/// for a QoS 1 PUBLISH [MQTT-4.3.2-2], PUBREC for a QoS 2 PUBLISH
/// [MQTT-4.3.3-2] (a re-sent one before PUBREL is answered by the connection
/// and never reaches the broker [MQTT-4.3.3-10]), PUBCOMP for a PUBREL
/// [MQTT-4.3.3-11], and PUBREL for a successful PUBREC of one of our QoS 2
/// deliveries [MQTT-4.3.3-4]. `None` for anything else.
pub fn owed(packet: &GenericPacket<u16>) -> Option<GenericPacket<u16>> {
    use v3_1_1::Packet as V3;
    use v5_0::Packet as V5;
    Some(match packet {
        GenericPacket::V3_1_1(V3::Publish(p)) => {
            let id = p.packet_id()?;
            match p.qos() {
                QoS::AtLeastOnce => V3::Puback(v3_1_1::Puback::new(id)).into(),
                _ => V3::Pubrec(v3_1_1::Pubrec::new(id)).into(),
            }
        }
        GenericPacket::V5_0(V5::Publish(p)) => {
            let id = p.packet_id()?;
            match p.qos() {
                QoS::AtLeastOnce => V5::Puback(v5_0::Puback::new(id)).into(),
                _ => V5::Pubrec(v5_0::Pubrec::new(id)).into(),
            }
        }
        GenericPacket::V3_1_1(V3::Pubrel(r)) => {
            V3::Pubcomp(v3_1_1::Pubcomp::new(r.packet_id())).into()
        }
        GenericPacket::V5_0(V5::Pubrel(r)) => V5::Pubcomp(v5_0::Pubcomp::new(r.packet_id())).into(),
        GenericPacket::V3_1_1(V3::Pubrec(r)) => {
            V3::Pubrel(v3_1_1::Pubrel::new(r.packet_id())).into()
        }
        // A failed PUBREC ends the flow: no PUBREL [MQTT-4.3.3-... §4.9].
        GenericPacket::V5_0(V5::Pubrec(r)) if r.reason_code().is_success() => {
            V5::Pubrel(v5_0::Pubrel::new(r.packet_id())).into()
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_codec::wire::PacketType;

    fn publish_v5(qos: QoS) -> GenericPacket<u16> {
        let mut b = v5_0::Publish::builder()
            .try_topic_name("t")
            .unwrap()
            .qos(qos)
            .payload(&b"x"[..]);
        if qos != QoS::AtMostOnce {
            b = b.packet_id(7);
        }
        v5_0::Packet::from(b.build().unwrap()).into()
    }

    fn publish_v3(qos: QoS) -> GenericPacket<u16> {
        let mut b = v3_1_1::Publish::builder()
            .try_topic_name("t")
            .unwrap()
            .qos(qos)
            .payload(&b"x"[..]);
        if qos != QoS::AtMostOnce {
            b = b.packet_id(7);
        }
        v3_1_1::Packet::from(b.build().unwrap()).into()
    }

    fn kind(p: Option<GenericPacket<u16>>) -> Option<(PacketType, u16)> {
        p.map(|p| {
            let id = match &p {
                GenericPacket::V3_1_1(v3_1_1::Packet::Puback(a)) => a.packet_id(),
                GenericPacket::V3_1_1(v3_1_1::Packet::Pubrec(a)) => a.packet_id(),
                GenericPacket::V3_1_1(v3_1_1::Packet::Pubrel(a)) => a.packet_id(),
                GenericPacket::V3_1_1(v3_1_1::Packet::Pubcomp(a)) => a.packet_id(),
                GenericPacket::V5_0(v5_0::Packet::Puback(a)) => a.packet_id(),
                GenericPacket::V5_0(v5_0::Packet::Pubrec(a)) => a.packet_id(),
                GenericPacket::V5_0(v5_0::Packet::Pubrel(a)) => a.packet_id(),
                GenericPacket::V5_0(v5_0::Packet::Pubcomp(a)) => a.packet_id(),
                _ => 0,
            };
            (p.packet_type(), id)
        })
    }

    /// [MQTT-4.3.2-2], [MQTT-4.3.3-2]: QoS 1 gets PUBACK, QoS 2 PUBREC, QoS 0
    /// nothing, with the PUBLISH's packet identifier, in both versions.
    #[test]
    fn publish_acknowledgements() {
        for publish in [publish_v3, publish_v5] {
            assert_eq!(kind(owed(&publish(QoS::AtMostOnce))), None);
            assert_eq!(
                kind(owed(&publish(QoS::AtLeastOnce))),
                Some((PacketType::Puback, 7))
            );
            assert_eq!(
                kind(owed(&publish(QoS::ExactlyOnce))),
                Some((PacketType::Pubrec, 7))
            );
        }
    }

    /// [MQTT-4.3.3-11]: PUBREL gets PUBCOMP; [MQTT-4.3.3-4]: a PUBREC gets
    /// PUBREL, unless it reports a failure (v5.0, §4.9).
    #[test]
    fn release_and_completion() {
        let v3_rel = v3_1_1::Packet::Pubrel(v3_1_1::Pubrel::new(3)).into();
        assert_eq!(kind(owed(&v3_rel)), Some((PacketType::Pubcomp, 3)));
        let v5_rel = v5_0::Packet::Pubrel(v5_0::Pubrel::new(3)).into();
        assert_eq!(kind(owed(&v5_rel)), Some((PacketType::Pubcomp, 3)));
        let v3_rec = v3_1_1::Packet::Pubrec(v3_1_1::Pubrec::new(4)).into();
        assert_eq!(kind(owed(&v3_rec)), Some((PacketType::Pubrel, 4)));
        let v5_rec = v5_0::Packet::Pubrec(v5_0::Pubrec::new(4)).into();
        assert_eq!(kind(owed(&v5_rec)), Some((PacketType::Pubrel, 4)));
        let failed = v5_0::Pubrec::builder()
            .packet_id(4)
            .reason_code(v5_0::PubrecReasonCode::QuotaExceeded)
            .build()
            .unwrap();
        assert_eq!(kind(owed(&v5_0::Packet::Pubrec(failed).into())), None);
        let puback = v5_0::Packet::Puback(v5_0::Puback::new(5)).into();
        assert_eq!(kind(owed(&puback)), None);
    }
}
