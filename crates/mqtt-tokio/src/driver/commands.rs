//! The commands of the endpoint handles: sending (with the wait for send
//! quota), packet identifiers, status, close.

use mqtt_codec::{v3_1_1, v5_0, GenericPacket, PacketId, ProtocolVersion, QoS};
use mqtt_core::role::Role;
use mqtt_core::{ConnectionError, ConnectionState, GenericEvent};
use mqtt_session::SessionError;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::{publish_id, Command, Driver, Reply, SendReply, COMMAND_BATCH};
use crate::{Error, Status};

/// Answers a command, unless it was a forward.
fn answer<T>(reply: Option<Reply<T>>, result: Result<T, Error>) {
    if let Some(reply) = reply {
        let _ = reply.send(result);
    }
}

impl<R, P, S> Driver<R, P, S>
where
    R: Role,
    P: PacketId + Send + 'static,
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    /// Takes the commands already waiting, so that their packets leave in
    /// one write.
    pub(super) fn drain_commands(&mut self) {
        for _ in 0..COMMAND_BATCH {
            if self.closing.is_some() || self.out.len() >= self.config.write_high_water {
                return;
            }
            match self.cmd_rx.try_recv() {
                Some(cmd) => self.on_command(cmd),
                None => return,
            }
        }
    }

    pub(super) fn on_command(&mut self, cmd: Command<P>) {
        match cmd {
            Command::Send {
                mut packet,
                wait,
                assign_id,
                reply,
            } => {
                let qos = packet.publish_qos();
                let blocked = qos.is_some_and(|qos| {
                    !self.waiting.is_empty() || (qos != QoS::AtMostOnce && !self.has_quota())
                });
                if blocked && !wait {
                    answer(reply, Err(Error::Full));
                    return;
                }
                if blocked && reply.is_none() && self.waiting.len() >= self.config.max_waiting {
                    self.drop_forwarded("too many forwarded packets wait for send quota");
                    return;
                }
                if assign_id {
                    if let Err(e) = self.assign_id(&mut packet) {
                        if reply.is_none() {
                            tracing::debug!(error = %e, "forwarded packet refused");
                            self.drop_forwarded("forwarded packet refused");
                        }
                        answer(reply, Err(e));
                        return;
                    }
                }
                if blocked {
                    self.waiting.push_back((packet, reply));
                } else {
                    self.send_or_wait(packet, wait, reply);
                }
            }
            Command::AcquirePacketId(reply) => {
                let _ = reply.send(self.conn.acquire_packet_id().map_err(Error::from));
            }
            Command::ReleasePacketId(id) => {
                let events = self.conn.release_packet_id(id);
                self.handle(events);
            }
            Command::Status(reply) => {
                let _ = reply.send(Ok(self.status()));
            }
            Command::ImportSession(bytes, reply) => {
                self.now();
                let _ = reply.send(self.conn.import_session(&bytes).map_err(Error::from));
            }
            Command::Close(reply) => {
                self.close_replies.push(reply);
                self.start_close();
            }
        }
    }

    /// [`Endpoint::abort`](crate::Endpoint::abort): drops the transport at
    /// once, without DISCONNECT and without writing what is buffered.
    pub(super) fn abort_now(&mut self) {
        tracing::debug!("aborting the network connection");
        self.out.clear();
        self.eof = true;
        self.closing = Some(Instant::now());
    }

    /// Gives a QoS 1 or 2 PUBLISH a packet identifier from the connection.
    pub(super) fn assign_id(&mut self, packet: &mut GenericPacket<P>) -> Result<(), Error> {
        let qos = packet
            .publish_qos()
            .ok_or(Error::Connection(ConnectionError::InvalidCall(
                "only a PUBLISH gets its packet identifier assigned",
            )))?;
        if qos == QoS::AtMostOnce {
            return Ok(());
        }
        let id = self.conn.acquire_packet_id()?;
        match packet {
            GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => p.set_packet_id(id),
            GenericPacket::V5_0(v5_0::Packet::Publish(p)) => p.set_packet_id(id),
            _ => {}
        }
        Ok(())
    }

    /// Hands `packet` to the connection; the first error it reports is the
    /// answer (nothing was sent), the other events are handled.
    pub(super) fn send_now(&mut self, packet: GenericPacket<P>) -> Result<(), Error> {
        self.now();
        let mut events = self.conn.send(packet);
        let error = events
            .iter()
            .position(|e| matches!(e, GenericEvent::NotifyError(_)));
        let result = match error.map(|i| events.remove(i)) {
            Some(GenericEvent::NotifyError(e)) => {
                tracing::debug!(error = %e, "packet refused");
                Err(Error::Connection(e))
            }
            _ => Ok(()),
        };
        self.handle(events);
        result
    }

    /// Sends `packet`; a PUBLISH refused for want of send quota (the
    /// session still re-sends stored messages) waits at the front of the
    /// queue when `wait`, keeping its packet identifier. Returns whether
    /// it was answered.
    pub(super) fn send_or_wait(
        &mut self,
        packet: GenericPacket<P>,
        wait: bool,
        reply: SendReply<P>,
    ) -> bool {
        let id = publish_id(&packet);
        let retry = wait.then(|| packet.clone());
        match (self.send_now(packet), retry, id) {
            (
                Err(Error::Connection(ConnectionError::Session(SessionError::QuotaExceeded))),
                Some(packet),
                Some(id),
            ) => {
                // The connection released the identifier it refused; the
                // driver runs one command at a time, so it is still free.
                let _ = self.conn.register_packet_id(id);
                self.waiting.push_front((packet, reply));
                false
            }
            (r, _, id) => {
                if r.is_err() && reply.is_none() {
                    self.drop_forwarded("forwarded packet refused");
                }
                answer(reply, r.map(|()| id));
                true
            }
        }
    }

    /// Sends the PUBLISH packets that wait for quota, in order, as far as
    /// the quota allows.
    pub(super) fn pump_waiting(&mut self) {
        while let Some((packet, _)) = self.waiting.front() {
            let needs = packet.publish_qos().is_some_and(|q| q != QoS::AtMostOnce);
            if needs && !self.has_quota() {
                return;
            }
            let Some((packet, reply)) = self.waiting.pop_front() else {
                return;
            };
            if !self.send_or_wait(packet, true, reply) {
                return;
            }
        }
    }

    /// The status answered to [`Endpoint::status`](crate::Endpoint::status).
    pub(super) fn status(&self) -> Status {
        let mut status = Status::of(&self.conn);
        status.dropped = self.dropped;
        status
    }

    /// Counts a forwarded packet that will not be sent.
    pub(super) fn drop_forwarded(&mut self, why: &'static str) {
        self.dropped += 1;
        tracing::debug!(why, "forwarded packet dropped");
    }

    /// The network connection is closed: a forwarded PUBLISH not sent yet
    /// goes into the session's queue (with `offline_publish` on; QoS 0 per
    /// the session's policy), else it is dropped and counted.
    pub(super) fn keep_forwarded(&mut self, packet: GenericPacket<P>) {
        let events = self.conn.send(packet);
        if events
            .iter()
            .any(|e| matches!(e, GenericEvent::NotifyError(_)))
        {
            self.drop_forwarded("forwarded packet not queued after the close");
        }
    }

    /// Sends DISCONNECT where the connection may send one (it refuses
    /// otherwise: a v3.1.1 Server, or before CONNACK), then closes.
    pub(super) fn start_close(&mut self) {
        if self.closing.is_some() {
            return;
        }
        let disconnect = match self.conn.version() {
            Some(ProtocolVersion::V3_1_1) => Some(GenericPacket::V3_1_1(
                v3_1_1::Packet::Disconnect(v3_1_1::Disconnect),
            )),
            Some(ProtocolVersion::V5_0) => Some(GenericPacket::V5_0(
                v5_0::Disconnect::new(v5_0::DisconnectReasonCode::NormalDisconnection).into(),
            )),
            _ => None,
        };
        if let (Some(d), ConnectionState::Connected) = (disconnect, self.conn.state()) {
            let _ = self.send_now(d);
        }
        if self.closing.is_none() {
            self.closing = Some(Instant::now() + self.config.close_timeout);
        }
    }
}
