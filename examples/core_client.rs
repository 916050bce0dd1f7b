//! A complete MQTT v5.0 client over `std::net::TcpStream`, driving the
//! Sans-I/O `mqtt-core` by hand: read, `recv`, write, timers, close. It
//! subscribes to a topic, publishes one QoS 1 message to it, waits for the
//! message to come back, and disconnects.
//!
//! ```text
//! cargo run -p mqtt-examples --example core_client -- [ADDR]
//! ```
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mqtt_core::prelude::*;

type Error = Box<dyn std::error::Error>;

/// Runs the client against the broker at `addr`; returns the payload that
/// came back.
pub fn run(addr: &str) -> Result<Bytes, Error> {
    let mut stream = TcpStream::connect(addr)?;
    // Defaults: acknowledge what arrives, send PINGREQ and close when no
    // PINGRESP comes within the Keep Alive.
    let mut conn = Connection::<role::Client>::new(ProtocolVersion::V5_0);
    let mut timers = TimerTable::new();
    let (mut input, mut output, mut buf) = (BytesMut::new(), BytesMut::new(), [0; 4096]);
    let topic = "mqtt-workspace/core-client";
    let connect = v5_0::Connect::builder()
        .try_client_id("core-client")?
        .keep_alive(30)
        .build()?;
    let mut events = VecDeque::from(conn.checked_send(connect)?);
    let mut received = None;
    loop {
        while let Some(event) = events.pop_front() {
            match event {
                Event::RequestSendPacket { packet, .. } => {
                    packet.encode(&mut output)?;
                }
                Event::RequestTimerReset { .. } | Event::RequestTimerCancel(_) => {
                    timers.apply(&event, Instant::now());
                }
                Event::NotifyPacketReceived(GenericPacket::V5_0(packet)) => match packet {
                    v5_0::Packet::Connack(_) => {
                        let mut subscribe = v5_0::Subscribe::builder();
                        subscribe.packet_id(conn.acquire_packet_id()?);
                        subscribe.try_subscription(topic, QoS::AtLeastOnce)?;
                        events.extend(conn.checked_send(subscribe.build()?)?);
                    }
                    v5_0::Packet::Suback(_) => {
                        let message = Message::builder()
                            .topic_name(TopicName::from_static(topic)?)
                            .qos(QoS::AtLeastOnce)
                            .payload(&b"hello from mqtt-core"[..])
                            .build()?;
                        events.extend(conn.publish(message)?.events);
                    }
                    v5_0::Packet::Publish(publish) => {
                        received = Some(publish.into_payload());
                        let disconnect = v5_0::Disconnect::builder().build()?;
                        events.extend(conn.checked_send(disconnect)?);
                    }
                    _ => {}
                },
                Event::NotifyError(error) => eprintln!("connection error: {error}"),
                Event::RequestClose => {
                    stream.write_all(&output)?;
                    let _ = conn.notify_closed();
                    return received.ok_or_else(|| "closed before the message came back".into());
                }
                _ => {}
            }
        }
        stream.write_all(&output)?;
        output.clear();
        // Read until the next timer is due; a read that times out fires it.
        let now = Instant::now();
        let wait = timers
            .next_deadline()
            .map(|at| at.saturating_duration_since(now));
        stream.set_read_timeout(wait.map(|d| d.max(Duration::from_millis(1))))?;
        match stream.read(&mut buf) {
            Ok(0) => events.extend(conn.notify_closed()),
            Ok(n) => {
                input.extend_from_slice(&buf[..n]);
                events.extend(conn.recv(&mut input));
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                while let Some(kind) = timers.expired(Instant::now()) {
                    events.extend(conn.notify_timer_fired(kind));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn main() -> Result<(), Error> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:1883".into());
    let payload = run(&addr)?;
    println!("received back: {}", String::from_utf8_lossy(&payload));
    Ok(())
}
