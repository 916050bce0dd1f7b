//! The commands of the endpoint handles: sending, publishing,
//! acknowledging, packet identifiers, status, close.

use mqtt_codec::v5_0::SubscriptionOptions;
use mqtt_codec::{
    v3_1_1, v5_0, GenericPacket, Message, PacketId, ProtocolVersion, QoS, TopicFilter,
};
use mqtt_core::role::Role;
use mqtt_core::{ConnectionState, SendError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::tracker::{self, Delivered, Granted};
use super::{Answer, Command, Driver, Reply, COMMAND_BATCH};
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
            let closing = self.closing.is_some() || self.draining.is_some();
            if closing || self.out.len() >= self.config.write_high_water {
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
                packet,
                assign_id,
                reply,
            } => {
                let forward = reply.is_none();
                let result = self.send_packet(packet, assign_id);
                if forward && result.is_err() {
                    self.drop_forwarded(&result);
                }
                answer(reply, result);
            }
            Command::Publish { message, reply } => {
                let result = self.publish_now(message);
                if reply.is_none() && result.is_err() {
                    self.drop_forwarded(&result);
                }
                answer(reply, result);
            }
            Command::Acknowledge(id, with) => {
                if let Err(e) = self.acknowledge(id, with) {
                    tracing::debug!(error = %e, "acknowledgement refused");
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
                self.close_when_sent();
            }
            Command::PublishAcked { message, reply } => self.publish_tracked(message, reply),
            Command::Subscribe {
                subscriptions,
                reply,
            } => self.subscribe(subscriptions, Some(reply)),
            Command::Unsubscribe { filters, reply } => self.unsubscribe(filters, reply),
        }
    }

    /// Publishes `message`; `reply` gets the end of its flow: at once for
    /// QoS 0 or a refusal, else with its PUBACK, PUBCOMP or failing PUBREC.
    fn publish_tracked(&mut self, message: Message, reply: Reply<Delivered>) {
        match (self.publish_now(message), &mut self.tracker) {
            (Ok(Some(id)), Some(tracker)) => tracker.get().wait_publish(id, reply),
            (Ok(_), _) => {
                let _ = reply.send(Ok(Delivered::Sent));
            }
            (Err(e), _) => {
                let _ = reply.send(Err(e));
            }
        }
    }

    /// Sends a SUBSCRIBE for `subscriptions` with a new identifier; `reply`
    /// (`None`: a subscription made again after a reconnection) gets the
    /// SUBACK's answers.
    pub(crate) fn subscribe(
        &mut self,
        subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
        reply: Option<Reply<Vec<Granted>>>,
    ) {
        let sent =
            self.send_request(|version, id| tracker::subscribe_packet(version, id, &subscriptions));
        match (sent, &mut self.tracker) {
            (Ok(id), Some(tracker)) => tracker.get().wait_subscribe(id, subscriptions, reply),
            (Ok(_), None) => {}
            (Err(e), _) => {
                tracing::debug!(error = %e, "SUBSCRIBE refused");
                if let Some(reply) = reply {
                    let _ = reply.send(Err(e));
                }
            }
        }
    }

    /// Sends an UNSUBSCRIBE for `filters`; `reply` gets the UNSUBACK's
    /// Reason Codes.
    fn unsubscribe(&mut self, filters: Vec<TopicFilter>, reply: Reply<Vec<u8>>) {
        let sent =
            self.send_request(|version, id| tracker::unsubscribe_packet(version, id, &filters));
        match (sent, &mut self.tracker) {
            (Ok(id), Some(tracker)) => tracker.get().wait_unsubscribe(id, filters, reply),
            (Ok(_), None) => {}
            (Err(e), _) => {
                let _ = reply.send(Err(e));
            }
        }
    }

    /// Sends the packet `make` builds with a new packet identifier; gives
    /// the identifier back when it is refused.
    fn send_request(
        &mut self,
        make: impl FnOnce(ProtocolVersion, P) -> Result<GenericPacket<P>, Error>,
    ) -> Result<P, Error> {
        let version = self.conn.version().ok_or(Error::Closed)?;
        let id = self.conn.acquire_packet_id()?;
        let sent = make(version, id).and_then(|packet| self.send_now(packet));
        if sent.is_err() {
            let _ = self.conn.release_packet_id(id);
        }
        sent.map(|()| id)
    }

    /// [`Endpoint::abort`](crate::Endpoint::abort): drops the transport at
    /// once, without DISCONNECT and without writing what is buffered.
    pub(super) fn abort_now(&mut self) {
        tracing::debug!("aborting the network connection");
        self.out.clear();
        self.eof = true;
        self.closing = Some(Instant::now());
    }

    /// Sends `packet`, a QoS 1 or 2 PUBLISH with a packet identifier taken
    /// from the connection when `assign_id` (given back if the packet is
    /// refused). Returns the PUBLISH's identifier.
    fn send_packet(
        &mut self,
        mut packet: GenericPacket<P>,
        assign_id: bool,
    ) -> Result<Option<P>, Error> {
        let qos = packet.publish_qos();
        let id = match qos {
            Some(QoS::AtLeastOnce | QoS::ExactlyOnce) if assign_id => {
                let id = self.conn.acquire_packet_id()?;
                match &mut packet {
                    GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => p.set_packet_id(id),
                    GenericPacket::V5_0(v5_0::Packet::Publish(p)) => p.set_packet_id(id),
                    _ => {}
                }
                Some(id)
            }
            Some(QoS::AtLeastOnce | QoS::ExactlyOnce) => publish_id(&packet),
            _ => None,
        };
        let sent = self.send_now(packet);
        if let (Err(_), Some(id), true) = (&sent, id, assign_id) {
            let _ = self.conn.release_packet_id(id);
        }
        sent.map(|()| id)
    }

    /// Hands `packet` to the connection and handles the events; errs with
    /// the connection's refusal (nothing sent).
    pub(super) fn send_now(&mut self, packet: GenericPacket<P>) -> Result<(), Error> {
        self.now();
        match self.conn.send(packet) {
            Ok(events) => {
                self.handle(events);
                Ok(())
            }
            Err(e) => {
                tracing::debug!(error = %e, "packet refused");
                Err(Error::Send(e))
            }
        }
    }

    /// Publishes `message`, numbered by the connection: sent now, or queued
    /// in its session beyond the peer's Receive Maximum.
    fn publish_now(&mut self, message: Message) -> Result<Option<P>, Error> {
        self.now();
        let mut events = std::mem::take(&mut self.scratch);
        let published = self.conn.publish_into(message, &mut events);
        self.handle_drain(&mut events);
        self.scratch = events;
        match published {
            Ok(packet_id) => Ok(packet_id),
            Err(e) => {
                tracing::debug!(error = %e, "message refused");
                Err(Error::Send(e))
            }
        }
    }

    /// Acknowledges the received PUBLISH `id`, with `with` (v5.0) if given.
    pub(super) fn acknowledge(&mut self, id: P, with: Option<Answer>) -> Result<(), SendError> {
        self.now();
        let events = match with {
            None => self.conn.acknowledge(id)?,
            Some(answer) => {
                let (code, properties) = *answer;
                self.conn.acknowledge_with(id, code, properties)?
            }
        };
        self.handle(events);
        Ok(())
    }

    /// The status answered to [`Endpoint::status`](crate::Endpoint::status).
    pub(super) fn status(&self) -> Status {
        let mut status = Status::of(&self.conn);
        status.dropped = self.dropped;
        status.refused = self.refused;
        status
    }

    /// Counts a forwarded packet or message that will not be sent.
    fn drop_forwarded<T>(&mut self, result: &Result<T, Error>) {
        self.dropped += 1;
        if let Err(e) = result {
            tracing::debug!(error = %e, "forwarded packet dropped");
        }
    }

    /// The network connection is closed: a forwarded PUBLISH not sent yet
    /// goes into the session's queue (with `offline_publish` on; QoS 0 per
    /// the session's policy), else it is dropped and counted.
    pub(super) fn keep_forwarded(&mut self, packet: GenericPacket<P>) {
        let result = self.send_packet(packet, true);
        if result.is_err() {
            self.drop_forwarded(&result);
        }
    }

    /// [`keep_forwarded`](Self::keep_forwarded) for a message.
    pub(super) fn keep_forwarded_message(&mut self, message: Message) {
        let result = self.publish_now(message);
        if result.is_err() {
            self.drop_forwarded(&result);
        }
    }

    /// A graceful close: once the messages waiting in the session's queue
    /// for send quota have gone out (acknowledgements keep arriving), at
    /// most [`Config::close_timeout`](crate::Config::close_timeout) from the
    /// first call, [`start_close`](Self::start_close). Takes no more
    /// commands meanwhile.
    pub(super) fn close_when_sent(&mut self) {
        let connected = self.conn.state() == ConnectionState::Connected && !self.eof;
        if connected && self.conn.session().queue_len() > 0 {
            let deadline = Instant::now() + self.config.close_timeout;
            self.draining.get_or_insert(deadline);
        } else {
            self.start_close();
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

/// The packet identifier of a PUBLISH.
fn publish_id<P: PacketId>(packet: &GenericPacket<P>) -> Option<P> {
    match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Publish(p)) => p.packet_id(),
        GenericPacket::V5_0(v5_0::Packet::Publish(p)) => p.packet_id(),
        _ => None,
    }
}
