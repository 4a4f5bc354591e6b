"""Where inputs come from when those are not plain files: standard input (``--file -``) and FIFOs are
read as streams within the size limit; devices are refused (``sources/reading.py``). Outputs that are
not plain files are ``tests/test_writing.py``'s; SIGINT and a closed stdout are ``tests/test_cli.py``'s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from tests.processes import child_environment, run_in

HERE = Path(__file__).resolve().parent
GAAD = HERE / "corpus" / "gaad-valid.json"
ROOT = HERE.parents[1]


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("zeet-iam-audit: auditing ")]


# --- special files as input ----------------------------------------------------------------------


def test_standard_input_is_read_with_file_dash(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", "--file", "-", "--format", "json"],
        cwd=tmp_path,
        env=child_environment(tmp_path),
        input=GAAD.read_bytes(),
        capture_output=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["roles"][0]["name"] == "zeet"


def test_standard_input_is_held_to_the_size_limit(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", "--file", "-", "--max-input-mb", "1"],
        cwd=tmp_path,
        env=child_environment(tmp_path),
        input=b" " * (1024 * 1024 + 1),
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert _errors(result.stderr.decode()) == [
        "zeet-iam-audit: error: standard input: larger than the 1 MB limit for an input (raise it with --max-input-mb)"
    ]


def test_the_size_limit_can_be_raised(tmp_path: Path) -> None:
    padded = tmp_path / "padded.json"
    padded.write_bytes(GAAD.read_bytes() + b" " * (2 * 1024 * 1024))
    code, _, stderr = run_in(tmp_path, "--file", str(padded), "--max-input-mb", "1")
    assert code == 2
    assert "larger than the 1 MB limit for an input (raise it with --max-input-mb)" in stderr
    code, _, stderr = run_in(tmp_path, "--file", str(padded), "--max-input-mb", "3")
    assert code in (0, 1), stderr


def test_a_fifo_is_read_like_standard_input(tmp_path: Path) -> None:
    fifo = tmp_path / "input.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(GAAD.read_bytes()))
    writer.start()
    code, stdout, stderr = run_in(tmp_path, "--file", str(fifo), "--format", "json")
    writer.join(timeout=60)
    assert code in (0, 1), stderr
    assert json.loads(stdout)["roles"][0]["name"] == "zeet"


def test_a_device_that_never_ends_is_refused_in_one_line(tmp_path: Path) -> None:
    code, _, stderr = run_in(tmp_path, "--file", "/dev/zero")
    assert code == 2
    assert _errors(stderr) == [
        "zeet-iam-audit: error: /dev/zero: is a device, not a file (it may never end); "
        "save the input to a file or pipe it in with --file -"
    ]


def test_the_programs_own_stdout_is_not_an_input(tmp_path: Path) -> None:
    """``--file /dev/stdout`` with stdout a pipe would wait for itself for ever."""
    result = subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", "--file", "/dev/stdout"],
        cwd=tmp_path,
        env=child_environment(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert _errors(result.stderr.decode()) == [
        "zeet-iam-audit: error: /dev/stdout: is this program's own output, not an input"
    ]
