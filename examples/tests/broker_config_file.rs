//! The example broker's config file (`--config FILE`, TOML): its keys read
//! into the expected [`BrokerConfig`], the flags overriding them, its
//! errors, and the example file `examples/broker/broker.example.toml`.

use std::ffi::OsString;
use std::path::PathBuf;

use mqtt_codec::{QoS, TopicFilter};
use mqtt_examples::broker::flags::CONFIG_HELP;
use mqtt_examples::broker::{BrokerConfig, Durability, Overflow, Settings};

/// The example file shipped with the broker.
const EXAMPLE: &str = include_str!("../broker/broker.example.toml");

/// Every key of the file: every flag but --config and --help.
const KEYS: [&str; 28] = [
    "bind",
    "port",
    "max-packet-size",
    "receive-maximum",
    "topic-alias-maximum",
    "server-keep-alive",
    "max-keep-alive",
    "max-queued",
    "max-queued-bytes",
    "max-backlog-bytes",
    "max-session-expiry",
    "deny",
    "connect-timeout",
    "max-connections",
    "max-sessions",
    "slow-consumer-timeout",
    "hibernate-after",
    "overflow",
    "no-retain",
    "no-wildcard",
    "no-shared",
    "no-subscription-ids",
    "maximum-qos",
    "verbose",
    "store",
    "durability",
    "commit-interval",
    "threads",
];

/// A file that sets every key to a value that is not its default.
const EVERY_KEY: &str = r#"
bind = "10.1.2.3:1000"
port = 1001
max-packet-size = 2000
receive-maximum = 3
topic-alias-maximum = 4
server-keep-alive = 5
max-keep-alive = 6
max-queued = 7
max-queued-bytes = 8
max-backlog-bytes = 10
max-session-expiry = 9
deny = ["a/#", "+/b"]
connect-timeout = 11
max-connections = 12
max-sessions = 13
slow-consumer-timeout = 14
hibernate-after = 15
overflow = "disconnect"
no-retain = true
no-wildcard = true
no-shared = true
no-subscription-ids = true
maximum-qos = 1
verbose = true
store = "/var/lib/broker.redb"
durability = "periodic"
commit-interval = 15
threads = 3
"#;

fn filter(s: &str) -> TopicFilter {
    TopicFilter::new(s).unwrap()
}

/// `text` written to a file of this test process named after `name`.
fn file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "mqtt-broker-config-{}-{name}.toml",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// The config of `--config FILE` (FILE holding `text`) and then `flags`.
fn parse(name: &str, text: &str, flags: &[&str]) -> Result<BrokerConfig, String> {
    let path = file(name, text);
    let args = [
        "broker".into(),
        "--config".into(),
        path.clone().into_os_string(),
    ];
    let args = args.into_iter().chain(flags.iter().map(OsString::from));
    let result = BrokerConfig::from_args(args).map_err(|e| e.to_string());
    std::fs::remove_file(path).unwrap();
    result
}

/// `text` laid over the defaults, without a file.
fn from_toml(text: &str) -> Result<BrokerConfig, String> {
    let mut config = BrokerConfig::default();
    config.apply(Settings::from_toml(text)?)?;
    Ok(config)
}

#[test]
fn every_key_sets_its_field() {
    let expected = BrokerConfig {
        bind: "10.1.2.3:1001".parse().unwrap(),
        max_packet_size: 2000,
        receive_maximum: 3,
        topic_alias_maximum: 4,
        server_keep_alive: Some(5),
        max_keep_alive: Some(6),
        max_queued: 7,
        max_queued_bytes: 8,
        max_backlog_bytes: 10,
        max_session_expiry: Some(9),
        deny: vec![filter("a/#"), filter("+/b")],
        connect_timeout: 11,
        max_connections: 12,
        max_sessions: 13,
        slow_consumer_timeout: 14,
        hibernate_after: 15,
        overflow: Overflow::Disconnect,
        retain_available: false,
        wildcard_available: false,
        shared_available: false,
        subscription_ids_available: false,
        maximum_qos: QoS::AtLeastOnce,
        verbose: true,
        store: Some("/var/lib/broker.redb".into()),
        durability: Durability::Periodic,
        commit_interval: 15,
        threads: Some(3),
    };
    assert_eq!(parse("every-key", EVERY_KEY, &[]).unwrap(), expected);
    assert_eq!(from_toml(EVERY_KEY).unwrap(), expected);
}

#[test]
fn an_empty_file_gives_the_defaults() {
    assert_eq!(parse("empty", "", &[]).unwrap(), BrokerConfig::default());
    let off = "no-retain = false\nno-shared = false\nverbose = false\n";
    assert_eq!(from_toml(off).unwrap(), BrokerConfig::default());
}

#[test]
fn flags_override_the_file() {
    let c = parse(
        "overridden",
        EVERY_KEY,
        &[
            "--bind=10.9.9.9:2000",
            "--max-packet-size=3000",
            "--receive-maximum=30",
            "--topic-alias-maximum=40",
            "--server-keep-alive=50",
            "--max-keep-alive=60",
            "--max-queued=70",
            "--max-queued-bytes=80",
            "--max-backlog-bytes=100",
            "--max-session-expiry=90",
            "--deny=c/d",
            "--connect-timeout=110",
            "--max-connections=120",
            "--max-sessions=130",
            "--slow-consumer-timeout=140",
            "--hibernate-after=145",
            "--overflow=drop",
            "--maximum-qos=2",
            "--durability=message",
            "--commit-interval=150",
            "--threads=2",
        ],
    )
    .unwrap();
    let expected = BrokerConfig {
        // --bind replaces the file's port too.
        bind: "10.9.9.9:2000".parse().unwrap(),
        max_packet_size: 3000,
        receive_maximum: 30,
        topic_alias_maximum: 40,
        server_keep_alive: Some(50),
        max_keep_alive: Some(60),
        max_queued: 70,
        max_queued_bytes: 80,
        max_backlog_bytes: 100,
        max_session_expiry: Some(90),
        // --deny replaces the file's list.
        deny: vec![filter("c/d")],
        connect_timeout: 110,
        max_connections: 120,
        max_sessions: 130,
        slow_consumer_timeout: 140,
        hibernate_after: 145,
        overflow: Overflow::Drop,
        // The file's switches stay on: no flag turns them off.
        retain_available: false,
        wildcard_available: false,
        shared_available: false,
        subscription_ids_available: false,
        maximum_qos: QoS::ExactlyOnce,
        verbose: true,
        // No --store: the file's.
        store: Some("/var/lib/broker.redb".into()),
        durability: Durability::Message,
        commit_interval: 150,
        threads: Some(2),
    };
    assert_eq!(c, expected);
}

#[test]
fn a_port_flag_keeps_the_files_address() {
    let c = parse(
        "port",
        "bind = \"10.0.0.1:1000\"\nport = 1001\n",
        &["--port", "7"],
    )
    .unwrap();
    assert_eq!(c.bind, "10.0.0.1:7".parse().unwrap());
    let c = parse("no-port", "bind = \"10.0.0.1:1000\"\n", &["--verbose"]).unwrap();
    assert_eq!(
        (c.bind, c.verbose),
        ("10.0.0.1:1000".parse().unwrap(), true)
    );
}

#[test]
fn an_unknown_key_is_an_error_naming_it() {
    let e = parse("unknown", "max-packet-size = 100\ncolour = 1\n", &[]).unwrap_err();
    assert!(e.contains("unknown field `colour`"), "{e}");
    assert!(e.contains("line 2"), "{e}");
    assert!(e.contains("--config "), "{e}");
    // --config is a flag, not a key; a flag's dashes are not either.
    assert!(from_toml("config = \"x.toml\"")
        .unwrap_err()
        .contains("unknown field `config`"));
    let e = from_toml("max_packet_size = 100").unwrap_err();
    assert!(e.contains("unknown field `max_packet_size`"), "{e}");
}

#[test]
fn bad_values_are_errors_naming_the_key() {
    for (text, says) in [
        ("max-queued = -1", "expected usize"),
        ("receive-maximum = 70000", "expected u16"),
        ("max-packet-size = \"big\"", "expected u32"),
        ("no-retain = 1", "expected a boolean"),
        ("bind = \"localhost\"", "invalid socket address"),
        ("deny = \"a/#\"", "expected a sequence"),
        ("deny = [\"a/#/b\"]", "\"a/#/b\" is not a topic filter"),
        (
            "max-packet-size = 15",
            "max-packet-size: from 16 to 268435460 (not 15)",
        ),
        ("maximum-qos = 3", "maximum-qos: 0, 1 or 2 (not 3)"),
        (
            "overflow = \"later\"",
            "\"drop\" or \"disconnect\" (not \"later\")",
        ),
        ("overflow = 1", "invalid type: integer"),
        ("receive-maximum = 0", "receive-maximum: at least 1"),
        ("max-queued-bytes = 0", "max-queued-bytes: at least 1"),
        ("max-backlog-bytes = 0", "max-backlog-bytes: at least 1"),
        (
            "slow-consumer-timeout = 0",
            "slow-consumer-timeout: at least 1",
        ),
        ("port = 1\nport = 2", "duplicate key"),
        ("port = ", "string values must be quoted"),
    ] {
        let e = from_toml(text).unwrap_err();
        assert!(e.contains(says), "{text}: {e}");
        assert!(parse("bad", text, &[])
            .unwrap_err()
            .starts_with("error: --config "));
    }
}

#[test]
fn a_missing_file_is_an_error() {
    let args = ["broker", "--config", "/nonexistent/broker.toml"];
    let e = BrokerConfig::from_args(args).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(
        e.to_string()
            .contains("/nonexistent/broker.toml: No such file"),
        "{e}"
    );
}

#[test]
fn the_example_file_parses() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/broker/broker.example.toml");
    let c = BrokerConfig::from_args(["broker", "--config", path]).unwrap();
    let expected = BrokerConfig {
        bind: "0.0.0.0:1883".parse().unwrap(),
        max_packet_size: 262_144,
        max_keep_alive: Some(600),
        max_session_expiry: Some(86_400),
        deny: vec![filter("secret/#"), filter("$SYS/#")],
        ..BrokerConfig::default()
    };
    assert_eq!(c, expected);
}

/// The example file with its `# key = value` lines uncommented.
fn uncommented(text: &str) -> String {
    let key = |l: &str| l.split_once(" = ").is_some_and(|(k, _)| KEYS.contains(&k));
    let line = |l: &str| match l.strip_prefix("# ") {
        Some(setting) if key(setting) => setting.to_string(),
        _ => l.to_string(),
    };
    text.lines().map(line).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_example_file_shows_every_key_with_its_default() {
    let text = uncommented(EXAMPLE);
    let table: toml::Table = text.parse().unwrap();
    let mut keys: Vec<&str> = table.keys().map(String::as_str).collect();
    keys.sort();
    let mut expected = KEYS.to_vec();
    expected.sort();
    assert_eq!(keys, expected);
    // The commented-out values are the defaults, but three examples.
    let expected = BrokerConfig {
        server_keep_alive: Some(60),
        store: Some("broker.redb".into()),
        threads: Some(2),
        ..from_toml(EXAMPLE).unwrap()
    };
    assert_eq!(from_toml(&text).unwrap(), expected);
}

#[test]
fn the_example_of_the_help_of_config_parses() {
    let example: String = CONFIG_HELP
        .lines()
        .filter_map(|l| l.strip_prefix("    "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(example.lines().count(), 4, "{example}");
    let expected = BrokerConfig {
        bind: "0.0.0.0:1883".parse().unwrap(),
        deny: vec![filter("secret/#"), filter("$SYS/#")],
        retain_available: false,
        ..BrokerConfig::default()
    };
    assert_eq!(from_toml(&example).unwrap(), expected);
}
