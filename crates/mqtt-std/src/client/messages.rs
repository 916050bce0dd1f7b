//! [`Messages`]: the application messages a [`Client`](crate::Client)
//! receives.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mqtt_codec::Message;

use super::Shared;

/// The messages the broker sends a [`Client`](crate::Client), in order,
/// across reconnections, as [`Message`]s (topic, payload, QoS, retain, v5.0
/// properties). Each was acknowledged (PUBACK, or PUBREC then PUBCOMP) when
/// it was received, and a QoS 2 message arrives once (§4.3.3).
///
/// An iterator: `for message in messages` (or `&mut messages`) ends when
/// the client does. Up to
/// [`ClientOptions::incoming_capacity`](crate::ClientOptions::incoming_capacity)
/// messages wait here; past it, the client stops reading the socket until
/// one is taken. Dropping it while [`Client`](crate::Client) handles remain
/// is fine: the messages that arrive are dropped.
pub struct Messages {
    pub(crate) rx: Receiver<Message>,
    /// What the client still held when it ended, after what `rx` holds.
    pub(crate) leftover: Arc<Mutex<VecDeque<Message>>>,
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messages").finish_non_exhaustive()
    }
}

impl Messages {
    /// Waits for the next message; `None` once the client has ended
    /// ([`Client::disconnect`](crate::Client::disconnect), or the
    /// reconnections gave up; [`Client::state`](crate::Client::state) says
    /// why) and every message received before was taken.
    pub fn recv(&mut self) -> Option<Message> {
        match self.rx.recv() {
            Ok(message) => Some(self.taken(message)),
            Err(_) => self.leftover(),
        }
    }

    /// [`recv`](Self::recv) for at most `timeout`: errs with
    /// [`RecvTimeoutError::Timeout`] when none came in time, and
    /// [`RecvTimeoutError::Disconnected`] once the client has ended and
    /// every message was taken.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Message, RecvTimeoutError> {
        match self.rx.recv_timeout(timeout) {
            Ok(message) => Ok(self.taken(message)),
            Err(RecvTimeoutError::Timeout) => Err(RecvTimeoutError::Timeout),
            Err(RecvTimeoutError::Disconnected) => {
                self.leftover().ok_or(RecvTimeoutError::Disconnected)
            }
        }
    }

    /// The next message if one is there: errs with [`TryRecvError::Empty`]
    /// when none is, and [`TryRecvError::Disconnected`] once the client
    /// has ended and every message was taken.
    pub fn try_recv(&mut self) -> Result<Message, TryRecvError> {
        match self.rx.try_recv() {
            Ok(message) => Ok(self.taken(message)),
            Err(TryRecvError::Empty) => Err(TryRecvError::Empty),
            Err(TryRecvError::Disconnected) => self.leftover().ok_or(TryRecvError::Disconnected),
        }
    }

    /// A message was taken: the I/O thread, if it holds more, hands them
    /// over.
    fn taken(&self, message: Message) -> Message {
        if self.shared.blocked.load(Ordering::SeqCst) {
            self.shared.mailbox.room();
        }
        message
    }

    fn leftover(&self) -> Option<Message> {
        let mut leftover = self.leftover.lock().unwrap_or_else(|e| e.into_inner());
        leftover.pop_front()
    }
}

impl Iterator for Messages {
    type Item = Message;

    /// [`recv`](Messages::recv).
    fn next(&mut self) -> Option<Message> {
        self.recv()
    }
}

impl Drop for Messages {
    fn drop(&mut self) {
        self.shared.mailbox.messages_gone();
    }
}
