//! Keep alive timers (§3.1.2.10, §3.12, §3.13), and the end of a network
//! connection.

use core::time::Duration;

use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, ProtocolVersion};

use super::protocol_error::disconnect_with;
use super::GenericConnection;
use crate::role::{Role, RoleKind};
use crate::{ConnectionError, ConnectionState, GenericEvent, TimerKind};

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    /// Asks the driver to (re)start `kind`.
    pub(super) fn reset_timer(
        &mut self,
        kind: TimerKind,
        duration: Duration,
        events: &mut Vec<GenericEvent<P>>,
    ) {
        self.keep_alive.reset(kind, duration, events);
    }

    /// Asks the driver to stop `kind`, if it was started.
    pub(super) fn cancel_timer(&mut self, kind: TimerKind, events: &mut Vec<GenericEvent<P>>) {
        self.keep_alive.cancel(kind, events);
    }

    /// The Client's PINGREQ interval: the option, else the Keep Alive in
    /// force [MQTT-3.2.2-21]; `None` for none.
    pub(super) fn ping_interval(&self) -> Option<Duration> {
        let interval = self
            .options
            .pingreq_send_interval
            .unwrap_or(Duration::from_secs(u64::from(self.keep_alive())));
        (!interval.is_zero()).then_some(interval)
    }

    /// The Server's receive timeout: one and a half times the Keep Alive in
    /// force [MQTT-3.1.2-22] (v5.0), [MQTT-3.1.2-24] (v3.1.1).
    fn recv_timeout(&self) -> Option<Duration> {
        let keep_alive = self.keep_alive();
        (keep_alive > 0).then(|| Duration::from_millis(u64::from(keep_alive) * 1500))
    }

    /// Client, connected: restarts the PINGREQ timer after a packet was sent.
    #[inline]
    pub(super) fn rearm_pingreq_send(&mut self, events: &mut Vec<GenericEvent<P>>) {
        if self.role == RoleKind::Client && self.state == ConnectionState::Connected {
            if let Some(interval) = self.ping_interval() {
                self.reset_timer(TimerKind::PingreqSend, interval, events);
            }
        }
    }

    /// Server: restarts (or, with Keep Alive 0, stops) the receive timeout,
    /// after a packet arrived or the Keep Alive changed.
    #[inline]
    pub(super) fn rearm_pingreq_recv(&mut self, events: &mut Vec<GenericEvent<P>>) {
        if self.role == RoleKind::Server {
            match self.recv_timeout() {
                Some(timeout) => self.reset_timer(TimerKind::PingreqRecv, timeout, events),
                None => self.cancel_timer(TimerKind::PingreqRecv, events),
            }
        }
    }

    pub(super) fn timer_fired(&mut self, kind: TimerKind, events: &mut Vec<GenericEvent<P>>) {
        if !self.keep_alive.fired(kind) {
            // Cancelled, or never started: a late firing is ignored.
            return;
        }
        match kind {
            TimerKind::PingreqSend => {
                if self.role != RoleKind::Client || self.state != ConnectionState::Connected {
                    return;
                }
                // [MQTT-3.1.2-23] (v3.1.1), §3.1.2.10: nothing was sent for
                // the interval.
                let pingreq = match self.version {
                    Some(ProtocolVersion::V3_1_1) => {
                        GenericPacket::V3_1_1(v3_1_1::Packet::Pingreq(v3_1_1::Pingreq))
                    }
                    _ => GenericPacket::V5_0(v5_0::Packet::Pingreq(v5_0::Pingreq)),
                };
                if let Err(error) = self.try_send(pingreq, events) {
                    events.push(GenericEvent::NotifyError(ConnectionError::Refused(error)));
                }
            }
            TimerKind::PingrespRecv => {
                if self.state == ConnectionState::Closed || !self.keep_alive.pingreq_outstanding() {
                    return;
                }
                // §3.1.2.10: the Client closes when no PINGRESP comes in a
                // reasonable time.
                events.push(GenericEvent::NotifyError(ConnectionError::PingrespTimeout));
                self.close(events);
            }
            TimerKind::PingreqRecv => {
                if self.state == ConnectionState::Closed {
                    return;
                }
                let error = ConnectionError::KeepAliveTimeout;
                // v5.0: DISCONNECT 0x8D once the CONNACK is sent
                // [MQTT-3.14.0-1]; before it, and on v3.1.1, just close
                // "as if the network had failed".
                let disconnect = self.version == Some(ProtocolVersion::V5_0)
                    && self.state == ConnectionState::Connected;
                events.push(GenericEvent::NotifyError(error));
                if disconnect {
                    events.push(GenericEvent::RequestSendPacket {
                        packet: disconnect_with(0x8D),
                        release_packet_id_if_send_error: None,
                    });
                }
                self.close(events);
            }
        }
    }

    pub(super) fn closed(&mut self, events: &mut Vec<GenericEvent<P>>) {
        self.cancel_all_timers(events);
        if self.session.is_connected() {
            self.session.on_disconnected(self.now);
        }
        self.discard_expired_session(events);
        // [MQTT-3.3.2-7]: aliases belong to one network connection.
        self.aliases.clear();
        self.acks.on_close();
        self.deferred.clear();
        self.keep_alive.closed();
        self.neg.reauthenticating = false;
        // A SUBSCRIBE or UNSUBSCRIBE is not re-sent: its answer never comes.
        for id in self.sub_requests.take_sent() {
            if self.session.release_packet_id(id) {
                events.push(GenericEvent::NotifyPacketIdReleased(id));
            }
        }
        self.state = ConnectionState::Disconnected;
        // A detecting connection forgets the version only when its session
        // holds nothing at all: received QoS 2 identifiers awaiting their
        // PUBREL are session state too [MQTT-4.3.3-10], and a session
        // holding them must be resumed as it is, in its version. With
        // offline publish on it keeps it too: a PUBLISH handed in while
        // disconnected is queued in that version, not refused.
        if self.detect && !self.options.offline_publish && self.session.is_empty() {
            self.version = None;
            self.decoder = mqtt_codec::Decoder::detect_version();
        } else if let Some(version) = self.version {
            self.decoder = mqtt_codec::Decoder::new(version);
        }
        self.apply_recv_limit();
    }
}

impl<R: Role, P: PacketId> GenericConnection<R, P> {
    /// At the end of a call: restarts the timers that what was sent or
    /// received restarts.
    pub(super) fn flush_timers(&mut self, events: &mut Vec<GenericEvent<P>>) {
        if self.keep_alive.take_sent() {
            self.rearm_pingreq_send(events);
        }
        if self.keep_alive.take_received()
            && matches!(
                self.state,
                ConnectionState::Connecting | ConnectionState::Connected
            )
        {
            self.rearm_pingreq_recv(events);
        }
    }
}
