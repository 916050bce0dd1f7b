//! The broker program: what `main` does, callable from a test that runs
//! the broker as a process of its own.

use std::ffi::OsString;

use super::{shutdown, Broker, BrokerConfig};

/// Parses `args` (program name first), starts a runtime of `--threads`
/// workers, opens the store if any, listens, prints `broker listening on
/// ADDR`, and serves until SIGINT or SIGTERM; then stops cleanly (v5.0
/// clients get DISCONNECT 0x8B, the store commits). Returns the exit code:
/// 0 after a clean stop; 1 when the runtime cannot start, the store cannot
/// be opened or is damaged, or the address cannot be listened on (the
/// message on stderr names the file or the address); `--help` and a bad
/// flag exit the process themselves (0 and 2). Call from a thread that
/// runs no runtime.
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    let config = BrokerConfig::from_args(args).unwrap_or_else(|e| e.exit());
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = config.threads {
        builder.worker_threads(threads);
    }
    builder.on_thread_park(super::trim::on_thread_park);
    match builder.enable_all().build() {
        Ok(runtime) => runtime.block_on(serve(config)),
        Err(e) => {
            eprintln!("broker: cannot start its runtime: {e}");
            1
        }
    }
}

/// [`main`]'s work once the runtime runs.
async fn serve(config: BrokerConfig) -> i32 {
    let stop = shutdown::signal();
    let broker = match Broker::bind(config).await {
        Ok(broker) => broker,
        Err(e) => {
            eprintln!("broker: {e}");
            return 1;
        }
    };
    println!("broker listening on {}", broker.local_addr());
    if let Err(e) = broker.run_until(stop).await {
        eprintln!("broker: {e}");
        return 1;
    }
    println!("broker: stopped");
    0
}
