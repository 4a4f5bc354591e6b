"""Configuration from a file and the environment; flags override both (the CLI merges them).

Looked for, in order: ``--config FILE``; ``.zeet-iam-audit.toml`` in the working directory;
``[tool.zeet-iam-audit]`` in ``pyproject.toml`` there. Environment variables ``ZEET_IAM_AUDIT_*``
override the file. ``[[waivers]]`` tables (see ``waivers.py``) come only from the file; they are
validated here and kept as ``Waiver`` values under the key ``waivers``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zeet_iam_audit.errors import UsageError

if TYPE_CHECKING:
    import argparse  # the flags are declared and read by the CLI only

CONFIG_NAME = ".zeet-iam-audit.toml"
_ENV_PREFIX = "ZEET_IAM_AUDIT_"
_KEYS = {
    "zeet_account_id": str,
    "external_id": str,
    "plan": str,
    "mode": str,
    "features": list,
    "variants": list,
    "fail_on": list,
    "rules": str,
    "template_extras": str,
    "state_bucket": str,
    "state_key_prefix": str,
    "lock_table": str,
    "permissions_boundary": str,
}
# The values a rule's {state_bucket}-style placeholders take, and their form.
STATE_SETTINGS: Mapping[str, tuple[re.Pattern[str], str]] = {
    "state_bucket": (re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"), "an S3 bucket name"),
    "state_key_prefix": (re.compile(r"[^*?${}]{1,1024}"), "a key prefix without * ? $ { }"),
    "lock_table": (re.compile(r"[A-Za-z0-9_.-]{3,255}"), "a DynamoDB table name"),
    "permissions_boundary": (
        re.compile(r"arn:aws[a-z-]*:iam::(?:[0-9]{12}|aws):policy/[\w+=,.@/-]{1,512}"),
        "a managed policy ARN",
    ),
}


@dataclass(frozen=True, slots=True)
class Settings:
    """Values found in the config file and environment, each with where it came from."""

    values: Mapping[str, Any]
    origin: Mapping[str, str]

    def get(self, key: str) -> Any:
        return self.values.get(key)


def _normalise_key(key: str) -> str:
    return key.replace("-", "_").lower()


def _check(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for raw_key, value in values.items():
        key = _normalise_key(raw_key)
        if key == "waivers":
            # Imported here: waivers need the findings module, which plain settings do not.
            from zeet_iam_audit.waivers import parse_waivers

            checked[key] = parse_waivers(value, origin)
            continue
        if key not in _KEYS:
            raise UsageError(f"{origin}: {raw_key}: unknown setting (known: {', '.join(sorted(_KEYS))})")
        kind = _KEYS[key]
        if kind is str and isinstance(value, int) and key == "zeet_account_id":
            value = f"{value:012d}"
        if not isinstance(value, kind) or (kind is list and not all(isinstance(v, str) for v in value)):
            wanted = "a string" if kind is str else "a list of strings"
            raise UsageError(f"{origin}: {raw_key}: expected {wanted}")
        checked[key] = value
    return checked


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{path}: cannot read ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: not valid TOML ({error})") from None


def load_settings(config: Path | None, cwd: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the config file (if any) and the environment."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    found: tuple[Path, dict[str, Any]] | None = None
    if config is not None:
        found = (config, _read_toml(config))
    elif (cwd / CONFIG_NAME).is_file():
        found = (cwd / CONFIG_NAME, _read_toml(cwd / CONFIG_NAME))
    elif (cwd / "pyproject.toml").is_file():
        tool = _read_toml(cwd / "pyproject.toml").get("tool", {})
        section = tool.get("zeet-iam-audit") if isinstance(tool, dict) else None
        if isinstance(section, dict):
            found = (cwd / "pyproject.toml", section)
    if found is not None:
        path, data = found
        for key, value in _check(data, str(path)).items():
            values[key] = value
            origin[key] = str(path)
    for key, kind in _KEYS.items():
        env_value = environ.get(_ENV_PREFIX + key.upper())
        if env_value is None or env_value == "":
            continue
        values[key] = [v.strip() for v in env_value.split(",") if v.strip()] if kind is list else env_value
        origin[key] = _ENV_PREFIX + key.upper()
    return Settings(values=values, origin=origin)


def state_placeholders(flags: Mapping[str, object], settings: Settings) -> dict[str, str]:
    """The Terraform state settings (``STATE_SETTINGS``): each flag's value when given, else the
    environment's or the config file's; validated, so a bad value is one line naming its origin."""
    values: dict[str, str] = {}
    for key, (pattern, form) in STATE_SETTINGS.items():
        flag = flags.get(key)
        value = flag if flag not in (None, "") else settings.get(key)
        if value in (None, ""):
            continue
        origin = f"--{key.replace('_', '-')}" if flag not in (None, "") else settings.origin.get(key, key)
        text = str(value)
        if not pattern.fullmatch(text):
            raise UsageError(f"{origin}: expected {form}, got {text!r}")
        values[key] = text
    return values


def add_state_arguments(group: argparse._ActionsContainer) -> None:
    """The Terraform state flags, for the audit and for ``generate``."""
    group.add_argument(
        "--state-bucket", metavar="BUCKET", help="the S3 bucket of Terraform state: scopes the state rules to it"
    )
    group.add_argument(
        "--state-key-prefix", metavar="PREFIX", help="the key prefix of Terraform state objects in that bucket"
    )
    group.add_argument(
        "--lock-table", metavar="TABLE", help="the DynamoDB table of Terraform state locks (variant dynamodb-lock)"
    )
    group.add_argument(
        "--permissions-boundary", metavar="ARN", help="the permissions boundary Zeet sets on the IAM roles it creates"
    )


def state_flags(args: argparse.Namespace) -> dict[str, object]:
    """The Terraform state flags' values by setting name."""
    return {key: getattr(args, key, None) for key in STATE_SETTINGS}
