"""Many roles in one run (run.audit_located): roles read where they are audited, their errors as
one line, the JSON format's per-role texts, and ``--jobs`` still accepted."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zeet_iam_audit import cli, run
from zeet_iam_audit.audit.engine import AuditOptions
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.formats import json_format
from zeet_iam_audit.model import Role, route_text
from zeet_iam_audit.rules import load_rules
from zeet_iam_audit.sources import gaad, load_file

ROOT = Path(__file__).resolve().parent.parent
ROLES = 300
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


@pytest.fixture(scope="module")
def gaad_file(tmp_path_factory: pytest.TempPathFactory, make_gaad: Callable[[int], dict[str, Any]]) -> Path:
    path = tmp_path_factory.mktemp("bulk") / f"gaad-{ROLES}.json"
    path.write_text(json.dumps(make_gaad(ROLES), separators=(",", ":")), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .zeet-iam-audit.toml from the repository
    for name in list(os.environ):
        if name.startswith(("ZEET_IAM_AUDIT_", "AWS_")):
            monkeypatch.delenv(name)


def _audit(gaad_file: Path, *extra: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main(
        ["--file", str(gaad_file), "--all-roles", "--zeet-account-id", "111122223333", *extra],
        stdout=stdout,
        stderr=stderr,
    )
    return code, stdout.getvalue(), stderr.getvalue()


def test_jobs_is_accepted_and_changes_nothing(gaad_file: Path) -> None:
    serial = _audit(gaad_file, "--format", "json")
    assert serial[0] == 1  # the synthetic roles miss permissions
    for jobs in ("1", "2", "auto"):
        assert _audit(gaad_file, "--format", "json", "--jobs", jobs) == serial, f"--jobs {jobs}"


@pytest.mark.parametrize("value", ["0", "-2", "many", ""])
def test_jobs_must_be_a_positive_number_or_auto(value: str) -> None:
    stderr = io.StringIO()
    code = cli.main(
        ["--file", str(ROOT / "fixtures/role/get-role.json"), "--jobs", value], stdout=io.StringIO(), stderr=stderr
    )
    assert code == 2
    assert stderr.getvalue().count("\n") == 1
    assert "--jobs: expected a number of processes (1 or more) or auto" in stderr.getvalue()


def test_each_role_is_read_once_where_it_is_audited(gaad_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    read = gaad.read_role_detail

    def counting(raw: object, **kwargs: object) -> Role:
        route = kwargs["route"]
        assert isinstance(route, tuple)
        reads.append(route_text(route))
        return read(raw, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gaad, "read_role_detail", counting)
    assert _audit(gaad_file, "--format", "json")[0] == 1
    assert sorted(reads) == sorted(f"$.RoleDetailList[{n}]" for n in range(ROLES))


# A file whose roles are read on first use (sources/lazy.py): with --all-roles a malformed role is
# found when the audit reaches it, and its error must be the one loading the file used to give.


@pytest.fixture(scope="module")
def malformed_file(
    tmp_path_factory: pytest.TempPathFactory, make_gaad: Callable[[int], dict[str, Any]]
) -> tuple[Path, str]:
    """The synthetic file with a late role's first attachment malformed, and its error line."""
    position = ROLES - 50
    data = make_gaad(ROLES)
    data["RoleDetailList"][position]["AttachedManagedPolicies"][0]["PolicyArn"] = 5
    path = tmp_path_factory.mktemp("malformed") / f"gaad-{position}.json"
    path.write_text(json.dumps(data, indent=4), encoding="utf-8")
    return path, (
        f"zeet-iam-audit: error: {path}: $.RoleDetailList[{position}].AttachedManagedPolicies[0]"
        ".PolicyArn: expected a string, got the number 5"
    )


def test_a_malformed_role_ends_an_all_roles_run_with_one_line(malformed_file: tuple[Path, str], tmp_path: Path) -> None:
    path, error = malformed_file
    target = tmp_path / "report.json"
    assert _audit(path, "--format", "json", "--output", str(target)) == (
        2,
        "",
        f"zeet-iam-audit: auditing {path}\n{error}\n",
    )
    assert not target.exists()


@pytest.mark.parametrize(
    "choice", [["--role", "role-00001"], ["--zeet-account-id", "111122223333"]], ids=["role", "trusting-zeet"]
)
def test_a_malformed_role_fails_a_run_that_does_not_choose_it(
    malformed_file: tuple[Path, str], choice: list[str]
) -> None:
    path, error = malformed_file
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main(["--file", str(path), *choice], stdout=stdout, stderr=stderr)
    assert (code, stdout.getvalue(), stderr.getvalue()) == (2, "", f"zeet-iam-audit: auditing {path}\n{error}\n")


@pytest.mark.parametrize("path", ["gaad", "fixtures/gaad/zeet-account.json", "fixtures/role/get-role.json"])
def test_role_texts_are_the_roles_json(gaad_file: Path, path: str) -> None:
    """render_role splices each feature's text (kept per feature value) into the role's own: the
    text must be exactly that of the role's ``to_json``."""
    catalog = load_catalog()
    source = load_file(gaad_file if path == "gaad" else ROOT / path)
    for zeet in (None, "111122223333"):
        options = AuditOptions(trust=TrustSettings(zeet_account_id=zeet))
        located = run.audit_located(source.roles, load_rules(catalog=catalog), catalog, options)
        for report in located:
            assert json_format.render_role(report) == _ENCODE(report.to_json()), report.name
