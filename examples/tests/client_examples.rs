//! The client examples' command lines answer `--help` with their usage, and
//! the tokio and the blocking examples carry a message through the example
//! broker.

#[allow(dead_code)]
#[path = "../publish.rs"]
mod publish;
#[allow(dead_code)]
#[path = "../publish_tokio.rs"]
mod publish_tokio;
#[allow(dead_code)]
#[path = "../subscribe.rs"]
mod subscribe;
#[allow(dead_code)]
#[path = "../subscribe_tokio.rs"]
mod subscribe_tokio;

use std::time::Duration;

use clap::Parser;
use mqtt_examples::broker::{Broker, BrokerConfig};
use mqtt_examples::cli::{PublishArgs, SubscribeArgs};
use mqtt_tokio::codec::v5_0::PubackReasonCode;
use mqtt_tokio::Delivered;

/// What `--help` prints, from the example's `Args`.
fn help<A: Parser>(name: &str) -> String {
    match A::try_parse_from([name, "--help"]) {
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => e.to_string(),
        other => panic!("{name} --help: {:?}", other.err()),
    }
}

#[test]
fn every_client_example_answers_help() {
    for (name, text) in [
        ("publish", help::<PublishArgs>("publish")),
        ("publish_tokio", help::<PublishArgs>("publish_tokio")),
        ("subscribe", help::<SubscribeArgs>("subscribe")),
        ("subscribe_tokio", help::<SubscribeArgs>("subscribe_tokio")),
    ] {
        assert!(
            text.contains(&format!("Usage: {name} [OPTIONS]")),
            "{name}: {text}"
        );
        assert!(
            text.contains("[default: mqtt://127.0.0.1:1883]"),
            "{name}: {text}"
        );
        assert!(text.contains("--qos <QOS>"), "{name}: {text}");
    }
    let bad = PublishArgs::try_parse_from(["publish_tokio", "--qos", "3"]);
    assert!(bad.err().unwrap().to_string().contains("use 0, 1 or 2"));
}

#[test]
fn the_tokio_examples_meet_through_the_example_broker() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let config = BrokerConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        };
        let broker = Broker::bind(config).await.expect("bind");
        let url = format!("mqtt://{}", broker.local_addr());
        tokio::spawn(broker.run());
        for version in ["5", "3.1.1"] {
            let args = [
                "subscribe_tokio",
                "-b",
                &url,
                "--mqtt",
                version,
                "-c",
                "1",
                "ex/#",
            ];
            let args = SubscribeArgs::try_parse_from(args).unwrap();
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let subscriber = tokio::spawn(subscribe_tokio::run(args, move |m| {
                tx.send(m).unwrap();
            }));
            // Published until the subscription is in place.
            let message = loop {
                let args = ["publish_tokio", "-b", &url, "--mqtt", version, "ex/1", "hi"];
                let args = PublishArgs::try_parse_from(args).unwrap();
                let delivered = publish_tokio::run(args).await.expect("published");
                if version == "5"
                    && delivered == Delivered::Acknowledged(PubackReasonCode::NoMatchingSubscribers)
                {
                    continue;
                }
                match tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
                    Ok(message) => break message.expect("a message"),
                    Err(_) => continue,
                }
            };
            assert_eq!(
                (message.topic_name(), message.payload()),
                ("ex/1", &b"hi"[..])
            );
            let ended = tokio::time::timeout(Duration::from_secs(10), subscriber).await;
            ended
                .expect("the subscriber ends after --count")
                .unwrap()
                .expect("ran");
        }
    });
}

#[test]
fn a_missing_broker_is_explained() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let url = format!("mqtt://{}", mqtt_testkit::free_addr());
    let args = PublishArgs::try_parse_from(["publish_tokio", "-b", &url]).unwrap();
    let error = runtime.block_on(publish_tokio::run(args)).unwrap_err();
    let text = format!("{error:?}");
    assert!(
        text.starts_with(&format!(
            "no broker at {url}? start one with `cargo run --release --example broker`"
        )),
        "{text}"
    );
}

#[test]
fn the_blocking_examples_meet_through_the_example_broker() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let config = BrokerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    let broker = runtime.block_on(Broker::bind(config)).expect("bind");
    let url = format!("mqtt://{}", broker.local_addr());
    runtime.spawn(broker.run());
    for version in ["5", "3.1.1"] {
        let args = [
            "subscribe",
            "-b",
            &url,
            "--mqtt",
            version,
            "-c",
            "1",
            "ex/#",
        ];
        let args = SubscribeArgs::try_parse_from(args).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let subscriber = std::thread::spawn(move || {
            subscribe::run(args, move |m| tx.send(m).unwrap()).map_err(|e| format!("{e:?}"))
        });
        // Published until the subscription is in place.
        let message = loop {
            let args = ["publish", "-b", &url, "--mqtt", version, "ex/1", "hi"];
            let args = PublishArgs::try_parse_from(args).unwrap();
            let delivered = publish::run(args).expect("published");
            if version == "5"
                && delivered
                    == mqtt_std::Delivered::Acknowledged(PubackReasonCode::NoMatchingSubscribers)
            {
                continue;
            }
            if let Ok(message) = rx.recv_timeout(Duration::from_millis(300)) {
                break message;
            }
        };
        assert_eq!(
            (message.topic_name(), message.payload()),
            ("ex/1", &b"hi"[..])
        );
        let ended = subscriber.join().expect("the subscriber thread");
        ended.expect("the subscriber ends after --count");
    }
}

#[test]
fn a_missing_broker_is_explained_to_the_blocking_examples() {
    let url = format!("mqtt://{}", mqtt_testkit::free_addr());
    let args = PublishArgs::try_parse_from(["publish", "-b", &url]).unwrap();
    let text = format!("{:?}", publish::run(args).unwrap_err());
    let expected =
        format!("no broker at {url}? start one with `cargo run --release --example broker`");
    assert!(text.starts_with(&expected), "{text}");
}
