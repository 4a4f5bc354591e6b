"""The input kinds' one small interface: ``Source``, and ``SOURCES``, one per input type.

A source turns a decoded document into a ``SourceResult``. Each implementation imports its reader
only when it reads, so auditing a Terraform plan never imports the CloudFormation code.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from zeet_iam_audit.sources.result import SourceResult
from zeet_iam_audit.sources.shape import Locator


@runtime_checkable
class Source(Protocol):
    """One input kind."""

    @property
    def input_type(self) -> str:
        """The ``--input-type`` name (one of ``INPUT_TYPES``)."""
        ...

    def read(
        self, document: object, locator: Locator, path: Path, parameters: Mapping[str, str] | None
    ) -> SourceResult:
        """Every role in ``document`` (the decoded file at ``path``) and what was skipped.

        ``parameters`` are CloudFormation parameter values; other kinds ignore them. Roles may be
        read lazily (a ``LazyRoles``); ``load_file`` decides when they are read."""
        ...


class GaadSource:
    """``aws iam get-account-authorization-details`` output (one page or a list of pages)."""

    input_type = "gaad"

    def read(
        self, document: object, locator: Locator, path: Path, parameters: Mapping[str, str] | None
    ) -> SourceResult:
        from zeet_iam_audit.sources.gaad import read_gaad

        roles, skipped = read_gaad(document, locator)
        return SourceResult(roles=roles, skipped=tuple(skipped), input_type=self.input_type, path=locator.display)


class RoleSource:
    """``aws iam get-role`` output, optionally with its policies."""

    input_type = "role"

    def read(
        self, document: object, locator: Locator, path: Path, parameters: Mapping[str, str] | None
    ) -> SourceResult:
        from zeet_iam_audit.sources.role_json import read_role_file

        roles = read_role_file(document, locator)
        return SourceResult(roles=tuple(roles), skipped=(), input_type=self.input_type, path=locator.display)


class PolicySource:
    """One identity policy document: one role named after the file."""

    input_type = "policy"

    def read(
        self, document: object, locator: Locator, path: Path, parameters: Mapping[str, str] | None
    ) -> SourceResult:
        from zeet_iam_audit.sources.role_json import read_policy_file

        roles = read_policy_file(document, locator, path)
        return SourceResult(roles=tuple(roles), skipped=(), input_type=self.input_type, path=locator.display)


class CloudFormationSource:
    """A CloudFormation (or SAM) template, JSON or YAML with short-form tags."""

    input_type = "cloudformation"

    def read(
        self, document: object, locator: Locator, path: Path, parameters: Mapping[str, str] | None
    ) -> SourceResult:
        from zeet_iam_audit.sources.cloudformation import read_template

        roles, skipped = read_template(document, locator, parameters)
        return SourceResult(
            roles=tuple(roles), skipped=tuple(skipped), input_type=self.input_type, path=locator.display
        )


class TerraformSource:
    """``terraform show -json`` of a saved plan (or of a state)."""

    input_type = "terraform"

    def read(
        self, document: object, locator: Locator, path: Path, parameters: Mapping[str, str] | None
    ) -> SourceResult:
        from zeet_iam_audit.sources.terraform import read_plan

        roles, skipped = read_plan(document, locator)
        return SourceResult(
            roles=tuple(roles), skipped=tuple(skipped), input_type=self.input_type, path=locator.display
        )


# The one table from input type to its source, in ``INPUT_TYPES`` order (a test checks both agree).
SOURCES: Mapping[str, Source] = {
    source.input_type: source
    for source in (GaadSource(), RoleSource(), PolicySource(), CloudFormationSource(), TerraformSource())
}
