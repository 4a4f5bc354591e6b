"""The SAM transform (``Transform: AWS::Serverless-2016-10-31``), run offline with aws-sam-translator.

A SAM template's functions get their roles from the transform: a function with ``Role`` uses that
role; one without gets a role the transform generates, with ``AWSLambdaBasicExecutionRole`` (and
the VPC, tracing or event-source policies its properties call for), its ``Policies`` (managed
policy names or ARNs, policy templates such as ``DynamoDBCrudPolicy``, inline statements) and its
permissions boundary. Connectors (``AWS::Serverless::Connector``) add managed policies to roles,
explicit ones included. Rather than re-implementing all of that (about eighty versioned policy
templates, Globals, event sources), ``expand_sam`` runs AWS's own translator, the library the
CloudFormation service runs, on the template; the CloudFormation reader then reads the result, and
``generated_roles_apart`` sets aside the execution roles the transform generated (only a service
trusts them).

The translator is imported only for SAM templates. It needs no network here: the managed policy
names it resolves come from the offline copy (``managed.py``), the region it asks for is only
used for values it resolves itself (policies keep ``${AWS::Region}`` for the reader, unresolved
unless given), and nested applications (``AWS::Serverless::Application``, which it would fetch
from the Serverless Application Repository) are left out and named in ``skipped`` by the reader.
When the transform fails, the reason comes back instead of a template.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from zeet_iam_audit.model import Role
from zeet_iam_audit.sources.result import Skipped
from zeet_iam_audit.sources.shape import Locator, key_path

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
SAM_APPLICATION = "AWS::Serverless::Application"
_DEFAULT_REGION = "us-east-1"  # only for what the translator resolves itself, never for policies


@dataclass(frozen=True, slots=True)
class _Region:
    """What the translator reads of a boto3 session: its region (no credentials, no calls)."""

    region_name: str


# Where a SAM template names its code or definition; SAM CLI uploads local paths to S3 before the
# transform runs, and the translator accepts only S3 locations. Nothing here bears on IAM.
_PACKAGED_PATHS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}
_PACKAGED = "s3://sam-cli-packaged/artifact.zip"


def uses_sam(template: Mapping[str, Any]) -> bool:
    """Whether the template is SAM: it declares the transform or has ``AWS::Serverless::`` resources
    (which only the transform turns into CloudFormation)."""
    transform = template.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    if SAM_TRANSFORM in transforms:
        return True
    resources = template.get("Resources")
    return isinstance(resources, Mapping) and any(
        isinstance(resource, Mapping) and str(resource.get("Type", "")).startswith("AWS::Serverless::")
        for resource in resources.values()
    )


def _as_packaged(resource: Any, key: str) -> None:
    """A local path in ``resource[key]`` becomes an S3 location, as ``sam package`` would make it."""
    if isinstance(resource, dict) and isinstance(resource.get(key), str) and not resource[key].startswith("s3://"):
        resource[key] = _PACKAGED


def expand_sam(
    template: Mapping[str, Any], parameters: Mapping[str, str], managed_policies: Mapping[str, str]
) -> dict[str, Any] | str:
    """The CloudFormation template the SAM transform makes of ``template``, or why it could not.

    ``parameters`` are the values given for the template (pseudo parameters included);
    ``managed_policies`` maps AWS managed policy names to their ARNs.
    """
    try:
        from samtranslator.model.exceptions import InvalidDocumentException
        from samtranslator.parser.parser import Parser
        from samtranslator.translator.translator import Translator
    except ImportError as error:  # a broken install: say so rather than guess
        return f"aws-sam-translator is not installed ({error}); reinstall zeet-iam-audit"
    sam = copy.deepcopy(dict(template))
    sam["Transform"] = SAM_TRANSFORM  # other macros run at deployment; the reader says so
    resources = sam.get("Resources")
    applications: dict[str, Any] = {}
    if isinstance(resources, Mapping):
        applications = {
            logical_id: resource
            for logical_id, resource in resources.items()
            if isinstance(resource, Mapping) and resource.get("Type") == SAM_APPLICATION
        }
        sam["Resources"] = {k: v for k, v in resources.items() if k not in applications}
        for resource in sam["Resources"].values():
            key = _PACKAGED_PATHS.get(resource.get("Type", "")) if isinstance(resource, dict) else None
            if key is not None:
                _as_packaged(resource.get("Properties"), key)
    globals_ = sam.get("Globals")
    for section, key in (("Function", "CodeUri"), ("Api", "DefinitionUri"), ("HttpApi", "DefinitionUri")):
        _as_packaged(globals_.get(section) if isinstance(globals_, dict) else None, key)
    region = parameters.get("AWS::Region", _DEFAULT_REGION)
    values = {name: value for name, value in parameters.items() if not name.startswith("AWS::")}
    translator = Translator(
        managed_policy_map=dict(managed_policies),
        sam_parser=Parser(),
        boto_session=cast(Any, _Region(region)),
    )
    try:
        result = translator.translate(sam, parameter_values=values)
    except InvalidDocumentException as error:
        causes = "; ".join(cause.message for cause in error.causes) or error.message
        return f"the SAM transform refuses the template: {causes}"
    except Exception as error:  # the translator's own failure on an odd template, not ours
        return f"the SAM transform failed: {type(error).__name__}: {error}"
    expanded = cast(dict[str, Any], result)
    # Put back as written: the reader names them (their template is not in the file).
    expanded.setdefault("Resources", {}).update(applications)
    declared = template.get("Transform")
    others = [t for t in (declared if isinstance(declared, list) else [declared]) if t not in (None, SAM_TRANSFORM)]
    if others:
        expanded["Transform"] = others  # macros that still run at deployment, for the reader to name
    return expanded


def generated_roles_apart(
    original: Mapping[str, Any], roles: list[Role], skipped: list[Skipped], locator: Locator
) -> tuple[list[Role], list[Skipped]]:
    """Roles read from the template the SAM transform made, apart from the Lambda execution roles it
    generated: each of those is named in ``skipped`` with what the transform attaches to it (Zeet
    assumes no role only a service trusts)."""
    kept: list[Role] = []
    before = original.get("Resources")
    written = before if isinstance(before, Mapping) else {}
    for role in roles:
        logical_id = role.logical_id or role.name
        services = _services_trusted(role)
        if logical_id in written or services is None:
            kept.append(role)
            continue
        source = logical_id.removesuffix("Role")
        maker = written.get(source)
        kind = maker.get("Type") if isinstance(maker, Mapping) else None
        made_for = f"{source} ({kind})" if kind else "the SAM transform"
        attached = [p.name for p in role.policies if not p.inline]
        inline = sum(1 for p in role.policies if p.inline)
        parts = [*attached, *([f"{inline} inline polic{'y' if inline == 1 else 'ies'}"] if inline else [])]
        skipped.append(
            Skipped(
                name=logical_id,
                reason=f"the role the SAM transform generates for {made_for}: trusted only by "
                f"{', '.join(services)}, so not a role Zeet assumes; the transform attaches "
                f"{', '.join(parts) or 'no policy'}",
                origin=locator.origin(key_path("Resources", source if kind else logical_id)),
            )
        )
    return kept, skipped


def _services_trusted(role: Role) -> list[str] | None:
    """The AWS services a role's trust policy lets assume it, or None when it trusts anything else
    (or cannot be read)."""
    if role.trust_policy is None:
        return None
    services: set[str] = set()
    for statement in role.trust_policy.statements:
        principal = statement.principal
        if statement.not_principal is not None or principal is None or principal.wildcard:
            return None
        if any(kind != "Service" for kind, _ in principal.entries):
            return None
        services.update(principal.identifiers("Service"))
    return sorted(services)
