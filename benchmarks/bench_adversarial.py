"""The adversarial batch's time: hostile wildcards, glob intersections and policy variables through the
matcher and ``evaluate`` (the batch of ``tests/test_adversarial.py``), with cold pattern caches.

The batch took a few tens of milliseconds on a CI runner; the quadratic scans it guards against took
over a second for single patterns of it. The target is under one second; the tests assert its answers,
never its time.

    .venv/bin/python benchmarks/bench_adversarial.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zeet_iam_audit.policy import match

ROOT = Path(__file__).resolve().parent.parent


def _batch() -> Callable[[], list[Any]]:
    spec = importlib.util.spec_from_file_location("test_adversarial", ROOT / "tests" / "test_adversarial.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    batch: Callable[[], list[Any]] = module._adversarial_batch
    return batch


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    batch = _batch()
    batch()  # warm the imports
    times = []
    for _ in range(args.rounds):
        match.compile_pattern.cache_clear()
        match._glob_masks.cache_clear()
        match._segment_masks.cache_clear()
        started = time.perf_counter()
        batch()
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"adversarial batch: median {median * 1000:.1f} ms, max {max(times) * 1000:.1f} ms over {args.rounds} rounds")
    return 0 if median < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
