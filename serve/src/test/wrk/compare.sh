#!/usr/bin/env bash
# Throughput of one running server on mlp, measured by wrk (C, nobody here wrote it) and by
# `hotpath bench --url` at the same concurrency, interleaved for ROUNDS rounds; prints each round
# and the medians. Usage: compare.sh PORT [CONCURRENCY=16] [ROUNDS=5] [SECONDS=6]
set -euo pipefail
port=$1; conc=${2:-16}; rounds=${3:-5}; secs=${4:-6}
root=$(cd "$(dirname "$0")/../../../.." && pwd)
here=$(cd "$(dirname "$0")" && pwd)
wrk -t2 -c"$conc" -d3s -s "$here/infer-binary.lua" "http://127.0.0.1:$port" >/dev/null      # warm-up
w=(); h=()
for r in $(seq "$rounds"); do
  a=$(wrk -t2 -c"$conc" -d"${secs}s" -s "$here/infer-binary.lua" "http://127.0.0.1:$port" | awk '/Requests\/sec/ {print $2}')
  # iterations sized to about the same duration as wrk's run
  n=$(awk -v a="$a" -v s="$secs" 'BEGIN {printf "%d", a * s}')
  b=$("$root/hotpath" bench --url "http://127.0.0.1:$port" --model mlp --concurrency "$conc" --iterations "$n" --warmup 200 2>/dev/null \
      | awk -v c="$conc" '$1 == c {print $7}')
  echo "round $r: wrk $a req/s, hotpath bench --url $b req/s"
  w+=("$a"); h+=("$b")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
mw=$(median "${w[@]}"); mh=$(median "${h[@]}")
echo "median: wrk $mw req/s, hotpath bench --url $mh req/s, ratio $(awk -v a="$mh" -v b="$mw" 'BEGIN {printf "%.3f", a / b}')"
