"""policy_checks.py: documents AWS would refuse, and action names AWS does not know."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from tests.audit.support import make_role, statement
from zeet_iam_audit.audit.policy_checks import invalid_documents, nearest_action, unknown_actions
from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.model import InvalidPolicy
from zeet_iam_audit.sources import load_file

CATALOG = load_catalog()

_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ZeetRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: zeet-cloud-connection
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              AWS: arn:aws:iam::111122223333:root
            Action: sts:AssumeRole
            Condition:
              StringEquals:
                sts:ExternalId: zeet-ext-5f2c9a7e
      Policies:
        - PolicyName: ZeetMonitoring
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: Logs
                Effect: Allow
                Action:
                  - logs:DescribeLogGroups
                  - logs:FilterLogEvents
                Resource: "*"
              - Sid: Metrics
{metrics}
"""


@pytest.mark.parametrize(
    ("metrics", "path", "problem"),
    [
        pytest.param(
            "                Effect: Alow\n                Action: cloudwatch:GetMetricData\n"
            '                Resource: "*"',
            "Statement[1].Effect",
            "expected Allow or Deny, got 'Alow'",
            id="bad-effect",
        ),
        pytest.param(
            "                Effect: Allow\n                Actions: cloudwatch:GetMetricData\n"
            '                Resource: "*"',
            "Statement[1].Actions",
            "unknown statement element",
            id="unknown-element",
        ),
        pytest.param(
            "                Effect: Allow\n                Action: cloudwatch:Get Metric Data\n"
            '                Resource: "*"',
            "Statement[1].Action",
            "expected an action such as 'service:Name' or '*'",
            id="action-with-spaces",
        ),
        pytest.param(
            "                Effect: Allow\n                Action: cloudwatch:GetMetricData\n"
            "                Resource: zeet-metrics",
            "Statement[1].Resource",
            "expected '*' or an ARN (arn:partition:service:...), got 'zeet-metrics'",
            id="resource-not-an-arn",
        ),
    ],
)
def test_a_document_aws_would_refuse_is_named_with_its_file_policy_and_path(
    tmp_path: Path, metrics: str, path: str, problem: str
) -> None:
    template = tmp_path / "zeet-role.yaml"
    template.write_text(_TEMPLATE.format(metrics=metrics))
    (role,) = load_file(template).roles
    (document,) = invalid_documents(role)
    assert document.file == str(template)
    assert document.policy == "ZeetMonitoring"
    assert document.path == f"Resources.ZeetRole.Properties.Policies[0].PolicyDocument.{path}"
    assert document.problem.startswith(problem)
    # The policy's attachment is unknown with the same text, so verdicts it could change say why.
    (attached,) = role.policies
    assert attached.policy is None
    assert attached.unknown_reason == document.text


def test_an_invalid_reason_survives_pickling_between_processes() -> None:
    reason = InvalidPolicy(
        "zeet.yaml",
        "Resources.P.Properties.PolicyDocument.Statement[0].Effect",
        "P",
        "expected Allow or Deny, got 'Alow'",
    )
    copy = pickle.loads(pickle.dumps(reason))
    assert isinstance(copy, InvalidPolicy)
    assert (copy, copy.file, copy.path, copy.policy, copy.problem) == (
        reason,
        reason.file,
        reason.path,
        reason.policy,
        reason.problem,
    )


def test_an_unreadable_policy_is_not_an_invalid_one() -> None:
    role = make_role(statement("logs:*"), unreadable="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert invalid_documents(role) == ()


@pytest.mark.parametrize(
    ("action", "nearest"),
    [
        pytest.param("sqs:CreateQueu", "sqs:CreateQueue", id="typo"),
        pytest.param("s3:GetObjects", "s3:GetObject", id="plural"),
        pytest.param("sqss:CreateQueue", "sqs:CreateQueue", id="service-typo"),
        pytest.param("ec2:Descibe*", None, id="pattern-matching-nothing"),
        pytest.param("zzzz:Frobnicate", None, id="nothing-near"),
    ],
)
def test_an_unknown_action_names_the_nearest_known_one(action: str, nearest: str | None) -> None:
    role = make_role(statement(["sqs:SendMessage", action], "arn:aws:sqs:*:*:zeet-*"))
    (found,) = unknown_actions(role, CATALOG)
    assert found.action == action
    assert str(found.statement) == "identity-based policy 'inline' Statement[0]"
    assert found.suggestion == nearest
    if nearest is not None:
        assert nearest_action(action, CATALOG) == nearest


@pytest.mark.parametrize(
    "action", ["sqs:CreateQueue", "SQS:createqueue", "sqs:*", "sqs:Create*", "*", "*:Describe*", "ec2:Describe?pcs"]
)
def test_known_names_and_patterns_are_not_reported(action: str) -> None:
    assert unknown_actions(make_role(statement(action)), CATALOG) == ()


def test_not_action_and_the_boundary_are_checked_too() -> None:
    role = make_role(
        {"Effect": "Allow", "NotAction": "iam:CreateUsr", "Resource": "*"}, boundary=[statement("sqs:RecieveMessage")]
    )
    found = {(u.action, str(u.statement), u.suggestion) for u in unknown_actions(role, CATALOG)}
    assert found == {
        ("iam:CreateUsr", "identity-based policy 'inline' Statement[0]", "iam:CreateUser"),
        ("sqs:RecieveMessage", "permissions boundary 'Boundary' Statement[0]", "sqs:ReceiveMessage"),
    }


@pytest.mark.parametrize("seed", range(3))
def test_the_nearest_name_is_the_one_difflib_picks(seed: int) -> None:
    """Suggestions are worked out with bounds that skip most ratios: the answer must be exactly
    difflib.get_close_matches' (ties included), for misspelt services and names alike."""
    import difflib
    import random

    from zeet_iam_audit.audit.action_sets import action_index
    from zeet_iam_audit.audit.policy_checks import _closest

    rng = random.Random(seed)
    services = list(CATALOG.services())
    names = list(action_index(CATALOG).names_of("ec2"))
    for candidates in (services, names, ["ab", "ba", "abc", "acb"]):
        for _ in range(60):
            word = list(rng.choice(candidates))
            for _ in range(rng.randint(1, 3)):  # drop, double or swap a letter, or add a stray one
                at = rng.randrange(len(word))
                change = rng.randrange(4)
                if change == 0 and len(word) > 1:
                    del word[at]
                elif change == 1:
                    word.insert(at, word[at])
                elif change == 2:
                    word[at], word[-1] = word[-1], word[at]
                else:
                    word.insert(at, rng.choice("aeiouxyz"))
            typo = "".join(word)
            expected = difflib.get_close_matches(typo, candidates, n=1, cutoff=0.6)
            assert _closest(typo, candidates) == (expected[0] if expected else None), typo
