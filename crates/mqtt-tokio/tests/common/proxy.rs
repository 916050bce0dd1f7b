//! A one-connection TCP proxy whose broker-to-client direction can be
//! frozen (bytes dropped), that can drop the client's packets of one type,
//! and whose connection can be cut, to break a flow at a chosen point.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub struct Proxy {
    pub addr: SocketAddr,
    frozen: Arc<AtomicBool>,
    dropped: Arc<AtomicUsize>,
    dropped_notify: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on 127.0.0.1:0 and forwards its first connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        Self::start_dropping(upstream, None).await
    }

    /// Like [`start`](Self::start), dropping the packets of type
    /// `drop_type` (the high nibble of their first byte) that the client
    /// sends; each counts as dropped.
    pub async fn start_dropping(upstream: SocketAddr, drop_type: Option<u8>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let frozen = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicUsize::new(0));
        let dropped_notify = Arc::new(Notify::new());
        let (f, d, n) = (frozen.clone(), dropped.clone(), dropped_notify.clone());
        let (d2, n2) = (dropped.clone(), dropped_notify.clone());
        let task = tokio::spawn(async move {
            let (down, _) = listener.accept().await.unwrap();
            let up = TcpStream::connect(upstream).await.unwrap();
            let (mut down_r, mut down_w) = down.into_split();
            let (mut up_r, mut up_w) = up.into_split();
            let c2b = async move {
                let mut buf = vec![0u8; 16384];
                let mut pending: Vec<u8> = Vec::new();
                loop {
                    let n = match down_r.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let Some(drop_type) = drop_type else {
                        if up_w.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                        continue;
                    };
                    pending.extend_from_slice(&buf[..n]);
                    while let Some(len) = frame_len(&pending) {
                        let frame: Vec<u8> = pending.drain(..len).collect();
                        if frame[0] >> 4 == drop_type {
                            d2.fetch_add(1, Ordering::SeqCst);
                            n2.notify_one();
                        } else if up_w.write_all(&frame).await.is_err() {
                            return;
                        }
                    }
                }
            };
            let b2c = async move {
                let mut buf = vec![0u8; 16384];
                loop {
                    let k = match up_r.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => k,
                    };
                    if f.load(Ordering::SeqCst) {
                        d.fetch_add(k, Ordering::SeqCst);
                        n.notify_one();
                        continue;
                    }
                    if down_w.write_all(&buf[..k]).await.is_err() {
                        return;
                    }
                }
            };
            tokio::select! {
                () = c2b => {}
                () = b2c => {}
            }
        });
        Proxy {
            addr,
            frozen,
            dropped,
            dropped_notify,
            task,
        }
    }

    /// From now on, what the broker sends is dropped.
    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }

    /// Waits until something was dropped (frozen bytes or a packet).
    pub async fn wait_dropped(&self) {
        while self.dropped.load(Ordering::SeqCst) == 0 {
            self.dropped_notify.notified().await;
        }
    }

    /// Closes both connections at once (no DISCONNECT either way).
    pub async fn cut(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// The length of the complete MQTT frame at the start of `buf`, if any.
fn frame_len(buf: &[u8]) -> Option<usize> {
    let mut remaining = 0usize;
    for i in 0..4 {
        let b = *buf.get(1 + i)?;
        remaining |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            let len = 2 + i + remaining;
            return (buf.len() >= len).then_some(len);
        }
    }
    None
}
