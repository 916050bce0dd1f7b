//! Allocations of mqtt-tokio's `Client` on its QoS 0 publish path, counted
//! by the benches' global allocator (mqtt-tokio forbids `unsafe`): a
//! Topic Name and a payload made once and shared by every publish, through
//! the command queue, the connection and the write buffer, to a broker
//! that reads everything.

use std::io::{Read, Write};
use std::time::Duration;

use bytes::Bytes;
use mqtt_benches::{allocations, CountingAlloc};
use mqtt_codec::{ProtocolVersion, QoS, TopicName};
use mqtt_tokio::{Client, ClientOptions};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const MESSAGES: u64 = 20_000;

/// A v5.0 broker that accepts one client and reads until it leaves;
/// returns how many bytes it read.
fn broker() -> (std::net::SocketAddr, std::thread::JoinHandle<usize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let reading = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = stream.read(&mut buf).unwrap();
        // CONNACK: Success, no properties.
        stream.write_all(&[0x20, 0x03, 0x00, 0x00, 0x00]).unwrap();
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
        }
    });
    (addr, reading)
}

/// Publishing QoS 0 messages allocates nothing per message. What remains
/// is one allocation each time the publisher finds the command channel
/// full and waits for room (the boxed wake-up of the queue's `Send`): on
/// this current-thread runtime about once per 32 messages.
#[test]
fn qos0_publish_does_not_allocate_per_message() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (addr, reading) = broker();
    let options = ClientOptions::new(&format!("mqtt://{addr}"))
        .unwrap()
        .client_id("alloc")
        .version(ProtocolVersion::V5_0)
        .reconnect(None);
    let allocations = runtime.block_on(async {
        let (client, _messages) = Client::connect(options).await.unwrap();
        let topic = TopicName::new("alloc/qos0").unwrap();
        let payload = Bytes::from_static(&[b'x'; 64]);
        let publish = || client.publish(&topic, QoS::AtMostOnce, false, payload.clone());
        // Warm up: the queues and the write buffer reach their size.
        for _ in 0..1_000 {
            publish().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = allocations();
        for _ in 0..MESSAGES {
            publish().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let allocations = allocations() - before;
        client.disconnect().await.unwrap();
        allocations
    });
    let read = reading.join().unwrap();
    assert!(
        read > (MESSAGES * 64) as usize,
        "the broker read every message"
    );
    let per_message = allocations as f64 / MESSAGES as f64;
    assert!(
        per_message < 0.05,
        "{allocations} allocations for {MESSAGES} messages"
    );
}
