//! [`Mailbox`]: everything that wakes the client's I/O thread, behind one
//! mutex and condition variable: the bounded queue of the handles'
//! commands, the bytes the reader thread read, the stop request, room in
//! [`Messages`](crate::Messages), the handles gone.
//!
//! Why not `std::sync::mpsc`: the thread waits for several sources at once
//! and until a timer's deadline, and std has no `select` over channels or
//! sockets. Here one `Condvar::wait_timeout` covers them all, so the thread
//! sleeps until something happens or a timer is due: no polling.

use std::collections::VecDeque;
use std::io;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;

use super::Command;

/// Chunks the reader thread may queue before it waits (16 KiB each).
const READS_MAX: usize = 16;

/// What the reader thread of a network connection read.
pub(crate) enum Read {
    Data(Bytes),
    /// The end of the stream: `None` at EOF, else the error.
    End(Option<io::Error>),
}

/// What the I/O thread is woken for.
pub(crate) enum Next {
    Read(Read),
    Command(Command),
    /// [`Client::disconnect`](crate::Client::disconnect) was called.
    Stop,
    /// [`Messages`](crate::Messages) took a message: there is room.
    Room,
    /// Every [`Client`](crate::Client) and the `Messages` are dropped.
    Abandoned,
    /// The deadline passed.
    Timeout,
}

/// What the I/O thread waits for now.
#[derive(Clone, Copy)]
pub(crate) struct Want {
    pub(crate) reads: bool,
    pub(crate) commands: bool,
    pub(crate) stop: bool,
}

/// Why a command was not queued (it is dropped).
pub(crate) enum Refused {
    Full,
    Closed,
}

struct Inbox {
    commands: VecDeque<Command>,
    capacity: usize,
    reads: VecDeque<Read>,
    /// The network connection whose reader may queue reads.
    generation: u64,
    stop: bool,
    room: bool,
    handles_gone: bool,
    messages_gone: bool,
    /// The client ended: nothing is queued any more.
    closed: bool,
}

pub(crate) struct Mailbox {
    inbox: Mutex<Inbox>,
    /// The I/O thread waits on it.
    wake: Condvar,
    /// Callers waiting for room in the command queue, and the reader
    /// thread for room in the reads, wait on it.
    space: Condvar,
}

impl Mailbox {
    pub(crate) fn new(capacity: usize) -> Self {
        Mailbox {
            inbox: Mutex::new(Inbox {
                commands: VecDeque::new(),
                capacity: capacity.max(1),
                reads: VecDeque::new(),
                generation: 0,
                stop: false,
                room: false,
                handles_gone: false,
                messages_gone: false,
                closed: false,
            }),
            wake: Condvar::new(),
            space: Condvar::new(),
        }
    }

    /// The inbox; a thread that panicked while holding it left it whole
    /// (every change is one push or pop), so the poison is ignored.
    fn lock(&self) -> MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `command`; when the queue is full, waits for room if `wait`,
    /// else refuses it as `Full`; refuses it as `Closed` once the client
    /// ended.
    pub(crate) fn push(&self, command: Command, wait: bool) -> Result<(), Refused> {
        let mut inbox = self.lock();
        loop {
            if inbox.closed {
                return Err(Refused::Closed);
            }
            if inbox.commands.len() < inbox.capacity {
                break;
            }
            if !wait {
                return Err(Refused::Full);
            }
            inbox = self.space.wait(inbox).unwrap_or_else(|e| e.into_inner());
        }
        inbox.commands.push_back(command);
        self.wake.notify_one();
        Ok(())
    }

    /// Queues what the reader of connection `generation` read, waiting
    /// while [`READS_MAX`] chunks wait. Returns false when the reader
    /// should stop: its connection is over, or the client ended.
    pub(crate) fn push_read(&self, generation: u64, read: Read) -> bool {
        let mut inbox = self.lock();
        loop {
            if inbox.closed || inbox.generation != generation {
                return false;
            }
            if inbox.reads.len() < READS_MAX {
                break;
            }
            inbox = self.space.wait(inbox).unwrap_or_else(|e| e.into_inner());
        }
        inbox.reads.push_back(read);
        self.wake.notify_one();
        true
    }

    /// A new network connection, numbered `generation`: what the last
    /// one's reader queued is dropped, and that reader stops.
    pub(crate) fn start_connection(&self, generation: u64) {
        let mut inbox = self.lock();
        inbox.generation = generation;
        inbox.reads.clear();
        self.space.notify_all();
    }

    /// Waits for what `want` asks for, or until `deadline`.
    pub(crate) fn next(&self, deadline: Option<Instant>, want: Want) -> Next {
        let mut inbox = self.lock();
        loop {
            if want.stop && inbox.stop {
                return Next::Stop;
            }
            if want.reads {
                if let Some(read) = inbox.reads.pop_front() {
                    self.space.notify_all();
                    return Next::Read(read);
                }
            }
            if std::mem::take(&mut inbox.room) {
                return Next::Room;
            }
            if want.commands {
                if let Some(command) = inbox.commands.pop_front() {
                    self.space.notify_all();
                    return Next::Command(command);
                }
            }
            if want.stop && inbox.handles_gone && inbox.messages_gone {
                return Next::Abandoned;
            }
            inbox = match deadline {
                None => self.wake.wait(inbox).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Next::Timeout;
                    }
                    let (inbox, _) = self
                        .wake
                        .wait_timeout(inbox, left)
                        .unwrap_or_else(|e| e.into_inner());
                    inbox
                }
            };
        }
    }

    /// [`Client::disconnect`](crate::Client::disconnect): end the client.
    pub(crate) fn stop(&self) {
        self.lock().stop = true;
        self.wake.notify_one();
    }

    pub(crate) fn stopping(&self) -> bool {
        self.lock().stop
    }

    /// The application took a message: the I/O thread may hand over more.
    pub(crate) fn room(&self) {
        self.lock().room = true;
        self.wake.notify_one();
    }

    /// The last [`Client`](crate::Client) handle was dropped.
    pub(crate) fn handles_gone(&self) {
        self.lock().handles_gone = true;
        self.wake.notify_one();
    }

    /// The [`Messages`](crate::Messages) was dropped.
    pub(crate) fn messages_gone(&self) {
        self.lock().messages_gone = true;
        self.wake.notify_one();
    }

    /// The client ended: no more commands are queued; returns those still
    /// waiting (to answer them), and wakes every caller and reader waiting
    /// for room.
    pub(crate) fn close(&self) -> Vec<Command> {
        let mut inbox = self.lock();
        inbox.closed = true;
        inbox.reads.clear();
        self.space.notify_all();
        inbox.commands.drain(..).collect()
    }
}
