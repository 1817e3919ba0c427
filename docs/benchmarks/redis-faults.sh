#!/usr/bin/env bash
# The shared cache tier (Redis) on MiniLM INT8 (minilm-q), one client, measured with `hotpath bench`:
# the engine alone; a healthy Redis that misses (inputs nobody asked before); a second run of the same
# inputs (every request a Redis hit); and four faults injected 5 s after a run's start: Redis down from the
# start, killed (SIGKILL), paused (SIGSTOP) and slowed (DEBUG SLEEP 3). Every run asks distinct inputs,
# so the local cache never answers and every request goes to Redis or the engine.
# Prints one line per run: p50, p99, max, the shared tier's counters; writes JSON files to $out.
# Usage: docs/benchmarks/redis-faults.sh [budget_us] [requests] [rounds]   (needs redis-server; builds nothing:
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
  hp bench --model minilm-q --seq 128 --concurrency 1 --iterations "$n" --warmup 20 --seed "$seed" "$@" --json "$out/$label.json" > "$out/$label.txt"
  python3 - "$out/$label.json" "$label" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d = d["results"][0] if "results" in d else d
l2 = "" if "l2_hit_rate" not in d else f"  l2 hits {100*d['l2_hit_rate']:.0f}% lookup p50 {d['l2_p50_us']:.0f} us p99 {d['l2_p99_us']:.0f} us"
print(f"{sys.argv[2]:<22} p50 {d['p50_us']:8.0f} us  p99 {d['p99_us']:8.0f} us  max {d['max_us']:8.0f} us  ok {d['requests_ok']} failed {d['requests_not_ok']}{l2}")
PY
  grep -h 'shared cache' "$out/$label.txt" | sed 's/^ */    /' || true
}
later() { (sleep 5; "$@") & }
r="--redis redis://127.0.0.1:$port --redis-budget-us $budget"
rounds=${3:-3}
echo "minilm-q, seq 128, 1 client, $n requests per run, lookup budget $budget us, $rounds interleaved rounds; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs"
start_redis
for round in $(seq "$rounds"); do
  s=$((round * 10))
  bench engine $((s + 1))
  bench redis-miss $((s + 2)) $r
  bench redis-hit $((s + 2)) $r
  bench down $((s + 3)) --redis "redis://127.0.0.1:$dead" --redis-budget-us "$budget"
  later kill -9 "$(cat "$out/redis.pid")"; bench killed $((s + 4)) $r; wait
  start_redis
  later kill -STOP "$(cat "$out/redis.pid")"; bench paused $((s + 5)) $r; wait; kill -CONT "$(cat "$out/redis.pid")"
  later redis-cli -p "$port" debug sleep 3 >/dev/null; bench slowed $((s + 6)) $r; wait
  for f in "$out"/*.json; do mv "$f" "${f%.json}.r$round.js"; done
done
stop_redis
python3 - "$out" "$budget" <<'PY'
import glob, json, statistics, sys
out, budget = sys.argv[1], float(sys.argv[2])
rows = {}
for f in sorted(glob.glob(out + "/*.r*.js")):
    label = f.rsplit("/", 1)[1].split(".r")[0]
    d = json.load(open(f)); d = d["results"][0] if "results" in d else d
    rows.setdefault(label, []).append(d)
print(f"\nmedians over {len(rows['engine'])} rounds; the bound for a fault's p99: the engine's median p99 + the {budget:.0f} us budget")
engs = sorted(d["p99_us"] for d in rows["engine"])
eng = statistics.median(engs)
print(f"(the engine's own p99 ranged {engs[0]:.0f} to {engs[-1]:.0f} us over the rounds)")
for label in ["engine", "redis-miss", "redis-hit", "down", "killed", "paused", "slowed"]:
    ds = rows[label]
    p50 = statistics.median(d["p50_us"] for d in ds); p99 = statistics.median(d["p99_us"] for d in ds)
    failed = sum(d["requests_not_ok"] for d in ds)
    line = f"{label:<12} p50 {p50:8.0f} us  p99 {p99:8.0f} us  failed {failed}"
    if label not in ("engine", "redis-miss", "redis-hit"):
        line += ("  within" if p99 <= eng + budget else "  over") + f" {eng + budget:.0f} us"
    if "l2_wait_p99_us" in ds[0]:
        line += f"  | a request's wait for Redis: p99 {max(d['l2_wait_p99_us'] for d in ds):.0f} us, max {max(d['l2_wait_max_us'] for d in ds):.0f} us (worst round)"
    print(line)
PY
echo "JSON: $out"
