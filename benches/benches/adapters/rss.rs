//! Memory of idle connected clients: `IDLE_CLIENTS` connected at once,
//! each in a fresh process of this bench (so that one library's freed
//! memory is not the next one's), RSS after − RSS before, per client.
//! A child is this binary with `ADAPTERS_IDLE=<library>` and
//! `ADAPTERS_BROKER=<addr>`; it prints the bytes per client.

use std::process::Command;

use super::*;

pub const IDLE_CLIENTS: usize = 1_000;
const CHILD: &str = "ADAPTERS_IDLE";
const BROKER: &str = "ADAPTERS_BROKER";

/// The clients measured, by the name a child is given.
pub const LIBRARIES: [(&str, &str, &str); 4] = [
    ("ours-v3.1.1", "Client", "v3.1.1"),
    ("ours-v5.0", "Client", "v5.0"),
    ("rumqttc-v3.1.1", "AsyncClient", "v3.1.1"),
    ("rumqttc-v5.0", "AsyncClient", "v5.0"),
];

/// In a child: measures the library it was started for and exits.
pub fn child() {
    let Ok(library) = std::env::var(CHILD) else {
        return;
    };
    let addr: SocketAddr = std::env::var(BROKER).unwrap().parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let per_client = runtime.block_on(measure(&library, addr));
    println!("{per_client}");
    std::process::exit(0);
}

/// Bytes of RSS per idle client of `library`, measured in a child process.
pub fn per_client(library: &str, addr: SocketAddr) -> f64 {
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, library)
        .env(BROKER, addr.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

async fn measure(library: &str, addr: SocketAddr) -> f64 {
    // One client first: the runtime's, the library's and the socket
    // layer's one-time allocations are not counted.
    let warm = connect_idle(library, addr, "warm").await;
    settle().await;
    let before = rss();
    let mut clients = Vec::with_capacity(IDLE_CLIENTS);
    for i in 0..IDLE_CLIENTS {
        clients.push(connect_idle(library, addr, &format!("idle-{library}-{i}")).await);
    }
    settle().await;
    let after = rss();
    drop((warm, clients));
    (after - before) as f64 / IDLE_CLIENTS as f64
}

/// Keeps a client alive while it is held (its fields are never read).
#[allow(dead_code)]
enum Idle {
    Ours(Client, Messages),
    V3(rumqttc::AsyncClient),
    V5(rumqttc::v5::AsyncClient),
}

async fn connect_idle(library: &str, addr: SocketAddr, id: &str) -> Idle {
    let ours = |v| high::options(addr, v, id).keep_alive(Duration::from_secs(60));
    match library {
        "ours-v3.1.1" => {
            let (c, m) = Client::connect(ours(ProtocolVersion::V3_1_1))
                .await
                .unwrap();
            Idle::Ours(c, m)
        }
        "ours-v5.0" => {
            let (c, m) = Client::connect(ours(ProtocolVersion::V5_0)).await.unwrap();
            Idle::Ours(c, m)
        }
        "rumqttc-v3.1.1" => Idle::V3(theirs::v3_1_1::idle(addr, id).await),
        "rumqttc-v5.0" => Idle::V5(theirs::v5_0::idle(addr, id).await),
        other => panic!("unknown library {other}"),
    }
}

/// Lets the tasks finish their connection work and go idle.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// This process's resident set, in bytes (`/proc/self/statm`).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}
