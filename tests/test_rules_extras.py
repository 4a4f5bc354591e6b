"""Template extras (``load_template_extras``): the extra required actions of one Terraform template,
in a small TOML file validated like the rules: every error one line naming the file and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zeet_iam_audit.catalog import Catalog, load_catalog
from zeet_iam_audit.errors import RulesError
from zeet_iam_audit.rules_extras import load_template_extras

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_EXTRA = ROOT / "fixtures" / "terraform-template-extra.toml"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_the_template_extra_fixture_loads(catalog: Catalog) -> None:
    extras = load_template_extras(TEMPLATE_EXTRA, catalog=catalog)
    assert extras[0].action == "elasticache:CreateReplicationGroup"
    assert {a.service for a in extras} == {"ElastiCache", "EC2"}
    assert all(a.source == "template" for a in extras)
    assert len({a.action for a in extras}) == len(extras)


EXTRA = """\
template = "redis"

[[services]]
display = "EC2"
prefixes = ["ec2"]

[[required]]
action = "ec2:CreateSecurityGroup"
service = "EC2"
why = "Security group."
source = "template"
"""

EXTRA_ERRORS = [
    pytest.param(
        lambda t: t.replace("CreateSecurityGroup", "CreateSecurityGroupz"),
        r"required\[0\]\.action: 'ec2:CreateSecurityGroupz' is not a known IAM action",
        id="unknown-action",
    ),
    pytest.param(
        lambda t: t.replace('action = "ec2:CreateSecurityGroup"', 'action = "rds:CreateDBInstance"'),
        r"required\[0\]\.action: 'rds:CreateDBInstance' is outside EC2",
        id="action-outside-its-service",
    ),
    pytest.param(
        lambda t: t + t[t.index("[[required]]") :],
        r"required\[1\]\.action: 'ec2:CreateSecurityGroup' is already listed",
        id="duplicate",
    ),
    pytest.param(
        lambda t: t.replace('template = "redis"', 'template = "redis"\nfeature = "x"'),
        r"feature: unknown key",
        id="unknown-key",
    ),
    pytest.param(
        lambda t: t.replace('source = "template"', 'source = ""'),
        r"required\[0\]\.source: must not be empty",
        id="empty-source",
    ),
    pytest.param(lambda t: t.replace("template = ", "[oops"), r"invalid TOML", id="bad-toml"),
]


@pytest.mark.parametrize(("mutate", "message"), EXTRA_ERRORS)
def test_a_bad_template_extras_file(tmp_path: Path, catalog: Catalog, mutate: object, message: str) -> None:
    assert callable(mutate)
    path = tmp_path / "extra.toml"
    path.write_text(mutate(EXTRA), encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_template_extras(path, catalog=catalog)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: "), text
    assert re.search(message, text), text


def test_a_missing_template_extras_file(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(RulesError, match=r"extra\.toml: cannot read"):
        load_template_extras(tmp_path / "extra.toml", catalog=catalog)


def test_an_extra_keeps_its_resource_and_context_and_spells_the_action_as_aws_does(
    tmp_path: Path, catalog: Catalog
) -> None:
    path = tmp_path / "extra.toml"
    path.write_text(
        EXTRA.replace('action = "ec2:CreateSecurityGroup"', 'action = "EC2:createsecuritygroup"')
        + """
[[required]]
action = "iam:PassRole"
service = "IAM"
why = "Passes the node role to EC2."
resource = "arn:aws:iam::*:role/redis-*"
source = "template"
context = { "iam:PassedToService" = "ec2.amazonaws.com" }

[[services]]
display = "IAM"
prefixes = ["iam"]
""",
        encoding="utf-8",
    )
    security_group, pass_role = load_template_extras(path, catalog=catalog)
    assert (security_group.action, security_group.service, security_group.resource) == (
        "ec2:CreateSecurityGroup",
        "EC2",
        "*",
    )
    assert (pass_role.action, pass_role.resource, pass_role.context) == (
        "iam:PassRole",
        "arn:aws:iam::*:role/redis-*",
        (("iam:PassedToService", ("ec2.amazonaws.com",)),),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            EXTRA[: EXTRA.index("[[required]]")], "required: missing (required in top level)", id="no-required"
        ),
        pytest.param(
            'template = "redis"\nrequired = []\n' + EXTRA[EXTRA.index("[[services]]") : EXTRA.index("[[required]]")],
            "required: list at least one action",
            id="empty-required",
        ),
        pytest.param(
            EXTRA + '\n[[services]]\ndisplay = "SNS"\nprefixes = ["sns"]\n',
            "services[1]: SNS is used by no action",
            id="service-used-by-no-action",
        ),
        pytest.param(
            EXTRA + '\n[[services]]\ndisplay = "EC2"\nprefixes = ["ec2"]\n',
            "services[1].display: service 'EC2' is declared twice",
            id="service-declared-twice",
        ),
        pytest.param(
            EXTRA.replace('prefixes = ["ec2"]', 'prefixes = ["ec2"]\nguide_text = "EC2"'),
            "services[0].guide_text: unknown key (allowed: display, prefixes)",
            id="guide-text-is-for-rules-only",
        ),
        pytest.param(
            EXTRA.replace('template = "redis"', 'template = "redis"\ndescription = 3'),
            "description: expected a string, got an integer",
            id="description-not-text",
        ),
    ],
)
def test_a_file_that_does_not_hold_together(tmp_path: Path, catalog: Catalog, text: str, message: str) -> None:
    path = tmp_path / "extra.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_template_extras(path, catalog=catalog)
    assert str(caught.value) == f"{path}: {message}"
