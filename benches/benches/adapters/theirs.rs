//! rumqttc: `AsyncClient` and its `EventLoop` polled by the measuring task
//! (automatic PUBACK, default in-flight limit 100), once per version module.

use super::*;

macro_rules! rumqttc_side {
    ($name:ident: $($import:item)*) => {
        pub mod $name {
            use super::*;
            $($import)*

            pub fn options(addr: SocketAddr, id: &str) -> MqttOptions {
                let mut options = MqttOptions::new(id, addr.ip().to_string(), addr.port());
                options.set_keep_alive(Duration::from_secs(30));
                options
            }

            async fn close(client: AsyncClient, mut events: EventLoop) {
                client.disconnect().await.unwrap();
                let closed = async { while events.poll().await.is_ok() {} };
                let _ = tokio::time::timeout(Duration::from_secs(1), closed).await;
            }

            async fn connected(events: &mut EventLoop) {
                while !matches!(events.poll().await.unwrap(), Event::Incoming(Packet::ConnAck(_))) {}
            }

            pub async fn latency(addr: SocketAddr, id: &str) -> Duration {
                let t0 = Instant::now();
                let (client, mut events) = AsyncClient::new(options(addr, id), 10);
                client.subscribe(LATENCY_TOPIC, QoS::AtLeastOnce).await.unwrap();
                while !matches!(events.poll().await.unwrap(), Event::Incoming(Packet::Publish(_))) {}
                let elapsed = t0.elapsed();
                close(client, events).await;
                elapsed
            }

            /// `MESSAGES` × `qos` from a task publishing in a loop, then (QoS 0)
            /// one QoS 1 message; done at the last PUBACK the event loop polls.
            async fn publish_loop(addr: SocketAddr, id: &str, qos: QoS) -> Duration {
                let (client, mut events) = AsyncClient::new(options(addr, id), 100);
                connected(&mut events).await;
                let t0 = Instant::now();
                let publisher = client.clone();
                let publishing = tokio::spawn(async move {
                    for _ in 0..MESSAGES {
                        let payload = PAYLOAD.to_vec();
                        publisher.publish(THROUGHPUT_TOPIC, qos, false, payload).await.unwrap();
                    }
                    if qos == QoS::AtMostOnce {
                        let end = QoS::AtLeastOnce;
                        publisher.publish(THROUGHPUT_TOPIC, end, false, "end").await.unwrap();
                    }
                });
                let acks = if qos == QoS::AtMostOnce { 1 } else { MESSAGES };
                let mut n = 0;
                while n < acks {
                    if let Event::Incoming(Packet::PubAck(_)) = events.poll().await.unwrap() {
                        n += 1;
                    }
                }
                let elapsed = t0.elapsed();
                publishing.await.unwrap();
                close(client, events).await;
                elapsed
            }

            pub async fn throughput(addr: SocketAddr, id: &str) -> Duration {
                publish_loop(addr, id, QoS::AtLeastOnce).await
            }

            pub async fn qos0(addr: SocketAddr, id: &str) -> Duration {
                publish_loop(addr, id, QoS::AtMostOnce).await
            }

            /// A connected client left idle, its event loop polled by a task.
            pub async fn idle(addr: SocketAddr, id: &str) -> AsyncClient {
                let (client, mut events) = AsyncClient::new(options(addr, id), 10);
                connected(&mut events).await;
                tokio::spawn(async move { while events.poll().await.is_ok() {} });
                client
            }
        }
    };
}

rumqttc_side!(v3_1_1: use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};);
rumqttc_side!(v5_0:
    use rumqttc::v5::{AsyncClient, Event, EventLoop, MqttOptions};
    use rumqttc::v5::mqttbytes::{v5::Packet, QoS};
);
