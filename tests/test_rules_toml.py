"""Reading rule TOML: a ``Table`` names the file and the key path of every problem; the shared
entries (services, resources with placeholders, request context, actions) are validated as they
are read."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from zeet_iam_audit.catalog import Catalog, load_catalog
from zeet_iam_audit.errors import RulesError
from zeet_iam_audit.rules_model import RequiredAction, ServiceRef
from zeet_iam_audit.rules_toml import (
    ID_RE,
    PREFIX_RE,
    Table,
    check_duplicates,
    kind_name,
    parse_action,
    parse_context,
    parse_resources,
    parse_services,
    parse_toml,
)

WHERE = "rules/view-logs.toml"
LOGS = ServiceRef("Logs", ("logs",), guide_text="CloudWatch Logs")
S3 = ServiceRef("S3", ("s3",), guide_text="S3")
IAM = ServiceRef("IAM", ("iam",), guide_text="IAM")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _entry(**data: Any) -> Table:
    return Table(data, WHERE, "required[2]")


@pytest.mark.parametrize(
    ("read", "message"),
    [
        pytest.param(
            lambda t: t.text("display"),
            "services[0].display: expected a string, got an integer",
            id="text-not-a-string",
        ),
        pytest.param(lambda t: t.text("blank"), "services[0].blank: must not be empty", id="text-blank"),
        pytest.param(
            lambda t: t.text("id", pattern=ID_RE), "services[0].id: 'View_Logs' is not of the form", id="text-pattern"
        ),
        pytest.param(
            lambda t: t.text("missing"), "services[0].missing: expected a string, got nothing", id="text-missing"
        ),
        pytest.param(
            lambda t: t.texts("display"),
            "services[0].display: expected a list of strings, got an integer",
            id="texts-not-a-list",
        ),
        pytest.param(
            lambda t: t.texts("empty", allow_empty=False), "services[0].empty: must not be empty", id="texts-empty"
        ),
        pytest.param(
            lambda t: t.texts("mixed"),
            "services[0].mixed[1]: expected a non-empty string, got an integer",
            id="texts-item",
        ),
        pytest.param(lambda t: t.texts("twice"), "services[0].twice: contains a value twice", id="texts-twice"),
        pytest.param(
            lambda t: t.texts("prefixes", pattern=PREFIX_RE),
            "services[0].prefixes[1]: 'Logs!' is not of the form",
            id="texts-pattern",
        ),
        pytest.param(
            lambda t: t.flag("blank", default=False),
            "services[0].blank: expected true or false, got a string",
            id="flag",
        ),
        pytest.param(lambda t: t.table("mixed"), "services[0].mixed: expected a table, got a list", id="table"),
        pytest.param(
            lambda t: t.tables("display"),
            "services[0].display: expected an array of tables, got an integer",
            id="tables",
        ),
        pytest.param(
            lambda t: t.tables("mixed"), "services[0].mixed[0]: expected a table, got a string", id="tables-item"
        ),
        pytest.param(
            lambda t: t.check_keys(frozenset({"display", "id"}), frozenset({"blank"})),
            "services[0].empty: unknown key (allowed: blank, display, id)",
            id="unknown-key",
        ),
    ],
)
def test_every_problem_names_the_file_and_the_key_path(read: Callable[[Table], object], message: str) -> None:
    table = Table(
        {
            "display": 7,
            "blank": "  ",
            "id": "View_Logs",
            "empty": [],
            "mixed": ["a", 2],
            "twice": ["logs", "logs"],
            "prefixes": ["logs", "Logs!"],
        },
        WHERE,
        "services[0]",
    )
    with pytest.raises(RulesError) as caught:
        read(table)
    assert str(caught.value).startswith(f"{WHERE}: {message}")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("", "rules/view-logs.toml: title: missing (required in top level)", id="top-level"),
        pytest.param("trust", "rules/view-logs.toml: trust.title: missing (required in trust)", id="nested"),
    ],
)
def test_a_missing_key_says_where_it_was_required(path: str, message: str) -> None:
    with pytest.raises(RulesError) as caught:
        Table({"id": "view-logs"}, WHERE, path).check_keys(frozenset({"id", "title"}))
    assert str(caught.value) == message


def test_values_read_back_as_given() -> None:
    table = Table({"id": "view-logs", "prefixes": ["logs"], "flag": True, "trust": {"action": "x"}}, WHERE)
    assert table.text("id", pattern=ID_RE) == "view-logs"
    assert table.optional_text("missing") is None
    assert table.texts("prefixes") == ("logs",)
    assert table.texts("absent", default=()) == ()
    assert table.flag("flag", default=False) is True
    assert table.flag("absent", default=True) is True
    assert table.tables("absent") == []
    assert table.table("trust").path == "trust"
    assert table.table("trust").key("action") == "trust.action"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "nothing"),
        (True, "a boolean"),
        (3, "an integer"),
        (1.5, "a number"),
        ("x", "a string"),
        ([], "a list"),
        ({}, "a table"),
    ],
)
def test_kind_name(value: object, name: str) -> None:
    assert kind_name(value) == name


def test_invalid_toml_names_the_file_and_tomllibs_place() -> None:
    with pytest.raises(RulesError, match=r"^rules/view-logs\.toml: invalid TOML: .*\(at line 2, column \d+\)$"):
        parse_toml('id = "view-logs"\ntitle = \n', WHERE)


def test_services_in_the_guide_and_outside_it() -> None:
    top = Table(
        {
            "services": [{"display": "Logs", "prefixes": ["logs"], "guide_text": "CloudWatch Logs", "only_with": "x"}],
            "other_services": [{"display": "KMS", "prefixes": ["kms"], "why": "Encrypted log groups."}],
        },
        WHERE,
    )
    (logs,) = parse_services(top, "services", in_guide=True)
    (kms,) = parse_services(top, "other_services", in_guide=False)
    assert logs == ServiceRef("Logs", ("logs",), "CloudWatch Logs", True, only_with="x")
    assert kms == ServiceRef("KMS", ("kms",), "", False, why="Encrypted log groups.")


@pytest.mark.parametrize(
    ("resource", "placeholders", "filled", "unset"),
    [
        pytest.param(None, {}, ("*",), (), id="default-star"),
        pytest.param(
            "arn:aws:s3:::{state_bucket}/{state_key_prefix}*",
            {"state_bucket": "zeet-state", "state_key_prefix": "env/"},
            ("arn:aws:s3:::zeet-state/env/*",),
            (),
            id="placeholders-set",
        ),
        pytest.param(
            "arn:aws:s3:::{state_bucket}/{state_key_prefix}*",
            {"state_bucket": "zeet-state"},
            ("arn:aws:s3:::zeet-state/*",),
            ("state_key_prefix",),
            id="unset-placeholder-is-star",
        ),
        pytest.param(
            ["arn:aws:s3:::{state_bucket}", "arn:aws:s3:::{state_bucket}/{state_key_prefix}*"],
            {},
            ("arn:aws:s3:::*", "arn:aws:s3:::*/*"),
            ("state_bucket", "state_key_prefix"),
            id="stars-collapse-and-settings-named-once",
        ),
    ],
)
def test_resources_with_placeholders(
    catalog: Catalog, resource: Any, placeholders: dict[str, str], filled: tuple[str, ...], unset: tuple[str, ...]
) -> None:
    entry = _entry() if resource is None else _entry(resource=resource)
    info = catalog.get("s3:GetObject")
    assert parse_resources(entry, "s3:GetObject", info, placeholders) == (filled, unset)


@pytest.mark.parametrize(
    ("action", "resource", "message"),
    [
        pytest.param(
            "s3:GetObject", 7, "expected a string or a non-empty list of strings, got an integer", id="not-text"
        ),
        pytest.param(
            "s3:GetObject", [], "expected a string or a non-empty list of strings, got a list", id="empty-list"
        ),
        pytest.param(
            "s3:GetObject", "zeet-state/*", "'zeet-state/*' is neither '*' nor an ARN pattern", id="not-an-arn"
        ),
        pytest.param("s3:GetObject", "arn:aws:s3:::bucket", None, id="ok"),
        pytest.param("s3:GetObject", ["arn:aws:s3:::b", "arn:aws:s3:::b"], "contains a resource twice", id="twice"),
        pytest.param(
            "s3:ListAllMyBuckets",
            "arn:aws:s3:::b",
            "'s3:ListAllMyBuckets' cannot be limited to resources; use '*'",
            id="not-resource-level",
        ),
        pytest.param(
            "s3:GetObject", "arn:aws:s3:::{bucket}/*", "{bucket} is not a known placeholder", id="unknown-placeholder"
        ),
    ],
)
def test_resources_that_cannot_be(catalog: Catalog, action: str, resource: Any, message: str | None) -> None:
    entry = _entry(resource=resource)
    if message is None:
        parse_resources(entry, action, catalog.get(action), {})
        return
    with pytest.raises(RulesError) as caught:
        parse_resources(entry, action, catalog.get(action), {})
    assert str(caught.value).startswith(f"{WHERE}: required[2].resource: {message}")


@pytest.mark.parametrize(
    ("context", "placeholders", "expected"),
    [
        pytest.param(None, {}, ((), (), ()), id="none"),
        pytest.param(
            {"iam:PassedToService": ["eks.amazonaws.com", "ec2.amazonaws.com"]},
            {},
            ((("iam:PassedToService", ("eks.amazonaws.com", "ec2.amazonaws.com")),), (), ()),
            id="literal-values",
        ),
        pytest.param(
            {"iam:PermissionsBoundary": "{permissions_boundary}"},
            {"permissions_boundary": "arn:aws:iam::123456789012:policy/ZeetBoundary"},
            ((("iam:PermissionsBoundary", ("arn:aws:iam::123456789012:policy/ZeetBoundary",)),), (), ()),
            id="placeholder-set",
        ),
        pytest.param(
            {"iam:PermissionsBoundary": "{permissions_boundary}"},
            {},
            ((), ("permissions_boundary",), ("iam:PermissionsBoundary",)),
            id="placeholder-unset-leaves-the-key-out",
        ),
    ],
)
def test_request_context(
    context: dict[str, Any] | None, placeholders: dict[str, str], expected: tuple[Any, ...]
) -> None:
    entry = _entry() if context is None else _entry(context=context)
    assert parse_context(entry, placeholders) == expected


@pytest.mark.parametrize(
    ("context", "message"),
    [
        pytest.param({}, "required[2].context: must not be empty", id="empty"),
        pytest.param(
            {"PassedToService": "eks.amazonaws.com"}, "is not a condition key like 'iam:PassedToService'", id="bad-key"
        ),
        pytest.param(
            {"iam:PassedToService": " "}, "required[2].context.iam:PassedToService: must not be empty", id="blank"
        ),
        pytest.param(
            {"iam:PermissionsBoundary": "{boundary}"}, "{boundary} is not a known placeholder", id="unknown-placeholder"
        ),
    ],
)
def test_request_context_that_cannot_be(context: dict[str, Any], message: str) -> None:
    with pytest.raises(RulesError, match=re.escape(message)):
        parse_context(_entry(context=context), {})


def _action_entry(**changes: Any) -> Table:
    data = {
        "action": "logs:FilterLogEvents",
        "service": "Logs",
        "why": "Reads a container's logs.",
        "source": "guide",
        **changes,
    }
    return _entry(**{key: value for key, value in data.items() if value is not None})


def _parse(catalog: Catalog, entry: Table) -> RequiredAction:
    return parse_action(
        entry,
        catalog,
        {"Logs": LOGS, "S3": S3, "IAM": IAM},
        services_label="the rule lists",
        source_check=lambda source: source in ("guide", "Z1"),
    )


def test_an_action_entry_becomes_a_required_action(catalog: Catalog) -> None:
    entry = _action_entry(
        action="iam:passrole",
        service="IAM",
        resource="arn:aws:iam::*:role/zeet-*",
        context={"iam:PassedToService": "eks.amazonaws.com"},
        source="Z1",
    )
    assert _parse(catalog, entry) == RequiredAction(
        action="iam:PassRole",
        service="IAM",
        why="Reads a container's logs.",
        resource="arn:aws:iam::*:role/zeet-*",
        source="Z1",
        context=(("iam:PassedToService", ("eks.amazonaws.com",)),),
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"action": "logs:*"},
            "required[2].action: 'logs:*' is not an exact IAM action like 'service:ActionName'",
            id="wildcard",
        ),
        pytest.param(
            {"action": "logs:FilterLogEventz"},
            "required[2].action: 'logs:FilterLogEventz' is not a known IAM action",
            id="unknown",
        ),
        pytest.param(
            {"service": "SQS"},
            "required[2].service: 'SQS' is not one of the services the rule lists (Logs, S3, IAM)",
            id="service",
        ),
        pytest.param(
            {"action": "s3:GetObject"},
            "required[2].action: 's3:GetObject' is outside Logs (prefixes: logs)",
            id="outside",
        ),
        pytest.param({"source": "Z99"}, "required[2].source: 'Z99' is not a source key (", id="source"),
        pytest.param({"why": None}, "required[2].why: missing (required in required[2])", id="why-missing"),
        pytest.param(
            {"note": "x"},
            "required[2].note: unknown key (allowed: action, context, resource, service, source, why)",
            id="unknown-key",
        ),
    ],
)
def test_an_action_entry_that_cannot_be(catalog: Catalog, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RulesError) as caught:
        _parse(catalog, _action_entry(**changes))
    assert str(caught.value).startswith(f"{WHERE}: {message}")


def test_an_action_listed_twice_names_where_it_was_first() -> None:
    top = Table({}, WHERE)
    to_eks = RequiredAction("iam:PassRole", "IAM", "x", context=(("iam:PassedToService", ("eks.amazonaws.com",)),))
    to_ec2 = RequiredAction("iam:PassRole", "IAM", "x", context=(("iam:PassedToService", ("ec2.amazonaws.com",)),))
    check_duplicates(top, [("required[0]", to_eks), ("variants[0].actions[0]", to_ec2)])  # another context
    with pytest.raises(RulesError) as caught:
        check_duplicates(
            top,
            [
                ("required[0]", to_eks),
                ("required[4]", RequiredAction("IAM:passrole", "IAM", "y", context=to_eks.context)),
            ],
        )
    assert str(caught.value) == f"{WHERE}: required[4].action: 'IAM:passrole' is already listed at required[0]"
