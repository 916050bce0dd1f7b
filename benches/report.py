#!/usr/bin/env python3
"""Prints the last `cargo bench -p mqtt-benches --bench codec` run as markdown tables.

Reads <criterion dir>/<group>/<bench>/new/{estimates,benchmark}.json; the
criterion dir is argv[1], else $CRITERION_HOME, else $CARGO_TARGET_DIR/criterion,
else target/criterion next to this script's workspace. Time per packet is the
median estimate divided by the group's Throughput::Elements.

The rows and their order come from allocs.tsv, which the bench writes to the
same directory before criterion starts (group, row, allocations per packet):
results of older runs left in the directory are not shown, and a row whose
criterion result is older than allocs.tsv (a run filtered to other rows) is
marked "(old)".

One table per group. In groups where mqtt-codec has a row, each peer's time
is also given as a ratio to mqtt-codec's (peer / ours, > 1: the peer is
slower). Rows named "<crate> (moved)" and "<crate> (by ref)" are the two ways
of one crate, shown side by side. The payload-size group puts mqtt-codec and
the floor side by side per size, with each size's time relative to 64 B.
"""
import json
import math
import os
import sys
from pathlib import Path

OURS = "mqtt-codec"
WAYS = (" (moved)", " (by ref)")
PAYLOAD_SIZE_GROUP = "v3.1.1 PUBLISH decode by payload size"
FLOOR = "floor"


def criterion_dir():
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    if os.environ.get("CRITERION_HOME"):
        return Path(os.environ["CRITERION_HOME"])
    if os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"]) / "criterion"
    return Path(__file__).resolve().parent.parent / "target" / "criterion"


def load_times(root, since):
    """{(group, row): (ns per element, elements, older than `since`)}"""
    times = {}
    for bench_json in root.glob("*/*/new/benchmark.json"):
        meta = json.loads(bench_json.read_text())
        est = json.loads((bench_json.parent / "estimates.json").read_text())
        elements = (meta.get("throughput") or {}).get("Elements") or 1
        ns = est["median"]["point_estimate"] / elements
        old = bench_json.stat().st_mtime < since
        times[(meta["group_id"], meta["function_id"])] = (ns, elements, old)
    return times


def load_rows(path):
    """{group: [(row, allocations per packet)]}, in the order the bench ran them."""
    groups = {}
    for line in path.read_text().splitlines():
        group, row, per = line.split("\t")
        groups.setdefault(group, []).append((row, float(per)))
    return groups


def fmt_allocs(per):
    if per is None:
        return "-"
    if per == 0:
        return "0"
    # Two significant digits below 1 (0.0013), two decimals above.
    decimals = max(2, 1 - math.floor(math.log10(per)))
    return f"{per:.{decimals}f}"


class Group:
    def __init__(self, name, rows, times):
        self.name = name
        self.allocs = dict(rows)
        self.order = [row for row, _ in rows]
        self.times = {row: times.get((name, row)) for row in self.order}

    def ns(self, row):
        t = self.times.get(row)
        return t[0] if t else None

    def fmt_ns(self, row):
        t = self.times.get(row)
        if not t:
            return "-"
        return f"{t[0]:.1f}" + (" (old)" if t[2] else "")

    def ratio(self, row, ours_row):
        ns, ours = self.ns(row), self.ns(ours_row)
        return f"{ns / ours:.2f}" if ns and ours else "-"

    def packets(self):
        counts = {t[1] for t in self.times.values() if t}
        return ", ".join(f"{c:,}" for c in sorted(counts))

    def heading(self):
        packets = self.packets()
        return f"### {self.name}" + (f" ({packets} packets per iteration)" if packets else "")


def by_time(group, rows):
    return sorted(rows, key=lambda row: group.ns(row) or float("inf"))


def print_ways(group):
    crates = [row[: -len(WAYS[0])] for row in group.order if row.endswith(WAYS[0])]
    print("| crate | moved ns/packet | moved peer / ours | by ref ns/packet"
          " | by ref peer / ours | allocs/packet (moved, by ref) |")
    print("|---|---:|---:|---:|---:|---:|")
    for crate in by_time(group, crates):
        moved, by_ref = crate + WAYS[0], crate + WAYS[1]
        a, b = group.allocs.get(moved), group.allocs.get(by_ref)
        allocs = fmt_allocs(a) if a == b else f"{fmt_allocs(a)}, {fmt_allocs(b)}"
        print(f"| {crate} | {group.fmt_ns(moved)} | {group.ratio(moved, OURS + WAYS[0])}"
              f" | {group.fmt_ns(by_ref)} | {group.ratio(by_ref, OURS + WAYS[1])} | {allocs} |")


def print_peers(group):
    print("| crate | ns/packet | peer / ours | allocs/packet |")
    print("|---|---:|---:|---:|")
    for row in by_time(group, group.order):
        print(f"| {row} | {group.fmt_ns(row)} | {group.ratio(row, OURS)}"
              f" | {fmt_allocs(group.allocs.get(row))} |")


def print_payload_sizes(group):
    sizes = [row[len(OURS) + 1:] for row in group.order if row.startswith(OURS + " ")]
    print(f"| payload | {OURS} ns/packet | {FLOOR} ns/packet | {FLOOR} / ours"
          f" | {OURS} / its 64 B | {FLOOR} / its 64 B | allocs/packet ({OURS}, {FLOOR}) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    first = sizes[0] if sizes else None
    for size in sizes:
        ours, floor = f"{OURS} {size}", f"{FLOOR} {size}"
        a, b = group.allocs.get(ours), group.allocs.get(floor)
        print(f"| {size} | {group.fmt_ns(ours)} | {group.fmt_ns(floor)}"
              f" | {group.ratio(floor, ours)} | {group.ratio(ours, f'{OURS} {first}')}"
              f" | {group.ratio(floor, f'{FLOOR} {first}')}"
              f" | {fmt_allocs(a)}, {fmt_allocs(b)} |")


def print_ours_only(group):
    print("| case | ns/packet | allocs/packet |")
    print("|---|---:|---:|")
    for row in group.order:
        print(f"| {row} | {group.fmt_ns(row)} | {fmt_allocs(group.allocs.get(row))} |")


def main():
    root = criterion_dir()
    allocs_tsv = root / "allocs.tsv"
    if not allocs_tsv.exists():
        sys.exit(f"no allocs.tsv under {root}: run the codec bench first")
    times = load_times(root, allocs_tsv.stat().st_mtime)
    for name, rows in load_rows(allocs_tsv).items():
        group = Group(name, rows, times)
        print(group.heading() + "\n")
        if name == PAYLOAD_SIZE_GROUP:
            print_payload_sizes(group)
        elif any(row.endswith(WAYS[0]) for row in group.order):
            print_ways(group)
        elif OURS in group.order:
            print_peers(group)
        else:
            print_ours_only(group)
        print()


if __name__ == "__main__":
    main()
