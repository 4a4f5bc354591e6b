"""Terraform plans (terraform show -json) → roles, linked through values and configuration references."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.model import Role
from zeet_iam_audit.sources import load_file
from zeet_iam_audit.sources.terraform import strip_indexes

WriteFile = Callable[[str, str | bytes], Path]
PLAN = Path(__file__).resolve().parents[2] / "fixtures" / "terraform" / "plan.json"
ZEET = "module.zeet_role.aws_iam_role.this"


def _plan() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PLAN.read_text(encoding="utf-8"))
    return data


def _roles(path: Path) -> dict[str, Role]:
    return {str(role.address): role for role in load_file(path).roles}


def _dump(write_file: WriteFile, data: object) -> Path:
    return write_file("plan.json", json.dumps(data))


def _resources(plan: dict[str, Any]) -> list[dict[str, Any]]:
    root = plan["planned_values"]["root_module"]
    found: list[dict[str, Any]] = list(root["resources"])
    for child in root["child_modules"]:
        found.extend(child["resources"])
    return found


def _change(plan: dict[str, Any], address: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in plan["resource_changes"] if c["address"] == address]
    (change,) = found
    return change


def test_plan_roles() -> None:
    result = load_file(PLAN)
    assert result.input_type == "terraform"
    assert result.skipped == ()
    assert [(r.name, r.address) for r in result.roles] == [
        ("zeet-preview-lambda", "aws_iam_role.lambda_exec"),
        ("zeet-cloud-connection", ZEET),
    ]
    for role in result.roles:
        assert role.arn is None  # known only after apply
        assert role.trust_policy is not None
        assert role.unknowns == ()
        assert role.max_session_duration == 3600


def test_zeet_role_attachments_in_and_across_modules() -> None:
    role = _roles(PLAN)[ZEET]
    assert role.trust_policy is not None
    assert str(role.trust_policy.origin) == f"{PLAN}: {ZEET}.assume_role_policy"
    assert [(p.name, p.inline, str(p.origin).removeprefix(f"{PLAN}: ")) for p in role.policies] == [
        # role = module.zeet_role.role_id (unknown) → followed through the module output
        ("ZeetCapacityQueue", True, "aws_iam_role_policy.capacity_queue"),
        # role = module.zeet_role.role_name, known at plan time
        ("CloudWatchLogsReadOnlyAccess", False, "aws_iam_role_policy_attachment.readonly_logs"),
        # role = aws_iam_role.this.id (unknown) → configuration references
        ("ZeetMonitoring", True, "module.zeet_role.aws_iam_role_policy.monitoring"),
        # policy_arn = aws_iam_policy.container.arn (unknown) → the plan's policy document
        ("ZeetContainerManagement", False, "module.zeet_role.aws_iam_role_policy_attachment.container"),
        ("AmazonEC2ContainerRegistryPowerUser", False,
         'module.zeet_role.aws_iam_role_policy_attachment.managed["AmazonEC2ContainerRegistryPowerUser"]'),
        ("ServiceQuotasReadOnlyAccess", False,
         'module.zeet_role.aws_iam_role_policy_attachment.managed["ServiceQuotasReadOnlyAccess"]'),
    ]  # fmt: skip
    capacity, *known = role.policies
    assert capacity.policy is None
    assert capacity.unknown_reason == f"{PLAN}: aws_iam_role_policy.capacity_queue.policy: known only after apply"
    assert all(p.policy is not None for p in known)
    container = known[2].policy
    assert container is not None
    assert str(container.origin) == f"{PLAN}: module.zeet_role.aws_iam_policy.container.policy"


def test_lambda_role_inline_blocks_and_managed_arns() -> None:
    role = _roles(PLAN)["aws_iam_role.lambda_exec"]
    assert role.path == "/service-role/"
    inline, basic = role.policies
    assert (inline.name, inline.inline, str(inline.origin)) == (
        "preview-artifacts", True, f"{PLAN}: aws_iam_role.lambda_exec.inline_policy[0]"
    )  # fmt: skip
    assert inline.policy is not None
    assert str(inline.policy.origin) == f"{PLAN}: aws_iam_role.lambda_exec.inline_policy[0].policy"
    assert basic.arn == "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert basic.policy is not None


def test_known_role_arn_is_kept(write_file: WriteFile) -> None:
    plan = _plan()
    arn = "arn:aws:iam::123456789012:role/zeet-cloud-connection"
    for resource in _resources(plan):
        if resource["address"] == ZEET:
            resource["values"]["arn"] = arn
    del _change(plan, ZEET)["change"]["after_unknown"]["arn"]
    assert _roles(_dump(write_file, plan))[ZEET].arn == arn


def test_state_json_uses_values(write_file: WriteFile) -> None:
    plan = _plan()
    policy_arn = "arn:aws:iam::123456789012:policy/ZeetContainerManagement"
    applied = {  # what apply filled in
        ZEET: {"arn": "arn:aws:iam::123456789012:role/zeet-cloud-connection", "id": "zeet-cloud-connection"},
        "module.zeet_role.aws_iam_policy.container": {"arn": policy_arn},
        "module.zeet_role.aws_iam_role_policy_attachment.container": {"policy_arn": policy_arn},
        "module.zeet_role.aws_iam_role_policy.monitoring": {"role": "zeet-cloud-connection"},
        "aws_iam_role_policy.capacity_queue": {
            "role": "zeet-cloud-connection",
            "policy": json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sqs:ReceiveMessage",
                "Resource": "arn:aws:sqs:us-east-1:123456789012:zeet-capacity-events"}]}),
        },
    }  # fmt: skip
    for resource in _resources(plan):
        resource["values"].update(applied.get(resource["address"], {}))
    state = {"format_version": "1.0", "terraform_version": "1.7.5", "values": plan["planned_values"]}
    roles = _roles(_dump(write_file, state))
    zeet = roles[ZEET]
    assert zeet.arn == applied[ZEET]["arn"]
    assert zeet.unknowns == ()
    assert [(p.name, p.policy is not None) for p in zeet.policies] == [
        ("ZeetCapacityQueue", True),
        ("CloudWatchLogsReadOnlyAccess", True),
        ("ZeetMonitoring", True),
        ("ZeetContainerManagement", True),
        ("AmazonEC2ContainerRegistryPowerUser", True),
        ("ServiceQuotasReadOnlyAccess", True),
    ]


def test_missing_values_without_configuration_are_unknown(write_file: WriteFile) -> None:
    state = {"format_version": "1.0", "values": _plan()["planned_values"]}
    path = _dump(write_file, state)
    zeet = _roles(path)[ZEET]
    container = zeet.policies[1]
    assert container.policy is None
    assert container.unknown_reason is not None
    assert "policy_arn is known only after apply" in container.unknown_reason
    assert len(zeet.unknowns) == 2  # the two role policies whose role is missing


def test_attachment_with_unlinkable_role_makes_every_role_unknown(write_file: WriteFile) -> None:
    plan = _plan()
    module = plan["configuration"]["root_module"]["module_calls"]["zeet_role"]["module"]
    (monitoring,) = [r for r in module["resources"] if r["address"] == "aws_iam_role_policy.monitoring"]
    monitoring["expressions"]["role"] = {"references": ["local.role_id"]}
    path = _dump(write_file, plan)
    roles = _roles(path)
    expected = (
        f"{path}: module.zeet_role.aws_iam_role_policy.monitoring.role: may attach to this role; "
        "its role is known only after apply and the configuration does not say which"
    )
    assert roles[ZEET].unknowns == (expected,)
    assert roles["aws_iam_role.lambda_exec"].unknowns == (expected,)


def test_attachment_to_a_role_outside_the_plan_is_skipped(write_file: WriteFile) -> None:
    plan = _plan()
    for resource in _resources(plan):
        if resource["address"] == "aws_iam_role_policy_attachment.readonly_logs":
            resource["values"]["role"] = "existing-ops-role"
    path = _dump(write_file, plan)
    (skipped,) = load_file(path).skipped
    assert skipped.name == "aws_iam_role_policy_attachment.readonly_logs (existing-ops-role)"
    assert str(skipped.origin) == f"{path}: aws_iam_role_policy_attachment.readonly_logs.role"


def test_garbage_policy_string_is_unknown(write_file: WriteFile) -> None:
    plan = _plan()
    for resource in _resources(plan):
        if resource["address"] == "module.zeet_role.aws_iam_role_policy.monitoring":
            resource["values"]["policy"] = '{"Statement": [{"Effect": "Allow", "Action": "logs:*"'
    path = _dump(write_file, plan)
    monitoring = _roles(path)[ZEET].policies[2]
    assert monitoring.policy is None
    assert monitoring.unknown_reason is not None
    assert monitoring.unknown_reason.startswith(
        f"{path}: module.zeet_role.aws_iam_role_policy.monitoring.policy: not valid JSON"
    )


def test_configured_inline_policy_known_only_after_apply(write_file: WriteFile) -> None:
    plan = _plan()
    for resource in _resources(plan):
        if resource["address"] == "aws_iam_role.lambda_exec":
            del resource["values"]["inline_policy"]
    _change(plan, "aws_iam_role.lambda_exec")["change"]["after_unknown"]["inline_policy"] = True
    path = _dump(write_file, plan)
    role = _roles(path)["aws_iam_role.lambda_exec"]
    assert role.unknowns == (f"{path}: aws_iam_role.lambda_exec.inline_policy: known only after apply",)


def test_permissions_boundary_linked_to_a_plan_policy(write_file: WriteFile) -> None:
    plan = _plan()
    _change(plan, ZEET)["change"]["after_unknown"]["permissions_boundary"] = True
    for resource in _resources(plan):
        if resource["address"] == ZEET:
            del resource["values"]["permissions_boundary"]
    module = plan["configuration"]["root_module"]["module_calls"]["zeet_role"]["module"]
    (role_config,) = [r for r in module["resources"] if r["address"] == "aws_iam_role.this"]
    role_config["expressions"]["permissions_boundary"] = {
        "references": ["aws_iam_policy.container.arn", "aws_iam_policy.container"]
    }
    boundary = _roles(_dump(write_file, plan))[ZEET].permissions_boundary
    assert boundary is not None
    assert boundary.name == "ZeetContainerManagement"
    assert boundary.policy is not None


def test_unknown_trust_policy(write_file: WriteFile) -> None:
    plan = _plan()
    for resource in _resources(plan):
        if resource["address"] == ZEET:
            del resource["values"]["assume_role_policy"]
    _change(plan, ZEET)["change"]["after_unknown"]["assume_role_policy"] = True
    path = _dump(write_file, plan)
    role = _roles(path)[ZEET]
    assert role.trust_policy is None
    assert role.trust_unknown_reason == f"{path}: {ZEET}.assume_role_policy: known only after apply"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(lambda p: {**p, "format_version": "2.0"},
                     "$.format_version: expected format version 0.1 or 0.2 (Terraform 0.12 to 1.0) or 1.x",
                     id="format version 2"),
        pytest.param(lambda p: {**p, "format_version": "0.3"}, "$.format_version: expected format version",
                     id="format version 0.3"),
        pytest.param(lambda p: {**p, "format_version": 1.2}, "$.format_version: expected format version",
                     id="format version a number"),
        pytest.param(lambda p: {"format_version": "1.2", "configuration": {}},
                     "$: expected planned_values", id="no values"),
        pytest.param(lambda p: {**p, "planned_values": {"root_module": {"resources": {}}}},
                     "$.planned_values.root_module.resources: expected a list", id="resources"),
        pytest.param(lambda p: {**p, "planned_values": {"root_module": {"resources": [{"type": "aws_iam_role"}]}}},
                     "$.planned_values.root_module.resources[0].address: expected a string", id="address"),
    ],
)  # fmt: skip
def test_wrong_shape(write_file: WriteFile, change: Callable[[dict[str, Any]], object], expected: str) -> None:
    path = _dump(write_file, change(_plan()))
    with pytest.raises(InputError) as caught:
        load_file(path, "terraform")
    assert str(caught.value).startswith(f"{path}: {expected}")


def test_empty_plan(write_file: WriteFile) -> None:
    path = _dump(write_file, {"format_version": "1.2", "planned_values": {"outputs": {}}})
    assert load_file(path).roles == ()


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("aws_iam_role.this", "aws_iam_role.this"),
        ("module.a[0].aws_iam_role.r[2]", "module.a.aws_iam_role.r"),
        ('module.b["x.y"].aws_iam_role_policy_attachment.m["arn:aws:iam::aws:policy/A]"]',
         "module.b.aws_iam_role_policy_attachment.m"),
    ],
)  # fmt: skip
def test_strip_indexes(address: str, expected: str) -> None:
    assert strip_indexes(address) == expected


# --- Plans made by real Terraform (fixtures/terraform/zeet-module, regenerate.sh) -------------------

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "terraform" / "zeet-module"


def _summary(path: Path) -> list[tuple[object, ...]]:
    """What a plan says about each role, without the file name in the origins."""
    result = load_file(path)
    assert result.skipped == ()
    prefix = f"{path}: "
    return [
        (
            role.name,
            role.address,
            role.max_session_duration,
            role.trust_policy is not None,
            tuple(
                (p.name, p.arn, p.inline, p.policy is not None, (p.unknown_reason or "").replace(prefix, ""))
                for p in role.policies
            ),
            role.permissions_boundary.name if role.permissions_boundary else None,
            tuple(reason.replace(prefix, "") for reason in role.unknowns),
        )
        for role in result.roles
    ]


def test_real_plan_module_for_each_and_values_known_after_apply() -> None:
    roles = {str(role.address): role for role in load_file(REAL / "plan.json").roles}
    assert sorted(roles) == ["aws_iam_role.worker", ZEET]
    zeet = roles[ZEET]
    assert zeet.name == "zeet-cloud-connection"
    assert zeet.max_session_duration == 7200
    assert zeet.unknowns == ()
    assert zeet.trust_policy is not None
    (trust,) = zeet.trust_policy.statements
    assert trust.principal is not None
    assert trust.principal.identifiers("AWS") == ("arn:aws:iam::111122223333:root",)
    assert [(c.operator, c.key, c.values) for c in trust.conditions] == [
        ("StringEquals", "sts:ExternalId", ("zeet-external-id-example",))
    ]
    # Attached through the module: an inline policy, a policy whose ARN is known only after apply
    # (linked by the configuration's reference) and two AWS managed policies through for_each.
    assert [(p.name, p.arn, p.policy is not None) for p in zeet.policies] == [
        ("monitoring", None, True),
        ("zeet-cloud-connection-deploy", None, True),
        ("AmazonEC2ContainerRegistryPowerUser", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser", True),
        ("ServiceQuotasReadOnlyAccess", "arn:aws:iam::aws:policy/ServiceQuotasReadOnlyAccess", True),
    ]
    assert zeet.permissions_boundary is not None
    assert zeet.permissions_boundary.name == "zeet-cloud-connection-boundary"
    assert zeet.permissions_boundary.policy is not None

    worker = roles["aws_iam_role.worker"]
    names = [p.name for p in worker.policies]
    assert names == ["logs", "queue", "AWSXrayWriteOnlyAccess"]
    logs, queue, xray = worker.policies
    assert xray.policy is not None  # an AWS managed policy, read from the offline copy
    assert logs.inline
    assert logs.policy is not None
    # The queue's ARN is known only after apply, so the whole document is; the role it attaches to
    # (aws_iam_role.worker.id, also unknown) is found through the configuration.
    assert queue.policy is None
    assert queue.unknown_reason == (
        f"{REAL / 'plan.json'}: aws_iam_role_policy.worker_queue.policy: known only after apply"
    )


@pytest.mark.parametrize("older", ["plan-0.2.json", "plan-0.1.json"])
def test_older_format_versions_read_as_the_same_plan(older: str) -> None:
    data = json.loads((REAL / older).read_text(encoding="utf-8"))
    assert data["format_version"] == older[len("plan-") : -len(".json")]
    assert _summary(REAL / older) == _summary(REAL / "plan.json")


def test_format_0_1_without_sensitive_marks_or_attribute_references() -> None:
    text = (REAL / "plan-0.1.json").read_text(encoding="utf-8")
    assert "after_sensitive" not in text
    assert "sensitive_values" not in text
    assert '"aws_iam_policy.deploy.arn"' not in text  # references name the resource only
    roles = {role.address: role for role in load_file(REAL / "plan-0.1.json").roles}
    deploy = roles[ZEET].policies[1]
    assert (deploy.name, deploy.policy is not None) == ("zeet-cloud-connection-deploy", True)
