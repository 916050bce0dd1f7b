#!/usr/bin/env python3
"""Prints the Markdown tables of benches/broker/run.sh from its JSON lines.

Each line is one loadgen (`--json`) or soak (`--json`) result whose "label"
is "BROKER|SCENARIO" (BROKER: mosquitto or ours).
"""
import json
import sys


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                r["broker"], r["scenario"] = r["label"].split("|", 1)
                rows.append(r)
    return rows


def fmt(v, digits=0):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def load_table(rows):
    scenarios = []
    for r in rows:
        if "msgs_per_s" in r and r["scenario"] not in scenarios:
            scenarios.append(r["scenario"])
    print("| scenario | broker | msg/s | p50 µs | p99 µs | lost | dup | "
          "loadgen CPU | broker CPU | ours / mosquitto msg/s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in scenarios:
        by = {r["broker"]: r for r in rows if r["scenario"] == s and "msgs_per_s" in r}
        ratio = None
        if "ours" in by and "mosquitto" in by and by["mosquitto"]["msgs_per_s"] > 0:
            ratio = by["ours"]["msgs_per_s"] / by["mosquitto"]["msgs_per_s"]
        for b in ("mosquitto", "ours"):
            if b not in by:
                continue
            r = by[b]
            last = f"**{ratio:.2f}×**" if b == "ours" and ratio is not None else ""
            print(f"| {s} | {b} | {fmt(r['msgs_per_s'])} | {fmt(r['p50_us'])} | "
                  f"{fmt(r['p99_us'])} | {r['lost']} | {r['duplicated']} | "
                  f"{fmt(r['loadgen_cpu_pct'])} % | {fmt(r['broker_cpu_pct'])} % | {last} |")


def idle_table(rows):
    idle = [r for r in rows if "bytes_per_connection" in r]
    if not idle:
        return
    print()
    print("| broker | idle connections | RSS before (KiB) | RSS with them (KiB) | "
          "RSS after closing (KiB) | bytes / connection |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in idle:
        print(f"| {r['broker']} | {r['idle']:,} | {fmt(r['rss_before_kib'])} | "
              f"{fmt(r['rss_with_kib'])} | {fmt(r['rss_after_kib'])} | "
              f"{fmt(r['bytes_per_connection'])} |")


def soak_table(rows):
    soaks = [r for r in rows if "qos1_lost" in r]
    if not soaks:
        return
    print()
    print("| broker | killed | MQTT | s | kills | QoS 1 confirmed | QoS 1 lost | QoS 1 dup | "
          "QoS 2 confirmed | QoS 2 lost | QoS 2 dup | RSS before / peak / after (KiB) | ok |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in soaks:
        mem = f"{fmt(r['rss_before_kib'])} / {fmt(r['rss_peak_kib'])} / {fmt(r['rss_after_kib'])}"
        who = r["scenario"].replace("kill ", "").replace("soak", "all")
        print(f"| {r['broker']} | {who} | {r['version']} | {r['seconds']:.0f} | {r['kills']} | "
              f"{r['qos1_confirmed']:,} | {r['qos1_lost']} | {r['qos1_dup']} | "
              f"{r['qos2_confirmed']:,} | {r['qos2_lost']} | {r['qos2_dup']} | {mem} | "
              f"{'yes' if r['ok'] else '**no**'} |")


def main():
    rows = load(sys.argv[1])
    load_table(rows)
    idle_table(rows)
    soak_table(rows)


if __name__ == "__main__":
    main()
