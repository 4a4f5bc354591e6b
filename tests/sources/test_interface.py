"""The input kinds' interface: one ``Source`` per input type, from one table; each imports only its reader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zeet_iam_audit.sources import INPUT_TYPES, SOURCES, Source, load_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
READERS = {
    "gaad": "zeet_iam_audit.sources.gaad",
    "role": "zeet_iam_audit.sources.role_json",
    "policy": "zeet_iam_audit.sources.role_json",
    "cloudformation": "zeet_iam_audit.sources.cloudformation",
    "terraform": "zeet_iam_audit.sources.terraform",
}
# Detection (``looks_like_gaad``) and the get-role reader share the authorization-details code.
ALWAYS = {"zeet_iam_audit.sources.gaad"}
EXAMPLES = {
    "gaad": FIXTURES / "gaad" / "zeet-account.json",
    "role": FIXTURES / "role" / "get-role.json",
    "policy": FIXTURES / "policy" / "zeet-capacity-policy.json",
    "cloudformation": FIXTURES / "cloudformation" / "zeet-role.yaml",
    "terraform": FIXTURES / "terraform" / "plan.json",
}


def _readers_after(code: str) -> set[str]:
    """The reader modules imported by a fresh interpreter that runs ``code``."""
    names = sorted(set(READERS.values()))
    script = code + f"\nimport sys, json\nprint(json.dumps(sorted(m for m in sys.modules if m in {names!r})))\n"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    found: list[str] = json.loads(result.stdout)
    return set(found)


def test_one_source_per_input_type_in_order() -> None:
    assert tuple(SOURCES) == INPUT_TYPES
    assert set(READERS) == set(INPUT_TYPES)


@pytest.mark.parametrize("input_type", INPUT_TYPES)
def test_every_input_type_has_an_implementation_of_the_protocol(input_type: str) -> None:
    source = SOURCES[input_type]
    assert isinstance(source, Source)
    assert source.input_type == input_type


@pytest.mark.parametrize("input_type", INPUT_TYPES)
def test_load_file_reads_through_the_chosen_source(input_type: str) -> None:
    result = load_file(EXAMPLES[input_type], input_type)
    assert result.input_type == input_type
    assert result.path == str(EXAMPLES[input_type])
    assert isinstance(result.roles, tuple)
    assert result.roles


def test_importing_the_sources_package_imports_no_other_reader() -> None:
    assert _readers_after("import zeet_iam_audit.sources") == ALWAYS


@pytest.mark.parametrize("input_type", INPUT_TYPES)
def test_reading_one_kind_imports_only_its_reader(input_type: str) -> None:
    code = (
        "from pathlib import Path\nfrom zeet_iam_audit.sources import load_file\n"
        f"load_file(Path({str(EXAMPLES[input_type])!r}), {input_type!r})"
    )
    assert _readers_after(code) == {READERS[input_type]} | ALWAYS
