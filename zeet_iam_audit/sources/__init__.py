"""Input sources: files that describe IAM roles → ``Role`` values.

One module per input kind, each turning decoded data into roles:

=================  ==========================================================================
``gaad``           ``aws iam get-account-authorization-details`` output (one page or a list)
``role``           ``aws iam get-role`` output, optionally with its policies (``role_json``)
``policy``         one identity policy document → one role named after the file
``cloudformation`` a CloudFormation template, JSON or YAML with short-form tags
``terraform``      ``terraform show -json`` of a saved plan (or of a state)
=================  ==========================================================================

Each kind is a ``Source`` (``interface``), chosen from one table, ``SOURCES``, by input type; each
imports its reader only when it reads. ``load_file`` reads a file safely (``reading``), detects its
kind from the content (``detect``) unless one is forced, and returns a ``SourceResult``: every role
in the file (choosing among them is the caller's job), what was skipped and why, the input type and
the path. Every failure to read or understand the file is an ``InputError`` of one line naming the
file and the place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from zeet_iam_audit.errors import InputError, UsageError
from zeet_iam_audit.sources.detect import detect_input_type
from zeet_iam_audit.sources.interface import SOURCES, Source
from zeet_iam_audit.sources.lazy import LazyRoles
from zeet_iam_audit.sources.managed import (
    ManagedPolicyData,
    managed_policy_data,
    resolve_managed_policy,
)
from zeet_iam_audit.sources.reading import MAX_DEPTH, MAX_INPUT_BYTES, load_document
from zeet_iam_audit.sources.result import INPUT_TYPES, Skipped, SourceResult
from zeet_iam_audit.sources.shape import Locator

__all__ = [
    "INPUT_TYPES",
    "SOURCES",
    "ManagedPolicyData",
    "Skipped",
    "Source",
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
    lazy: bool = False,
    max_bytes: int = MAX_INPUT_BYTES,
) -> SourceResult:
    """Read one input file and return every role it describes.

    ``input_type`` forces a kind (one of ``INPUT_TYPES``) instead of detecting it; a file that does
    not have that kind's shape is then an ``InputError`` naming the first place that does not fit.
    ``parameters`` are CloudFormation parameter values (and pseudo parameters such as
    ``AWS::AccountId``); other kinds ignore them. A forced type outside ``INPUT_TYPES``, or a
    parameter the template does not declare, is a ``UsageError``.

    With ``lazy``, the roles of an authorization-details file are a ``LazyRoles``: each is read on
    first use, and a role that cannot be read raises its ``InputError`` then rather than here.
    ``path`` ``-`` is standard input; ``max_bytes`` the largest input read (``--max-input-mb``).
    """
    if input_type is not None and input_type not in INPUT_TYPES:
        raise UsageError(f"unknown input type {input_type!r} (expected one of {', '.join(INPUT_TYPES)})")
    display = "standard input" if str(path) == "-" else str(path)
    document = load_document(path, display, max_bytes)
    locator = Locator(display)
    kind = input_type or detect_input_type(document.data, where=display)
    try:
        result = SOURCES[kind].read(document.data, locator, path, parameters)
        if not (lazy and isinstance(result.roles, LazyRoles)):
            result = replace(result, roles=tuple(result.roles))  # every role read now, its errors raised here
    except RecursionError:
        raise InputError(f"{display}: nested more than {MAX_DEPTH} levels deep") from None
    return result
