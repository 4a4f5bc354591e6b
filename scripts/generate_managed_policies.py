"""Generate zeet_iam_audit/sources/data/aws_managed_policies.json from moto's AWS managed policies.

The audit reads AWS managed policies referenced only by ARN (``arn:aws:iam::aws:policy/...``) from
this file, offline. moto (a test dependency) bundles the default version of every AWS managed
policy in ``moto/iam/aws_managed_policies.py``; we keep the ones Zeet roles use or that people
attach in their place (listed in ``WANTED`` below), compact and sorted, so the output is
reproducible for a given moto version.

    python scripts/generate_managed_policies.py          # rewrite the data file
    python scripts/generate_managed_policies.py --check  # exit 1 when the file is out of date

To add a policy: append its name to ``WANTED`` and rerun. Names moto lacks are recorded under
``"missing"`` in the output rather than failing, so a moto upgrade that drops one shows in review.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
OUTPUT = REPOSITORY / "zeet_iam_audit" / "sources" / "data" / "aws_managed_policies.json"
REGENERATE = "python scripts/generate_managed_policies.py"

WANTED: tuple[str, ...] = (
    # Broad grants people attach instead of fine-grained policies.
    "AdministratorAccess",
    "PowerUserAccess",
    "ReadOnlyAccess",
    "IAMFullAccess",
    "IAMReadOnlyAccess",
    # Container management: EKS, ECR, EC2/VPC, Route 53, Auto Scaling, load balancers.
    "AmazonEKSClusterPolicy",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKSServicePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEKSVPCResourceController",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
    "AmazonEKSFargatePodExecutionRolePolicy",
    "AmazonEBSCSIDriverPolicy",
    "AmazonEC2ContainerRegistryFullAccess",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPowerUser",
    "AmazonEC2FullAccess",
    "AmazonEC2ReadOnlyAccess",
    "AmazonVPCFullAccess",
    "AmazonVPCReadOnlyAccess",
    "AmazonRoute53FullAccess",
    "AmazonRoute53ReadOnlyAccess",
    "AutoScalingFullAccess",
    "AutoScalingReadOnlyAccess",
    "ElasticLoadBalancingFullAccess",
    "AmazonSSMManagedInstanceCore",
    "AmazonECS_FullAccess",
    # Serverless via Lambda: CloudFormation, API Gateway, ACM, Lambda.
    "AWSCloudFormationFullAccess",
    "AWSCloudFormationReadOnlyAccess",
    "AmazonAPIGatewayAdministrator",
    "AmazonAPIGatewayInvokeFullAccess",
    "AWSCertificateManagerFullAccess",
    "AWSCertificateManagerReadOnly",
    "AWSLambda_FullAccess",
    "AWSLambda_ReadOnlyAccess",
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaVPCAccessExecutionRole",
    "AWSLambdaExecute",
    "AWSLambdaRole",
    # RDS and S3.
    "AmazonRDSFullAccess",
    "AmazonRDSReadOnlyAccess",
    "AmazonS3FullAccess",
    "AmazonS3ReadOnlyAccess",
    # Monitoring: CloudWatch, Logs, EventBridge, Service Quotas, SNS, SQS.
    "CloudWatchFullAccess",
    "CloudWatchFullAccessV2",
    "CloudWatchReadOnlyAccess",
    "CloudWatchLogsFullAccess",
    "CloudWatchLogsReadOnlyAccess",
    "CloudWatchAgentServerPolicy",
    "CloudWatchEventsFullAccess",
    "AmazonEventBridgeFullAccess",
    "ServiceQuotasFullAccess",
    "ServiceQuotasReadOnlyAccess",
    "AmazonSNSFullAccess",
    "AmazonSNSReadOnlyAccess",
    "AmazonSQSFullAccess",
    "AmazonSQSReadOnlyAccess",
    # Secrets Manager.
    "SecretsManagerReadWrite",
)


def build() -> str:
    """The data file's full text, from the installed moto."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    everything: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)
    policies: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for name in WANTED:
        entry = everything.get(name)
        if entry is None:
            missing.append(name)
            continue
        arn = f"arn:aws:iam::aws:policy{entry['Path']}{name}"
        policies[arn] = {
            "name": name,
            "version": entry["DefaultVersionId"],
            "updated": entry["UpdateDate"],
            "document": entry["Document"],
        }
    data = {
        "source": "moto/iam/aws_managed_policies.py",
        "moto_version": metadata.version("moto"),
        # moto records no import date; the newest policy update it carries is the best proxy.
        "data_as_of": max(entry["UpdateDate"] for entry in everything.values()),
        "regenerate": REGENERATE,
        "missing": sorted(missing),
        "policies": dict(sorted(policies.items())),
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the checked-in file differs from a fresh build",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where the data file lives")
    arguments = parser.parse_args(argv)
    fresh = build()
    if arguments.check:
        current = (
            arguments.output.read_text(encoding="utf-8") if arguments.output.exists() else None
        )
        if current != fresh:
            print(
                f"{arguments.output} is out of date with the installed moto "
                f"({metadata.version('moto')}); regenerate it with: {REGENERATE}",
                file=sys.stderr,
            )
            return 1
        return 0
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(fresh, encoding="utf-8")
    count = len(json.loads(fresh)["policies"])
    print(f"wrote {count} AWS managed policies to {arguments.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
