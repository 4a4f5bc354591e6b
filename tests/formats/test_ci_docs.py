"""The documented CI setup stays true: docs/ci.md, the example workflow and .pre-commit-hooks.yaml."""

from __future__ import annotations

import re
import shlex
import tomllib
from typing import Any

import pytest
import yaml

from tests.formats.conftest import ROOT
from zeet_iam_audit.audit.findings import CHECK_IDS
from zeet_iam_audit.run import FAIL_ON_CHOICES

DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
WORKFLOW_TEXT = (ROOT / "docs" / "examples" / "zeet-iam-audit.yml").read_text(encoding="utf-8")
WORKFLOW: dict[Any, Any] = yaml.safe_load(WORKFLOW_TEXT)


def _invocations(text: str) -> list[list[str]]:
    """Every ``zeet-iam-audit ...`` command in a text, continuation lines joined, split like a shell."""
    joined = re.sub(r"\\\n\s*", " ", text)
    commands = []
    for match in re.finditer(r"(?:^|[\s:]|run: )zeet-iam-audit ([^\n|]*)", joined, re.MULTILINE):
        words = shlex.split(match[1].replace("$TEMPLATE", "t.yaml").replace('"$base"', "b.yaml"))
        commands.append(words)
    return commands


def _runs(value: object) -> str:
    """Every ``run:`` script in a YAML document (folded scripts come out as one line)."""
    if isinstance(value, dict):
        return "\n".join(str(v) if k == "run" else _runs(v) for k, v in value.items())
    if isinstance(value, list):
        return "\n".join(_runs(item) for item in value)
    return ""


def test_the_doc_shows_the_example_workflow_verbatim() -> None:
    assert f"```yaml\n{WORKFLOW_TEXT}```" in DOC


def test_the_example_says_it_is_an_example_and_is_not_run_here() -> None:
    assert WORKFLOW_TEXT.startswith("# EXAMPLE ONLY")
    assert not (ROOT / ".github" / "workflows" / "zeet-iam-audit.yml").exists()


def test_the_workflow_uploads_sarif_summarises_and_diffs() -> None:
    steps = WORKFLOW["jobs"]["zeet-iam-audit"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    runs = "\n".join(step.get("run", "") for step in steps)
    assert '>> "$GITHUB_STEP_SUMMARY"' in runs
    assert "zeet-iam-audit diff" in runs
    assert WORKFLOW["jobs"]["zeet-iam-audit"]["permissions"]["security-events"] == "write"


@pytest.mark.parametrize("source", ["docs/ci.md", "docs/examples/zeet-iam-audit.yml"])
def test_every_documented_command_parses(source: str) -> None:
    from zeet_iam_audit.cli import _audit_parser
    from zeet_iam_audit.commands.diff import build_parser

    text = (ROOT / source).read_text(encoding="utf-8")
    blocks = re.findall(r"```([a-z]*)\n(.*?)```", text, re.DOTALL) if source.endswith(".md") else [("yaml", text)]
    shell = [_runs(yaml.safe_load(block)) if lang == "yaml" else block for lang, block in blocks]
    commands = _invocations("\n".join(shell))
    if source.endswith(".md"):
        assert len(commands) >= 2
        assert any("--sarif" in words for words in commands)
    else:
        assert [words[0] for words in commands] == ["diff"]  # the audit itself is the action's
    for words in commands:
        if words and words[0] == "diff":
            build_parser().parse_args(words[1:])
        else:
            _audit_parser().parse_args(words)


def test_every_check_has_its_documentation_anchor() -> None:
    for check in CHECK_IDS:
        assert f"\n### {check}\n" in DOC, check


def test_the_exit_code_and_fail_on_tables_are_complete() -> None:
    for code in ("| 0 |", "| 1 |", "| 2 |"):
        assert code in DOC
    for value in FAIL_ON_CHOICES:
        assert f"| `{value}` |" in DOC, value


def test_the_pre_commit_hook() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "zeet-iam-audit"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["require_serial"] is True
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert hook["entry"] in scripts
    files = re.compile(hook["files"])
    for name in ("infra/zeet-role.yaml", "a.yml", "plan.json"):
        assert files.search(name), name
    for name in ("main.tf", ".zeet-iam-audit.toml", "yaml.txt"):
        assert not files.search(name), name
    assert "id: zeet-iam-audit" in DOC
    assert "args: [--file, infra/zeet-role.yaml]" in DOC


def test_the_workflow_uses_the_action_with_its_inputs() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    steps = WORKFLOW["jobs"]["zeet-iam-audit"]["steps"]
    (audit,) = [step for step in steps if step.get("uses", "").endswith("/zeet-iam-audit")]
    assert set(audit["with"]) <= set(action["inputs"])
    upload = next(step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == audit["with"]["sarif"]
    for name in ("file", "role", "features", "variants", "plan", "fail-on", "config", "sarif"):
        assert f"| `{name}` |" in DOC, name
    for name in action["outputs"]:
        assert f"`{name}`" in DOC, name


@pytest.mark.parametrize(
    "path",
    [
        "README.md",
        "docs/ci.md",
        "docs/examples/zeet-iam-audit.yml",
        ".pre-commit-hooks.yaml",
        "action.yml",
        "pyproject.toml",
    ],
)
def test_no_link_to_a_place_that_does_not_exist(path: str) -> None:
    """The tool has no public repository or package page: no link may pretend it has."""
    text = (ROOT / path).read_text(encoding="utf-8")
    assert "zeet-dev/zeet-iam-audit" not in text
    assert not re.search(r"pip install ['\"]?zeet-iam-audit", text), "no registry serves the package"
    for url in re.findall(r"https?://[^\s)\]>'\"]+", text):
        assert url.startswith(("https://docs.aws.amazon.com/", "https://docs.github.com/", "http://127.0.0.1:")), url
