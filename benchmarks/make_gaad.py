"""Write a deterministic synthetic ``aws iam get-account-authorization-details`` file of N roles.

Each role has 1-4 real AWS managed policies (the copy moto ships), 0-2 inline policies cut from
them (a few of their statements), a permissions boundary on one role in eight (another managed
policy), and a trust policy naming the Zeet management account on one role in five; the others
trust an AWS service or a different account. Every managed policy attached anywhere is listed once
in ``Policies`` with its default version, as the AWS CLI prints it.

    .venv/bin/python benchmarks/make_gaad.py 2000 > /tmp/gaad-2000.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

from moto.iam.aws_managed_policies import aws_managed_policies_data

ZEET_ACCOUNT = "111122223333"
ACCOUNT = "123456789012"
EXTERNAL_ID = "zeet-ext-5f2c9a7e"
SERVICES = ("lambda.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com", "glue.amazonaws.com")


def _trust(rng: random.Random, index: int, all_zeet: bool) -> dict[str, Any]:
    if all_zeet or index % 5 == 0:
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ZEET_ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
        }
    elif index % 5 == 1:
        statement = {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
            "Action": "sts:AssumeRole",
        }
    else:
        statement = {"Effect": "Allow", "Principal": {"Service": rng.choice(SERVICES)}, "Action": "sts:AssumeRole"}
    return {"Version": "2012-10-17", "Statement": [statement]}


def _inline(rng: random.Random, document: dict[str, Any]) -> dict[str, Any]:
    statements = document["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    chosen = rng.sample(statements, min(len(statements), rng.randint(1, 3)))
    return {"Version": "2012-10-17", "Statement": chosen}


def make_gaad(count: int, seed: int = 20261128, *, all_zeet: bool = False) -> dict[str, Any]:
    """The authorization-details document for ``count`` roles (deterministic for a seed); with
    ``all_zeet`` every role trusts Zeet (``--all-roles`` then audits every one: the others are passed
    over as not Zeet roles, one line each)."""
    rng = random.Random(seed)
    managed = json.loads(aws_managed_policies_data)
    names = sorted(managed)
    used: dict[str, dict[str, Any]] = {}
    roles = []
    for index in range(count):
        attached = rng.sample(names, rng.randint(1, 4))
        inline = []
        for number in range(rng.randint(0, 2)):
            source = managed[rng.choice(attached)]["Document"]
            inline.append({"PolicyName": f"inline-{number}", "PolicyDocument": _inline(rng, source)})
        name = f"role-{index:05d}" if index % 5 else f"zeet-{index:05d}"
        role: dict[str, Any] = {
            "Path": "/",
            "RoleName": name,
            "RoleId": f"AROA{index:017d}",
            "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "CreateDate": "2026-01-01T00:00:00+00:00",
            "AssumeRolePolicyDocument": _trust(rng, index, all_zeet),
            "InstanceProfileList": [],
            "RolePolicyList": inline,
            "AttachedManagedPolicies": [
                {"PolicyName": policy, "PolicyArn": f"arn:aws:iam::aws:policy/{policy}"} for policy in attached
            ],
            "Tags": [],
            "RoleLastUsed": {},
        }
        if index % 8 == 3:
            boundary = rng.choice(names)
            role["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": f"arn:aws:iam::aws:policy/{boundary}",
            }
            attached = [*attached, boundary]
        for policy in attached:
            used[policy] = managed[policy]
        roles.append(role)
    policies = [
        {
            "PolicyName": name,
            "PolicyId": f"ANPA{position:017d}",
            "Arn": f"arn:aws:iam::aws:policy/{name}",
            "Path": "/",
            "DefaultVersionId": entry.get("DefaultVersionId", "v1"),
            "AttachmentCount": 1,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
            "CreateDate": entry.get("CreateDate", "2026-01-01T00:00:00+00:00"),
            "UpdateDate": entry.get("UpdateDate", "2026-01-01T00:00:00+00:00"),
            "PolicyVersionList": [
                {
                    "Document": entry["Document"],
                    "VersionId": entry.get("DefaultVersionId", "v1"),
                    "IsDefaultVersion": True,
                    "CreateDate": entry.get("UpdateDate", "2026-01-01T00:00:00+00:00"),
                }
            ],
        }
        for position, (name, entry) in enumerate(sorted(used.items()))
    ]
    return {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": roles,
        "Policies": policies,
        "IsTruncated": False,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roles", type=int)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--all-zeet", action="store_true", help="every role trusts Zeet (all are audited)")
    args = parser.parse_args()
    json.dump(make_gaad(args.roles, args.seed, all_zeet=args.all_zeet), sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
