//! [`Client`]: the high-level blocking MQTT client. Topic-level publish and
//! subscribe that return with the broker's answer, received messages as
//! [`Message`]s from [`Messages`], automatic reconnection that resumes the
//! session. The same shape as mqtt-tokio's `Client`, on std threads.

mod connect;
mod error;
mod io_thread;
mod mailbox;
mod messages;
mod options;
mod state;
mod supervisor;

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use bytes::Bytes;
use mqtt_codec::v5_0::SubscriptionOptions;
use mqtt_codec::{IntoTopicName, Message, QoS, TopicFilter};
use mqtt_core::tracker::{Answer, Waiters};
pub use mqtt_core::tracker::{Delivered, Granted};

pub use error::Error;
pub use messages::Messages;
pub use options::ClientOptions;
pub use state::{ClientState, StateWatch};

use mailbox::{Mailbox, Refused};
use state::StateCell;
use supervisor::Runner;

/// What the handles, the I/O thread and the reader threads share.
pub(crate) struct Shared {
    mailbox: Mailbox,
    state: StateCell,
    /// The I/O thread holds received messages that found
    /// [`Messages`] full: taking one wakes it.
    blocked: AtomicBool,
}

/// A reply channel (room for the one answer: sending never waits).
pub(crate) type Reply<T> = SyncSender<Result<T, Error>>;

/// What a handle asks the I/O thread.
pub(crate) enum Command {
    /// Publish; `reply`: `None` for [`Client::publish_nowait`].
    Publish {
        message: Message,
        reply: Option<Reply<Delivered>>,
    },
    Subscribe {
        subscriptions: Vec<(TopicFilter, SubscriptionOptions)>,
        reply: Reply<Vec<Granted>>,
    },
    Unsubscribe {
        filters: Vec<TopicFilter>,
        reply: Reply<Vec<u8>>,
    },
}

/// The reply channels as the tracker's waiters.
pub(crate) struct Replies;

impl Waiters for Replies {
    type Publish = Reply<Delivered>;
    type Subscribe = Reply<Vec<Granted>>;
    type Unsubscribe = Reply<Vec<u8>>;
}

/// Answers a caller (who may have stopped waiting).
fn reply<T>(reply: Reply<T>, result: Result<T, Error>) {
    let _ = reply.try_send(result);
}

/// Sends one of the tracker's answers.
fn send_answer(answer: Answer<Replies>) {
    match answer {
        Answer::Publish(r, result) => reply(r, result.map_err(Error::from)),
        Answer::Subscribe(r, result) => reply(r, result.map_err(Error::from)),
        Answer::Unsubscribe(r, result) => reply(r, result.map_err(Error::from)),
    }
}

/// A high-level MQTT client over TCP, v5.0 or v3.1.1, blocking: a
/// cloneable handle (`Send + Sync`), usable from many threads. Publishing
/// and subscribing return with the broker's answer; received messages come
/// from [`Messages`]; a lost connection is re-established with backoff
/// ([`Reconnect`](mqtt_core::Reconnect)), the session resumed, and
/// unacknowledged QoS 1 and 2 messages sent again [MQTT-4.4.0-1].
///
/// A background thread owns the socket and the core's connection; see
/// [`Client::connect`].
///
/// ```no_run
/// use mqtt_std::prelude::*;
///
/// let options = ClientOptions::new("mqtt://127.0.0.1:1883")?.client_id("meter-7");
/// let (client, messages) = Client::connect(options)?;
/// client.subscribe("sensors/#", QoS::AtLeastOnce)?;
/// client.publish("sensors/1", QoS::AtLeastOnce, false, "21.5")?; // PUBACK came
/// for message in messages.take(1) {
///     println!("{}: {:?}", message.topic_name(), message.payload());
/// }
/// client.disconnect()?;
/// # Ok::<(), mqtt_std::Error>(())
/// ```
///
/// Calls made while the connection is down wait in a bounded queue
/// ([`ClientOptions::command_capacity`]); a `publish` past it waits for
/// room, [`try_publish`](Self::try_publish) errs with [`Error::Full`].
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// Dropped with the last handle.
struct Inner {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.mailbox.handles_gone();
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the broker of `options` (TCP, CONNECT, CONNACK, within
    /// [`ClientOptions::connect_timeout`]) in the calling thread, then
    /// starts the client's I/O thread, and returns the handle and the
    /// receiver of messages. This first attempt is not retried; later
    /// losses of the connection are handled by reconnection
    /// ([`ClientOptions::reconnect`]).
    ///
    /// Errs with [`Error::Io`] when no broker answers at the address (kind
    /// `ConnectionRefused`, or `TimedOut` past the connect timeout),
    /// [`Error::Refused`] with the CONNACK's code when the broker refuses,
    /// [`Error::Connection`] when it breaks the protocol,
    /// [`Error::InvalidOptions`] when the CONNECT cannot be built.
    pub fn connect(options: ClientOptions) -> Result<(Client, Messages), Error> {
        let shared = Arc::new(Shared {
            mailbox: Mailbox::new(options.command_capacity),
            state: StateCell::new(ClientState::Closed { reason: None }),
            blocked: AtomicBool::new(false),
        });
        let (incoming, rx) = mpsc::sync_channel(options.incoming_capacity);
        let leftover = Arc::new(Mutex::new(VecDeque::new()));
        let mut runner = Runner::new(options, shared.clone(), incoming, leftover.clone());
        let link = runner.attempt()?;
        let thread = std::thread::Builder::new()
            .name("mqtt-std-client".into())
            .spawn(move || runner.run(link))?;
        let messages = Messages {
            rx,
            leftover,
            shared: shared.clone(),
        };
        let inner = Inner {
            shared,
            thread: Mutex::new(Some(thread)),
        };
        Ok((
            Client {
                inner: Arc::new(inner),
            },
            messages,
        ))
    }

    /// Publishes `payload` to `topic` at `qos` (the retained message of the
    /// topic when `retain`), and returns when its flow ends: once written
    /// for QoS 0, at its PUBACK (QoS 1) or PUBCOMP (QoS 2). Across a lost
    /// connection it keeps waiting: the session sends it again.
    ///
    /// Errs with [`Error::Topic`] on an invalid Topic Name, with
    /// [`Error::Rejected`] when the broker's acknowledgement carries a
    /// failing Reason Code (v5.0), [`Error::Send`] when the connection
    /// refuses it (over the broker's Maximum Packet Size or Maximum QoS,
    /// say), [`Error::NotDelivered`] when its session was lost, and
    /// [`Error::Closed`] when the client ended.
    pub fn publish(
        &self,
        topic: impl IntoTopicName,
        qos: QoS,
        retain: bool,
        payload: impl Into<Bytes>,
    ) -> Result<Delivered, Error> {
        self.publish_message(Message::from_parts(topic, qos, retain, payload)?)
    }

    /// [`publish`](Self::publish) of a [`Message`], with its v5.0
    /// properties (a v3.1.1 connection sends without them).
    pub fn publish_message(&self, message: Message) -> Result<Delivered, Error> {
        self.ask(|reply| Command::Publish {
            message,
            reply: Some(reply),
        })
    }

    /// Hands the message to the client without waiting for the broker:
    /// returns once it is queued (waiting only for room in the command
    /// queue). Its outcome is not reported. Errs like
    /// [`publish`](Self::publish) on its arguments, and with
    /// [`Error::Closed`] when the client ended.
    pub fn publish_nowait(
        &self,
        topic: impl IntoTopicName,
        qos: QoS,
        retain: bool,
        payload: impl Into<Bytes>,
    ) -> Result<(), Error> {
        let message = Message::from_parts(topic, qos, retain, payload)?;
        self.push_unanswered(message, true)
    }

    /// [`publish_nowait`](Self::publish_nowait) that never waits: errs with
    /// [`Error::Full`] when the command queue is full (the connection is
    /// down, or the broker slower than the application).
    pub fn try_publish(
        &self,
        topic: impl IntoTopicName,
        qos: QoS,
        retain: bool,
        payload: impl Into<Bytes>,
    ) -> Result<(), Error> {
        let message = Message::from_parts(topic, qos, retain, payload)?;
        self.push_unanswered(message, false)
    }

    /// Queues `message`, nobody waiting for its outcome; `wait`: for room
    /// in the command queue (else errs with [`Error::Full`]).
    fn push_unanswered(&self, message: Message, wait: bool) -> Result<(), Error> {
        let command = Command::Publish {
            message,
            reply: None,
        };
        self.push(command, wait)
    }

    /// Subscribes to `filter` with maximum QoS `qos` and returns the QoS
    /// the broker granted. The subscription is made again when a
    /// reconnection finds no session.
    ///
    /// Errs with [`Error::Topic`] on an invalid Topic Filter,
    /// [`Error::Rejected`] with the SUBACK's failure code, [`Error::Closed`]
    /// when the connection was lost before the SUBACK (SUBSCRIBE is not
    /// sent again, §4.4: call again) or the client ended.
    pub fn subscribe(&self, filter: &str, qos: QoS) -> Result<QoS, Error> {
        let granted = self.subscribe_many([(filter, qos.into())])?;
        match granted.first() {
            Some(Ok(qos)) => Ok(*qos),
            Some(Err(code)) => Err(Error::Rejected(*code)),
            None => Err(Error::Closed),
        }
    }

    /// Subscribes to several filters in one SUBSCRIBE (v5.0 options: No
    /// Local, Retain As Published, Retain Handling; v3.1.1 sends the QoS
    /// only) and returns the broker's answer to each, in order. Errs like
    /// [`subscribe`](Self::subscribe), and with [`Error::Build`] when the
    /// list is empty.
    pub fn subscribe_many<'a>(
        &self,
        subscriptions: impl IntoIterator<Item = (&'a str, SubscriptionOptions)>,
    ) -> Result<Vec<Granted>, Error> {
        let subscriptions = subscriptions
            .into_iter()
            .map(|(filter, options)| Ok((TopicFilter::try_from(filter)?, options)))
            .collect::<Result<Vec<_>, Error>>()?;
        if subscriptions.is_empty() {
            let rule = "a SUBSCRIBE holds at least one Topic Filter (§3.8.3)";
            return Err(Error::Build(mqtt_codec::BuildError::Forbidden(rule)));
        }
        self.ask(|reply| Command::Subscribe {
            subscriptions,
            reply,
        })
    }

    /// Unsubscribes from `filter`; it is no longer made again on
    /// reconnection. Errs with [`Error::Rejected`] on a failing UNSUBACK
    /// Reason Code (v5.0), else like [`subscribe`](Self::subscribe).
    pub fn unsubscribe(&self, filter: &str) -> Result<(), Error> {
        let filters = vec![TopicFilter::try_from(filter)?];
        let codes = self.ask(|reply| Command::Unsubscribe { filters, reply })?;
        match codes.first() {
            Some(&code) if code >= 0x80 => Err(Error::Rejected(code)),
            _ => Ok(()),
        }
    }

    /// The client's state now.
    pub fn state(&self) -> ClientState {
        self.inner.shared.state.get().1
    }

    /// A [`StateWatch`] to wait for the state's changes (from the state
    /// now).
    pub fn watch_state(&self) -> StateWatch {
        StateWatch {
            shared: self.inner.shared.clone(),
            seen: self.inner.shared.state.get().0,
        }
    }

    /// Ends the client: no more reconnections; if connected, the messages
    /// waiting in the session for the broker's Receive Maximum go out
    /// (within [`ClientOptions::close_timeout`]), then DISCONNECT. Calls
    /// still waiting get [`Error::Closed`], and [`Messages::recv`] returns
    /// `None` once the received messages are taken. Returns when the I/O
    /// thread has ended (the network connection is closed). Calling it
    /// again does nothing.
    pub fn disconnect(&self) -> Result<(), Error> {
        self.inner.shared.mailbox.stop();
        let thread = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        match thread {
            Some(thread) => {
                if let Err(panic) = thread.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            // Another handle joins it: wait for the end it reports.
            None => {
                let mut watch = self.watch_state();
                watch.wait_for(None, |s| matches!(s, ClientState::Closed { .. }));
            }
        }
        Ok(())
    }

    /// Queues `command`; see [`Mailbox::push`].
    fn push(&self, command: Command, wait: bool) -> Result<(), Error> {
        match self.inner.shared.mailbox.push(command, wait) {
            Ok(()) => Ok(()),
            Err(Refused::Full) => Err(Error::Full),
            Err(Refused::Closed) => Err(Error::Closed),
        }
    }

    /// Queues the command `make` builds and waits for the answer.
    fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, Error> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.push(make(reply), true)?;
        answer.recv().unwrap_or(Err(Error::Closed))
    }
}
