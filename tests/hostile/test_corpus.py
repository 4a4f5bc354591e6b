"""The CLI over every hostile input: a one-line error naming the file and the place, or a report.

Every file of ``corpus/`` and every generated case (``generated.py``) is audited by the real command
in a subprocess (``python -m zeet_iam_audit --file PATH --all-roles --format json``), in an empty
working directory that is also its HOME, with its address space limited (``RLIMIT_AS``) and a
generous timeout as a hang guard. For each the test asserts:

- the exit code is 0, 1 or 2 and stderr holds no traceback;
- exit 2: besides the ``auditing PATH`` progress line, stderr is exactly one printable line,
  ``zeet-iam-audit: error: PATH: <place>: <problem>``, and it holds the expected place;
- exit 0/1: stdout is a JSON report, and it names the part that was unreadable;
- nothing was written to the working directory or HOME (so no YAML tag ran a command).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from .generated import CORPUS, GENERATED, MARKER_PREFIX, Expect, error, report

MEMORY_LIMIT = 1536 * 1024 * 1024  # bytes of address space for one run
TIMEOUT = 60  # seconds: a hang guard, far above the slowest case
WORKERS = max(2, min(4, os.cpu_count() or 2))
PROGRESS = "zeet-iam-audit: auditing "

EXPECTED: dict[str, Expect] = {
    # Empty, truncated and not JSON at all.
    "empty.json": error("the file is empty"),
    "empty.yaml": error("the file is empty"),
    "whitespace-only.json": error("the file is empty"),
    "truncated-gaad.json": error("line 26 column 9: not valid JSON"),
    "truncated-template.yaml": error("line 6 column 1: expected the node content"),
    "nan.json": error("line 1 column 145: NaN is not valid JSON"),
    "infinity-exponent.json": report(),
    "json-number-only.json": error("$: not a recognised input"),
    "json-string-only.json": error("$: not a recognised input"),
    "duplicate-keys.json": error("line 1 column 1: duplicate key 'RoleDetailList'"),
    "duplicate-keys-in-policy.json": error("line 4 column 5: duplicate key 'Effect'"),
    "duplicate-keys.yaml": error("line 4 column 3: duplicate key 'ZeetRole'"),
    "lone-surrogate-role-name.json": error("$.RoleDetailList[0].RoleName: a \\u escape of a lone surrogate"),
    "unrecognised-keys-with-control-characters.json": error(
        'found keys: "\\u001b[2J\\u001b]0;title\\u0007", "Line\\n::error::injected"'
    ),
    "control-characters-in-names.json": report("zeet\\u001b[2J"),
    "names-that-steer-reviews.json": report("zeet-admin\\u202e\\u2066nimda-teez"),
    # Authorization details of the wrong shape, level by level.
    "gaad-valid.json": report('"name": "zeet"'),
    "gaad-top-level-list-of-strings.json": error("$: not a recognised input"),
    "gaad-pages-with-a-number.json": error("$: not a recognised input"),
    "gaad-role-detail-list-string.json": error("$.RoleDetailList: expected a list, got 'zeet'"),
    "gaad-role-detail-list-object.json": error("$.RoleDetailList: expected a list, got an object"),
    "gaad-role-detail-items-null.json": error("$.RoleDetailList[0]: expected a role object, got null"),
    "gaad-role-detail-items-numbers.json": error("$.RoleDetailList[0]: expected a role object, got the number 1"),
    "gaad-role-name-number.json": error("$.RoleDetailList[0].RoleName: expected a string"),
    "gaad-role-without-name-or-arn.json": error("$.RoleDetailList[0]: expected RoleName or Arn"),
    "gaad-role-policy-list-numbers.json": error("$.RoleDetailList[0].RolePolicyList[0]: expected an inline policy"),
    "gaad-role-policy-list-string.json": error("$.RoleDetailList[0].RolePolicyList: expected a list"),
    "gaad-attached-policies-string.json": error("$.RoleDetailList[0].AttachedManagedPolicies: expected a list"),
    "gaad-attached-policy-arn-number.json": error(
        "$.RoleDetailList[0].AttachedManagedPolicies[0].PolicyArn: expected a string"
    ),
    "gaad-boundary-string.json": error("$.RoleDetailList[0].PermissionsBoundary: expected an object"),
    "gaad-max-session-duration-huge.json": error("$.RoleDetailList[0].MaxSessionDuration: expected a number"),
    "gaad-policies-string.json": error("$.Policies: expected a list"),
    "gaad-policies-items-numbers.json": error("$.Policies[0]: expected a policy object"),
    "gaad-policy-version-list-object.json": error("$.Policies[0].PolicyVersionList: expected a list"),
    "gaad-is-truncated-string.json": error("$.IsTruncated: expected true or false"),
    "gaad-truncated-last-page.json": report('IsTruncated",\n      "unread": true'),
    # ... and inside policy documents, where the bad part becomes unknown.
    "gaad-policy-document-list.json": report("RolePolicyList[0].PolicyDocument: expected a policy object, got a list"),
    "gaad-policy-document-number.json": report("RolePolicyList[0].PolicyDocument: expected a policy object, got int"),
    "gaad-policy-document-garbage-string.json": report("RolePolicyList[0].PolicyDocument: not valid JSON"),
    "gaad-policy-document-not-json-string.json": report("RolePolicyList[0].PolicyDocument: not valid JSON"),
    "gaad-policy-document-string-duplicate-keys.json": report("PolicyDocument.Statement: duplicate key 'Statement'"),
    "gaad-policy-version-document-number.json": report(
        "$.Policies[0].PolicyVersionList[0].Document: expected a policy object"
    ),
    "gaad-statement-number.json": report("PolicyDocument.Statement: expected a statement object or a list"),
    "gaad-statement-items-strings.json": report("PolicyDocument.Statement[0]: expected a statement object"),
    "gaad-statement-empty-object.json": report("PolicyDocument.Statement.Effect: missing"),
    "gaad-action-number.json": report("Statement[0].Action: expected a string or a list of strings"),
    "gaad-action-nested-lists.json": report("Statement[0].Action[0]: expected a string, got a list"),
    "gaad-resource-object.json": report("Statement[0].Resource: expected a string or a list of strings"),
    "gaad-effect-boolean.json": report("Statement[0].Effect: expected Allow or Deny, got true"),
    "gaad-condition-values-objects.json": report(
        "Condition.StringEquals.aws:RequestedRegion: expected a string, number or boolean, got an object"
    ),
    "gaad-condition-list.json": report("Statement[0].Condition: expected an object of operator"),
    "gaad-condition-operator-block-number.json": report("Condition.StringEquals: expected an object of condition key"),
    "gaad-condition-huge-numbers.json": report('"name": "zeet"'),
    "gaad-trust-list.json": report("AssumeRolePolicyDocument: expected a policy object, got a list"),
    "gaad-trust-garbage-string.json": report("AssumeRolePolicyDocument: not valid JSON"),
    "gaad-principal-number.json": report('Statement[0].Principal: expected \\"*\\" or an object of principal types'),
    # get-role output and bare policies.
    "role-role-string.json": error("$: not a recognised input"),
    "role-policy-list-numbers.json": report('"name": "zeet"'),
    "policy-statement-number.json": error("$.Statement: expected a statement object or a list of them"),
    "policy-effect-maybe.json": error("$.Statement[0].Effect: expected Allow or Deny, got 'Maybe'"),
    "policy-version-object.json": error("$.Version: expected 2012-10-17 or 2008-10-17, got an object"),
    "policy-operator-with-newline.json": error('$.Statement[0].Condition["String\\nEquals\\n::error::injected"]'),
    "policy-unknown-element-with-escape.json": error('$.Statement[0]["\\u001b[2JSneaky"]: unknown statement element'),
    # Terraform plans.
    "terraform-planned-values-list.json": error("$.planned_values: expected an object, got a list"),
    "terraform-resources-string.json": error("$.planned_values.root_module.resources: expected a list"),
    "terraform-child-modules-numbers.json": error("$.planned_values.root_module.child_modules[0]: expected a module"),
    "terraform-values-string.json": error("$.planned_values.root_module.resources[0].values: expected an object"),
    "terraform-policy-garbage-strings.json": report("aws_iam_role_policy.zeet.policy: not valid JSON"),
    "terraform-policy-number.json": report("aws_iam_role_policy.zeet.policy: expected a policy object, got int"),
    "terraform-policy-object.json": report("aws_iam_role_policy.zeet.policy.Statement: missing"),
    "terraform-assume-role-policy-garbage.json": report("aws_iam_role.zeet.assume_role_policy: not valid JSON"),
    "terraform-after-unknown-string.json": report("aws_iam_role.zeet.inline_policy[0].policy: not valid JSON"),
    "terraform-configuration-references-number.json": report("aws_iam_role.zeet.inline_policy[0].policy"),
    # CloudFormation templates and YAML.
    "cfn-resources-list.yaml": error("Resources: expected an object, got a list"),
    "cfn-resource-string.yaml": error("Resources.ZeetRole: expected a resource object"),
    "cfn-properties-string.yaml": error("Resources.ZeetRole.Properties: expected the role's Properties"),
    "cfn-policies-number.yaml": error("Resources.ZeetRole.Properties.Policies: expected a list"),
    "cfn-policy-document-garbage.yaml": report("Policies[0].PolicyDocument: expected a policy object, got a list"),
    "cfn-intrinsic-wrong-shapes.yaml": report("depends on a value that could not be resolved"),
    "cfn-ref-cycle.yaml": report("the role name could not be resolved"),
    "yaml-billion-laughs.yaml": error("line 8 column 4: expands to more than 1,000,000 values through aliases"),
    "yaml-alias-bomb-in-policy.yaml": error("line 10 column 10: expands to more than 1,000,000 values"),
    "yaml-recursive-alias.yaml": error("line 4 column 17: an alias refers to a value that contains it"),
    "yaml-python-object-apply.yaml": error(
        "line 7 column 17: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'"
    ),
    "yaml-python-object-new.yaml": error("line 1 column 12: could not determine a constructor"),
    "yaml-python-name.yaml": error("line 1 column 27: could not determine a constructor"),
    "yaml-python-module.yaml": error("line 1 column 12: could not determine a constructor"),
    "yaml-unknown-tag.yaml": error("line 3 column 11: could not determine a constructor for the tag '!NotATag'"),
    "yaml-two-documents.yaml": error("line 2 column 1: a second YAML document"),
    "yaml-tab-indentation.yaml": error("line 2 column 1: found character '\\t' that cannot start any token"),
    "yaml-non-string-keys.yaml": error("line 2 column 5: found unhashable key"),
    "yaml-huge-integer.yaml": report('"name": "ZeetRole"'),
}


@dataclass(frozen=True)
class Run:
    path: Path
    workdir: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def _limit_memory() -> None:  # runs in the child, between fork and exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _environment(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
    }


def run_all(cases: dict[str, Path], runs: Path) -> dict[str, Run]:
    """Run the CLI on every case, a few at a time; outputs go to files (no pipe can fill up)."""
    pending = list(cases.items())
    running: dict[str, tuple[subprocess.Popen[bytes], float, Path]] = {}
    done: dict[str, Run] = {}
    outputs = runs / "outputs"
    outputs.mkdir()
    while pending or running:
        while pending and len(running) < WORKERS:
            name, path = pending.pop(0)
            workdir = runs / name
            workdir.mkdir()
            with (outputs / f"{name}.out").open("wb") as out, (outputs / f"{name}.err").open("wb") as err:
                process = subprocess.Popen(
                    [sys.executable, "-m", "zeet_iam_audit", "--file", str(path), "--all-roles", "--format", "json"],
                    cwd=workdir,
                    env=_environment(workdir),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    preexec_fn=_limit_memory,  # safe: this process starts no threads
                )
            running[name] = (process, time.monotonic(), workdir)
        for name, (process, started, workdir) in list(running.items()):
            if process.poll() is None and time.monotonic() - started < TIMEOUT:
                continue
            if process.returncode is None:
                process.kill()
                process.wait()
                returncode = -1  # hung: reported by the test as a failure
            else:
                returncode = process.returncode
            del running[name]
            done[name] = Run(
                path=cases[name],
                workdir=workdir,
                returncode=returncode,
                stdout=(outputs / f"{name}.out").read_text(encoding="utf-8", errors="replace"),
                stderr=(outputs / f"{name}.err").read_text(encoding="utf-8", errors="replace"),
                seconds=time.monotonic() - started,
            )
        time.sleep(0.01)
    return done


ALL_EXPECTED = {**EXPECTED, **{name: expect for name, (_, expect) in GENERATED.items()}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    inputs = tmp_path_factory.mktemp("inputs")
    cases = {name: CORPUS / name for name in EXPECTED}
    for name, (write, _) in GENERATED.items():
        write(inputs / name)
        cases[name] = inputs / name
    results = run_all(cases, tmp_path_factory.mktemp("runs"))
    results["inputs"] = Run(inputs, inputs, 0, "", "", 0.0)  # for the marker check
    return results


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(path.name for path in CORPUS.iterdir())
    assert not set(EXPECTED) & set(GENERATED)


@pytest.mark.parametrize("name", sorted(ALL_EXPECTED))
def test_the_cli_fails_cleanly_or_reports(name: str, runs: dict[str, Run]) -> None:
    run, expect = runs[name], ALL_EXPECTED[name]
    assert run.returncode in (0, 1, 2), f"exit {run.returncode} after {run.seconds:.1f} s: {run.stderr[-2000:]}"
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line != f"{PROGRESS}{run.path}"]
    if expect.outcome == "error":
        assert run.returncode == 2, run.stderr
        assert len(lines) == 1, run.stderr
        (line,) = lines
        assert line.startswith(f"zeet-iam-audit: error: {run.path}: "), line
        assert line.isprintable(), line
        assert expect.fragment in line
        assert run.stdout == ""
    else:
        assert run.returncode in (0, 1), run.stderr
        assert all(line.isprintable() for line in lines), lines
        document = json.loads(run.stdout)
        assert document["roles"], "a report with no role"
        assert expect.fragment in run.stdout
    assert list(run.workdir.iterdir()) == [], "the run wrote into its working directory or HOME"


def test_no_yaml_tag_ran_a_command(runs: dict[str, Run]) -> None:
    roots = {run.workdir.parent for run in runs.values()} | {runs["inputs"].path}
    created = [path for root in roots for path in root.rglob(f"*{MARKER_PREFIX}*")]
    assert created == []
