//! CONNECTs the example broker refuses, seen from a raw TCP client: the
//! CONNECT is written byte by byte (§3.1), and the test reads back the exact
//! bytes of the CONNACK (§3.2) and then the end of the stream. The wait for
//! the end is bounded only to keep a broker that leaves the connection open
//! from hanging the test; the assertion is on what is read.

use std::net::SocketAddr;
use std::time::Duration;

use mqtt_examples::broker::{Broker, BrokerConfig, StatsHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// How long the broker may take to answer and close.
const LIMIT: Duration = Duration::from_secs(10);

async fn start() -> (SocketAddr, StatsHandle) {
    let config = BrokerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..BrokerConfig::default()
    };
    let broker = Broker::bind(config).await.expect("bind");
    let (addr, stats) = (broker.local_addr(), broker.stats_handle());
    tokio::spawn(broker.run());
    (addr, stats)
}

/// Writes `connect` and reads everything the broker sends until it closes
/// the connection (`read` returns 0). Fails if it does not close within
/// [`LIMIT`].
async fn answer_then_close(addr: SocketAddr, connect: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(connect).await.expect("write CONNECT");
    let mut received = Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        let read = timeout(LIMIT, stream.read(&mut chunk)).await;
        let n = match read {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => panic!("read failed after {received:02X?}: {e}"),
            Err(_) => panic!("the connection is still open after {received:02X?}"),
        };
        if n == 0 {
            return received;
        }
        received.extend_from_slice(&chunk[..n]);
    }
}

/// [MQTT-4.12.0-1]: a v5.0 CONNECT with an Authentication Method the
/// Server does not support gets CONNACK 0x8C (Bad authentication method)
/// and the Network Connection is closed. A refusing CONNACK has Session
/// Present 0 [MQTT-3.2.2-6] and is followed by the close [MQTT-3.2.2-7];
/// the refused client takes no session.
#[tokio::test(flavor = "multi_thread")]
async fn unsupported_authentication_method_gets_0x8c_and_close() {
    let (addr, stats) = start().await;
    #[rustfmt::skip]
    let connect = [
        0x10, 0x1F,                               // CONNECT, Remaining Length 31
        0x00, 0x04, b'M', b'Q', b'T', b'T',       // Protocol Name
        0x05,                                     // Protocol Version 5
        0x02,                                     // Connect Flags: Clean Start
        0x00, 0x3C,                               // Keep Alive 60
        0x0E,                                     // Properties: 14 bytes
        0x15, 0x00, 0x0B,                         // Authentication Method,
        b'S', b'C', b'R', b'A', b'M', b'-',       // "SCRAM-SHA-1"
        b'S', b'H', b'A', b'-', b'1',
        0x00, 0x04, b'a', b'u', b't', b'h',       // Client Identifier "auth"
    ];
    let received = answer_then_close(addr, &connect).await;
    // CONNACK, Remaining Length 3, Session Present 0, Reason Code 0x8C,
    // no properties.
    assert_eq!(received, [0x20, 0x03, 0x00, 0x8C, 0x00]);
    assert_eq!(stats.snapshot().sessions, 0);
}

/// A CONNACK the Server's connection refuses to send (here: it would
/// exceed the Client's Maximum Packet Size of 10 bytes [MQTT-3.1.2-24]) is
/// replaced by a refusing one, 0x80 (Unspecified error), which fits, and the
/// connection closes [MQTT-3.2.2-7]: never is a connection left open
/// without a CONNACK.
#[tokio::test(flavor = "multi_thread")]
async fn connack_the_connection_refuses_becomes_0x80_and_close() {
    let (addr, _stats) = start().await;
    #[rustfmt::skip]
    let connect = [
        0x10, 0x16,                               // CONNECT, Remaining Length 22
        0x00, 0x04, b'M', b'Q', b'T', b'T',       // Protocol Name
        0x05,                                     // Protocol Version 5
        0x02,                                     // Connect Flags: Clean Start
        0x00, 0x3C,                               // Keep Alive 60
        0x05,                                     // Properties: 5 bytes
        0x27, 0x00, 0x00, 0x00, 0x0A,             // Maximum Packet Size 10
        0x00, 0x04, b't', b'i', b'n', b'y',       // Client Identifier "tiny"
    ];
    let received = answer_then_close(addr, &connect).await;
    assert_eq!(received, [0x20, 0x03, 0x00, 0x80, 0x00]);
}
