//! The high-level client against fake v3.1.1 brokers on loopback, in the
//! library's own tests (the integration tests in `tests/client.rs` do the
//! same and more against mosquitto): its calls answered, the CONNACK's
//! deadline, the reconnections, and its end.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use mqtt_codec::{ProtocolVersion, QoS};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// `fut`, or a panic naming `what` after 5 s.
pub(super) async fn t<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(5), fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// A fake broker's listener on loopback.
async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// v3.1.1 options for `addr`, reconnecting after 10 ms.
fn options(addr: SocketAddr) -> ClientOptions {
    ClientOptions::new(&format!("mqtt://{addr}"))
        .unwrap()
        .client_id("lib")
        .version(ProtocolVersion::V3_1_1)
        .reconnect(Reconnect::new(
            Duration::from_millis(10),
            Duration::from_millis(10),
        ))
}

/// The next packet the client sent: its first byte and its body; `None`
/// at the end of the stream.
async fn packet(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let first = stream.read_u8().await.ok()?;
    let (mut len, mut shift) = (0usize, 0);
    loop {
        let byte = stream.read_u8().await.ok()?;
        len |= usize::from(byte & 0x7F) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let mut body = vec![0; len];
    stream.read_exact(&mut body).await.ok()?;
    Some((first, body))
}

/// Accepts a connection, reads its CONNECT and accepts it.
async fn accept(listener: &TcpListener) -> TcpStream {
    answer_connect(listener, &[0x20, 0x02, 0x00, 0x00]).await
}

/// Accepts a connection, reads its CONNECT and writes `connack`.
async fn answer_connect(listener: &TcpListener, connack: &[u8]) -> TcpStream {
    let mut stream = read_connect(listener).await;
    stream.write_all(connack).await.unwrap();
    stream
}

/// Accepts a connection and reads its CONNECT, unanswered.
async fn read_connect(listener: &TcpListener) -> TcpStream {
    let (mut stream, _) = listener.accept().await.unwrap();
    let (first, _) = packet(&mut stream).await.unwrap();
    assert_eq!(first, 0x10, "CONNECT");
    stream
}

/// Waits until the state of `watch` satisfies `pred`.
async fn wait_for(watch: &mut StateWatch, pred: impl Fn(&ClientState) -> bool) -> ClientState {
    t("state", watch.wait_for(pred)).await
}

fn connected(s: &ClientState) -> bool {
    matches!(s, ClientState::Connected { .. })
}

fn closed(s: &ClientState) -> bool {
    matches!(s, ClientState::Closed { .. })
}

/// SUBSCRIBE, a QoS 1 PUBLISH and UNSUBSCRIBE resolve with the broker's
/// SUBACK, PUBACK and UNSUBACK; a message the broker sends arrives; QoS 0
/// messages leave with `publish_nowait` and `try_publish`; `disconnect`
/// sends DISCONNECT, closes the network connection and returns once the
/// client is closed.
#[tokio::test]
async fn calls_resolve_with_the_brokers_answers() {
    let (listener, addr) = listener().await;
    let broker = tokio::spawn(async move {
        let mut stream = accept(&listener).await;
        let mut seen = Vec::new();
        while let Some((first, body)) = packet(&mut stream).await {
            seen.push(first);
            let (msb, lsb) = match first {
                // The topic's length, the topic, then the identifier.
                0x32 => {
                    let at = 2 + usize::from(body[1]);
                    (body[at], body[at + 1])
                }
                _ if body.len() >= 2 => (body[0], body[1]),
                _ => (0, 0),
            };
            let answer = match first {
                // The SUBACK, then a QoS 0 message on "a/x".
                0x82 => [&[0x90, 0x03, msb, lsb, 0x01][..], b"\x30\x07\x00\x03a/xhi"].concat(),
                0x32 => vec![0x40, 0x02, msb, lsb],
                0xA2 => vec![0xB0, 0x02, msb, lsb],
                _ => continue,
            };
            stream.write_all(&answer).await.unwrap();
        }
        seen
    });
    let (client, mut messages) = t("connect", Client::connect(options(addr))).await.unwrap();
    assert!(connected(&client.state()));
    let granted = t("subscribe", client.subscribe("a/+", QoS::AtLeastOnce)).await;
    assert_eq!(granted.unwrap(), QoS::AtLeastOnce);
    let m = t("message", messages.recv()).await.expect("a message");
    assert_eq!((m.topic_name(), m.payload()), ("a/x", &b"hi"[..]));
    let delivered = t(
        "publish",
        client.publish("a/b", QoS::AtLeastOnce, false, "x"),
    )
    .await;
    assert!(
        matches!(delivered, Ok(Delivered::Acknowledged(_))),
        "{delivered:?}"
    );
    let nowait = client.publish_nowait("a/c", QoS::AtMostOnce, false, "y");
    t("publish_nowait", nowait).await.unwrap();
    client
        .try_publish("a/d", QoS::AtMostOnce, false, "z")
        .unwrap();
    t("unsubscribe", client.unsubscribe("a/+")).await.unwrap();
    t("disconnect", client.disconnect()).await.unwrap();
    assert!(closed(&client.state()));
    let seen = t("broker", broker).await.unwrap();
    let expected = [0x82, 0x32, 0x30, 0x30, 0xA2, 0xE0];
    assert_eq!(seen, expected, "then the end of the stream");
}

/// The subscriptions of the options leave with the first CONNECT, before
/// its CONNACK (§3.1.4), and not with the next one, whose CONNACK says
/// the session (with them) is present. The state tells Session Present.
#[tokio::test]
async fn options_subscriptions_go_with_the_first_connect_only() {
    let (listener, addr) = listener().await;
    let broker = tokio::spawn(async move {
        let (mut first, _) = listener.accept().await.unwrap();
        let connect = packet(&mut first).await.unwrap();
        let (subscribe, body) = packet(&mut first).await.unwrap();
        assert_eq!((connect.0, subscribe), (0x10, 0x82), "before the CONNACK");
        // CONNACK, SUBACK and a message, in one write: each its own.
        let suback = [0x90, 0x03, body[0], body[1], 0x01];
        let message = b"\x30\x07\x00\x05pre/1";
        let answers = [&[0x20, 0x02, 0x00, 0x00][..], &suback, message].concat();
        first.write_all(&answers).await.unwrap();
        // Once the SUBACK is read, the connection is lost.
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(first);
        let (mut second, _) = listener.accept().await.unwrap();
        assert_eq!(packet(&mut second).await.unwrap().0, 0x10);
        // Session Present.
        second.write_all(&[0x20, 0x02, 0x01, 0x00]).await.unwrap();
        let more = tokio::time::timeout(Duration::from_millis(200), packet(&mut second));
        (more.await.is_err(), second)
    });
    let options = options(addr).subscribe("pre/#", QoS::AtLeastOnce).unwrap();
    let (client, mut messages) = t("connect", Client::connect(options)).await.unwrap();
    let m = t("message", messages.recv()).await.expect("a message");
    assert_eq!(m.topic_name(), "pre/1");
    let first = client.state();
    assert!(
        matches!(
            first,
            ClientState::Connected {
                session_present: false
            }
        ),
        "{first:?}"
    );
    let mut watch = client.watch_state();
    let present = |s: &ClientState| {
        matches!(
            s,
            ClientState::Connected {
                session_present: true
            }
        )
    };
    wait_for(&mut watch, present).await;
    let (quiet, _second) = t("broker", broker).await.unwrap();
    assert!(quiet, "no SUBSCRIBE with the second CONNECT");
}

/// The Client Identifier of a v5.0 CONNECT's body: its length, then its
/// bytes, after the variable header and the properties.
fn v5_client_id(connect: &[u8]) -> &[u8] {
    // Protocol Name (6), Level, Flags, Keep Alive: 10 bytes, then the
    // properties' length (one byte here) and the properties.
    let at = 11 + usize::from(connect[10]);
    let len = usize::from(u16::from_be_bytes([connect[at], connect[at + 1]]));
    &connect[at + 2..at + 2 + len]
}

/// A v5.0 client without an identifier resumes with the one the server
/// assigned in its CONNACK.
#[tokio::test]
async fn the_assigned_client_identifier_is_resumed() {
    let (listener, addr) = listener().await;
    let broker = tokio::spawn(async move {
        let (mut first, _) = listener.accept().await.unwrap();
        let (_, connect) = packet(&mut first).await.unwrap();
        assert_eq!(v5_client_id(&connect), b"");
        // Success, Assigned Client Identifier "abc".
        let connack = b"\x20\x09\x00\x00\x06\x12\x00\x03abc";
        first.write_all(connack).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(first);
        let (mut second, _) = listener.accept().await.unwrap();
        let (_, connect) = packet(&mut second).await.unwrap();
        v5_client_id(&connect).to_vec()
    });
    let options = options(addr).client_id("").version(ProtocolVersion::V5_0);
    let (_client, _messages) = t("connect", Client::connect(options)).await.unwrap();
    assert_eq!(t("broker", broker).await.unwrap(), b"abc");
}

/// No CONNACK within the connect timeout: the first attempt fails with
/// `TimedOut`.
#[tokio::test]
async fn no_connack_in_time_is_timed_out() {
    let (listener, addr) = listener().await;
    let _broker = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        while packet(&mut stream).await.is_some() {}
    });
    let options = options(addr).connect_timeout(Duration::from_millis(100));
    match t("connect", Client::connect(options)).await {
        Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}"),
        other => panic!("{other:?}"),
    }
}

/// A network connection that ends before the CONNACK: `Closed`, not a
/// timeout.
#[tokio::test]
async fn the_end_before_the_connack_is_closed() {
    let (listener, addr) = listener().await;
    let _broker = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        packet(&mut stream).await;
    });
    let result = t("connect", Client::connect(options(addr))).await;
    assert!(matches!(result, Err(Error::Closed)), "{result:?}");
}

/// The CONNACK's deadline ends with the CONNACK: the connection outlives
/// the connect timeout.
#[tokio::test]
async fn a_connected_client_outlives_the_connect_timeout() {
    let (listener, addr) = listener().await;
    let broker = tokio::spawn(async move {
        let mut stream = accept(&listener).await;
        tokio::time::timeout(Duration::from_millis(300), packet(&mut stream))
            .await
            .is_err()
    });
    let options = options(addr).connect_timeout(Duration::from_millis(50));
    let (client, _messages) = t("connect", Client::connect(options)).await.unwrap();
    assert!(t("broker", broker).await.unwrap(), "nothing, not the end");
    assert!(connected(&client.state()));
}

/// A lost connection is made again, also when the application dropped
/// its `Messages` (it still holds the `Client`) and a message found it
/// gone.
#[tokio::test]
async fn reconnects_without_a_messages_receiver() {
    let (listener, addr) = listener().await;
    let broker = tokio::spawn(async move {
        let mut first = accept(&listener).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        first.write_all(b"\x30\x05\x00\x01ahi").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(first);
        accept(&listener).await
    });
    let (client, messages) = t("connect", Client::connect(options(addr))).await.unwrap();
    let mut watch = client.watch_state();
    drop(messages);
    let again = t("broker", broker).await.unwrap();
    let reconnecting = |s: &ClientState| matches!(s, ClientState::Reconnecting { .. });
    wait_for(&mut watch, reconnecting).await;
    wait_for(&mut watch, connected).await;
    drop(again);
}

/// A refusing CONNACK: its code, no retry.
#[tokio::test]
async fn a_refusing_connack_is_refused() {
    let (listener, addr) = listener().await;
    let _broker = tokio::spawn(async move {
        // 0x05: not authorized.
        let mut stream = answer_connect(&listener, &[0x20, 0x02, 0x00, 0x05]).await;
        while packet(&mut stream).await.is_some() {}
    });
    let result = t("connect", Client::connect(options(addr))).await;
    assert!(matches!(result, Err(Error::Refused(5))), "{result:?}");
}

/// A CONNACK that breaks the protocol: the connection's error.
#[tokio::test]
async fn a_malformed_connack_is_a_connection_error() {
    let (listener, addr) = listener().await;
    let _broker = tokio::spawn(async move {
        // Remaining Length 3, not 2.
        let connack = [0x20, 0x03, 0x00, 0x00, 0x00];
        let mut stream = answer_connect(&listener, &connack).await;
        while packet(&mut stream).await.is_some() {}
    });
    let result = t("connect", Client::connect(options(addr))).await;
    assert!(matches!(result, Err(Error::Connection(_))), "{result:?}");
}

/// `disconnect` during the backoff ends the client at once, without
/// another attempt.
#[tokio::test]
async fn disconnect_ends_the_backoff() {
    let (listener, addr) = listener().await;
    let broker = tokio::spawn(async move {
        drop(accept(&listener).await);
        tokio::time::timeout(Duration::from_millis(300), listener.accept())
            .await
            .is_ok()
    });
    let backoff = Reconnect::new(Duration::from_secs(60), Duration::from_secs(60));
    let options = options(addr).reconnect(backoff);
    let (client, _messages) = t("connect", Client::connect(options)).await.unwrap();
    let mut watch = client.watch_state();
    wait_for(&mut watch, |s| {
        matches!(s, ClientState::Reconnecting { .. })
    })
    .await;
    t("disconnect", client.disconnect()).await.unwrap();
    assert!(closed(&client.state()));
    assert!(!t("broker", broker).await.unwrap(), "no attempt after");
}

/// The application dropped every handle: the client ends at once, without
/// trying to reconnect.
#[tokio::test]
async fn dropping_every_handle_ends_the_client() {
    let (listener, addr) = listener().await;
    let broker = tokio::spawn(async move {
        let mut stream = accept(&listener).await;
        let disconnect = packet(&mut stream).await;
        let again = tokio::time::timeout(Duration::from_millis(200), listener.accept());
        (disconnect, again.await.is_ok())
    });
    let (client, messages) = t("connect", Client::connect(options(addr))).await.unwrap();
    let mut watch = client.watch_state();
    drop((client, messages));
    let next = t("end", watch.changed()).await;
    assert!(closed(&next), "closed, not reconnecting: {next:?}");
    let (disconnect, again) = t("broker", broker).await.unwrap();
    assert_eq!(disconnect.map(|(first, _)| first), Some(0xE0));
    assert!(!again, "no attempt after");
}

/// Reconnection gives up after its maximum of failed attempts in a row.
#[tokio::test]
async fn reconnection_gives_up_after_its_maximum() {
    let (listener, addr) = listener().await;
    let broker = tokio::spawn(async move {
        drop(accept(&listener).await);
        // Later attempts find nobody listening.
    });
    let backoff =
        Reconnect::new(Duration::from_millis(5), Duration::from_millis(5)).max_attempts(2);
    let options = options(addr).reconnect(backoff);
    let (client, mut messages) = t("connect", Client::connect(options)).await.unwrap();
    t("broker", broker).await.unwrap();
    assert!(t("end", messages.recv()).await.is_none());
    let state = client.state();
    let ClientState::Closed {
        reason: Some(reason),
    } = &state
    else {
        panic!("closed with a reason: {state:?}");
    };
    assert_eq!(reason.io_kind(), std::io::ErrorKind::ConnectionRefused);
}

/// A v5.0 UNSUBACK with a failing Reason Code: `unsubscribe` errs with it.
#[tokio::test]
async fn a_failing_unsuback_is_rejected() {
    let (listener, addr) = listener().await;
    let _broker = tokio::spawn(async move {
        // Success, no properties.
        let mut stream = answer_connect(&listener, &[0x20, 0x03, 0x00, 0x00, 0x00]).await;
        let (first, body) = packet(&mut stream).await.unwrap();
        assert_eq!(first, 0xA2, "UNSUBSCRIBE");
        // No properties, 0x87 Not authorized.
        let unsuback = [0xB0, 0x04, body[0], body[1], 0x00, 0x87];
        stream.write_all(&unsuback).await.unwrap();
        while packet(&mut stream).await.is_some() {}
    });
    let options = options(addr).version(ProtocolVersion::V5_0);
    let (client, _messages) = t("connect", Client::connect(options)).await.unwrap();
    let result = t("unsubscribe", client.unsubscribe("a/b")).await;
    assert!(matches!(result, Err(Error::Rejected(0x87))), "{result:?}");
}

/// The next item of `messages` taken as a `futures_core::Stream`.
async fn next_item(messages: &mut Messages) -> Option<mqtt_codec::Message> {
    let mut messages = std::pin::Pin::new(messages);
    std::future::poll_fn(|cx| futures_core::Stream::poll_next(messages.as_mut(), cx)).await
}

/// `Messages` as a `futures_core::Stream`: the broker's messages, in
/// order, then the end of the stream once the client ended.
#[tokio::test]
async fn messages_is_a_stream_of_the_received_messages() {
    let (listener, addr) = listener().await;
    let _broker = tokio::spawn(async move {
        let mut stream = accept(&listener).await;
        // Two QoS 0 messages: "hi" on "a", "bye" on "b".
        let messages = b"\x30\x05\x00\x01ahi\x30\x06\x00\x01bbye";
        stream.write_all(messages).await.unwrap();
        while packet(&mut stream).await.is_some() {}
    });
    let (client, mut messages) = t("connect", Client::connect(options(addr))).await.unwrap();
    let first = t("first", next_item(&mut messages))
        .await
        .expect("a message");
    assert_eq!((first.topic_name(), first.payload()), ("a", &b"hi"[..]));
    let second = t("second", next_item(&mut messages))
        .await
        .expect("a message");
    assert_eq!((second.topic_name(), second.payload()), ("b", &b"bye"[..]));
    t("disconnect", client.disconnect()).await.unwrap();
    assert!(t("end", next_item(&mut messages)).await.is_none());
}

/// The handles' `Debug` output: the `Client` and a `StateWatch` tell the
/// state; `Messages` tells nothing of its queue.
#[tokio::test]
async fn the_handles_debug_output_tells_the_state() {
    let (listener, addr) = listener().await;
    let _broker = tokio::spawn(async move {
        let mut stream = accept(&listener).await;
        while packet(&mut stream).await.is_some() {}
    });
    let (client, messages) = t("connect", Client::connect(options(addr))).await.unwrap();
    let state = "Connected { session_present: false }";
    let shown = format!("{client:?}");
    assert!(
        shown.starts_with("Client") && shown.contains(state),
        "{shown}"
    );
    let shown = format!("{:?}", client.watch_state());
    assert!(
        shown.starts_with("StateWatch") && shown.contains(state),
        "{shown}"
    );
    assert_eq!(format!("{messages:?}"), "Messages { .. }");
}

/// The maximum of reconnection attempts counts failures in a row: an
/// established connection starts the count over. With a maximum of 2,
/// a failure, a success, then a failure again still leads to another
/// attempt, and the client connects.
#[tokio::test]
async fn an_established_connection_resets_the_failures_in_a_row() {
    let (listener, addr) = listener().await;
    let broker = tokio::spawn(async move {
        drop(accept(&listener).await);
        // A failed attempt: its CONNECT read, the connection closed.
        drop(read_connect(&listener).await);
        drop(accept(&listener).await);
        // A failed attempt: its CONNECT read, the connection closed.
        drop(read_connect(&listener).await);
        accept(&listener).await
    });
    let backoff =
        Reconnect::new(Duration::from_millis(5), Duration::from_millis(5)).max_attempts(2);
    let options = options(addr).reconnect(backoff);
    let (client, _messages) = t("connect", Client::connect(options)).await.unwrap();
    let last = t("broker", broker).await.unwrap();
    let mut watch = client.watch_state();
    let state = wait_for(&mut watch, |s| connected(s) || closed(s)).await;
    assert!(connected(&state), "{state:?}");
    drop(last);
}

/// The backoff between reconnection attempts grows with each one, and the
/// state tells the attempt, its delay and why the last one failed: with
/// 5 ms doubling and no jitter, 5 ms after the lost connection, then
/// 10 ms and 20 ms after attempts ended before their CONNACK.
#[tokio::test]
async fn the_backoff_grows_and_the_state_tells_it() {
    let (listener, addr) = listener().await;
    let (seen_tx, mut seen) = tokio::sync::mpsc::channel(1);
    let (go, mut go_rx) = tokio::sync::mpsc::channel(1);
    let broker = tokio::spawn(async move {
        drop(accept(&listener).await);
        for _ in 0..3 {
            // The attempt's CONNECT is in: the state is the one it was
            // made in until the test has read it.
            let _attempt = read_connect(&listener).await;
            seen_tx.send(()).await.unwrap();
            go_rx.recv().await.unwrap();
        }
        accept(&listener).await
    });
    let ms = Duration::from_millis;
    let backoff = Reconnect::new(ms(5), Duration::from_secs(1)).jitter(0.0);
    let options = options(addr).reconnect(backoff);
    let (client, _messages) = t("connect", Client::connect(options)).await.unwrap();
    for (n, expected) in [ms(5), ms(10), ms(20)].into_iter().enumerate() {
        t("attempt", seen.recv()).await.unwrap();
        let state = client.state();
        let ClientState::Reconnecting {
            attempt,
            delay,
            reason,
        } = &state
        else {
            panic!("reconnecting: {state:?}");
        };
        assert_eq!((*attempt as usize, *delay), (n, expected), "{state:?}");
        if n > 0 {
            let failed = matches!(reason.as_deref(), Some(Error::Closed));
            assert!(failed, "the attempt before ended unanswered: {state:?}");
        }
        go.send(()).await.unwrap();
    }
    let last = t("broker", broker).await.unwrap();
    wait_for(&mut client.watch_state(), connected).await;
    drop(last);
}

/// The application dropped every handle while the client waited to
/// reconnect: at the end of the wait it closes, without opening another
/// network connection.
#[tokio::test]
async fn dropping_every_handle_in_the_backoff_ends_the_client() {
    let (listener, addr) = listener().await;
    // A wait long enough for the handles to be dropped within it.
    let wait = Duration::from_millis(300);
    let options = options(addr).reconnect(Reconnect::new(wait, wait).jitter(0.0));
    let (accepted, connecting) = t("connect", async {
        tokio::join!(accept(&listener), Client::connect(options))
    })
    .await;
    let (client, messages) = connecting.unwrap();
    let mut watch = client.watch_state();
    drop(accepted);
    let reconnecting = |s: &ClientState| matches!(s, ClientState::Reconnecting { .. });
    wait_for(&mut watch, reconnecting).await;
    drop((client, messages));
    let end = wait_for(&mut watch, |s| connected(s) || closed(s)).await;
    assert!(closed(&end), "closed, not connected again: {end:?}");
    // An attempt would have completed its TCP handshake before the end:
    // a non-blocking accept would find it.
    let listener = listener.into_std().unwrap();
    let again = listener.accept().map(|(_, peer)| peer);
    let kind = again.as_ref().map_err(std::io::Error::kind);
    assert_eq!(kind, Err(std::io::ErrorKind::WouldBlock), "{again:?}");
}

/// When the client ends, a call still waiting for the broker's answer,
/// and one made after, learn it at once, not after the application took
/// the messages received before the end (those still arrive, then the
/// end).
#[tokio::test]
async fn waiting_calls_learn_the_end_before_the_messages_are_taken() {
    let (listener, addr) = listener().await;
    let broker = tokio::spawn(async move {
        let mut stream = accept(&listener).await;
        // Three QoS 0 messages on "a", for a queue of one.
        let messages = b"\x30\x04\x00\x01a1\x30\x04\x00\x01a2\x30\x04\x00\x01a3";
        stream.write_all(messages).await.unwrap();
        // The QoS 1 PUBLISH, left unacknowledged; then the end.
        packet(&mut stream).await.map(|(first, _)| first)
    });
    let config = crate::Config {
        incoming_capacity: 1,
        ..crate::Config::default()
    };
    let options = options(addr).reconnect(None).config(config);
    let (client, mut messages) = t("connect", Client::connect(options)).await.unwrap();
    let publish = client.publish("a/b", QoS::AtLeastOnce, false, "x");
    let (sent, result) = t("publish", async { tokio::join!(broker, publish) }).await;
    assert_eq!(sent.unwrap(), Some(0x32), "PUBLISH QoS 1");
    assert!(matches!(result, Err(Error::Closed)), "{result:?}");
    // A call made once the client is closed fails at once too.
    wait_for(&mut client.watch_state(), closed).await;
    let late = t("late call", client.subscribe("a/#", QoS::AtMostOnce)).await;
    assert!(matches!(late, Err(Error::Closed)), "{late:?}");
    for payload in [b"1", b"2", b"3"] {
        let m = t("message", messages.recv()).await.expect("a message");
        assert_eq!((m.topic_name(), m.payload()), ("a", &payload[..]));
    }
    assert!(t("end", messages.recv()).await.is_none());
    assert!(closed(&client.state()));
}

/// A connection that lasted the backoff's cap starts the delays over; one
/// lost sooner does not (a broker that accepts and at once drops the
/// client still sees them grow). With 5 ms doubling up to 500 ms and no
/// jitter: 5 ms after the first loss, 10 ms after a connection lost at
/// once, 5 ms again after one that lasted 600 ms.
#[tokio::test]
async fn a_connection_that_lasted_the_cap_starts_the_delays_over() {
    let (listener, addr) = listener().await;
    let (seen_tx, mut seen) = tokio::sync::mpsc::channel(1);
    let (go, mut go_rx) = tokio::sync::mpsc::channel(1);
    let broker = tokio::spawn(async move {
        drop(accept(&listener).await);
        let mut held = Vec::new();
        for hold in [Duration::ZERO, Duration::from_millis(600), Duration::MAX] {
            // The attempt's CONNECT is in: the test reads the state it
            // was made in, then the CONNACK accepts it.
            let mut stream = read_connect(&listener).await;
            seen_tx.send(()).await.unwrap();
            go_rx.recv().await.unwrap();
            stream.write_all(&[0x20, 0x02, 0x00, 0x00]).await.unwrap();
            match hold {
                Duration::MAX => held.push(stream),
                hold => {
                    tokio::time::sleep(hold).await;
                    drop(stream);
                }
            }
        }
        held
    });
    let ms = Duration::from_millis;
    let backoff = Reconnect::new(ms(5), ms(500)).jitter(0.0);
    let options = options(addr).reconnect(backoff);
    let (client, _messages) = t("connect", Client::connect(options)).await.unwrap();
    for expected in [ms(5), ms(10), ms(5)] {
        t("attempt", seen.recv()).await.unwrap();
        let state = client.state();
        let delay = match &state {
            ClientState::Reconnecting {
                attempt: 0, delay, ..
            } => *delay,
            _ => panic!("reconnecting, first attempt: {state:?}"),
        };
        assert_eq!(delay, expected, "{state:?}");
        go.send(()).await.unwrap();
    }
    let held = t("broker", broker).await.unwrap();
    wait_for(&mut client.watch_state(), connected).await;
    drop(held);
}
