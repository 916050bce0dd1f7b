//! The application's calls in the fuzz target `connection` (part of its
//! harness): packets sent, messages published (`publish`, `publish_into`,
//! every QoS), received messages acknowledged (`acknowledge`,
//! `acknowledge_into`, `acknowledge_with`), and the checks on each: what
//! must be refused is refused with its error, a refused call changes
//! nothing observable, and a published message is numbered as it must be.

use mqtt_codec::wire::PacketType;
use mqtt_codec::{v5_0, GenericPacket, Message, MessageProperties, PacketId, ProtocolVersion, QoS};
use mqtt_core::{ConnectionState, GenericConnection, GenericEvent, Role, RoleKind, SendError};

use super::{Input, Side, TOPICS};

/// What a refused call must leave as it was: the state, the version, and
/// the session (flows, queue, packet identifiers and where the next one is
/// looked for, as exported), with its counts.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Fingerprint {
    state: ConnectionState,
    version: Option<ProtocolVersion>,
    session: Vec<u8>,
    counts: [usize; 5],
}

pub(super) fn fingerprint<R: Role, P: PacketId>(conn: &GenericConnection<R, P>) -> Fingerprint {
    let session = conn.session();
    Fingerprint {
        state: conn.state(),
        version: conn.version(),
        session: conn.export_session(),
        counts: [
            session.in_flight_len(),
            session.queue_len(),
            session.queue_bytes(),
            session.packet_ids().len(),
            session.unacknowledged_received() as usize,
        ],
    }
}

/// Whether `role` ever sends `t` on `version` (§2.1.2, Table 2-1; a v3.1.1
/// Server sends no DISCONNECT).
pub(super) fn role_sends(role: RoleKind, version: ProtocolVersion, t: PacketType) -> bool {
    use PacketType as T;
    match t {
        T::Connect | T::Subscribe | T::Unsubscribe | T::Pingreq => role == RoleKind::Client,
        T::Connack | T::Suback | T::Unsuback | T::Pingresp => role == RoleKind::Server,
        T::Disconnect => role == RoleKind::Client || version == ProtocolVersion::V5_0,
        T::Auth => version == ProtocolVersion::V5_0,
        T::Publish | T::Puback | T::Pubrec | T::Pubrel | T::Pubcomp => true,
    }
}

/// The refusal `packet` must meet on `conn`, if the rules the harness
/// knows decide it: once the version is known, a packet of the other
/// version, then a type the role never sends; anything after a DISCONNECT
/// [MQTT-3.14.4-1] (with whichever error comes first).
fn must_refuse<R: Role, P: PacketId>(
    conn: &GenericConnection<R, P>,
    packet: &GenericPacket<P>,
) -> Option<fn(&SendError) -> bool> {
    let version = packet.version();
    if let Some(connection) = conn.version() {
        if connection != version {
            return Some(|e| matches!(e, SendError::VersionMismatch { .. }));
        }
        let role = conn.role();
        if role != RoleKind::Any && !role_sends(role, version, packet.packet_type()) {
            return Some(|e| matches!(e, SendError::NotAllowedForRole { .. }));
        }
    }
    if conn.state() == ConnectionState::Closed {
        return Some(|_| true);
    }
    None
}

/// Sends `packet` (`send`, or `send_into` with `into`): what must be
/// refused is, with its error, and a refusal changes nothing.
pub(super) fn send<R: Role, P: PacketId>(
    side: &mut Side<R, P>,
    packet: GenericPacket<P>,
    into: bool,
    link_down: &mut bool,
) {
    let expected = must_refuse(&side.conn, &packet);
    let before = fingerprint(&side.conn);
    // Shown only on a failed check: a clone shares the payload.
    let shown = packet.clone();
    let mut events = Vec::new();
    let result = if into {
        side.conn.send_into(packet, &mut events)
    } else {
        side.conn.send(packet).map(|e| events = e)
    };
    match (result, expected) {
        (Ok(()), None) => side.handle(events, link_down, false),
        (Ok(()), Some(_)) => panic!("sent what must be refused: {shown:?}"),
        (Err(error), expected) => {
            if let Some(expected) = expected {
                assert!(expected(&error), "{shown:?} refused with {error:?}");
            }
            refused(side, &before, &events, &error);
        }
    }
}

/// A refused call pushed no event and changed nothing observable.
fn refused<R: Role, P: PacketId>(
    side: &Side<R, P>,
    before: &Fingerprint,
    events: &[GenericEvent<P>],
    error: &SendError,
) {
    if super::trace() {
        eprintln!("  {:?} refused: {error}", side.conn.role());
    }
    assert!(
        events.is_empty(),
        "refused ({error}) with events {events:?}"
    );
    assert_eq!(
        &fingerprint(&side.conn),
        before,
        "refused ({error}) but changed"
    );
    assert!(!error.rule().is_empty());
}

/// A message from the input: QoS, RETAIN, topic, a Message Expiry
/// Interval, a payload.
fn message(flags: u8, input: &mut Input<'_>) -> Message {
    let qos = match flags & 0x03 {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    };
    let mut builder = Message::builder()
        .try_topic_name(TOPICS[usize::from(flags >> 6)])
        .expect("a valid topic")
        .qos(qos)
        .retain(flags & 0x04 != 0);
    if flags & 0x08 != 0 {
        builder = builder.properties(MessageProperties {
            message_expiry_interval: Some(u32::from(input.byte() % 8)),
            ..Default::default()
        });
    }
    let len = usize::from(input.byte()) * 2;
    builder
        .payload(vec![0x5a; len])
        .build()
        .expect("a valid message")
}

/// `publish` or `publish_into` of a message from the input. Checked: QoS 0
/// gets no identifier, QoS 1 and 2 a non-zero one in use (or released by
/// the same call), carried by the PUBLISH sent [MQTT-2.2.1-2],
/// [MQTT-2.2.1-3]; a Client's message above the Maximum QoS or retained
/// without Retain Available is refused [MQTT-3.2.2-11], [MQTT-3.2.2-14]; a
/// refusal changes nothing.
pub(super) fn publish<R: Role, P: PacketId>(
    side: &mut Side<R, P>,
    input: &mut Input<'_>,
    link_down: &mut bool,
) {
    let flags = input.byte();
    let message = message(flags, input);
    let (qos, retain) = (message.qos(), message.retain());
    let limits = (side.conn.maximum_qos(), side.conn.retain_available());
    let before = fingerprint(&side.conn);
    let mut events = Vec::new();
    let result = if flags & 0x10 != 0 {
        side.conn.publish_into(message, &mut events)
    } else {
        side.conn.publish(message).map(|published| {
            events = published.events;
            published.packet_id
        })
    };
    let id = match result {
        Ok(id) => id,
        Err(error) => return refused(side, &before, &events, &error),
    };
    if side.conn.role() == RoleKind::Client {
        assert!(
            qos <= limits.0,
            "{qos:?} above the Maximum QoS {:?}",
            limits.0
        );
        assert!(!retain || limits.1, "RETAIN without Retain Available");
    }
    check_numbered(side, qos, id, &events);
    if let Some(id) = id {
        side.remember(id);
    }
    side.handle(events, link_down, false);
}

fn check_numbered<R: Role, P: PacketId>(
    side: &Side<R, P>,
    qos: QoS,
    id: Option<P>,
    events: &[GenericEvent<P>],
) {
    let Some(id) = id else {
        assert_eq!(
            qos,
            QoS::AtMostOnce,
            "a QoS {qos:?} message without identifier"
        );
        return;
    };
    assert_ne!(qos, QoS::AtMostOnce, "a QoS 0 message numbered {id:?}");
    assert_ne!(id.to_u32(), 0, "packet identifier 0");
    let released = events
        .iter()
        .any(|e| matches!(e, GenericEvent::NotifyPacketIdReleased(r) if *r == id));
    assert!(
        released || side.conn.session().packet_ids().is_in_use(id),
        "{id:?} returned but not in use"
    );
    for event in events {
        if let GenericEvent::RequestSendPacket { packet, .. } = event {
            if let Some(sent) = super::packet_id(packet) {
                assert_eq!(sent, id, "the PUBLISH sent carries another identifier");
            }
        }
    }
}

/// `acknowledge`, `acknowledge_into` or `acknowledge_with` (a Reason Code
/// and maybe a Reason String from the input) of an identifier seen lately;
/// a refusal changes nothing.
pub(super) fn acknowledge<R: Role, P: PacketId>(
    side: &mut Side<R, P>,
    input: &mut Input<'_>,
    link_down: &mut bool,
) {
    let how = input.byte();
    let Some(id) = side.pick_id(input) else {
        return;
    };
    let before = fingerprint(&side.conn);
    let mut events = Vec::new();
    let result = match how % 3 {
        0 => side.conn.acknowledge(id).map(|e| events = e),
        1 => side.conn.acknowledge_into(id, &mut events),
        _ => {
            let code = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97][usize::from(how >> 5)];
            let code = v5_0::PubackReasonCode::from_u8(code).expect("a PUBACK reason code");
            let properties = v5_0::PubackProperties {
                reason_string: (how & 0x04 != 0)
                    .then(|| "handled".try_into().expect("a valid string")),
                ..Default::default()
            };
            side.conn
                .acknowledge_with(id, code, properties)
                .map(|e| events = e)
        }
    };
    match result {
        Ok(()) => side.handle(events, link_down, false),
        Err(error) => refused(side, &before, &events, &error),
    }
}
