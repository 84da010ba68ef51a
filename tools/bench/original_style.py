#!/usr/bin/python3
"""The original's serving pattern, reproduced from its description for reflex-bench.

A Python object whose predict() takes a threading lock around a forward pass of the same MLP
(in -> 64 -> 64 ReLU -> residual adapter 64x64 tanh -> 1 sigmoid), and whose heal() holds the
same lock for its whole duration (5 Adam steps on 100 rows), so inference stops while it heals.

Prints one JSON object on stdout:
  single_call_per_s, single_call_p50_us, single_call_p99_us   1-row predict() in a loop
  batch100_rows_per_s                                          predict() on 100-row batches
  heal_ms                                                      mean duration of one heal
  p99_without_heal_us, p99_with_heal_us, p999_with_heal_us, max_with_heal_us, p99_ratio
                                                               1-row predict() latency while a
                                                               second thread heals back to back
Exit 3 with {"skipped": reason} when torch is missing (reflex-bench then notes it and goes on).
Usage: original_style.py [--seconds S] [--inputs N] [--seed N]
"""
import argparse
import json
import sys
import threading
import time


def percentile(samples, q):
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, int(-(-q * len(ordered) // 1)))  # nearest rank
    return ordered[min(rank, len(ordered)) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each measurement")
    parser.add_argument("--inputs", type=int, default=10, help="input features")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.seconds <= 0 or args.inputs <= 0:
        print("original_style.py: --seconds and --inputs must be positive", file=sys.stderr)
        return 2
    try:
        import torch
        from torch import nn
    except ImportError as error:  # python3-torch not installed
        print(json.dumps({"skipped": "python3-torch is not available: %s" % error}))
        return 3

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)

    class Adapter(nn.Module):
        def __init__(self, width=64, hidden=64):
            super().__init__()
            self.inner = nn.Linear(width, hidden)
            self.outer = nn.Linear(hidden, width)
            self.scale = nn.Parameter(torch.tensor(0.1))

        def forward(self, x):
            return x + self.scale * self.outer(torch.tanh(self.inner(x)))

    class OriginalStyleModel:
        """predict() and heal() share one lock, as in the original."""

        def __init__(self, inputs):
            self.backbone = nn.Sequential(nn.Linear(inputs, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
            self.adapter = Adapter()
            self.head = nn.Linear(64, 1)
            self.lock = threading.Lock()
            self.optimizer = torch.optim.Adam(self.adapter.parameters(), lr=0.003)

        def _forward(self, x):
            return torch.sigmoid(self.head(self.adapter(self.backbone(x))))

        def predict(self, x):
            with self.lock:
                with torch.no_grad():
                    return self._forward(x)

        def heal(self, x, y, steps=5):
            with self.lock:  # held for the whole heal: predict() waits
                for _ in range(steps):
                    self.optimizer.zero_grad()
                    loss = nn.functional.binary_cross_entropy(self._forward(x), y)
                    loss.backward()
                    self.optimizer.step()

    model = OriginalStyleModel(args.inputs)
    one = torch.randn(1, args.inputs)
    hundred = torch.randn(100, args.inputs)
    heal_x = torch.randn(100, args.inputs)
    heal_y = (torch.rand(100, 1) < 0.2).float()

    def call_latencies(seconds):
        samples = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter_ns()
            model.predict(one)
            samples.append((time.perf_counter_ns() - t0) / 1000.0)
        return samples

    for _ in range(200):  # warm-up
        model.predict(one)
    single = call_latencies(args.seconds)

    batches = 0
    start = time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        model.predict(hundred)
        batches += 1
    batch_rate = batches * 100 / (time.perf_counter() - start)

    heals = 0
    start = time.perf_counter()
    while time.perf_counter() - start < min(args.seconds, 1.0):
        model.heal(heal_x, heal_y)
        heals += 1
    heal_ms = (time.perf_counter() - start) * 1000.0 / heals

    without = call_latencies(args.seconds)
    stop = threading.Event()

    def heal_loop():
        while not stop.is_set():
            model.heal(heal_x, heal_y)
            time.sleep(0.01)

    healer = threading.Thread(target=heal_loop)
    healer.start()
    try:
        during = call_latencies(args.seconds)
    finally:
        stop.set()
        healer.join()

    p99_without = percentile(without, 0.99)
    p99_with = percentile(during, 0.99)
    print(json.dumps({
        "single_call_per_s": len(single) / args.seconds,
        "single_call_p50_us": percentile(single, 0.50),
        "single_call_p99_us": percentile(single, 0.99),
        "batch100_rows_per_s": batch_rate,
        "heal_ms": heal_ms,
        "p99_without_heal_us": p99_without,
        "p99_with_heal_us": p99_with,
        "p999_with_heal_us": percentile(during, 0.999),
        "max_with_heal_us": max(during) if during else 0.0,
        "p99_ratio": p99_with / p99_without if p99_without > 0 else 0.0,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
