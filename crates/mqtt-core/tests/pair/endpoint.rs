//! One end of the pair: a connection and what its driver saw.

use std::time::Duration;

use bytes::BytesMut;
use mqtt_codec::{Encode, GenericPacket, PacketId};
use mqtt_core::role::Role;
use mqtt_core::{
    ConnectionError, GenericConnection, GenericEvent, MonotonicTime, TimerKind, TimerTable,
};

use super::{publishes, PubView};

/// One end of the pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The client connection.
    Client,
    /// The server connection.
    Server,
}

impl Side {
    /// The other end.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// A timer request, as logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerOp {
    /// `RequestTimerReset`.
    Reset(TimerKind, Duration),
    /// `RequestTimerCancel`.
    Cancel(TimerKind),
}

/// One connection and what its driver saw.
pub struct Endpoint<R: Role, P: PacketId> {
    /// The connection under test.
    pub conn: GenericConnection<R, P>,
    /// Bytes delivered to this side and not yet consumed by `recv`.
    pub inbox: BytesMut,
    /// Bytes this side wrote and the link has not delivered yet.
    pub outbox: BytesMut,
    /// Every packet this side asked to send while the link was up, in order.
    pub sent: Vec<GenericPacket<P>>,
    /// Bytes written to the link.
    pub sent_bytes: usize,
    /// Packets this side asked to send while its link was down.
    pub dropped: Vec<GenericPacket<P>>,
    /// Every packet this side was notified of, in order.
    pub received: Vec<GenericPacket<P>>,
    /// Every `NotifyPacketIdReleased`, in order.
    pub released: Vec<P>,
    /// Every `NotifyError`, in order.
    pub errors: Vec<ConnectionError>,
    /// The armed timers, as deadlines on the pair's fake clock.
    pub timers: TimerTable<MonotonicTime>,
    /// Every timer request, in order.
    pub timer_log: Vec<TimerOp>,
    /// Whether this side requested `RequestClose` on the current link.
    pub close_requested: bool,
    /// How many times the connection was told the link closed.
    pub closes_notified: usize,
    /// A log of every event, for failure messages.
    pub log: Vec<String>,
}

impl<R: Role, P: PacketId> Endpoint<R, P> {
    /// A fresh endpoint around `conn`.
    pub fn new(conn: GenericConnection<R, P>) -> Self {
        Endpoint {
            conn,
            inbox: BytesMut::new(),
            outbox: BytesMut::new(),
            sent: Vec::new(),
            sent_bytes: 0,
            dropped: Vec::new(),
            received: Vec::new(),
            released: Vec::new(),
            errors: Vec::new(),
            timers: TimerTable::new(),
            timer_log: Vec::new(),
            close_requested: false,
            closes_notified: 0,
            log: Vec::new(),
        }
    }

    /// Handles `events` as a driver does at time `now`; `link_up` says
    /// whether writes reach the link.
    pub fn handle(&mut self, link_up: bool, now: MonotonicTime, events: Vec<GenericEvent<P>>) {
        let mut queue = std::collections::VecDeque::from(events);
        while let Some(event) = queue.pop_front() {
            self.log.push(format!("{event:?}"));
            self.timers.apply(&event, now);
            match event {
                GenericEvent::RequestSendPacket {
                    packet,
                    release_packet_id_if_send_error,
                } => {
                    if link_up && !self.close_requested {
                        let before = self.outbox.len();
                        packet
                            .encode(&mut self.outbox)
                            .unwrap_or_else(|e| panic!("the core asked to send {packet:?}: {e}"));
                        self.sent_bytes += self.outbox.len() - before;
                        self.sent.push(packet);
                    } else {
                        self.dropped.push(packet);
                        if let Some(id) = release_packet_id_if_send_error {
                            queue.extend(self.conn.release_packet_id(id));
                        }
                    }
                }
                GenericEvent::NotifyPacketReceived(packet) => self.received.push(packet),
                GenericEvent::NotifyPacketIdReleased(id) => self.released.push(id),
                GenericEvent::RequestTimerReset { kind, duration } => {
                    self.timer_log.push(TimerOp::Reset(kind, duration));
                }
                GenericEvent::RequestTimerCancel(kind) => {
                    self.timer_log.push(TimerOp::Cancel(kind));
                }
                GenericEvent::NotifyError(error) => self.errors.push(error),
                GenericEvent::RequestClose => self.close_requested = true,
            }
        }
    }

    /// How long after `now` `kind` fires, if it is armed.
    pub fn timer(&self, kind: TimerKind, now: MonotonicTime) -> Option<Duration> {
        self.timers
            .deadline(kind)
            .map(|deadline| deadline.saturating_duration_since(now))
    }

    /// The PUBLISH packets this side received, as views.
    pub fn publishes(&self) -> Vec<PubView<P>> {
        publishes(&self.received)
    }

    /// Forgets what was recorded (packets, errors, releases, timer log), not
    /// the armed timers.
    pub fn clear_records(&mut self) {
        self.sent.clear();
        self.dropped.clear();
        self.received.clear();
        self.released.clear();
        self.errors.clear();
        self.timer_log.clear();
    }
}
