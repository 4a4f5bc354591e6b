"""Tests for zeet_iam_audit/config.py: settings from the config file and the environment, and the
rule settings (Terraform state, permissions boundary) with their flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from zeet_iam_audit.config import load_settings, state_placeholders
from zeet_iam_audit.errors import UsageError


def test_flags_beat_the_environment_which_beats_the_file(tmp_path: Path) -> None:
    (tmp_path / ".zeet-iam-audit.toml").write_text(
        'state_bucket = "file-bucket"\nstate_key_prefix = "file/"\nlock_table = "file-locks"\n', encoding="utf-8"
    )
    settings = load_settings(None, tmp_path, environ={"ZEET_IAM_AUDIT_STATE_KEY_PREFIX": "env/"})
    flags = {"lock_table": "flag-locks", "state_bucket": None}
    assert state_placeholders(flags, settings) == {
        "state_bucket": "file-bucket",
        "state_key_prefix": "env/",
        "lock_table": "flag-locks",
    }
    assert state_placeholders({}, load_settings(None, tmp_path / "nowhere", environ={})) == {}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"ZEET_IAM_AUDIT_STATE_BUCKET": "UPPER"},
            "ZEET_IAM_AUDIT_STATE_BUCKET: expected an S3 bucket name, got 'UPPER'",
        ),
        ({"ZEET_IAM_AUDIT_LOCK_TABLE": "a b"}, "ZEET_IAM_AUDIT_LOCK_TABLE: expected a DynamoDB table name"),
        (
            {"ZEET_IAM_AUDIT_PERMISSIONS_BOUNDARY": "arn:aws:iam::12:policy/b"},
            "ZEET_IAM_AUDIT_PERMISSIONS_BOUNDARY: expected a managed policy ARN",
        ),
    ],
)
def test_a_bad_setting_names_where_it_came_from(tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        state_placeholders({}, load_settings(None, tmp_path, environ=environ))


def test_a_bad_value_in_the_config_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "audit.toml"
    config.write_text('state_key_prefix = "env/*"\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"audit\.toml: expected a key prefix without \* \? \$ \{ \}, got 'env/\*'"):
        state_placeholders({}, load_settings(config, tmp_path, environ={}))
    config.write_text("state_bucket = 3\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"audit\.toml: state_bucket: expected a string"):
        load_settings(config, tmp_path, environ={})
