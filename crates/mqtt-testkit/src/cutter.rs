//! [`Cutter`]: a TCP proxy whose connections can all be cut at once.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A TCP proxy on 127.0.0.1 for any number of connections, each forwarded
/// to the same upstream, that can cut every connection it carries at once
/// (no DISCONNECT either way, bytes in flight lost): a network fault under
/// a client that reconnects. Plain threads, so that blocking and async
/// tests can both use it.
///
/// ```no_run
/// let upstream = "127.0.0.1:1883".parse().unwrap();
/// let cutter = mqtt_testkit::Cutter::start(upstream);
/// // ... connect a client to `cutter.addr` ...
/// cutter.cut_all();
/// ```
pub struct Cutter {
    /// Where clients connect.
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    links: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
    refusing: Arc<AtomicBool>,
}

impl Cutter {
    /// Listens on 127.0.0.1:0 and forwards each connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> Cutter {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the cutter");
        let addr = listener.local_addr().expect("the cutter's address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let links = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let refusing = Arc::new(AtomicBool::new(false));
        let (count, held, stopped) = (accepted.clone(), links.clone(), stop.clone());
        let refuse = refusing.clone();
        std::thread::spawn(move || {
            for down in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(down) = down else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                if refuse.load(Ordering::SeqCst) {
                    let _ = down.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(up) = TcpStream::connect_timeout(&upstream, Duration::from_secs(5)) else {
                    continue;
                };
                let _ = (down.set_nodelay(true), up.set_nodelay(true));
                if let Err(e) = link(down, up, &held) {
                    eprintln!("cutter: {e}");
                }
            }
        });
        Cutter {
            addr,
            accepted,
            links,
            stop,
            refusing,
        }
    }

    /// While `on`, each new connection is closed as soon as it is accepted
    /// (the upstream is not reached): a broker that is down.
    pub fn refuse(&self, on: bool) {
        self.refusing.store(on, Ordering::SeqCst);
    }

    /// Cuts every connection carried now; new ones are accepted.
    pub fn cut_all(&self) {
        for stream in self.links.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Copies both ways between `down` and `up` on two threads, keeping a
/// handle of each socket to cut.
fn link(down: TcpStream, up: TcpStream, held: &Mutex<Vec<TcpStream>>) -> io::Result<()> {
    {
        let mut held = held.lock().unwrap();
        held.push(down.try_clone()?);
        held.push(up.try_clone()?);
    }
    let (down2, up2) = (down.try_clone()?, up.try_clone()?);
    std::thread::spawn(move || copy(down, up));
    std::thread::spawn(move || copy(up2, down2));
    Ok(())
}

/// Copies `from` to `to` until either ends, then shuts both down.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

impl Drop for Cutter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which then ends.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        self.cut_all();
    }
}
