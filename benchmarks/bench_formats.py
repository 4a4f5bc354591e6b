"""Text formats beside JSON: wall time and peak memory of the real CLI per output format.

    .venv/bin/python benchmarks/bench_formats.py                      # 2,000 and 400 roles, 3 rounds
    .venv/bin/python benchmarks/bench_formats.py --roles 2000 --rounds 5 --formats json table

Each round runs every format once, in turn, on the same synthetic authorization-details file
(``make_gaad.py``, same seed), so a busier minute of the shared machine weighs on every format alike;
the figures are the medians over the rounds (wall seconds, peak RSS from ``/usr/bin/time -f %M``), and
the ratio to JSON's median. Command per run:
``zeet-iam-audit --file GAAD --all-roles --zeet-account-id 111122223333 --format F --output OUT``.
"""

from __future__ import annotations

import argparse
import json
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

FORMATS = ("json", "table", "markdown", "sarif", "github")


def _run(command: list[str]) -> tuple[float, float | None]:
    """Wall seconds and peak RSS in MB of one run."""
    timer = shutil.which("time", path="/usr/bin")
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        wrapped = [timer, "-f", "%M", "-o", report.name, *command] if timer else command
        begin = time.perf_counter()
        result = subprocess.run(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        wall = time.perf_counter() - begin
        if result.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
        lines = report.read().strip().splitlines()
    return wall, (int(lines[-1]) / 1024 if timer and lines else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roles", type=int, nargs="+", default=[2000, 400])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "zeet_iam_audit")], check=True)
    with tempfile.TemporaryDirectory() as folder:
        for count in args.roles:
            gaad = Path(folder) / f"gaad-{count}.json"
            gaad.write_text(json.dumps(make_gaad(count)), encoding="utf-8")
            walls: dict[str, list[float]] = {name: [] for name in args.formats}
            peaks: dict[str, list[float]] = {name: [] for name in args.formats}
            for _ in range(args.rounds):
                for name in args.formats:
                    wall, peak = _run(
                        [
                            sys.executable,
                            "-m",
                            "zeet_iam_audit",
                            "--file",
                            str(gaad),
                            "--all-roles",
                            "--zeet-account-id",
                            "111122223333",
                            "--format",
                            name,
                            "--output",
                            str(Path(folder) / f"out.{name}"),
                        ]
                    )
                    walls[name].append(wall)
                    if peak is not None:
                        peaks[name].append(peak)
            base = statistics.median(walls["json"]) if "json" in walls else None
            print(f"{count} roles, median of {args.rounds} rounds:")
            for name in args.formats:
                wall = statistics.median(walls[name])
                peak = f"{statistics.median(peaks[name]):.0f} MB" if peaks[name] else "-"
                ratio = f"{wall / base:.2f}x JSON" if base else ""
                print(f"  {name:<9} {wall:6.2f} s  {peak:>7}  {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
