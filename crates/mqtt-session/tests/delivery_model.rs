//! Property test: a sender session and a receiver session wired through an
//! in-memory link that loses everything in flight at each disconnection.
//! Whatever the interleaving of publishes, deliveries, acknowledgements,
//! disconnections, reconnections and restarts from exported state, every
//! QoS 1 message arrives at least once and every QoS 2 message exactly once
//! [MQTT-4.3.2-*], [MQTT-4.3.3-*], first deliveries in the order published
//! [MQTT-4.6.0-1], and the peer never has more than its Receive Maximum
//! unacknowledged [MQTT-3.3.4-7].

use std::collections::VecDeque;
use std::num::NonZeroU16;

use mqtt_codec::{Message, ProtocolVersion, QoS, TopicName};
use mqtt_session::{
    Delivery, MonotonicTime, Outbound, Outgoing, Publish, PubrecOutcome, Session, SessionConfig,
};
use proptest::prelude::*;

/// What travels on the link (the packets the two sides exchange).
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // a test's link: size does not matter
enum Wire {
    Publish(Publish),
    Puback(u16),
    Pubrec(u16),
    Pubrel(u16),
    Pubcomp(u16),
}

#[derive(Debug, Clone)]
enum Op {
    Publish(QoS),
    ToReceiver,
    ToSender,
    Disconnect,
    Reconnect,
    /// Both sides restart from their exported state (while disconnected).
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop_oneof![Just(QoS::AtMostOnce), Just(QoS::AtLeastOnce), Just(QoS::ExactlyOnce)].prop_map(Op::Publish),
        6 => Just(Op::ToReceiver),
        6 => Just(Op::ToSender),
        1 => Just(Op::Disconnect),
        1 => Just(Op::Reconnect),
        1 => Just(Op::Restart),
    ]
}

struct Pair {
    version: ProtocolVersion,
    sender: Session,
    receiver: Session,
    to_receiver: VecDeque<Wire>,
    to_sender: VecDeque<Wire>,
    connected: bool,
    receive_maximum: NonZeroU16,
    /// Message numbers published, with their QoS.
    published: Vec<QoS>,
    /// The packet identifier each message was numbered with when published,
    /// which every PUBLISH carrying it has.
    ids: Vec<Option<u16>>,
    /// Message numbers delivered by the receiver, in order.
    delivered: Vec<u32>,
    now: MonotonicTime,
}

impl Pair {
    fn new(version: ProtocolVersion, receive_maximum: u16) -> Self {
        let receive_maximum = NonZeroU16::new(receive_maximum).expect("non-zero");
        let mut config = SessionConfig::default();
        config.session_expiry_interval = u32::MAX;
        let sender = Session::with_config(version, config.clone());
        config.receive_maximum = receive_maximum;
        let receiver = Session::with_config(version, config);
        let mut pair = Pair {
            version,
            sender,
            receiver,
            to_receiver: VecDeque::new(),
            to_sender: VecDeque::new(),
            connected: false,
            receive_maximum,
            published: Vec::new(),
            ids: Vec::new(),
            delivered: Vec::new(),
            now: MonotonicTime::ZERO,
        };
        pair.connect(false);
        pair
    }

    /// Message number `n`: the number is the payload.
    fn message(n: u32, qos: QoS) -> Message {
        let mut message = Message::new(
            TopicName::from_static("t").expect("valid"),
            n.to_be_bytes().to_vec(),
        )
        .expect("valid");
        message.set_qos(qos);
        message
    }

    fn connect(&mut self, session_present: bool) {
        self.connected = true;
        self.receiver
            .on_connected(session_present, NonZeroU16::MAX, self.now);
        let resend = self
            .sender
            .on_connected(session_present, self.receive_maximum, self.now);
        for packet in resend {
            self.to_receiver.push_back(match packet {
                Outgoing::Publish(p) => Wire::Publish(p),
                Outgoing::Pubrel(r) => Wire::Pubrel(r.packet_id()),
            });
        }
        self.drain_ready();
    }

    fn drain_ready(&mut self) {
        while let Some(p) = self.sender.pop_ready(self.now) {
            self.to_receiver.push_back(Wire::Publish(p));
        }
    }

    fn disconnect(&mut self) {
        self.connected = false;
        self.to_receiver.clear();
        self.to_sender.clear();
        self.sender.on_disconnected(self.now);
        self.receiver.on_disconnected(self.now);
    }

    /// The receiver's count of unacknowledged PUBLISH packets stays within
    /// its Receive Maximum (it also refuses, failing the test, beyond it).
    fn check_quota(&self) -> Result<(), TestCaseError> {
        prop_assert!(
            self.receiver.unacknowledged_received() <= u32::from(self.receive_maximum.get())
        );
        if self.connected {
            let flows = self.sender.in_flight().count();
            let waiting =
                usize::from(self.receive_maximum.get()) - self.sender.send_quota_available();
            prop_assert!(waiting <= flows);
        }
        Ok(())
    }

    fn step(&mut self, op: Op) -> Result<(), TestCaseError> {
        self.now = MonotonicTime::from_millis(self.now.as_millis() + 1);
        match op {
            Op::Publish(qos) => {
                let n = self.published.len() as u32;
                self.published.push(qos);
                let message = Pair::message(n, qos);
                let id = match self.sender.publish(message, self.now) {
                    Ok(Outbound::Send(p)) => {
                        prop_assert!(self.connected);
                        let id = p.packet_id();
                        self.to_receiver.push_back(Wire::Publish(p));
                        id
                    }
                    Ok(Outbound::Queued { packet_id, evicted }) => {
                        prop_assert!(evicted.is_empty());
                        packet_id
                    }
                    Err(e) => return Err(TestCaseError::fail(format!("publish refused: {e}"))),
                };
                // Numbered at once at QoS > 0, with an identifier in use.
                prop_assert_eq!(id.is_some(), qos != QoS::AtMostOnce);
                prop_assert!(id.is_none_or(|id| self.sender.packet_ids().is_in_use(id)));
                self.ids.push(id);
            }
            Op::ToReceiver if self.connected => {
                if let Some(packet) = self.to_receiver.pop_front() {
                    self.receive(packet)?;
                }
            }
            Op::ToSender if self.connected => {
                if let Some(packet) = self.to_sender.pop_front() {
                    self.acknowledge(packet)?;
                }
            }
            Op::Disconnect if self.connected => self.disconnect(),
            Op::Reconnect if !self.connected => self.connect(true),
            Op::Restart if !self.connected => {
                let bytes = self.sender.export(self.now);
                self.sender = Session::import(&bytes, self.now)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(self.sender.export(self.now), bytes);
                let bytes = self.receiver.export(self.now);
                self.receiver = Session::import(&bytes, self.now)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(self.receiver.export(self.now), bytes);
            }
            _ => {}
        }
        self.check_quota()
    }

    /// The receiver's side: deliver new messages, acknowledge.
    fn receive(&mut self, packet: Wire) -> Result<(), TestCaseError> {
        match packet {
            Wire::Publish(p) => {
                // A message has no version: the session sends it in its own.
                prop_assert_eq!(p.version(), self.version);
                let n = u32::from_be_bytes(p.payload().try_into().expect("4 bytes"));
                prop_assert_eq!(p.packet_id(), self.ids[n as usize], "message {}", n);
                let delivery = self.receiver.on_publish(p.qos(), p.packet_id());
                let delivery =
                    delivery.map_err(|e| TestCaseError::fail(format!("receiver refused: {e}")))?;
                if delivery == Delivery::New {
                    self.delivered.push(n);
                }
                match (p.qos(), p.packet_id()) {
                    (QoS::AtLeastOnce, Some(id)) => {
                        self.receiver.puback_sent(id);
                        self.to_sender.push_back(Wire::Puback(id));
                    }
                    (QoS::ExactlyOnce, Some(id)) => {
                        self.receiver.pubrec_sent(id, false);
                        self.to_sender.push_back(Wire::Pubrec(id));
                    }
                    _ => {}
                }
            }
            Wire::Pubrel(id) => {
                // Answered with PUBCOMP in any case [MQTT-4.3.3-11].
                let _ = self.receiver.on_pubrel(id);
                self.to_sender.push_back(Wire::Pubcomp(id));
            }
            other => prop_assert!(false, "the receiver got {other:?}"),
        }
        Ok(())
    }

    /// The sender's side: process acknowledgements, send what they free.
    fn acknowledge(&mut self, packet: Wire) -> Result<(), TestCaseError> {
        let result = match packet {
            Wire::Puback(id) => self.sender.on_puback(id).map(|_| ()),
            Wire::Pubrec(id) => match self.sender.on_pubrec(id, false) {
                Ok(PubrecOutcome::Release(r)) => {
                    self.to_receiver.push_back(Wire::Pubrel(r.packet_id()));
                    Ok(())
                }
                Ok(PubrecOutcome::Failed(_)) => Err(mqtt_session::SessionError::QuotaExceeded),
                Err(e) => Err(e),
            },
            Wire::Pubcomp(id) => self.sender.on_pubcomp(id),
            other => {
                prop_assert!(false, "the sender got {other:?}");
                Ok(())
            }
        };
        prop_assert!(result.is_ok(), "sender refused an ack: {:?}", result);
        self.drain_ready();
        Ok(())
    }

    /// Reconnects if needed and runs the link until nothing moves, within a
    /// bounded number of steps (a livelock fails instead of hanging).
    fn settle(&mut self) -> Result<(), TestCaseError> {
        if !self.connected {
            self.connect(true);
        }
        for _ in 0..100_000 {
            if let Some(packet) = self.to_receiver.pop_front() {
                self.receive(packet)?;
            } else if let Some(packet) = self.to_sender.pop_front() {
                self.acknowledge(packet)?;
            } else {
                self.drain_ready();
                if self.to_receiver.is_empty() {
                    return Ok(());
                }
            }
        }
        Err(TestCaseError::fail("the link did not settle"))
    }

    fn check_delivery(&self) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.sender.in_flight_len(), 0);
        prop_assert_eq!(self.sender.queue_len(), 0);
        prop_assert!(self.sender.packet_ids().is_empty());
        let mut count = vec![0u32; self.published.len()];
        let mut first_order = Vec::new();
        for &n in &self.delivered {
            if count[n as usize] == 0 {
                first_order.push(n);
            }
            count[n as usize] += 1;
        }
        for (n, qos) in self.published.iter().enumerate() {
            match qos {
                QoS::AtMostOnce => prop_assert!(
                    count[n] <= 1,
                    "QoS 0 message {} delivered {} times",
                    n,
                    count[n]
                ),
                QoS::AtLeastOnce => prop_assert!(count[n] >= 1, "QoS 1 message {} lost", n),
                QoS::ExactlyOnce => prop_assert_eq!(count[n], 1, "QoS 2 message {}", n),
            }
        }
        prop_assert!(
            first_order.windows(2).all(|w| w[0] < w[1]),
            "out of order: {:?}",
            first_order
        );
        Ok(())
    }
}

fn run(version: ProtocolVersion, receive_maximum: u16, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut pair = Pair::new(version, receive_maximum);
    for op in ops {
        pair.step(op)?;
    }
    pair.settle()?;
    pair.check_delivery()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn v5_delivery(receive_maximum in 1u16..5, ops in proptest::collection::vec(op(), 0..300)) {
        run(ProtocolVersion::V5_0, receive_maximum, ops)?;
    }

    #[test]
    fn v3_delivery(receive_maximum in prop_oneof![Just(1u16), Just(3), Just(65_535)], ops in proptest::collection::vec(op(), 0..300)) {
        run(ProtocolVersion::V3_1_1, receive_maximum, ops)?;
    }
}
