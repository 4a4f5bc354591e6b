"""Input sources: files that describe IAM roles → ``Role`` values.

One module per input kind, each turning decoded data into roles:

=================  ==========================================================================
``gaad``           ``aws iam get-account-authorization-details`` output (one page or a list)
``role``           ``aws iam get-role`` output, optionally with its policies (``role_json``)
``policy``         one identity policy document → one role named after the file
``cloudformation`` a CloudFormation template, JSON or YAML with short-form tags
``terraform``      ``terraform show -json`` of a saved plan (or of a state)
=================  ==========================================================================

``load_file`` reads a file safely (``reading``), detects its kind from the content (``detect``)
unless one is forced, and returns a ``SourceResult``: every role in the file (choosing among them is
the caller's job), what was skipped and why, the input type and the path. Every failure to read or
understand the file is an ``InputError`` of one line naming the file and the place.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from zeet_iam_audit.errors import InputError, UsageError
from zeet_iam_audit.model import Role
from zeet_iam_audit.sources.cloudformation import read_template
from zeet_iam_audit.sources.detect import detect_input_type
from zeet_iam_audit.sources.gaad import read_gaad
from zeet_iam_audit.sources.managed import (
    ManagedPolicyData,
    managed_policy_data,
    resolve_managed_policy,
)
from zeet_iam_audit.sources.reading import MAX_DEPTH, load_document
from zeet_iam_audit.sources.result import INPUT_TYPES, Skipped, SourceResult
from zeet_iam_audit.sources.role_json import read_policy_file, read_role_file
from zeet_iam_audit.sources.shape import Locator
from zeet_iam_audit.sources.terraform import read_plan

__all__ = [
    "INPUT_TYPES",
    "ManagedPolicyData",
    "Skipped",
    "SourceResult",
    "detect_input_type",
    "load_file",
    "managed_policy_data",
    "resolve_managed_policy",
]


def load_file(
    path: Path,
    input_type: str | None = None,
    *,
    parameters: Mapping[str, str] | None = None,
) -> SourceResult:
    """Read one input file and return every role it describes.

    ``input_type`` forces a kind (one of ``INPUT_TYPES``) instead of detecting it; a file that does
    not have that kind's shape is then an ``InputError`` naming the first place that does not fit.
    ``parameters`` are CloudFormation parameter values (and pseudo parameters such as
    ``AWS::AccountId``); other kinds ignore them. A forced type outside ``INPUT_TYPES``, or a
    parameter the template does not declare, is a ``UsageError``.
    """
    if input_type is not None and input_type not in INPUT_TYPES:
        raise UsageError(
            f"unknown input type {input_type!r} (expected one of {', '.join(INPUT_TYPES)})"
        )
    display = str(path)
    document = load_document(path, display)
    locator = Locator(display)
    kind = input_type or detect_input_type(document.data, where=display)
    roles: list[Role]
    skipped: list[Skipped] = []
    try:
        if kind == "gaad":
            roles, skipped = read_gaad(document.data, locator)
        elif kind == "role":
            roles = read_role_file(document.data, locator)
        elif kind == "policy":
            roles = read_policy_file(document.data, locator, path)
        elif kind == "cloudformation":
            roles, skipped = read_template(document.data, locator, parameters)
        else:
            roles, skipped = read_plan(document.data, locator)
    except RecursionError:
        raise InputError(f"{display}: nested more than {MAX_DEPTH} levels deep") from None
    return SourceResult(roles=tuple(roles), skipped=tuple(skipped), input_type=kind, path=display)
