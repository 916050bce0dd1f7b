//! The example broker's command line: flags read into the expected
//! [`BrokerConfig`], their defaults, their errors, and `--help`.

use clap::error::ErrorKind;
use clap::CommandFactory;
use mqtt_codec::{QoS, TopicFilter};
use mqtt_examples::broker::{BrokerArgs, BrokerConfig, Durability, Overflow, Settings};

/// Every flag of the broker, as scripts and the README use them.
const FLAGS: [&str; 30] = [
    "--config",
    "--bind",
    "--port",
    "--max-packet-size",
    "--receive-maximum",
    "--topic-alias-maximum",
    "--server-keep-alive",
    "--max-keep-alive",
    "--max-queued",
    "--max-queued-bytes",
    "--max-backlog-bytes",
    "--max-session-expiry",
    "--deny",
    "--connect-timeout",
    "--max-connections",
    "--max-sessions",
    "--slow-consumer-timeout",
    "--hibernate-after",
    "--overflow",
    "--no-retain",
    "--no-wildcard",
    "--no-shared",
    "--no-subscription-ids",
    "--maximum-qos",
    "--verbose",
    "--store",
    "--durability",
    "--commit-interval",
    "--threads",
    "--help",
];

fn parse(args: &[&str]) -> Result<BrokerConfig, clap::Error> {
    BrokerConfig::from_args(std::iter::once("broker").chain(args.iter().copied()))
}

fn filter(s: &str) -> TopicFilter {
    TopicFilter::new(s).unwrap()
}

#[test]
fn no_flags_give_the_defaults() {
    let c = parse(&[]).unwrap();
    assert_eq!(c, BrokerConfig::default());
    // The defaults the flags had before clap.
    assert_eq!(c.bind, "127.0.0.1:1883".parse().unwrap());
    assert_eq!(c.max_packet_size, 1_048_576);
    assert_eq!((c.receive_maximum, c.topic_alias_maximum), (100, 10));
    assert_eq!((c.server_keep_alive, c.max_keep_alive), (None, None));
    assert_eq!((c.max_queued, c.max_queued_bytes), (1000, 16_777_216));
    assert_eq!(c.max_backlog_bytes, 64 << 20);
    assert_eq!((c.max_session_expiry, c.deny.len()), (None, 0));
    assert_eq!((c.connect_timeout, c.slow_consumer_timeout), (10, 30));
    assert_eq!(c.hibernate_after, 1000);
    assert_eq!((c.max_connections, c.max_sessions), (100_000, 100_000));
    assert_eq!(c.overflow, Overflow::Drop);
    assert!(c.retain_available && c.wildcard_available);
    assert!(c.shared_available && c.subscription_ids_available);
    assert_eq!(c.maximum_qos, QoS::ExactlyOnce);
    assert!(!c.verbose);
}

#[test]
fn flags_give_the_expected_config() {
    let c = parse(&[
        "--bind",
        "0.0.0.0:1000",
        "--port",
        "2000",
        "--deny",
        "secret/#",
        "--deny",
        "a/+",
        "--maximum-qos",
        "1",
        "--no-shared",
        "--max-session-expiry",
        "60",
        "--max-sessions",
        "5",
        "--slow-consumer-timeout",
        "2",
    ])
    .unwrap();
    let expected = BrokerConfig {
        bind: "0.0.0.0:2000".parse().unwrap(),
        deny: vec![filter("secret/#"), filter("a/+")],
        maximum_qos: QoS::AtLeastOnce,
        shared_available: false,
        max_session_expiry: Some(60),
        max_sessions: 5,
        slow_consumer_timeout: 2,
        ..BrokerConfig::default()
    };
    assert_eq!(c, expected);
}

#[test]
fn every_flag_sets_its_field() {
    let c = parse(&[
        "--port=1884",
        "--max-packet-size=16",
        "--receive-maximum=1",
        "--topic-alias-maximum=0",
        "--server-keep-alive=5",
        "--max-keep-alive=6",
        "--max-queued=7",
        "--max-queued-bytes=8",
        "--max-backlog-bytes=10",
        "--max-session-expiry=9",
        "--deny=#",
        "--connect-timeout=11",
        "--max-connections=12",
        "--max-sessions=13",
        "--slow-consumer-timeout=14",
        "--hibernate-after=0",
        "--overflow=disconnect",
        "--no-retain",
        "--no-wildcard",
        "--no-shared",
        "--no-subscription-ids",
        "--maximum-qos=0",
        "-v",
        "--store=/tmp/b.redb",
        "--durability=periodic",
        "--commit-interval=15",
        "--threads=1",
    ])
    .unwrap();
    let expected = BrokerConfig {
        bind: "127.0.0.1:1884".parse().unwrap(),
        max_packet_size: 16,
        receive_maximum: 1,
        topic_alias_maximum: 0,
        server_keep_alive: Some(5),
        max_keep_alive: Some(6),
        max_queued: 7,
        max_queued_bytes: 8,
        max_backlog_bytes: 10,
        max_session_expiry: Some(9),
        deny: vec![filter("#")],
        connect_timeout: 11,
        max_connections: 12,
        max_sessions: 13,
        slow_consumer_timeout: 14,
        hibernate_after: 0,
        overflow: Overflow::Disconnect,
        retain_available: false,
        wildcard_available: false,
        shared_available: false,
        subscription_ids_available: false,
        maximum_qos: QoS::AtMostOnce,
        verbose: true,
        store: Some("/tmp/b.redb".into()),
        durability: Durability::Periodic,
        commit_interval: 15,
        threads: Some(1),
    };
    assert_eq!(c, expected);
}

#[test]
fn the_last_of_a_repeated_flag_counts_and_port_wins_over_bind() {
    let c = parse(&["--port", "1", "--bind", "10.0.0.1:5", "--port", "7"]).unwrap();
    assert_eq!(c.bind, "10.0.0.1:7".parse().unwrap());
    let c = parse(&[
        "--max-queued",
        "3",
        "--max-queued",
        "4",
        "--verbose",
        "--verbose",
    ])
    .unwrap();
    assert_eq!((c.max_queued, c.verbose), (4, true));
}

/// The error `args` give, as printed.
fn error(args: &[&str]) -> String {
    let e = parse(args).expect_err("an error");
    assert_ne!(e.kind(), ErrorKind::DisplayHelp);
    assert_eq!(e.exit_code(), 2, "{e}");
    e.to_string()
}

#[test]
fn bad_flags_are_errors_that_say_why() {
    assert!(error(&["--what"]).contains("unexpected argument '--what'"));
    assert!(error(&["--port"]).contains("a value is required for '--port <N>'"));
    assert!(error(&["--port", "x"]).contains("invalid value 'x' for '--port <N>'"));
    assert!(error(&["--port", "65536"]).contains("'--port <N>'"));
    assert!(error(&["--bind", "localhost"]).contains("'--bind <ADDR>'"));
    assert!(error(&["--maximum-qos", "3"]).contains("--maximum-qos: 0, 1 or 2 (not 3)"));
    let e = error(&["--deny", "a/#/b"]);
    assert!(e.contains("invalid value 'a/#/b' for '--deny <FILTER>': not a topic filter"));
    assert!(error(&["--receive-maximum", "0"]).contains("--receive-maximum: at least 1"));
    assert!(error(&["--max-queued", "0"]).contains("--max-queued: at least 1"));
    assert!(error(&["--max-queued-bytes", "0"]).contains("--max-queued-bytes: at least 1"));
    let e = error(&["--max-backlog-bytes", "0"]);
    assert!(e.contains("--max-backlog-bytes: at least 1"));
    let e = error(&["--overflow", "later"]);
    assert!(
        e.contains("invalid value 'later' for '--overflow <POLICY>'"),
        "{e}"
    );
    assert!(e.contains("[possible values: drop, disconnect]"), "{e}");
    let e = error(&["--slow-consumer-timeout", "0"]);
    assert!(e.contains("--slow-consumer-timeout: at least 1"), "{e}");
    let e = error(&["--threads", "0"]);
    assert!(e.contains("--threads: at least 1"), "{e}");
    let e = error(&["--max-packet-size", "15"]);
    assert!(
        e.contains("--max-packet-size: from 16 to 268435460 (not 15)"),
        "{e}"
    );
    assert!(parse(&["--max-packet-size", "268435460"]).is_ok());
    assert!(error(&["--max-packet-size", "268435461"]).contains("--max-packet-size"));
}

/// What `--help` prints.
fn help() -> String {
    let e = parse(&["--help"]).expect_err("--help stops");
    assert_eq!(e.kind(), ErrorKind::DisplayHelp);
    assert_eq!(e.exit_code(), 0);
    e.to_string()
}

#[test]
fn help_exits_0_and_shows_every_flag_and_default() {
    let text = help();
    assert!(text.starts_with("An MQTT v3.1.1 and v5.0 broker"), "{text}");
    assert!(text.contains("Usage: broker [OPTIONS]"), "{text}");
    for flag in FLAGS {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
    for default in [
        "[default: 127.0.0.1:1883]",
        "[default: 1048576]",
        "[default: 100]",
        "[default: 10]",
        "[default: 1000]",
        "[default: 16777216]",
        "[default: 100000]",
        "[default: 30]",
        "[default: 2]",
        "[default: drop]",
        "[default: message]",
    ] {
        assert!(text.contains(default), "{default} missing from:\n{text}");
    }
}

#[test]
fn the_command_line_has_exactly_the_known_flags() {
    let mut longs: Vec<String> = BrokerArgs::command()
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    longs.push("--help".into()); // added by clap when it builds the command
    longs.sort();
    let mut expected = FLAGS.map(String::from).to_vec();
    expected.sort();
    assert_eq!(longs, expected);
}

#[test]
fn every_flag_but_config_and_help_is_a_config_file_key() {
    for flag in FLAGS {
        let key = flag.trim_start_matches('-');
        // A value of the wrong type: a known key says so, an unknown one
        // is "unknown field".
        let e = Settings::from_toml(&format!("{key} = {{}}")).unwrap_err();
        if matches!(flag, "--config" | "--help") {
            assert!(e.contains(&format!("unknown field `{key}`")), "{key}: {e}");
        } else {
            assert!(e.contains("invalid type: map"), "{key}: {e}");
        }
    }
}
