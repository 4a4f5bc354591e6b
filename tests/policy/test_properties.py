"""Properties of matching and evaluation, checked on generated inputs (hypothesis)."""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zeet_iam_audit import Decision, evaluate
from zeet_iam_audit.policy.match import (
    action_matches,
    arn_covers,
    arn_matches,
    arns_intersect,
    compile_pattern,
    glob_match,
    globs_intersect,
)
from zeet_iam_audit.policy.variables import substitute

# No example database in the working tree, no per-example deadline (CI machines vary).
PROPERTY = settings(database=None, deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])

Doc = dict[str, Any]


def reference_glob(pattern: str, text: str) -> bool:
    """A slow, obviously correct glob: dynamic programming over (pattern, text) positions."""

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(text)
        if pattern[i] == "*":
            return match(i + 1, j) or (j < len(text) and match(i, j + 1))
        return j < len(text) and pattern[i] in ("?", text[j]) and match(i + 1, j + 1)

    return match(0, 0)


small_glob = st.text(alphabet="ab*?", max_size=8)
small_text = st.text(alphabet="ab", max_size=10)


@PROPERTY
@given(pattern=small_glob, text=st.text(alphabet="ab*?", max_size=10))
def test_glob_match_agrees_with_the_reference(pattern: str, text: str) -> None:
    assert glob_match(pattern, text) is reference_glob(pattern, text)
    assert compile_pattern(pattern)(text) is reference_glob(pattern, text)


@PROPERTY
@given(text=st.text(alphabet=st.characters(exclude_characters="*?"), max_size=30))
def test_pattern_without_wildcards_matches_its_own_text_only(text: str) -> None:
    assert glob_match(text, text)
    assert not glob_match(text, text + "x")
    assert not glob_match(text + "x", text)


def _escape(text: str) -> str:
    """Write ``text`` as a policy value that means exactly that text (IAM's ``${*}`` etc.)."""
    return text.replace("$", "${$}").replace("*", "${*}").replace("?", "${?}")


@PROPERTY
@given(text=st.text(alphabet="ab*?$/{}", max_size=12), other=st.text(alphabet="ab*?$", max_size=12))
def test_escaped_text_matches_itself_and_nothing_else(text: str, other: str) -> None:
    escaped = substitute(_escape(text), {})
    assert not escaped.missing
    assert escaped.text == text
    assert escaped.matches(text, compile_pattern)
    if other != text:
        assert not escaped.matches(other, compile_pattern)


identifier = st.text(alphabet="abcdefgXYZ", min_size=1, max_size=8)
action_name = st.builds(lambda s, n: f"{s}:{n}", st.sampled_from(["s3", "sqs", "iam", "ec2", "es"]), identifier)


@PROPERTY
@given(
    pattern=st.text(alphabet="abXY*?:", max_size=8),
    action=action_name,
    flips=st.lists(st.booleans(), min_size=20, max_size=20),
)
def test_action_matching_ignores_case(pattern: str, action: str, flips: list[bool]) -> None:
    def recase(text: str) -> str:
        return "".join(c.swapcase() if flips[i % len(flips)] else c for i, c in enumerate(text))

    expected = reference_glob(pattern.lower(), action.lower())
    assert action_matches(pattern, action) is expected
    assert action_matches(recase(pattern), action) is expected
    assert action_matches(pattern, recase(action)) is expected


@PROPERTY
@given(name=st.text(alphabet="abcXYZ/-", min_size=1, max_size=12))
def test_arn_matching_is_case_sensitive(name: str) -> None:
    arn = f"arn:aws:iam::111122223333:role/{name}"
    swapped = arn[: -len(name)] + name.swapcase()
    assert arn_matches(arn, arn)
    assert arn_matches(arn, swapped) is (swapped == arn)


def _instances(scope: str) -> st.SearchStrategy[str]:
    """Concrete texts the glob ``scope`` stands for: each ``*`` a short run, each ``?`` one char."""
    parts: list[st.SearchStrategy[str]] = []
    for char in scope:
        if char == "*":
            parts.append(st.text(alphabet="ab:", max_size=4))
        elif char == "?":
            parts.append(st.sampled_from("ab:"))
        else:
            parts.append(st.just(char))
    return st.tuples(*parts).map("".join)


@PROPERTY
@given(pattern=small_glob, scope=small_glob, data=st.data())
def test_covers_means_every_instance_matches(pattern: str, scope: str, data: st.DataObject) -> None:
    if arn_covers(pattern, scope):
        for _ in range(5):
            instance = data.draw(_instances(scope))
            assert arn_matches(pattern, instance), (pattern, scope, instance)


arn_field = st.text(alphabet="ab*?", max_size=4)
arn_glob = st.builds(
    lambda p, s, r, a, res: f"arn:{p}:{s}:{r}:{a}:{res}",
    st.sampled_from(["aws", "a*", "*"]),
    st.sampled_from(["sqs", "s*", "*"]),
    arn_field,
    arn_field,
    st.text(alphabet="ab*?/:", max_size=6),
)


def _arn_instances(scope: str) -> st.SearchStrategy[str]:
    """Concrete ARNs of an ARN-shaped scope: wildcards before the resource part stay in their
    field (no colons), the resource part may take colons."""
    *fields, resource = scope.split(":", 5)
    built = [_field_instances(f, "ab") for f in fields] + [_field_instances(resource, "ab:/")]
    return st.tuples(*built).map(":".join)


def _field_instances(field: str, alphabet: str) -> st.SearchStrategy[str]:
    parts: list[st.SearchStrategy[str]] = []
    for char in field:
        if char == "*":
            parts.append(st.text(alphabet=alphabet, max_size=3))
        elif char == "?":
            parts.append(st.sampled_from(alphabet))
        else:
            parts.append(st.just(char))
    return st.tuples(*parts).map("".join)


@PROPERTY
@given(pattern=arn_glob, scope=arn_glob, data=st.data())
def test_arn_covers_means_every_concrete_arn_matches(pattern: str, scope: str, data: st.DataObject) -> None:
    if arn_covers(pattern, scope):
        for _ in range(5):
            instance = data.draw(_arn_instances(scope))
            assert arn_matches(pattern, instance), (pattern, scope, instance)


@PROPERTY
@given(pattern=arn_glob, scope=arn_glob, data=st.data())
def test_disjoint_scopes_share_no_arn(pattern: str, scope: str, data: st.DataObject) -> None:
    if not arns_intersect(pattern, scope):
        assert not arn_covers(pattern, scope)
        for _ in range(5):
            assert not arn_matches(pattern, data.draw(_arn_instances(scope)))


@PROPERTY
@given(left=st.text(alphabet="ab*?", max_size=3), right=st.text(alphabet="ab*?", max_size=3))
def test_globs_intersect_agrees_with_brute_force(left: str, right: str) -> None:
    # Any common string can be shortened to at most len(left) + len(right) characters over an
    # alphabet of the literals used plus one fresh letter.
    alphabet = "abc"
    common = any(
        reference_glob(left, word) and reference_glob(right, word) for word in _words(alphabet, len(left) + len(right))
    )
    assert globs_intersect(left, right) is common


@cache
def _words(alphabet: str, longest: int) -> tuple[str, ...]:
    words = [""]
    frontier = [""]
    for _ in range(longest):
        frontier = [w + c for w in frontier for c in alphabet]
        words.extend(frontier)
    return tuple(words)


# --- Evaluation ----------------------------------------------------------------------------------

ACTIONS = ["s3:GetObject", "s3:PutObject", "sqs:SendMessage", "iam:PassRole", "ec2:CreateTags"]
RESOURCES = ["*", "arn:aws:s3:::zeet/*", "arn:aws:sqs:*:*:zeet-*", "arn:aws:s3:::other/*"]
REQUEST_RESOURCES = ["*", "arn:aws:s3:::zeet/a", "arn:aws:sqs:us-east-1:111122223333:zeet-q", "arn:aws:sqs:*:*:zeet-*"]

action_pattern = st.sampled_from([*ACTIONS, "*", "s3:*", "sqs:Send*", "iam:*", "ec2:*Tags", "S3:getobject"])
condition = st.sampled_from(
    [
        {"Bool": {"aws:SecureTransport": "false"}},
        {"Bool": {"aws:SecureTransport": "true"}},
        {"StringEquals": {"aws:PrincipalTag/team": "zeet"}},
        {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}},
        {"IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}},
        {"Null": {"aws:TokenIssueTime": "true"}},
    ]
)


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> Doc:
    doc: Doc = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    actions = draw(st.lists(action_pattern, min_size=1, max_size=3))
    doc["NotAction" if draw(st.integers(0, 4)) == 0 else "Action"] = actions
    resources = draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2))
    doc["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = resources
    if draw(st.booleans()):
        doc["Condition"] = draw(condition)
    return doc


def documents(effect: str | None = None) -> st.SearchStrategy[Doc]:
    return st.builds(
        lambda s: {"Version": "2012-10-17", "Statement": s}, st.lists(statements(effect), min_size=0, max_size=3)
    )


contexts = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "aws:SecureTransport": st.sampled_from(["true", "false"]),
            "aws:PrincipalTag/team": st.sampled_from(["zeet", "other"]),
            "aws:RequestedRegion": st.sampled_from(["us-east-1", "eu-west-1"]),
            "aws:SourceIp": st.sampled_from(["10.1.2.3", "192.0.2.1"]),
        },
    ),
)


@st.composite
def layers(draw: st.DrawFn) -> tuple[list[Doc], Doc | None, list[list[Doc]]]:
    identity = draw(st.lists(documents(), min_size=0, max_size=3))
    boundary = draw(st.one_of(st.none(), documents()))
    scps = draw(st.lists(st.lists(documents(), min_size=1, max_size=2), max_size=2))
    return identity, boundary, scps


@PROPERTY
@given(
    setup=layers(),
    action=st.sampled_from(ACTIONS),
    resource=st.sampled_from(REQUEST_RESOURCES),
    context=contexts,
    where=st.integers(0, 3),
    case=st.sampled_from([str, str.upper, str.lower]),
)
def test_unconditional_matching_deny_always_wins(
    setup: tuple[list[Doc], Doc | None, list[list[Doc]]],
    action: str,
    resource: str,
    context: dict[str, str] | None,
    where: int,
    case: Any,
) -> None:
    identity, boundary, scps = setup
    denial: Doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": case(action), "Resource": "*"}]}
    if where == 0 or (where >= 2 and not scps):
        identity = [*identity, denial]
    elif where == 1:
        boundary = denial
    else:
        scps = [[*level, denial] if i == len(scps) - 1 else level for i, level in enumerate(scps)]
    result = evaluate(action, resource, identity, boundary, scps, context)
    assert result.decision is Decision.EXPLICIT_DENY, result.explain()


@PROPERTY
@given(
    setup=layers(),
    action=st.sampled_from(ACTIONS),
    resource=st.sampled_from(REQUEST_RESOURCES),
    context=contexts,
    extra=statements(effect="Allow"),
    where=st.integers(0, 2),
)
def test_adding_an_allow_never_turns_allowed_into_denied(
    setup: tuple[list[Doc], Doc | None, list[list[Doc]]],
    action: str,
    resource: str,
    context: dict[str, str] | None,
    extra: Doc,
    where: int,
) -> None:
    identity, boundary, scps = setup
    before = evaluate(action, resource, identity, boundary, scps, context)
    grant: Doc = {"Version": "2012-10-17", "Statement": [extra]}
    if where == 0:
        identity = [*identity, grant]
    elif where == 1 and boundary is not None:
        boundary = {**boundary, "Statement": [*boundary["Statement"], extra]}
    elif scps:
        scps = [[*scps[0], grant], *scps[1:]]
    after = evaluate(action, resource, identity, boundary, scps, context)
    if before.decision is Decision.ALLOWED:
        assert after.decision is Decision.ALLOWED, after.explain()
    if before.decision is Decision.EXPLICIT_DENY:
        assert after.decision is Decision.EXPLICIT_DENY, after.explain()


@PROPERTY
@given(
    setup=layers(),
    action=st.sampled_from(ACTIONS),
    resource=st.sampled_from([r for r in REQUEST_RESOURCES if "*" not in r]),
    context=st.fixed_dictionaries(
        {},
        optional={
            "aws:SecureTransport": st.sampled_from(["true", "false"]),
            "aws:PrincipalTag/team": st.sampled_from(["zeet", "other"]),
        },
    ),
)
def test_with_a_context_nothing_is_conditional_for_a_concrete_resource(
    setup: tuple[list[Doc], Doc | None, list[list[Doc]]],
    action: str,
    resource: str,
    context: dict[str, str],
) -> None:
    identity, boundary, scps = setup
    result = evaluate(action, resource, identity, boundary, scps, context)
    assert result.decision in (Decision.ALLOWED, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY)


@PROPERTY
@given(setup=layers(), action=st.sampled_from(ACTIONS), resource=st.sampled_from(REQUEST_RESOURCES), context=contexts)
def test_explicit_deny_names_deny_statements_and_implicit_names_layers(
    setup: tuple[list[Doc], Doc | None, list[list[Doc]]],
    action: str,
    resource: str,
    context: dict[str, str] | None,
) -> None:
    identity, boundary, scps = setup
    result = evaluate(action, resource, identity, boundary, scps, context)
    if result.decision is Decision.EXPLICIT_DENY:
        assert result.deciding
        assert all(ref.effect.value == "Deny" for ref in result.deciding)
        assert result.layer is result.deciding[0].layer
    elif result.decision is Decision.IMPLICIT_DENY:
        assert result.blocking_layers
        assert result.layer is result.blocking_layers[0]
    elif result.decision is Decision.CONDITIONAL:
        assert result.uncertain
        assert context is None or "*" in resource
    else:
        assert result.decision is Decision.ALLOWED
        assert result.uncertain == ()
        assert all(ref.effect.value == "Allow" for ref in result.deciding)


@PROPERTY
@given(
    setup=layers(),
    action=st.sampled_from(ACTIONS),
    resource=st.sampled_from(REQUEST_RESOURCES[:3]),
    context=st.fixed_dictionaries(
        {
            "aws:SecureTransport": st.sampled_from(["true", "false"]),
            "aws:PrincipalTag/team": st.sampled_from(["zeet", "other"]),
            "aws:RequestedRegion": st.sampled_from(["us-east-1", "eu-west-1"]),
            "aws:SourceIp": st.sampled_from(["10.1.2.3", "192.0.2.1"]),
        },
        optional={"aws:TokenIssueTime": st.just("2024-01-01T00:00:00Z")},
    ),
)
def test_conditional_answer_is_consistent_with_every_concrete_context(
    setup: tuple[list[Doc], Doc | None, list[list[Doc]]],
    action: str,
    resource: str,
    context: dict[str, str],
) -> None:
    # Without a context, "allowed" and "explicit_deny"/"implicit_deny" are promises about every
    # request; a concrete context may only refine "conditional".
    identity, boundary, scps = setup
    unknown = evaluate(action, resource, identity, boundary, scps, None)
    known = evaluate(action, resource, identity, boundary, scps, context)
    if unknown.decision is Decision.ALLOWED:
        assert known.decision is Decision.ALLOWED
    elif unknown.decision is Decision.EXPLICIT_DENY:
        assert known.decision is Decision.EXPLICIT_DENY
    elif unknown.decision is Decision.IMPLICIT_DENY:
        assert known.decision is not Decision.ALLOWED
