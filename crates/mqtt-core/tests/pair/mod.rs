//! The simulated client/broker pair the flow tests drive.
//!
//! A client `GenericConnection<role::Client, P>` and a server
//! `GenericConnection<role::Server, P>` are joined by an in-memory link: one
//! byte queue per direction. Each step of [`Pair::drive`] delivers a chunk of
//! each queue, cut where a seeded [`Splitter`] says, so packets arrive split
//! and merged at arbitrary points. Every event is handled as a real driver
//! handles it: `RequestSendPacket` is encoded onto the link (and counted),
//! `NotifyPacketReceived` recorded, timer requests applied to a
//! [`TimerTable`] per side against the pair's fake clock ([`Pair::now`]),
//! which runs only when the test says ([`Pair::advance`] fires what falls
//! due, earliest first; [`Pair::fire`] forces one timer now),
//! `RequestClose` closes the link once what was written is delivered. The
//! step count is bounded, so a livelock fails the test instead of hanging it
//! (the quinn-proto `Pair` model).
//!
//! Sends go through the API a driver uses and must succeed
//! ([`Pair::send`], [`Pair::publish`], [`Pair::acknowledge`]); one the test
//! expects refused goes through [`Pair::refuse`] or
//! [`Pair::refuse_publish`], which check that the refusal changed nothing.
#![allow(dead_code)]

pub mod packets;
pub mod splitter;

mod endpoint;

use std::time::Duration;

use mqtt_codec::{Encode, GenericPacket, PacketId, ProtocolVersion};
use mqtt_core::role::{self, Role};
use mqtt_core::{AckPolicy, ConnectionError, ConnectionOptions, GenericConnection, MonotonicTime};

pub use endpoint::*;
pub use packets::*;
pub use splitter::Splitter;

/// The step bound of [`Pair::drive`].
pub const MAX_STEPS: usize = 100_000;

/// How to build a [`Pair`].
#[derive(Clone, Debug)]
pub struct PairConfig {
    /// The version both sides speak (the client's; the server's too unless
    /// it detects it).
    pub version: ProtocolVersion,
    /// The client's options.
    pub client: ConnectionOptions,
    /// The server's options.
    pub server: ConnectionOptions,
    /// Whether the server learns the version from the CONNECT.
    pub server_detects_version: bool,
    /// Where the link cuts the stream.
    pub splitter: Splitter,
}

impl PairConfig {
    /// Default options on both sides (acknowledgements on receipt, PINGRESP
    /// answered, PINGRESP awaited for the Keep Alive), a version-detecting
    /// server, and a splitter seeded with `0x5EED`.
    pub fn new(version: ProtocolVersion) -> Self {
        PairConfig {
            version,
            client: ConnectionOptions::default(),
            server: ConnectionOptions::default(),
            server_detects_version: true,
            splitter: Splitter::seeded(0x5EED),
        }
    }

    /// As [`new`](Self::new), with no automation on either side: the
    /// application sends PUBACK, PUBREC, PUBREL, PUBCOMP and PINGRESP
    /// itself, and the client waits for a PINGRESP forever.
    pub fn manual(version: ProtocolVersion) -> Self {
        let mut config = Self::new(version);
        for options in [&mut config.client, &mut config.server] {
            *options = manual_options();
        }
        config
    }

    /// Builds the pair.
    pub fn build<P: PacketId>(self) -> Pair<P> {
        Pair::new(self)
    }
}

/// Options with no automation: [`AckPolicy::Manual`], no automatic
/// PINGRESP, no PINGRESP timeout.
pub fn manual_options() -> ConnectionOptions {
    let mut options = ConnectionOptions::default();
    options.ack = AckPolicy::Manual;
    options.auto_ping_response = false;
    options.pingresp_recv_timeout = Some(Duration::ZERO);
    options
}

/// A client and a server joined by an in-memory link. The roles are
/// `role::Client` and `role::Server` unless built with
/// [`Pair::from_connections`] (e.g. two `role::Any`).
pub struct Pair<P: PacketId = u16, C: Role = role::Client, S: Role = role::Server> {
    /// The client side.
    pub client: Endpoint<C, P>,
    /// The server side.
    pub server: Endpoint<S, P>,
    /// Where the link cuts the stream.
    pub splitter: Splitter,
    /// Whether the link is up.
    pub link_up: bool,
    /// The version the pair was built for.
    pub version: ProtocolVersion,
    /// Steps taken by all `drive` calls.
    pub steps: usize,
    /// Bytes lost because the receiving side had closed.
    pub lost_bytes: usize,
    /// Chunks delivered (each a `recv` call).
    pub chunks: usize,
    /// The fake clock: the timers' deadlines and both connections' time.
    pub now: MonotonicTime,
}

/// Runs `$body` with `$ep` bound to the endpoint of `$side`.
macro_rules! with_side {
    ($pair:expr, $side:expr, $ep:ident => $body:expr) => {
        match $side {
            Side::Client => {
                let $ep = &mut $pair.client;
                $body
            }
            Side::Server => {
                let $ep = &mut $pair.server;
                $body
            }
        }
    };
}

mod calls;
mod clock;

impl<P: PacketId> Pair<P> {
    /// A pair built from `config`, link up, nothing sent.
    pub fn new(config: PairConfig) -> Self {
        let client = GenericConnection::<role::Client, P>::with_options(
            config.version,
            config.client.clone(),
        );
        let server = if config.server_detects_version {
            GenericConnection::<role::Server, P>::detect_version_with_options(config.server.clone())
        } else {
            GenericConnection::<role::Server, P>::with_options(
                config.version,
                config.server.clone(),
            )
        };
        Pair {
            client: Endpoint::new(client),
            server: Endpoint::new(server),
            splitter: config.splitter,
            link_up: true,
            version: config.version,
            steps: 0,
            lost_bytes: 0,
            chunks: 0,
            now: MonotonicTime::ZERO,
        }
    }

    /// Default options, a version-detecting server.
    pub fn with_version(version: ProtocolVersion) -> Self {
        PairConfig::new(version).build()
    }

    /// A new link to a new server connection with `options` (a server that
    /// forgot the client, or another server). The old link is closed first.
    pub fn new_server(&mut self, detect: bool, options: ConnectionOptions) {
        self.close_link();
        let conn = if detect {
            GenericConnection::<role::Server, P>::detect_version_with_options(options)
        } else {
            GenericConnection::<role::Server, P>::with_options(self.version, options)
        };
        self.server = Endpoint::new(conn);
        self.server.conn.set_time(self.now);
        self.link_up = true;
        self.client.close_requested = false;
    }
}

impl<P: PacketId, C: Role, S: Role> Pair<P, C, S> {
    /// A pair of two existing connections speaking `version`, link up.
    pub fn from_connections(
        version: ProtocolVersion,
        client: GenericConnection<C, P>,
        server: GenericConnection<S, P>,
        splitter: Splitter,
    ) -> Self {
        Pair {
            client: Endpoint::new(client),
            server: Endpoint::new(server),
            splitter,
            link_up: true,
            version,
            steps: 0,
            lost_bytes: 0,
            chunks: 0,
            now: MonotonicTime::ZERO,
        }
    }

    /// Writes `bytes` onto the link from `from`, as if its driver wrote them
    /// behind the connection's back (a misbehaving peer).
    pub fn inject(&mut self, from: Side, bytes: &[u8]) {
        with_side!(self, from, ep => ep.outbox.extend_from_slice(bytes))
    }

    /// Encodes `packet` onto the link from `from` without its connection
    /// seeing it: a peer that sends what our core would refuse to send.
    pub fn inject_packet(&mut self, from: Side, packet: &GenericPacket<P>) {
        with_side!(self, from, ep => {
            packet.encode(&mut ep.outbox).expect("encodable packet");
        })
    }

    /// Delivers everything `from` wrote to its peer in one piece and lets the
    /// peer consume it, without delivering anything the other way.
    pub fn deliver(&mut self, from: Side) {
        if !self.link_up {
            return;
        }
        let mut whole = Splitter::whole();
        let delivered = match from {
            Side::Client => transfer(
                &mut self.client,
                &mut self.server,
                &mut whole,
                &mut self.lost_bytes,
                self.now,
            ),
            Side::Server => transfer(
                &mut self.server,
                &mut self.client,
                &mut whole,
                &mut self.lost_bytes,
                self.now,
            ),
        };
        self.chunks += usize::from(delivered);
    }

    /// Sends, then drives until quiet.
    pub fn send_drive(&mut self, side: Side, packet: GenericPacket<P>) {
        self.send(side, packet);
        self.drive();
    }

    /// A fresh packet identifier from `side`'s connection.
    pub fn acquire(&mut self, side: Side) -> P {
        with_side!(self, side, ep => ep.conn.acquire_packet_id().expect("a free packet identifier"))
    }

    /// Marks `id` in use on `side`'s connection (it must be free).
    pub fn register(&mut self, side: Side, id: P) {
        with_side!(self, side, ep => ep.conn.register_packet_id(id).expect("a free packet identifier"))
    }

    /// Delivers bytes until neither side has anything to deliver and no close
    /// is pending; panics after [`MAX_STEPS`] steps (a livelock).
    pub fn drive(&mut self) {
        for _ in 0..MAX_STEPS {
            self.steps += 1;
            if !self.step() {
                return;
            }
        }
        panic!(
            "the pair is not quiet after {MAX_STEPS} steps\nclient: {:#?}\nserver: {:#?}",
            tail(&self.client.log),
            tail(&self.server.log)
        );
    }

    /// One step: a chunk each way, then the close of a link whose closing
    /// side has flushed. Whether anything happened.
    pub fn step(&mut self) -> bool {
        let mut progressed = false;
        if self.link_up {
            for client_to_server in [true, false] {
                let delivered = if client_to_server {
                    transfer(
                        &mut self.client,
                        &mut self.server,
                        &mut self.splitter,
                        &mut self.lost_bytes,
                        self.now,
                    )
                } else {
                    transfer(
                        &mut self.server,
                        &mut self.client,
                        &mut self.splitter,
                        &mut self.lost_bytes,
                        self.now,
                    )
                };
                self.chunks += usize::from(delivered);
                progressed |= delivered;
            }
            let client_done = self.client.close_requested && self.client.outbox.is_empty();
            let server_done = self.server.close_requested && self.server.outbox.is_empty();
            if client_done || server_done {
                self.close_link();
                progressed = true;
            }
        }
        progressed
    }

    /// The network drops: both sides are told the link closed, bytes in
    /// flight are lost.
    pub fn close_link(&mut self) {
        if !self.link_up {
            return;
        }
        self.link_up = false;
        for bytes in [
            &mut self.client.outbox,
            &mut self.server.outbox,
            &mut self.client.inbox,
            &mut self.server.inbox,
        ] {
            self.lost_bytes += bytes.len();
            bytes.clear();
        }
        let now = self.now;
        let events = self.client.conn.notify_closed();
        self.client.closes_notified += 1;
        self.client.handle(false, now, events);
        let events = self.server.conn.notify_closed();
        self.server.closes_notified += 1;
        self.server.handle(false, now, events);
    }

    /// A new link between the same two connections (the client reconnects to
    /// the same server, which kept the session); closes the old one first.
    pub fn reconnect_link(&mut self) {
        self.close_link();
        self.link_up = true;
        self.client.close_requested = false;
        self.server.close_requested = false;
    }

    /// CONNECT from the client, the server's answer, both delivered; asserts
    /// the server got the CONNECT and the client the answer.
    pub fn connect_with(&mut self, connect: GenericPacket<P>, connack: GenericPacket<P>) {
        let from = self.server.received.len();
        self.send(Side::Client, connect.clone());
        self.drive();
        assert_eq!(
            self.server.received.get(from),
            Some(&connect),
            "the server receives the CONNECT; server log: {:#?}",
            self.server.log
        );
        let from = self.client.received.len();
        self.send(Side::Server, connack.clone());
        self.drive();
        assert_eq!(
            self.client.received.get(from),
            Some(&connack),
            "the client receives the CONNACK; client log: {:#?}",
            self.client.log
        );
    }

    /// A clean CONNECT (client id "c", keep alive 0) accepted with no
    /// session present.
    pub fn connect(&mut self) {
        let v = self.version;
        self.connect_with(connect(v, "c", true, 0), connack(v, false));
    }

    /// Forgets the records of both sides.
    pub fn clear_records(&mut self) {
        self.client.clear_records();
        self.server.clear_records();
    }

    /// What `side` received.
    pub fn received(&self, side: Side) -> &[GenericPacket<P>] {
        match side {
            Side::Client => &self.client.received,
            Side::Server => &self.server.received,
        }
    }

    /// What `side` sent.
    pub fn sent(&self, side: Side) -> &[GenericPacket<P>] {
        match side {
            Side::Client => &self.client.sent,
            Side::Server => &self.server.sent,
        }
    }

    /// The errors `side` was notified of.
    pub fn errors(&self, side: Side) -> &[ConnectionError] {
        match side {
            Side::Client => &self.client.errors,
            Side::Server => &self.server.errors,
        }
    }

    /// The packet identifiers `side` was told are released.
    pub fn released(&self, side: Side) -> &[P] {
        match side {
            Side::Client => &self.client.released,
            Side::Server => &self.server.released,
        }
    }

    /// The PUBLISH packets `side` received, as views.
    pub fn publishes(&self, side: Side) -> Vec<PubView<P>> {
        publishes(self.received(side))
    }

    /// Whether `side` asked to close the current link (or the last one).
    pub fn close_requested(&self, side: Side) -> bool {
        match side {
            Side::Client => self.client.close_requested,
            Side::Server => self.server.close_requested,
        }
    }
}

/// A new network connection between the same two connections, client id
/// "c": CONNECT with CleanSession / Clean Start `clean`, CONNACK with
/// Session Present `present`.
pub fn reconnect<P: PacketId>(pair: &mut Pair<P>, clean: bool, present: bool) {
    let v = pair.version;
    pair.reconnect_link();
    pair.connect_with(connect(v, "c", clean, 0), connack(v, present));
}

/// Moves one chunk of `from`'s outbox to `to`, which consumes what it can.
fn transfer<A: Role, B: Role, P: PacketId>(
    from: &mut Endpoint<A, P>,
    to: &mut Endpoint<B, P>,
    splitter: &mut Splitter,
    lost: &mut usize,
    now: MonotonicTime,
) -> bool {
    if from.outbox.is_empty() {
        return false;
    }
    let n = splitter.chunk(from.outbox.len());
    let chunk = from.outbox.split_to(n);
    if to.close_requested {
        // Its driver closed the socket: the bytes go nowhere.
        *lost += chunk.len();
        return true;
    }
    to.inbox.extend_from_slice(&chunk);
    let events = to.conn.recv(&mut to.inbox);
    to.handle(true, now, events);
    true
}

/// Panics, showing where they differ, if the snapshots `before` and
/// `after` of a refused call differ.
pub fn assert_unchanged(before: &str, after: &str, what: &str) {
    if before == after {
        return;
    }
    let at = before
        .bytes()
        .zip(after.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let from = at.saturating_sub(120);
    let around = |s: &str| s.get(from..(at + 80).min(s.len())).unwrap_or("").to_owned();
    panic!(
        "a refused call changed the connection ({what}):\n before: …{}\n after:  …{}",
        around(before),
        around(after)
    );
}

fn tail(log: &[String]) -> &[String] {
    &log[log.len().saturating_sub(40)..]
}

/// Runs a generic flow `fn name<P: PacketId>(version: ProtocolVersion)` as
/// four tests: v3.1.1 and v5.0, u16 and u32 packet identifiers.
#[allow(unused_macros)]
macro_rules! matrix {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use mqtt_codec::ProtocolVersion;
            #[test]
            fn v3_1_1_u16() {
                super::$name::<u16>(ProtocolVersion::V3_1_1)
            }
            #[test]
            fn v3_1_1_u32() {
                super::$name::<u32>(ProtocolVersion::V3_1_1)
            }
            #[test]
            fn v5_0_u16() {
                super::$name::<u16>(ProtocolVersion::V5_0)
            }
            #[test]
            fn v5_0_u32() {
                super::$name::<u32>(ProtocolVersion::V5_0)
            }
        }
    )*};
}

/// Runs a generic v5.0 flow `fn name<P: PacketId>()` as two tests: u16 and
/// u32 packet identifiers.
#[allow(unused_macros)]
macro_rules! widths {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn u16() {
                super::$name::<u16>()
            }
            #[test]
            fn u32() {
                super::$name::<u32>()
            }
        }
    )*};
}
