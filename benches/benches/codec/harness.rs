//! Groups of rows: each row checked and its allocations counted before
//! anything is timed, then timed by criterion, one group after the other.

use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use mqtt_benches::allocs_per;

use crate::common::{Check, Encoder, Expect, Timed};

/// A decode loop, instantiated for both sinks: `both!(module::function)`.
pub struct Loop {
    pub check: fn(&mut BytesMut, &mut Check) -> usize,
    pub timed: fn(&mut BytesMut, &mut Timed) -> usize,
}

macro_rules! both {
    ($f:path) => {
        $crate::harness::Loop {
            check: $f,
            timed: $f,
        }
    };
}
pub(crate) use both;

/// A stream to decode: its bytes, how many packets it holds, and what
/// each must carry.
#[derive(Clone)]
pub struct Input {
    pub stream: Bytes,
    pub n: usize,
    pub expect: Expect,
}

type DecodeFn = Box<dyn Fn(&mut BytesMut) -> usize>;
type MakeEncoder = Box<dyn Fn() -> Box<dyn Encoder>>;

enum Work {
    /// `check` panics on a wrong value; `timed` returns the packet count.
    Decode {
        stream: Bytes,
        check: Box<dyn Fn(&mut BytesMut)>,
        timed: DecodeFn,
    },
    /// Each encoder must write exactly `reference`.
    Encode { reference: Bytes, make: MakeEncoder },
}

struct Row {
    name: String,
    /// Packets per iteration.
    n: usize,
    work: Work,
}

/// A criterion group: one table of report.py.
pub struct Group {
    name: &'static str,
    rows: Vec<Row>,
}

impl Group {
    pub fn new(name: &'static str) -> Self {
        Group {
            name,
            rows: Vec::new(),
        }
    }

    /// A decode row: `lp` on a fresh copy of `input` per iteration.
    pub fn decode(&mut self, name: impl Into<String>, input: &Input, lp: Loop) {
        let name = name.into();
        let label = format!("{} / {name}", self.name);
        let Input { stream, n, expect } = input.clone();
        let check = move |buf: &mut BytesMut| {
            let mut sink = Check::new(label.clone(), expect.clone());
            let decoded = (lp.check)(buf, &mut sink);
            sink.finish(decoded, n);
        };
        let timed = lp.timed;
        self.push(
            name,
            n,
            Work::Decode {
                stream,
                check: Box::new(check),
                timed: Box::new(move |buf| timed(buf, &mut Timed)),
            },
        );
    }

    /// The two rows of one crate: "`name` (moved)" and "`name` (by ref)".
    pub fn ways(&mut self, name: &str, input: &Input, moved: Loop, by_ref: Loop) {
        self.decode(format!("{name} (moved)"), input, moved);
        self.decode(format!("{name} (by ref)"), input, by_ref);
    }

    /// A decode row checked only by its count of packets.
    pub fn decode_counted(
        &mut self,
        name: impl Into<String>,
        stream: Bytes,
        n: usize,
        decode: impl Fn(&mut BytesMut) -> usize + Clone + 'static,
    ) {
        let name = name.into();
        let label = format!("{} / {name}", self.name);
        let counted = decode.clone();
        let check = move |buf: &mut BytesMut| {
            let decoded = counted(buf);
            assert_eq!(decoded, n, "{label}: decoded {decoded} packets");
        };
        let work = Work::Decode {
            stream,
            check: Box::new(check),
            timed: Box::new(decode),
        };
        self.push(name, n, work);
    }

    /// An encode row: `make` builds the encoder (its buffer reserved),
    /// which must write `reference`, `n` packets.
    pub fn encode<E: Encoder + 'static>(
        &mut self,
        name: impl Into<String>,
        reference: &Bytes,
        n: usize,
        make: impl Fn(usize) -> E + 'static,
    ) {
        let capacity = reference.len();
        let make = move || Box::new(make(capacity)) as Box<dyn Encoder>;
        let work = Work::Encode {
            reference: reference.clone(),
            make: Box::new(make),
        };
        self.push(name.into(), n, work);
    }

    fn push(&mut self, name: String, n: usize, work: Work) {
        self.rows.push(Row { name, n, work });
    }

    /// Runs every row once outside any timing: checks what it decodes or
    /// encodes, and records its allocations per packet (counted on the
    /// loop that is timed).
    pub fn check(&self, allocs: &mut Allocs) {
        for row in &self.rows {
            let label = format!("{} / {}", self.name, row.name);
            let per = match &row.work {
                Work::Decode {
                    stream,
                    check,
                    timed,
                } => {
                    check(&mut BytesMut::from(&stream[..]));
                    let mut input = BytesMut::from(&stream[..]);
                    let mut decoded = 0;
                    let per = allocs_per(row.n, || decoded = timed(&mut input));
                    assert_eq!(decoded, row.n, "{label}: decoded {decoded} packets");
                    per
                }
                Work::Encode { reference, make } => {
                    let mut encoder = make();
                    encoder.encode();
                    let per = allocs_per(row.n, || {
                        encoder.encode();
                    });
                    assert!(encoder.encode() == &reference[..], "{label}: other bytes");
                    per
                }
            };
            allocs.record(self.name, &row.name, per);
        }
    }

    /// Times every row; an iteration handles a whole stream (milliseconds):
    /// flat sampling.
    pub fn bench(&self, c: &mut Criterion) {
        let mut group = c.benchmark_group(self.name);
        group.sampling_mode(SamplingMode::Flat);
        for row in &self.rows {
            group.throughput(Throughput::Elements(row.n as u64));
            match &row.work {
                Work::Decode { stream, timed, .. } => {
                    group.bench_function(&row.name, |b| {
                        b.iter_batched_ref(
                            || BytesMut::from(&stream[..]),
                            |input| timed(input),
                            BatchSize::PerIteration,
                        )
                    });
                }
                Work::Encode { make, .. } => {
                    let mut encoder = make();
                    group.bench_function(&row.name, |b| b.iter(|| encoder.encode().len()));
                }
            }
        }
        group.finish();
    }
}

/// Allocations per packet: printed, and saved for report.py.
#[derive(Default)]
pub struct Allocs(String);

impl Allocs {
    fn record(&mut self, group: &str, name: &str, per_packet: f64) {
        println!("allocs/packet {group} / {name}: {per_packet:.4}");
        self.0 += &format!("{group}\t{name}\t{per_packet:.6}\n");
    }

    /// Writes `allocs.tsv` where criterion writes its results.
    pub fn save(&self) {
        let dir = match std::env::var_os("CRITERION_HOME") {
            Some(dir) => PathBuf::from(dir),
            None => std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(
                    || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
                    PathBuf::from,
                )
                .join("criterion"),
        };
        let saved = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join("allocs.tsv"), &self.0));
        if let Err(e) = saved {
            eprintln!("cannot save allocs.tsv in {}: {e}", dir.display());
        }
    }
}
