"""Writing reports (``zeet_iam_audit/writing.py``): a text or its pieces; all files or none, never over
the input, never replacing what is not a regular file.

A device, a FIFO or a link is written through, never replaced; an output that is the input, or that
another option names by another spelling, is refused before anything is written; an existing report
keeps its mode; several outputs are all replaced or all left, and no temporary file survives an
interrupt. Most cases run the CLI in process (the way a user meets them); ``check_targets`` and
``write_outputs`` are also called directly.
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

from tests.processes import child_environment, run_in
from zeet_iam_audit import writing
from zeet_iam_audit.errors import UsageError, ZeetIamAuditError
from zeet_iam_audit.writing import Target, check_targets, write_outputs, write_text

ROOT = Path(__file__).resolve().parent.parent
GAAD = ROOT / "tests" / "hostile" / "corpus" / "gaad-valid.json"


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
    code, _, stderr = run_in(tmp_path, "--file", str(GAAD), "--output", str(second), "--json", str(link))
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
    code, _, stderr = run_in(tmp_path, "--file", str(GAAD), "--format", "json", "--output", str(fifo))
    reader.join(timeout=60)
    assert code in (0, 1), stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0])["roles"][0]["name"] == "zeet"


def test_a_symlink_stays_a_link_and_its_target_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    code, _, stderr = run_in(tmp_path, "--file", str(GAAD), "--json", str(link))
    assert code in (0, 1), stderr
    assert link.is_symlink()
    assert json.loads(target.read_text(encoding="utf-8"))["roles"][0]["name"] == "zeet"


def test_the_input_is_never_an_output(tmp_path: Path) -> None:
    copy = tmp_path / "input.json"
    copy.write_bytes(GAAD.read_bytes())
    (tmp_path / "sub").mkdir()
    code, stdout, stderr = run_in(tmp_path, "--file", str(copy), "--json", "sub/../input.json")
    assert code == 2
    assert _errors(stderr) == [
        f"zeet-iam-audit: error: --json sub/../input.json: is the input {copy}; write the report elsewhere"
    ]
    assert copy.read_bytes() == GAAD.read_bytes()
    assert stdout == ""


def test_two_spellings_of_one_output_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    code, _, stderr = run_in(tmp_path, "--file", str(GAAD), "--json", "r.json", "--sarif", "sub/../r.json")
    assert code == 2
    assert "--sarif sub/../r.json and --json r.json name the same file" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]


def test_a_hard_link_to_another_output_is_the_same_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("old\n", encoding="utf-8")
    os.link(tmp_path / "a.json", tmp_path / "b.md")
    code, _, stderr = run_in(tmp_path, "--file", str(GAAD), "--json", "a.json", "--markdown", "b.md")
    assert code == 2
    assert "name the same file" in stderr
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == "old\n"


def test_an_existing_report_keeps_its_mode(tmp_path: Path) -> None:
    report = tmp_path / "private.json"
    report.write_text("old\n", encoding="utf-8")
    report.chmod(0o600)
    code, _, stderr = run_in(tmp_path, "--file", str(GAAD), "--json", str(report))
    assert code in (0, 1), stderr
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert json.loads(report.read_text(encoding="utf-8"))["roles"]


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
    code, stdout, stderr = run_in(
        tmp_path, *[part.replace("{input}", "input.txt") for part in command], "--output", spelled
    )
    assert code == 2
    assert stdout == ""
    assert _errors(stderr) == [
        f"zeet-iam-audit: error: --output {spelled}: is the input input.txt; write the report elsewhere"
    ]
    assert source.read_bytes() == before


# --- interrupted writes --------------------------------------------------------------------------


def test_an_interrupt_while_writing_leaves_every_old_output_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    code, _, stderr = run_in(tmp_path, "--file", str(GAAD), "--json", "a.json", "--sarif", "missing/b.sarif")
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
        env=child_environment(tmp_path),
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


# --- check_targets and write_outputs called directly ---------------------------------------------


@pytest.mark.parametrize(
    "second",
    [
        pytest.param("sub/../r.json", id="parent spelling"),
        pytest.param("link.json", id="symlink to it"),
        pytest.param("hard.json", id="hard link to it"),
    ],
)
def test_one_file_named_twice_is_refused(tmp_path: Path, second: str) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "r.json").write_text("old\n", encoding="utf-8")
    (tmp_path / "link.json").symlink_to("r.json")
    os.link(tmp_path / "r.json", tmp_path / "hard.json")
    with pytest.raises(UsageError) as raised:
        check_targets([Target("a", tmp_path / "r.json", "--json"), Target("b", tmp_path / second, "--sarif")])
    assert str(raised.value) == (
        f"--sarif {tmp_path / second} and --json {tmp_path / 'r.json'} name the same file "
        "(outputs need different files)"
    )


def test_an_output_that_is_an_input_is_refused_naming_both(tmp_path: Path) -> None:
    source = tmp_path / "gaad.json"
    source.write_text("{}", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    output = tmp_path / "sub" / ".." / "gaad.json"
    with pytest.raises(UsageError) as raised:
        check_targets([Target("{}", output, "--json")], inputs=[source])
    assert str(raised.value) == f"--json {output}: is the input {source}; write the report elsewhere"


@pytest.mark.parametrize(
    "targets",
    [
        pytest.param([Target("a", Path(os.devnull)), Target("b", Path(os.devnull), "--json")], id="a device twice"),
        pytest.param([Target("a"), Target("b")], id="stdout twice"),
        pytest.param([Target("a", Path("one.json")), Target("b", Path("two.json"))], id="two files"),
    ],
)
def test_targets_that_harm_nothing_pass(targets: list[Target]) -> None:
    check_targets(targets, inputs=[Path("-")])


def test_stdout_texts_are_written_in_order_and_files_to_their_paths(tmp_path: Path) -> None:
    stdout = io.StringIO()
    write_outputs([Target("first\n"), Target("{}\n", tmp_path / "r.json"), Target("second\n")], stdout)
    assert stdout.getvalue() == "first\nsecond\n"
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == "{}\n"


def test_a_report_larger_than_one_write_is_written_whole(tmp_path: Path) -> None:
    text = "".join(f"line {n:07d} é\n" for n in range(200_000))  # about 3 MB, several chunks
    write_outputs([Target(text, tmp_path / "big.txt")], io.StringIO())
    assert (tmp_path / "big.txt").read_text(encoding="utf-8") == text


def test_a_new_report_gets_the_mode_the_umask_allows(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_outputs([Target("{}\n", tmp_path / "new.json")], io.StringIO())
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640


def test_a_directory_that_does_not_exist_is_one_line_and_nothing_is_left(tmp_path: Path) -> None:
    with pytest.raises(ZeetIamAuditError) as raised:
        write_outputs(
            [Target("{}\n", tmp_path / "r.json"), Target("x\n", tmp_path / "missing" / "r.md")], io.StringIO()
        )
    assert str(raised.value) == f"{tmp_path}/missing/r.md: cannot write the report (No such file or directory)"
    assert list(tmp_path.iterdir()) == []


# --- a text or its pieces -----------------------------------------------------------------------

PIECES = ('{"roles":[', '{"name":"a"}', ",", '{"name":"é"}', "]}", "\n")
WHOLE = "".join(PIECES)


@pytest.mark.parametrize("text", [WHOLE, PIECES], ids=["text", "pieces"])
def test_a_text_or_its_pieces_write_the_same_file(tmp_path: Path, text: str | tuple[str, ...]) -> None:
    stdout = io.StringIO()
    write_outputs([Target(text, tmp_path / "report.json"), Target(text)], stdout)
    assert (tmp_path / "report.json").read_text(encoding="utf-8") == WHOLE
    assert stdout.getvalue() == WHOLE


def test_pieces_are_written_through_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so that the writer may open it
    try:
        write_outputs([Target(PIECES, fifo)], io.StringIO())
        assert os.read(reader, 1 << 16).decode("utf-8") == WHOLE
    finally:
        os.close(reader)
    assert fifo.is_fifo()


def test_a_long_text_is_written_whole() -> None:
    text = "x" * (3 << 20) + "end"  # more than one megabyte-sized write
    handle = io.StringIO()
    write_text(handle, text)
    assert handle.getvalue() == text
