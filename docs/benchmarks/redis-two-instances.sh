#!/usr/bin/env bash
# Two `hotpath serve` instances (MiniLM INT8, minilm-q) sharing one redis-server: `hotpath bench --url` sends a
# workload to instance A (its engine computes every answer and writes it to Redis), then the same workload (same
# --seed) to instance B, whose local cache is empty: B answers from Redis. Prints both runs' latency over HTTP and
# B's engine executions and shared-cache hits read from its /metrics.
# Usage: docs/benchmarks/redis-two-instances.sh [requests] [budget_us]   (run `./mvnw -B -q -pl cli -am package -DskipTests` first)
set -euo pipefail
cd "$(dirname "$0")/../.."
. .mvn/find-jdk.sh
n=${1:-300}
budget=${2:-2000}
out=$(mktemp -d)
hp() { "$JAVA_HOME/bin/java" $(cat cli/target/jvm.flags) -jar cli/target/hotpath-cli.jar "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
rp=$(free_port); ha=$(free_port); ma=$(free_port); hb=$(free_port); mb=$(free_port)
redis-server --port "$rp" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --pidfile "$out/redis.pid" --logfile "$out/redis.log"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; redis-cli -p "$rp" shutdown nosave >/dev/null 2>&1 || true; }
trap cleanup EXIT
for i in a b; do
  if [ $i = a ]; then h=$ha; m=$ma; else h=$hb; m=$mb; fi
  hp serve --model minilm-q --http-port "$h" --grpc-port -1 --metrics-port "$m" --max-batch 8 --cache-bytes 67108864 \
    --redis "redis://127.0.0.1:$rp" --redis-budget-us "$budget" > "$out/serve-$i.log" 2>&1 &
  pids+=($!)
done
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" 'index($0, n "{model=\"minilm-q\"") == 1 {print $NF}'; }
for h in $ha $hb; do
  for _ in $(seq 1200); do curl -sf "http://127.0.0.1:$h/v2/health/ready" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$h/v2/health/ready" >/dev/null || { echo "an instance did not start:"; tail -3 "$out"/serve-*.log; exit 1; }
done
for m in $ma $mb; do
  for _ in $(seq 600); do [ "$(metric "$m" hotpath_cache_l2_breaker_open 2>/dev/null)" = "0" ] && break; sleep 0.1; done
done
echo "minilm-q over HTTP (binary tensors), seq 128, $n distinct inputs, 1 client, $n requests, lookup budget $budget us; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs"
run() {  # label port
  hp bench --url "http://127.0.0.1:$2" --model minilm-q --seq 128 --concurrency 1 --iterations "$n" --warmup 0 --seed 5 --wire binary --distinct "$n" --json "$out/$1.json" > "$out/$1.txt" 2>&1
  python3 - "$out/$1.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["steps"][0]
print(f"{sys.argv[2]:<34} p50 {d['p50_us']:8.0f} us  p99 {d['p99_us']:8.0f} us  max {d['max_us']:8.0f} us  ok {d['ok']}  errors {d['errors']}")
PY
}
run "A (engine computes, writes Redis)" "$ha"
for _ in $(seq 200); do [ "$(metric "$ma" hotpath_cache_l2_writes_total)" -ge "$n" ] && break; sleep 0.05; done
e0=$(metric "$mb" nv_inference_exec_count); h0=$(metric "$mb" hotpath_cache_l2_hits_total)
run "B (same inputs, answered by Redis)" "$hb"
e1=$(metric "$mb" nv_inference_exec_count); h1=$(metric "$mb" hotpath_cache_l2_hits_total)
echo "B: $((e1 - e0)) engine executions, $((h1 - h0)) shared-cache hits for $n requests; B's lookup-time quantiles (us):"
curl -s "http://127.0.0.1:$mb/metrics" | grep -E "^hotpath_cache_l2_(lookup_us|wait_us|hits|misses|abandoned|skipped|corrupt|errors)" | sed "s/^/  /"
