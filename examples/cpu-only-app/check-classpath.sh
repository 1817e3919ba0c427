#!/usr/bin/env bash
# The runtime classpath of a CPU-only application (this folder's pom.xml), for each Hotpath
# artifact an application might depend on: jar count and size, and a failure when a CUDA, TensorRT
# or model jar is on it. Needs the artifacts in the local repository: run `./mvnw install
# -DskipTests` first (CI does). Usage: examples/cpu-only-app/check-classpath.sh [ARTIFACT...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/.mvn/find-jdk.sh"
artifacts=("$@")
[ ${#artifacts[@]} -gt 0 ] || artifacts=(hotpath-engine-cpu hotpath-embed)
status=0
for a in "${artifacts[@]}"; do
  out=$(mktemp)
  "$root/mvnw" -q -B -f "$here/pom.xml" -Dhotpath.artifact="$a" dependency:build-classpath \
      -Dmdep.outputFile="$out" -Dmdep.includeScope=runtime >/dev/null
  tr ':' '\n' < "$out" | grep -v '^$' > "$out.list"
  jars=$(wc -l < "$out.list")
  mib=$(xargs -a "$out.list" stat -c %s | awk '{s+=$1} END {printf "%.1f", s / 1048576}')
  hotpath=$(grep -c '/io/hotpath/' "$out.list" || true)
  printf '%-22s %3d jars, %6s MiB (%d Hotpath jars)\n' "$a" "$jars" "$mib" "$hotpath"
  if grep -E '/org/bytedeco/(cuda|tensorrt)/|/hotpath-native-bindings-gpu/|/hotpath-models/|/dev/langchain4j/|/io/lettuce/|/hotpath-cache-redis/' "$out.list"; then
    echo "  ^ a CPU-only application with $a must not carry these" >&2
    status=1
  fi
  rm -f "$out" "$out.list"
done
exit $status
