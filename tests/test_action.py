"""action.yml, the GitHub Action, and the workflow docs/ci.md shows, run here step by step.

Each ``run:`` step runs with bash as the runner starts it (``bash --noprofile --norc -eo pipefail``) in a
simulated job: a workspace, ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_PATH``,
``GITHUB_ACTION_PATH`` (a copy of this project's files, as the action's checkout), ``RUNNER_TEMP``, and
``${{ ... }}`` expressions substituted. The steps other actions provide (checkout, setup-python, the
SARIF upload) are stood in for: the checkout by a Git repository with the base branch, the upload by
checks on the file it would send.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
WORKFLOW: dict[str, Any] = yaml.safe_load(
    (ROOT / "docs" / "examples" / "zeet-iam-audit.yml").read_text(encoding="utf-8")
)
CI = ROOT / "fixtures" / "ci"
# What the action's checkout holds that installing needs.
PROJECT_FILES = ("action.yml", "pyproject.toml", "README.md", "LICENSE", "zeet_iam_audit", "rules")
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class Job:
    """One simulated job: its files, its environment, what the steps wrote."""

    workspace: Path
    temp: Path
    context: dict[str, str]  # expression → value: github.*, env.*
    env: dict[str, str]
    log: list[str] = field(default_factory=list)
    failed: bool = False

    @property
    def output(self) -> Path:
        return self.temp / "github_output"

    @property
    def summary(self) -> Path:
        return self.temp / "step_summary"

    @property
    def path_file(self) -> Path:
        return self.temp / "github_path"

    def path(self) -> str:
        """PATH with what steps added through GITHUB_PATH in front (as the runner does)."""
        added = self.path_file.read_text().splitlines()[::-1] if self.path_file.exists() else []
        return os.pathsep.join([*added, self.env["PATH"]])


def _substitute(text: str, values: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match[1]
        assert expression in values, f"expression not simulated: {expression}"
        return values[expression]

    return _EXPRESSION.sub(value, text)


def _condition(condition: str | None, job: Job) -> bool:
    """The ``if:`` forms the workflow uses: success by default, always() with hashFiles and event checks."""
    if condition is None:
        return not job.failed
    parts = [part.strip() for part in condition.split("&&")]
    assert parts[0] == "always()", condition
    for part in parts[1:]:
        if match := re.fullmatch(r"hashFiles\('([^']+)'\) != ''", part):
            if not (job.workspace / match[1]).is_file():
                return False
        elif match := re.fullmatch(r"github\.event_name == '([a-z_]+)'", part):
            if job.context["github.event_name"] != match[1]:
                return False
        else:
            raise AssertionError(f"condition not simulated: {part}")
    return True


def _run(script: str, job: Job, env: Mapping[str, str], extra: Mapping[str, str]) -> int:
    """A ``run:`` script as the runner runs it with ``shell: bash``."""
    script_file = job.temp / "step.sh"
    script_file.write_text(script, encoding="utf-8")
    environment = {**job.env, **extra, **env, "PATH": job.path()}
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
        cwd=job.workspace,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    job.log.append(done.stdout + done.stderr)
    return done.returncode


def _run_action(job: Job, action_path: Path, inputs: Mapping[str, str]) -> int:
    """The composite action's steps, with its inputs (defaults filled in) and GITHUB_ACTION_PATH."""
    values = {
        f"inputs.{name}": str(inputs.get(name, spec.get("default", ""))) for name, spec in ACTION["inputs"].items()
    }
    assert set(inputs) <= set(ACTION["inputs"]), set(inputs) - set(ACTION["inputs"])
    for name, spec in ACTION["inputs"].items():
        if spec.get("required"):
            assert inputs.get(name), f"required input {name} not given"
    assert ACTION["runs"]["using"] == "composite"
    for step in ACTION["runs"]["steps"]:
        assert step["shell"] == "bash"
        env = {key: _substitute(str(value), values) for key, value in step.get("env", {}).items()}
        code = _run(_substitute(step["run"], values), job, env, {"GITHUB_ACTION_PATH": str(action_path)})
        if code != 0:
            return code
    return 0


def _outputs(job: Job) -> dict[str, str]:
    lines = job.output.read_text().splitlines() if job.output.exists() else []
    return dict(line.split("=", 1) for line in lines)


def _copy_project(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PROJECT_FILES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, target / name)


def _git(workspace: Path, *argv: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *argv],
        cwd=workspace,
        check=True,
        capture_output=True,
    )


def _job(tmp_path: Path, event: str = "pull_request") -> Job:
    """A workspace as actions/checkout leaves it on a pull request: the head checked out, the base branch
    fetched (fetch-depth 0) as origin/main; the template at infra/zeet-role.yaml."""
    workspace = tmp_path / "workspace"
    (workspace / "infra").mkdir(parents=True)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    shutil.copy2(CI / ".zeet-iam-audit.toml", workspace / ".zeet-iam-audit.toml")
    shutil.copy2(CI / "zeet-role.base.yaml", workspace / "infra" / "zeet-role.yaml")
    _git(workspace, "init", "-q", "-b", "main")
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "-q", "-m", "base")
    _git(workspace, "update-ref", "refs/remotes/origin/main", "HEAD")
    _git(workspace, "checkout", "-q", "-b", "change")
    shutil.copy2(CI / "zeet-role.yaml", workspace / "infra" / "zeet-role.yaml")
    _git(workspace, "commit", "-q", "-am", "change")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # gh records what it was asked, as the pull request comment.
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{tmp_path}/gh-calls"\n', encoding="utf-8")
    gh.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(temp / "github_output"),
        "GITHUB_STEP_SUMMARY": str(temp / "step_summary"),
        "GITHUB_PATH": str(temp / "github_path"),
        "GITHUB_ENV": str(temp / "github_env"),
        "GITHUB_EVENT_NAME": event,
        "CI": "true",
        "GITHUB_ACTIONS": "true",
    }
    env.update({key: value for key, value in os.environ.items() if key.startswith("PIP_") or key == "LANG"})
    context = {
        "github.event_name": event,
        "github.base_ref": "main",
        "github.event.pull_request.number": "42",
        "github.token": "fake-token",
    }
    return Job(workspace=workspace, temp=temp, context=context, env=env)


def _python_for_the_action() -> str:
    """The Python the action installs with: this interpreter's base (3.11 or newer), as setup-python
    would provide one."""
    base = Path(sys.base_prefix) / "bin" / "python3"
    return str(base if base.exists() else sys.executable)


@pytest.mark.slow
def test_the_documented_workflow_runs_every_step(tmp_path: Path) -> None:
    """Every step of docs/examples/zeet-iam-audit.yml, on a pull request that breaks a feature."""
    job = _job(tmp_path)
    workflow_job = WORKFLOW["jobs"]["zeet-iam-audit"]
    job.env.update({key: str(value) for key, value in WORKFLOW.get("env", {}).items()})
    job.context.update({f"env.{key}": str(value) for key, value in WORKFLOW.get("env", {}).items()})
    ran: list[str] = []
    audit_stdout = ""
    for step in workflow_job["steps"]:
        name = step.get("name") or step.get("uses")
        if not _condition(step.get("if"), job):
            continue
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            assert step["with"]["fetch-depth"] == 0  # the diff needs the base branch
        elif uses.startswith("actions/setup-python@"):
            assert tuple(map(int, step["with"]["python-version"].split("."))) >= (3, 11)
        elif uses.startswith("./"):
            action_path = job.workspace / uses[2:]
            action_path.mkdir(parents=True)
            _copy_project(action_path)  # the copy of zeet-iam-audit kept in the repository
            inputs = {key: _substitute(str(value), job.context) for key, value in step["with"].items()}
            inputs["python"] = _python_for_the_action()
            before = len(job.log)
            code = _run_action(job, action_path, inputs)
            audit_stdout = "".join(job.log[before:])
            assert code == 1, audit_stdout  # the change breaks Cluster Capacity Monitoring: the gate fails
            job.failed = True
        elif uses.startswith("github/codeql-action/upload-sarif@"):
            sarif = json.loads((job.workspace / step["with"]["sarif_file"]).read_text(encoding="utf-8"))
            assert sarif["version"] == "2.1.0"
            assert sarif["runs"][0]["results"]
        else:
            assert not uses, f"step not simulated: {uses}"
            env = {key: _substitute(str(value), job.context) for key, value in step.get("env", {}).items()}
            code = _run(step["run"], job, env, {})
            assert code == 1, job.log[-1]  # the diff finds the regression
        ran.append(name)
    assert ran == [step.get("name") or step.get("uses") for step in workflow_job["steps"]]

    # The annotations: on the step's output, within GitHub's limits, pointing at the template.
    annotations = [line for line in audit_stdout.splitlines() if line.startswith("::")]
    assert annotations
    assert all(line.split(" ", 1)[0] in ("::error", "::warning", "::notice") for line in annotations)
    assert sum(line.startswith("::error") for line in annotations) <= 10
    assert any("file=infra/zeet-role.yaml,line=" in line for line in annotations)
    # The outputs.
    outputs = _outputs(job)
    assert outputs == {
        "exit-code": "1",
        "sarif": "zeet-iam-audit.sarif",
        "roles": "1",
        "missing": "1",
        "conditional": "0",
        "unknown": "0",
        "trust-failures": "0",
    }
    # The SARIF file, relative to the workspace.
    sarif = json.loads((job.workspace / "zeet-iam-audit.sarif").read_text(encoding="utf-8"))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert uris == {"infra/zeet-role.yaml"}
    # The job summary: the audit's Markdown report, then the diff.
    summary = job.summary.read_text(encoding="utf-8")
    assert summary.index("zeet-monitoring") < summary.index("Cluster Capacity Monitoring")
    assert "sqs:" in summary
    assert summary.count("# zeet-iam-audit") >= 2, summary[:500]
    # The pull request comment, through gh.
    calls = (tmp_path / "gh-calls").read_text().splitlines()
    assert calls == ["pr comment 42 --edit-last --body-file zeet-iam-audit-diff.md"]
    # The tool the action installed is on PATH for later steps, with its metadata.
    (venv_bin,) = job.path_file.read_text().splitlines()
    shown = subprocess.run(
        [f"{venv_bin}/python", "-m", "pip", "show", "zeet-iam-audit"], capture_output=True, text=True, check=True
    ).stdout
    assert "Name: zeet-iam-audit" in shown
    assert "Author: The zeet-iam-audit maintainers" in shown
    metadata = subprocess.run(
        [f"{venv_bin}/python", "-c", "import importlib.metadata as m; print(m.metadata('zeet-iam-audit'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "License-Expression: Apache-2.0" in metadata
    assert "License-File: LICENSE" in metadata
    assert "github.com" not in metadata.split("\n\n", 1)[0]  # no project URL that does not exist


@pytest.mark.slow
def test_the_action_passes_its_inputs_and_reports_a_run_that_cannot_start(tmp_path: Path) -> None:
    job = _job(tmp_path, event="push")
    action_path = tmp_path / "action"
    action_path.mkdir()
    _copy_project(action_path)
    python = _python_for_the_action()
    # Every input: a variant the role lacks, a gate that lets it pass, the SARIF file in a new folder.
    code = _run_action(
        job,
        action_path,
        {
            "file": "infra/zeet-role.yaml",
            "role": "zeet-monitoring",
            "features": "view-logs,view-metrics",
            "variants": "logs-insights",
            "plan": "pro",
            "fail-on": "trust",
            "config": ".zeet-iam-audit.toml",
            "sarif": "reports/out.sarif",
            "python": python,
        },
    )
    log = job.log[-1]
    assert code == 0, log
    assert _outputs(job) == {
        "exit-code": "0",
        "sarif": "reports/out.sarif",
        "roles": "1",
        "missing": "1",
        "conditional": "0",
        "unknown": "0",
        "trust-failures": "0",
    }
    sarif = json.loads((job.workspace / "reports" / "out.sarif").read_text(encoding="utf-8"))
    missing = {r["properties"]["subject"] for r in sarif["runs"][0]["results"] if r["level"] == "error"}
    assert "logs:StartQuery" in missing  # the logs-insights variant
    summary = job.summary.read_text(encoding="utf-8")
    assert "View Logs" in summary
    assert "Cluster Capacity Monitoring" not in summary  # only the features asked for
    # A wrong input: exit 2, said on the step's output; no summary, no SARIF.
    job.output.unlink()
    job.summary.unlink()
    code = _run_action(job, action_path, {"file": "infra/zeet-role.yaml", "plan": "Platinum", "python": python})
    assert code == 2
    assert "--plan: unknown plan 'Platinum'" in job.log[-1]
    assert _outputs(job) == {"exit-code": "2", "sarif": ""}
    assert not job.summary.exists()
