#!/usr/bin/env python3
"""Prints the last `cargo bench -p mqtt-benches --bench codec` run as markdown tables.

Reads <criterion dir>/<group>/<bench>/new/{estimates,benchmark}.json; the
criterion dir is argv[1], else $CRITERION_HOME, else $CARGO_TARGET_DIR/criterion,
else target/criterion next to this script's workspace. Time per packet is the
median estimate divided by the group's Throughput::Elements. Allocation counts
come from allocs.tsv, which the bench writes to the same directory.
"""
import json
import os
import sys
from pathlib import Path

OURS = "mqtt-codec"
PEER_GROUPS = ["decode", "encode"]


def criterion_dir():
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    if os.environ.get("CRITERION_HOME"):
        return Path(os.environ["CRITERION_HOME"])
    if os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"]) / "criterion"
    return Path(__file__).resolve().parent.parent / "target" / "criterion"


def load(root):
    """{group: {bench: ns per element}}, in the order criterion ran them."""
    results = {}
    for bench_json in sorted(root.glob("*/*/new/benchmark.json")):
        meta = json.loads(bench_json.read_text())
        est = json.loads((bench_json.parent / "estimates.json").read_text())
        elements = (meta.get("throughput") or {}).get("Elements") or 1
        ns = est["median"]["point_estimate"] / elements
        results.setdefault(meta["group_id"], {})[meta["function_id"]] = ns
    return results


def load_allocs(root):
    """{(direction, name): allocations per packet}"""
    path = root / "allocs.tsv"
    if not path.exists():
        return {}
    allocs = {}
    for line in path.read_text().splitlines():
        direction, name, per = line.split("\t")
        allocs[(direction, name)] = float(per)
    return allocs


def fmt_allocs(allocs, group, name):
    per = allocs.get((group, name))
    return f"{per:.2f}" if per is not None else "-"


def main():
    root = criterion_dir()
    results = load(root)
    if not results:
        sys.exit(f"no criterion results under {root}")
    allocs = load_allocs(root)

    for group in PEER_GROUPS:
        benches = results.get(group)
        if not benches:
            continue
        ours = benches.get(OURS)
        print(f"### {group}: 100,000 v3.1.1 PUBLISH QoS 1, 86 B each\n")
        print("| crate | ns/packet | peer / ours | allocs/packet |")
        print("|---|---:|---:|---:|")
        for name, ns in sorted(benches.items(), key=lambda kv: kv[1]):
            ratio = f"{ns / ours:.2f}" if ours else "-"
            print(f"| {name} | {ns:.1f} | {ratio} | {fmt_allocs(allocs, group, name)} |")
        print()

    for group, benches in results.items():
        if group in PEER_GROUPS:
            continue
        print(f"### {group} (mqtt-codec only)\n")
        print("| case | ns/packet | allocs/packet |")
        print("|---|---:|---:|")
        for name, ns in benches.items():
            print(f"| {name} | {ns:.1f} | {fmt_allocs(allocs, group, name)} |")
        print()


if __name__ == "__main__":
    main()
