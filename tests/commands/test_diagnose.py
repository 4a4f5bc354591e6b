"""``zeet-iam-audit diagnose``: text in, every denial out, with fixes; exit codes 0, 1 and 2."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from zeet_iam_audit.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ERRORS = FIXTURES / "errors"
GAAD = str(FIXTURES / "gaad" / "zeet-account.json")


def run_cli(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


def fixture(name: str) -> str:
    return (ERRORS / name).read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("AWS_", "ZEET_IAM_AUDIT_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("aws-message.txt", 9),
        ("aws-message-older.txt", 1),
        ("aws-cli.txt", 2),
        ("ec2-encoded.txt", 1),
        ("json-body.json", 1),
        ("xml-body.xml", 1),
        ("xml-body-sns.xml", 1),
        ("cloudformation-events.json", 2),
        ("cloudformation-events-older.txt", 1),
        ("terraform.txt", 4),
        ("cdk.txt", 1),
        ("sam.txt", 1),
        ("folded.txt", 2),
        ("cloudtrail-records.json", 4),
        ("cloudtrail-event.json", 1),
        ("s3-head-403.txt", 3),
    ],
)
def test_every_fixture_from_stdin_and_from_a_log_file(name: str, count: int) -> None:
    code, out, err = run_cli(["diagnose", "--format", "json"], stdin=fixture(name))
    assert code == 0, err
    assert len(json.loads(out)["denials"]) == count
    assert err.startswith(f"zeet-iam-audit diagnose: {count} authorization failure")
    same = run_cli(["diagnose", "--format", "json", "--log", str(ERRORS / name)])
    assert same == (code, out, err)


def test_text_as_an_argument() -> None:
    text = (
        "User: arn:aws:sts::123456789012:assumed-role/zeet/s is not authorized to perform: sqs:createqueue on "
        "resource: arn:aws:sqs:us-east-1:123456789012:zeet-q because no identity-based policy allows the "
        "sqs:createqueue action"
    )
    code, out, _ = run_cli(["diagnose", text])
    assert code == 0
    assert "Denial 1: sqs:CreateQueue on arn:aws:sqs:us-east-1:123456789012:zeet-q" in out
    assert "action as printed: sqs:createqueue" in out
    assert (
        'fix: add to the role: {"Effect": "Allow", "Action": "sqs:CreateQueue", "Resource": '
        '"arn:aws:sqs:us-east-1:123456789012:zeet-q"}'
    ) in out
    assert "needed by: Cluster Capacity Monitoring (cluster-capacity-monitoring)" in out


def test_json_output_with_the_roles_file() -> None:
    code, out, _ = run_cli(["diagnose", "--format", "json", "--file", GAAD], stdin=fixture("aws-message.txt"))
    assert code == 0
    denials = json.loads(out)["denials"]
    summary = [(d["action"], d["layer"], d["fix"]["kind"], (d["evaluation"] or {}).get("role")) for d in denials]
    assert summary == [
        ("secretsmanager:ListSecrets", "identity", "already-allowed", "zeet-cloud-connection"),
        ("sqs:DeleteQueue", "identity", "change-deny", "zeet-restricted"),
        ("sqs:CreateQueue", "permissions_boundary", "boundary", "zeet-bounded"),
        ("organizations:LeaveOrganization", "scp", "scp", "zeet-cloud-connection"),
        ("rds:CreateDBInstance", "scp", "scp", "zeet-cloud-connection"),
        ("logs:FilterLogEvents", "session_policy", "session-policy", "zeet-cloud-connection"),
        ("s3:GetObject", "resource_policy", "resource-policy", "zeet-cloud-connection"),
        ("kms:Decrypt", "identity", "add-statement", "zeet-cloud-connection"),
        ("ecr:CreateRepository", "scp", "scp", "zeet-cloud-connection"),
    ]
    deny = denials[1]
    assert deny["fix"]["statements_to_change"] == [
        "identity-based policy 'DenyQueues' Statement[0] (Sid \"DenyQueues\")"
    ]
    assert deny["evaluation"]["locations"] == [
        f"{GAAD}: $.RoleDetailList[1].RolePolicyList[0].PolicyDocument.Statement[0]"
    ]
    assert denials[7]["fix"]["statement"] == {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": "arn:aws:kms:*:*:key/*",
    }


def test_forced_role() -> None:
    code, out, _ = run_cli(["diagnose", "--file", GAAD, "--role", "zeet-admin"], stdin=fixture("xml-body.xml"))
    assert code == 0
    assert "role zeet-admin: allowed by identity-based policy 'AdministratorAccess'" in out
    assert "note: the message names role zeet-restricted, not zeet-admin" in out


def test_encoded_message_is_reported_encoded_with_the_hint() -> None:
    code, out, _ = run_cli(["diagnose"], stdin=fixture("ec2-encoded.txt"))
    assert code == 0
    assert "authorization message: encoded (684 characters)" in out
    assert "aws sts decode-authorization-message --encoded-message" in out
    assert "Denial 1: ec2:RunInstances" in out


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "diagnosis.json"
    code, out, _ = run_cli(["diagnose", "--format", "json", "--output", str(target)], stdin=fixture("cdk.txt"))
    assert (code, out) == (0, "")
    (denial,) = json.loads(target.read_text(encoding="utf-8"))["denials"]
    assert denial["source_lines"] == [13, 19, 23]
    assert denial["format"] == "cdk"


@pytest.mark.parametrize("text", ["", "Deployment succeeded.\n", "Error: InvalidParameterValue: bad queue name\n"])
def test_no_failure_exits_1(text: str) -> None:
    code, out, err = run_cli(["diagnose"], stdin=text)
    assert code == 1
    assert out == "no authorization failure found in the text\n"
    assert err == "zeet-iam-audit diagnose: no authorization failure found\n"


def test_no_failure_json_exits_1() -> None:
    code, out, _ = run_cli(["diagnose", "--format", "json", "all good"])
    assert code == 1
    assert json.loads(out)["denials"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["diagnose", "--log", "missing.log"], "missing.log: cannot read", id="missing-log"),
        pytest.param(
            ["diagnose", "text", "--log", "x.log"], "give the text as TEXT or --log FILE, not both", id="text-and-log"
        ),
        pytest.param(["diagnose", "--role", "zeet"], "--role needs --file", id="role-without-file"),
        pytest.param(["diagnose", "--file", GAAD, "--role", "nobody"], "no role named 'nobody'", id="unknown-role"),
        pytest.param(["diagnose", "--file", "missing.json"], "missing.json", id="missing-role-file"),
        pytest.param(["diagnose", "--format", "xml"], "argument --format: invalid choice", id="bad-format"),
    ],
)
def test_input_errors_exit_2_in_one_line(argv: list[str], message: str) -> None:
    code, out, err = run_cli(argv, stdin="User: x is not authorized to perform: sqs:CreateQueue")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err


@pytest.fixture
def live_role(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with mock_aws():
        iam = boto3.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}
            ],
        }
        arn = iam.create_role(RoleName="zeet-restricted", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(
            RoleName="zeet-restricted",
            PolicyName="NoQueues",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Sid": "NoQueues", "Effect": "Deny", "Action": "sqs:*", "Resource": "*"}],
                }
            ),
        )
        yield str(arn)


def test_live_role_is_evaluated_and_encoded_messages_are_tried(live_role: str) -> None:
    text = fixture("aws-cli.txt") + "\n" + fixture("ec2-encoded.txt")
    code, out, err = run_cli(["diagnose", "--role-arn", live_role, "--format", "json"], stdin=text)
    assert code == 0, err
    denials = json.loads(out)["denials"]
    assert denials[0]["evaluation"]["decision"] == "explicit_deny"
    assert denials[0]["fix"]["kind"] == "change-deny"
    assert denials[0]["evaluation"]["locations"] == ["live: iam:GetRolePolicy zeet-restricted/NoQueues Statement[0]"]
    encoded = denials[-1]
    assert encoded["encoded"] is not None
    assert encoded["decode_error"].startswith("could not decode: ")  # moto does not implement the call


class Terminal(io.StringIO):
    """Standard input as a terminal, with what the person pastes."""

    def isatty(self) -> bool:
        return True


def test_a_file_named_as_text_is_read(tmp_path: Path) -> None:
    (tmp_path / "deploy.log").write_text(fixture("terraform.txt"), encoding="utf-8")
    code, out, err = run_cli(["diagnose", "deploy.log", "--format", "json"])
    assert code == 0, err
    assert len(json.loads(out)["denials"]) == 4
    assert "zeet-iam-audit diagnose: read the file deploy.log (--log FILE says so explicitly)" in err


@pytest.mark.parametrize("text", ["deploy.log", "out/cloudtrail.json", "errors.txt"])
def test_a_file_name_that_names_no_file_says_to_use_log(text: str) -> None:
    code, out, err = run_cli(["diagnose", text])
    assert code == 2
    assert out == ""
    assert err.splitlines()[-1] == (
        f"zeet-iam-audit: error: diagnose: {text!r} looks like a file name, but there "
        "is no such file; give the error text itself, or the file with --log FILE"
    )


def test_a_terminal_gets_a_one_line_prompt() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["diagnose"], stdout=out, stderr=err, stdin=Terminal(fixture("cloudtrail-event.json")))
    assert code == 0
    first = err.getvalue().splitlines()[0]
    assert first.startswith("zeet-iam-audit diagnose: paste the error text, then press Ctrl-D")
    assert "sqs:CreateQueue" in out.getvalue()
    _, _, piped = run_cli(["diagnose"], stdin=fixture("cloudtrail-event.json"))
    assert "paste" not in piped  # a pipe gets no prompt


def test_cloudtrail_events_evaluated_on_the_role() -> None:
    """The role each event names is found in the file and evaluated: zeet-bounded's boundary lacks SQS."""
    code, out, err = run_cli(
        ["diagnose", "--log", str(ERRORS / "cloudtrail-event.json"), "--file", GAAD, "--format", "json"]
    )
    assert code == 0, err
    (denial,) = json.loads(out)["denials"]
    assert denial["action"] == "sqs:CreateQueue"
    assert denial["format"] == "cloudtrail"
    assert denial["operation"] == "CreateQueue"
    assert denial["evaluation"]["role"] == "zeet-bounded"
    assert (denial["evaluation"]["decision"], denial["evaluation"]["layer"]) == (
        "implicit_deny",
        "permissions_boundary",
    )
