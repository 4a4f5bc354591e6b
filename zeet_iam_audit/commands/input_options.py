"""The input and selection options, declared once and shared by the audit, ``diff``, ``explain`` and
``diagnose``; ``role_query`` reads ``add_input_arguments``' options into a value.

Each function adds one family of options to a parser or argument group; only the words that name
what the command does with the role (audit, compare, explain) differ between commands.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from zeet_iam_audit.sources.result import INPUT_TYPES

if TYPE_CHECKING:
    from zeet_iam_audit.support.inputs import RoleQuery

FILE_HELP = (
    "a role file: authorization details, get-role output, "
    "a policy document, a CloudFormation template or a Terraform plan (JSON)"
)

# A parser or one of its argument groups: what both have in common is add_argument.
Group = argparse._ActionsContainer


def add_kind_arguments(group: Group, *, role_help: str, all_roles_help: str | None = None) -> None:
    """``--input-type``, ``--role``, ``--all-roles`` (when ``all_roles_help`` is given) and ``--parameter``."""
    group.add_argument(
        "--input-type", choices=INPUT_TYPES, help="the kind of the input, when detection should not decide"
    )
    group.add_argument("--role", help=role_help)
    if all_roles_help is not None:
        group.add_argument("--all-roles", action="store_true", help=all_roles_help)
    group.add_argument(
        "--parameter",
        action="append",
        metavar="NAME=VALUE",
        help="a CloudFormation parameter or pseudo parameter value (repeatable)",
    )


def add_aws_arguments(group: Group) -> None:
    """``--profile``, ``--region`` and ``--endpoint-url``: where and as whom live reads go."""
    group.add_argument("--profile", help="AWS profile (SSO and assume-role profiles work)")
    group.add_argument("--region", help="AWS region for the API calls")
    group.add_argument("--endpoint-url", help="a different AWS endpoint (moto, LocalStack, tests)")


def add_rules_arguments(group: Group) -> None:
    """``--rules DIR`` and ``--config FILE``."""
    group.add_argument("--rules", type=Path, metavar="DIR", help="load feature rules from DIR")
    group.add_argument("--config", type=Path, help="config file (default: ./.zeet-iam-audit.toml)")


def add_selection_arguments(group: Group, *, verb: str) -> None:
    """What to check: ``--features``, ``--with``, ``--plan``, ``--mode``, Zeet's account and external
    id, ``--template-extras`` (``verb``: what the command does with the features, e.g. audit)."""
    group.add_argument(
        "--features",
        action="append",
        metavar="ID[,ID]",
        help=f"features to {verb} (default: all, as Zeet's default setup enables them)",
    )
    group.add_argument(
        "--with",
        dest="variants",
        action="append",
        metavar="VARIANT",
        help="add a rule's optional group, e.g. custom-domain (repeatable)",
    )
    group.add_argument("--plan", help="the Zeet plan (Pro, Scale and Enterprise may use fine-grained permissions)")
    group.add_argument(
        "--mode",
        choices=("auto", "default", "fine-grained"),
        help="check the default mode (Account Administrator) or fine-grained permissions",
    )
    group.add_argument("--zeet-account-id", help="Zeet's management account id (12 digits)")
    group.add_argument("--external-id", help="the external id Zeet passes when assuming the role")
    group.add_argument(
        "--template-extras",
        type=Path,
        metavar="FILE",
        help="TOML listing a Terraform template's extra required actions",
    )


def add_input_arguments(parser: argparse.ArgumentParser, *, role_help: str) -> None:
    """The role a command reads (``explain``, ``diagnose``): a file as the audit reads it, or the live
    role, and ``--scp FILE`` (see ``support.inputs``)."""
    source = parser.add_argument_group("the role (a file, as the audit reads it, or the live role)")
    source.add_argument("--file", type=Path, help=FILE_HELP)
    add_kind_arguments(source, role_help=role_help)
    source.add_argument("--role-arn", help="read the live role with your AWS credentials (read-only)")
    add_aws_arguments(source)
    source.add_argument(
        "--scps",
        choices=("off", "auto"),
        default="off",
        help="with --role-arn, auto reads the SCPs that apply from AWS Organizations",
    )
    source.add_argument(
        "--scp",
        action="append",
        type=Path,
        metavar="FILE",
        help="an SCP level (root first; repeatable): a document, a list of documents, or describe-policy output",
    )
    add_rules_arguments(source)


def role_query(args: argparse.Namespace) -> RoleQuery:
    """The options ``add_input_arguments`` declared, as the value ``read_roles`` takes."""
    from zeet_iam_audit.support.inputs import RoleQuery

    return RoleQuery(
        file=args.file,
        input_type=args.input_type,
        parameters=tuple(args.parameter or ()),
        role_arn=args.role_arn,
        profile=args.profile,
        region=args.region,
        endpoint_url=args.endpoint_url,
        scps=args.scps,
        scp=tuple(args.scp or ()),
    )
