//! The launcher starts a broker that accepts connections, and its log
//! names the port.

use std::time::Duration;

use mqtt_testkit::{mosquitto_pub, run_with_timeout, Mosquitto};

#[test]
fn starts_listens_and_stops() {
    run_with_timeout(Duration::from_secs(60), || {
        let Some(broker) = Mosquitto::start("") else {
            return;
        };
        let port = broker.port();
        assert!(
            broker.log().contains(&format!("port {port}")),
            "{}",
            broker.log()
        );
        let out = mosquitto_pub(
            broker.addr(),
            &["-t", "a", "-m", "b"],
            Duration::from_secs(10),
        )
        .expect("mosquitto_pub");
        assert!(out.status.success(), "{out:?}");
        let dir = broker.dir().to_path_buf();
        drop(broker);
        assert!(!dir.exists());
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    });
}
