#!/usr/bin/env bash
# The shared cache tier (Redis) on MiniLM INT8 (minilm-q), one client, measured with `hotpath bench`:
# the engine alone; a healthy Redis that misses (inputs nobody asked before); a second run of the same
# inputs (every request a Redis hit); and four faults injected 1.5 s into a run: Redis down from the
# start, killed (SIGKILL), paused (SIGSTOP) and slowed (DEBUG SLEEP 3). Every run asks distinct inputs,
# so the local cache never answers and every request goes to Redis or the engine.
# Prints one line per run: p50, p99, max, the shared tier's counters; writes JSON files to $out.
# Usage: docs/benchmarks/redis-faults.sh [budget_us] [requests]   (needs redis-server; builds nothing:
# run `./mvnw -B -q -pl cli -am package -DskipTests` first)
set -euo pipefail
cd "$(dirname "$0")/../.."
. .mvn/find-jdk.sh
budget=${1:-2000}
n=${2:-300}
out=$(mktemp -d)
hp() { "$JAVA_HOME/bin/java" $(cat cli/target/jvm.flags) -jar cli/target/hotpath-cli.jar "$@" 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port)
dead=$(free_port)
start_redis() {
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --enable-debug-command local \
    --pidfile "$out/redis.pid" --logfile "$out/redis.log"
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.1; done
}
stop_redis() { redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill -9 "$(cat "$out/redis.pid")" 2>/dev/null || true; sleep 0.3; }
bench() {   # label seed [extra args]
  local label=$1 seed=$2; shift 2
  hp bench --model minilm-q --seq 128 --concurrency 1 --iterations "$n" --warmup 20 --seed "$seed" "$@" --json "$out/$label.json" >/dev/null
  python3 - "$out/$label.json" "$label" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d = d["results"][0] if "results" in d else d
l2 = "" if "l2_hit_rate" not in d else f"  l2 hits {100*d['l2_hit_rate']:.0f}% lookup p50 {d['l2_p50_us']:.0f} us p99 {d['l2_p99_us']:.0f} us"
print(f"{sys.argv[2]:<22} p50 {d['p50_us']:8.0f} us  p99 {d['p99_us']:8.0f} us  max {d['max_us']:8.0f} us  ok {d['requests_ok']} failed {d['requests_not_ok']}{l2}")
PY
}
later() { (sleep 1.5; "$@") & }
r="--redis redis://127.0.0.1:$port --redis-budget-us $budget"
echo "minilm-q, seq 128, 1 client, $n requests per run, lookup budget $budget us; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs"
bench engine 1
start_redis
bench redis-miss 2 $r
bench redis-hit 2 $r
bench down 3 --redis "redis://127.0.0.1:$dead" --redis-budget-us "$budget"
later kill -9 "$(cat "$out/redis.pid")"; bench killed 4 $r; wait
start_redis
later kill -STOP "$(cat "$out/redis.pid")"; bench paused 5 $r; wait; kill -CONT "$(cat "$out/redis.pid")"
later redis-cli -p "$port" debug sleep 3 >/dev/null; bench slowed 6 $r; wait
stop_redis
echo "JSON: $out"
