"""A generated role as text: a role file the audit reads, a CloudFormation template, Terraform HCL.

- ``json``: ``aws iam get-role`` output with the policies beside it (the shape
  ``zeet_iam_audit.sources.role_json`` documents): ``Role``, ``RolePolicies: []`` and
  ``AttachedPolicies`` with each policy's ``PolicyDocument``. ``zeet-iam-audit --file`` audits it
  as it is. ARNs use ``account_id`` (the customer's account; ``000000000000`` stands in when it is
  not given: the file is for auditing, not for deploying).
- ``cloudformation``: YAML with ``AWS::IAM::Role`` and one ``AWS::IAM::ManagedPolicy`` per policy,
  attached through the role's ``ManagedPolicyArns``; Zeet's account id and the external id are
  parameters whose defaults are the given values. Deploying it needs ``CAPABILITY_NAMED_IAM``.
- The permissions boundary for the roles Zeet creates, when ``generate`` writes one, is one more
  managed policy in the CloudFormation and Terraform output, attached to nothing (the role file
  leaves it out: it is not part of the role).
- ``terraform``: HCL with ``aws_iam_role``, ``aws_iam_policy`` and
  ``aws_iam_role_policy_attachment``, documents written with ``jsonencode``; the account id and
  the external id are variables with the given values as defaults. The text is laid out as
  ``terraform fmt`` lays it out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from zeet_iam_audit import __version__
from zeet_iam_audit.support.generation import GeneratedRole

FORMATS = ("json", "cloudformation", "terraform")
PLACEHOLDER_ACCOUNT = "000000000000"
ROLE_LOGICAL_ID = "ZeetRole"
BOUNDARY_LOGICAL_ID = "ZeetCreatedRolesBoundary"


def _logical_id(number: int) -> str:
    return f"ZeetPolicy{number}"


def render_role_json(role: GeneratedRole, account_id: str | None = None) -> str:
    """The role as a role file (get-role output with its policies)."""
    account = account_id or PLACEHOLDER_ACCOUNT
    document = {
        "Role": {
            "Path": "/",
            "RoleName": role.role_name,
            "Arn": f"arn:aws:iam::{account}:role/{role.role_name}",
            "AssumeRolePolicyDocument": role.trust_policy,
            "Description": role.description,
            "MaxSessionDuration": role.max_session_duration,
            "Tags": [{"Key": "GeneratedBy", "Value": f"zeet-iam-audit {__version__}"}],
        },
        "RolePolicies": [],
        "AttachedPolicies": [
            {
                "PolicyName": policy.name,
                "PolicyArn": f"arn:aws:iam::{account}:policy/{policy.name}",
                "PolicyDocument": policy.document,
            }
            for policy in role.policies
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- CloudFormation -------------------------------------------------------------------------------


def cloudformation_template(role: GeneratedRole) -> dict[str, Any]:
    """The template as data (rendered to YAML by ``render_cloudformation``)."""
    statement = dict(role.trust_policy["Statement"][0])
    trust_condition = {
        operator: {key: {"Ref": "ExternalId"} for key in keys} for operator, keys in statement["Condition"].items()
    }
    principal = statement["Principal"]["AWS"].replace(role.zeet_account_id, "${ZeetAccountId}")
    principal = principal.replace("arn:aws:", "arn:${AWS::Partition}:", 1)
    trust = {
        "Version": role.trust_policy["Version"],
        "Statement": [
            {
                "Effect": statement["Effect"],
                "Principal": {"AWS": {"Fn::Sub": principal}},
                "Action": statement["Action"],
                "Condition": trust_condition,
            }
        ],
    }
    resources: dict[str, Any] = {
        ROLE_LOGICAL_ID: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": role.role_name,
                "Description": role.description,
                "MaxSessionDuration": role.max_session_duration,
                "AssumeRolePolicyDocument": trust,
                "ManagedPolicyArns": [{"Ref": _logical_id(n)} for n in range(1, len(role.policies) + 1)],
            },
        },
    }
    for number, policy in enumerate(role.policies, 1):
        resources[_logical_id(number)] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": policy.name,
                "Description": policy.description,
                "PolicyDocument": policy.document,
            },
        }
    if not role.policies:
        del resources[ROLE_LOGICAL_ID]["Properties"]["ManagedPolicyArns"]
    outputs: dict[str, Any] = {
        "RoleArn": {
            "Description": "The role to give Zeet",
            "Value": {"Fn::GetAtt": [ROLE_LOGICAL_ID, "Arn"]},
        },
    }
    if role.boundary is not None:
        # Not attached to the role: the boundary every role Zeet creates must carry.
        resources[BOUNDARY_LOGICAL_ID] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": role.boundary.name,
                "Description": role.boundary.description,
                "PolicyDocument": role.boundary.document,
            },
        }
        outputs["CreatedRolesBoundaryArn"] = {
            "Description": "The permissions boundary Zeet must set on the IAM roles it creates",
            "Value": {"Ref": BOUNDARY_LOGICAL_ID},
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{role.description} (generated by zeet-iam-audit {__version__})"[:1024],
        "Parameters": {
            "ZeetAccountId": {
                "Type": "String",
                "Description": "Zeet's management account id: the account that assumes this role",
                "AllowedPattern": "^[0-9]{12}$",
                "Default": role.zeet_account_id,
            },
            "ExternalId": {
                "Type": "String",
                "Description": "The external id Zeet passes when it assumes this role",
                "MinLength": 2,
                "Default": role.external_id,
            },
        },
        "Resources": resources,
        "Outputs": outputs,
    }


def render_cloudformation(role: GeneratedRole) -> str:
    """The role as a CloudFormation template in YAML."""
    import yaml  # a YAML library only where a template is written

    header = (
        f"# {role.role_name}: Zeet's cloud connection role, least privilege for "
        f"{', '.join(role.features) or 'no feature'}\n"
        f"# Generated by zeet-iam-audit {__version__}. Deploy with --capabilities CAPABILITY_NAMED_IAM.\n"
    )
    body = yaml.safe_dump(
        cloudformation_template(role), sort_keys=False, default_flow_style=False, width=100, allow_unicode=True
    )
    return header + body


# -- Terraform ------------------------------------------------------------------------------------


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_TEMPLATE = re.compile(r"([$%])\{")


def hcl_string(value: str) -> str:
    """A quoted HCL string: JSON escapes, and ``${``/``%{`` doubled so they stay literal."""
    return _TEMPLATE.sub(r"\1\1{", json.dumps(value, ensure_ascii=False))


def _key(key: str) -> str:
    return key if _IDENTIFIER.match(key) else hcl_string(key)


class _Raw(str):
    """An HCL expression written as it is (``var.external_id``, a template string)."""


def _value_lines(value: Any, indent: str) -> list[str]:
    """The value as HCL lines; the first line has no indentation (it follows ``key = ``)."""
    inner = indent + "  "
    if isinstance(value, _Raw):
        return str(value).split("\n")
    if isinstance(value, str):
        return [hcl_string(value)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, int | float):
        return [json.dumps(value)]
    if isinstance(value, Mapping):
        if not value:
            return ["{}"]
        return ["{", *_attribute_lines(value, inner), indent + "}"]
    if isinstance(value, Sequence):
        if not value:
            return ["[]"]
        if len(value) == 1 and isinstance(value[0], str):
            return [f"[{_value_lines(value[0], inner)[0]}]"]
        lines = ["["]
        for item in value:
            rendered = _value_lines(item, inner)
            lines.append(inner + rendered[0])
            lines.extend(rendered[1:])
            lines[-1] += ","
        lines.append(indent + "]")
        return lines
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def _attribute_lines(attributes: Mapping[str, Any], indent: str) -> list[str]:
    """``key = value`` lines, equals signs aligned the way ``terraform fmt`` aligns them: across runs
    of consecutive one-line attributes; an attribute whose value spans lines ends a run and is not
    aligned itself."""
    rendered = [(_key(key), _value_lines(value, indent)) for key, value in attributes.items()]
    lines: list[str] = []
    run: list[tuple[str, list[str]]] = []

    def flush() -> None:
        width = max(len(key) for key, _ in run)
        for key, value in run:
            lines.append(f"{indent}{key.ljust(width)} = {value[0]}")
            lines.extend(value[1:])
        run.clear()

    for key, value in rendered:
        if len(value) == 1:
            run.append((key, value))
            continue
        if run:
            flush()
        lines.append(f"{indent}{key} = {value[0]}")
        lines.extend(value[1:])
    if run:
        flush()
    return lines


def _block(header: str, attributes: Mapping[str, Any]) -> str:
    return "\n".join([f"{header} {{", *_attribute_lines(attributes, "  "), "}"])


def _jsonencode(document: Mapping[str, Any]) -> _Raw:
    lines = _value_lines(document, "  ")
    return _Raw("jsonencode(" + "\n".join(lines) + ")")


def _resource_name(number: int) -> str:
    return f"zeet_{number}"


def render_terraform(role: GeneratedRole) -> str:
    """The role as Terraform HCL."""
    statement = dict(role.trust_policy["Statement"][0])
    principal = statement["Principal"]["AWS"].replace(role.zeet_account_id, "${var.zeet_account_id}")
    trust = {
        "Version": role.trust_policy["Version"],
        "Statement": [
            {
                "Effect": statement["Effect"],
                "Principal": {"AWS": _Raw(json.dumps(principal))},
                "Action": statement["Action"],
                "Condition": {
                    operator: {key: _Raw("var.external_id") for key in keys}
                    for operator, keys in statement["Condition"].items()
                },
            }
        ],
    }
    blocks = [
        f"# {role.role_name}: Zeet's cloud connection role, least privilege for "
        f"{', '.join(role.features) or 'no feature'}\n# Generated by zeet-iam-audit {__version__}.",
        _block(
            'variable "zeet_account_id"',
            {
                "description": "Zeet's management account id: the account that assumes this role",
                "type": _Raw("string"),
                "default": role.zeet_account_id,
            },
        ),
        _block(
            'variable "external_id"',
            {
                "description": "The external id Zeet passes when it assumes this role",
                "type": _Raw("string"),
                "default": role.external_id,
            },
        ),
        _block(
            'resource "aws_iam_role" "zeet"',
            {
                "name": role.role_name,
                "description": role.description,
                "max_session_duration": role.max_session_duration,
                "assume_role_policy": _jsonencode(trust),
            },
        ),
    ]
    for number, policy in enumerate(role.policies, 1):
        blocks.append(
            _block(
                f'resource "aws_iam_policy" "{_resource_name(number)}"',
                {
                    "name": policy.name,
                    "description": policy.description,
                    "policy": _jsonencode(policy.document),
                },
            )
        )
        blocks.append(
            _block(
                f'resource "aws_iam_role_policy_attachment" "{_resource_name(number)}"',
                {
                    "role": _Raw("aws_iam_role.zeet.name"),
                    "policy_arn": _Raw(f"aws_iam_policy.{_resource_name(number)}.arn"),
                },
            )
        )
    if role.boundary is not None:
        # Not attached to the role: the boundary every role Zeet creates must carry.
        blocks.append(
            _block(
                'resource "aws_iam_policy" "zeet_boundary"',
                {
                    "name": role.boundary.name,
                    "description": role.boundary.description,
                    "policy": _jsonencode(role.boundary.document),
                },
            )
        )
    blocks.append(
        _block(
            'output "role_arn"',
            {
                "description": "The role to give Zeet",
                "value": _Raw("aws_iam_role.zeet.arn"),
            },
        )
    )
    if role.boundary is not None:
        blocks.append(
            _block(
                'output "created_roles_boundary_arn"',
                {
                    "description": "The permissions boundary Zeet must set on the IAM roles it creates",
                    "value": _Raw("aws_iam_policy.zeet_boundary.arn"),
                },
            )
        )
    return "\n\n".join(blocks) + "\n"


def render(role: GeneratedRole, fmt: str, *, account_id: str | None = None) -> str:
    """The role in one of ``FORMATS``."""
    if fmt == "json":
        return render_role_json(role, account_id)
    if fmt == "cloudformation":
        return render_cloudformation(role)
    if fmt == "terraform":
        return render_terraform(role)
    raise ValueError(fmt)
