"""Prints the GPU benchmark table (markdown) from gpu-check's JSON files in DIR."""
import json
import os
import sys

d = sys.argv[1]


def load(name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)


def rows_of(j):
    if j is None:
        return {}
    rs = j.get("results", [j])
    return {r["batch"]: r for r in rs}


runs = []
for label, f in (("TensorRT FP32 (strict), CUDA graphs", "trt-minilm-fp32.json"),
                 ("TensorRT FP16, CUDA graphs", "trt-minilm-fp16.json"),
                 ("TensorRT INT8 (entropy calib.) + FP16, CUDA graphs", "trt-minilm-int8.json"),
                 ("TensorRT FP16, no graphs", "trt-minilm-fp16-nographs.json")):
    runs.append((label, rows_of(load(f))))
pt = load("pytorch.json")
ptrows = {}
if pt:
    for r in pt["results"]:
        ptrows.setdefault(r["precision"], {})[r["batch"]] = r
runs.append(("PyTorch eager FP32", ptrows.get("fp32", {})))
runs.append(("PyTorch eager FP16", ptrows.get("fp16", {})))

env = {}
for label, rows in runs:
    for r in rows.values():
        for k in ("gpu", "tensorrt_version", "cuda_runtime", "cuda_driver", "compute_capability"):
            if k in r:
                env[k] = r[k]
print("## minilm (all-MiniLM-L6-v2), seq 128: TensorRT vs PyTorch eager, same GPU, same run")
print()
print("GPU %s (%s), driver CUDA %s, CUDA runtime %s, TensorRT %s%s" % (
    env.get("gpu", "?"), env.get("compute_capability", "?"), env.get("cuda_driver", "?"), env.get("cuda_runtime", "?"),
    env.get("tensorrt_version", "?"), (", torch %s (CUDA %s)" % (pt["torch"], pt["cuda"])) if pt else ""))
print()
print("| engine | b1 p50 us | b1 p99 us | b8 p50 us | b8 seq/s | b64 p50 us | b64 seq/s |")
print("|---|---:|---:|---:|---:|---:|---:|")


def cell(rows, b, k, fmt):
    r = rows.get(b)
    return fmt % r[k] if r and k in r else "-"


for label, rows in runs:
    print("| %s | %s | %s | %s | %s | %s | %s |" % (label, cell(rows, 1, "p50_us", "%.0f"), cell(rows, 1, "p99_us", "%.0f"),
                                                    cell(rows, 8, "p50_us", "%.0f"), cell(rows, 8, "throughput_per_s", "%.0f"),
                                                    cell(rows, 64, "p50_us", "%.0f"), cell(rows, 64, "throughput_per_s", "%.0f")))


def get(rows, b, k):
    r = rows.get(b)
    return r.get(k) if r else None


fp32, fp16, int8 = runs[0][1], runs[1][1], runs[2][1]
ptfp16 = runs[5][1]
print()
checks = [
    ("TensorRT FP16 / FP32 throughput at batch 64 (target >= 2)", get(fp16, 64, "throughput_per_s"), get(fp32, 64, "throughput_per_s"), 2.0, True),
    ("TensorRT INT8 / FP16 throughput at batch 64 (target >= 1.3)", get(int8, 64, "throughput_per_s"), get(fp16, 64, "throughput_per_s"), 1.3, True),
    ("TensorRT FP16 / PyTorch eager FP16 batch-1 p50 latency (target <= 0.333)", get(fp16, 1, "p50_us"), get(ptfp16, 1, "p50_us"), 1 / 3, False),
]
for name, a, b, target, higher in checks:
    if a is None or b is None:
        print("- %s: not measured" % name)
    else:
        ratio = a / b
        ok = ratio >= target if higher else ratio <= target
        print("- %s: %.2f (%s)" % (name, ratio, "met" if ok else "NOT met"))
smoke = rows_of(load("smoke-mlp.json"))
if smoke:
    print("- mlp TensorRT FP16 smoke: " + ", ".join("b%d p50 %.1f us" % (b, r["p50_us"]) for b, r in sorted(smoke.items())))
