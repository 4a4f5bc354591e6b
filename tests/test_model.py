"""The shared values (model.py): routes and origins, statements, roles, the string-like markers."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest

from zeet_iam_audit.model import (
    Effect,
    InputType,
    InvalidPolicy,
    Origin,
    Principal,
    Role,
    Route,
    Statement,
    Unresolved,
    route_text,
)
from zeet_iam_audit.sources.shape import index_path, key_path


@pytest.mark.parametrize(
    ("route", "text"),
    [
        pytest.param((), "$", id="empty-is-the-root"),
        pytest.param(("$",), "$", id="root"),
        pytest.param(
            ("$", "RoleDetailList", 3, "RolePolicyList", 0), "$.RoleDetailList[3].RolePolicyList[0]", id="gaad"
        ),
        pytest.param(("$", 1, "Policies", 0), "$[1].Policies[0]", id="page-list"),
        pytest.param(
            ("Resources", "ZeetRole", "Properties", "Policies", 0, "PolicyDocument"),
            "Resources.ZeetRole.Properties.Policies[0].PolicyDocument",
            id="template",
        ),
        pytest.param(("$", "odd key", "a.b"), '$["odd key"]["a.b"]', id="quoted-keys"),
        pytest.param(
            ('module.zeet.aws_iam_role.this["k"]', "inline_policy", 0, "policy"),
            'module.zeet.aws_iam_role.this["k"].inline_policy[0].policy',
            id="terraform-address-first",
        ),
    ],
)
def test_route_text(route: Route, text: str) -> None:
    assert route_text(route) == text


@pytest.mark.parametrize(
    ("root", "steps"),
    [
        pytest.param("$", ("RoleDetailList", 3, "Odd key", 0, "x-y:z@w")),
        pytest.param("Resources", ("Zeet Role", "Properties", "Policies", 12)),
    ],
)
def test_route_text_writes_what_the_sources_error_paths_write(root: str, steps: tuple[str | int, ...]) -> None:
    # Messages name places with shape.key_path/index_path; origins must read the same.
    path = root
    for step in steps:
        path = index_path(path, step) if isinstance(step, int) else key_path(path, step)
    assert route_text((root, *steps)) == path


def test_an_origin_reads_as_its_source_and_path() -> None:
    origin = Origin("gaad.json", ("$", "RoleDetailList", 3, "AssumeRolePolicyDocument"))
    assert str(origin) == "gaad.json: $.RoleDetailList[3].AssumeRolePolicyDocument"
    assert origin.path == "$.RoleDetailList[3].AssumeRolePolicyDocument"


def test_an_origin_without_a_route_is_no_place_in_a_file() -> None:
    origin = Origin("live: iam:GetRolePolicy zeet/Sqs", None)
    assert str(origin) == "live: iam:GetRolePolicy zeet/Sqs"
    assert origin.path is None


def test_origins_are_values() -> None:
    first = Origin("a.json", ("$", "Role"))
    assert first == Origin("a.json", ("$", "Role"))
    assert first != Origin("b.json", ("$", "Role"))
    assert pickle.loads(pickle.dumps(first)) == first
    assert len({first, Origin("a.json", ("$", "Role"))}) == 1


def test_where_a_role_was_read_is_not_what_the_role_is() -> None:
    role = Role(name="zeet", arn=None, source="t.yaml", input_type=InputType.CLOUDFORMATION, logical_id="ZeetRole")
    moved = replace(role, input_type=InputType.LIVE, logical_id=None, address="aws_iam_role.zeet", role_id="AROA1")
    assert role == moved
    assert (moved.input_type, moved.address, moved.role_id) == (InputType.LIVE, "aws_iam_role.zeet", "AROA1")
    assert str(InputType.TERRAFORM) == "terraform"


@pytest.mark.parametrize(
    ("sid", "label"),
    [
        pytest.param(None, "Statement[2]", id="no-sid"),
        pytest.param("DenySqs", 'Statement[2] (Sid "DenySqs")', id="sid"),
    ],
)
def test_statement_labels(sid: str | None, label: str) -> None:
    assert Statement(index=2, effect=Effect.DENY, sid=sid).label == label


def test_principal_identifiers_by_type() -> None:
    principal = Principal(entries=(("AWS", ("arn:aws:iam::111122223333:root",)), ("Service", ("ec2.amazonaws.com",))))
    assert principal.identifiers("Service") == ("ec2.amazonaws.com",)
    assert principal.identifiers("Federated") == ()


def test_unresolved_and_invalid_policy_travel_as_strings_and_pickle() -> None:
    unresolved = Unresolved("!Ref Bucket (parameter without a default)")
    assert unresolved == "${unresolved:!Ref Bucket (parameter without a default)}"
    assert pickle.loads(pickle.dumps(unresolved)).reason == unresolved.reason
    invalid = InvalidPolicy("t.json", "$.Statement[0].Effect", "P", "Effect must be Allow or Deny")
    assert invalid == "t.json: $.Statement[0].Effect: Effect must be Allow or Deny"
    again = pickle.loads(pickle.dumps(invalid))
    assert (again.file, again.path, again.policy, again.problem) == (invalid.file, invalid.path, "P", invalid.problem)
