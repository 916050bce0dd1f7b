#!/usr/bin/env python3
"""Prints the Markdown tables of benches/broker/run.sh from its JSON lines.

Each line is one loadgen (`--json`) or soak (`--json`) result whose "label"
is "BROKER|SCENARIO" (BROKER: mosquitto or ours). A scenario run several
times (REPS in run.sh) is shown as the median of its runs, with the
ours / mosquitto ratio of each repetition.
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


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def ratios(ours, mosq, key):
    """Ours / mosquitto of `key`, rep by rep (the i-th run of each, which
    run.sh interleaves), where both are known and mosquitto's is > 0."""
    out = []
    for o, m in zip(ours, mosq):
        if o.get(key) is not None and m.get(key):
            out.append(o[key] / m[key])
    return out


def load_table(rows):
    """One row per scenario and broker, the median over its repetitions;
    ratios are ours / mosquitto per repetition (median first, then each)."""
    scenarios = []
    for r in rows:
        if "msgs_per_s" in r and r["scenario"] not in scenarios:
            scenarios.append(r["scenario"])
    print("| scenario | broker | runs | msg/s | per second min / median / max | drain s | "
          "p50 µs | p99 µs | lost | dup | loadgen CPU | broker CPU | "
          "ours / mosquitto msg/s | ours / mosquitto median per second |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in scenarios:
        by = {b: [r for r in rows if r["scenario"] == s and r["broker"] == b
                  and "msgs_per_s" in r] for b in ("mosquitto", "ours")}
        total = ratios(by["ours"], by["mosquitto"], "msgs_per_s")
        per_s = ratios(by["ours"], by["mosquitto"], "per_s_median")
        for b in ("mosquitto", "ours"):
            runs = by[b]
            if not runs:
                continue
            m = lambda k: median(r.get(k) for r in runs)
            spread = (f"{fmt(m('per_s_min'))} / {fmt(m('per_s_median'))} / "
                      f"{fmt(m('per_s_max'))}")
            last = ["", ""]
            if b == "ours":
                last = [ratio_cell(total), ratio_cell(per_s)]
            print(f"| {s} | {b} | {len(runs)} | {fmt(m('msgs_per_s'))} | {spread} | "
                  f"{fmt(m('drain_s'), 2)} | {fmt(m('p50_us'))} | {fmt(m('p99_us'))} | "
                  f"{fmt(m('lost'))} | {fmt(m('duplicated'))} | "
                  f"{fmt(m('loadgen_cpu_pct'))} % | {fmt(m('broker_cpu_pct'))} % | "
                  f"{last[0]} | {last[1]} |")


def ratio_cell(values):
    if not values:
        return "n/a"
    each = ", ".join(f"{v:.2f}" for v in values)
    return f"**{median(values):.2f}×** ({each})" if len(values) > 1 else f"**{values[0]:.2f}×**"


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
