//! mqtt-tokio: `ClientEndpoint::connect`, `publish` of a `Message` (numbered by
//! the connection), automatic PUBACK (the default).

use super::*;

fn options() -> ConnectionOptions {
    ConnectionOptions::default()
}

async fn connect(addr: SocketAddr, v: ProtocolVersion, id: &str) -> (ClientEndpoint, Incoming) {
    let connect: GenericPacket = match v {
        ProtocolVersion::V3_1_1 => {
            let c = v3_1_1::Connect::builder()
                .try_client_id(id)
                .unwrap()
                .keep_alive(30)
                .build();
            v3_1_1::Packet::from(c.unwrap()).into()
        }
        _ => {
            let c = v5_0::Connect::builder()
                .try_client_id(id)
                .unwrap()
                .keep_alive(30)
                .build();
            v5_0::Packet::from(c.unwrap()).into()
        }
    };
    ClientEndpoint::connect(addr, connect, options())
        .await
        .unwrap()
}

type Incoming = mqtt_tokio::Incoming<mqtt_tokio::role::Client>;

/// A QoS 1 message of [`PAYLOAD`] to `topic`.
pub fn message(topic: &'static str, retain: bool) -> Message {
    Message::builder()
        .topic_name(TopicName::from_static(topic).unwrap())
        .qos(QoS::AtLeastOnce)
        .retain(retain)
        .payload(Bytes::from_static(&PAYLOAD))
        .build()
        .unwrap()
}

/// Leaves a retained message on [`LATENCY_TOPIC`].
pub async fn retain(addr: SocketAddr) {
    let (client, mut incoming) = connect(addr, ProtocolVersion::V5_0, "retain").await;
    client.publish(message(LATENCY_TOPIC, true)).await.unwrap();
    while incoming.recv().await.unwrap().packet_type() != PacketType::Puback {}
    client.close().await.unwrap();
}

pub async fn latency(addr: SocketAddr, v: ProtocolVersion, id: &str) -> Duration {
    let t0 = Instant::now();
    let (client, mut incoming) = connect(addr, v, id).await;
    let packet_id = client.acquire_packet_id().await.unwrap();
    let filter = TopicFilter::new(LATENCY_TOPIC).unwrap();
    let subscribe: GenericPacket = match v {
        ProtocolVersion::V3_1_1 => {
            let s = v3_1_1::Subscription::new(filter, QoS::AtLeastOnce);
            let s = v3_1_1::Subscribe::builder()
                .packet_id(packet_id)
                .subscription(s)
                .build();
            v3_1_1::Packet::from(s.unwrap()).into()
        }
        _ => {
            let s = (filter, v5_0::SubscriptionOptions::new(QoS::AtLeastOnce));
            let s = v5_0::Subscribe::builder()
                .packet_id(packet_id)
                .subscription(s)
                .build();
            v5_0::Packet::from(s.unwrap()).into()
        }
    };
    client.send_generic(subscribe).await.unwrap();
    while incoming.recv().await.unwrap().packet_type() != PacketType::Publish {}
    let elapsed = t0.elapsed();
    client.close().await.unwrap();
    elapsed
}

pub async fn throughput(addr: SocketAddr, v: ProtocolVersion, id: &str) -> Duration {
    let (client, mut incoming) = connect(addr, v, id).await;
    let message = message(THROUGHPUT_TOPIC, false);
    let t0 = Instant::now();
    let acks = tokio::spawn(async move {
        let mut n = 0;
        while n < MESSAGES {
            if incoming.recv().await.unwrap().packet_type() == PacketType::Puback {
                n += 1;
            }
        }
    });
    for _ in 0..MESSAGES {
        client.publish(message.clone()).await.unwrap();
    }
    acks.await.unwrap();
    let elapsed = t0.elapsed();
    client.close().await.unwrap();
    elapsed
}
