"""The SAM transform run offline (sources/sam.py) and the roles the CloudFormation reader reads from it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zeet_iam_audit.model import Role
from zeet_iam_audit.sources import load_file
from zeet_iam_audit.sources.sam import expand_sam, uses_sam

WriteFile = Callable[[str, str | bytes], Path]
SAM_APP = Path(__file__).resolve().parents[2] / "fixtures" / "cloudformation" / "sam-app.yaml"


def _roles(path: Path) -> dict[str, Role]:
    return {str(role.logical_id): role for role in load_file(path).roles}


def test_a_function_with_role_uses_that_role_with_what_its_connector_grants() -> None:
    result = load_file(SAM_APP)
    roles = {role.logical_id: role for role in result.roles}
    notifier = roles["NotifierRole"]
    assert notifier.name == "zeet-preview-notifier"
    names = [p.name for p in notifier.policies]
    assert names == ["AWSLambdaBasicExecutionRole", "NotifierReadsQueuePolicy"]
    connector = notifier.policies[1].policy
    assert connector is not None
    actions = {a for s in connector.statements for a in s.actions or ()}
    assert "sqs:ReceiveMessage" in actions
    # Not listed as a function whose role the transform generates.
    assert all("Notifier" not in s.name for s in result.skipped)


def test_a_generated_execution_role_is_named_with_what_the_transform_attaches() -> None:
    result = load_file(SAM_APP)
    (skipped,) = [s for s in result.skipped if s.name == "JobsWorkerRole"]
    assert skipped.reason == (
        "the role the SAM transform generates for JobsWorker (AWS::Serverless::Function): trusted only by "
        "lambda.amazonaws.com, so not a role Zeet assumes; the transform attaches AWSLambdaBasicExecutionRole, "
        "AWSXrayWriteOnlyAccess, CloudWatchReadOnlyAccess, 2 inline policies"
    )
    assert str(skipped.origin) == f"{SAM_APP}: Resources.JobsWorker"
    assert "JobsWorkerRole" not in _roles(SAM_APP)


def test_a_generated_role_another_account_may_assume_is_audited() -> None:
    operator = _roles(SAM_APP)["ZeetOperatorRole"]
    assert operator.trust_policy is not None
    principal = operator.trust_policy.statements[0].principal
    assert principal is not None
    assert principal.identifiers("AWS") == ("arn:aws:iam::111122223333:root",)
    assert [(p.name, p.policy is not None) for p in operator.policies] == [
        ("AWSLambdaBasicExecutionRole", True),  # every generated role has it
        ("AWSXrayWriteOnlyAccess", True),  # Tracing: Active, from Globals
        ("AWSCloudFormationReadOnlyAccess", True),  # a managed policy named in Policies
    ]


def test_policy_templates_expand_to_their_statements() -> None:
    template = json.loads(json.dumps(_template_with({"Policies": [{"SQSPollerPolicy": {"QueueName": "jobs"}}]})))
    expanded = expand_sam(
        template,
        {},
        {"AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
    )
    assert isinstance(expanded, dict)
    role = expanded["Resources"]["FnRole"]
    (inline,) = role["Properties"]["Policies"]
    actions = inline["PolicyDocument"]["Statement"][0]["Action"]
    assert "sqs:ReceiveMessage" in actions
    assert role["Properties"]["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    ]


def _template_with(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Handler": "a.b", "Runtime": "python3.12", "CodeUri": "src/", **properties},
            }
        },
    }


def test_a_template_the_transform_refuses_keeps_functions_named_with_why(write_file: WriteFile) -> None:
    template = _template_with({"Policies": {"NotAPolicy": 3}})
    template["Resources"]["Fn"]["Properties"]["Events"] = {"E": {"Type": "NoSuchEvent"}}
    template["Resources"]["WithRole"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Handler": "a.b",
            "Runtime": "python3.12",
            "CodeUri": "src/",
            "Role": "arn:aws:iam::123456789012:role/worker",
        },
    }
    path = write_file("sam.json", json.dumps(template))
    result = load_file(path)
    assert tuple(result.roles) == ()
    (skipped,) = result.skipped  # the function with Role uses that role: it is not listed
    assert skipped.name == "Fn"
    assert "the SAM transform refuses the template" in skipped.reason


def test_sam_is_recognised_by_its_transform_or_its_resources() -> None:
    assert uses_sam({"Transform": ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"], "Resources": {}})
    assert uses_sam({"Resources": {"F": {"Type": "AWS::Serverless::Function"}}})
    assert not uses_sam({"Resources": {"R": {"Type": "AWS::IAM::Role"}}})


def test_the_translator_is_imported_only_for_sam_templates() -> None:
    import subprocess
    import sys

    plain = SAM_APP.parent / "zeet-role.yaml"
    script = (
        "import sys\nfrom pathlib import Path\nfrom zeet_iam_audit.sources import load_file\n"
        f"load_file(Path({str(plain)!r}))\nprint('samtranslator' in sys.modules)\n"
        f"load_file(Path({str(SAM_APP)!r}))\nprint('samtranslator' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]


def test_a_nested_application_is_named_and_the_role_it_is_given_is_unknown() -> None:
    result = load_file(SAM_APP)
    (rotation,) = [s for s in result.skipped if s.name == "Rotation"]
    assert rotation.reason.startswith(
        "a nested application (AWS::Serverless::Application): its template (Location "
        "arn:aws:serverlessrepo:us-east-1:123456789012:applications/zeet-log-rotation 1.4.0) is not in this file"
    )
    (unknown,) = _roles(SAM_APP)["NotifierRole"].unknowns
    assert "Rotation receives this role in its parameter ExecutionRoleArn" in unknown
