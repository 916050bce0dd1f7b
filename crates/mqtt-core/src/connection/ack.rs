//! Acknowledging received QoS 1 and 2 messages: on receipt, or once the
//! application has handled them ([`AckPolicy::AfterHandling`]), in the
//! order a Client must keep [MQTT-4.6.0-2], [MQTT-4.6.0-3].

use super::lazy_deque::LazyDeque;

use mqtt_codec::v5_0::{PubackProperties, PubackReasonCode, PubrecReasonCode};
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, ProtocolVersion, QoS};
use mqtt_session::SessionError;

use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::{AckPolicy, GenericEvent, SendError};

/// How a received PUBLISH is answered: Success, or what the application
/// chose (v5.0).
#[derive(Debug, Clone, Default)]
struct Answer {
    reason_code: Option<PubackReasonCode>,
    properties: Option<Box<PubackProperties>>,
}

/// A received QoS 1 or 2 PUBLISH that waits for its acknowledgement: for
/// the application to handle it (`answer` is `None` until then), or, on a
/// Client, for the ones received before it.
#[derive(Debug)]
struct Waiting<P> {
    id: P,
    qos: QoS,
    answer: Option<Answer>,
}

/// The received QoS 1 and 2 PUBLISH packets not acknowledged yet, in the
/// order they arrived. Bounded by our Receive Maximum: the peer may not
/// have more unacknowledged [MQTT-3.3.4-9].
#[derive(Debug, Default)]
pub(crate) struct Acks<P> {
    waiting: LazyDeque<Waiting<P>>,
}

impl<P: PacketId> Acks<P> {
    /// Frees the queue's memory if nothing waits.
    pub(crate) fn shrink(&mut self) {
        self.waiting.shrink();
    }

    /// Whether the queue holds memory (for tests).
    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        self.waiting.is_allocated()
    }

    /// Whether no received message waits for its acknowledgement.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Whether `id` waits for its acknowledgement.
    pub(crate) fn contains(&self, id: P) -> bool {
        self.waiting.iter().any(|w| w.id == id)
    }

    /// The network connection closed: QoS 1 messages will come again (a
    /// re-sent PUBLISH is a new delivery, [MQTT-4.3.2-4]); a QoS 2 message
    /// stays received until its PUBREL [MQTT-4.3.3-10].
    pub(crate) fn on_close(&mut self) {
        self.waiting.retain(|w| w.qos == QoS::ExactlyOnce);
    }

    /// The session is not present: nothing waits any more.
    pub(crate) fn clear(&mut self) {
        self.waiting.clear();
    }
}

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    /// Acknowledges the received QoS 1 or 2 PUBLISH `packet_id` with
    /// Success, once the application has handled it: PUBACK or PUBREC
    /// (§4.3.2, §4.3.3), with [`AckPolicy::AfterHandling`]. A Client's
    /// acknowledgement waits for those of the messages received before it
    /// [MQTT-4.6.0-2], [MQTT-4.6.0-3]; one asked while disconnected (QoS
    /// 2) goes after the next CONNACK.
    ///
    /// Errs, changing nothing, when no received message with this
    /// identifier waits for its acknowledgement.
    #[must_use = "the events say what to write"]
    pub fn acknowledge(&mut self, packet_id: P) -> Result<Vec<GenericEvent<P>>, SendError> {
        let mut events = Vec::new();
        self.acknowledge_into(packet_id, &mut events)?;
        Ok(events)
    }

    /// [`acknowledge`](Self::acknowledge) with a Reason Code and properties
    /// (v5.0; v3.1.1 has neither): a failure code (0x80 or more) on a QoS 2
    /// message ends its flow (§4.3.3). The same codes serve PUBACK and
    /// PUBREC (§3.4.2.1, §3.5.2.1).
    #[must_use = "the events say what to write"]
    pub fn acknowledge_with(
        &mut self,
        packet_id: P,
        reason_code: PubackReasonCode,
        properties: PubackProperties,
    ) -> Result<Vec<GenericEvent<P>>, SendError> {
        let mut events = Vec::new();
        let answer = Answer {
            reason_code: Some(reason_code),
            properties: (!properties.is_empty()).then(|| Box::new(properties)),
        };
        self.answer_when_handled(packet_id, answer, &mut events)?;
        Ok(events)
    }

    /// [`acknowledge`](Self::acknowledge), appending the events to
    /// `events` (no allocation when it has room).
    pub fn acknowledge_into(
        &mut self,
        packet_id: P,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), SendError> {
        self.answer_when_handled(packet_id, Answer::default(), events)
    }

    fn answer_when_handled(
        &mut self,
        id: P,
        answer: Answer,
        events: &mut Vec<GenericEvent<P>>,
    ) -> Result<(), SendError> {
        let waiting = self
            .acks
            .waiting
            .iter_mut()
            .find(|w| w.id == id && w.answer.is_none());
        let Some(waiting) = waiting else {
            return Err(SessionError::PacketIdNotFound(id.to_u32()).into());
        };
        waiting.answer = Some(answer);
        self.flush_acks(events);
        self.flush_timers(events);
        Ok(())
    }

    /// A new QoS 1 or 2 PUBLISH `id` was delivered: answered now, or kept
    /// until the application handles it.
    pub(super) fn delivered(&mut self, id: P, qos: QoS, events: &mut Vec<GenericEvent<P>>) {
        match self.options.ack {
            AckPolicy::Manual => {}
            AckPolicy::OnReceipt if self.acks.waiting.is_empty() => {
                self.answer_publish(id, qos, Answer::default(), events);
            }
            _ => {
                let answer = (self.options.ack == AckPolicy::OnReceipt).then(Answer::default);
                if !self.acks.contains(id) {
                    self.acks.waiting.push_back(Waiting { id, qos, answer });
                }
                self.flush_acks(events);
            }
        }
    }

    /// A QoS 2 PUBLISH `id` arrived again before its PUBREL: not delivered
    /// again [MQTT-4.3.3-10]; answered with PUBREC again, unless the first
    /// still waits for its acknowledgement.
    pub(super) fn delivered_again(&mut self, id: P, events: &mut Vec<GenericEvent<P>>) {
        if !self.acks.contains(id) {
            self.answer_publish(id, QoS::ExactlyOnce, Answer::default(), events);
        }
    }

    /// Sends the acknowledgements that may go, in order: on a Client, each
    /// after those of the messages of its QoS received before it
    /// [MQTT-4.6.0-2], [MQTT-4.6.0-3]; on a Server, as soon as it is
    /// handled. Nothing while disconnected.
    pub(super) fn flush_acks(&mut self, events: &mut Vec<GenericEvent<P>>) {
        if self.state != crate::ConnectionState::Connected {
            return;
        }
        let in_order = self.role == RoleKind::Client;
        let (mut blocked_1, mut blocked_2) = (false, false);
        let mut i = 0;
        while i < self.acks.waiting.len() {
            let Some(w) = self.acks.waiting.get(i) else {
                break;
            };
            let blocked = match w.qos {
                QoS::AtLeastOnce => &mut blocked_1,
                _ => &mut blocked_2,
            };
            if w.answer.is_none() || (in_order && *blocked) {
                *blocked |= in_order;
                i += 1;
                continue;
            }
            if let Some(Waiting {
                id,
                qos,
                answer: Some(answer),
            }) = self.acks.waiting.remove(i)
            {
                self.answer_publish(id, qos, answer, events);
            }
        }
    }

    /// Sends the PUBACK or PUBREC of `id` and tells the session.
    fn answer_publish(
        &mut self,
        id: P,
        qos: QoS,
        answer: Answer,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        if answer.reason_code.is_none() {
            // Success, the common case: the packet is made in its event's
            // slot (made first and moved in, it stalls the copy: measured).
            let v5 = self.version == Some(ProtocolVersion::V5_0);
            match qos {
                QoS::AtLeastOnce => self.session.puback_sent(id),
                _ => self.session.pubrec_sent(id, false),
            }
            events.extend(core::iter::once_with(|| GenericEvent::RequestSendPacket {
                packet: success_answer(v5, qos, id),
                release_packet_id_if_send_error: None,
            }));
            self.keep_alive.packet_sent();
            return;
        }
        let packet = self.publish_answer(id, qos, answer);
        // What the peer is told decides the flow: v3.1.1 carries no Reason
        // Code, and a failure code that does not fit the peer's Maximum
        // Packet Size goes out as a plain (successful) PUBREC.
        let failure = matches!(
            &packet,
            GenericPacket::V5_0(v5_0::Packet::Pubrec(rec)) if rec.reason_code().as_u8() >= 0x80
        );
        if qos == QoS::AtLeastOnce {
            self.session.puback_sent(id);
        } else {
            self.session.pubrec_sent(id, failure);
        }
        self.emit(packet, None, events);
    }

    /// The PUBACK (QoS 1) or PUBREC (QoS 2) of `id` in the connection's
    /// version, fitted to the peer (v5.0).
    fn publish_answer(&self, id: P, qos: QoS, answer: Answer) -> GenericPacket<P> {
        if self.version == Some(ProtocolVersion::V3_1_1) {
            return match qos {
                QoS::AtLeastOnce => v3_1_1::Puback::new(id).into(),
                _ => v3_1_1::Pubrec::new(id).into(),
            };
        }
        let Answer {
            reason_code,
            properties,
        } = answer;
        let (Some(code), properties) = (reason_code, properties) else {
            return match qos {
                QoS::AtLeastOnce => v5_0::Puback::new(id).into(),
                _ => v5_0::Pubrec::new(id).into(),
            };
        };
        let properties = properties.map(|p| *p).unwrap_or_default();
        let packet: v5_0::Packet<P> = match qos {
            QoS::AtLeastOnce => v5_0::Puback::builder()
                .packet_id(id)
                .reason_code(code)
                .properties(properties)
                .build()
                .map_or_else(|_| v5_0::Puback::new(id).into(), Into::into),
            _ => v5_0::Pubrec::builder()
                .packet_id(id)
                .reason_code(
                    PubrecReasonCode::from_u8(code.as_u8()).unwrap_or(PubrecReasonCode::Success),
                )
                .properties(mqtt_codec::v5_0::PubrecProperties {
                    reason_string: properties.reason_string,
                    user_properties: properties.user_properties,
                })
                .build()
                .map_or_else(|_| v5_0::Pubrec::new(id).into(), Into::into),
        };
        // Stripped of its Reason String and User Properties where the peer
        // allows no more; an acknowledgement always fits then.
        GenericPacket::V5_0(self.fit_v5(packet).unwrap_or_else(|_| match qos {
            QoS::AtLeastOnce => v5_0::Puback::new(id).into(),
            _ => v5_0::Pubrec::new(id).into(),
        }))
    }
}

/// The PUBACK (QoS 1) or PUBREC (QoS 2) with Success of `id`: no Reason
/// Code and no properties, the same 4 bytes in both versions.
#[inline]
fn success_answer<P: PacketId>(v5: bool, qos: QoS, id: P) -> GenericPacket<P> {
    match (v5, qos) {
        (false, QoS::AtLeastOnce) => v3_1_1::Puback::new(id).into(),
        (false, _) => v3_1_1::Pubrec::new(id).into(),
        (true, QoS::AtLeastOnce) => v5_0::Puback::new(id).into(),
        (true, _) => v5_0::Pubrec::new(id).into(),
    }
}
