//! The durable store of `--store PATH`: sessions, retained messages and
//! pending wills in one redb file, so that they survive a restart.
//!
//! # What is stored, and when
//!
//! - A durable session (Session Expiry Interval > 0, v3.1.1 Clean Session
//!   0) gets its record (version, expiry, Will) when a connection takes it,
//!   its subscriptions as they change, and its export (mqtt-session's
//!   format: in-flight and queued QoS 1 and 2 messages with their packet
//!   identifiers, QoS 2 identifiers received [MQTT-4.3.3-10]) when its
//!   connection ends. Every QoS 1 or 2 copy routed to it in between goes
//!   into its journal (in the order routed); the export written at the
//!   disconnect replaces the journal's copies routed before it.
//! - A retained message is written (or removed) as it is set.
//! - Every change is handed, in order, to one writer thread
//!   (`writer.rs`) that commits many at a time (group commit).
//!
//! # Durability
//!
//! With `--durability message` (the default) a QoS 1 or 2 PUBLISH is
//! acknowledged (PUBACK, PUBREC) only after the commit that holds its
//! routed copies and its retained change (`acks.rs`: the connection goes
//! on routing meanwhile, the acknowledgements follow in order), and a
//! durable session's CONNACK after the commit of its record and Will: a
//! kill -9 loses no acknowledged message. A PUBLISH that changed nothing
//! durable waits for nothing. A SUBACK does not wait: a subscription is
//! committed with the next commit, before any PUBLISH acknowledged after
//! it. With `--durability periodic` the writer commits every
//! `--commit-interval` ms and nothing waits: a kill -9 loses up to one
//! interval. SIGTERM and SIGINT commit everything before exit 0. A commit
//! that fails (disk full) is reported on stderr and leaves the store
//! broken: no QoS 1 or 2 PUBLISH is acknowledged any more (the waiting
//! connections are closed; clients send again to the restarted broker).
//!
//! The journal of a session holds at most [`window`] copies (the older
//! ones have been acknowledged by its client): a durable subscriber that
//! stays connected costs up to that many copies on disk until it
//! disconnects.
//!
//! # At start
//!
//! Sessions come back offline: export imported, then the journal's copies
//! queued in order; subscriptions, retained messages and pending Wills
//! restored. Session Expiry and Will Delay count from the disconnect (wall
//! clock, so the downtime counts); a session whose client was connected
//! when the broker was killed counts from the start. Then everything is
//! written back compacted (one export per session, empty journal). A
//! damaged or foreign file stops the start with an error naming it. The
//! Message Expiry of messages in a session's export does not count the
//! downtime (mqtt-session keeps what was left at the export); that of
//! retained messages and journal copies does.
//!
//! # QoS 2 across a restart, and what a kill -9 costs
//!
//! The packet identifiers of copies already sent to a subscriber are those
//! of its export: after SIGTERM or SIGINT every session is exported as its
//! connection closes, so a subscriber's unfinished QoS 2 flows resume
//! under their identifiers (PUBREL for those it received, the PUBLISH
//! with DUP under the same identifier otherwise): its session discards
//! the repeat [MQTT-4.3.3-10], exactly once. A publisher's QoS 2
//! identifiers received are in its export too, so its re-sent PUBLISH is
//! not routed twice. After a kill -9, a session that was offline resumes
//! exactly as exported plus its journal (each copy once). A session whose
//! client was connected resumes from its last export plus every copy
//! routed to it since (at most `window` of them): nothing acknowledged is
//! lost, but copies it had already received come again under new
//! identifiers (a duplicate, also at QoS 2), and a publisher's QoS 2
//! PUBLISH re-sent after the kill (its PUBREC lost) is routed again: such
//! a session comes back without the QoS 2 identifiers received of its
//! export, which are those of its last disconnect (the client may have
//! released and reused them since; kept, they would make the session drop
//! a new message under one of them as a repeat — a loss). The
//! connection numbers a copy in the driver as it writes it, so the store
//! cannot commit a copy's identifier before the copy is on the wire.

pub mod acks;
pub mod load;
pub mod restore;
pub mod schema;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use mqtt_codec::{Message, ProtocolVersion};
use tokio::sync::{oneshot, watch};

use super::config::{BrokerConfig, Durability};
use super::message::StoredMessage;
use super::router::{ClientId, Subscription};
use super::state::{Presence, Session, State};
use schema::SessionRecord;
use writer::{Op, Writer};

/// An open store and its writer thread. One per broker, in
/// [`Shared::store`](super::state::Shared::store).
#[derive(Debug)]
pub struct Store {
    tx: mpsc::Sender<Op>,
    seq: AtomicU64,
    /// Changes handed to the writer (all ops but syncs and stop).
    sent: AtomicU64,
    /// What the writer committed (see [`Writer::committed`]).
    commits: watch::Receiver<acks::Committed>,
    durability: Durability,
    path: PathBuf,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// A store that could not be opened or read: the file and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    /// The store file.
    pub path: PathBuf,
    /// What is wrong.
    pub why: String,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "store {}: {}", self.path.display(), self.why)
    }
}

impl std::error::Error for StoreError {}

impl Store {
    /// Opens (or creates) the store at `path` and reads it whole; starts
    /// the writer. Call once, before the broker takes connections.
    ///
    /// # Errors
    /// The file cannot be opened or created, is not a store of this format,
    /// is damaged (redb's checks, or a record that does not decode), or is
    /// in use by another broker.
    pub fn open(path: &Path, config: &BrokerConfig) -> Result<(Store, load::Loaded), StoreError> {
        let error = |why: String| StoreError {
            path: path.to_owned(),
            why,
        };
        let db = open_db(path).map_err(error)?;
        load::check_format(&db).map_err(error)?;
        let loaded = load::read(&db).map_err(error)?;
        let (tx, rx) = mpsc::channel();
        let (committed, commits) = watch::channel(acks::Committed::default());
        let writer = Writer {
            db,
            durability: config.durability,
            interval: Duration::from_millis(config.commit_interval),
            window: window(config),
            journaled: Default::default(),
            committed,
            applied: 0,
            broken: false,
        };
        let thread = std::thread::Builder::new()
            .name("broker-store".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| error(format!("cannot start its writer: {e}")))?;
        let store = Store {
            tx,
            seq: AtomicU64::new(1),
            sent: AtomicU64::new(0),
            commits,
            durability: config.durability,
            path: path.to_owned(),
            writer: Mutex::new(Some(thread)),
        };
        Ok((store, loaded))
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether QoS 1 and 2 acknowledgements wait for the commit.
    pub fn per_message(&self) -> bool {
        self.durability == Durability::Message
    }

    /// Hands `op` to the writer. Call under the state lock, so that the
    /// writer sees the changes in the order they were made.
    pub fn send(&self, op: Op) {
        if !matches!(op, Op::Sync(_) | Op::Stop) {
            self.sent.fetch_add(1, Ordering::Relaxed);
        }
        // The writer ends only at `close`: nothing is lost before.
        let _ = self.tx.send(op);
    }

    /// Waits until everything handed in so far is committed (at once when
    /// it is already: a PUBLISH that changed nothing durable, as one with
    /// no durable subscriber and no RETAIN, does not wait); `false` if a
    /// commit failed or the writer is gone.
    pub async fn sync(&self) -> bool {
        // Every change is counted under the state lock before it is sent;
        // the caller made its changes before this.
        let committed = *self.commits.borrow();
        if committed.broken {
            return false;
        }
        if committed.count >= self.sent() {
            return true;
        }
        let (tx, rx) = oneshot::channel();
        self.send(Op::Sync(tx));
        rx.await.unwrap_or(false)
    }

    /// How many changes were handed to the writer so far: once that many
    /// are committed ([`commits`](Self::commits)), so is everything the
    /// caller changed before it asked.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// What the writer has committed, as it changes.
    pub fn commits(&self) -> watch::Receiver<acks::Committed> {
        self.commits.clone()
    }

    /// Commits what is left and stops the writer, waiting for it. Call
    /// last, at shutdown; later changes are not stored.
    pub fn close(&self) {
        self.send(Op::Stop);
        let thread = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    /// The journal: a QoS 1 or 2 `copy` routed at `now` to the session of
    /// `client`, if that session is durable. Call under the state lock.
    pub fn journal(&self, session: &Session, client: &ClientId, copy: &Message, now: Instant) {
        if !session.durable {
            return;
        }
        self.send(Op::Journal {
            client: client.clone(),
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            message: copy.clone(),
            routed: now,
        });
    }

    /// The retained message `message` was set (an empty payload: removed).
    pub fn retain(&self, message: &StoredMessage) {
        let m = message.message();
        let topic = m.to_topic_name().as_str().to_owned();
        let message = (!m.payload().is_empty()).then(|| (m.clone(), message.received));
        self.send(Op::Retain { topic, message });
    }

    /// A connection took the session of `client` (already in `st`): its
    /// record, online, with the connection's Will; `replaces`: a durable
    /// session was discarded (Clean Start), whatever of it was stored goes.
    /// Call under the state lock.
    pub fn claimed(
        &self,
        st: &State,
        client: &ClientId,
        replaces: bool,
        version: ProtocolVersion,
        expiry: u32,
        will: Option<(StoredMessage, u32)>,
    ) {
        if replaces {
            self.send(Op::Remove(client.clone()));
        }
        if !st.sessions.get(client).is_some_and(|s| s.durable) {
            return;
        }
        let record = SessionRecord {
            version,
            expiry,
            disconnected: None,
            will,
        };
        self.send(Op::Session {
            client: client.clone(),
            record,
            state: None,
            trim: None,
        });
    }

    /// The session of `client` went offline now, to expire in `expiry`
    /// seconds, its pending Will (if any) due in `will_delay`: its record,
    /// its export, and its journal emptied of what the export holds. Call
    /// under the state lock, right after storing it offline.
    pub fn stored_offline(&self, st: &State, client: &ClientId, expiry: u32, will_delay: u32) {
        let Some(session) = st.sessions.get(client).filter(|s| s.durable) else {
            return;
        };
        let Presence::Offline(conn) = &session.presence else {
            return;
        };
        let record = SessionRecord {
            version: conn.version().unwrap_or(ProtocolVersion::V5_0),
            expiry,
            disconnected: Some(schema::unix_ms(std::time::SystemTime::now())),
            will: session
                .pending_will
                .as_deref()
                .map(|w| (w.clone(), will_delay)),
        };
        self.send(Op::Session {
            client: client.clone(),
            record,
            state: Some(conn.export_session()),
            trim: Some(self.seq.load(Ordering::Relaxed)),
        });
    }

    /// A subscription of `client` was made or replaced.
    pub fn subscribed(
        &self,
        session: &Session,
        client: &ClientId,
        filter: &mqtt_codec::TopicFilter,
        sub: &Subscription,
    ) {
        if session.durable {
            let filter = filter.as_str().to_owned();
            self.send(Op::Subscribe(client.clone(), filter, sub.clone()));
        }
    }

    /// A subscription of `client` was removed.
    pub fn unsubscribed(
        &self,
        session: &Session,
        client: &ClientId,
        filter: &mqtt_codec::TopicFilter,
    ) {
        if session.durable {
            self.send(Op::Unsubscribe(client.clone(), filter.as_str().to_owned()));
        }
    }

    /// The session of `client` ended (expiry, not kept at its disconnect).
    pub fn removed(&self, client: &ClientId) {
        self.send(Op::Remove(client.clone()));
    }

    /// The pending Will of `client` was published.
    pub fn will_published(&self, client: &ClientId) {
        self.send(Op::ClearWill(client.clone()));
    }
}

/// The most journal copies kept per session. A copy older than this many
/// later copies of the same session has been acknowledged (or dropped):
/// at most a Receive Maximum (≤ 65,535) of them are in flight, and at
/// most `--max-queued` wait in each of the session's queue, its backlog
/// and its limbo, and a command channel's worth (256) in its driver.
pub fn window(config: &BrokerConfig) -> usize {
    usize::from(u16::MAX) + 3 * config.max_queued + 256
}

/// Opens or creates the redb file at `path`.
///
/// # Errors
/// redb's error; or, for a file redb panics on (one cut shorter than its
/// header says, for instance), that message: the panic is caught here,
/// its default report silenced, so that the start ends with an error
/// naming the file instead.
fn open_db(path: &Path) -> Result<redb::Database, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let opened = std::panic::catch_unwind(|| redb::Database::create(path));
    std::panic::set_hook(hook);
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!("damaged or cut short (redb: {why})"))
        }
    }
}
