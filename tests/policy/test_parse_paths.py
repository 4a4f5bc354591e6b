"""The parser's two paths agree: the plain path for well-formed documents and the careful one.

``parse_policy`` first tries ``_plain_policy``, which reads plain dicts, lists and strings with few
checks and gives up (None) on anything unusual; the careful code (``_careful_policy``) then reads
the document again and names the first problem. For every document here:

- the plain path never raises, and when it gives a policy the careful code gives an equal one, down
  to the type of every value (an ``Unresolved`` stays one; equality alone would not tell);
- ``parse_policy`` gives what the careful code gives: the same policy, or a ``PolicyError`` with
  the same path and problem.

The documents are every AWS managed policy the package ships (and every one moto holds), every
policy in the fixtures and test corpora (as found in the files, and as the sources hand them to
the parser, with template values they could not resolve), and generated ones, valid and subtly not.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.iam.aws_managed_policies import aws_managed_policies_data

from zeet_iam_audit.errors import PolicyError, ZeetIamAuditError
from zeet_iam_audit.model import Origin, Policy, PolicyKind, Unresolved
from zeet_iam_audit.policy import parse
from zeet_iam_audit.sources import load_file
from zeet_iam_audit.sources.managed import _policies as shipped_managed_policies
from zeet_iam_audit.sources.reading import load_document

ROOT = Path(__file__).resolve().parents[2]
INPUT_SUFFIXES = frozenset({".json", ".yaml", ".yml", ".template"})
KINDS = tuple(PolicyKind)
PATHS = settings(
    database=None,
    deadline=None,
    max_examples=400,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def typed(value: Any) -> Any:
    """``value`` with the type of every part spelled out, so that equal means the same."""
    if is_dataclass(value) and not isinstance(value, type):
        return type(value).__name__, tuple((f.name, typed(getattr(value, f.name))) for f in fields(value))
    if isinstance(value, tuple):
        return "tuple", tuple(typed(item) for item in value)
    if isinstance(value, Unresolved):
        return "Unresolved", value.reason
    return type(value).__name__, value


def outcome(read: Any, document: Any, kind: PolicyKind) -> Any:
    """What ``read`` makes of ``document``: the typed policy, or the error's path and problem."""
    try:
        policy = read(document, kind=kind, name="n", origin=None)
    except PolicyError as error:
        return "error", error.path, error.problem
    return "policy", typed(policy)


def assert_paths_agree(document: Any, kind: PolicyKind) -> bool:
    """Check the two paths on one decoded document; True when the plain path read it."""
    before = typed_tree(document)
    careful = outcome(parse._careful_policy, document, kind)
    plain = parse._plain_policy(document, kind=kind, name="n", origin=None)
    if plain is not None:
        assert careful == ("policy", typed(plain))
    if not isinstance(document, str):  # a string would be decoded as JSON text first
        assert outcome(parse.parse_policy, document, kind) == careful
    assert typed_tree(document) == before  # neither path changes the document
    return plain is not None


def typed_tree(value: Any) -> Any:
    if isinstance(value, dict | MappingProxyType):
        return type(value).__name__, [(typed_tree(k), typed_tree(v)) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return type(value).__name__, [typed_tree(item) for item in value]
    return typed(value)


# --- documents from the package, moto, fixtures and corpora -----------------------------------------


def test_every_shipped_managed_policy_reads_the_same_both_ways() -> None:
    policies = shipped_managed_policies()
    assert policies
    plain = [assert_paths_agree(json.loads(entry[3]), kind) for entry in policies.values() for kind in KINDS]
    assert plain.count(True) == len(policies)  # each is a plain identity policy and none is a trust policy


def test_every_moto_managed_policy_reads_the_same_both_ways() -> None:
    policies = json.loads(aws_managed_policies_data)
    assert len(policies) > 1000
    read = [assert_paths_agree(entry["Document"], kind) for entry in policies.values() for kind in KINDS]
    assert read.count(True) == len(policies)  # all plain identity policies (moto is pinned)


def _input_files() -> list[Path]:
    places = [ROOT / "fixtures", ROOT / "tests" / "golden", ROOT / "tests" / "hostile"]
    return sorted(
        path for place in places for path in place.rglob("*") if path.is_file() and path.suffix in INPUT_SUFFIXES
    )


def _policy_like(data: Any) -> Iterator[Any]:
    """Every object holding a Statement inside ``data``, and every string that decodes to one."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "Statement" in value:
                yield value
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and "Statement" in value:
            try:
                decoded = parse.load_json_document(value)
            except PolicyError:
                continue
            yield decoded


def test_input_files_exist() -> None:
    names = {path.name for path in _input_files()}
    assert {"zeet-account.json", "plan.json", "unresolved.yaml", "zeet-trust.json"} <= names


@pytest.mark.parametrize("path", _input_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_policies_in_input_files_read_the_same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    documents: list[tuple[Any, PolicyKind]] = []
    try:
        data = load_document(path).data
    except ZeetIamAuditError:
        data = None
    documents += [(document, kind) for document in _policy_like(data) for kind in KINDS]

    # What the sources hand the parser, template values they could not resolve included.
    plain_policy = parse._plain_policy

    def recording(raw: Any, *, kind: PolicyKind, name: str, origin: Origin | None) -> Policy | None:
        documents.append((copy.deepcopy(raw), kind))
        return plain_policy(raw, kind=kind, name=name, origin=origin)

    monkeypatch.setattr(parse, "_plain_policy", recording)
    try:
        roles = load_file(path).roles
        list(roles)
    except ZeetIamAuditError:
        pass
    monkeypatch.undo()
    for document, kind in documents:
        assert_paths_agree(document, kind)


def test_unresolved_values_from_a_template_reach_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    plain_policy = parse._plain_policy

    def recording(raw: Any, *, kind: PolicyKind, name: str, origin: Origin | None) -> Policy | None:
        seen.append(raw)
        return plain_policy(raw, kind=kind, name=name, origin=origin)

    monkeypatch.setattr(parse, "_plain_policy", recording)
    list(load_file(ROOT / "fixtures" / "cloudformation" / "unresolved.yaml").roles)
    assert any(isinstance(value, Unresolved) for value in _leaves(seen))


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


# --- hand-picked cases ------------------------------------------------------------------------------

STATEMENT = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
TRUST_STATEMENT = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::1:root"}}

CASES: list[tuple[str, Any, PolicyKind]] = [
    (
        "null action beside notaction",
        {"Statement": [{**STATEMENT, "Action": None, "NotAction": "s3:*"}]},
        PolicyKind.IDENTITY,
    ),
    ("null notaction beside action", {"Statement": {**STATEMENT, "NotAction": None}}, PolicyKind.IDENTITY),
    (
        "null resource beside notresource",
        {"Statement": {**STATEMENT, "Resource": None, "NotResource": "*"}},
        PolicyKind.IDENTITY,
    ),
    ("null principal in identity policy", {"Statement": {**STATEMENT, "Principal": None}}, PolicyKind.IDENTITY),
    (
        "null principal beside notprincipal",
        {"Statement": {**TRUST_STATEMENT, "Principal": None, "NotPrincipal": "*"}},
        PolicyKind.TRUST,
    ),
    ("null sid", {"Statement": {**STATEMENT, "Sid": None}}, PolicyKind.IDENTITY),
    ("null version and id", {"Version": None, "Id": None, "Statement": []}, PolicyKind.IDENTITY),
    ("null statement", {"Statement": None}, PolicyKind.IDENTITY),
    ("null condition", {"Statement": {**STATEMENT, "Condition": None}}, PolicyKind.IDENTITY),
    ("empty condition", {"Statement": {**STATEMENT, "Condition": {}}}, PolicyKind.IDENTITY),
    (
        "empty condition values",
        {"Statement": {**STATEMENT, "Condition": {"StringLike": {"k": []}}}},
        PolicyKind.IDENTITY,
    ),
    (
        "condition values of every JSON type",
        {
            "Statement": {
                **STATEMENT,
                "Condition": {
                    "Bool": {"a": True, "b": [False, "true"]},
                    "NumericLessThan": {"c": 3, "d": [1.5, -2, 10**30]},
                    "NumericEqualsIfExists": {"e": 1e400},
                },
            }
        },
        PolicyKind.IDENTITY,
    ),
    ("condition value null", {"Statement": {**STATEMENT, "Condition": {"Bool": {"a": None}}}}, PolicyKind.IDENTITY),
    (
        "condition value in a nested list",
        {"Statement": {**STATEMENT, "Condition": {"Bool": {"a": [["x"]]}}}},
        PolicyKind.IDENTITY,
    ),
    ("NullIfExists", {"Statement": {**STATEMENT, "Condition": {"NullIfExists": {"a": "true"}}}}, PolicyKind.IDENTITY),
    ("bare IfExists", {"Statement": {**STATEMENT, "Condition": {"IfExists": {"a": "x"}}}}, PolicyKind.IDENTITY),
    (
        "set operator on its own",
        {"Statement": {**STATEMENT, "Condition": {"ForAnyValue:": {"a": "x"}}}},
        PolicyKind.IDENTITY,
    ),
    (
        "two set prefixes",
        {"Statement": {**STATEMENT, "Condition": {"ForAnyValue:ForAllValues:StringLike": {"a": "x"}}}},
        PolicyKind.IDENTITY,
    ),
    ("action with a trailing newline", {"Statement": {**STATEMENT, "Action": "s3:GetObject\n"}}, PolicyKind.IDENTITY),
    ("action with a leading newline", {"Statement": {**STATEMENT, "Action": "\ns3:GetObject"}}, PolicyKind.IDENTITY),
    ("actions with one bad", {"Statement": {**STATEMENT, "Action": ["s3:GetObject", "s3 Get"]}}, PolicyKind.IDENTITY),
    ("principal star in a list", {"Statement": {**TRUST_STATEMENT, "Principal": ["*"]}}, PolicyKind.TRUST),
    ("principal string not star", {"Statement": {**TRUST_STATEMENT, "Principal": "AWS"}}, PolicyKind.TRUST),
    ("principal star", {"Statement": {**TRUST_STATEMENT, "Principal": "*"}}, PolicyKind.TRUST),
    ("principal empty", {"Statement": {**TRUST_STATEMENT, "Principal": {}}}, PolicyKind.TRUST),
    ("principal lower case type", {"Statement": {**TRUST_STATEMENT, "Principal": {"aws": "*"}}}, PolicyKind.TRUST),
    ("resource in a trust policy", {"Statement": {**TRUST_STATEMENT, "Resource": "*"}}, PolicyKind.TRUST),
    ("trust statement in an identity policy", {"Statement": TRUST_STATEMENT}, PolicyKind.IDENTITY),
    ("identity statement in a trust policy", {"Statement": STATEMENT}, PolicyKind.TRUST),
    ("statements as a tuple", {"Statement": (STATEMENT, STATEMENT)}, PolicyKind.IDENTITY),
    ("statement as a read-only mapping", {"Statement": MappingProxyType(STATEMENT)}, PolicyKind.IDENTITY),
    ("policy as a read-only mapping", MappingProxyType({"Statement": [STATEMENT]}), PolicyKind.IDENTITY),
    ("actions as a tuple", {"Statement": {**STATEMENT, "Action": ("s3:GetObject",)}}, PolicyKind.IDENTITY),
    ("YAML number key", {"Statement": {**STATEMENT, 1: "x"}}, PolicyKind.IDENTITY),
    ("YAML number operator", {"Statement": {**STATEMENT, "Condition": {1: {"a": "b"}}}}, PolicyKind.IDENTITY),
    ("YAML null condition key", {"Statement": {**STATEMENT, "Condition": {"Bool": {None: "b"}}}}, PolicyKind.IDENTITY),
    ("unresolved action", {"Statement": {**STATEMENT, "Action": Unresolved("!Ref A")}}, PolicyKind.IDENTITY),
    (
        "unresolved action in a list",
        {"Statement": {**STATEMENT, "Action": ["s3:*", Unresolved("!Ref A")]}},
        PolicyKind.IDENTITY,
    ),
    ("unresolved effect", {"Statement": {**STATEMENT, "Effect": Unresolved("!Ref E")}}, PolicyKind.IDENTITY),
    ("unresolved version", {"Version": Unresolved("!Ref V"), "Statement": []}, PolicyKind.IDENTITY),
    ("unresolved statement", {"Statement": Unresolved("!Ref S")}, PolicyKind.IDENTITY),
    (
        "unresolved condition value",
        {"Statement": {**STATEMENT, "Condition": {"StringEquals": {"a": Unresolved("!Ref C")}}}},
        PolicyKind.IDENTITY,
    ),
    ("bytes statement", {"Statement": b"ab"}, PolicyKind.IDENTITY),
    ("string statement", {"Statement": "x"}, PolicyKind.IDENTITY),
    ("empty statement list", {"Statement": []}, PolicyKind.TRUST),
    ("not a policy", ["Statement"], PolicyKind.IDENTITY),
    ("lower-case statement key", {"statement": [STATEMENT]}, PolicyKind.IDENTITY),
    ("lower-case effect value", {"Statement": {**STATEMENT, "Effect": "allow"}}, PolicyKind.IDENTITY),
    ("bool effect", {"Statement": {**STATEMENT, "Effect": True}}, PolicyKind.IDENTITY),
    ("old version", {"Version": "2008-10-17", "Statement": [STATEMENT]}, PolicyKind.IDENTITY),
    ("unknown version", {"Version": "2012-10-18", "Statement": [STATEMENT]}, PolicyKind.IDENTITY),
    ("number sid", {"Statement": {**STATEMENT, "Sid": 1}}, PolicyKind.IDENTITY),
    ("empty actions", {"Statement": {**STATEMENT, "Action": []}}, PolicyKind.IDENTITY),
    ("empty notactions", {"Statement": {"Effect": "Deny", "NotAction": [], "Resource": "*"}}, PolicyKind.IDENTITY),
    ("empty resources", {"Statement": {**STATEMENT, "Resource": []}}, PolicyKind.IDENTITY),
    ("a bucket name as a resource", {"Statement": {**STATEMENT, "Resource": "zeet-state"}}, PolicyKind.IDENTITY),
    (
        "a queue url in a notresource list",
        {
            "Statement": {
                "Effect": "Deny",
                "Action": "sqs:*",
                "NotResource": ["arn:aws:sqs:*:*:zeet-*", "https://sqs.us-east-1.amazonaws.com/123456789012/zeet"],
            }
        },
        PolicyKind.IDENTITY,
    ),
    ("empty principal identifiers", {"Statement": {**TRUST_STATEMENT, "Principal": {"AWS": []}}}, PolicyKind.TRUST),
    (
        "principal with a resource in an identity policy",
        {"Statement": {**STATEMENT, "Principal": {"AWS": "*"}}},
        PolicyKind.IDENTITY,
    ),
    (
        "notprincipal with a resource in an identity policy",
        {"Statement": {**STATEMENT, "NotPrincipal": "*"}},
        PolicyKind.IDENTITY,
    ),
    ("principal and notprincipal", {"Statement": {**TRUST_STATEMENT, "NotPrincipal": "*"}}, PolicyKind.TRUST),
    ("resource and notresource", {"Statement": {**STATEMENT, "NotResource": "*"}}, PolicyKind.IDENTITY),
    ("no resource in an identity policy", {"Statement": {"Effect": "Allow", "Action": "s3:*"}}, PolicyKind.IDENTITY),
    ("empty condition block", {"Statement": {**STATEMENT, "Condition": {"StringEquals": {}}}}, PolicyKind.IDENTITY),
    (
        "condition values as a tuple",
        {"Statement": {**STATEMENT, "Condition": {"StringEquals": {"a": ("b",)}}}},
        PolicyKind.IDENTITY,
    ),
    (
        "a statement id as a str subclass",
        {"Statement": {**STATEMENT, "Sid": Unresolved("!Ref Sid")}},
        PolicyKind.IDENTITY,
    ),
    ("number id", {"Id": 3, "Statement": [STATEMENT]}, PolicyKind.IDENTITY),
]


@pytest.mark.parametrize(("document", "kind"), [pytest.param(d, k, id=name) for name, d, k in CASES])
def test_hand_picked_documents_read_the_same_both_ways(document: Any, kind: PolicyKind) -> None:
    assert_paths_agree(document, kind)


def test_the_plain_path_reads_well_formed_documents() -> None:
    """The fast path is taken for the shapes real files hold (else this change would be for nothing)."""
    identity = {
        "Version": "2012-10-17",
        "Id": "x",
        "Statement": [
            {
                **STATEMENT,
                "Sid": "A",
                "Condition": {
                    "ForAnyValue:StringLikeIfExists": {"k": ["a", "b"]},
                    "Bool": {"aws:SecureTransport": False},
                },
            },
            {
                "Effect": "Deny",
                "NotAction": ["iam:*", "s3:Get*"],
                "NotResource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            },
        ],
    }
    trust = {"Statement": {**TRUST_STATEMENT, "Principal": {"Service": ["ec2.amazonaws.com"], "AWS": "*"}}}
    assert assert_paths_agree(identity, PolicyKind.IDENTITY)
    assert assert_paths_agree(trust, PolicyKind.TRUST)
    not_principal = {"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "NotPrincipal": "*"}}
    assert assert_paths_agree(not_principal, PolicyKind.TRUST)


def test_every_operator_the_plain_path_knows_is_one_split_operator_accepts() -> None:
    for operator in parse._OPERATORS:
        parse.split_operator(operator)
    prefixes = ("", "ForAllValues:", "ForAnyValue:", "ForSomeValues:", ":")
    suffixes = ("", "IfExists", "IfExistsIfExists")
    for base in (*parse.BASE_OPERATORS, "IfExists", "", "stringEquals"):
        for prefix in prefixes:
            for suffix in suffixes:
                operator = f"{prefix}{base}{suffix}"
                try:
                    parse.split_operator(operator)
                except ValueError:
                    assert operator not in parse._OPERATORS
                else:
                    assert operator in parse._OPERATORS


def test_the_action_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "_MATCHED_ACTIONS", set())
    monkeypatch.setattr(parse, "_MATCHED_ACTIONS_LIMIT", 3)
    actions = [f"s3:Action{number}" for number in range(10)]
    document = {"Statement": {**STATEMENT, "Action": actions}}
    assert assert_paths_agree(document, PolicyKind.IDENTITY)
    assert assert_paths_agree(document, PolicyKind.IDENTITY)
    assert len(parse._MATCHED_ACTIONS) == 3
    assert not assert_paths_agree({"Statement": {**STATEMENT, "Action": [*actions, "s3"]}}, PolicyKind.IDENTITY)


@pytest.mark.parametrize(
    ("action", "plain"),
    [
        (["s3:GetObject", "*", "iam:Pass?ole", "EC2:run*", "s3:"], True),
        (["*", "*"], True),
        (["s3:Get\n"], True),  # as the careful code's pattern does (``$`` before a final newline)
        (["s3:GetObject,s3:PutObject"], False),
        (["s3:GetObject,", "s3:PutObject"], False),
        (["s3:GetObject", ",s3:PutObject"], False),
        (["s3:Get,Object:x", "s3"], False),
        (["s3:GetObject", "*,s3:x"], False),
        (["s3:GetObject", ":PutObject"], False),
        ([":"], False),
        (["s3:Get:Object"], False),
        (["s3:a", "s3:b", "s3"], False),
        (["s3:a", ""], False),
        (["ś3:Get"], False),
        (["s3:Get Object"], False),
    ],
)
def test_action_lists_read_the_same_both_ways(monkeypatch: pytest.MonkeyPatch, action: list[str], plain: bool) -> None:
    """The plain path checks a statement's new action names all at once (joined by commas): a comma
    or colon in the wrong place must not pass for the joints between names, and what the careful
    code takes the plain path takes too."""
    monkeypatch.setattr(parse, "_MATCHED_ACTIONS", set())
    for value in (action, action[0]) if len(action) == 1 else (action,):
        document = {"Statement": {**STATEMENT, "Action": value}}
        assert assert_paths_agree(document, PolicyKind.IDENTITY) is plain
        not_action = {"Statement": {"Effect": "Deny", "NotAction": value, "Resource": "*"}}
        assert assert_paths_agree(not_action, PolicyKind.IDENTITY) is plain


# --- generated documents ------------------------------------------------------------------------------

ACTIONS = [
    "s3:GetObject",
    "*",
    "s3:*",
    "iam:Pass?ole",
    "EC2:run*",
    "s3:",
    "s3:Get\n",  # valid
    "s3",
    "",
    "s3:Get Object",
    "s3:Get:Object",
    "ś3:Get",
    ":Get",
    "s3:Get*\n\n",
]  # not
STRINGS = [
    "*",
    "arn:aws:s3:::zeet/*",
    "arn:aws:iam::111122223333:root",
    "ec2.amazonaws.com",
    "",
    "x\ny",
    "${aws:username}",
    "Allow",
]
VALID_OPERATORS = [*sorted(parse._OPERATORS)[::7], "StringEquals", "ForAnyValue:StringLike", "BoolIfExists"]
OPERATORS = [
    *VALID_OPERATORS,
    "NullIfExists",
    "IfExists",
    "StringEqual",
    "ForSomeValue:StringLike",
    "stringequals",
    "ForAnyValue:",
    "",
]
PRINCIPAL_KEYS = [*sorted(parse.PRINCIPAL_TYPES), "aws", "Services", ""]


def _junk() -> list[Any]:
    """Values that do not belong where they are put, made afresh (a mutation may change them)."""
    return [
        None,
        True,
        False,
        0,
        7,
        -1.5,
        1e400,
        "",
        "*",
        "s3:*",
        "Allow",
        [],
        {},
        ["*"],
        [["s3:*"]],
        {"AWS": "*"},
        Unresolved("!Ref P"),
        ("s3:*",),
        MappingProxyType({"AWS": "*"}),
        b"*",
        [None],
    ]


junk = st.integers(0, len(_junk()) - 1).map(lambda index: _junk()[index])
STATEMENT_KEYS = [
    *sorted(parse._STATEMENT_KEYS),
    "effect",
    "action",
    "Actions",
    "Resources",
    "Unknown",
    "Principals",
    "condition",
    1,
    None,
]

unresolved = st.text(alphabet="!RefAB ", min_size=1, max_size=6).map(Unresolved)


def one_or_list(items: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(items, st.lists(items, min_size=1, max_size=4))


actions = one_or_list(st.sampled_from(ACTIONS[:7]))
strings = one_or_list(st.sampled_from(STRINGS))
# Resource entries an identity policy may hold: "*" or text with a colon (see parse.py).
resources = one_or_list(st.sampled_from([text for text in STRINGS if text == "*" or ":" in text]))
condition_values = one_or_list(
    st.one_of(
        st.sampled_from(STRINGS),
        st.booleans(),
        st.integers(-5, 10**20),
        st.floats(allow_nan=False, allow_infinity=True),
    )
)
conditions = st.dictionaries(
    st.sampled_from(VALID_OPERATORS),
    st.dictionaries(
        st.sampled_from(["aws:SourceIp", "s3:prefix", "sts:ExternalId", "aws:username"]),
        condition_values,
        min_size=1,
        max_size=3,
    ),
    max_size=3,
)
principals = st.one_of(
    st.just("*"),
    st.dictionaries(st.sampled_from(sorted(parse.PRINCIPAL_TYPES)), strings, min_size=1, max_size=3),
)


@st.composite
def statements(draw: st.DrawFn, kind: PolicyKind) -> dict[Any, Any]:
    """A valid statement for ``kind``, its elements in any order."""
    elements: list[tuple[str, Any]] = [("Effect", draw(st.sampled_from(["Allow", "Deny"])))]
    elements.append((draw(st.sampled_from(["Action", "NotAction"])), draw(actions)))
    if kind is PolicyKind.IDENTITY or draw(st.booleans()):
        elements.append((draw(st.sampled_from(["Resource", "NotResource"])), draw(resources)))
    if kind is PolicyKind.TRUST:
        elements.append((draw(st.sampled_from(["Principal", "NotPrincipal"])), draw(principals)))
    if draw(st.booleans()):
        elements.append(("Sid", draw(st.sampled_from(["", "S1", "Allow S3"]))))
    if draw(st.booleans()):
        elements.append(("Condition", draw(conditions)))
    return dict(draw(st.permutations(elements)))


@st.composite
def policies(draw: st.DrawFn, kind: PolicyKind) -> dict[str, Any]:
    """A valid policy for ``kind``: one statement object or a list of them."""
    body: Any = draw(st.lists(statements(kind), max_size=4))
    if len(body) == 1 and draw(st.booleans()):
        body = body[0]
    elements: list[tuple[str, Any]] = [("Statement", body)]
    if draw(st.booleans()):
        elements.append(("Version", draw(st.sampled_from(sorted(parse.VERSIONS)))))
    if draw(st.booleans()):
        elements.append(("Id", "policy-id"))
    return dict(draw(st.permutations(elements)))


def _slots(value: Any) -> list[list[tuple[Any, Any]]]:
    """Every (container, key or index) inside ``value``, the places a mutation can change, by the
    depth of the container (the policy's elements first, then the statements', and so on)."""
    found: list[list[tuple[Any, Any]]] = []
    stack = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict | list):
            if len(found) <= depth:
                found.append([])
            keys = list(current) if isinstance(current, dict) else range(len(current))
            found[depth] += [(current, key) for key in keys]
            stack += [(current[key], depth + 1) for key in keys]
    return [level for level in found if level]


def _replacement(draw: st.DrawFn, value: Any) -> Any:
    """A value close to ``value``, or junk: what a hand-edited or generated file might hold (near
    misses first: hypothesis draws the first choices more often)."""
    choices: list[Any] = []
    if isinstance(value, str):
        choices += [
            st.just(value.lower()),
            st.just(value.upper()),
            st.just(value + " "),
            st.just(value[1:]),
            st.just(Unresolved(value)),
        ]
    if isinstance(value, list):
        choices += [st.just([]), st.just(tuple(value)), st.just([*value, draw(junk)]), st.just([value])]
        if value:
            choices.append(st.just(value[0]))
    if isinstance(value, dict):
        choices += [st.just({}), st.just(MappingProxyType(value)), st.just(list(value.values()))]
    choices += [
        st.sampled_from(ACTIONS + STRINGS + OPERATORS + PRINCIPAL_KEYS),
        st.just([value]),
        st.just([]),
        st.just([[value]]),
        unresolved,
        junk,
    ]
    return draw(st.one_of(*choices))


@st.composite
def mutated(draw: st.DrawFn, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with up to three small changes: a value replaced, a key dropped, renamed
    (lower case, a near miss, a key of another kind of statement) or added."""
    for _ in range(draw(st.sampled_from([1, 1, 1, 0, 2, 3]))):
        levels = _slots(document)
        if not levels:
            break
        # Mostly inside the statements, where most of the grammar is (the deepest first: hypothesis
        # draws the first choices more often).
        container, key = draw(st.sampled_from(draw(st.sampled_from([*levels[:1:-1] * 3, *levels[::-1]]))))
        if isinstance(container, list):
            container[key] = _replacement(draw, container[key])
            continue
        action = draw(st.sampled_from(["replace", "drop", "rename", "add"]))
        if action == "replace":
            container[key] = _replacement(draw, container[key])
        elif action == "drop":
            del container[key]
        else:
            names: list[Any] = [key.lower(), f"{key}s", key[:-1]] if isinstance(key, str) else []
            names += [
                1,
                None,
                "NullIfExists",
                "NotPrincipal",
                "Principal",
                *STATEMENT_KEYS,
                *PRINCIPAL_KEYS,
                *OPERATORS,
                "Version",
                "Id",
                "Statement",
            ]
            new = draw(st.sampled_from(names))
            value = container.pop(key) if action == "rename" else draw(junk)
            container[new] = value
    return document


@st.composite
def documents(draw: st.DrawFn) -> tuple[Any, PolicyKind]:
    policy_kind = draw(st.sampled_from(KINDS))
    other = PolicyKind.TRUST if policy_kind is PolicyKind.IDENTITY else PolicyKind.IDENTITY
    grammar_kind = draw(st.sampled_from([policy_kind, policy_kind, policy_kind, other]))  # written for the other
    return draw(mutated(draw(policies(grammar_kind)))), policy_kind


@PATHS
@given(case=documents())
def test_generated_documents_read_the_same_both_ways(case: tuple[Any, PolicyKind]) -> None:
    document, kind = case
    assert_paths_agree(document, kind)


@pytest.mark.parametrize("document", _junk(), ids=repr)
@pytest.mark.parametrize("kind", KINDS)
def test_a_document_that_is_not_an_object_reads_the_same_both_ways(document: Any, kind: PolicyKind) -> None:
    assert_paths_agree(document, kind)


@PATHS
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_generated_valid_documents_take_the_plain_path(kind: PolicyKind, data: st.DataObject) -> None:
    document = data.draw(policies(kind))
    assert assert_paths_agree(document, kind)
    # and through JSON text, as files and API answers give them
    assert assert_paths_agree(json.loads(json.dumps(document)), kind)


# --- every single change to sample policies -----------------------------------------------------------

SAMPLES: list[tuple[dict[str, Any], PolicyKind]] = [
    (
        {
            "Version": "2012-10-17",
            "Id": "sample",
            "Statement": [
                {
                    "Sid": "Read",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:List*"],
                    "Resource": ["arn:aws:s3:::zeet", "arn:aws:s3:::zeet/*"],
                    "Condition": {
                        "StringLike": {"s3:prefix": ["home/", "home/${aws:username}/*"]},
                        "Bool": {"aws:SecureTransport": True},
                        "NumericLessThanIfExists": {"s3:max-keys": 10},
                    },
                },
                {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:iam::*:role/zeet-*"},
            ],
        },
        PolicyKind.IDENTITY,
    ),
    ({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}, PolicyKind.IDENTITY),
    (
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ["arn:aws:iam::111122223333:root"], "Service": "ec2.amazonaws.com"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    "Condition": {
                        "StringEquals": {"sts:ExternalId": "zeet"},
                        "ForAnyValue:StringLike": {"aws:TagKeys": []},
                    },
                },
                {"Effect": "Deny", "NotPrincipal": "*", "Action": "sts:AssumeRole", "Resource": "*"},
            ],
        },
        PolicyKind.TRUST,
    ),
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path (keys and indexes) to every value inside ``value``."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield (*path, key)
        yield from _paths(child, (*path, key))


def _near_misses(value: Any) -> list[Any]:
    misses: list[Any] = [*_junk(), Unresolved("!Ref X"), [value], [[value]], (value,)]
    if isinstance(value, str):
        misses += [value.lower(), value.upper(), f" {value}", value[1:], Unresolved(value), *ACTIONS, *OPERATORS]
    if isinstance(value, list):
        misses += [[], tuple(value), [*value, None], [*value, 1], [*value, [value[0]]] if value else [[]]]
    if isinstance(value, dict):
        misses += [{}, MappingProxyType(value), list(value.values()), [value]]
    return misses


def _single_changes(document: dict[str, Any]) -> Iterator[Any]:
    """``document`` with one value replaced, or one key dropped, renamed or added, each way once."""
    names: list[Any] = [*STATEMENT_KEYS, *PRINCIPAL_KEYS, *OPERATORS, "Version", "Id", "Statement", "aws:SourceIp"]
    for path in _paths(document):
        parent_path, key = path[:-1], path[-1]
        for miss in _near_misses(_at(document, path)):
            changed = copy.deepcopy(document)
            _at(changed, parent_path)[key] = miss
            yield changed
        if not isinstance(_at(document, parent_path), dict):
            continue
        changed = copy.deepcopy(document)
        del _at(changed, parent_path)[key]
        yield changed
        for name in [*names, key.lower() if isinstance(key, str) else key]:
            changed = copy.deepcopy(document)
            parent = _at(changed, parent_path)
            parent[name] = parent.pop(key)
            yield changed
    for path in [(), *_paths(document)]:
        if isinstance(_at(document, path), dict):
            for name in names:
                for value in ("*", ["*"], {"AWS": "*"}, {"StringEquals": {"a": "b"}}, None):
                    changed = copy.deepcopy(document)
                    _at(changed, path)[name] = value
                    yield changed


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


@pytest.mark.parametrize(("document", "kind"), SAMPLES, ids=["identity", "single-statement", "trust"])
def test_every_single_change_to_a_sample_reads_the_same_both_ways(document: dict[str, Any], kind: PolicyKind) -> None:
    assert assert_paths_agree(document, kind)
    read = [assert_paths_agree(changed, other) for changed in _single_changes(document) for other in KINDS]
    assert len(read) > 1000
