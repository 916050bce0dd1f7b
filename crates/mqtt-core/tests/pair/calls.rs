//! The application's calls on either side of the pair: sends that must
//! succeed, and sends that must be refused without changing anything.

use mqtt_codec::{GenericPacket, Message, PacketId};
use mqtt_core::role::Role;
use mqtt_core::{GenericEvent, SendError};

use super::{assert_unchanged, Pair, Side};

impl<P: PacketId, C: Role, S: Role> Pair<P, C, S> {
    /// Sends `packet` from `side` through `GenericConnection::send` and
    /// handles the events; does not drive the link. Panics if the
    /// connection refuses it (see [`refuse`](Self::refuse)).
    pub fn send(&mut self, side: Side, packet: GenericPacket<P>) {
        if let Err(error) = self.try_send(side, packet.clone()) {
            panic!(
                "{side:?} refused to send {packet:?}: {error} ({})",
                error.rule()
            );
        }
    }

    /// Sends `packet` from `side` and handles the events, or returns the
    /// refusal.
    pub fn try_send(&mut self, side: Side, packet: GenericPacket<P>) -> Result<(), SendError> {
        let (link_up, now) = (self.link_up, self.now);
        with_side!(self, side, ep => {
            let events = ep.conn.send(packet)?;
            ep.handle(link_up, now, events);
        });
        Ok(())
    }

    /// Sends `packet` from `side`, which must refuse it, and checks that the
    /// refusal changed nothing: the connection (session, packet
    /// identifiers, state, timers, aliases) is as before. Returns the error.
    pub fn refuse(&mut self, side: Side, packet: GenericPacket<P>) -> SendError {
        let before = self.snapshot(side);
        let error = match self.try_send(side, packet.clone()) {
            Ok(()) => panic!("{side:?} sent {packet:?}, which it should refuse"),
            Err(error) => error,
        };
        assert_unchanged(
            &before,
            &self.snapshot(side),
            &format!("{side:?}, {packet:?}, {error}"),
        );
        error
    }

    /// Publishes `message` from `side` through `GenericConnection::publish`
    /// and handles the events; returns the packet identifier the
    /// connection gave it. Panics if it is refused.
    pub fn publish(&mut self, side: Side, message: Message) -> Option<P> {
        match self.try_publish(side, message.clone()) {
            Ok(id) => id,
            Err(error) => panic!("{side:?} refused to publish {message:?}: {error}"),
        }
    }

    /// Publishes `message` from `side` and handles the events, or returns
    /// the refusal.
    pub fn try_publish(&mut self, side: Side, message: Message) -> Result<Option<P>, SendError> {
        let (link_up, now) = (self.link_up, self.now);
        with_side!(self, side, ep => {
            let published = ep.conn.publish(message)?;
            ep.handle(link_up, now, published.events);
            Ok(published.packet_id)
        })
    }

    /// Publishes `message` from `side`, which must refuse it, changing
    /// nothing (as [`refuse`](Self::refuse)). Returns the error.
    pub fn refuse_publish(&mut self, side: Side, message: Message) -> SendError {
        let before = self.snapshot(side);
        let error = match self.try_publish(side, message.clone()) {
            Ok(id) => panic!("{side:?} published {message:?} as {id:?}; it should refuse"),
            Err(error) => error,
        };
        assert_unchanged(
            &before,
            &self.snapshot(side),
            &format!("{side:?}, {message:?}, {error}"),
        );
        error
    }

    /// Acknowledges the received PUBLISH `id` on `side`
    /// (`GenericConnection::acknowledge`) and handles the events.
    pub fn acknowledge(&mut self, side: Side, id: P) {
        let (link_up, now) = (self.link_up, self.now);
        with_side!(self, side, ep => {
            let events = ep
                .conn
                .acknowledge(id)
                .unwrap_or_else(|e| panic!("{side:?} cannot acknowledge {id:?}: {e}"));
            ep.handle(link_up, now, events);
        })
    }

    /// The whole state of `side`'s connection, to compare before and after
    /// a call that must change nothing.
    pub fn snapshot(&self, side: Side) -> String {
        match side {
            Side::Client => format!("{:?}", self.client.conn),
            Side::Server => format!("{:?}", self.server.conn),
        }
    }

    /// Handles `events`, returned by a call the test made on `side`'s
    /// connection itself, as the driver does.
    pub fn handle(&mut self, side: Side, events: Vec<GenericEvent<P>>) {
        let (link_up, now) = (self.link_up, self.now);
        with_side!(self, side, ep => ep.handle(link_up, now, events))
    }
}
