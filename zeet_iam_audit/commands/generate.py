"""``zeet-iam-audit generate``: a least-privilege role for a feature selection.

Writes the trust policy (Zeet's management account may assume the role with the external id) and
the permission policies for the chosen features and variants, as a role file that ``zeet-iam-audit
--file`` audits (``--format json``, the default), a CloudFormation template (``cloudformation``) or
Terraform (``terraform``). How actions are grouped and split under IAM's limits (6,144 characters per
managed policy, 10 managed policies per role) is described in ``zeet_iam_audit.support.generation``.

The IAM writes that could escalate are conditioned on the permissions boundary of the roles Zeet
creates (``--permissions-boundary ARN``, or the boundary policy written with the role; see
``zeet_iam_audit.support.generation``). The Terraform state settings (``--state-bucket``,
``--state-key-prefix``, ``--lock-table``) scope the state grants to the user's bucket and table.

Zeet's account id and the external id come from ``--zeet-account-id``/``--external-id``, the
environment (``ZEET_IAM_AUDIT_ZEET_ACCOUNT_ID``, ``ZEET_IAM_AUDIT_EXTERNAL_ID``) or the config file;
the features and variants likewise (default: every feature, as the audit).

Exit codes: 0 generated; 2 it could not (missing ids, unknown features, a selection that does not fit
in 10 policies).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from zeet_iam_audit.commands import CommandContext, CommandResult, Output, new_parser
from zeet_iam_audit.config import add_state_arguments, load_settings, state_flags, state_placeholders
from zeet_iam_audit.errors import UsageError

FORMATS = ("json", "cloudformation", "terraform")
_ACCOUNT_DIGITS = 12


def build_parser() -> argparse.ArgumentParser:
    """The parser for ``zeet-iam-audit generate``."""
    parser = new_parser(
        "generate",
        "Generate a least-privilege IAM role for Zeet: the trust policy and the permission policies of the "
        "chosen features, as a role file (json), CloudFormation or Terraform. Exit code 0, or 2 when it cannot.",
    )
    parser.add_argument(
        "--features",
        action="append",
        metavar="ID[,ID]",
        help="the features to grant (default: all, as Zeet's default setup enables them)",
    )
    parser.add_argument(
        "--with",
        dest="variants",
        action="append",
        metavar="VARIANT[,VARIANT]",
        help="add a rule's optional group, e.g. custom-domain (repeatable)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="json",
        help="json: a role file zeet-iam-audit --file reads (default); cloudformation: a YAML template; terraform: HCL",
    )
    parser.add_argument("--output", type=Path, help="write to FILE instead of stdout")
    parser.add_argument("--zeet-account-id", help="Zeet's management account id (12 digits)")
    parser.add_argument("--external-id", help="the external id Zeet passes when assuming the role")
    parser.add_argument("--role-name", help="the role's name (default: zeet-cloud-connection)")
    parser.add_argument(
        "--account-id",
        help="your account id, for the ARNs of the json role file "
        "(default: 000000000000; templates take it from the deployment)",
    )
    parser.add_argument(
        "--template-extras",
        type=Path,
        metavar="FILE",
        help="TOML listing a Terraform template's extra actions (for terraform-modules)",
    )
    add_state_arguments(parser)
    parser.add_argument("--config", type=Path, help="config file (default: ./.zeet-iam-audit.toml)")
    parser.add_argument("--rules", type=Path, metavar="DIR", help="load feature rules from DIR")
    return parser


def _split(values: Sequence[str] | None) -> list[str]:
    return [item.strip() for value in values or () for item in value.split(",") if item.strip()]


def run(args: argparse.Namespace, context: CommandContext) -> CommandResult:
    """Generate the role and render it."""
    from zeet_iam_audit.catalog import load_catalog
    from zeet_iam_audit.rules import load_rules, load_template_extras
    from zeet_iam_audit.support.generation import (
        DEFAULT_ROLE_NAME,
        POLICY_SIZE_LIMIT,
        generate_role,
        own_boundary_arn,
    )
    from zeet_iam_audit.support.templates import render

    settings = load_settings(args.config, context.cwd)
    catalog = load_catalog()
    rules_dir = args.rules or settings.get("rules")
    role_name = args.role_name or DEFAULT_ROLE_NAME
    placeholders = state_placeholders(state_flags(args), settings)
    # Roles Zeet creates must carry a permissions boundary: the user's, or the one written here.
    write_boundary = "permissions_boundary" not in placeholders
    placeholders.setdefault("permissions_boundary", own_boundary_arn(role_name))
    rules = load_rules(Path(str(rules_dir)) if rules_dir else None, catalog=catalog, placeholders=placeholders)
    features = _split(args.features) or settings.get("features") or None
    variants = _split(args.variants) or settings.get("variants") or []
    extras_path = args.template_extras or settings.get("template_extras")
    extras = load_template_extras(Path(str(extras_path)), catalog=catalog) if extras_path else ()
    account_id = args.account_id
    if account_id is not None and (len(account_id) != _ACCOUNT_DIGITS or not account_id.isdigit()):
        raise UsageError(f"--account-id: expected 12 digits, got {account_id!r}")
    zeet = args.zeet_account_id or settings.get("zeet_account_id")
    external = args.external_id or settings.get("external_id")
    role = generate_role(
        rules,
        catalog,
        zeet_account_id=str(zeet) if zeet else None,
        external_id=str(external) if external else None,
        features=features,
        variants=variants,
        role_name=role_name,
        template_extras=extras,
        write_boundary=write_boundary,
    )
    text = render(role, args.format, account_id=account_id)
    sizes = ", ".join(str(policy.size) for policy in role.policies) or "none"
    count = len(role.policies)
    messages = [f"zeet-iam-audit generate: {note}" for note in role.notes]
    messages.append(
        f"zeet-iam-audit generate: {role.actions} actions for {len(role.features)} feature"
        f"{'s' if len(role.features) != 1 else ''} in {count} managed polic{'ies' if count != 1 else 'y'} "
        f"({sizes} of {POLICY_SIZE_LIMIT} characters)"
    )
    return CommandResult(outputs=(Output(text, args.output),), exit_code=0, messages=tuple(messages))
