//! [`KeepAlive`]: which keep alive timers the driver runs for us, when they
//! restart, and whether a PINGREQ waits for its PINGRESP (§3.1.2.10,
//! §3.12, §3.13). The durations come from the connection (its options and
//! the Keep Alive in force); this part keeps the bookkeeping.

use core::time::Duration;

use mqtt_codec::PacketId;

use crate::{GenericEvent, TimerKind};

const KINDS: [TimerKind; 3] = [
    TimerKind::PingreqSend,
    TimerKind::PingrespRecv,
    TimerKind::PingreqRecv,
];

fn slot(kind: TimerKind) -> usize {
    match kind {
        TimerKind::PingreqSend => 0,
        TimerKind::PingrespRecv => 1,
        TimerKind::PingreqRecv => 2,
    }
}

#[derive(Debug, Default)]
pub(crate) struct KeepAlive {
    /// Which timers the driver runs.
    armed: [bool; 3],
    /// A packet was sent in this call: the Client's PINGREQ timer restarts
    /// at its end.
    sent: bool,
    /// A packet arrived in this call: the Server's receive timeout restarts
    /// at its end.
    received: bool,
    /// A PINGREQ was sent and its PINGRESP has not arrived.
    pingreq_outstanding: bool,
}

impl KeepAlive {
    /// Asks the driver to (re)start `kind`.
    pub(crate) fn reset<P: PacketId>(
        &mut self,
        kind: TimerKind,
        duration: Duration,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        self.armed[slot(kind)] = true;
        events.push(GenericEvent::RequestTimerReset { kind, duration });
    }

    /// Asks the driver to stop `kind`, if it runs.
    pub(crate) fn cancel<P: PacketId>(
        &mut self,
        kind: TimerKind,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        if core::mem::take(&mut self.armed[slot(kind)]) {
            events.push(GenericEvent::RequestTimerCancel(kind));
        }
    }

    /// Stops every timer that runs.
    pub(crate) fn cancel_all<P: PacketId>(&mut self, events: &mut Vec<GenericEvent<P>>) {
        for kind in KINDS {
            self.cancel(kind, events);
        }
    }

    /// `kind` fired: whether it was running (a late firing of a cancelled
    /// timer is ignored). It runs no more.
    pub(crate) fn fired(&mut self, kind: TimerKind) -> bool {
        core::mem::take(&mut self.armed[slot(kind)])
    }

    /// A packet was sent.
    pub(crate) fn packet_sent(&mut self) {
        self.sent = true;
    }

    /// A packet arrived.
    pub(crate) fn packet_received(&mut self) {
        self.received = true;
    }

    /// Whether a packet was sent since the last call; clears it.
    pub(crate) fn take_sent(&mut self) -> bool {
        core::mem::take(&mut self.sent)
    }

    /// Whether a packet arrived since the last call; clears it.
    pub(crate) fn take_received(&mut self) -> bool {
        core::mem::take(&mut self.received)
    }

    /// A PINGREQ was sent: whether it is the first one not answered yet
    /// (the PINGRESP timeout counts from that one).
    pub(crate) fn pingreq_sent(&mut self) -> bool {
        !core::mem::replace(&mut self.pingreq_outstanding, true)
    }

    /// Whether a PINGREQ waits for its PINGRESP.
    pub(crate) fn pingreq_outstanding(&self) -> bool {
        self.pingreq_outstanding
    }

    /// The PINGRESP arrived.
    pub(crate) fn pingresp_received(&mut self) {
        self.pingreq_outstanding = false;
    }

    /// The network connection closed: nothing is pending any more (the
    /// timers are cancelled by [`cancel_all`](Self::cancel_all)).
    pub(crate) fn closed(&mut self) {
        self.sent = false;
        self.received = false;
        self.pingreq_outstanding = false;
    }
}
