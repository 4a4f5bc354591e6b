"""Two source trees of zeet-iam-audit on the same file, run alternately: medians of wall and CPU time.

    git worktree add /tmp/before <commit>
    .venv/bin/python benchmarks/bench_pair.py /tmp/before . --roles 2000 --pairs 6

The machine's speed drifts from minute to minute (see README.md); runs of the two trees taken in
turn meet the same drift, so their medians compare where figures from different moments do not.
Each tree runs as ``python -m zeet_iam_audit`` from its own directory (so its own package is
imported), with its bytecode compiled first; the reports of the two must be byte-identical.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_gaad import make_gaad  # noqa: E402


def _run(tree: Path, command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its workers) of one run from ``tree``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begin = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", *command],
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - begin
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{tree}: exit {result.returncode}: {result.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs=2, type=Path, help="the two source trees (repository roots)")
    parser.add_argument("--roles", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--all-zeet", action="store_true", help="every role trusts Zeet (all are audited)")
    parser.add_argument(
        "--args",
        nargs=2,
        metavar=("FIRST", "SECOND"),
        default=("", ""),
        help="extra options for each tree's runs, e.g. --args '--jobs 1' '--jobs 2' (the "
        "same tree twice compares two ways of running it)",
    )
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.trees]
    for tree in trees:
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(tree / "zeet_iam_audit")],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        gaad = work / "gaad.json"
        gaad.write_text(json.dumps(make_gaad(args.roles, all_zeet=args.all_zeet), separators=(",", ":")))
        outputs = [work / "first.json", work / "second.json"]
        figures: list[list[tuple[float, float]]] = [[], []]
        for _ in range(args.pairs):
            for at, tree in enumerate(trees):
                figures[at].append(
                    _run(
                        tree,
                        [
                            "--file",
                            str(gaad),
                            "--all-roles",
                            "--format",
                            "json",
                            "--zeet-account-id",
                            "111122223333",
                            "--output",
                            str(outputs[at]),
                            "--fail-on",
                            "never",
                            *args.args[at].split(),
                        ],
                    )
                )
        same = filecmp.cmp(outputs[0], outputs[1], shallow=False)
    print(f"{args.roles:,} roles, {args.pairs} alternating runs each; reports identical: {same}")
    for tree, extra, runs in zip(trees, args.args, figures, strict=True):
        walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
        label = f"{tree} {extra}".strip()
        print(
            f"{label}: wall median {statistics.median(walls):.2f} s (range {min(walls):.2f}-{max(walls):.2f}), "
            f"CPU median {statistics.median(cpus):.2f} s"
        )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
