//! CONNECT → CONNACK: the Client Identifier, the Will, session takeover
//! [MQTT-3.1.4-3], resuming or discarding the session (§3.1.2.4), the
//! `--max-sessions` bound, and what the CONNACK announces (§3.2.2.3).

use std::num::{NonZeroU16, NonZeroU32};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqtt_codec::v3_1_1::ConnectReturnCode;
use mqtt_codec::v5_0::{ConnackProperties, ConnectReasonCode, DisconnectReasonCode};
use mqtt_codec::{v3_1_1, v5_0, BuildError, GenericPacket, MqttString, ProtocolVersion, QoS};
use mqtt_tokio::ServerEndpoint;
use tokio::time::timeout;

use super::message::StoredMessage;
use super::router::ClientId;
use super::state::{self, Presence, Session, Shared, StoredConnection};

/// What a CONNECT asks for, in either version.
#[derive(Debug)]
pub struct ConnectRequest {
    /// The MQTT version.
    pub version: ProtocolVersion,
    /// The Client Identifier (empty: the Server assigns one).
    pub client_id: String,
    /// Clean Start (v5.0) or Clean Session (v3.1.1).
    pub clean_start: bool,
    /// Keep Alive, in seconds.
    pub keep_alive: u16,
    /// The Session Expiry Interval asked for (v3.1.1: 0 with Clean Session,
    /// else never).
    pub session_expiry: u32,
    /// Request Response Information (v5.0).
    pub request_response_information: bool,
    /// The Will Message and its Will Delay Interval.
    pub will: Option<(StoredMessage, u32)>,
    /// The Authentication Method of an enhanced authentication (v5.0,
    /// §4.12), which this broker does not support.
    pub authentication_method: Option<String>,
}

impl ConnectRequest {
    /// The request of a CONNECT; `None` for another packet.
    pub fn parse(packet: &GenericPacket<u16>, now: Instant) -> Option<ConnectRequest> {
        let will = StoredMessage::from_will(packet, now);
        match packet {
            GenericPacket::V3_1_1(v3_1_1::Packet::Connect(c)) => Some(ConnectRequest {
                version: ProtocolVersion::V3_1_1,
                client_id: c.client_id().as_str().to_owned(),
                clean_start: c.clean_session(),
                keep_alive: c.keep_alive(),
                session_expiry: if c.clean_session() { 0 } else { u32::MAX },
                request_response_information: false,
                will,
                authentication_method: None,
            }),
            GenericPacket::V5_0(v5_0::Packet::Connect(c)) => Some(ConnectRequest {
                version: ProtocolVersion::V5_0,
                client_id: c.client_id().as_str().to_owned(),
                clean_start: c.clean_start(),
                keep_alive: c.keep_alive(),
                session_expiry: c.properties().session_expiry_interval.unwrap_or(0),
                request_response_information: c
                    .properties()
                    .request_response_information
                    .unwrap_or(false),
                will,
                authentication_method: c
                    .properties()
                    .authentication_method
                    .as_ref()
                    .map(|m| m.as_str().to_owned()),
            }),
            _ => None,
        }
    }
}

/// A connection the CONNACK accepted: what its task needs until it ends.
#[derive(Debug)]
pub struct Accepted {
    /// The Client Identifier (assigned, if the CONNECT's was empty).
    pub client: ClientId,
    /// The generation of the session this connection holds.
    pub generation: u64,
    /// The MQTT version.
    pub version: ProtocolVersion,
    /// The Will Message and its delay, until a normal DISCONNECT.
    pub will: Option<(StoredMessage, u32)>,
    /// Session Present of the CONNACK.
    pub session_present: bool,
    /// The connection could not send its CONNACK and was refused and closed
    /// instead: nothing of it is handled, its session is handed back.
    pub refused: bool,
    /// The stored session this connection was to resume, when it closed
    /// before it could: stored again as it was when the task ends.
    pub unresumed: Option<Box<StoredConnection>>,
    /// Dropped once the task has handed the session back (takeover waits).
    pub ended: super::ended::Ended,
}

impl Accepted {
    /// A connection woken from hibernation (`hibernate.rs`): connected, its
    /// session resumed long ago.
    pub fn woken(
        client: ClientId,
        generation: u64,
        version: ProtocolVersion,
        will: Option<(StoredMessage, u32)>,
        ended: super::ended::Ended,
    ) -> Accepted {
        Accepted {
            client,
            generation,
            version,
            will,
            session_present: true,
            refused: false,
            unresumed: None,
            ended,
        }
    }
}

/// How long a takeover waits for the old connection's task to hand the
/// session back before it aborts that connection.
const TAKEOVER_WAIT: Duration = Duration::from_secs(5);

/// Answers `connect` on `endpoint` with a CONNACK: refuses it (and returns
/// `None`) for an Authentication Method, as enhanced authentication is not
/// supported (v5.0 0x8C Bad authentication method, [MQTT-4.12.0-1]), an
/// empty v3.1.1 Client Identifier without Clean Session [MQTT-3.1.3-8], a
/// v5.0 Will the Server cannot honour [MQTT-3.2.2-12], [MQTT-3.2.2-13], or
/// a new session beyond `--max-sessions` (v5.0 0x97 Quota exceeded, v3.1.1
/// 0x03 Server unavailable); otherwise takes the session over from a
/// connection with the same Client Identifier [MQTT-3.1.4-3], resumes it
/// (Session Present, its stored messages re-sent [MQTT-4.4.0-1]) or
/// discards it [MQTT-3.1.2-4], and accepts.
///
/// A CONNACK that cannot be built or that the connection refuses to send
/// (it would break a rule, [`SendError`](mqtt_tokio::SendError)) is
/// replaced by a refusing one (v5.0 0x80 Unspecified error, v3.1.1 0x03
/// Server unavailable) and the connection closes: never is a connection
/// left open without a CONNACK. The session it claimed is then handed back
/// ([`Accepted::refused`]).
pub async fn accept(
    shared: &Arc<Shared>,
    endpoint: &ServerEndpoint,
    connect: &GenericPacket<u16>,
) -> Option<Accepted> {
    let mut request = ConnectRequest::parse(connect, Instant::now())?;
    let v5 = request.version == ProtocolVersion::V5_0;
    let config = &shared.config;
    if let Some(method) = &request.authentication_method {
        // [MQTT-4.12.0-1]; before any session is touched.
        if config.verbose {
            println!(
                "{}: refused, authentication method {method:?} not supported",
                request.client_id
            );
        }
        let code = ConnectReasonCode::BadAuthenticationMethod;
        refuse(endpoint, ConnectReturnCode::Accepted, Some(code)).await;
        return None;
    }
    let mut assigned = None;
    if request.client_id.is_empty() {
        if !v5 && !request.clean_start {
            // [MQTT-3.1.3-8]
            refuse(endpoint, ConnectReturnCode::IdentifierRejected, None).await;
            return None;
        }
        // [MQTT-3.1.3-6], [MQTT-3.1.3-7]
        let id = shared.assign_client_id();
        request.client_id = id.clone();
        assigned = Some(id);
    }
    if let Some((will, _)) = &mut request.will {
        let will = will.message_mut();
        if will.qos() > config.maximum_qos {
            if v5 {
                refuse(
                    endpoint,
                    ConnectReturnCode::Accepted,
                    Some(ConnectReasonCode::QoSNotSupported),
                )
                .await;
                return None;
            }
            will.set_qos(config.maximum_qos);
        }
        if will.retain() && !config.retain_available {
            if v5 {
                let code = ConnectReasonCode::RetainNotSupported;
                refuse(endpoint, ConnectReturnCode::Accepted, Some(code)).await;
                return None;
            }
            will.set_retain(false);
        }
    }

    let client = ClientId::from(request.client_id.as_str());
    let (ended_tx, ended_rx) = super::ended::ended();
    let Some(claim) = claim_session(shared, endpoint, &client, &request, ended_rx).await else {
        if config.verbose {
            println!("{client}: refused, --max-sessions reached");
        }
        refuse(
            endpoint,
            ConnectReturnCode::ServerUnavailable,
            v5.then_some(ConnectReasonCode::QuotaExceeded),
        )
        .await;
        return None;
    };
    if let Some(will) = claim.will_now {
        super::will::publish_will(shared, will, &client);
    }
    let mut session_present = false;
    let mut unresumed = None;
    if let Some(mut stored) = claim.resume {
        stored.set_time(shared.monotonic(Instant::now()));
        match endpoint.import_session(stored.export_session()).await {
            Ok(()) => session_present = true,
            // The connection closed before the CONNACK: the session stays
            // as it was stored, for the next connection.
            Err(mqtt_tokio::Error::Closed) => unresumed = Some(stored),
            Err(e) => {
                if config.verbose {
                    println!("{client}: stored session not resumed: {e}");
                }
                shared.lock().router.remove_client(&client);
            }
        }
    }

    // `--durability message`: a durable session's record and Will are
    // committed before its CONNACK.
    let durable = shared.session_expiry(request.session_expiry) > 0;
    let durable = shared.store.as_ref().filter(|s| s.per_message() && durable);
    let unstored = match durable {
        Some(store) => !store.sync().await,
        None => false,
    };
    let failure = match success_connack(shared, &request, assigned, session_present) {
        _ if unstored => Some("the store's commit failed".to_string()),
        Ok(connack) => endpoint
            .send_generic(connack)
            .await
            .err()
            .map(|e| e.to_string()),
        Err(e) => Some(e.to_string()),
    };
    let refused = failure.is_some();
    if let Some(why) = failure {
        if config.verbose {
            println!("{client}: CONNACK not sent ({why}): refused");
        }
        let code = v5.then_some(ConnectReasonCode::UnspecifiedError);
        refuse(endpoint, ConnectReturnCode::ServerUnavailable, code).await;
        // A connection never accepted leaves no Will.
        request.will = None;
    }
    if !refused {
        state::go_online(shared, &client, claim.generation);
    }
    Some(Accepted {
        client,
        generation: claim.generation,
        version: request.version,
        will: request.will,
        session_present,
        refused,
        unresumed,
        ended: ended_tx,
    })
}

/// The CONNACK that accepts `request`, with our properties (v5.0).
fn success_connack(
    shared: &Shared,
    request: &ConnectRequest,
    assigned: Option<String>,
    session_present: bool,
) -> Result<GenericPacket<u16>, BuildError> {
    Ok(match request.version {
        ProtocolVersion::V5_0 => v5_0::Packet::from(
            v5_0::Connack::builder()
                .session_present(session_present)
                .properties(connack_properties(shared, request, assigned))
                .build()?,
        )
        .into(),
        ProtocolVersion::V3_1_1 => v3_1_1::Packet::from(
            v3_1_1::Connack::builder()
                .session_present(session_present)
                .build()?,
        )
        .into(),
    })
}

/// Sends a refusing CONNACK (v3.1.1 `code`, v5.0 `reason`) and closes the
/// connection [MQTT-3.2.2-5], [MQTT-3.2.2-7], also when the CONNACK could
/// not be sent.
async fn refuse(
    endpoint: &ServerEndpoint,
    code: ConnectReturnCode,
    reason: Option<ConnectReasonCode>,
) {
    let packet: Option<GenericPacket<u16>> = match reason {
        Some(reason) => v5_0::Connack::builder()
            .reason_code(reason)
            .build()
            .ok()
            .map(|c| v5_0::Packet::from(c).into()),
        None => v3_1_1::Connack::builder()
            .return_code(code)
            .build()
            .ok()
            .map(|c| v3_1_1::Packet::from(c).into()),
    };
    if let Some(packet) = packet {
        let _ = endpoint.send_generic(packet).await;
    }
    let _ = endpoint.close().await;
}

/// The outcome of taking a session for a new connection.
struct Claim {
    generation: u64,
    /// The stored session to import (resumed).
    resume: Option<Box<StoredConnection>>,
    /// The Will of a discarded session, published now: its session ended.
    will_now: Option<StoredMessage>,
}

/// Takes the session of `client` for this connection: first closes a
/// connection that holds it (v5.0: DISCONNECT 0x8E) and waits until its
/// task stored it, then resumes it or discards it per Clean Start. `None`:
/// there is no session of `client` and `--max-sessions` are kept already.
async fn claim_session(
    shared: &Arc<Shared>,
    endpoint: &ServerEndpoint,
    client: &ClientId,
    request: &ConnectRequest,
    ended: super::ended::EndWatch,
) -> Option<Claim> {
    let mut attempts = 0;
    loop {
        let online = {
            let mut st = shared.lock();
            if let Some(session) = st.sessions.get_mut(client) {
                // A hibernated holder is woken, to be taken over as any.
                super::hibernate::wake(shared, session, client);
            }
            match st.sessions.get(client) {
                Some(Session {
                    presence: Presence::Online(online),
                    ..
                }) if attempts < 3 => Some((
                    online.endpoint.clone(),
                    online.version,
                    online.ended.clone(),
                )),
                None if st.sessions.len() >= shared.config.max_sessions => return None,
                _ => {
                    let st = &mut *st;
                    let generation = st.next_generation();
                    let old = st.sessions.remove(client);
                    let old_durable = old.as_ref().is_some_and(|s| s.durable);
                    let (stored, pending_will, id) = match old {
                        Some(Session {
                            presence: Presence::Offline(conn),
                            pending_will,
                            id,
                            ..
                        }) => (Some(conn), pending_will, id),
                        Some(s) => (None, s.pending_will, s.id),
                        None => (None, None, generation),
                    };
                    let resume = !request.clean_start
                        && stored
                            .as_ref()
                            .is_some_and(|c| c.version() == Some(request.version));
                    if !resume {
                        st.router.remove_client(client);
                    }
                    st.sessions.insert(
                        client.clone(),
                        Session {
                            generation,
                            // A discarded session's copies are not ours.
                            id: if resume { id } else { generation },
                            presence: Presence::online(
                                endpoint.clone(),
                                request.version,
                                ended,
                                false,
                            ),
                            pending_will: None,
                            durable: shared.session_expiry(request.session_expiry) > 0,
                        },
                    );
                    if let Some(store) = &shared.store {
                        let expiry = shared.session_expiry(request.session_expiry);
                        let will = request.will.clone();
                        let replaces = old_durable && !resume;
                        store.claimed(st, client, replaces, request.version, expiry, will);
                    }
                    let resume = if resume { stored } else { None };
                    // Reconnecting before the Will Delay ends cancels the Will
                    // [MQTT-3.1.3-9]; a discarded session has ended: its Will
                    // goes now (§3.1.2.5).
                    let will_now = if resume.is_some() {
                        None
                    } else {
                        pending_will.map(|w| *w)
                    };
                    return Some(Claim {
                        generation,
                        resume,
                        will_now,
                    });
                }
            }
        };
        attempts += 1;
        if let Some((old, version, old_ended)) = online {
            take_over(&old, version).await;
            if timeout(TAKEOVER_WAIT, old_ended.wait()).await.is_err() {
                old.abort();
            }
        }
    }
}

/// Closes the connection `old` that holds a session taken over
/// [MQTT-3.1.4-3]: v5.0 with DISCONNECT 0x8E (Session taken over), v3.1.1
/// by closing the network connection; aborted at once if it does not take
/// the command in time (a client that does not read).
async fn take_over(old: &ServerEndpoint, version: ProtocolVersion) {
    let wait = Duration::from_secs(2);
    if version == ProtocolVersion::V5_0 {
        let disconnect = v5_0::Disconnect::new(DisconnectReasonCode::SessionTakenOver);
        let packet = GenericPacket::from(v5_0::Packet::from(disconnect));
        if !matches!(timeout(wait, old.send_generic(packet)).await, Ok(Ok(()))) {
            old.abort();
        }
    } else if timeout(wait, old.close()).await.is_err() {
        old.abort();
    }
}

/// The CONNACK Properties (§3.2.2.3): our limits and what is not supported,
/// the Assigned Client Identifier [MQTT-3.2.2-16], the Server Keep Alive,
/// a lowered Session Expiry Interval, Response Information when asked.
fn connack_properties(
    shared: &Shared,
    request: &ConnectRequest,
    assigned: Option<String>,
) -> ConnackProperties {
    let c = &shared.config;
    let server_keep_alive = c.server_keep_alive.or(match c.max_keep_alive {
        Some(max) if request.keep_alive == 0 || request.keep_alive > max => Some(max),
        _ => None,
    });
    let granted = shared.session_expiry(request.session_expiry);
    let mqtt = |s: String| MqttString::try_from(s).ok();
    ConnackProperties {
        session_expiry_interval: (granted != request.session_expiry).then_some(granted),
        assigned_client_identifier: assigned.and_then(mqtt),
        server_keep_alive,
        response_information: if request.request_response_information {
            mqtt(format!("response/{}", request.client_id))
        } else {
            None
        },
        receive_maximum: NonZeroU16::new(c.receive_maximum),
        topic_alias_maximum: (c.topic_alias_maximum > 0).then_some(c.topic_alias_maximum),
        maximum_qos: (c.maximum_qos < QoS::ExactlyOnce).then_some(c.maximum_qos),
        retain_available: (!c.retain_available).then_some(false),
        maximum_packet_size: NonZeroU32::new(c.max_packet_size),
        wildcard_subscription_available: (!c.wildcard_available).then_some(false),
        subscription_identifiers_available: (!c.subscription_ids_available).then_some(false),
        shared_subscription_available: (!c.shared_available).then_some(false),
        ..ConnackProperties::default()
    }
}
