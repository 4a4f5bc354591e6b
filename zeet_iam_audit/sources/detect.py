"""Which kind of input a decoded file is, judged from its content alone."""

from __future__ import annotations

import json
from collections.abc import Mapping

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.sources.gaad import looks_like_gaad
from zeet_iam_audit.sources.shape import describe

EXPECTED = (
    "expected an authorization-details file (RoleDetailList), get-role output (Role), a policy "
    "document (Statement), a CloudFormation template (Resources) or a Terraform plan "
    "(format_version)"
)


# The marks of each kind, here rather than in each reader, so that detecting a kind does not import
# the readers of the others.


def looks_like_cloudformation(data: object) -> bool:
    """A mapping with ``Resources`` (an object) or ``AWSTemplateFormatVersion``."""
    if not isinstance(data, Mapping):
        return False
    return isinstance(data.get("Resources"), Mapping) or "AWSTemplateFormatVersion" in data


def looks_like_terraform(data: object) -> bool:
    """``terraform show -json`` output: ``format_version`` with plan or state values."""
    if not isinstance(data, Mapping) or "format_version" not in data:
        return False
    return any(key in data for key in ("planned_values", "values", "resource_changes", "configuration"))


def looks_like_role(data: object) -> bool:
    """``{"Role": {...}}``, or a bare role object (``RoleName``, ``AssumeRolePolicyDocument``)."""
    if not isinstance(data, Mapping):
        return False
    if isinstance(data.get("Role"), Mapping):
        return True
    return "RoleName" in data and "AssumeRolePolicyDocument" in data


def looks_like_policy(data: object) -> bool:
    """A bare document, ``get-role-policy`` output or ``get-policy-version`` output."""
    if not isinstance(data, Mapping):
        return False
    if "Statement" in data:
        return True
    if "PolicyDocument" in data and "PolicyName" in data:
        return True
    version = data.get("PolicyVersion")
    return isinstance(version, Mapping) and "Document" in version


def detect_input_type(data: object, *, where: str = "input") -> str:
    """One of ``INPUT_TYPES`` for decoded input ``data``.

    The checks go from the most specific marker to the least: a Terraform plan's
    ``format_version``, an authorization-details file's ``RoleDetailList``, a template's
    ``Resources``, get-role's ``Role``, a policy's ``Statement``. Raises ``InputError`` naming
    ``where`` (the file) when nothing fits.
    """
    if looks_like_terraform(data):
        return "terraform"
    if looks_like_gaad(data):
        return "gaad"
    if looks_like_cloudformation(data):
        return "cloudformation"
    if looks_like_role(data):
        return "role"
    if looks_like_policy(data):
        return "policy"
    if isinstance(data, Mapping):
        names = sorted(str(key) for key in data)[:8]
        # Quoted when not printable: a key holding a newline must not break the one-line error.
        keys = ", ".join(name if name.isprintable() else json.dumps(name) for name in names) or "none"
        raise InputError(f"{where}: $: not a recognised input; {EXPECTED}; found keys: {keys}")
    raise InputError(f"{where}: $: not a recognised input; {EXPECTED}; found {describe(data)}")
