//! What we receive: the QoS 2 packet identifiers not yet released, and the
//! count of QoS > 0 PUBLISH packets not yet acknowledged, against our Receive
//! Maximum.

use core::num::NonZeroU16;
use std::marker::PhantomData;

use mqtt_codec::{PacketId, QoS};

use crate::id_pool::IdSet;
use crate::SessionError;

/// Whether a received PUBLISH is to be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// A new Application Message: deliver it, then acknowledge it.
    New,
    /// A QoS 2 PUBLISH whose identifier was received before and not yet
    /// released by a PUBREL: acknowledge it with PUBREC again, do not deliver
    /// it twice [MQTT-4.3.3-10].
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Incoming<P: PacketId> {
    /// QoS 2 identifiers received and not yet released by a PUBREL.
    qos2: IdSet,
    /// QoS > 0 PUBLISH received on this connection and not acknowledged.
    unacknowledged: u32,
    receive_maximum: NonZeroU16,
    _id: PhantomData<P>,
}

impl<P: PacketId> Incoming<P> {
    /// Frees the memory of the QoS 2 identifiers if none is held.
    pub(crate) fn shrink(&mut self) {
        self.qos2.shrink();
    }

    pub(crate) fn new(receive_maximum: NonZeroU16) -> Self {
        Incoming {
            qos2: IdSet::new(P::MAX.to_u32()),
            unacknowledged: 0,
            receive_maximum,
            _id: PhantomData,
        }
    }

    pub(crate) fn receive_maximum(&self) -> NonZeroU16 {
        self.receive_maximum
    }

    pub(crate) fn set_receive_maximum(&mut self, receive_maximum: NonZeroU16) {
        self.receive_maximum = receive_maximum;
    }

    pub(crate) fn unacknowledged(&self) -> u32 {
        self.unacknowledged
    }

    pub(crate) fn qos2(&self) -> &IdSet {
        &self.qos2
    }

    pub(crate) fn set_qos2(&mut self, ids: IdSet) {
        self.qos2 = ids;
    }

    /// A PUBLISH arrived.
    pub(crate) fn on_publish(&mut self, qos: QoS, id: Option<P>) -> Result<Delivery, SessionError> {
        if qos == QoS::AtMostOnce {
            return Ok(Delivery::New);
        }
        let id = id.map(PacketId::to_u32).filter(|&id| id != 0);
        let id = id.ok_or(SessionError::ZeroPacketId)?;
        if self.unacknowledged >= u32::from(self.receive_maximum.get()) {
            return Err(SessionError::ReceiveMaximumExceeded(
                self.receive_maximum.get(),
            ));
        }
        self.unacknowledged += 1;
        if qos == QoS::AtLeastOnce {
            return Ok(Delivery::New);
        }
        // Method B (§4.3.3): keep the identifier before onward delivery.
        Ok(if self.qos2.insert(id) {
            Delivery::New
        } else {
            Delivery::Duplicate
        })
    }

    /// An acknowledgement that replenishes the peer's quota went out: a
    /// PUBACK, a failed PUBREC, or a PUBCOMP (§4.9).
    fn acknowledged(&mut self) {
        self.unacknowledged = self.unacknowledged.saturating_sub(1);
    }

    pub(crate) fn puback_sent(&mut self) {
        self.acknowledged();
    }

    pub(crate) fn pubrec_sent(&mut self, id: P, failure: bool) {
        if failure {
            // [MQTT-4.3.3-9] a later PUBLISH with this id is new.
            self.qos2.remove(id.to_u32());
            self.acknowledged();
        }
    }

    /// A PUBREL arrived; the PUBCOMP that answers it always goes out
    /// [MQTT-4.3.3-11]. Errs when the identifier was not kept.
    pub(crate) fn on_pubrel(&mut self, id: P) -> Result<(), SessionError> {
        self.acknowledged();
        if self.qos2.remove(id.to_u32()) {
            Ok(())
        } else {
            Err(SessionError::PacketIdNotFound(id.to_u32()))
        }
    }

    /// A new network connection: the count starts again (§4.9).
    pub(crate) fn on_connection(&mut self) {
        self.unacknowledged = 0;
    }

    /// Forgets the QoS 2 identifiers not yet released.
    pub(crate) fn forget_qos2(&mut self) {
        self.qos2.clear();
    }

    pub(crate) fn clear(&mut self) {
        self.forget_qos2();
        self.unacknowledged = 0;
    }
}
