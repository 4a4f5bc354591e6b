"""A generated role as text: the role file the audit reads (JSON), a CloudFormation template with the
Zeet account and external id as parameters, and Terraform HCL whose strings stay literal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.rules import RuleSet
from zeet_iam_audit.sources import load_file
from zeet_iam_audit.support.generation import GeneratedRole, generate_role
from zeet_iam_audit.support.templates import FORMATS, PLACEHOLDER_ACCOUNT, hcl_string, render, render_terraform

ZEET = "111122223333"
EXTERNAL = "zeet-ext-5f2c9a7e"


def _variants(rules: RuleSet, features: tuple[str, ...] | None) -> tuple[str, ...]:
    return tuple(sorted({v.name for r in rules if features is None or r.id in features for v in r.variants}))


def _logs_role(rules: RuleSet, catalog: Catalog) -> GeneratedRole:
    return generate_role(rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, features=("view-logs",))


def test_cloudformation_template_is_valid_yaml_with_parameters(rules: RuleSet, catalog: Catalog) -> None:
    role = generate_role(rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, features=("view-logs",))
    text = render(role, "cloudformation")
    template = yaml.safe_load(text)
    assert template["Parameters"]["ZeetAccountId"]["Default"] == ZEET
    assert template["Parameters"]["ExternalId"]["Default"] == EXTERNAL
    assert template["Resources"]["ZeetRole"]["Properties"]["ManagedPolicyArns"] == [{"Ref": "ZeetPolicy1"}]
    assert template["Resources"]["ZeetPolicy1"]["Type"] == "AWS::IAM::ManagedPolicy"


def test_cloudformation_template_with_other_parameter_values(rules: RuleSet, catalog: Catalog, tmp_path: Path) -> None:
    role = generate_role(rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, features=("view-logs",))
    path = tmp_path / "role.yaml"
    path.write_text(render(role, "cloudformation"), encoding="utf-8")
    (loaded,) = load_file(path, parameters={"ZeetAccountId": "444455556666", "ExternalId": "other-id"}).roles
    assert loaded.trust_policy is not None
    statement = loaded.trust_policy.statements[0]
    assert statement.principal is not None
    assert statement.principal.identifiers("AWS") == ("arn:aws:iam::444455556666:root",)
    assert statement.conditions[0].values == ("other-id",)


def _cfn_lint() -> str | None:
    return shutil.which("cfn-lint", path=str(Path(sys.executable).parent))


def test_cloudformation_template_passes_cfn_lint(rules: RuleSet, catalog: Catalog, tmp_path: Path) -> None:
    """cfn-lint comes with the test dependencies (moto[server]): missing, the test fails, never skips."""
    cfn_lint = _cfn_lint()
    if cfn_lint is None:
        pytest.fail(f"cfn-lint is not installed next to {sys.executable}: pip install -e '.[test]'")
    role = generate_role(rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, variants=_variants(rules, None))
    path = tmp_path / "role.yaml"
    path.write_text(render(role, "cloudformation"), encoding="utf-8")
    result = subprocess.run([cfn_lint, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("value", "written"),
    [("plain", '"plain"'), ("${aws:username}", '"$${aws:username}"'), ("%{if}", '"%%{if}"'), ('a"b', '"a\\"b"')],
)
def test_hcl_strings_stay_literal(value: str, written: str) -> None:
    assert hcl_string(value) == written


def test_terraform_has_the_resources(rules: RuleSet, catalog: Catalog) -> None:
    role = generate_role(rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, variants=_variants(rules, None))
    text = render_terraform(role)
    count = len(role.policies)
    assert text.count('resource "aws_iam_role" "zeet"') == 1
    assert text.count('resource "aws_iam_policy" ') == count
    assert text.count('resource "aws_iam_role_policy_attachment" ') == count
    assert text.count("jsonencode(") == count + 1
    assert 'AWS = "arn:aws:iam::${var.zeet_account_id}:root"' in text
    assert '"sts:ExternalId" = var.external_id' in text


def _jsonencode_bodies(text: str) -> list[str]:
    """The argument of every ``jsonencode(...)``, found by matching brackets outside strings."""
    bodies = []
    start = text.find("jsonencode(")
    while start >= 0:
        position = start + len("jsonencode(")
        depth, in_string, escaped = 1, False, False
        while depth:
            char = text[position]
            if in_string:
                escaped = not escaped and char == "\\"
                in_string = escaped or char != '"'
            elif char == '"':
                in_string = True
            elif char in "({[":
                depth += 1
            elif char in ")}]":
                depth -= 1
            position += 1
        bodies.append(text[start + len("jsonencode(") : position - 1])
        start = text.find("jsonencode(", position)
    return bodies


TERRAFORM = shutil.which("terraform")


@pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")
def test_terraform_is_formatted_and_encodes_the_same_documents(
    rules: RuleSet, catalog: Catalog, tmp_path: Path
) -> None:
    assert TERRAFORM is not None
    role = generate_role(rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, variants=_variants(rules, None))
    text = render_terraform(role)
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    formatted = subprocess.run(
        [TERRAFORM, "fmt", "-check", "-diff", "main.tf"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    # Evaluate the documents with Terraform itself, in a configuration without providers.
    variables = text[text.index('variable "zeet_account_id"') : text.index('resource "aws_iam_role"')]
    documents = ",\n".join(_jsonencode_bodies(text))
    evaluate = tmp_path / "evaluate"
    evaluate.mkdir()
    (evaluate / "main.tf").write_text(
        f"{variables}\nlocals {{\n  documents = [\n{documents}\n  ]\n}}\n", encoding="utf-8"
    )
    result = subprocess.run(
        [TERRAFORM, "console"],
        cwd=evaluate,
        env=env,
        input="jsonencode(local.documents)\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    encoded = json.loads(json.loads(result.stdout.strip()))
    assert encoded == [role.trust_policy, *(policy.document for policy in role.policies)]


def test_json_role_file_shape(rules: RuleSet, catalog: Catalog) -> None:
    role = generate_role(rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, features=("view-metrics",))
    data = json.loads(render(role, "json"))
    assert set(data) == {"Role", "RolePolicies", "AttachedPolicies"}
    assert data["Role"]["Arn"] == "arn:aws:iam::000000000000:role/zeet-cloud-connection"
    assert data["RolePolicies"] == []
    assert data["AttachedPolicies"][0]["PolicyArn"] == "arn:aws:iam::000000000000:policy/zeet-cloud-connection-1"


@pytest.mark.parametrize(
    ("account_id", "account"),
    [
        pytest.param(None, PLACEHOLDER_ACCOUNT, id="placeholder"),
        pytest.param("123456789012", "123456789012", id="given"),
    ],
)
def test_a_role_file_names_the_account_and_reads_back_as_the_same_role(
    rules: RuleSet, catalog: Catalog, tmp_path: Path, account_id: str | None, account: str
) -> None:
    role = _logs_role(rules, catalog)
    path = tmp_path / "role.json"
    path.write_text(render(role, "json", account_id=account_id), encoding="utf-8")
    (loaded,) = load_file(path).roles
    assert loaded.arn == f"arn:aws:iam::{account}:role/{role.role_name}"
    assert [attached.arn for attached in loaded.policies] == [
        f"arn:aws:iam::{account}:policy/{policy.name}" for policy in role.policies
    ]
    assert [attached.policy.name if attached.policy else None for attached in loaded.policies] == [
        policy.name for policy in role.policies
    ]
    assert loaded.max_session_duration == role.max_session_duration


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_and_another_is_refused(rules: RuleSet, catalog: Catalog, fmt: str) -> None:
    role = _logs_role(rules, catalog)
    assert role.role_name in render(role, fmt)
    with pytest.raises(ValueError, match=r"^xml$"):
        render(role, "xml")
