//! mqtt-tokio's high-level `Client`: `ClientOptions` defaults (at most 20
//! QoS 1 and 2 messages in flight), `subscribe` and `publish` resolving
//! with the broker's answer.

use super::*;

pub fn options(addr: SocketAddr, v: ProtocolVersion, id: &str) -> ClientOptions {
    let url = format!("mqtt://{addr}");
    let options = ClientOptions::new(&url).unwrap().client_id(id).version(v);
    options.keep_alive(Duration::from_secs(30))
}

pub async fn latency(addr: SocketAddr, v: ProtocolVersion, id: &str) -> Duration {
    let t0 = Instant::now();
    let (client, mut messages) = Client::connect(options(addr, v, id)).await.unwrap();
    client
        .subscribe(LATENCY_TOPIC, QoS::AtLeastOnce)
        .await
        .unwrap();
    messages.recv().await.unwrap();
    let elapsed = t0.elapsed();
    client.disconnect().await.unwrap();
    elapsed
}

/// The subscription in the options: its SUBSCRIBE leaves with the
/// CONNECT, as rumqttc's, queued before its event loop connects, does.
pub async fn latency_subscribed(addr: SocketAddr, v: ProtocolVersion, id: &str) -> Duration {
    let t0 = Instant::now();
    let options = options(addr, v, id).subscribe(LATENCY_TOPIC, QoS::AtLeastOnce);
    let (client, mut messages) = Client::connect(options.unwrap()).await.unwrap();
    messages.recv().await.unwrap();
    let elapsed = t0.elapsed();
    client.disconnect().await.unwrap();
    elapsed
}

/// Every message published from its own task, as an application with
/// many producers does; done when every `publish` resolved (PUBACK).
pub async fn throughput(addr: SocketAddr, v: ProtocolVersion, id: &str) -> Duration {
    let (client, _messages) = Client::connect(options(addr, v, id)).await.unwrap();
    let message = ours::message(THROUGHPUT_TOPIC, false);
    let t0 = Instant::now();
    let publishes: Vec<_> = (0..MESSAGES)
        .map(|_| {
            let (client, message) = (client.clone(), message.clone());
            tokio::spawn(async move { client.publish_message(message).await })
        })
        .collect();
    for publish in publishes {
        publish.await.unwrap().unwrap();
    }
    let elapsed = t0.elapsed();
    client.disconnect().await.unwrap();
    elapsed
}

/// Every message's `publish` future polled by this task, all at once
/// (`FuturesUnordered`): no task per message.
pub async fn throughput_joined(addr: SocketAddr, v: ProtocolVersion, id: &str) -> Duration {
    use futures_util::StreamExt;
    let (client, _messages) = Client::connect(options(addr, v, id)).await.unwrap();
    let message = ours::message(THROUGHPUT_TOPIC, false);
    let t0 = Instant::now();
    let mut publishes: futures_util::stream::FuturesUnordered<_> = (0..MESSAGES)
        .map(|_| client.publish_message(message.clone()))
        .collect();
    while let Some(done) = publishes.next().await {
        done.unwrap();
    }
    let elapsed = t0.elapsed();
    drop(publishes);
    client.disconnect().await.unwrap();
    elapsed
}

/// QoS 0: `MESSAGES` calls in a loop, each awaited (`publish`, resolved
/// once the driver took the message; or `publish_nowait`, once queued),
/// then one QoS 1 message whose PUBACK says the broker read them all.
pub async fn qos0(addr: SocketAddr, v: ProtocolVersion, id: &str, nowait: bool) -> Duration {
    let (client, _messages) = Client::connect(options(addr, v, id)).await.unwrap();
    let t0 = Instant::now();
    for _ in 0..MESSAGES {
        let payload = Bytes::from_static(&PAYLOAD);
        if nowait {
            let publish = client.publish_nowait(THROUGHPUT_TOPIC, QoS::AtMostOnce, false, payload);
            publish.await.unwrap();
        } else {
            let publish = client.publish(THROUGHPUT_TOPIC, QoS::AtMostOnce, false, payload);
            publish.await.unwrap();
        }
    }
    let last = client.publish(THROUGHPUT_TOPIC, QoS::AtLeastOnce, false, "end");
    last.await.unwrap();
    let elapsed = t0.elapsed();
    client.disconnect().await.unwrap();
    elapsed
}
