//! A TCP proxy for any number of connections, each forwarded to the same
//! upstream, that can cut every connection it carries at once (no
//! DISCONNECT either way, bytes in flight lost): a network fault under a
//! client that reconnects.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

pub struct Cutter {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
    task: JoinHandle<()>,
}

impl Cutter {
    /// Listens on 127.0.0.1:0 and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Cutter {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let links = Arc::new(Mutex::new(Vec::<AbortHandle>::new()));
        let (count, held) = (accepted.clone(), links.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let link = tokio::spawn(async move {
                    let Ok(mut up) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                });
                held.lock().unwrap().push(link.abort_handle());
            }
        });
        Cutter {
            addr,
            accepted,
            links,
            task,
        }
    }

    /// Cuts every connection carried now; new ones are accepted.
    pub fn cut_all(&self) {
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Cutter {
    fn drop(&mut self) {
        self.task.abort();
        self.cut_all();
    }
}
