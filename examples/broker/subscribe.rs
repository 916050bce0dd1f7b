//! SUBSCRIBE → SUBACK (+ retained messages) and UNSUBSCRIBE → UNSUBACK, for
//! both versions (§3.8 to §3.11).

use std::time::Instant;

use mqtt_codec::v3_1_1::SubackReturnCode;
use mqtt_codec::v5_0::{SubackReasonCode, UnsubackReasonCode};
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, Message, ProtocolVersion, QoS, TopicFilter};
use mqtt_tokio::{Forward, ForwardError, ServerEndpoint};

use super::message::StoredMessage;
use super::router::{is_denied, ClientId, RetainHandling, Subscription};
use super::state::{Shared, State};

/// One Topic Filter of a SUBSCRIBE, in either version.
struct Request {
    filter: TopicFilter,
    sub: Subscription,
}

/// Why a subscription is refused, per version (v3.1.1 has 0x80 only).
#[derive(Clone, Copy)]
enum Refusal {
    Denied,
    Wildcard,
    Shared,
    SubscriptionIds,
}

fn v5_code(outcome: Result<QoS, Refusal>) -> SubackReasonCode {
    match outcome {
        Ok(QoS::AtMostOnce) => SubackReasonCode::GrantedQoS0,
        Ok(QoS::AtLeastOnce) => SubackReasonCode::GrantedQoS1,
        Ok(QoS::ExactlyOnce) => SubackReasonCode::GrantedQoS2,
        Err(Refusal::Denied) => SubackReasonCode::UnspecifiedError,
        Err(Refusal::Wildcard) => SubackReasonCode::WildcardSubscriptionsNotSupported,
        Err(Refusal::Shared) => SubackReasonCode::SharedSubscriptionsNotSupported,
        Err(Refusal::SubscriptionIds) => SubackReasonCode::SubscriptionIdentifiersNotSupported,
    }
}

/// Whether the filter is refused: `--deny` (the filter, or the filter of
/// a shared subscription), or a feature turned off. (On v5.0 the
/// connection already answers a wildcard, shared or identified
/// SUBSCRIBE the CONNACK said is not supported with DISCONNECT 0xA2, 0x9E
/// or 0xA1, §3.2.2.3.11 to §3.2.2.3.13.)
fn refusal(shared: &Shared, r: &Request) -> Option<Refusal> {
    let c = &shared.config;
    let inner = mqtt_codec::SharedSubscription::parse(&r.filter)
        .ok()
        .flatten()
        .map(|s| s.filter().clone());
    if is_denied(&c.deny, &r.filter) || inner.is_some_and(|f| is_denied(&c.deny, &f)) {
        return Some(Refusal::Denied);
    }
    if !c.wildcard_available && r.filter.has_wildcard() {
        return Some(Refusal::Wildcard);
    }
    if !c.shared_available && r.filter.is_shared() {
        return Some(Refusal::Shared);
    }
    if !c.subscription_ids_available && r.sub.subscription_id.is_some() {
        return Some(Refusal::SubscriptionIds);
    }
    None
}

/// Answers a SUBSCRIBE: records each granted subscription (QoS lowered to
/// `--maximum-qos`, [MQTT-3.8.4-3] replacing an existing one), sends the
/// SUBACK with one code per filter in order [MQTT-3.8.4-6], then the
/// retained messages the Retain Handling asks for, with RETAIN 1
/// [MQTT-3.3.1-9] to [MQTT-3.3.1-11], none for a shared subscription
/// (§4.8.2).
pub async fn on_subscribe(
    shared: &Shared,
    endpoint: &ServerEndpoint,
    client: &ClientId,
    packet: GenericPacket<u16>,
) {
    let (version, id, requests) = match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Subscribe(s)) => {
            let requests = s
                .subscriptions()
                .iter()
                .map(|r| Request {
                    filter: r.filter.clone(),
                    sub: Subscription {
                        qos: r.qos,
                        no_local: false,
                        retain_as_published: false,
                        retain_handling: RetainHandling::SendAtSubscribe,
                        subscription_id: None,
                    },
                })
                .collect::<Vec<_>>();
            (ProtocolVersion::V3_1_1, s.packet_id(), requests)
        }
        GenericPacket::V5_0(v5_0::Packet::Subscribe(s)) => {
            let id = s.properties().subscription_identifier.map(|i| i.get());
            let requests = s
                .subscriptions()
                .iter()
                .map(|(filter, o)| Request {
                    filter: filter.clone(),
                    sub: Subscription {
                        qos: o.qos,
                        no_local: o.no_local,
                        retain_as_published: o.retain_as_published,
                        retain_handling: match o.retain_handling {
                            v5_0::RetainHandling::SendAtSubscribe => {
                                RetainHandling::SendAtSubscribe
                            }
                            v5_0::RetainHandling::SendAtSubscribeIfNew => {
                                RetainHandling::SendAtSubscribeIfNew
                            }
                            v5_0::RetainHandling::DoNotSend => RetainHandling::DoNotSend,
                        },
                        subscription_id: id,
                    },
                })
                .collect::<Vec<_>>();
            (ProtocolVersion::V5_0, s.packet_id(), requests)
        }
        _ => return,
    };

    let now = Instant::now();
    let suback_waits;
    let mut outcomes = Vec::with_capacity(requests.len());
    let mut retained: Vec<Message> = Vec::new();
    {
        let mut st = shared.lock();
        let mut messages: Vec<StoredMessage> = Vec::new();
        for mut r in requests {
            if let Some(refused) = refusal(shared, &r) {
                outcomes.push(Err(refused));
                continue;
            }
            let granted = r.sub.qos.min(shared.config.maximum_qos);
            r.sub.qos = granted;
            let handling = r.sub.retain_handling;
            let ids: Vec<u32> = r.sub.subscription_id.into_iter().collect();
            if let (Some(store), Some(session)) = (&shared.store, st.sessions.get(client)) {
                store.subscribed(session, client, &r.filter, &r.sub);
            }
            let existed = st.router.subscribe(client, &r.filter, r.sub);
            outcomes.push(Ok(granted));
            let send = match handling {
                RetainHandling::SendAtSubscribe => true,
                RetainHandling::SendAtSubscribeIfNew => !existed,
                RetainHandling::DoNotSend => false,
            };
            if !send || r.filter.is_shared() || !shared.config.retain_available {
                continue;
            }
            messages.clear();
            st.retained.matching(&r.filter, now, &mut messages);
            for m in &messages {
                let qos = m.message().qos().min(granted);
                retained.push(m.delivery(qos, true, &ids, now));
            }
        }
        // Queued while the lock keeps routing out: a live message matching
        // the new subscriptions, routed next, comes after the SUBACK and the
        // retained messages, as far as they fit in the connection's command
        // queue (256). The rest wait for room below, and live messages may
        // come between them.
        let Some(ack) = suback(version, id, &outcomes) else {
            return;
        };
        let Some(waits) = forward_now(endpoint, [ack]) else {
            return;
        };
        if waits.is_empty() {
            let Some(rest) = forward_now(endpoint, std::mem::take(&mut retained)) else {
                return;
            };
            retained = rest;
        }
        suback_waits = waits;
    }
    for ack in suback_waits {
        if endpoint.forward(ack).await.is_err() {
            return;
        }
    }
    for m in retained {
        if endpoint.forward(m).await.is_err() {
            return;
        }
    }
}

/// Forwards `items` in order as far as the connection's command queue has
/// room, without waiting; returns the ones that must wait (from the first
/// that did not fit), or `None` when the connection is closed.
fn forward_now<T: Forward<u16>>(
    endpoint: &ServerEndpoint,
    items: impl IntoIterator<Item = T>,
) -> Option<Vec<T>> {
    let mut items = items.into_iter();
    for item in items.by_ref() {
        match endpoint.try_forward(item) {
            Ok(()) => {}
            Err(ForwardError::Full(item)) => {
                return Some(std::iter::once(item).chain(items).collect());
            }
            Err(ForwardError::Closed(_)) => return None,
        }
    }
    Some(Vec::new())
}

/// The SUBACK of `outcomes`, one code per filter in order.
fn suback(
    version: ProtocolVersion,
    id: u16,
    outcomes: &[Result<QoS, Refusal>],
) -> Option<GenericPacket<u16>> {
    match version {
        ProtocolVersion::V3_1_1 => {
            let mut b = v3_1_1::Suback::<u16>::builder();
            b.packet_id(id);
            for o in outcomes {
                b.return_code(match o {
                    Ok(qos) => SubackReturnCode::Success(*qos),
                    Err(_) => SubackReturnCode::Failure,
                });
            }
            b.build().ok().map(|s| v3_1_1::Packet::from(s).into())
        }
        ProtocolVersion::V5_0 => {
            let mut b = v5_0::Suback::<u16>::builder();
            b.packet_id(id);
            for o in outcomes {
                b.reason_code(v5_code(*o));
            }
            b.build().ok().map(|s| v5_0::Packet::from(s).into())
        }
    }
}

/// Answers an UNSUBSCRIBE: removes each subscription and sends the
/// UNSUBACK (v5.0: 0x00, or 0x11 when none existed, per filter
/// [MQTT-3.11.3-1]).
pub async fn on_unsubscribe(
    shared: &Shared,
    endpoint: &ServerEndpoint,
    client: &ClientId,
    packet: GenericPacket<u16>,
) {
    let answer: Option<GenericPacket<u16>> = match packet {
        GenericPacket::V3_1_1(v3_1_1::Packet::Unsubscribe(u)) => {
            let mut st = shared.lock();
            for f in u.topic_filters() {
                st.router.unsubscribe(client, f);
                unsubscribed(shared, &st, client, f);
            }
            Some(v3_1_1::Packet::from(v3_1_1::Unsuback::new(u.packet_id())).into())
        }
        GenericPacket::V5_0(v5_0::Packet::Unsubscribe(u)) => {
            let mut b = v5_0::Unsuback::<u16>::builder();
            b.packet_id(u.packet_id());
            {
                let mut st = shared.lock();
                for f in u.filters() {
                    unsubscribed(shared, &st, client, f);
                    b.reason_code(if st.router.unsubscribe(client, f) {
                        UnsubackReasonCode::Success
                    } else {
                        UnsubackReasonCode::NoSubscriptionExisted
                    });
                }
            }
            b.build().ok().map(|u| v5_0::Packet::from(u).into())
        }
        _ => None,
    };
    if let Some(answer) = answer {
        let _ = endpoint.send_generic(answer).await;
    }
}

/// Tells the store (if any) that `client` unsubscribed from `filter`.
fn unsubscribed(shared: &Shared, st: &State, client: &ClientId, filter: &TopicFilter) {
    if let (Some(store), Some(session)) = (&shared.store, st.sessions.get(client)) {
        store.unsubscribed(session, client, filter);
    }
}
