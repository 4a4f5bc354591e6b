"""Writing reports (``writing.py``): a text or its pieces, to files, through special files and to
stdout. Devices, links, interrupts and refusals are tested with the hostile inputs
(``tests/hostile/test_outputs_and_streams.py``)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from zeet_iam_audit.writing import Target, write_outputs, write_text

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
