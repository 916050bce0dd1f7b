//! The subscriptions of every session, and which clients a published message
//! goes to (v5.0 §3.3.4, §3.8.4, §4.7, §4.8; v3.1.1 §3.8.4, §4.7).
//!
//! Subscriptions live in a trie of topic levels: each node has its literal
//! children in a `HashMap`, one `+` child, and the subscriptions whose filter
//! ends at it, either exactly or with a trailing `#`. [`Router::route`] walks
//! only the nodes a topic can reach, so a PUBLISH costs in proportion to its
//! levels and to the subscriptions it matches, not to how many exist. The walk
//! uses an explicit stack, so a filter or topic of thousands of levels cannot
//! overflow the thread's stack. Nodes live in one arena and are freed (and
//! the arena emptied) as subscriptions go, so memory returns to its baseline
//! once clients leave.

use std::collections::HashMap;

use mqtt_codec::topic::SharedSubscription;
use mqtt_codec::{v5_0, QoS, TopicFilter, TopicName};

pub use super::client_id::ClientId;

/// When retained messages are sent for a new subscription (v5.0 §3.8.3.1,
/// [MQTT-3.3.1-9], [MQTT-3.3.1-10], [MQTT-3.3.1-11]). A v3.1.1 subscription
/// always sends them ([`RetainHandling::SendAtSubscribe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetainHandling {
    /// 0: send them at the time of the subscribe.
    SendAtSubscribe,
    /// 1: send them only if the subscription did not exist yet.
    SendAtSubscribeIfNew,
    /// 2: do not send them.
    DoNotSend,
}

impl From<v5_0::RetainHandling> for RetainHandling {
    fn from(r: v5_0::RetainHandling) -> Self {
        match r {
            v5_0::RetainHandling::SendAtSubscribe => RetainHandling::SendAtSubscribe,
            v5_0::RetainHandling::SendAtSubscribeIfNew => RetainHandling::SendAtSubscribeIfNew,
            v5_0::RetainHandling::DoNotSend => RetainHandling::DoNotSend,
        }
    }
}

/// What a client asked for with one Topic Filter (v5.0 §3.8.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The granted Maximum QoS.
    pub qos: QoS,
    /// No Local: do not send the client what it publishes itself [MQTT-3.8.3-3].
    pub no_local: bool,
    /// Retain As Published: keep the RETAIN flag when forwarding
    /// [MQTT-3.3.1-12], [MQTT-3.3.1-13].
    pub retain_as_published: bool,
    /// Retain Handling.
    pub retain_handling: RetainHandling,
    /// The Subscription Identifier, if any (§3.8.2.1.2).
    pub subscription_id: Option<u32>,
}

impl Subscription {
    /// A subscription at `qos` with every option at its default, as a
    /// v3.1.1 SUBSCRIBE makes.
    pub fn new(qos: QoS) -> Self {
        Subscription {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::SendAtSubscribe,
            subscription_id: None,
        }
    }
}

/// One client that gets one copy of a message, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The client.
    pub client: ClientId,
    /// The maximum granted QoS of the matching subscriptions [MQTT-3.3.4-2];
    /// the message goes at the lower of this and its own QoS.
    pub qos: QoS,
    /// Whether any matching subscription has Retain As Published.
    pub retain_as_published: bool,
    /// The Subscription Identifiers of the matching subscriptions
    /// [MQTT-3.3.4-3], [MQTT-3.3.4-4]; empty (and unallocated) without any.
    pub subscription_ids: Vec<u32>,
}

impl Route {
    fn new(client: &ClientId, sub: &Subscription) -> Self {
        Route {
            client: client.clone(),
            qos: sub.qos,
            retain_as_published: sub.retain_as_published,
            subscription_ids: sub.subscription_id.map(|id| vec![id]).unwrap_or_default(),
        }
    }

    /// Merges another matching subscription of the same client.
    fn merge(&mut self, sub: &Subscription) {
        self.qos = self.qos.max(sub.qos);
        self.retain_as_published |= sub.retain_as_published;
        if let Some(id) = sub.subscription_id {
            self.subscription_ids.push(id);
        }
    }
}

type NodeId = u32;
const ROOT: NodeId = 0;

/// The members of one Shared Subscription, `$share/{name}/{filter}`.
#[derive(Debug)]
struct SharedGroup {
    name: Box<str>,
    members: Vec<(ClientId, Subscription)>,
    /// Where the round-robin looks first for the next message.
    next: usize,
}

/// The subscriptions whose filter ends at one node, one way.
#[derive(Debug, Default)]
struct Entries {
    clients: Vec<(ClientId, Subscription)>,
    groups: Vec<SharedGroup>,
}

impl Entries {
    fn is_empty(&self) -> bool {
        self.clients.is_empty() && self.groups.is_empty()
    }

    /// Adds or replaces; returns whether it replaced one.
    fn upsert(&mut self, group: Option<&str>, client: &ClientId, sub: Subscription) -> bool {
        let list = match group {
            None => &mut self.clients,
            Some(name) => {
                let i = match self.groups.iter().position(|g| &*g.name == name) {
                    Some(i) => i,
                    None => {
                        self.groups.push(SharedGroup {
                            name: name.into(),
                            members: Vec::new(),
                            next: 0,
                        });
                        self.groups.len() - 1
                    }
                };
                &mut self.groups[i].members
            }
        };
        match list.iter_mut().find(|(c, _)| c == client) {
            Some((_, old)) => {
                *old = sub;
                true
            }
            None => {
                list.push((client.clone(), sub));
                false
            }
        }
    }

    /// Removes; returns whether it existed.
    fn remove(&mut self, group: Option<&str>, client: &str) -> bool {
        match group {
            None => remove_member(&mut self.clients, client),
            Some(name) => {
                let Some(i) = self.groups.iter().position(|g| &*g.name == name) else {
                    return false;
                };
                let removed = remove_member(&mut self.groups[i].members, client);
                if self.groups[i].members.is_empty() {
                    // A Shared Subscription ends with its last Session (§4.8.2).
                    self.groups.swap_remove(i);
                }
                removed
            }
        }
    }
}

fn remove_member(list: &mut Vec<(ClientId, Subscription)>, client: &str) -> bool {
    match list.iter().position(|(c, _)| &**c == client) {
        Some(i) => {
            // Order does not matter: routes are per client.
            list.swap_remove(i);
            if list.is_empty() {
                *list = Vec::new();
            }
            true
        }
        None => false,
    }
}

/// A node of the trie: one topic level.
#[derive(Debug, Default)]
struct Node {
    children: HashMap<Box<str>, NodeId>,
    plus: Option<NodeId>,
    /// Filters that end here.
    exact: Entries,
    /// Filters that end here with a `/#` (or `#` alone, at the root): they
    /// match this level and every level below it (§4.7.1.2).
    hash: Entries,
}

impl Node {
    fn is_unused(&self) -> bool {
        self.children.is_empty()
            && self.plus.is_none()
            && self.exact.is_empty()
            && self.hash.is_empty()
    }
}

/// Which entries of a node a filter ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Exact,
    Hash,
}

/// A step from a node to one of its children.
enum Step<'a> {
    Child(&'a str),
    Plus,
}

/// A filter split for the trie: its share name, if shared, and the levels
/// matched against topics.
struct Parsed {
    group: Option<Box<str>>,
    filter: TopicFilter,
}

/// A Shared Subscription filter splits into its ShareName and its filter;
/// any other filter, and one starting with `$share/` that breaks §4.8.2
/// (which the broker refuses on v5.0, and which is ordinary on v3.1.1),
/// stays whole.
fn parse(filter: &TopicFilter) -> Parsed {
    match SharedSubscription::parse(filter) {
        Ok(Some(shared)) => Parsed {
            group: Some(shared.share_name().as_str().into()),
            filter: shared.filter().clone(),
        },
        _ => Parsed {
            group: None,
            filter: filter.clone(),
        },
    }
}

/// The subscriptions of every session, and where a message goes.
///
/// Call [`Router::subscribe`] and [`Router::unsubscribe`] for each filter of
/// a SUBSCRIBE and UNSUBSCRIBE, [`Router::remove_client`] when a session
/// ends, and [`Router::route`] for every PUBLISH. Bounds nothing (the
/// broker bounds sessions) and never panics.
#[derive(Debug)]
pub struct Router {
    /// The trie; `nodes[ROOT]` is the root, freed nodes are in `free`.
    nodes: Vec<Node>,
    free: Vec<NodeId>,
    /// The filters of each client, with their options (the whole filter,
    /// `$share/…` included).
    clients: HashMap<ClientId, HashMap<TopicFilter, Subscription>>,
    count: usize,
    /// Scratch space of [`Router::route`], kept to not allocate per call.
    stack: Vec<(NodeId, Option<usize>)>,
    matched: Vec<(NodeId, End)>,
    seen: HashMap<ClientId, usize>,
}

impl Default for Router {
    fn default() -> Self {
        Router {
            nodes: vec![Node::default()],
            free: Vec::new(),
            clients: HashMap::new(),
            count: 0,
            stack: Vec::new(),
            matched: Vec::new(),
            seen: HashMap::new(),
        }
    }
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the subscription of `client` to `filter`, or replaces the one it
    /// has with the same filter [MQTT-3.8.4-3]. `filter` may be a Shared
    /// Subscription, `$share/{ShareName}/{filter}` (§4.8.2): `client` then
    /// joins that group. Returns whether it replaced one, for Retain
    /// Handling 1 [MQTT-3.3.1-10].
    ///
    /// Takes the filter as is: refusing filters (denied, wildcards or shares
    /// not available, a `$share/` filter that breaks §4.8.2 on v5.0) is the
    /// caller's job.
    pub fn subscribe(
        &mut self,
        client: &ClientId,
        filter: &TopicFilter,
        sub: Subscription,
    ) -> bool {
        // One `Arc` per client, shared by its entries.
        let client = match self.clients.get_key_value(client) {
            Some((key, _)) => key.clone(),
            None => client.clone(),
        };
        let replaced = self
            .clients
            .entry(client.clone())
            .or_default()
            .insert(filter.clone(), sub.clone())
            .is_some();
        let parsed = parse(filter);
        let (node, end) = self.node_for(&parsed.filter);
        let entries = self.entries_mut(node, end);
        entries.upsert(parsed.group.as_deref(), &client, sub);
        if !replaced {
            self.count += 1;
        }
        replaced
    }

    /// Removes the subscription of `client` to `filter` (the whole filter,
    /// `$share/…` included); returns whether it existed: UNSUBACK 0x00
    /// (Success) or 0x11 (No subscription existed) on v5.0 (§3.11.3).
    pub fn unsubscribe(&mut self, client: &ClientId, filter: &TopicFilter) -> bool {
        let Some(filters) = self.clients.get_mut(client) else {
            return false;
        };
        if filters.remove(filter).is_none() {
            return false;
        }
        if filters.is_empty() {
            self.clients.remove(client);
            shrink(&mut self.clients);
        }
        self.remove_from_trie(client, filter);
        self.count -= 1;
        true
    }

    /// Removes every subscription of `client`, when its session ends.
    pub fn remove_client(&mut self, client: &ClientId) {
        let Some(filters) = self.clients.remove(client) else {
            return;
        };
        shrink(&mut self.clients);
        for filter in filters.keys() {
            self.remove_from_trie(client, filter);
        }
        self.count -= filters.len();
    }

    /// The subscriptions of `client`, sorted by filter (for tests and the
    /// broker's introspection).
    pub fn subscriptions_of(&self, client: &ClientId) -> Vec<(TopicFilter, Subscription)> {
        let mut subs: Vec<_> = self
            .clients
            .get(client)
            .map(|filters| {
                filters
                    .iter()
                    .map(|(f, s)| (f.clone(), s.clone()))
                    .collect()
            })
            .unwrap_or_default();
        subs.sort_by(|a, b| a.0.cmp(&b.0));
        subs
    }

    /// Appends to `out` the clients a message published to `topic` by
    /// `publisher` goes to. Call for every PUBLISH, reusing `out`.
    ///
    /// - Non-shared subscriptions: one [`Route`] per client, merging that
    ///   client's overlapping matching subscriptions: the maximum QoS
    ///   [MQTT-3.3.4-2], every Subscription Identifier [MQTT-3.3.4-3],
    ///   [MQTT-3.3.4-4], Retain As Published if any has it. A subscription
    ///   with No Local is skipped when `client == publisher` [MQTT-3.8.3-3].
    /// - Shared subscriptions: for each matching `(ShareName, filter)`,
    ///   exactly one member (§4.8.2), chosen round-robin among those for which
    ///   `online` is true, or among all members when none is. Each is its own
    ///   [`Route`]: a client may get one copy from its own subscription and
    ///   one from a share.
    /// - Filters starting with a wildcard do not match topics starting with
    ///   `$` [MQTT-4.7.2-1].
    pub fn route(
        &mut self,
        topic: &TopicName,
        publisher: &str,
        online: impl Fn(&str) -> bool,
        out: &mut Vec<Route>,
    ) {
        let Router {
            nodes,
            stack,
            matched,
            seen,
            ..
        } = self;
        let topic = topic.as_str();
        if topic.is_empty() {
            return;
        }
        let dollar = topic.starts_with('$');
        matched.clear();
        stack.clear();
        stack.push((ROOT, Some(0)));
        while let Some((id, pos)) = stack.pop() {
            let Some(node) = nodes.get(id as usize) else {
                continue;
            };
            // Wildcards at the first level never match a `$` topic.
            let wildcards = !(dollar && pos == Some(0));
            if wildcards && !node.hash.is_empty() {
                matched.push((id, End::Hash));
            }
            let Some(start) = pos else {
                if !node.exact.is_empty() {
                    matched.push((id, End::Exact));
                }
                continue;
            };
            let rest = topic.get(start..).unwrap_or_default();
            let (level, next) = match rest.find('/') {
                Some(i) => (&rest[..i], Some(start + i + 1)),
                None => (rest, None),
            };
            if let Some(&child) = node.children.get(level) {
                stack.push((child, next));
            }
            if wildcards {
                if let Some(plus) = node.plus {
                    stack.push((plus, next));
                }
            }
        }

        // Merging is needed only when more than one list of non-shared
        // subscribers matched: a client is at most once in each.
        let lists = matched
            .iter()
            .filter(|&&(id, end)| entries(nodes, id, end).is_some_and(|e| !e.clients.is_empty()))
            .count();
        let merge = lists > 1;
        seen.clear();
        for &(id, end) in matched.iter() {
            let Some(entries) = entries_mut(nodes, id, end) else {
                continue;
            };
            for (client, sub) in &entries.clients {
                if sub.no_local && &**client == publisher {
                    continue;
                }
                if merge {
                    if let Some(&i) = seen.get(client) {
                        if let Some(route) = out.get_mut(i) {
                            route.merge(sub);
                        }
                        continue;
                    }
                    seen.insert(client.clone(), out.len());
                }
                out.push(Route::new(client, sub));
            }
            for group in &mut entries.groups {
                if let Some(i) = pick(group, publisher, &online) {
                    group.next = i + 1;
                    let (client, sub) = &group.members[i];
                    out.push(Route::new(client, sub));
                }
            }
        }
        if seen.capacity() > 1024 && seen.len() < seen.capacity() / 4 {
            seen.shrink_to_fit();
        }
    }

    /// The number of (client, filter) subscriptions.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there is no subscription at all.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The node and entries `filter` (not shared) ends in, created as needed.
    fn node_for(&mut self, filter: &TopicFilter) -> (NodeId, End) {
        let mut node = ROOT;
        for level in filter.levels() {
            if level == "#" {
                // Always the last level [MQTT-4.7.1-1].
                return (node, End::Hash);
            }
            let existing = match level {
                "+" => self.nodes[node as usize].plus,
                _ => self.nodes[node as usize].children.get(level).copied(),
            };
            node = match existing {
                Some(child) => child,
                None => {
                    let child = self.alloc();
                    let parent = &mut self.nodes[node as usize];
                    match level {
                        "+" => parent.plus = Some(child),
                        _ => {
                            parent.children.insert(level.into(), child);
                        }
                    }
                    child
                }
            };
        }
        (node, End::Exact)
    }

    fn alloc(&mut self) -> NodeId {
        if let Some(id) = self.free.pop() {
            return id;
        }
        self.nodes.push(Node::default());
        // More than 4 billion nodes would take far more memory than a
        // broker has; saturate rather than wrap.
        NodeId::try_from(self.nodes.len() - 1).unwrap_or(NodeId::MAX)
    }

    fn entries_mut(&mut self, node: NodeId, end: End) -> &mut Entries {
        let node = &mut self.nodes[node as usize];
        match end {
            End::Exact => &mut node.exact,
            End::Hash => &mut node.hash,
        }
    }

    /// Removes `client`'s entry for `filter` from the trie and frees the
    /// nodes nothing uses any more.
    fn remove_from_trie(&mut self, client: &str, filter: &TopicFilter) {
        let parsed = parse(filter);
        // The path from the root: (parent, step to the child).
        let mut path: Vec<(NodeId, Step<'_>)> = Vec::new();
        let mut node = ROOT;
        let mut end = End::Exact;
        for level in parsed.filter.levels() {
            if level == "#" {
                end = End::Hash;
                break;
            }
            let n = &self.nodes[node as usize];
            let (child, step) = match level {
                "+" => (n.plus, Step::Plus),
                _ => (n.children.get(level).copied(), Step::Child(level)),
            };
            let Some(child) = child else {
                return;
            };
            path.push((node, step));
            node = child;
        }
        self.entries_mut(node, end)
            .remove(parsed.group.as_deref(), client);
        // Prune upwards.
        while let Some((parent, step)) = path.pop() {
            if !self.nodes[node as usize].is_unused() {
                break;
            }
            self.nodes[node as usize] = Node::default();
            self.free.push(node);
            let p = &mut self.nodes[parent as usize];
            match step {
                Step::Plus => p.plus = None,
                Step::Child(level) => {
                    p.children.remove(level);
                    shrink(&mut p.children);
                }
            }
            node = parent;
        }
        if self.free.len() + 1 == self.nodes.len() {
            // Only the root is left: give the arena back.
            self.nodes.truncate(1);
            self.nodes.shrink_to_fit();
            self.free = Vec::new();
        }
    }
}

fn entries(nodes: &[Node], id: NodeId, end: End) -> Option<&Entries> {
    let node = nodes.get(id as usize)?;
    Some(match end {
        End::Exact => &node.exact,
        End::Hash => &node.hash,
    })
}

fn entries_mut(nodes: &mut [Node], id: NodeId, end: End) -> Option<&mut Entries> {
    let node = nodes.get_mut(id as usize)?;
    Some(match end {
        End::Exact => &mut node.exact,
        End::Hash => &mut node.hash,
    })
}

/// The member of a Shared Subscription that gets the next message:
/// round-robin from `group.next`, the first online one, else the first one
/// at all. A member with No Local (a Protocol Error on a share
/// [MQTT-3.8.3-4], refused by the broker) is skipped for its own messages.
fn pick(group: &SharedGroup, publisher: &str, online: &impl Fn(&str) -> bool) -> Option<usize> {
    let n = group.members.len();
    let mut fallback = None;
    for k in 0..n {
        let i = (group.next + k) % n;
        let (client, sub) = &group.members[i];
        if sub.no_local && &**client == publisher {
            continue;
        }
        if online(client) {
            return Some(i);
        }
        fallback.get_or_insert(i);
    }
    fallback
}

/// Gives memory back once a map has shrunk well below its capacity.
fn shrink<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > 16 && map.len() < map.capacity() / 4 {
        map.shrink_to_fit();
    }
}

/// Whether a SUBSCRIBE to `requested` is refused by one of the `deny`
/// filters (SUBACK 0x80): `requested` is equal to one, or every topic it can
/// match is matched by one, level by level (`secret/#` refuses `secret`,
/// `secret/a`, `secret/+/x` and `secret/#`; `secret/+` refuses `secret/a` and
/// `secret/+` but not `secret/#`). A deny filter starting with a wildcard
/// does not cover `$` topics, as it would not match them [MQTT-4.7.2-1]. A
/// Shared Subscription is refused when its own filter is.
pub fn is_denied(deny: &[TopicFilter], requested: &TopicFilter) -> bool {
    let shared = SharedSubscription::parse(requested).ok().flatten();
    deny.iter()
        .any(|d| covers(d, requested) || shared.as_ref().is_some_and(|s| covers(d, s.filter())))
}

/// Whether every topic `requested` matches is matched by `deny`.
fn covers(deny: &TopicFilter, requested: &TopicFilter) -> bool {
    if deny == requested {
        return true;
    }
    let (d, r) = (deny.as_str(), requested.as_str());
    if (d.starts_with('+') || d.starts_with('#')) && r.starts_with('$') {
        return false;
    }
    let mut d_levels = deny.levels();
    let mut r_levels = requested.levels();
    loop {
        match (d_levels.next(), r_levels.next()) {
            // `#` covers the rest, the parent level included.
            (Some("#"), _) => return true,
            // `+` covers any single level, but not a `#`.
            (Some("+"), Some(r)) if r != "#" => {}
            // A literal level covers only itself.
            (Some(d), Some(r)) if d != "+" && d == r => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> TopicFilter {
        TopicFilter::new(s).unwrap()
    }

    fn t(s: &str) -> TopicName {
        TopicName::new(s).unwrap()
    }

    fn id(s: &str) -> ClientId {
        ClientId::from(s)
    }

    fn sub(qos: u8) -> Subscription {
        Subscription::new(QoS::try_from(qos).unwrap())
    }

    fn with_id(qos: u8, id: u32) -> Subscription {
        Subscription {
            subscription_id: Some(id),
            ..sub(qos)
        }
    }

    /// The routes of a message on `topic` from `publisher`, every client online,
    /// sorted by client.
    fn route(router: &mut Router, topic: &str, publisher: &str) -> Vec<Route> {
        let mut out = Vec::new();
        router.route(&t(topic), publisher, |_| true, &mut out);
        out.sort_by(|a, b| a.client.cmp(&b.client));
        out
    }

    fn clients(routes: &[Route]) -> Vec<&str> {
        routes.iter().map(|r| &*r.client).collect()
    }

    /// §4.7.1: exact, `+` and `#` filters match as the spec's examples say.
    #[test]
    fn wildcard_matching() {
        let mut r = Router::new();
        for (client, filter) in [
            ("exact", "sport/tennis/player1"),
            ("plus", "sport/tennis/+"),
            ("hash", "sport/tennis/player1/#"),
            ("all", "#"),
            ("sport-hash", "sport/#"),
            ("plus-plus", "+/+"),
            ("lead-plus", "+/tennis/#"),
            ("slash", "/finance"),
            ("slash-plus", "+/finance"),
        ] {
            r.subscribe(&id(client), &f(filter), sub(0));
        }
        assert_eq!(
            clients(&route(&mut r, "sport/tennis/player1", "p")),
            ["all", "exact", "hash", "lead-plus", "plus", "sport-hash"]
        );
        assert_eq!(
            clients(&route(&mut r, "sport/tennis/player1/ranking", "p")),
            ["all", "hash", "lead-plus", "sport-hash"]
        );
        // `#` matches the parent level too (§4.7.1.2).
        assert_eq!(clients(&route(&mut r, "sport", "p")), ["all", "sport-hash"]);
        assert_eq!(
            clients(&route(&mut r, "sport/", "p")),
            ["all", "plus-plus", "sport-hash"]
        );
        assert_eq!(
            clients(&route(&mut r, "/finance", "p")),
            ["all", "plus-plus", "slash", "slash-plus"]
        );
        assert_eq!(clients(&route(&mut r, "other", "p")), ["all"]);
        // Case-sensitive, no normalization [MQTT-4.7.3-4].
        assert_eq!(
            clients(&route(&mut r, "Sport/tennis/player1", "p")),
            ["all", "lead-plus"]
        );
        assert_eq!(
            clients(&route(&mut r, "sport/Tennis/x", "p")),
            ["all", "sport-hash"]
        );
    }

    /// [MQTT-4.7.2-1] `$SYS/x` is not matched by `#` or `+/x`, but by `$SYS/#`.
    #[test]
    fn dollar_topics() {
        let mut r = Router::new();
        r.subscribe(&id("all"), &f("#"), sub(0));
        r.subscribe(&id("plus"), &f("+/x"), sub(0));
        r.subscribe(&id("sys"), &f("$SYS/#"), sub(0));
        r.subscribe(&id("sys-plus"), &f("$SYS/+"), sub(0));
        r.subscribe(&id("shared"), &f("$share/g/#"), sub(0));
        assert_eq!(clients(&route(&mut r, "$SYS/x", "p")), ["sys", "sys-plus"]);
        assert_eq!(
            clients(&route(&mut r, "a/x", "p")),
            ["all", "plus", "shared"]
        );
    }

    /// [MQTT-3.3.4-2], [MQTT-3.3.4-3], [MQTT-3.3.4-4]: overlapping
    /// subscriptions of one client give one route at the maximum QoS with
    /// every Subscription Identifier; Retain As Published if any has it.
    #[test]
    fn overlapping_subscriptions_merge() {
        let mut r = Router::new();
        let c = id("c");
        r.subscribe(&c, &f("a/+"), with_id(0, 1));
        r.subscribe(&c, &f("a/#"), with_id(2, 2));
        r.subscribe(&c, &f("a/b"), sub(1));
        r.subscribe(
            &c,
            &f("#"),
            Subscription {
                retain_as_published: true,
                ..with_id(1, 4)
            },
        );
        r.subscribe(&id("other"), &f("a/b"), sub(1));
        let routes = route(&mut r, "a/b", "p");
        assert_eq!(routes.len(), 2);
        let mine = &routes[0];
        assert_eq!(&*mine.client, "c");
        assert_eq!(mine.qos, QoS::ExactlyOnce);
        assert!(mine.retain_as_published);
        let mut ids = mine.subscription_ids.clone();
        ids.sort_unstable();
        assert_eq!(ids, [1, 2, 4]);
        assert_eq!(
            routes[1],
            Route {
                client: id("other"),
                qos: QoS::AtLeastOnce,
                retain_as_published: false,
                subscription_ids: vec![],
            }
        );
        // Only one of them matches: no merge needed, one route.
        let routes = route(&mut r, "a/b/c", "p");
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0].qos, QoS::ExactlyOnce);
        let mut ids = routes[0].subscription_ids.clone();
        ids.sort_unstable();
        assert_eq!(ids, [2, 4]);
    }

    /// `route` appends: what `out` held stays, and merging looks only at
    /// what this call added.
    #[test]
    fn route_appends() {
        let mut r = Router::new();
        r.subscribe(&id("c"), &f("a"), sub(0));
        r.subscribe(&id("c"), &f("#"), sub(1));
        let mut out = vec![Route::new(&id("c"), &sub(0))];
        r.route(&t("a"), "p", |_| true, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].qos, QoS::AtMostOnce);
        assert_eq!(out[1].qos, QoS::AtLeastOnce);
    }

    /// [MQTT-3.8.3-3] No Local: not sent back to the publishing client, but
    /// still to others, and the client's other subscriptions still apply.
    #[test]
    fn no_local() {
        let mut r = Router::new();
        let no_local = Subscription {
            no_local: true,
            ..sub(1)
        };
        r.subscribe(&id("me"), &f("chat/#"), no_local.clone());
        r.subscribe(&id("you"), &f("chat/#"), no_local);
        assert_eq!(clients(&route(&mut r, "chat/room", "me")), ["you"]);
        assert_eq!(clients(&route(&mut r, "chat/room", "x")), ["me", "you"]);
        r.subscribe(&id("me"), &f("chat/room"), sub(0));
        let routes = route(&mut r, "chat/room", "me");
        assert_eq!(clients(&routes), ["me", "you"]);
        assert_eq!(routes[0].qos, QoS::AtMostOnce);
    }

    /// §4.8.2: each message goes to exactly one member of a share,
    /// round-robin; every member gets its turn.
    #[test]
    fn shared_round_robin() {
        let mut r = Router::new();
        for c in ["a", "b", "c"] {
            r.subscribe(&id(c), &f("$share/g/jobs/+"), sub(1));
        }
        let mut counts = HashMap::new();
        for _ in 0..9 {
            let routes = route(&mut r, "jobs/1", "p");
            assert_eq!(routes.len(), 1, "exactly one member");
            *counts.entry(routes[0].client.clone()).or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 3);
        assert!(counts.values().all(|&n| n == 3), "{counts:?}");
        assert!(route(&mut r, "jobs/1/x", "p").is_empty());
    }

    /// §4.8.2: two groups on the same filter each get a copy, and a
    /// non-shared subscriber gets its own; a member that also subscribes
    /// on its own may get two copies.
    #[test]
    fn shared_groups_are_separate() {
        let mut r = Router::new();
        r.subscribe(&id("a"), &f("$share/one/sport/#"), with_id(1, 7));
        r.subscribe(&id("b"), &f("$share/two/sport/#"), sub(2));
        r.subscribe(&id("a"), &f("sport/tennis"), sub(0));
        let routes = route(&mut r, "sport/tennis", "p");
        assert_eq!(clients(&routes), ["a", "a", "b"]);
        assert!(routes.contains(&Route {
            client: id("a"),
            qos: QoS::AtLeastOnce,
            retain_as_published: false,
            subscription_ids: vec![7],
        }));
        // Another filter in the same group is another Shared Subscription.
        r.subscribe(&id("c"), &f("$share/one/sport/+"), sub(0));
        assert_eq!(route(&mut r, "sport/tennis", "p").len(), 4);
        assert_eq!(r.len(), 4);
    }

    /// Members that are online are preferred; with none online, one offline
    /// member still gets it (its session queues it).
    #[test]
    fn shared_prefers_online_members() {
        let mut r = Router::new();
        for c in ["a", "b", "c"] {
            r.subscribe(&id(c), &f("$share/g/t"), sub(1));
        }
        for _ in 0..6 {
            let mut out = Vec::new();
            r.route(&t("t"), "p", |c| c == "b", &mut out);
            assert_eq!(clients(&out), ["b"]);
        }
        let mut out = Vec::new();
        r.route(&t("t"), "p", |_| false, &mut out);
        assert_eq!(out.len(), 1);
    }

    /// [MQTT-3.8.4-3] the same filter again replaces the subscription:
    /// `subscribe` says so (Retain Handling 1, [MQTT-3.3.1-10]) and the new
    /// options apply.
    #[test]
    fn replacement() {
        let mut r = Router::new();
        let c = id("c");
        assert!(!r.subscribe(&c, &f("a/+"), with_id(0, 1)));
        assert!(r.subscribe(&c, &f("a/+"), with_id(2, 5)));
        assert_eq!(r.len(), 1);
        let routes = route(&mut r, "a/b", "p");
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0].qos, QoS::ExactlyOnce);
        assert_eq!(routes[0].subscription_ids, [5]);
        assert_eq!(r.subscriptions_of(&c), [(f("a/+"), with_id(2, 5))]);
        // A share too; another client's equal filter is not a replacement.
        assert!(!r.subscribe(&c, &f("$share/g/a"), sub(0)));
        assert!(r.subscribe(&c, &f("$share/g/a"), sub(1)));
        assert!(!r.subscribe(&id("d"), &f("a/+"), sub(0)));
        assert_eq!(r.len(), 3);
        // The same client under another `Arc` is the same client.
        assert!(r.subscribe(&id("c"), &f("a/+"), sub(0)));
    }

    /// UNSUBACK 0x00 vs 0x11 (§3.11.3): whether the subscription existed.
    #[test]
    fn unsubscribe() {
        let mut r = Router::new();
        let c = id("c");
        r.subscribe(&c, &f("a/#"), sub(1));
        r.subscribe(&c, &f("$share/g/a/#"), sub(1));
        r.subscribe(&id("d"), &f("a/#"), sub(1));
        assert!(!r.unsubscribe(&c, &f("a/+")));
        assert!(!r.unsubscribe(&id("nobody"), &f("a/#")));
        assert!(r.unsubscribe(&c, &f("a/#")));
        assert!(!r.unsubscribe(&c, &f("a/#")));
        assert_eq!(clients(&route(&mut r, "a/b", "p")), ["c", "d"]);
        assert!(r.unsubscribe(&c, &f("$share/g/a/#")));
        assert_eq!(clients(&route(&mut r, "a/b", "p")), ["d"]);
        assert!(r.subscriptions_of(&c).is_empty());
        assert_eq!(r.len(), 1);
    }

    /// A session that ends takes all its subscriptions; the trie is freed
    /// once nothing is left.
    #[test]
    fn remove_client() {
        let mut r = Router::new();
        let c = id("c");
        for filter in ["a/b/c", "a/+/c", "a/#", "#", "$share/g/x/y", "+/+/+/+"] {
            r.subscribe(&c, &f(filter), with_id(1, 3));
        }
        r.subscribe(&id("d"), &f("a/b/c"), sub(0));
        assert_eq!(r.len(), 7);
        assert_eq!(r.subscriptions_of(&c).len(), 6);
        r.remove_client(&c);
        assert_eq!(r.len(), 1);
        assert!(r.subscriptions_of(&c).is_empty());
        assert_eq!(clients(&route(&mut r, "a/b/c", "p")), ["d"]);
        assert!(route(&mut r, "x/y", "p").is_empty());
        r.remove_client(&c);
        r.remove_client(&id("d"));
        assert!(r.is_empty());
        assert_eq!(r.nodes.len(), 1, "only the root is left");
        assert!(r.clients.is_empty());
        // And it works again afterwards.
        r.subscribe(&c, &f("a/b"), sub(0));
        assert_eq!(clients(&route(&mut r, "a/b", "p")), ["c"]);
    }

    /// Removing one filter prunes only the nodes no other filter uses.
    #[test]
    fn pruning_keeps_shared_prefixes() {
        let mut r = Router::new();
        r.subscribe(&id("c"), &f("a/b/c/d"), sub(0));
        r.subscribe(&id("c"), &f("a/b"), sub(0));
        r.subscribe(&id("c"), &f("a/+/c"), sub(0));
        r.unsubscribe(&id("c"), &f("a/b/c/d"));
        assert_eq!(clients(&route(&mut r, "a/b", "p")), ["c"]);
        assert_eq!(clients(&route(&mut r, "a/b/c", "p")), ["c"]);
        assert!(route(&mut r, "a/b/c/d", "p").is_empty());
        let live = r.nodes.len() - r.free.len();
        assert_eq!(live, 5, "root, a, a/b, a/+, a/+/c");
    }

    /// Filters and topics of many levels walk without recursion.
    #[test]
    fn deep_topics() {
        let mut r = Router::new();
        let deep = "a/".repeat(20_000) + "b";
        r.subscribe(&id("c"), &f(&deep), sub(0));
        r.subscribe(&id("d"), &f(&("+/".repeat(20_000) + "#")), sub(0));
        assert_eq!(clients(&route(&mut r, &deep, "p")), ["c", "d"]);
        r.remove_client(&id("c"));
        r.remove_client(&id("d"));
        assert_eq!(r.nodes.len(), 1);
    }

    /// `$share/` filters that break §4.8.2 are kept as ordinary filters (as
    /// v3.1.1 reads them).
    #[test]
    fn malformed_share_is_literal() {
        let mut r = Router::new();
        r.subscribe(&id("c"), &f("$share/g"), sub(0));
        assert_eq!(clients(&route(&mut r, "$share/g", "p")), ["c"]);
        assert!(r.unsubscribe(&id("c"), &f("$share/g")));
    }

    /// The trie agrees with [`TopicFilter::matches`] (§4.7) on many
    /// generated filters and topics, through subscribes and unsubscribes.
    #[test]
    fn agrees_with_topic_filter_matches() {
        // A small deterministic generator (xorshift), so the test needs no
        // dependency and always runs the same cases.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let level = |k: u64| ["a", "b", "", "$x"][k as usize];
        let gen_filter = |next: &mut dyn FnMut(u64) -> u64| {
            let n = 1 + next(4);
            let mut levels = Vec::new();
            for i in 0..n {
                match next(6) {
                    0 if i + 1 == n => levels.push("#"),
                    1 => levels.push("+"),
                    k => levels.push(level(k % 4)),
                }
            }
            let filter = levels.join("/");
            if filter.is_empty() {
                "a".to_string()
            } else {
                filter
            }
        };
        let mut r = Router::new();
        let mut subs: Vec<(ClientId, TopicFilter)> = Vec::new();
        for round in 0..400 {
            let client = id(&format!("c{}", next(8)));
            let filter = f(&gen_filter(&mut next));
            if next(4) == 0 && !subs.is_empty() {
                let (c, old) = subs.swap_remove(next(subs.len() as u64) as usize);
                assert!(r.unsubscribe(&c, &old), "round {round}");
            } else if !subs.contains(&(client.clone(), filter.clone())) {
                r.subscribe(&client, &filter, sub(0));
                subs.push((client, filter));
            }
            assert_eq!(r.len(), subs.len());
            for _ in 0..5 {
                let n = 1 + next(4);
                let topic: Vec<_> = (0..n).map(|_| level(next(4))).collect();
                let topic = topic.join("/");
                if topic.is_empty() {
                    continue;
                }
                let topic = t(&topic);
                let mut expected: Vec<&str> = subs
                    .iter()
                    .filter(|(_, filter)| filter.matches(&topic))
                    .map(|(c, _)| &**c)
                    .collect();
                expected.sort_unstable();
                expected.dedup();
                let routes = route(&mut r, topic.as_str(), "p");
                assert_eq!(clients(&routes), expected, "{topic} in round {round}");
            }
        }
        for (c, filter) in subs {
            assert!(r.unsubscribe(&c, &filter));
        }
        assert!(r.is_empty());
        assert_eq!(r.nodes.len(), 1);
    }

    #[test]
    fn retain_handling_from_codec() {
        assert_eq!(
            RetainHandling::from(v5_0::RetainHandling::SendAtSubscribeIfNew),
            RetainHandling::SendAtSubscribeIfNew
        );
        assert_eq!(
            RetainHandling::from(v5_0::RetainHandling::DoNotSend),
            RetainHandling::DoNotSend
        );
    }

    /// SUBACK 0x80 for filters equal to or covered by a deny filter.
    #[test]
    fn deny() {
        let deny = [f("secret/#"), f("private/+/key"), f("exact")];
        for refused in [
            "secret",
            "secret/a",
            "secret/+/x",
            "secret/#",
            "private/+/key",
            "private/me/key",
            "exact",
            "$share/g/secret/a",
        ] {
            assert!(is_denied(&deny, &f(refused)), "{refused}");
        }
        for allowed in [
            "secrets",
            "#",
            "+/a",
            "private/#",
            "private/+/+",
            "private/me/key/x",
            "exact/x",
            "exac",
            "$share/g/public",
        ] {
            assert!(!is_denied(&deny, &f(allowed)), "{allowed}");
        }
        let plus = [f("a/+")];
        assert!(is_denied(&plus, &f("a/+")));
        assert!(is_denied(&plus, &f("a/b")));
        assert!(!is_denied(&plus, &f("a/#")));
        assert!(!is_denied(&plus, &f("a")));
        // [MQTT-4.7.2-1] `#` does not cover `$` topics, `$SYS/#` does.
        let all = [f("#")];
        assert!(is_denied(&all, &f("a/b")));
        assert!(is_denied(&all, &f("+/#")));
        assert!(!is_denied(&all, &f("$SYS/#")));
        assert!(is_denied(&[f("$SYS/#")], &f("$SYS/+")));
        assert!(!is_denied(&[], &f("a")));
    }
}
