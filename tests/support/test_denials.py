"""Finding authorization failures in text: every fixture format, folding, quoting, names, dedupe."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.support.denials import Denial, find_denials, prepare

from .conftest import ERRORS

ZEET = "arn:aws:sts::123456789012:assumed-role/zeet-cloud-connection/zeet-1714639277"
RESTRICTED = "arn:aws:sts::123456789012:assumed-role/zeet-restricted/zeet-1714639277"
BOUNDED_TF = "arn:aws:sts::123456789012:assumed-role/zeet-bounded/aws-go-sdk-1714639277123456789"
CDK_ROLE = "arn:aws:sts::123456789012:assumed-role/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1/AWSCloudFormation"


class Expected(NamedTuple):
    action: str | None
    resource: str | None
    principal: str | None
    layer: str | None
    explicit: bool | None
    source: str


def _shape(denial: Denial) -> Expected:
    return Expected(
        denial.action, denial.resource, denial.principal, denial.reason.layer, denial.reason.explicit, denial.source
    )


FIXTURE_CASES = [
    pytest.param(
        "aws-message.txt",
        [
            Expected("secretsmanager:ListSecrets", None, ZEET, "identity", False, "aws"),
            Expected(
                "sqs:DeleteQueue",
                "arn:aws:sqs:us-east-1:123456789012:zeet-eks-events",
                RESTRICTED,
                "identity",
                True,
                "aws",
            ),
            Expected(
                "sqs:CreateQueue",
                "arn:aws:sqs:us-east-1:123456789012:zeet-eks-events",
                "arn:aws:sts::123456789012:assumed-role/zeet-bounded/zeet-1714639277",
                "permissions_boundary",
                False,
                "aws",
            ),
            Expected("organizations:LeaveOrganization", "*", ZEET, "scp", True, "aws"),
            Expected(
                "rds:CreateDBInstance", "arn:aws:rds:us-east-1:123456789012:db:zeet-postgres", ZEET, "scp", False, "aws"
            ),
            Expected(
                "logs:FilterLogEvents",
                "arn:aws:logs:us-east-1:123456789012:log-group:/aws/eks/zeet-prod/cluster:*",
                ZEET,
                "session_policy",
                False,
                "aws",
            ),
            Expected(
                "s3:GetObject",
                "arn:aws:s3:::zeet-terraform-state-123456789012/env/prod/terraform.tfstate",
                ZEET,
                "resource_policy",
                True,
                "aws",
            ),
            Expected("kms:Decrypt", None, ZEET, None, None, "aws"),
            Expected(
                "ecr:CreateRepository",
                "arn:aws:ecr:us-east-1:123456789012:repository/zeet/api",
                ZEET,
                "scp",
                True,
                "aws",
            ),
        ],
        id="aws-message-every-reason",
    ),
    pytest.param(
        "aws-message-older.txt",
        [
            Expected("sns:Subscribe", "arn:aws:sns:us-east-1:123456789012:zeet-eks-capacity", ZEET, None, None, "aws"),
        ],
        id="aws-message-older-form",
    ),
    pytest.param(
        "aws-cli.txt",
        [
            Expected(
                "sqs:CreateQueue",
                "arn:aws:sqs:us-east-1:123456789012:zeet-eks-events",
                "arn:aws:sts::123456789012:assumed-role/zeet-restricted/botocore-session-1714639277",
                "identity",
                False,
                "aws-cli",
            ),
            # The bucket and key from the command printed before the error.
            Expected(
                "s3:GetObject",
                "arn:aws:s3:::zeet-terraform-state-123456789012/env/prod/terraform.tfstate",
                None,
                None,
                None,
                "aws-cli",
            ),
        ],
        id="aws-cli",
    ),
    pytest.param(
        "ec2-encoded.txt",
        [
            Expected("ec2:RunInstances", None, None, None, None, "aws-cli"),
        ],
        id="ec2-encoded",
    ),
    pytest.param(
        "json-body.json",
        [
            Expected(
                "servicequotas:RequestServiceQuotaIncrease",
                "arn:aws:servicequotas:us-east-1:123456789012:ec2/L-1216C47A",
                ZEET,
                "identity",
                False,
                "json",
            ),
        ],
        id="json-body",
    ),
    pytest.param(
        "xml-body.xml",
        [
            Expected(
                "iam:CreateRole",
                "arn:aws:iam::123456789012:role/zeet-prod-node-role",
                RESTRICTED,
                "identity",
                False,
                "xml",
            ),
        ],
        id="xml-body-access-denied",
    ),
    pytest.param(
        "xml-body-sns.xml",
        [
            Expected(
                "sns:CreateTopic",
                "arn:aws:sns:us-east-1:123456789012:zeet-eks-capacity",
                ZEET,
                "identity",
                False,
                "xml",
            ),
        ],
        id="xml-body-authorization-error",
    ),
    pytest.param(
        "cloudformation-events.json",
        [
            Expected(
                "iam:CreateRole",
                "arn:aws:iam::123456789012:role/zeet-serverless-api-ZeetFunctionRole-9XK2LQ7B1M3N",
                RESTRICTED,
                "identity",
                False,
                "cloudformation",
            ),
            Expected(
                "sns:CreateTopic",
                "arn:aws:sns:us-east-1:123456789012:zeet-eks-alerts",
                RESTRICTED,
                "identity",
                False,
                "cloudformation",
            ),
        ],
        id="cloudformation-resource-handler",
    ),
    pytest.param(
        "cloudformation-events-older.txt",
        [
            Expected(
                "sns:CreateTopic",
                "arn:aws:sns:us-east-1:123456789012:zeet-eks-capacity",
                "arn:aws:sts::123456789012:assumed-role/zeet-cloud-connection/zeet-1615818122",
                None,
                None,
                "cloudformation",
            ),
        ],
        id="cloudformation-older-api-form",
    ),
    pytest.param(
        "terraform.txt",
        [
            Expected(
                "sqs:CreateQueue",
                "arn:aws:sqs:us-east-1:123456789012:zeet-eks-events",
                BOUNDED_TF,
                "permissions_boundary",
                False,
                "terraform",
            ),
            Expected(
                "iam:CreateRole",
                "arn:aws:iam::123456789012:role/zeet-prod-node-role",
                BOUNDED_TF,
                "scp",
                True,
                "terraform",
            ),
            Expected(
                "ec2:RunInstances",
                "arn:aws:ec2:us-east-1:123456789012:instance/*",
                BOUNDED_TF,
                "identity",
                False,
                "terraform",
            ),
            Expected("s3:ListBucket", "arn:aws:s3:::zeet-terraform-state-123456789012", None, None, None, "terraform"),
        ],
        id="terraform",
    ),
    pytest.param(
        "cdk.txt",
        [
            Expected(
                "sqs:CreateQueue",
                "arn:aws:sqs:us-east-1:123456789012:zeet-eks-events",
                CDK_ROLE,
                "identity",
                False,
                "cdk",
            ),
        ],
        id="cdk",
    ),
    pytest.param(
        "sam.txt",
        [
            Expected(
                "iam:CreateRole",
                "arn:aws:iam::123456789012:role/zeet-orders-api-OrdersFunctionRole-1UXW8C6M0Q2ZB",
                RESTRICTED,
                "identity",
                False,
                "sam",
            ),
        ],
        id="sam-events-table",
    ),
    pytest.param(
        "cloudtrail-records.json",
        [
            Expected(
                "s3:ListBucket", "arn:aws:s3:::zeet-terraform-state-123456789012", RESTRICTED, None, None, "cloudtrail"
            ),
            Expected(
                "iam:CreateRole",
                "arn:aws:iam::123456789012:role/zeet-prod-node-role",
                RESTRICTED,
                "identity",
                False,
                "cloudtrail",
            ),
            Expected("ec2:RunInstances", None, RESTRICTED, None, None, "cloudtrail"),
            Expected(
                "lambda:CreateFunction",
                "arn:aws:lambda:us-east-1:123456789012:function:zeet-orders-api",
                ZEET,
                "scp",
                True,
                "cloudtrail",
            ),
        ],
        id="cloudtrail-records",
    ),
    pytest.param(
        "cloudtrail-event.json",
        [
            Expected(
                "sqs:CreateQueue",
                "arn:aws:sqs:us-east-1:123456789012:zeet-eks-events",
                "arn:aws:sts::123456789012:assumed-role/zeet-bounded/zeet-1714639277",
                "permissions_boundary",
                False,
                "cloudtrail",
            ),
        ],
        id="cloudtrail-one-event",
    ),
    pytest.param(
        "s3-head-403.txt",
        [
            Expected(
                "s3:GetObject",
                "arn:aws:s3:::zeet-terraform-state-123456789012/env/prod/terraform.tfstate",
                None,
                None,
                None,
                "aws-cli",
            ),
            Expected(
                "s3:GetObject", "arn:aws:s3:::zeet-build-cache-123456789012/images/api.tar", None, None, None, "aws-cli"
            ),
            Expected("s3:ListBucket", "arn:aws:s3:::zeet-terraform-state-123456789012", None, None, None, "aws-cli"),
        ],
        id="s3-head-403",
    ),
    pytest.param(
        "folded.txt",
        [
            Expected(
                "lambda:UpdateFunctionConfiguration",
                "arn:aws:lambda:us-east-1:123456789012:function:zeet-orders-api",
                ZEET,
                "identity",
                False,
                "aws",
            ),
            Expected(
                "cloudwatch:PutMetricAlarm",
                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:zeet-eks-node-capacity",
                ZEET,
                "identity",
                False,
                "aws",
            ),
        ],
        id="folded-and-quoted",
    ),
]


@pytest.mark.parametrize(("name", "expected"), FIXTURE_CASES)
def test_every_fixture_format_yields_every_failure(name: str, expected: list[Expected], catalog: Catalog) -> None:
    text = (ERRORS / name).read_text(encoding="utf-8")
    assert [_shape(d) for d in find_denials(text, catalog)] == expected


def test_every_fixture_file_is_covered() -> None:
    covered = {param.values[0] for param in FIXTURE_CASES}
    assert covered == {path.name for path in ERRORS.iterdir()}


@pytest.mark.parametrize(
    ("text", "action", "written"),
    [
        pytest.param(
            "User: arn:aws:iam::1:user/a is not authorized to perform: SNS:CreateTopic on resource: x",
            "sns:CreateTopic",
            "SNS:CreateTopic",
            id="upper-prefix",
        ),
        pytest.param(
            "User: arn:aws:iam::1:user/a is not authorized to perform: sqs:createqueue on resource: x",
            "sqs:CreateQueue",
            "sqs:createqueue",
            id="lower-case",
        ),
        pytest.param(
            "User: arn:aws:iam::1:user/a is not authorized to perform: s3:HeadBucket on resource: x",
            "s3:ListBucket",
            "s3:HeadBucket",
            id="api-operation-translated",
        ),
        pytest.param(
            "User: arn:aws:iam::1:user/a is not authorized to perform: lambda:Invoke on resource: x",
            "lambda:InvokeFunction",
            "lambda:Invoke",
            id="lambda-invoke",
        ),
        pytest.param(
            "User: arn:aws:iam::1:user/a is not authorized to perform: s3:MadeUpThing on resource: x",
            None,
            "s3:MadeUpThing",
            id="unknown-action",
        ),
    ],
)
def test_action_names_are_normalised(text: str, action: str | None, written: str, catalog: Catalog) -> None:
    (denial,) = find_denials(text, catalog)
    assert (denial.action, denial.action_written) == (action, written)
    if action is None or action.lower() != written.lower():
        assert denial.action_note is not None


def test_api_operation_note_says_it_is_not_an_iam_action(catalog: Catalog) -> None:
    (denial,) = find_denials(
        "operation error S3: HeadBucket, https response error StatusCode: 403, RequestID: X, "
        "api error Forbidden: Forbidden",
        catalog,
    )
    assert denial.action == "s3:ListBucket"
    assert denial.action_note == "HeadBucket is an API operation, not an IAM action: AWS authorizes it as s3:ListBucket"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "User: arn:aws:sts::123456789012:assumed-role/zeet/s is not\nauthorized to perform:\n"
            "sqs:CreateQueue on\nresource: arn:aws:sqs:us-east-1:123456789012:zeet-q because no\n"
            "identity-based policy allows the sqs:CreateQueue action",
            id="word-wrapped",
        ),
        pytest.param(
            "User: arn:aws:sts::123456789012:assumed-role/ze\net/s is not authorized to perform: sqs:Crea\n"
            "teQueue on resource: arn:aws:sqs:us-east-1:1234567890\n12:zeet-q because no identity-based "
            "policy allows the sqs:CreateQueue action",
            id="cut-inside-words",
        ),
        pytest.param(
            "│ Error: User: arn:aws:sts::123456789012:assumed-role/zeet/s is not authorized\n│ to perform: "
            "sqs:CreateQueue on resource: arn:aws:sqs:us-east-1:123456789012:zeet-q\n│ because no "
            "identity-based policy allows the sqs:CreateQueue action",
            id="terraform-gutter",
        ),
        pytest.param(
            "2024-05-02T08:41:17.1234567Z User: arn:aws:sts::123456789012:assumed-role/zeet/s is not\n"
            "2024-05-02T08:41:17.1234568Z authorized to perform: sqs:CreateQueue on resource: "
            "arn:aws:sqs:us-east-1:123456789012:zeet-q because no identity-based policy allows the "
            "sqs:CreateQueue action",
            id="ci-timestamps",
        ),
        pytest.param(
            '{"message":"User: arn:aws:sts::123456789012:assumed-role/zeet/s is not authorized to '
            'perform: sqs:CreateQueue on resource: \\"arn:aws:sqs:us-east-1:123456789012:zeet-q\\" '
            'because no identity-based policy allows the sqs:CreateQueue action"}',
            id="json-escaped",
        ),
        pytest.param(
            "<Message>User: arn:aws:sts::123456789012:assumed-role/zeet/s is not authorized to perform: "
            "sqs:CreateQueue on resource: &quot;arn:aws:sqs:us-east-1:123456789012:zeet-q&quot; because "
            "no identity-based policy allows the sqs:CreateQueue action</Message>",
            id="xml-entities",
        ),
        pytest.param(
            "\x1b[31mUser: arn:aws:sts::123456789012:assumed-role/zeet/s\x1b[0m is not authorized to "
            "perform: sqs:CreateQueue on resource: arn:aws:sqs:us-east-1:123456789012:zeet-q because no "
            "identity-based policy allows the sqs:CreateQueue action",
            id="colour-codes",
        ),
    ],
)
def test_folds_quotes_and_decorations_do_not_break_parsing(text: str, catalog: Catalog) -> None:
    (denial,) = find_denials(text, catalog)
    assert (denial.principal, denial.action, denial.resource, denial.reason.layer, denial.reason.explicit) == (
        "arn:aws:sts::123456789012:assumed-role/zeet/s",
        "sqs:CreateQueue",
        "arn:aws:sqs:us-east-1:123456789012:zeet-q",
        "identity",
        False,
    )


def test_a_failure_printed_several_times_is_one_denial_with_every_line(catalog: Catalog) -> None:
    (denial,) = find_denials((ERRORS / "cdk.txt").read_text(encoding="utf-8"), catalog)
    assert denial.lines == (13, 19, 23)
    assert denial.error_code == "AccessDenied"


def test_the_encoded_message_is_kept_whole(catalog: Catalog) -> None:
    (denial,) = find_denials((ERRORS / "ec2-encoded.txt").read_text(encoding="utf-8"), catalog)
    assert denial.encoded is not None
    assert len(denial.encoded) == 684
    assert (denial.operation, denial.error_code) == ("RunInstances", "UnauthorizedOperation")


def test_an_encoded_message_hard_wrapped_at_a_width_is_glued(catalog: Catalog) -> None:
    encoded = "A1b2-C3d4_" * 30 + "Zz9"
    line = f"You are not authorized to perform this operation. Encoded authorization failure message: {encoded}"
    folded = "\n".join(line[start : start + 80] for start in range(0, len(line), 80))
    (denial,) = find_denials(folded + "\nDone\n", catalog)
    assert denial.encoded == encoded


def test_the_new_form_names_the_denying_policy(catalog: Catalog) -> None:
    denials = find_denials((ERRORS / "aws-message.txt").read_text(encoding="utf-8"), catalog)
    assert denials[-1].reason.policy == (
        "arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-q1w2e3r4"
    )


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(
            "Error: creating SQS Queue: InvalidParameterValue: Value zeet q for parameter QueueName", id="other-error"
        ),
        pytest.param(
            "An error occurred (ThrottlingException) when calling the ListRoles operation: Rate exceeded",
            id="other-cli-error",
        ),
        pytest.param("the user is not authorized to perform this task in the Zeet dashboard", id="prose"),
    ],
)
def test_text_without_authorization_failures_yields_none(text: str, catalog: Catalog) -> None:
    assert find_denials(text, catalog) == ()


def test_prepare_keeps_line_numbers() -> None:
    text = "a\r\n│ b\n2024-05-02T08:41:17Z c\n\x1b[1md\x1b[0m"
    prepared, sam_rows = prepare(text)
    assert prepared.split("\n") == ["a", "b", "c", "d"]
    assert sam_rows == frozenset()


def test_a_head_object_403_says_what_else_it_can_mean(catalog: Catalog) -> None:
    (denial, *_) = find_denials((ERRORS / "s3-head-403.txt").read_text(encoding="utf-8"), catalog)
    assert denial.error_code == "403"
    assert denial.action_note is not None
    assert "does not exist when s3:ListBucket is not allowed" in denial.action_note
    assert not find_denials("An error occurred (404) when calling the HeadObject operation: Not Found", catalog)
