//! The example broker stops cleanly: no more connections, DISCONNECT 0x8B
//! (Server shutting down, §3.14.2.1) to every v5.0 client, every
//! connection closed once flushed; on SIGTERM as on a stop asked in
//! process. Tests never assert on time: every wait is bounded, and a
//! timeout fails.

use std::net::SocketAddr;
use std::time::Duration;

use mqtt_codec::v5_0::DisconnectReasonCode;
use mqtt_codec::{v3_1_1, v5_0, GenericPacket, ProtocolVersion};
use mqtt_examples::broker::{shutdown, Broker, BrokerConfig};
use mqtt_tokio::{role, ClientEndpoint, ConnectionOptions, Incoming};
use tokio::task::JoinHandle;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

type In = Incoming<role::Client>;

/// A broker on a free port that runs until `stop` completes.
async fn start(
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> (SocketAddr, JoinHandle<std::io::Result<()>>) {
    let config = BrokerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    let broker = Broker::bind(config).await.expect("bind");
    let addr = broker.local_addr();
    (addr, tokio::spawn(broker.run_until(stop)))
}

async fn client(addr: SocketAddr, version: ProtocolVersion, id: &str) -> (ClientEndpoint, In) {
    let connect: GenericPacket = match version {
        ProtocolVersion::V3_1_1 => {
            let c = v3_1_1::Connect::builder()
                .try_client_id(id)
                .unwrap()
                .build();
            v3_1_1::Packet::from(c.unwrap()).into()
        }
        _ => {
            let c = v5_0::Connect::builder().try_client_id(id).unwrap().build();
            v5_0::Packet::from(c.unwrap()).into()
        }
    };
    let connecting = ClientEndpoint::connect(addr, connect, ConnectionOptions::default());
    timeout(WAIT, connecting)
        .await
        .expect("in time")
        .expect("connected")
}

/// What a client sees until its connection ends: the Reason Codes of the
/// DISCONNECT packets it received.
async fn disconnects(incoming: &mut In) -> Vec<DisconnectReasonCode> {
    let mut codes = Vec::new();
    while let Some(packet) = timeout(WAIT, incoming.recv())
        .await
        .expect("the end in time")
    {
        if let GenericPacket::V5_0(v5_0::Packet::Disconnect(d)) = packet {
            codes.push(d.reason_code());
        }
    }
    codes
}

/// Both versions connected; the stop comes; the v5.0 client is told why,
/// the v3.1.1 one sees its connection close.
#[tokio::test]
async fn a_stop_disconnects_every_client() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr, running) = start(async {
        let _ = rx.await;
    })
    .await;
    let (_v5, mut v5_in) = client(addr, ProtocolVersion::V5_0, "stop-5").await;
    let (_v3, mut v3_in) = client(addr, ProtocolVersion::V3_1_1, "stop-3").await;
    drop(tx);
    let ended = timeout(WAIT, running).await.expect("stopped in time");
    ended.expect("no panic").expect("stopped without error");
    assert_eq!(
        disconnects(&mut v5_in).await,
        [DisconnectReasonCode::ServerShuttingDown]
    );
    assert!(disconnects(&mut v3_in).await.is_empty());
    // The listener went with `run_until` (whether the port refuses now is
    // not checked: a broker of the other test may have been given it).
}

/// SIGTERM to this process, caught by [`shutdown::signal`], stops the broker
/// the same way.
#[tokio::test]
async fn sigterm_stops_cleanly() {
    let signal = shutdown::signal();
    let (addr, running) = start(signal).await;
    let (_v5, mut v5_in) = client(addr, ProtocolVersion::V5_0, "term-5").await;
    // The shell's own `kill`: no procps needed.
    let term = format!("kill -TERM {}", std::process::id());
    let kill = std::process::Command::new("sh")
        .args(["-c", &term])
        .status()
        .expect("sh runs");
    assert!(kill.success());
    let ended = timeout(WAIT, running).await.expect("stopped in time");
    ended.expect("no panic").expect("stopped without error");
    assert_eq!(
        disconnects(&mut v5_in).await,
        [DisconnectReasonCode::ServerShuttingDown]
    );
}
