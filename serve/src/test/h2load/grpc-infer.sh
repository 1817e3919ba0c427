#!/usr/bin/env bash
# h2load over hotpath serve's gRPC ModelInfer: builds one length-prefixed gRPC message (a
# ModelInferRequest of one row of 64 FP32 values in raw_input_contents, for the built-in mlp),
# encoded by proto-loader's protobufjs from the server's own grpc_service.proto, and has h2load
# send it N times over C connections with M streams each. Prints h2load's summary.
#
#   grpc-infer.sh HOST:PORT [N=2000] [C=4] [M=8] [MODEL=mlp]
#
# h2load counts HTTP 200s: a gRPC error travels in the trailers of a 200, so "succeeded" says the
# calls were answered, not that they worked; compare the model's statistics (NodeConformanceTest does).
# Needs node, serve/src/test/node/node_modules (npm ci there) and h2load (Debian's nghttp2-client).
set -euo pipefail
target=${1:?usage: grpc-infer.sh HOST:PORT [N] [C] [M] [MODEL]}
n=${2:-2000}
c=${3:-4}
m=${4:-8}
model=${5:-mlp}
node_dir="$(cd "$(dirname "$0")/../node" && pwd)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$node_dir" && node -e '
  const loader = require("@grpc/proto-loader");
  const [model, features] = [process.argv[1], Number(process.argv[2])];
  const def = loader.loadSync("grpc_service.proto", { includeDirs: ["../../main/proto"], keepCase: true });
  const raw = Buffer.alloc(features * 4);
  for (let i = 0; i < features; i++) raw.writeFloatLE(((i % 16) - 8) / 8, i * 4);
  const message = def["inference.GRPCInferenceService"].ModelInfer.requestSerialize({
    model_name: model,
    inputs: [{ name: "features", datatype: "FP32", shape: [1, features] }],
    raw_input_contents: [raw],
  });
  const prefix = Buffer.alloc(5);                  // gRPC framing: 0 (not compressed), then the length, 4 bytes big-endian
  prefix.writeUInt32BE(message.length, 1);
  process.stdout.write(Buffer.concat([prefix, message]));
' "$model" 64 ) > "$work/body.bin"
echo "== h2load: $n gRPC ModelInfer calls ($(wc -c < "$work/body.bin")-byte message, model $model) over $c connections x $m streams to $target"
h2load -n "$n" -c "$c" -m "$m" \
  -H 'content-type: application/grpc' -H 'te: trailers' \
  -d "$work/body.bin" "http://$target/inference.GRPCInferenceService/ModelInfer" | tee "$work/h2load.out"
if ! grep -q "requests: $n total, $n started, $n done, $n succeeded, 0 failed, 0 errored" "$work/h2load.out"; then
  echo "== not every call was answered with HTTP 200 (see the requests line above)"
  exit 1
fi
