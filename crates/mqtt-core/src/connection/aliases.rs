//! [`Aliases`]: the Topic Alias mappings of one network connection
//! (§3.3.2.3.4), both ways, forgotten with it [MQTT-3.3.2-7].

use std::collections::HashMap;

use mqtt_codec::TopicName;

use crate::{TopicAliasRecv, TopicAliasSend};

#[derive(Debug)]
pub(crate) struct Aliases {
    /// Ours for what we send, numbered by the connection (automatic
    /// mapping, least recently used replacement).
    pub(crate) send: TopicAliasSend,
    /// The peer's, for what we receive.
    pub(crate) recv: TopicAliasRecv,
    /// The ones the application chose itself, without automatic mapping.
    pub(crate) app: AppAliases,
}

/// The [`Aliases`] of a connection, allocated when first used: most
/// connections never use a Topic Alias, and an idle one holds these 16
/// bytes instead of the tables' 208. The Topic Alias Maximums live here,
/// so that tables made later know them.
#[derive(Debug, Default)]
pub(crate) struct LazyAliases {
    send_max: u16,
    recv_max: u16,
    tables: Option<Box<Aliases>>,
}

impl LazyAliases {
    /// The peer's Topic Alias Maximum: ours for what we send start over
    /// with it.
    pub(crate) fn set_send_max(&mut self, max: u16) {
        self.send_max = max;
        if let Some(t) = &mut self.tables {
            t.send = TopicAliasSend::new(max);
        }
    }

    /// The Topic Alias Maximum we announced: the peer's aliases start over
    /// with it.
    pub(crate) fn set_recv_max(&mut self, max: u16) {
        self.recv_max = max;
        if let Some(t) = &mut self.tables {
            t.recv = TopicAliasRecv::new(max);
        }
    }

    /// The peer's Topic Alias Maximum, as last set.
    pub(crate) fn send_max(&self) -> u16 {
        self.send_max
    }

    /// The tables, made now if they were not.
    pub(crate) fn tables(&mut self) -> &mut Aliases {
        let (send, recv) = (self.send_max, self.recv_max);
        self.tables.get_or_insert_with(|| {
            Box::new(Aliases {
                send: TopicAliasSend::new(send),
                recv: TopicAliasRecv::new(recv),
                app: AppAliases::default(),
            })
        })
    }

    /// The tables if they exist: no lookup needs to make them.
    pub(crate) fn existing(&self) -> Option<&Aliases> {
        self.tables.as_deref()
    }

    /// The network connection ended: every mapping ends with it
    /// [MQTT-3.3.2-7]; the maximums stay until the next CONNECT or CONNACK
    /// sets them.
    pub(crate) fn clear(&mut self) {
        self.tables = None;
    }
}

/// The Topic Aliases the application chose itself, recorded so that a
/// later PUBLISH may carry the alias alone, and so that automatic
/// replacement can use them.
///
/// alias ↔ topic, both ways; at most the peer's Topic Alias Maximum
/// entries, as every alias is checked against it first.
#[derive(Debug, Clone, Default)]
pub(crate) struct AppAliases {
    by_alias: HashMap<u16, TopicName>,
    by_topic: HashMap<TopicName, u16>,
}

impl AppAliases {
    /// `alias` now stands for `topic`, as a PUBLISH carrying both set it.
    pub(crate) fn insert(&mut self, alias: u16, topic: &TopicName) {
        if self.by_alias.get(&alias) == Some(topic) {
            return;
        }
        if let Some(old) = self.by_alias.insert(alias, topic.clone()) {
            if self.by_topic.get(&old) == Some(&alias) {
                self.by_topic.remove(&old);
            }
        }
        // The topic's previous alias still stands for it at the peer; only
        // the newest is used.
        self.by_topic.insert(topic.clone(), alias);
    }

    /// The topic `alias` stands for.
    pub(crate) fn topic(&self, alias: u16) -> Option<&TopicName> {
        self.by_alias.get(&alias)
    }

    /// The alias that stands for `topic`.
    pub(crate) fn alias(&self, topic: &str) -> Option<u16> {
        self.by_topic.get(topic).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Remapping an alias drops the old topic's entry; a topic keeps its
    /// newest alias.
    #[test]
    fn remapping() {
        let a = TopicName::from_static("a").unwrap();
        let b = TopicName::from_static("b").unwrap();
        let mut m = AppAliases::default();
        m.insert(1, &a);
        m.insert(1, &b);
        assert_eq!(m.alias("a"), None);
        assert_eq!(m.alias("b"), Some(1));
        m.insert(2, &b);
        assert_eq!(m.alias("b"), Some(2));
        assert_eq!(m.topic(1), Some(&b));
    }
}
