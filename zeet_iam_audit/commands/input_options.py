"""The options naming a command's role (``explain``, ``diagnose``): declared once, read into a value.

The same input options as the audit, and ``--scp FILE`` (see ``support.inputs``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from zeet_iam_audit.sources import INPUT_TYPES
from zeet_iam_audit.support.inputs import RoleQuery


def add_input_arguments(parser: argparse.ArgumentParser, *, role_help: str) -> None:
    """The audit's input options, and ``--scp FILE``."""
    source = parser.add_argument_group("the role (a file, as the audit reads it, or the live role)")
    source.add_argument(
        "--file",
        type=Path,
        help="authorization details, get-role output, a policy, a CloudFormation template or a Terraform plan (JSON)",
    )
    source.add_argument(
        "--input-type", choices=INPUT_TYPES, help="the kind of --file, when detection should not decide"
    )
    source.add_argument("--role", help=role_help)
    source.add_argument(
        "--parameter", action="append", metavar="NAME=VALUE", help="a CloudFormation parameter value (repeatable)"
    )
    source.add_argument("--role-arn", help="read the live role with your AWS credentials (read-only)")
    source.add_argument("--profile", help="AWS profile")
    source.add_argument("--region", help="AWS region for the API calls")
    source.add_argument("--endpoint-url", help="a different AWS endpoint (moto, LocalStack, tests)")
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
    source.add_argument("--config", type=Path, help="config file (default: ./.zeet-iam-audit.toml)")
    source.add_argument("--rules", type=Path, metavar="DIR", help="load feature rules from DIR")


def role_query(args: argparse.Namespace) -> RoleQuery:
    """The options ``add_input_arguments`` declared, as the value ``read_roles`` takes."""
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
