"""Same-run PyTorch baseline for Hotpath's TensorRT benchmark of MiniLM.

A transformers BertModel with all-MiniLM-L6-v2's configuration (6 layers, hidden 384, 12 heads,
intermediate 1536, vocabulary 30522) and random weights: the speed of the architecture, not of the
trained weights. PyTorch eager (no torch.compile, no CUDA graphs), FP32 with TF32 matmuls off
(PyTorch's default) and FP16. Each timed step does what Hotpath's engine does per run: copy the
int64 inputs from pinned host memory to the GPU, run the model, copy last_hidden_state back to the
host (which synchronizes). Latency from time.perf_counter around each step; median and p99 of
--iterations steps after --warmup steps.
"""
import argparse
import json
import statistics
import time

import torch
from transformers import BertConfig, BertModel


def percentile(xs, q):
    s = sorted(xs)
    k = min(len(s) - 1, max(0, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", default="1,8,64")
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--json", required=True)
    a = ap.parse_args()
    batches = [int(b) for b in a.batch.split(",")]
    cfg = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                     intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2)
    torch.manual_seed(0)
    base = BertModel(cfg, add_pooling_layer=False).eval()
    dev = torch.device("cuda")
    results = []
    for dtype, label in ((torch.float32, "fp32"), (torch.float16, "fp16")):
        model = BertModel(cfg, add_pooling_layer=False).eval()
        model.load_state_dict(base.state_dict())
        model = model.to(device=dev, dtype=dtype)
        for b in batches:
            g = torch.Generator().manual_seed(b)
            ids = torch.randint(0, 30522, (b, a.seq), generator=g, dtype=torch.int64).pin_memory()
            mask = torch.ones((b, a.seq), dtype=torch.int64).pin_memory()
            types = torch.zeros((b, a.seq), dtype=torch.int64).pin_memory()
            times = []
            with torch.inference_mode():
                for i in range(a.warmup + a.iterations):
                    t0 = time.perf_counter()
                    out = model(input_ids=ids.to(dev, non_blocking=True), attention_mask=mask.to(dev, non_blocking=True),
                                token_type_ids=types.to(dev, non_blocking=True)).last_hidden_state
                    host = out.to("cpu")
                    t1 = time.perf_counter()
                    if i >= a.warmup:
                        times.append((t1 - t0) * 1e6)
            assert torch.isfinite(host.float()).all()
            mean = statistics.fmean(times)
            r = {"engine": "pytorch-eager", "precision": label, "batch": b, "seq": a.seq,
                 "p50_us": percentile(times, 50), "p99_us": percentile(times, 99), "mean_us": mean,
                 "throughput_per_s": b * 1e6 / mean, "iterations": a.iterations,
                 "attn_implementation": getattr(model.config, "_attn_implementation", "?")}
            print(json.dumps(r), flush=True)
            results.append(r)
        del model
        torch.cuda.empty_cache()
    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "gpu": torch.cuda.get_device_name(0),
            "results": results}
    with open(a.json, "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()
