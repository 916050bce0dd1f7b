//! Reading a store at start: every record is decoded and checked before
//! the broker takes any of it, so a damaged file stops the start with an
//! error that names what is wrong, and nothing is half-loaded.

use std::time::Instant;

use mqtt_codec::{Message, TopicFilter};
use redb::{Database, ReadableTable, ReadableTableMetadata};

use super::super::message::StoredMessage;
use super::super::router::Subscription;
use super::schema::{self, SessionRecord};

/// A session as read from the store.
#[derive(Debug)]
pub struct LoadedSession {
    /// Its Client Identifier.
    pub client: String,
    /// Its record.
    pub record: SessionRecord,
    /// Its export, if one was written.
    pub state: Option<Vec<u8>>,
    /// Its subscriptions.
    pub subscriptions: Vec<(TopicFilter, Subscription)>,
    /// The copies routed to it after its export, in order, with the time
    /// they were routed.
    pub journal: Vec<(Message, Instant)>,
}

/// Everything a store holds.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The retained messages.
    pub retained: Vec<StoredMessage>,
    /// The sessions.
    pub sessions: Vec<LoadedSession>,
}

/// Writes the format mark into a new store, or checks an existing one's.
///
/// # Errors
/// The store's errors, or a format this broker does not know (`"why"`).
pub fn check_format(db: &Database) -> Result<(), String> {
    let txn = db.begin_write().map_err(|e| e.to_string())?;
    {
        let mut meta = txn.open_table(schema::META).map_err(|e| e.to_string())?;
        let format = meta
            .get("format")
            .map_err(|e| e.to_string())?
            .map(|v| v.value());
        match format {
            Some(schema::FORMAT) => {}
            Some(other) => {
                return Err(format!(
                    "store format {other}, this broker reads {}",
                    schema::FORMAT
                ))
            }
            None => {
                let empty = meta.is_empty().map_err(|e| e.to_string())?;
                if !empty {
                    return Err("no format mark".into());
                }
                meta.insert("format", schema::FORMAT)
                    .map_err(|e| e.to_string())?;
            }
        }
        // Every table exists from then on (opening one creates it).
        let tables = (|| {
            txn.open_table(schema::RETAINED)?;
            txn.open_table(schema::SESSIONS)?;
            txn.open_table(schema::SESSION_STATE)?;
            txn.open_table(schema::SUBSCRIPTIONS)?;
            txn.open_table(schema::JOURNAL)?;
            Ok::<(), redb::TableError>(())
        })();
        tables.map_err(|e| e.to_string())?;
    }
    txn.commit().map_err(|e| e.to_string())
}

/// Reads and decodes everything in `db`.
///
/// # Errors
/// `"why"`: a table that cannot be read, or a record that does not decode
/// (named by its key).
pub fn read(db: &Database) -> Result<Loaded, String> {
    let e = |e: redb::Error| e.to_string();
    let txn = db.begin_read().map_err(|x| e(x.into()))?;
    let mut loaded = Loaded::default();

    let retained = txn.open_table(schema::RETAINED).map_err(|x| e(x.into()))?;
    for entry in retained.iter().map_err(|x| e(x.into()))? {
        let (topic, value) = entry.map_err(|x| e(x.into()))?;
        let (message, received) = schema::decode_message(value.value())
            .map_err(|why| format!("retained message of {:?}: {why}", topic.value()))?;
        if message.to_topic_name().as_str() != topic.value() {
            return Err(format!(
                "retained message of {:?}: another topic",
                topic.value()
            ));
        }
        loaded.retained.push(StoredMessage::new(message, received));
    }

    let sessions = txn.open_table(schema::SESSIONS).map_err(|x| e(x.into()))?;
    let states = txn
        .open_table(schema::SESSION_STATE)
        .map_err(|x| e(x.into()))?;
    let subs = txn
        .open_table(schema::SUBSCRIPTIONS)
        .map_err(|x| e(x.into()))?;
    let journal = txn.open_table(schema::JOURNAL).map_err(|x| e(x.into()))?;
    for entry in sessions.iter().map_err(|x| e(x.into()))? {
        let (client, value) = entry.map_err(|x| e(x.into()))?;
        let client = client.value().to_owned();
        let bad = |why: &dyn std::fmt::Display| format!("session {client:?}: {why}");
        let record = schema::decode_session(value.value()).map_err(|w| bad(&w))?;
        let state = states
            .get(client.as_str())
            .map_err(|x| bad(&x))?
            .map(|v| v.value().to_vec());
        let mut subscriptions = Vec::new();
        let next = format!("{client}\0");
        let range = (client.as_str(), "")..(next.as_str(), "");
        for entry in subs.range(range).map_err(|x| bad(&x))? {
            let (key, value) = entry.map_err(|x| bad(&x))?;
            let (_, filter) = key.value();
            let filter = TopicFilter::new(filter).map_err(|w| bad(&w))?;
            let sub = schema::decode_subscription(value.value()).map_err(|w| bad(&w))?;
            subscriptions.push((filter, sub));
        }
        let mut copies = Vec::new();
        let range = (client.as_str(), 0)..=(client.as_str(), u64::MAX);
        for entry in journal.range(range).map_err(|x| bad(&x))? {
            let (_, value) = entry.map_err(|x| bad(&x))?;
            copies.extend(schema::decode_journal(value.value()).map_err(|w| bad(&w))?);
        }
        loaded.sessions.push(LoadedSession {
            client,
            record,
            state,
            subscriptions,
            journal: copies,
        });
    }
    Ok(loaded)
}
