//! The events a call of the connection returns, handled in order.

use mqtt_codec::wire::PacketType;
use mqtt_codec::PacketId;
use mqtt_core::role::Role;
use mqtt_core::{ConnectionError, ConnectionState, GenericEvent};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::tracker::{self, LazyTracker};
use super::{is_connack, Driver};
use crate::queue::TrySendError;
use crate::Error;

impl<R, P, S> Driver<R, P, S>
where
    R: Role,
    P: PacketId + Send + 'static,
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    /// Handles the events of one call, in order.
    pub(super) fn handle(&mut self, mut events: Vec<GenericEvent<P>>) {
        self.handle_drain(&mut events);
    }

    /// [`handle`](Self::handle), leaving `events` empty with its capacity
    /// (a buffer the driver reuses: no allocation per call).
    pub(super) fn handle_drain(&mut self, events: &mut Vec<GenericEvent<P>>) {
        for event in events.drain(..) {
            match event {
                GenericEvent::RequestSendPacket {
                    packet,
                    release_packet_id_if_send_error,
                } => {
                    if self.eof {
                        if let Some(id) = release_packet_id_if_send_error {
                            let _ = self.conn.release_packet_id(id);
                        }
                        continue;
                    }
                    tracing::trace!(packet_type = ?packet.packet_type(), "send");
                    match self.out.encode(&packet) {
                        Ok(n) => {
                            self.queued += n as u64;
                            if let Some(id) = release_packet_id_if_send_error {
                                self.out_ids.push_back((self.queued, id));
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "a packet could not be encoded");
                            if let Some(id) = release_packet_id_if_send_error {
                                let _ = self.conn.release_packet_id(id);
                            }
                        }
                    }
                }
                GenericEvent::NotifyPacketReceived(packet) => {
                    tracing::trace!(packet_type = ?packet.packet_type(), "received");
                    if self.connect_reply.is_some() && self.connack.is_none() && is_connack(&packet)
                    {
                        self.connack = Some(Box::new(packet));
                    } else if let Some(tracker) = &mut self.tracker {
                        // A high-level client: acknowledgements answer
                        // their callers, messages go to the application.
                        let publish = packet.packet_type() == PacketType::Publish;
                        if publish {
                            if !self.discard_incoming {
                                self.receive(packet);
                            }
                        } else if let Some(answer) =
                            tracker.made().and_then(|t| t.on_packet(&packet))
                        {
                            tracker::send(answer);
                        }
                    } else if !self.discard_incoming {
                        self.receive(packet);
                    }
                }
                GenericEvent::NotifyPacketIdReleased(id) => {
                    let tracker = self.tracker.as_mut().and_then(LazyTracker::made);
                    if let Some(answer) = tracker.and_then(|t| t.on_released(id)) {
                        tracker::send(answer);
                    }
                }
                timer @ (GenericEvent::RequestTimerReset { .. }
                | GenericEvent::RequestTimerCancel(_)) => {
                    self.timers.apply(&timer);
                }
                GenericEvent::NotifyError(ConnectionError::Refused(e)) => {
                    // A queued message refused as it left the queue: its
                    // flow ended, the connection goes on.
                    tracing::debug!(error = %e, "queued message refused");
                    self.refused += 1;
                }
                GenericEvent::NotifyError(e) => {
                    if e.reason_code().is_some() {
                        tracing::warn!(error = %e, "protocol error");
                    } else {
                        tracing::debug!(error = %e, "connection error");
                    }
                    self.last_error = Some(Box::new(e));
                }
                GenericEvent::RequestClose => {
                    if self.reason.is_none() {
                        self.reason = self.last_error.take().map(|e| Error::Connection(*e));
                    }
                    if self.closing.is_none() {
                        self.closing = Some(Instant::now() + self.config.close_timeout);
                    }
                }
            }
        }
        self.check_connected();
    }

    /// Hands a received packet to the application: straight into the
    /// incoming queue when nothing waits before it, else behind the
    /// pending ones.
    fn receive(&mut self, packet: mqtt_codec::GenericPacket<P>) {
        if !self.pending.is_empty() {
            self.pending.push_back(packet);
            return;
        }
        match self.incoming_tx.try_send(packet) {
            Ok(()) => {}
            Err(TrySendError::Full(packet)) => self.pending.push_back(packet),
            Err(TrySendError::Closed(_)) => self.discard_incoming = true,
        }
    }

    /// Client: answers `connect` once the CONNACK established the connection.
    pub(super) fn check_connected(&mut self) {
        if self.conn.state() != ConnectionState::Connected {
            return;
        }
        if let Some(reply) = self.connect_reply.take() {
            let session_present = self.conn.session_present();
            tracing::info!(version = ?self.conn.version(), session_present, "connected");
            // A new session has none of the client's subscriptions.
            let tracker = self.tracker.as_mut().and_then(LazyTracker::made);
            let again = tracker.and_then(|t| t.resubscriptions(session_present));
            if let Some(subscriptions) = again {
                self.subscribe(subscriptions, None);
            }
            match self.connack.take() {
                Some(connack) => {
                    let _ = reply.send(Ok(*connack));
                }
                None => {
                    // Whoever waits for the CONNACK takes the error as
                    // the end of the connection: so it is.
                    let _ = reply.send(Err(Error::Closed));
                    self.abort_now();
                }
            }
        }
    }
}
