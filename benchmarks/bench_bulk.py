"""Bulk audit and cold start: wall time and peak memory of the real CLI, median of several runs.

    .venv/bin/python benchmarks/bench_bulk.py                 # 500, 2,000 and 8,000 roles, 3 runs each
    .venv/bin/python benchmarks/bench_bulk.py --roles 2000 --runs 5

Each run is a fresh process, timed around ``subprocess.run`` and measured with ``/usr/bin/time -f
%M`` (peak resident memory) when that exists:

- bulk: ``zeet-iam-audit --file GAAD --all-roles --format json --output OUT`` on a synthetic
  authorization-details file made by ``make_gaad.py`` (same seed every time);
- cold start: a one-role ``--file`` audit with table output on ``fixtures/role/get-role-with-policies.json``.

cloudsplaining runs on the same files when its command is found, side by side; install it in a
separate environment (it pins old dependencies), e.g.
``python3 -m venv /tmp/cs && /tmp/cs/bin/pip install cloudsplaining==0.9.1`` and pass
``--cloudsplaining /tmp/cs/bin/cloudsplaining`` (or set ``CLOUDSPLAINING``). Without it that column
is skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from make_gaad import make_gaad  # noqa: E402


def _measure(command: list[str], runs: int) -> tuple[float, float | None]:
    """Median wall seconds and median peak RSS in MB over ``runs`` runs."""
    walls: list[float] = []
    peaks: list[float] = []
    timer = shutil.which("time", path="/usr/bin")
    for _ in range(runs):
        with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
            wrapped = [timer, "-f", "%M", "-o", report.name, *command] if timer else command
            begin = time.perf_counter()
            result = subprocess.run(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            walls.append(time.perf_counter() - begin)
            if result.returncode not in (0, 1):
                raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
            text = report.read().strip().splitlines()
            if timer and text:
                peaks.append(int(text[-1]) / 1024)
    return statistics.median(walls), statistics.median(peaks) if peaks else None


def _loop() -> float:
    begin = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    return time.perf_counter() - begin


def _calibration() -> tuple[float, float | None]:
    """Seconds for a fixed pure-Python loop (best of three) in one process, and in each of two at
    once: the machine's speed at the time, and whether its second core is free (about the same
    figure twice) or busy with other work (the second one larger)."""
    alone = min(_loop() for _ in range(3))
    if not hasattr(os, "fork"):
        return alone, None
    pair = float("inf")
    for _ in range(3):
        child = os.fork()
        if child == 0:
            _loop()
            os._exit(0)
        mine = _loop()
        os.waitpid(child, 0)
        pair = min(pair, mine)
    return alone, pair


def _row(label: str, wall: float, peak: float | None) -> str:
    memory = f"{peak:,.0f} MB" if peak is not None else "n/a"
    return f"| {label} | {wall:.2f} s | {memory} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, action="append", help="role counts (default 500, 2000, 8000)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cloudsplaining", default=os.environ.get("CLOUDSPLAINING"))
    args = parser.parse_args()
    counts = args.roles or [500, 2000, 8000]
    cli = [sys.executable, "-m", "zeet_iam_audit"]
    # Compiled bytecode, as `pip install .` leaves it: an editable install run with
    # PYTHONDONTWRITEBYTECODE set would otherwise compile every module on every start.
    import zeet_iam_audit

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(zeet_iam_audit.__file__).parent)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    alone, pair = _calibration()
    paired = f", {pair:.2f} s with another beside it" if pair is not None else ""
    print(f"calibration: 10M-iteration Python loop in {alone:.2f} s{paired}")
    print("| run | wall (median) | peak memory (median) |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        wall, peak = _measure(
            [
                *cli,
                "--file",
                str(ROOT / "fixtures/role/get-role-with-policies.json"),
                "--zeet-account-id",
                "111122223333",
                "--output",
                str(work / "one.txt"),
            ],
            args.runs,
        )
        print(_row("cold start: one role, table", wall, peak), flush=True)
        for count in counts:
            gaad = work / f"gaad-{count}.json"
            gaad.write_text(json.dumps(make_gaad(count), separators=(",", ":")))
            wall, peak = _measure(
                [
                    *cli,
                    "--file",
                    str(gaad),
                    "--all-roles",
                    "--format",
                    "json",
                    "--zeet-account-id",
                    "111122223333",
                    "--output",
                    str(work / "out.json"),
                ],
                args.runs,
            )
            print(_row(f"zeet-iam-audit, {count:,} roles ({gaad.stat().st_size / 1e6:.1f} MB)", wall, peak), flush=True)
            if args.cloudsplaining:
                out = work / f"cs-{count}"
                out.mkdir()  # cloudsplaining wants its output directory to exist
                wall, peak = _measure(
                    [
                        args.cloudsplaining,
                        "scan",
                        "--input-file",
                        str(gaad),
                        "--output",
                        str(out),
                        "--skip-open-report",
                    ],
                    1,
                )
                print(_row(f"cloudsplaining, {count:,} roles", wall, peak), flush=True)
    if not args.cloudsplaining:
        print("\ncloudsplaining not run: pass --cloudsplaining PATH or set CLOUDSPLAINING", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
