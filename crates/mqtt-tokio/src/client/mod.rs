//! [`Client`]: the high-level MQTT client. Topic-level publish and
//! subscribe that resolve with the broker's answer, received messages as
//! [`Message`]s, automatic reconnection that resumes the session. Under it,
//! [`ClientEndpoint`] speaks packet by packet.

mod connect;
mod messages;
mod options;
mod state;
mod supervisor;
#[cfg(test)]
mod tests;
mod transport;

use std::sync::Arc;

use bytes::Bytes;
use mqtt_codec::v5_0::SubscriptionOptions;
use mqtt_codec::{IntoTopicName, Message, QoS, TopicFilter};
use tokio::sync::oneshot;

pub use crate::driver::tracker::{Delivered, Granted};
pub use connect::{ClientEndpoint, IntoConnect};
pub use messages::Messages;
pub use mqtt_core::Reconnect;
pub use options::ClientOptions;
pub use state::{ClientState, StateWatch};

use crate::driver::{Command, Handover, Reply};
use crate::queue::{self, TrySendError};
use crate::Error;
use supervisor::Supervisor;

/// A high-level MQTT client over TCP, v5.0 or v3.1.1: a cloneable handle,
/// usable from many tasks. Publishing and subscribing resolve with the
/// broker's answer; received messages come from [`Messages`]; a lost
/// connection is re-established with backoff, the session resumed, and
/// unacknowledged QoS 1 and 2 messages sent again [MQTT-4.4.0-1].
///
/// ```no_run
/// use std::time::Duration;
/// use mqtt_tokio::prelude::*;
///
/// # async fn watch() -> Result<(), mqtt_tokio::Error> {
/// let options = ClientOptions::new("mqtt://127.0.0.1:1883")?
///     .client_id("meter-7")
///     .reconnect(Reconnect::new(Duration::from_millis(200), Duration::from_secs(60)));
/// let (client, _messages) = Client::connect(options).await?;
/// let mut state = client.watch_state();
/// loop {
///     match state.changed().await {
///         ClientState::Reconnecting { delay, reason, .. } => println!("lost ({reason:?}), again in {delay:?}"),
///         ClientState::Connected { session_present } => println!("back, session kept: {session_present}"),
///         _ => break,
///     }
/// }
/// # Ok(())
/// # }
/// ```
///
/// Messages published while the connection is down wait (the command
/// channel holds [`Config::command_capacity`](crate::Config::command_capacity)
/// calls; a `publish` past it waits, [`try_publish`](Self::try_publish)
/// errs with [`Error::Full`]). With
/// [`ConnectionOptions::offline_publish`](mqtt_core::ConnectionOptions::offline_publish),
/// QoS 1 and 2 messages are kept in the session instead and leave on the
/// next connection.
#[derive(Clone)]
pub struct Client {
    tx: queue::Sender<Command<u16>>,
    state: Arc<state::StateCell>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.state.get().1)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the broker of `options` and returns once its CONNACK
    /// accepted the connection, with the handle and the receiver of
    /// messages. Later losses of the connection are handled by
    /// reconnection (see [`ClientOptions::reconnect`]); this first attempt
    /// is not retried.
    ///
    /// Errs with [`Error::Io`] when no broker answers at the address (kind
    /// `ConnectionRefused`, or `TimedOut` past
    /// [`ClientOptions::connect_timeout`]), [`Error::Refused`] with the
    /// CONNACK's code when the broker refuses, [`Error::Connection`] when
    /// it breaks the protocol.
    pub async fn connect(options: ClientOptions) -> Result<(Client, Messages), Error> {
        let (handover, tx, rx) = Handover::new(&options.config, options.settings.resubscribe);
        let conn = mqtt_core::GenericConnection::with_options(
            options.protocol_version(),
            options.settings.connection_options(),
        );
        let state = state::StateCell::new();
        let supervisor = Supervisor::new(options, state.clone());
        let (first, connected) = oneshot::channel();
        tokio::spawn(supervisor.run(Box::new((conn, handover)), Some(first)));
        connected.await.unwrap_or(Err(Error::Closed))?;
        let client = Client { tx, state };
        Ok((client, Messages { rx }))
    }

    /// Publishes `payload` to `topic` at `qos` (the retained message of the
    /// topic when `retain`), and returns when its flow ends: at its PUBACK
    /// (QoS 1) or PUBCOMP (QoS 2); a QoS 0 message, which nothing
    /// acknowledges (§4.3.1), as soon as it is queued for the connection
    /// (no wait for the client's task). Across a lost connection it keeps
    /// waiting: the session sends it again.
    ///
    /// Errs with [`Error::Topic`] on an invalid Topic Name, with
    /// [`Error::Rejected`] when the broker's acknowledgement carries a
    /// failing Reason Code (v5.0), [`Error::Send`] when the connection
    /// refuses it (over the broker's Maximum Packet Size or Maximum QoS,
    /// say; for QoS 0 such a refusal comes after the return, and is only
    /// logged, at debug level), [`Error::NotDelivered`] when its session was
    /// lost, and [`Error::Closed`] when the client ended.
    pub async fn publish(
        &self,
        topic: impl IntoTopicName,
        qos: QoS,
        retain: bool,
        payload: impl Into<Bytes>,
    ) -> Result<Delivered, Error> {
        let message = Message::from_parts(topic, qos, retain, payload)?;
        self.publish_message(message).await
    }

    /// [`publish`](Self::publish) of a [`Message`], with its v5.0
    /// properties (a v3.1.1 connection sends without them).
    pub async fn publish_message(&self, message: Message) -> Result<Delivered, Error> {
        if message.qos() == QoS::AtMostOnce {
            self.send_unanswered(message).await?;
            return Ok(Delivered::Sent);
        }
        self.ask(|reply| Command::PublishAcked { message, reply })
            .await
    }

    /// Sends the command `make` builds and waits for the driver's answer.
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command<u16>) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| Error::Closed)?;
        answer.await.unwrap_or(Err(Error::Closed))
    }

    /// Hands the message to the client without waiting for the broker:
    /// returns once it is queued for the connection (waiting only for
    /// room in the command channel). Its outcome is not reported.
    pub async fn publish_nowait(
        &self,
        topic: impl IntoTopicName,
        qos: QoS,
        retain: bool,
        payload: impl Into<Bytes>,
    ) -> Result<(), Error> {
        let message = Message::from_parts(topic, qos, retain, payload)?;
        self.send_unanswered(message).await
    }

    /// Queues `message` for the connection, nobody waiting for its outcome.
    async fn send_unanswered(&self, message: Message) -> Result<(), Error> {
        let command = unanswered(message);
        self.tx.send(command).await.map_err(|_| Error::Closed)
    }

    /// [`publish_nowait`](Self::publish_nowait) that never waits: errs with
    /// [`Error::Full`] when the command channel is full (the connection is
    /// down, or the broker slower than the application).
    pub fn try_publish(
        &self,
        topic: impl IntoTopicName,
        qos: QoS,
        retain: bool,
        payload: impl Into<Bytes>,
    ) -> Result<(), Error> {
        let command = unanswered(Message::from_parts(topic, qos, retain, payload)?);
        self.tx.try_send(command).map_err(|e| match e {
            TrySendError::Full(_) => Error::Full,
            TrySendError::Closed(_) => Error::Closed,
        })
    }

    /// Subscribes to `filter` with maximum QoS `qos` and returns the QoS
    /// the broker granted. The subscription is made again when a
    /// reconnection finds no session.
    ///
    /// Errs with [`Error::Topic`] on an invalid Topic Filter,
    /// [`Error::Rejected`] with the SUBACK's failure code, [`Error::Closed`]
    /// when the connection was lost before the SUBACK (SUBSCRIBE is not
    /// sent again, §4.4: call again) or the client ended.
    pub async fn subscribe(&self, filter: &str, qos: QoS) -> Result<QoS, Error> {
        let granted = self.subscribe_many([(filter, qos.into())]).await?;
        match granted.first() {
            Some(Ok(qos)) => Ok(*qos),
            Some(Err(code)) => Err(Error::Rejected(*code)),
            None => Err(Error::Closed),
        }
    }

    /// Subscribes to several filters in one SUBSCRIBE (v5.0 options: No
    /// Local, Retain As Published, Retain Handling; v3.1.1 sends the QoS
    /// only) and returns the broker's answer to each, in order.
    pub async fn subscribe_many<'a>(
        &self,
        subscriptions: impl IntoIterator<Item = (&'a str, SubscriptionOptions)>,
    ) -> Result<Vec<Granted>, Error> {
        let subscriptions = subscriptions
            .into_iter()
            .map(|(filter, options)| Ok((TopicFilter::try_from(filter)?, options)))
            .collect::<Result<Vec<_>, Error>>()?;
        self.ask(|reply| Command::Subscribe {
            subscriptions,
            reply,
        })
        .await
    }

    /// Unsubscribes from `filter`; it is no longer made again on
    /// reconnection. Errs with [`Error::Rejected`] on a failing UNSUBACK
    /// Reason Code (v5.0), else like [`subscribe`](Self::subscribe).
    pub async fn unsubscribe(&self, filter: &str) -> Result<(), Error> {
        let filters = vec![TopicFilter::try_from(filter)?];
        let codes = self
            .ask(|reply| Command::Unsubscribe { filters, reply })
            .await?;
        match codes.first() {
            Some(&code) if code >= 0x80 => Err(Error::Rejected(code)),
            _ => Ok(()),
        }
    }

    /// The client's state now.
    pub fn state(&self) -> ClientState {
        self.state.get().1
    }

    /// A [`StateWatch`] to wait for the state's changes (from the state
    /// now).
    pub fn watch_state(&self) -> StateWatch {
        StateWatch {
            cell: self.state.clone(),
            seen: self.state.get().0,
        }
    }

    /// Ends the client: no more reconnections; if connected, the
    /// messages waiting in the session for the broker's Receive Maximum go
    /// out (within [`Config::close_timeout`](crate::Config::close_timeout)),
    /// then DISCONNECT. Calls still waiting get [`Error::Closed`], and
    /// [`Messages::recv`] returns `None` once the received messages are
    /// taken. Returns when the network connection is closed.
    pub async fn disconnect(&self) -> Result<(), Error> {
        self.state.ask_stop();
        let (reply, answer) = oneshot::channel();
        if self.tx.send(Command::Close(reply)).await.is_ok() {
            // Dropped unanswered when the client was between connections.
            let _ = answer.await;
        }
        let closed = |s: &ClientState| matches!(s, ClientState::Closed { .. });
        self.watch_state().wait_for(closed).await;
        Ok(())
    }
}

/// The command of a publish whose outcome nobody waits for.
fn unanswered(message: Message) -> Command<u16> {
    Command::Publish {
        message,
        reply: None,
    }
}
