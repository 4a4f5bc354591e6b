"""Generate the offline copy of every AWS managed policy from moto's bundled data.

The audit reads AWS managed policies that a role references only by ARN
(``arn:aws:iam::aws:policy/...``) from this copy, offline. moto (a test dependency, pinned in
pyproject.toml) bundles the default version of every AWS managed policy in
``moto/iam/aws_managed_policies.py``; all of them are kept, in two files under
``zeet_iam_audit/sources/data/``:

- ``aws_managed_policies.json.gz``: ARN → ``[name, default version id, update date, document]``,
  each document a compact JSON string, so that loading the file parses only the strings and a
  document is parsed when a role references it;
- ``aws_managed_policies.meta.json``: where the copy came from (moto's version, the newest policy
  update it carries, how many policies), small, for ``--version`` and ``catalog``.

The output is reproducible for a given moto version (sorted keys; gzip without a timestamp).

    python scripts/generate_managed_policies.py          # rewrite both files
    python scripts/generate_managed_policies.py --check  # exit 1 when they are out of date

``REQUIRED`` lists the policies Zeet's features are checked against; names moto lacks are recorded
under ``"missing"`` in the metadata rather than failing, so a moto upgrade that drops one shows in
review (and a test fails).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
DATA = REPOSITORY / "zeet_iam_audit" / "sources" / "data"
POLICIES_FILE = "aws_managed_policies.json.gz"
META_FILE = "aws_managed_policies.meta.json"
REGENERATE = "python scripts/generate_managed_policies.py"

REQUIRED: tuple[str, ...] = (
    "AdministratorAccess",
    "PowerUserAccess",
    "ReadOnlyAccess",
    "IAMFullAccess",
    "AmazonEKSClusterPolicy",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPowerUser",
    "AWSLambdaBasicExecutionRole",
    "CloudWatchReadOnlyAccess",
    "SecretsManagerReadWrite",
    "ServiceQuotasReadOnlyAccess",
)


def build() -> tuple[str, str]:
    """The text of the policies file (before compression) and of the metadata file."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    everything: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)
    policies = {
        f"arn:aws:iam::aws:policy{entry['Path']}{name}": [
            name,
            entry["DefaultVersionId"],
            entry["UpdateDate"],
            json.dumps(entry["Document"], sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        ]
        for name, entry in everything.items()
    }
    meta = {
        "source": "moto/iam/aws_managed_policies.py",
        "moto_version": metadata.version("moto"),
        # moto records no import date; the newest policy update it carries is the best proxy.
        "data_as_of": max(entry["UpdateDate"] for entry in everything.values()),
        "count": len(policies),
        "regenerate": REGENERATE,
        "missing": sorted(name for name in REQUIRED if name not in everything),
    }
    policies_text = json.dumps(policies, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return policies_text + "\n", json.dumps(meta, indent=1, sort_keys=True) + "\n"


def compress(text: str) -> bytes:
    """gzip without a timestamp or file name, so equal text gives equal bytes."""
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the checked-in files differ from a fresh build",
    )
    parser.add_argument("--output", type=Path, default=DATA, help="the folder of the data files")
    arguments = parser.parse_args(argv)
    policies_text, meta_text = build()
    policies_path = arguments.output / POLICIES_FILE
    meta_path = arguments.output / META_FILE
    if arguments.check:
        # Compared decompressed: another zlib may compress the same text to other bytes.
        try:
            current = (
                gzip.decompress(policies_path.read_bytes()).decode("utf-8"),
                meta_path.read_text(encoding="utf-8"),
            )
        except (OSError, EOFError, UnicodeDecodeError):
            current = None
        if current != (policies_text, meta_text):
            print(
                f"{arguments.output / POLICIES_FILE} or {META_FILE} is out of date with the "
                f"installed moto ({metadata.version('moto')}); regenerate them with: {REGENERATE}",
                file=sys.stderr,
            )
            return 1
        return 0
    arguments.output.mkdir(parents=True, exist_ok=True)
    policies_path.write_bytes(compress(policies_text))
    meta_path.write_text(meta_text, encoding="utf-8")
    count = json.loads(meta_text)["count"]
    print(f"wrote {count} AWS managed policies to {policies_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
