//! The harness of the fuzz target `connection`: arbitrary bytes and
//! arbitrary API calls on a connected mqtt-core client and server joined by
//! an in-memory link.
//!
//! Input layout (every byte read past the end is 0, so any input is valid):
//! - byte 0, the setup: bit 0 the version (v3.1.1 / v5.0), bit 1 the packet
//!   identifier width (`u16` / `u32`), bit 2 the server learns the version
//!   from the CONNECT, bit 3 both connections are `role::Any`, bit 4 small
//!   session limits (queue of 4 messages / 1 KiB, Receive Maximum 3), bit 5
//!   QoS 0 messages are not queued while offline, bit 6 automatic
//!   acknowledgement is `AckPolicy::AfterHandling` (else `OnReceipt`), bit 7
//!   a PINGRESP is awaited forever unless the options set 5 s (else for the
//!   Keep Alive);
//! - byte 1 and byte 2: the client's and the server's options (automation,
//!   timeouts, Maximum Packet Size), see [`options`];
//! - the first connection (CONNECT, CONNACK), see [`Pair::connect`];
//! - then operations, one opcode byte and its arguments each, see
//!   [`Pair::step`]: bytes received (in chunks), packets sent (decoded from
//!   input bytes by the codec, or from templates filled from input bytes),
//!   messages published (`publish`, every QoS), received messages
//!   acknowledged (`acknowledge`, `acknowledge_with`), bytes carried over
//!   the link in pieces, timers fired (forced, or when due as time passes,
//!   through `TimerTable`), packet identifiers acquired / registered /
//!   released, time passing, options changed, sessions exported and
//!   imported, the network connection closed and a new one made.
//!
//! Checked: no panic; a send that must be refused (the other version, a
//! type the role never sends, anything after DISCONNECT) is, with its
//! error, and every refused call (`send`, `publish`, `acknowledge`) pushes
//! no event and changes nothing (state, version, exported session and its
//! counts); a published message is numbered at QoS 1 and 2 only, with an
//! identifier in use that the PUBLISH carries; memory bounded (each
//! session's queue within its configured bounds, the outgoing flows within
//! the largest Receive Maximum the peer announced, the unacknowledged
//! incoming flows within ours); every packet a connection asks to send is
//! of its version, allowed for its role, encodes, decodes again, and fits
//! the peer's Maximum Packet Size, Topic Alias Maximum, Maximum QoS and
//! Retain Available; a received PUBLISH has a Topic Name; timers belong to
//! the role; a closed connection is
//! Disconnected; a session exported while disconnected imports again; and
//! while no raw bytes were injected, the peer never finds a malformed packet
//! or a bad Topic Alias in what a connection sent.
//!
//! Compiled into the fuzz target `connection` and, through `#[path]`, into
//! `crates/mqtt-core/tests/fuzz_regressions.rs`, which replays the committed
//! inputs in an ordinary `cargo test`.

use core::num::{NonZeroU16, NonZeroU32};
use core::time::Duration;

use bytes::BytesMut;
use mqtt_codec::wire::PacketType;
use mqtt_codec::{v3_1_1, v5_0, Decoder, Encode, GenericPacket, PacketId, ProtocolVersion, QoS};
use mqtt_core::{
    role, AckPolicy, ConnectionError, ConnectionOptions, ConnectionState, GenericConnection,
    GenericEvent, MonotonicTime, Role, RoleKind, TimerKind, TimerTable,
};

mod api;

/// `CONNECTION_FUZZ_TRACE=1` prints every operation and event to stderr
/// (to read what a crashing input does).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("CONNECTION_FUZZ_TRACE").is_some())
}

/// The input, read a byte at a time; 0 past its end.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn bit(&mut self) -> bool {
        self.byte() & 1 == 1
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }
    /// Up to `n` bytes.
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

const TIMERS: [TimerKind; 3] = [
    TimerKind::PingreqSend,
    TimerKind::PingrespRecv,
    TimerKind::PingreqRecv,
];

/// The most timers that fire in one operation: a long time passing over a
/// short Keep Alive leaves the rest due for the next one.
const MAX_FIRED: usize = 64;

/// The options of one side from one byte and the setup byte.
fn options(bits: u8, setup: u8) -> ConnectionOptions {
    let small = setup & 0x10 != 0;
    let no_qos0_offline = setup & 0x20 != 0;
    let mut o = ConnectionOptions::default();
    o.ack = match (bits & 0x01 != 0, setup & 0x40 != 0) {
        (false, _) => AckPolicy::Manual,
        (true, false) => AckPolicy::OnReceipt,
        (true, true) => AckPolicy::AfterHandling,
    };
    o.auto_ping_response = bits & 0x02 != 0;
    o.auto_map_topic_alias_send = bits & 0x04 != 0;
    o.auto_replace_topic_alias_send = bits & 0x08 != 0;
    o.offline_publish = bits & 0x10 != 0;
    o.pingresp_recv_timeout = if bits & 0x20 != 0 {
        Some(Duration::from_secs(5))
    } else if setup & 0x80 != 0 {
        Some(Duration::ZERO)
    } else {
        None
    };
    o.pingreq_send_interval = (bits & 0x40 != 0).then_some(Duration::from_secs(3));
    o.maximum_packet_size = (bits & 0x80 != 0).then(|| NonZeroU32::new(200).expect("non-zero"));
    if small {
        o.session.queue_max_messages = 4;
        o.session.queue_max_bytes = 1024;
        o.session.receive_maximum = NonZeroU16::new(3).expect("non-zero");
        o.send_maximum = NonZeroU16::new(2);
    }
    o.session.queue_qos0_offline = !no_qos0_offline;
    o
}

/// Runs one input; panics on a failed check.
pub fn run(data: &[u8]) {
    let mut input = Input(data);
    let setup = input.byte();
    let wide = setup & 0x02 != 0;
    let any = setup & 0x08 != 0;
    match (wide, any) {
        (false, false) => run_with::<role::Client, role::Server, u16>(setup, input),
        (true, false) => run_with::<role::Client, role::Server, u32>(setup, input),
        (false, true) => run_with::<role::Any, role::Any, u16>(setup, input),
        (true, true) => run_with::<role::Any, role::Any, u32>(setup, input),
    }
}

/// Builds a connection of role `R`, learning the version from the CONNECT
/// when `version` is `None` (Server and Any only).
trait Make<P: PacketId>: Role {
    fn make(
        version: Option<ProtocolVersion>,
        options: ConnectionOptions,
    ) -> GenericConnection<Self, P>;
}
impl<P: PacketId> Make<P> for role::Client {
    fn make(
        version: Option<ProtocolVersion>,
        options: ConnectionOptions,
    ) -> GenericConnection<Self, P> {
        GenericConnection::with_options(version.unwrap_or(ProtocolVersion::V5_0), options)
    }
}
impl<P: PacketId> Make<P> for role::Server {
    fn make(
        version: Option<ProtocolVersion>,
        options: ConnectionOptions,
    ) -> GenericConnection<Self, P> {
        match version {
            Some(v) => GenericConnection::with_options(v, options),
            None => GenericConnection::<role::Server, P>::detect_version_with_options(options),
        }
    }
}
impl<P: PacketId> Make<P> for role::Any {
    fn make(
        version: Option<ProtocolVersion>,
        options: ConnectionOptions,
    ) -> GenericConnection<Self, P> {
        match version {
            Some(v) => GenericConnection::with_options(v, options),
            None => GenericConnection::<role::Any, P>::detect_version_with_options(options),
        }
    }
}

fn run_with<C: Make<P>, S: Make<P>, P: PacketId>(setup: u8, mut input: Input<'_>) {
    let version = if setup & 0x01 != 0 {
        ProtocolVersion::V5_0
    } else {
        ProtocolVersion::V3_1_1
    };
    let detect = setup & 0x04 != 0;
    let client_options = options(input.byte(), setup);
    let server_options = options(input.byte(), setup);
    let mut pair = Pair {
        version,
        client: Side::new(C::make(Some(version), client_options)),
        server: Side::new(S::make((!detect).then_some(version), server_options)),
        link_down: false,
        honest: true,
        now: 0,
    };
    pair.connect(&mut input);
    let mut steps = 0;
    while !input.is_empty() && steps < 256 {
        pair.step(&mut input);
        steps += 1;
    }
}

/// One end of the link: its connection and what the driver keeps for it.
struct Side<R: Role, P: PacketId> {
    conn: GenericConnection<R, P>,
    /// Bytes received and not yet consumed by `recv` (a partial packet).
    inbox: BytesMut,
    /// Bytes written, not yet carried to the peer.
    outbox: BytesMut,
    /// Packet identifiers seen lately (acquired, sent, received), for the
    /// operations that pick one.
    ids: Vec<P>,
    /// The timers the connection asked for, as deadlines.
    timers: TimerTable<MonotonicTime>,
    /// The driver's clock (the pair's).
    now: MonotonicTime,
    /// The largest Receive Maximum the peer announced (65,535 if never).
    peer_receive_maximum: usize,
    /// The most outgoing flows an imported session brought.
    imported_flows: usize,
}

impl<R: Role, P: PacketId> Side<R, P> {
    fn new(conn: GenericConnection<R, P>) -> Self {
        Side {
            conn,
            inbox: BytesMut::new(),
            outbox: BytesMut::new(),
            ids: Vec::new(),
            timers: TimerTable::new(),
            now: MonotonicTime::ZERO,
            peer_receive_maximum: usize::from(u16::MAX),
            imported_flows: 0,
        }
    }

    fn remember(&mut self, id: P) {
        if self.ids.len() >= 16 {
            self.ids.remove(0);
        }
        self.ids.push(id);
    }

    /// A packet identifier: one seen lately, a new one, or one from input.
    fn pick_id(&mut self, input: &mut Input<'_>) -> Option<P> {
        let selector = input.byte();
        match selector {
            0..=0x7f if !self.ids.is_empty() => {
                Some(self.ids[usize::from(selector) % self.ids.len()])
            }
            0..=0xbf => self
                .conn
                .acquire_packet_id()
                .ok()
                .inspect(|&id| self.remember(id)),
            _ => {
                let raw = u32::from(input.u16());
                P::from_u32(if selector & 1 == 1 {
                    raw << 16 | raw
                } else {
                    raw
                })
            }
        }
    }

    /// What a driver does with the events of one call, checking each;
    /// `honest_recv`: the call was a `recv` of bytes only the peer wrote.
    fn handle(&mut self, events: Vec<GenericEvent<P>>, link_down: &mut bool, honest_recv: bool) {
        for event in events {
            if trace() {
                eprintln!("  {:?} {event:?}", self.conn.role());
            }
            self.check_event(&event);
            match event {
                GenericEvent::RequestSendPacket { packet, .. } => {
                    if !*link_down {
                        packet.encode(&mut self.outbox).expect("a BytesMut grows");
                    }
                }
                GenericEvent::NotifyPacketReceived(packet) => {
                    if let Some(id) = packet_id(&packet) {
                        self.remember(id);
                    }
                }
                GenericEvent::NotifyPacketIdReleased(id) => self.ids.retain(|&i| i != id),
                GenericEvent::RequestTimerReset { .. } | GenericEvent::RequestTimerCancel(_) => {
                    assert!(self.timers.apply(&event, self.now));
                }
                GenericEvent::NotifyError(error) => {
                    if honest_recv {
                        check_honest(&error);
                    }
                }
                GenericEvent::RequestClose => *link_down = true,
            }
        }
    }

    fn check_event(&self, event: &GenericEvent<P>) {
        let role = self.conn.role();
        match event {
            GenericEvent::RequestSendPacket { packet, .. } => self.check_send(packet),
            GenericEvent::NotifyPacketReceived(GenericPacket::V5_0(v5_0::Packet::Publish(p))) => {
                assert!(
                    !p.topic_name().is_empty(),
                    "a received PUBLISH carries its full Topic Name: {p:?}"
                );
            }
            GenericEvent::RequestTimerReset { kind, .. }
            | GenericEvent::RequestTimerCancel(kind) => {
                let ok = match kind {
                    TimerKind::PingreqSend | TimerKind::PingrespRecv => role == RoleKind::Client,
                    TimerKind::PingreqRecv => role == RoleKind::Server,
                };
                assert!(ok, "{role:?} asked for timer {kind:?}");
            }
            _ => {}
        }
    }

    /// A packet the connection asks to write.
    fn check_send(&self, packet: &GenericPacket<P>) {
        use PacketType as T;
        let role = self.conn.role();
        let version = packet.version();
        let t = packet.packet_type();
        if t != T::Connack {
            // A refused CONNECT of an unsupported level is answered in the
            // client's version [MQTT-3.1.2-2].
            assert_eq!(Some(version), self.conn.version(), "{packet:?}");
        }
        assert!(
            api::role_sends(role, version, t),
            "a {role:?} asked to send {packet:?}"
        );
        let mut bytes = BytesMut::new();
        let len = packet.encode(&mut bytes).expect("a packet to send encodes");
        let again = Decoder::<P>::new(version).decode(&mut bytes);
        assert!(
            matches!(again, Ok(Some(_))) && bytes.is_empty(),
            "{packet:?} encodes to bytes that decode to {again:?}"
        );
        if !matches!(t, T::Connect | T::Connack) {
            if let Some(max) = self.conn.peer_maximum_packet_size() {
                assert!(
                    len <= max.get() as usize,
                    "{len} bytes > the peer's Maximum Packet Size {max} [MQTT-3.1.2-24] [MQTT-3.2.2-15]: {packet:?}"
                );
            }
        }
        if let GenericPacket::V5_0(v5_0::Packet::Publish(p)) = packet {
            if let Some(alias) = p.topic_alias() {
                assert!(
                    alias.get() <= self.conn.peer_topic_alias_maximum(),
                    "Topic Alias {alias} > the peer's maximum {} [MQTT-3.3.2-9] [MQTT-3.3.2-11]",
                    self.conn.peer_topic_alias_maximum()
                );
            }
            if role == RoleKind::Client && !p.dup() {
                assert!(
                    p.qos() <= self.conn.maximum_qos(),
                    "QoS {:?} > Maximum QoS {:?} [MQTT-3.2.2-11]",
                    p.qos(),
                    self.conn.maximum_qos()
                );
                assert!(
                    !p.retain() || self.conn.retain_available(),
                    "RETAIN while Retain Available is 0 [MQTT-3.2.2-14]"
                );
            }
        }
    }

    /// The memory bounds.
    fn check_bounds(&mut self) {
        let session = self.conn.session();
        let config = session.config();
        assert!(
            session.queue_len() <= config.queue_max_messages,
            "queue {} > {}",
            session.queue_len(),
            config.queue_max_messages
        );
        assert!(
            session.queue_bytes() <= config.queue_max_bytes,
            "queue {} B > {} B",
            session.queue_bytes(),
            config.queue_max_bytes
        );
        let rm = usize::from(self.conn.peer_receive_maximum().get());
        self.peer_receive_maximum = self.peer_receive_maximum.max(rm);
        assert!(
            session.in_flight_len() <= self.peer_receive_maximum.max(self.imported_flows),
            "{} outgoing flows > Receive Maximum {} [MQTT-4.9.0-2]",
            session.in_flight_len(),
            self.peer_receive_maximum
        );
        if let Some(max) = self.conn.options().send_maximum {
            let max = usize::from(max.get());
            assert!(
                session.in_flight_len() <= max.max(self.imported_flows),
                "{} outgoing flows > send_maximum {max}",
                session.in_flight_len(),
            );
        }
        assert!(
            session.unacknowledged_received() as usize
                <= usize::from(session.receive_maximum().get()),
            "{} unacknowledged incoming PUBLISH > our Receive Maximum {}",
            session.unacknowledged_received(),
            session.receive_maximum()
        );
    }
}

/// The packet identifier of a packet that has one.
fn packet_id<P: PacketId>(packet: &GenericPacket<P>) -> Option<P> {
    match packet {
        GenericPacket::V3_1_1(p) => match p {
            v3_1_1::Packet::Publish(p) => p.packet_id(),
            v3_1_1::Packet::Puback(p) => Some(p.packet_id()),
            v3_1_1::Packet::Pubrec(p) => Some(p.packet_id()),
            v3_1_1::Packet::Pubrel(p) => Some(p.packet_id()),
            v3_1_1::Packet::Pubcomp(p) => Some(p.packet_id()),
            v3_1_1::Packet::Subscribe(p) => Some(p.packet_id()),
            v3_1_1::Packet::Suback(p) => Some(p.packet_id()),
            v3_1_1::Packet::Unsubscribe(p) => Some(p.packet_id()),
            v3_1_1::Packet::Unsuback(p) => Some(p.packet_id()),
            _ => None,
        },
        GenericPacket::V5_0(p) => match p {
            v5_0::Packet::Publish(p) => p.packet_id(),
            v5_0::Packet::Puback(p) => Some(p.packet_id()),
            v5_0::Packet::Pubrec(p) => Some(p.packet_id()),
            v5_0::Packet::Pubrel(p) => Some(p.packet_id()),
            v5_0::Packet::Pubcomp(p) => Some(p.packet_id()),
            v5_0::Packet::Subscribe(p) => Some(p.packet_id()),
            v5_0::Packet::Suback(p) => Some(p.packet_id()),
            v5_0::Packet::Unsubscribe(p) => Some(p.packet_id()),
            v5_0::Packet::Unsuback(p) => Some(p.packet_id()),
            _ => None,
        },
    }
}

// ----- Packets from templates, as bytes decoded by the codec -----

const TOPICS: [&str; 4] = [
    "a/b",
    "sensors/abc/temp",
    "x",
    "a/very/long/topic/name/for/the/size/limits",
];
const FILTERS: [&str; 4] = ["a/+", "#", "sensors/abc/temp", "$share/g/x"];

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            return;
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_id<P: PacketId>(out: &mut Vec<u8>, id: Option<P>) {
    let id = id.map_or(0, PacketId::to_u32);
    out.extend_from_slice(&id.to_be_bytes()[4 - P::WIRE_LEN..]);
}

/// A fixed header and `body`.
fn frame(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    put_varint(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

/// A packet of `version` from a template filled from the input, encoded by
/// hand; `None` if the codec refuses the bytes.
fn template<R: Role, P: PacketId>(
    side: &mut Side<R, P>,
    version: ProtocolVersion,
    input: &mut Input<'_>,
) -> Option<GenericPacket<P>> {
    let v5 = version == ProtocolVersion::V5_0;
    let kind = input.byte();
    let mut body = Vec::new();
    let first = match kind % 12 {
        0..=2 => {
            // PUBLISH
            let flags = input.byte();
            let qos = (flags & 0x06) >> 1;
            let qos = if qos == 3 { 2 } else { qos };
            let topic = TOPICS[usize::from(flags >> 6)];
            let empty_topic = v5 && flags & 0x20 != 0;
            put_str(&mut body, if empty_topic { "" } else { topic });
            if qos > 0 {
                let id = side.pick_id(input);
                put_id(&mut body, id);
            }
            if v5 {
                let mut props = Vec::new();
                let p = input.byte();
                if p & 0x01 != 0 {
                    props.push(0x23);
                    props.extend_from_slice(&u16::from(p >> 4).to_be_bytes());
                }
                if p & 0x02 != 0 {
                    props.extend_from_slice(&[0x02, 0, 0, 0, p >> 5]);
                }
                if p & 0x04 != 0 {
                    props.extend_from_slice(&[0x26, 0, 1, b'k', 0, 1, b'v']);
                }
                put_varint(&mut body, props.len());
                body.extend_from_slice(&props);
            }
            let len = usize::from(input.byte());
            body.resize(body.len() + len * 2, 0x5a);
            0x30 | (flags & 0x09) | (qos << 1)
        }
        3..=6 => {
            // PUBACK, PUBREC, PUBREL, PUBCOMP
            let t = 4 + kind % 12 - 3;
            let id = side.pick_id(input);
            put_id(&mut body, id);
            if v5 {
                let rc = input.byte();
                if rc != 0 {
                    body.push(rc);
                    body.push(0);
                }
            }
            (t << 4) | if t == 6 { 0x02 } else { 0 }
        }
        7 => {
            // SUBSCRIBE
            let id = side.pick_id(input);
            put_id(&mut body, id);
            if v5 {
                body.push(0);
            }
            let options = input.byte();
            put_str(&mut body, FILTERS[usize::from(options >> 6)]);
            body.push(options & if v5 { 0x2f } else { 0x03 });
            0x82
        }
        8 => {
            // UNSUBSCRIBE
            let id = side.pick_id(input);
            put_id(&mut body, id);
            if v5 {
                body.push(0);
            }
            put_str(&mut body, FILTERS[usize::from(input.byte() >> 6)]);
            0xa2
        }
        9 => {
            // SUBACK, UNSUBACK
            let id = side.pick_id(input);
            put_id(&mut body, id);
            if v5 {
                body.push(0);
            }
            let rc = input.byte();
            if rc & 0x80 != 0 {
                if v5 {
                    body.push(0x11);
                }
                0xb0
            } else {
                body.push(rc & 0x03);
                0x90
            }
        }
        10 => {
            // PINGREQ, PINGRESP, DISCONNECT
            match input.byte() % 3 {
                0 => 0xc0,
                1 => 0xd0,
                _ => {
                    if v5 {
                        let rc = input.byte();
                        body.push(rc);
                        if rc & 1 == 1 {
                            body.extend_from_slice(&[5, 0x11, 0, 0, 0, rc >> 1]);
                        } else {
                            body.push(0);
                        }
                    }
                    0xe0
                }
            }
        }
        _ => {
            // AUTH
            let rc = match input.byte() % 3 {
                0 => 0x00,
                1 => 0x18,
                _ => 0x19,
            };
            body.push(rc);
            body.extend_from_slice(&[4, 0x15, 0, 1, b'm']);
            0xf0
        }
    };
    let bytes = frame(first, &body);
    decode_one(version, &bytes)
}

fn decode_one<P: PacketId>(version: ProtocolVersion, bytes: &[u8]) -> Option<GenericPacket<P>> {
    Decoder::<P>::new(version)
        .decode(&mut BytesMut::from(bytes))
        .ok()
        .flatten()
}

fn connect_packet<P: PacketId>(
    version: ProtocolVersion,
    input: &mut Input<'_>,
) -> Option<GenericPacket<P>> {
    let flags = input.byte();
    let clean = flags & 0x01 != 0;
    let keep_alive = if flags & 0x02 != 0 {
        u16::from(input.byte())
    } else {
        0
    };
    let packet = match version {
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Connect::builder()
                .try_client_id("fuzz")
                .ok()?
                .clean_session(clean)
                .keep_alive(keep_alive)
                .build()
                .ok()?,
        )
        .into(),
        ProtocolVersion::V5_0 => {
            let props = input.byte();
            let properties = v5_0::ConnectProperties {
                session_expiry_interval: (flags & 0x04 != 0).then_some(if flags & 0x08 != 0 {
                    u32::MAX
                } else {
                    30
                }),
                receive_maximum: (props & 0x01 != 0)
                    .then(|| NonZeroU16::new(u16::from(input.byte() % 8) + 1))
                    .flatten(),
                topic_alias_maximum: (props & 0x02 != 0).then(|| u16::from(input.byte() % 8)),
                maximum_packet_size: (props & 0x04 != 0)
                    .then(|| NonZeroU32::new(u32::from(input.byte()) * 2 + 20))
                    .flatten(),
                request_problem_information: (props & 0x08 != 0).then_some(false),
                authentication_method: if props & 0x10 != 0 {
                    Some("m".try_into().ok()?)
                } else {
                    None
                },
                ..Default::default()
            };
            let client_id = if props & 0x20 != 0 { "" } else { "fuzz" };
            v5_0::Packet::from(
                v5_0::Connect::builder()
                    .try_client_id(client_id)
                    .ok()?
                    .clean_start(clean)
                    .keep_alive(keep_alive)
                    .properties(properties)
                    .build()
                    .ok()?,
            )
            .into()
        }
    };
    Some(packet)
}

fn connack_packet<P: PacketId>(
    version: ProtocolVersion,
    input: &mut Input<'_>,
) -> Option<GenericPacket<P>> {
    let flags = input.byte();
    let session_present = flags & 0x01 != 0;
    let refuse = flags & 0x80 != 0 && flags & 0x40 != 0;
    let packet = match version {
        ProtocolVersion::V3_1_1 => {
            let mut b = v3_1_1::Connack::builder();
            if refuse {
                b.return_code(v3_1_1::ConnectReturnCode::NotAuthorized);
            } else {
                b.session_present(session_present);
            }
            v3_1_1::Packet::from(b.build().ok()?).into()
        }
        ProtocolVersion::V5_0 => {
            let props = input.byte();
            let properties = v5_0::ConnackProperties {
                receive_maximum: (props & 0x01 != 0)
                    .then(|| NonZeroU16::new(u16::from(input.byte() % 8) + 1))
                    .flatten(),
                topic_alias_maximum: (props & 0x02 != 0).then(|| u16::from(input.byte() % 8)),
                maximum_packet_size: (props & 0x04 != 0)
                    .then(|| NonZeroU32::new(u32::from(input.byte()) * 2 + 20))
                    .flatten(),
                maximum_qos: (props & 0x08 != 0).then_some(if flags & 0x02 != 0 {
                    QoS::AtLeastOnce
                } else {
                    QoS::AtMostOnce
                }),
                retain_available: (props & 0x10 != 0).then_some(false),
                server_keep_alive: (props & 0x20 != 0).then(|| u16::from(input.byte())),
                assigned_client_identifier: if props & 0x40 != 0 {
                    Some("assigned".try_into().ok()?)
                } else {
                    None
                },
                authentication_method: if props & 0x80 != 0 {
                    Some("m".try_into().ok()?)
                } else {
                    None
                },
                session_expiry_interval: (flags & 0x04 != 0).then_some(60),
                wildcard_subscription_available: (flags & 0x08 != 0).then_some(false),
                shared_subscription_available: (flags & 0x10 != 0).then_some(false),
                subscription_identifiers_available: (flags & 0x20 != 0).then_some(false),
                ..Default::default()
            };
            let mut b = v5_0::Connack::builder();
            if refuse {
                b.reason_code(v5_0::ConnectReasonCode::NotAuthorized);
            } else {
                b.session_present(session_present);
            }
            v5_0::Packet::from(b.properties(properties).build().ok()?).into()
        }
    };
    Some(packet)
}

/// The client, the server and the link between them.
struct Pair<C: Role, S: Role, P: PacketId> {
    version: ProtocolVersion,
    client: Side<C, P>,
    server: Side<S, P>,
    /// A connection asked to close: the link goes down at the end of the
    /// operation, and nothing more is written to it.
    link_down: bool,
    /// No raw bytes were injected: both ends only see what the other sent.
    honest: bool,
    /// Milliseconds.
    now: u64,
}

impl<C: Role, S: Role, P: PacketId> Pair<C, S, P> {
    /// Carries up to `n` bytes (all when 0) from the client to the server
    /// (`to_server`) or back, and lets the receiver `recv` them.
    fn carry(&mut self, to_server: bool, n: usize) {
        let honest = self.honest;
        if to_server {
            let n = if n == 0 {
                self.client.outbox.len()
            } else {
                n.min(self.client.outbox.len())
            };
            let chunk = self.client.outbox.split_to(n);
            self.server.inbox.extend_from_slice(&chunk);
            let events = self.server.conn.recv(&mut self.server.inbox);
            self.server.handle(events, &mut self.link_down, honest);
        } else {
            let n = if n == 0 {
                self.server.outbox.len()
            } else {
                n.min(self.server.outbox.len())
            };
            let chunk = self.server.outbox.split_to(n);
            self.client.inbox.extend_from_slice(&chunk);
            let mut events = Vec::new();
            self.client
                .conn
                .recv_into(&mut self.client.inbox, &mut events);
            self.client.handle(events, &mut self.link_down, honest);
        }
    }

    /// Closes the network connection: what is already on the link arrives
    /// first, then both ends are told.
    fn close_link(&mut self) {
        let mut down = true;
        if !self.client.outbox.is_empty() {
            self.server
                .inbox
                .extend_from_slice(&self.client.outbox.split());
            let events = self.server.conn.recv(&mut self.server.inbox);
            self.server.handle(events, &mut down, self.honest);
        }
        if !self.server.outbox.is_empty() {
            self.client
                .inbox
                .extend_from_slice(&self.server.outbox.split());
            let events = self.client.conn.recv(&mut self.client.inbox);
            self.client.handle(events, &mut down, self.honest);
        }
        for side in [0, 1] {
            let events = if side == 0 {
                self.client.conn.notify_closed()
            } else {
                self.server.conn.notify_closed()
            };
            assert!(
                !events
                    .iter()
                    .any(|e| matches!(e, GenericEvent::RequestSendPacket { .. })),
                "notify_closed asked to send: {events:?}"
            );
            if side == 0 {
                self.client.handle(events, &mut down, false);
                self.client.timers.clear();
                assert_eq!(self.client.conn.state(), ConnectionState::Disconnected);
            } else {
                self.server.handle(events, &mut down, false);
                self.server.timers.clear();
                assert_eq!(self.server.conn.state(), ConnectionState::Disconnected);
            }
        }
        self.client.inbox.clear();
        self.client.outbox.clear();
        self.server.inbox.clear();
        self.server.outbox.clear();
        self.link_down = false;
    }

    /// A new network connection: CONNECT, carried, CONNACK, carried.
    fn connect(&mut self, input: &mut Input<'_>) {
        if trace() {
            eprintln!("connect");
        }
        if self.client.conn.state() != ConnectionState::Disconnected
            || self.server.conn.state() != ConnectionState::Disconnected
        {
            self.close_link();
        }
        // A new network connection starts with empty buffers; the two ends
        // again only see what the other sends.
        for buf in [
            &mut self.client.inbox,
            &mut self.client.outbox,
            &mut self.server.inbox,
            &mut self.server.outbox,
        ] {
            buf.clear();
        }
        self.honest = true;
        if let Some(connect) = connect_packet::<P>(self.version, input) {
            api::send(&mut self.client, connect, false, &mut self.link_down);
        }
        self.carry(true, 0);
        if self.server.conn.state() == ConnectionState::Connecting {
            let version = self.server.conn.version().unwrap_or(self.version);
            if let Some(connack) = connack_packet::<P>(version, input) {
                api::send(&mut self.server, connack, false, &mut self.link_down);
            }
            self.carry(false, 0);
        }
        self.after_step();
    }

    fn after_step(&mut self) {
        if self.link_down {
            self.close_link();
        }
        self.client.check_bounds();
        self.server.check_bounds();
    }

    /// One operation.
    fn step(&mut self, input: &mut Input<'_>) {
        let op = input.byte();
        if trace() {
            eprintln!("op {op:#04x}");
        }
        let to_server = op & 0x80 != 0;
        match op & 0x7f {
            // Raw bytes received, in two chunks.
            0..=7 => {
                self.honest = false;
                let len = usize::from(input.byte());
                let split = usize::from(input.byte());
                let bytes = input.take(len);
                let (a, b) = bytes.split_at(split.min(bytes.len()));
                for chunk in [a, b] {
                    if to_server {
                        self.server.inbox.extend_from_slice(chunk);
                        let events = self.server.conn.recv(&mut self.server.inbox);
                        self.server.handle(events, &mut self.link_down, false);
                    } else {
                        self.client.inbox.extend_from_slice(chunk);
                        let events = self.client.conn.recv(&mut self.client.inbox);
                        self.client.handle(events, &mut self.link_down, false);
                    }
                }
            }
            // Packets decoded from input bytes, sent.
            8..=15 => {
                let version = if input.bit() {
                    other(self.version)
                } else {
                    self.version
                };
                let len = usize::from(input.byte());
                let mut buf = BytesMut::from(input.take(len));
                let mut decoder = Decoder::<P>::new(version);
                while let Ok(Some(packet)) = decoder.decode(&mut buf) {
                    self.send(to_server, packet);
                }
            }
            // Packets from templates, sent.
            16..=55 => {
                let version = self.version;
                let packet = if to_server {
                    template(&mut self.server, version, input)
                } else {
                    template(&mut self.client, version, input)
                };
                if let Some(packet) = packet {
                    self.send(to_server, packet);
                }
            }
            // Bytes carried over the link.
            56..=79 => {
                let n = usize::from(input.byte());
                self.carry(!to_server, n * 3);
            }
            // Messages published.
            80..=83 => {
                if to_server {
                    api::publish(&mut self.server, input, &mut self.link_down);
                } else {
                    api::publish(&mut self.client, input, &mut self.link_down);
                }
            }
            // Received messages acknowledged.
            84..=87 => {
                if to_server {
                    api::acknowledge(&mut self.server, input, &mut self.link_down);
                } else {
                    api::acknowledge(&mut self.client, input, &mut self.link_down);
                }
            }
            // A timer fired before its deadline (one that runs, or any with
            // bit 7: a late firing after a cancel).
            88..=91 => {
                let k = input.byte();
                let kind = TIMERS[usize::from(k % 3)];
                if to_server {
                    fire(&mut self.server, kind, k & 0x80 != 0, &mut self.link_down);
                } else {
                    fire(&mut self.client, kind, k & 0x80 != 0, &mut self.link_down);
                }
            }
            // Time passes; the timers due fire, earliest first.
            92..=95 => {
                let b = input.byte();
                let step = if b & 0x80 != 0 { 60_000 } else { 100 };
                self.now += u64::from(b & 0x7f) * step;
                let now = MonotonicTime::from_millis(self.now);
                for side in [&mut self.client.now, &mut self.server.now] {
                    *side = now;
                }
                self.client.conn.set_time(now);
                self.server.conn.set_time(now);
                self.fire_due();
            }
            // Packet identifiers.
            96..=103 => {
                let b = input.byte();
                if to_server {
                    ids_op(&mut self.server, b, input);
                } else {
                    ids_op(&mut self.client, b, input);
                }
            }
            // Options changed.
            104..=107 => {
                let b = input.byte();
                if to_server {
                    toggle(self.server.conn.options_mut(), b);
                } else {
                    toggle(self.client.conn.options_mut(), b);
                }
            }
            // Sessions exported and imported.
            108..=111 => {
                if to_server {
                    session_op(&mut self.server, input);
                } else {
                    session_op(&mut self.client, input);
                }
            }
            // The network connection closes.
            112..=119 => self.link_down = true,
            // A new network connection.
            _ => self.connect(input),
        }
        self.after_step();
    }

    fn send(&mut self, by_server: bool, packet: GenericPacket<P>) {
        if by_server {
            api::send(&mut self.server, packet, false, &mut self.link_down);
        } else {
            api::send(&mut self.client, packet, true, &mut self.link_down);
        }
    }

    /// Fires the timers due at the pair's time on both sides, earliest
    /// first, as a driver's `TimerTable` hands them out, until a side asks
    /// to close.
    fn fire_due(&mut self) {
        let now = MonotonicTime::from_millis(self.now);
        for _ in 0..MAX_FIRED {
            if self.link_down {
                return;
            }
            let client = self.client.timers.next_deadline().filter(|&d| d <= now);
            let server = self.server.timers.next_deadline().filter(|&d| d <= now);
            let on_server = match (client, server) {
                (None, None) => return,
                (Some(c), Some(s)) => s < c,
                (None, Some(_)) => true,
                (Some(_), None) => false,
            };
            if on_server {
                let kind = self.server.timers.expired(now).expect("a timer due");
                let events = self.server.conn.notify_timer_fired(kind);
                self.server.handle(events, &mut self.link_down, false);
            } else {
                let kind = self.client.timers.expired(now).expect("a timer due");
                let events = self.client.conn.notify_timer_fired(kind);
                self.client.handle(events, &mut self.link_down, false);
            }
        }
    }
}

/// Fires `kind` on `side` now if it runs (stopping it in the table), or
/// whatever with `any` (a late firing the connection must ignore).
fn fire<R: Role, P: PacketId>(
    side: &mut Side<R, P>,
    kind: TimerKind,
    any: bool,
    link_down: &mut bool,
) {
    if side.timers.deadline(kind).is_none() && !any {
        return;
    }
    side.timers
        .apply(&GenericEvent::<P>::RequestTimerCancel(kind), side.now);
    let events = side.conn.notify_timer_fired(kind);
    side.handle(events, link_down, false);
}

fn other(version: ProtocolVersion) -> ProtocolVersion {
    match version {
        ProtocolVersion::V3_1_1 => ProtocolVersion::V5_0,
        ProtocolVersion::V5_0 => ProtocolVersion::V3_1_1,
    }
}

/// What one end found wrong in what the other sent, when nothing but the
/// other end wrote to the link: never a malformed packet (except one larger
/// than a limit the sender could not know) nor a bad Topic Alias.
fn check_honest(error: &ConnectionError) {
    match error {
        ConnectionError::Decode(e) => assert_eq!(
            e.reason_code(),
            0x95,
            "an honest peer sent a malformed packet: {error:?}"
        ),
        ConnectionError::TopicAlias(_) => {
            panic!("an honest peer sent a bad Topic Alias: {error:?}")
        }
        _ => {}
    }
}

fn ids_op<R: Role, P: PacketId>(side: &mut Side<R, P>, b: u8, input: &mut Input<'_>) {
    let mut events = Vec::new();
    match b % 3 {
        0 => {
            if let Ok(id) = side.conn.acquire_packet_id() {
                assert!(side.conn.session().packet_ids().is_in_use(id));
                side.remember(id);
            }
        }
        1 => {
            if let Some(id) = side.pick_id(input) {
                events = side.conn.release_packet_id(id);
            }
        }
        _ => {
            let raw = u32::from(input.u16());
            if let Some(id) = P::from_u32(raw) {
                if side.conn.register_packet_id(id).is_ok() {
                    side.remember(id);
                }
            }
        }
    }
    let mut down = false;
    side.handle(events, &mut down, false);
}

fn toggle(o: &mut ConnectionOptions, b: u8) {
    match b % 6 {
        0 => {
            o.ack = match o.ack {
                AckPolicy::Manual => AckPolicy::OnReceipt,
                AckPolicy::OnReceipt => AckPolicy::AfterHandling,
                _ => AckPolicy::Manual,
            }
        }
        1 => o.auto_ping_response = !o.auto_ping_response,
        2 => o.auto_map_topic_alias_send = !o.auto_map_topic_alias_send,
        3 => o.auto_replace_topic_alias_send = !o.auto_replace_topic_alias_send,
        4 => o.offline_publish = !o.offline_publish,
        _ => {
            o.pingreq_send_interval = match b >> 4 {
                0 => None,
                1 => Some(Duration::ZERO),
                n => Some(Duration::from_secs(u64::from(n))),
            }
        }
    }
}

fn session_op<R: Role, P: PacketId>(side: &mut Side<R, P>, input: &mut Input<'_>) {
    let b = input.byte();
    let state = side.conn.state();
    let result = if b & 1 == 0 {
        // Its own session, exported and imported again.
        let bytes = side.conn.export_session();
        let result = side.conn.import_session(&bytes);
        if state == ConnectionState::Disconnected {
            assert!(
                result.is_ok(),
                "a session exported while disconnected imports again: {result:?}"
            );
        }
        result
    } else {
        // Bytes from the input.
        let len = usize::from(input.byte());
        side.conn.import_session(input.take(len))
    };
    if matches!(state, ConnectionState::Connected | ConnectionState::Closed) {
        assert!(
            result.is_err(),
            "a session is imported before the CONNACK only"
        );
    }
    if result.is_ok() {
        side.imported_flows = side.imported_flows.max(side.conn.session().in_flight_len());
    }
}
