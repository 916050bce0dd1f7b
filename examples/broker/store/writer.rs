//! The writer: one thread that owns the database and applies what the
//! connections hand it ([`Op`]), many at a time in one write transaction
//! (group commit), then answers the [`Op::Sync`]s of that batch.
//!
//! With [`Durability::Message`] it commits as soon as it has something,
//! taking everything that arrived meanwhile: while one commit syncs the
//! disk, the next batch gathers. With [`Durability::Periodic`] it commits
//! every interval, or at once for a [`Op::Sync`].

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use mqtt_codec::Message;
use redb::{Database, Durability as RedbDurability, ReadableTable, Table, WriteTransaction};
use tokio::sync::{oneshot, watch};

use super::super::config::Durability;
use super::super::router::{ClientId, Subscription};
use super::acks::Committed;
use super::schema::{self, SessionRecord};

/// The most operations in one transaction.
const MAX_BATCH: usize = 16_384;

/// One change to the store, in the order the broker made them.
#[derive(Debug)]
pub enum Op {
    /// The retained message of `topic` (`None`: removed).
    Retain {
        /// The Topic Name.
        topic: String,
        /// The message and when it was received.
        message: Option<(Message, Instant)>,
    },
    /// A QoS 1 or 2 copy routed to the durable session of `client`.
    Journal {
        /// The session's Client Identifier.
        client: ClientId,
        /// Its sequence number, in the order copies were routed.
        seq: u64,
        /// The copy.
        message: Message,
        /// When it was routed (its Message Expiry counts from here).
        routed: Instant,
    },
    /// The record of a durable session, its export if given, and the
    /// end of its journal up to `trim` (the export holds those copies).
    Session {
        /// The session's Client Identifier.
        client: ClientId,
        /// Its record.
        record: SessionRecord,
        /// Its export; `None` keeps the stored one.
        state: Option<Vec<u8>>,
        /// Removes its journal's copies numbered up to this.
        trim: Option<u64>,
    },
    /// The Will of a session was published: drop it from its record.
    ClearWill(ClientId),
    /// A subscription of a durable session, new or replaced.
    Subscribe(ClientId, String, Subscription),
    /// A subscription removed.
    Unsubscribe(ClientId, String),
    /// A session ended: everything of it goes.
    Remove(ClientId),
    /// Empties the journal: every session's export was written since
    /// (the compaction at start).
    ClearJournal,
    /// Answered `true` once everything handed in before it is committed,
    /// `false` if that commit failed.
    Sync(oneshot::Sender<bool>),
    /// Commit what is left and end the thread.
    Stop,
}

/// The writer thread's state.
pub struct Writer {
    /// The database.
    pub db: Database,
    /// When to commit.
    pub durability: Durability,
    /// The interval of [`Durability::Periodic`].
    pub interval: Duration,
    /// The most journal copies kept per session: older ones have been
    /// acknowledged or dropped (see the [module doc](super)).
    pub window: usize,
    /// The journal's records per session, oldest first: the number of
    /// their first copy and how many copies each holds.
    pub journaled: HashMap<ClientId, VecDeque<(u64, usize)>>,
    /// How many changes (all but [`Op::Sync`] and [`Op::Stop`]) were
    /// committed, in the order handed in, and whether a commit failed;
    /// the count is no longer updated once one did.
    pub committed: watch::Sender<Committed>,
    /// How many changes were applied (committed or not).
    pub applied: u64,
    /// A commit failed: what it held is not in the store, so no later
    /// [`Op::Sync`] is answered `true` (the broker then acknowledges no
    /// QoS 1 or 2 PUBLISH until it is restarted).
    pub broken: bool,
}

impl Writer {
    /// Runs until [`Op::Stop`] or until every sender is gone.
    pub fn run(mut self, rx: Receiver<Op>) {
        let mut batch = Vec::new();
        let mut due: Option<Instant> = None;
        loop {
            let received = match due {
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(due) => rx.recv_timeout(due.saturating_duration_since(Instant::now())),
            };
            let mut stop = false;
            match received {
                Ok(op) => {
                    let urgent = matches!(op, Op::Sync(_) | Op::Stop);
                    batch.push(op);
                    let due = *due.get_or_insert_with(|| Instant::now() + self.interval);
                    let now = self.durability == Durability::Message || Instant::now() >= due;
                    if !urgent && !now && batch.len() < MAX_BATCH {
                        continue;
                    }
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(op) => batch.push(op),
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => stop = true,
            }
            due = None;
            stop |= self.commit(&mut batch);
            if stop {
                return;
            }
        }
    }

    /// Applies `batch` in one transaction, commits, answers its syncs;
    /// returns whether it held [`Op::Stop`]. A failed commit is reported
    /// on stderr and to the syncs (the broker then closes the connections
    /// that waited, unacknowledged).
    // redb's error is large (160 bytes), and only a failed commit returns
    // it: not worth a box on every call.
    #[allow(clippy::result_large_err)]
    fn commit(&mut self, batch: &mut Vec<Op>) -> bool {
        let mut syncs = Vec::new();
        let mut stop = false;
        if batch.iter().all(|op| matches!(op, Op::Sync(_) | Op::Stop)) {
            // Nothing to write: what came before is committed already.
            for op in batch.drain(..) {
                match op {
                    Op::Sync(tx) => drop(tx.send(!self.broken)),
                    _ => stop = true,
                }
            }
            return stop;
        }
        let changes = batch
            .iter()
            .filter(|op| !matches!(op, Op::Sync(_) | Op::Stop))
            .count();
        self.applied += changes as u64;
        let result = self
            .db
            .begin_write()
            .map_err(redb::Error::from)
            .and_then(|mut txn| {
                txn.set_durability(RedbDurability::Immediate);
                self.apply(&txn, batch, &mut syncs, &mut stop)?;
                txn.commit().map_err(redb::Error::from)
            });
        batch.clear();
        match &result {
            Err(e) => {
                eprintln!("broker: store commit failed, no more QoS 1/2 acknowledgements: {e}");
                self.broken = true;
                self.committed.send_modify(|c| c.broken = true);
                // The window bookkeeping starts over (it only bounds growth).
                self.journaled.clear();
            }
            Ok(()) if !self.broken => self.committed.send_modify(|c| c.count = self.applied),
            Ok(()) => {}
        }
        for sync in syncs {
            let _ = sync.send(!self.broken);
        }
        stop
    }

    #[allow(clippy::result_large_err)]
    fn apply(
        &mut self,
        txn: &WriteTransaction,
        batch: &mut Vec<Op>,
        syncs: &mut Vec<oneshot::Sender<bool>>,
        stop: &mut bool,
    ) -> Result<(), redb::Error> {
        let mut retained = txn.open_table(schema::RETAINED)?;
        let mut sessions = txn.open_table(schema::SESSIONS)?;
        let mut states = txn.open_table(schema::SESSION_STATE)?;
        let mut subs = txn.open_table(schema::SUBSCRIPTIONS)?;
        let mut journal = txn.open_table(schema::JOURNAL)?;
        let mut copies: HashMap<ClientId, (u64, Vec<u8>)> = HashMap::new();
        for op in batch.drain(..) {
            match op {
                Op::Retain { topic, message } => match message {
                    None => drop(retained.remove(topic.as_str())?),
                    Some((m, received)) => {
                        let record = schema::encode_message(&m, received);
                        retained.insert(topic.as_str(), record.as_slice())?;
                    }
                },
                Op::Journal {
                    client,
                    seq,
                    message,
                    routed,
                } => {
                    // Written at the end of the batch, one record for all
                    // of a session's copies.
                    let (_, record) = copies.entry(client).or_insert_with(|| (seq, Vec::new()));
                    schema::push_copy(record, &message, routed);
                }
                Op::Session {
                    client,
                    record,
                    state,
                    trim,
                } => {
                    let record = schema::encode_session(&record);
                    sessions.insert(&*client, record.as_slice())?;
                    if let Some(state) = state {
                        states.insert(&*client, state.as_slice())?;
                    }
                    if let Some(trim) = trim {
                        // Every copy handed in before this op has a lower
                        // number: those of this batch are not written.
                        copies.remove(&client);
                        let range = (&*client, 0)..=(&*client, trim);
                        journal.retain_in(range, |_, _| false)?;
                        if let Some(records) = self.journaled.get_mut(&client) {
                            records.retain(|&(first, _)| first > trim);
                        }
                    }
                }
                Op::ClearWill(client) => {
                    let record = sessions.get(&*client)?.map(|v| v.value().to_vec());
                    // A record that does not decode is left for the start
                    // to report.
                    if let Some(Ok(mut record)) = record.map(|r| schema::decode_session(&r)) {
                        record.will = None;
                        let bytes = schema::encode_session(&record);
                        sessions.insert(&*client, bytes.as_slice())?;
                    }
                }
                Op::Subscribe(client, filter, sub) => {
                    let record = schema::encode_subscription(&sub);
                    subs.insert((&*client, filter.as_str()), record.as_slice())?;
                }
                Op::Unsubscribe(client, filter) => {
                    subs.remove((&*client, filter.as_str()))?;
                }
                Op::Remove(client) => {
                    sessions.remove(&*client)?;
                    states.remove(&*client)?;
                    remove_subscriptions(&mut subs, &client)?;
                    let range = (&*client, 0)..=(&*client, u64::MAX);
                    journal.retain_in(range, |_, _| false)?;
                    self.journaled.remove(&client);
                    copies.remove(&client);
                }
                Op::ClearJournal => {
                    journal.retain(|_, _| false)?;
                    self.journaled.clear();
                    copies.clear();
                }
                Op::Sync(tx) => syncs.push(tx),
                Op::Stop => *stop = true,
            }
        }
        for (client, (first, record)) in copies {
            self.journal(&mut journal, client, first, record)?;
        }
        Ok(())
    }

    /// Writes the journal record of `client`'s copies of one batch, the
    /// first numbered `first`, and drops its oldest records while the
    /// others hold at least `window` copies.
    #[allow(clippy::result_large_err)]
    fn journal(
        &mut self,
        journal: &mut Table<(&str, u64), &[u8]>,
        client: ClientId,
        first: u64,
        record: Vec<u8>,
    ) -> Result<(), redb::Error> {
        journal.insert((&*client, first), record.as_slice())?;
        let count = schema::copies_in(&record);
        let records = self.journaled.entry(client.clone()).or_default();
        records.push_back((first, count));
        let mut total: usize = records.iter().map(|&(_, n)| n).sum();
        while let Some(&(old, n)) = records.front() {
            if total - n < self.window {
                break;
            }
            records.pop_front();
            total -= n;
            journal.remove((&*client, old))?;
        }
        Ok(())
    }
}

/// Removes every subscription of `client`: the keys from `(client, "")`
/// up to `(client + "\0", "")`, the smallest greater Client Identifier.
#[allow(clippy::result_large_err)]
fn remove_subscriptions(
    subs: &mut Table<(&str, &str), &[u8]>,
    client: &str,
) -> Result<(), redb::Error> {
    let next = format!("{client}\0");
    let range = (client, "")..(next.as_str(), "");
    subs.retain_in(range, |_, _| false)?;
    Ok(())
}

#[cfg(test)]
mod tests {

    use mqtt_codec::{ProtocolVersion, QoS, TopicName};

    use super::*;
    use crate::broker::store::load;

    /// A writer on a new store file in the temporary directory, keeping
    /// at least `window` copies per session.
    fn writer(name: &str, window: usize) -> (Writer, std::path::PathBuf) {
        let path =
            std::env::temp_dir().join(format!("mqtt-writer-{}-{name}.redb", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let db = Database::create(&path).expect("a store");
        load::check_format(&db).expect("tables");
        let writer = Writer {
            db,
            durability: Durability::Message,
            interval: Duration::ZERO,
            window,
            journaled: HashMap::new(),
            committed: watch::channel(Committed::default()).0,
            applied: 0,
            broken: false,
        };
        (writer, path)
    }

    fn client() -> ClientId {
        ClientId::from("c")
    }

    fn session(trim: Option<u64>) -> Op {
        Op::Session {
            client: client(),
            record: SessionRecord {
                version: ProtocolVersion::V5_0,
                expiry: 60,
                disconnected: None,
                will: None,
            },
            state: None,
            trim,
        }
    }

    fn copy(seq: u64) -> Op {
        let message = Message::builder()
            .topic_name(TopicName::new("t").expect("a topic"))
            .qos(QoS::AtLeastOnce)
            .payload(seq.to_string())
            .build()
            .expect("a message");
        Op::Journal {
            client: client(),
            seq,
            message,
            routed: Instant::now(),
        }
    }

    /// The payloads of the journal of the one session, in order.
    fn journal(w: &Writer) -> Vec<u64> {
        let loaded = load::read(&w.db).expect("reads");
        let copies = loaded.sessions.into_iter().flat_map(|s| s.journal);
        let payload = |m: &Message| std::str::from_utf8(m.payload()).ok()?.parse().ok();
        copies.filter_map(|(m, _)| payload(&m)).collect()
    }

    #[test]
    fn the_window_drops_whole_records_oldest_first() {
        let (mut w, path) = writer("window", 5);
        w.commit(&mut vec![session(None)]);
        for batch in 0..3 {
            let mut ops: Vec<Op> = (1..=4).map(|i| copy(batch * 4 + i)).collect();
            w.commit(&mut ops);
        }
        // 12 copies in records of 4: the first goes, 8 (at least 5) stay.
        assert_eq!(journal(&w), (5..=12).collect::<Vec<_>>());
        drop(w);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn an_export_drops_the_copies_handed_in_before_it() {
        let (mut w, path) = writer("trim", 100);
        w.commit(&mut vec![session(None), copy(1), copy(2)]);
        w.commit(&mut vec![copy(3), copy(4), session(Some(4)), copy(5)]);
        assert_eq!(journal(&w), [5]);
        w.commit(&mut vec![
            copy(6),
            Op::Remove(client()),
            session(None),
            copy(7),
        ]);
        assert_eq!(journal(&w), [7]);
        w.commit(&mut vec![copy(8), Op::ClearJournal]);
        assert!(journal(&w).is_empty());
        drop(w);
        let _ = std::fs::remove_file(path);
    }
}
