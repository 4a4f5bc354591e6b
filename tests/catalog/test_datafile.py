from __future__ import annotations

import pytest

from zeet_iam_audit.catalog import ActionInfo, Catalog, CatalogSource, parse_catalog
from zeet_iam_audit.catalog.datafile import LEVEL_CODES, encode_catalog
from zeet_iam_audit.catalog.values import ACCESS_LEVELS
from zeet_iam_audit.errors import CatalogError

from .support import small_catalog_bytes, with_body

SOURCES = [CatalogSource("only", "1", "2026-01-01", 2)]


def test_level_codes_cover_every_access_level() -> None:
    assert set(LEVEL_CODES) == set(ACCESS_LEVELS)
    assert len(set(LEVEL_CODES.values())) == len(ACCESS_LEVELS)


def test_round_trip_keeps_every_field() -> None:
    catalog = parse_catalog(small_catalog_bytes())
    assert catalog.get("rds-db:connect") == ActionInfo("rds-db", "connect", "Permissions management", True)
    assert catalog.get("s3:ListAllMyBuckets") == ActionInfo("s3", "ListAllMyBuckets", "List", False)
    assert catalog.known_by("s3:PutObjectTagging") == ("fresh",)
    assert catalog.known_by("rds-db:connect") == ("old",)
    assert len(catalog) == 6
    assert catalog.sources[1] == CatalogSource("old", "1.0", None, 3)


def test_encoding_sorts_so_input_order_does_not_matter() -> None:
    a = (ActionInfo("s3", "getObject", "Read", True), [0])
    b = (ActionInfo("s3", "GetBucketAcl", "Read", True), [0])
    c = (ActionInfo("ec2", "RunInstances", "Write", True), [0])
    first = encode_catalog(SOURCES, [a, b, c])
    assert first == encode_catalog(SOURCES, [c, b, a])
    body = first.split(b"\n@", 1)[1].decode()
    assert body.splitlines()[:5] == [
        "ec2",
        "RunInstances\tW\t1\t0",
        "@s3",
        "GetBucketAcl\tR\t1\t0",
        "getObject\tR\t1\t0",
    ]


@pytest.mark.parametrize(
    ("info", "positions", "problem"),
    [
        pytest.param(ActionInfo("s3", "Get", "Admin", True), [0], "access level", id="bad-level"),
        pytest.param(ActionInfo("S3", "Get", "Read", True), [0], "lower-case", id="upper-service"),
        pytest.param(ActionInfo("s3", "Get\tX", "Read", True), [0], "token", id="tab-in-name"),
        pytest.param(ActionInfo("s3", "Get:X", "Read", True), [0], "token", id="colon-in-name"),
        pytest.param(ActionInfo("s3", "Get*", "Read", True), [0], "token", id="wildcard-in-name"),
        pytest.param(ActionInfo("s3", "", "Read", True), [0], "token", id="empty-name"),
        pytest.param(ActionInfo("s3", "Get", "Read", True), [], "positions", id="no-source"),
        pytest.param(ActionInfo("s3", "Get", "Read", True), [1], "positions", id="unknown-source"),
    ],
)
def test_encoding_rejects_what_cannot_be_read_back(info: ActionInfo, positions: list[int], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        encode_catalog(SOURCES, [(info, positions)])


def test_encoding_rejects_an_action_twice_in_different_case() -> None:
    twice = [
        (ActionInfo("s3", "GetObject", "Read", True), [0]),
        (ActionInfo("s3", "getobject", "Read", True), [0]),
    ]
    with pytest.raises(ValueError, match="twice"):
        encode_catalog(SOURCES, twice)


GOOD = small_catalog_bytes()
BODY = GOOD[GOOD.index(b"\n@") + 1 :]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        pytest.param(b"", "no services", id="empty"),
        pytest.param(GOOD[:-10], "checksum", id="truncated"),
        pytest.param(GOOD.replace(b"GetObject", b"GetObjekt"), "checksum", id="edited"),
        pytest.param(GOOD.replace(b'"format": 1', b'"format": 9'), "format 9", id="newer-format"),
        pytest.param(GOOD.replace(b'{"body_crc32"', b'["body_crc32"'), "metadata", id="bad-json"),
        pytest.param(GOOD.replace(b'"total"', b'"totals"'), "metadata", id="missing-key"),
        pytest.param(GOOD.replace(b'"count": 5', b'"count": "5"'), "metadata", id="wrong-type"),
        pytest.param(with_body(GOOD, BODY.replace(b"@rds-db\n", b"@rds-db")), "no actions", id="no-newline"),
        pytest.param(with_body(GOOD, BODY + b"@extra\nX\tR\t1\t0\n"), "4 services", id="extra"),
    ],
)
def test_damaged_data_is_a_one_line_catalog_error(data: bytes, problem: str) -> None:
    with pytest.raises(CatalogError, match=problem) as caught:
        parse_catalog(data, origin="actions.tsv")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("actions.tsv: ")
    assert "python scripts/generate_catalog.py" in message


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(b"GetObject\tR\t1\t01", b"GetObject\tR\t1", id="missing-field"),
        pytest.param(b"GetObject\tR\t1\t01", b"GetObject\tX\t1\t01", id="unknown-level"),
        pytest.param(b"GetObject\tR\t1\t01", b"GetObject\tR\ty\t01", id="bad-resource-flag"),
        pytest.param(b"GetObject\tR\t1\t01", b"GetObject\tR\t1\t02", id="unknown-source"),
        pytest.param(b"GetObject\tR\t1\t01", b"\tR\t1\t01", id="empty-name"),
        pytest.param(b"GetObject\tR\t1\t01", b"Get\xffObject\tR\t1\t01", id="not-utf8"),
    ],
)
def test_a_damaged_service_fails_when_first_used(old: bytes, new: bytes) -> None:
    catalog = parse_catalog(with_body(GOOD, BODY.replace(old, new)), origin="actions.tsv")
    assert catalog.get("iam:PassRole") is not None  # other services are unaffected
    with pytest.raises(CatalogError, match="service s3"):
        catalog.get("s3:GetObject")


def test_columns_say_what_the_values_say(catalog: Catalog) -> None:
    """An index over the whole catalogue reads the columns and never makes the values: both agree,
    action by action, for the packaged data."""
    from zeet_iam_audit.audit.action_sets import ActionIndex

    index = ActionIndex(catalog)
    infos = list(catalog)
    assert index.size == len(infos)
    for position, info in enumerate(infos):
        assert index.full_name(position) == info.full
        assert index.position[info.full.lower()] == position
        assert index.resource_level[position] is info.resource_level
        assert index.service_of[position] == info.service
    for span in index.spans:
        levels = dict(span.levels)
        for at in range(span.start, span.stop):
            [level] = [name for name, bits in levels.items() if bits >> (at - span.start) & 1]
            assert level == infos[at].access_level
