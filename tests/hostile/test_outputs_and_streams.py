"""Where reports go and where inputs come from, when those are not plain files or the run is cut short.

Outputs (``zeet_iam_audit/writing.py``): a device, a FIFO or a link is written through, never
replaced; an output that is the input, or that another option names by another spelling, is refused
before anything is written; an existing report keeps its mode; several outputs are all replaced or
all left, and no temporary file survives an interrupt. Inputs (``sources/reading.py``): standard
input (``--file -``) and FIFOs are read as streams within the size limit; devices are refused. The
process: SIGINT ends with 130 and "interrupted", a closed stdout ends quietly.
"""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from zeet_iam_audit.cli import main

HERE = Path(__file__).resolve().parent
GAAD = HERE / "corpus" / "gaad-valid.json"
ROOT = HERE.parents[1]


def _environment(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
    }


def _cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        code = main(list(args), stdout=stdout, stderr=stderr)
    finally:
        os.chdir(previous)
    return code, stdout.getvalue(), stderr.getvalue()


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("zeet-iam-audit: auditing ")]


# --- output targets ------------------------------------------------------------------------------


def test_a_character_device_is_written_through_not_replaced(tmp_path: Path) -> None:
    """Through a link to /dev/null (named directly, a regression run as root would replace the
    machine's /dev/null; through a link it would only replace the link)."""
    link = tmp_path / "null-link"
    link.symlink_to(os.devnull)
    second = tmp_path / "second-null-link"
    second.symlink_to(os.devnull)
    code, _, stderr = _cli("--file", str(GAAD), "--output", str(second), "--json", str(link), cwd=tmp_path)
    assert code in (0, 1), stderr
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert link.is_symlink()
    assert os.readlink(link) == os.devnull
    assert second.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null-link", "second-null-link"]


def test_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    code, _, stderr = _cli("--file", str(GAAD), "--format", "json", "--output", str(fifo), cwd=tmp_path)
    reader.join(timeout=60)
    assert code in (0, 1), stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0])["roles"][0]["name"] == "zeet"


def test_a_symlink_stays_a_link_and_its_target_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    code, _, stderr = _cli("--file", str(GAAD), "--json", str(link), cwd=tmp_path)
    assert code in (0, 1), stderr
    assert link.is_symlink()
    assert json.loads(target.read_text(encoding="utf-8"))["roles"][0]["name"] == "zeet"


def test_the_input_is_never_an_output(tmp_path: Path) -> None:
    copy = tmp_path / "input.json"
    copy.write_bytes(GAAD.read_bytes())
    (tmp_path / "sub").mkdir()
    code, stdout, stderr = _cli("--file", str(copy), "--json", "sub/../input.json", cwd=tmp_path)
    assert code == 2
    assert _errors(stderr) == [
        f"zeet-iam-audit: error: --json sub/../input.json: is the input {copy}; write the report elsewhere"
    ]
    assert copy.read_bytes() == GAAD.read_bytes()
    assert stdout == ""


def test_two_spellings_of_one_output_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    code, _, stderr = _cli("--file", str(GAAD), "--json", "r.json", "--sarif", "sub/../r.json", cwd=tmp_path)
    assert code == 2
    assert "--sarif sub/../r.json and --json r.json name the same file" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]


def test_a_hard_link_to_another_output_is_the_same_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("old\n", encoding="utf-8")
    os.link(tmp_path / "a.json", tmp_path / "b.md")
    code, _, stderr = _cli("--file", str(GAAD), "--json", "a.json", "--markdown", "b.md", cwd=tmp_path)
    assert code == 2
    assert "name the same file" in stderr
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == "old\n"


def test_an_existing_report_keeps_its_mode(tmp_path: Path) -> None:
    report = tmp_path / "private.json"
    report.write_text("old\n", encoding="utf-8")
    report.chmod(0o600)
    code, _, stderr = _cli("--file", str(GAAD), "--json", str(report), cwd=tmp_path)
    assert code in (0, 1), stderr
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert json.loads(report.read_text(encoding="utf-8"))["roles"]


# --- interrupted writes --------------------------------------------------------------------------


def test_an_interrupt_while_writing_leaves_every_old_output_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zeet_iam_audit import writing
    from zeet_iam_audit.writing import Target, write_outputs

    names = ["a.json", "b.sarif", "c.md", "d.txt"]
    for name in names:
        (tmp_path / name).write_text(f"old {name}\n", encoding="utf-8")
    calls = []
    real = writing.write_text

    def interrupted(handle: io.TextIOBase, text: str) -> None:
        calls.append(text)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the third temporary file is being written
        real(handle, text)  # type: ignore[arg-type]

    monkeypatch.setattr(writing, "write_text", interrupted)
    targets = [Target(f"new {name}\n", tmp_path / name) for name in names]
    with pytest.raises(KeyboardInterrupt):
        write_outputs(targets, io.StringIO())
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    assert [(tmp_path / name).read_text(encoding="utf-8") for name in names] == [f"old {n}\n" for n in names]


def test_a_failing_output_leaves_the_others_as_they_were(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("old\n", encoding="utf-8")
    code, _, stderr = _cli("--file", str(GAAD), "--json", "a.json", "--sarif", "missing/b.sarif", cwd=tmp_path)
    assert code == 2
    assert _errors(stderr)[0].startswith("zeet-iam-audit: error: missing/b.sarif: cannot write the report (")
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_sigterm_while_writing_removes_the_temporaries(tmp_path: Path) -> None:
    """The real program, stopped by SIGTERM while its outputs are written (a FIFO nobody reads
    holds it there): the other output's temporary file goes, the old file stays."""
    (tmp_path / "a.json").write_text("old\n", encoding="utf-8")
    os.mkfifo(tmp_path / "stuck.fifo")
    process = subprocess.Popen(
        [sys.executable, "-m", "zeet_iam_audit", "--file", str(GAAD), "--json", "a.json", "--markdown", "stuck.fifo"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Wait until the temporary of a.json exists: the program is then blocked opening the FIFO.
    while not [p for p in tmp_path.iterdir() if p.name.startswith(".a.json.")]:
        assert process.poll() is None, process.communicate()
        threading.Event().wait(0.02)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.decode().splitlines()[-1] == "zeet-iam-audit: interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "stuck.fifo"]
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == "old\n"
    assert stdout == b""


def test_sigint_exits_130_with_interrupted_and_no_output(tmp_path: Path) -> None:
    """SIGINT while the input is still being read (standard input left open)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "zeet_iam_audit", "--file", "-", "--format", "json", "--output", "r.json"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stderr is not None
    process.stdin.write(GAAD.read_bytes()[:100])
    process.stdin.flush()
    assert process.stderr.readline() == b"zeet-iam-audit: auditing standard input\n"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.decode().strip() == "zeet-iam-audit: interrupted"
    assert stdout == b""
    assert list(tmp_path.iterdir()) == []


def test_a_closed_stdout_ends_quietly(tmp_path: Path) -> None:
    """``zeet-iam-audit --all-roles --format json | head -c 100``: the reader goes away early."""
    big = tmp_path / "big.json"
    data = json.loads(GAAD.read_text(encoding="utf-8"))
    role = data["RoleDetailList"][0]
    data["RoleDetailList"] = [{**role, "RoleName": f"zeet-{i}", "Arn": f"{role['Arn']}-{i}"} for i in range(300)]
    big.write_text(json.dumps(data), encoding="utf-8")
    read, write = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-m", "zeet_iam_audit", "--file", str(big), "--all-roles", "--format", "json", "--jobs", "1"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdout=write,
        stderr=subprocess.PIPE,
    )
    os.close(write)
    assert len(os.read(read, 100)) == 100
    os.close(read)
    _, stderr = process.communicate(timeout=120)
    assert "BrokenPipe" not in stderr.decode()
    assert "internal error" not in stderr.decode()
    assert process.returncode == 141


# --- special files as input ----------------------------------------------------------------------


def test_standard_input_is_read_with_file_dash(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", "--file", "-", "--format", "json"],
        cwd=tmp_path,
        env=_environment(tmp_path),
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
        env=_environment(tmp_path),
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
    code, _, stderr = _cli("--file", str(padded), "--max-input-mb", "1", cwd=tmp_path)
    assert code == 2
    assert "larger than the 1 MB limit for an input (raise it with --max-input-mb)" in stderr
    code, _, stderr = _cli("--file", str(padded), "--max-input-mb", "3", cwd=tmp_path)
    assert code in (0, 1), stderr


def test_a_fifo_is_read_like_standard_input(tmp_path: Path) -> None:
    fifo = tmp_path / "input.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(GAAD.read_bytes()))
    writer.start()
    code, stdout, stderr = _cli("--file", str(fifo), "--format", "json", cwd=tmp_path)
    writer.join(timeout=60)
    assert code in (0, 1), stderr
    assert json.loads(stdout)["roles"][0]["name"] == "zeet"


def test_a_device_that_never_ends_is_refused_in_one_line(tmp_path: Path) -> None:
    code, _, stderr = _cli("--file", "/dev/zero", cwd=tmp_path)
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
        env=_environment(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert _errors(result.stderr.decode()) == [
        "zeet-iam-audit: error: /dev/stdout: is this program's own output, not an input"
    ]


@pytest.mark.parametrize(
    ("command", "reads"),
    [
        (["explain", "s3:GetObject", "--file", "{input}"], "gaad"),
        (["diff", "{input}", str(GAAD)], "gaad"),
        (["diagnose", "--log", "{input}"], "log"),
    ],
    ids=["explain", "diff", "diagnose"],
)
def test_a_subcommand_never_writes_over_what_it_reads(tmp_path: Path, command: list[str], reads: str) -> None:
    source = tmp_path / "input.txt"
    if reads == "gaad":
        source.write_bytes(GAAD.read_bytes())
    else:
        source.write_text(
            "User: arn:aws:sts::111122223333:assumed-role/zeet/x is not authorized to perform: s3:GetObject\n"
        )
    before = source.read_bytes()
    spelled = "sub/../input.txt"
    (tmp_path / "sub").mkdir()
    code, stdout, stderr = _cli(
        *[part.replace("{input}", "input.txt") for part in command], "--output", spelled, cwd=tmp_path
    )
    assert code == 2
    assert stdout == ""
    assert _errors(stderr) == [
        f"zeet-iam-audit: error: --output {spelled}: is the input input.txt; write the report elsewhere"
    ]
    assert source.read_bytes() == before
