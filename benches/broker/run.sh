#!/usr/bin/env bash
# Our example broker against mosquitto, in one run: builds the release
# examples, starts both brokers on free loopback ports, measures memory per
# idle connection (10,000 connections), runs the load generator against each
# (the throughput and latency rows of issue 15's targets: QoS 0, 1 and 2 x
# {4 -> 1, 1 -> 10, 16 -> 1} at 64 B, 4 -> 1 at 1 KiB and 64 KiB, p99
# latency at a paced 1,000 msg/s; and 1,000 connections fanning in, at
# 1 msg/s each and flat out), runs the faults soak against both (MQTT 5 and
# 3.1.1; killing all clients, publishers, subscribers), and prints Markdown
# tables. Each load scenario runs REPS times, mosquitto and ours
# interleaved, so that both see the same machine; the tables give medians
# and the ratio of each repetition.
#
#   benches/broker/run.sh                 # from the workspace root or anywhere
#   DURATION=5 SOAK_SECS=10 benches/broker/run.sh   # a shorter run
#   PARTS=targets DURATION=5 REPS=3 benches/broker/run.sh   # the targets' rows only
#
# Needs /usr/sbin/mosquitto (Debian package `mosquitto`) and python3.
# Raw results (JSON lines) and the brokers' logs stay in $OUT (printed).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/benches/broker"
DURATION=${DURATION:-10}     # seconds per load run
SOAK_SECS=${SOAK_SECS:-20}   # seconds of killing per soak (12 soaks)
IDLE=${IDLE:-10000}          # idle connections per broker
REPS=${REPS:-1}              # runs of each load scenario per broker
PARTS=${PARTS:-idle targets fanin soak}   # which parts to run
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
OUT=${OUT:-$(mktemp -d /tmp/broker-bench.XXXXXX)}
mkdir -p "$OUT"
RELEASE="$ROOT/target/release/examples"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"

cd "$ROOT"
echo "== building (release)" >&2
cargo build --release -q -p mqtt-examples --example broker --example loadgen --example soak

# 10,000 connections need as many descriptors in the broker and in loadgen.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((IDLE + 1000)) ]; then
    echo "ulimit -n is $(ulimit -n): too low for $IDLE connections" >&2
    exit 1
fi

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # PORT PID
    for _ in $(seq 100); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; then
            return 0
        fi
        kill -0 "$2" 2>/dev/null || { echo "broker $2 died" >&2; return 1; }
        sleep 0.1
    done
    echo "port $1 never opened" >&2
    return 1
}

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

start_mosquitto() { # -> sets MQ_PORT MQ_PID
    MQ_PORT=$(free_port)
    sed "s/@PORT@/$MQ_PORT/" "$HERE/mosquitto.conf" > "$OUT/mosquitto.conf"
    "$MOSQUITTO" -c "$OUT/mosquitto.conf" >> "$OUT/mosquitto.log" 2>&1 &
    MQ_PID=$!
    PIDS+=("$MQ_PID")
    wait_port "$MQ_PORT" "$MQ_PID"
}

start_ours() { # LOG -> sets OURS_PORT OURS_PID
    OURS_PORT=$(free_port)
    # Limits matching mosquitto.conf: 100,000 queued messages per session,
    # Receive Maximum 100 (our default; mosquitto's max_inflight_messages),
    # and no byte bound that binds before the message count (mosquitto's
    # max_queued_bytes is 0, none; ours defaults to 16 MiB, which holds
    # only 256 messages of 64 KiB): 8 GiB > 100,000 x 64 KiB.
    "$RELEASE/broker" --port "$OURS_PORT" --max-queued 100000 --receive-maximum 100 \
        --max-queued-bytes 8589934592 > "$OUT/$1" 2>&1 &
    OURS_PID=$!
    PIDS+=("$OURS_PID")
    wait_port "$OURS_PORT" "$OURS_PID"
}

start_mosquitto
start_ours ours.log
echo "== mosquitto $MQ_PORT (pid $MQ_PID), ours $OURS_PORT (pid $OURS_PID); results in $OUT" >&2

has() { [[ " $PARTS " == *" $1 "* ]]; }

# 1. Memory per idle connection, on the fresh brokers.
if has idle; then
    for b in mosquitto ours; do
        if [ $b = mosquitto ]; then port=$MQ_PORT pid=$MQ_PID; else port=$OURS_PORT pid=$OURS_PID; fi
        echo "== $IDLE idle connections -> $b" >&2
        "$RELEASE/loadgen" --port "$port" --idle "$IDLE" --broker-pid "$pid" \
            --label "$b|idle" --json >> "$RESULTS"
    done
fi

# 2. Load: each scenario REPS times, mosquitto then ours each time.
load() { # NAME ARGS...
    local name=$1
    shift
    for r in $(seq "$REPS"); do
        for b in mosquitto ours; do
            if [ $b = mosquitto ]; then port=$MQ_PORT pid=$MQ_PID; else port=$OURS_PORT pid=$OURS_PID; fi
            echo "== $name -> $b ($r/$REPS)" >&2
            "$RELEASE/loadgen" --port "$port" --broker-pid "$pid" --label "$b|$name" --json "$@" \
                >> "$RESULTS"
            sleep 1
        done
    done
}
if has targets; then
for q in 0 1 2; do
    load "4 pub -> 1 sub, QoS $q, 64 B" --publishers 4 --subscribers 1 --qos $q --payload 64 \
        --duration "$DURATION"
    load "1 pub -> 10 sub, QoS $q, 64 B" --publishers 1 --subscribers 10 --qos $q --payload 64 \
        --duration "$DURATION"
    load "16 pub -> 1 sub, QoS $q, 64 B" --publishers 16 --subscribers 1 --qos $q --payload 64 \
        --duration "$DURATION"
done
for q in 0 1; do
    load "4 pub -> 1 sub, QoS $q, 1 KiB" --publishers 4 --subscribers 1 --qos $q --payload 1024 \
        --duration "$DURATION"
    load "4 pub -> 1 sub, QoS $q, 64 KiB" --publishers 4 --subscribers 1 --qos $q --payload 65536 \
        --duration "$DURATION"
    # Latency unloaded: 4 publishers x 250 msg/s.
    load "paced 1,000 msg/s, 4 pub -> 1 sub, QoS $q, 64 B" --publishers 4 --rate 250 \
        --subscribers 1 --qos $q --payload 64 --duration "$DURATION"
done
fi
if has fanin; then
load "1,000 conns x 1 msg/s -> 1 sub, QoS 1" --publishers 0 --connections 1000 \
    --connection-rate 1 --subscribers 1 --qos 1 --payload 64 --duration "$DURATION"
load "1,000 conns flat out -> 1 sub, QoS 0" --publishers 1000 --inflight 2 --subscribers 1 --straggle 20 \
    --qos 0 --payload 64 --duration "$DURATION"
load "1,000 conns flat out -> 1 sub, QoS 1" --publishers 1000 --inflight 2 --subscribers 1 \
    --qos 1 --payload 64 --duration "$DURATION"
fi

# 3. Faults soak: each broker freshly started per soak (so that its memory
# baseline is its own and no session of an earlier soak remains), both MQTT
# versions, killing all clients, only publishers, only subscribers.
kill "$OURS_PID" "$MQ_PID" 2>/dev/null || true
for kill_who in all publishers subscribers; do
    has soak || break
    for v in 5 3.1.1; do
        for b in mosquitto ours; do
            if [ $b = mosquitto ]; then
                start_mosquitto
                port=$MQ_PORT pid=$MQ_PID
            else
                start_ours "ours-soak-$v-$kill_who.log"
                port=$OURS_PORT pid=$OURS_PID
            fi
            echo "== soak MQTT $v, kill $kill_who -> $b (${SOAK_SECS} s)" >&2
            "$RELEASE/soak" --port "$port" --version "$v" --kill "$kill_who" \
                --duration "$SOAK_SECS" --broker-pid "$pid" --json \
                | sed "s/^{/{\"label\":\"$b|kill $kill_who\",/" >> "$RESULTS" || true
            kill "$pid" 2>/dev/null || true
        done
    done
done

python3 "$HERE/table.py" "$RESULTS"
