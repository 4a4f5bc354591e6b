"""Secrets: credentials never printed, the external id always masked, nothing written unasked.

- The CLI runs as a subprocess with distinctive AWS credentials in its environment: file audits,
  ``--debug`` runs, error paths, a live audit against moto's server over real HTTP (``--scps
  auto``, ``--save``) and live error paths against a fake endpoint (rejected credentials, AccessDenied,
  an answer that is not AWS's). The credentials appear neither on
  stdout, nor on stderr, nor in any file written.
- The configured external id (flag, environment, config file) shows only its last four characters
  in every registered output format, also when the input holds it and when it does not match.
- A run writes nothing but the outputs asked for: not in its working directory, not in HOME, not in
  TMPDIR; an output that cannot be written is exit 2 with one line and leaves no partial file.
"""

from __future__ import annotations

import http.server
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from zeet_iam_audit.cli import main
from zeet_iam_audit.formats import FORMATS

ROOT = Path(__file__).resolve().parent.parent
GAAD = ROOT / "fixtures" / "gaad" / "zeet-account.json"
UNRESOLVED = ROOT / "fixtures" / "cloudformation" / "unresolved.yaml"
TEMPLATE = ROOT / "fixtures" / "cloudformation" / "zeet-role.yaml"
ROLE = ROOT / "fixtures" / "role" / "get-role-with-policies.json"
ZEET = "111122223333"
EXTERNAL_ID = "zeet-ext-5f2c9a7e"  # the id in the fixtures' trust policies
OTHER_EXTERNAL_ID = "configured-ext-id-7b41"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAZEETLEAKCANARY01",
    "AWS_SECRET_ACCESS_KEY": "zeetLeakCanarySecret/Key+0123456789abcdefghij",
    "AWS_SESSION_TOKEN": "FwoGZXIvYXdzZeetLeakCanarySessionToken//////////wEaDH",
}
ROLE_ARN = "arn:aws:iam::123456789012:role/zeet-secrets"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ZEET}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
            }
        ],
    }
)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    written: dict[str, str]  # every file found afterwards in cwd, HOME and TMPDIR → its text


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    found = {name: tmp_path / name for name in ("cwd", "home", "tmp")}
    for path in found.values():
        path.mkdir()
    return found


def _run(places: dict[str, Path], argv: Sequence[str], **extra_env: str) -> Run:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(places["home"]),
        "TMPDIR": str(places["tmp"]),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "AWS_CONFIG_FILE": str(places["home"] / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(places["home"] / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        **CREDENTIALS,
        **extra_env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", *argv],
        cwd=places["cwd"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    written = {
        str(path.relative_to(path.parents[len(path.relative_to(root).parts) - 1])): path.read_text(
            encoding="utf-8", errors="replace"
        )
        for root in places.values()
        for path in root.rglob("*")
        if path.is_file()
    }
    return Run(result.returncode, result.stdout, result.stderr, written)


def _assert_no_credentials(run: Run) -> None:
    for name, value in CREDENTIALS.items():
        assert value not in run.stdout, f"{name} on stdout"
        assert value not in run.stderr, f"{name} on stderr"
        for path, text in run.written.items():
            assert value not in text, f"{name} in {path}"


# --- a fake AWS endpoint and moto's server ---------------------------------------------------------


class _FakeAws(http.server.BaseHTTPRequestHandler):
    """Answers every request with one canned response; counts the requests."""

    status: ClassVar[int] = 403
    body: ClassVar[bytes] = b""
    content_type: ClassVar[str] = "text/xml"
    requests: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        type(self).requests.append(dict(self.headers))
        body = self.body.replace(b"{token}", self.headers.get("X-Amz-Security-Token", "").encode())
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def _aws_error(code: str, message: str) -> bytes:
    return (
        f'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>4f1c</RequestId>"
        "</ErrorResponse>"
    ).encode()


@pytest.fixture
def fake_aws() -> Iterator[tuple[str, type[_FakeAws]]]:
    handler = type("Handler", (_FakeAws,), {"requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's server over real HTTP, holding one Zeet role with inline and managed policies."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="setup",
            aws_secret_access_key="setup",
        )
        iam.create_role(RoleName="zeet-secrets", AssumeRolePolicyDocument=TRUST)
        iam.put_role_policy(
            RoleName="zeet-secrets",
            PolicyName="Logs",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": ["logs:Describe*", "logs:FilterLogEvents"], "Resource": "*"}
                    ],
                }
            ),
        )
        arn = iam.create_policy(
            PolicyName="Metrics",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "cloudwatch:GetMetricData", "Resource": "*"}],
                }
            ),
        )["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="zeet-secrets", PolicyArn=arn)
        yield endpoint
    finally:
        server.stop()


# --- credentials -----------------------------------------------------------------------------------

FILE_RUNS = {
    "table": ["--file", str(GAAD), "--all-roles", "--zeet-account-id", ZEET],
    "json-debug": ["--file", str(GAAD), "--all-roles", "--format", "json", "--debug"],
    "every-format-to-files": [
        "--file",
        str(TEMPLATE),
        "--json",
        "r.json",
        "--sarif",
        "r.sarif",
        "--markdown",
        "r.md",
        "--github",
        "r.txt",
        "--output",
        "r.table",
    ],
    "missing-file-debug": ["--file", "nowhere.json", "--debug"],
    "bad-input-debug": ["--file", str(ROOT / "tests" / "hostile" / "corpus" / "yaml-billion-laughs.yaml"), "--debug"],
    "usage-error-debug": ["--file", str(GAAD), "--fail-on", "everything", "--debug"],
    "bad-rules-debug": ["--file", str(GAAD), "--rules", str(ROOT / "fixtures"), "--debug"],
}


@pytest.mark.parametrize("argv", FILE_RUNS.values(), ids=FILE_RUNS.keys())
def test_file_audits_never_print_credentials(argv: list[str], places: dict[str, Path]) -> None:
    run = _run(places, argv)
    assert run.returncode in (0, 1, 2)
    _assert_no_credentials(run)
    if "--debug" in argv and run.returncode == 2:
        assert "Traceback" in run.stderr or "error:" in run.stderr


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_a_live_audit_never_prints_credentials(debug: bool, moto_endpoint: str, places: dict[str, Path]) -> None:
    argv = [
        "--role-arn",
        ROLE_ARN,
        "--endpoint-url",
        moto_endpoint,
        "--scps",
        "auto",
        "--format",
        "json",
        "--save",
        "saved.json",
        "--zeet-account-id",
        ZEET,
        "--external-id",
        EXTERNAL_ID,
    ]
    run = _run(places, [*argv, "--debug"] if debug else argv)
    assert run.returncode in (0, 1), run.stderr
    assert json.loads(run.stdout)["roles"][0]["name"] == "zeet-secrets"
    assert sorted(run.written) == ["saved.json"]
    _assert_no_credentials(run)


LIVE_ERRORS = {
    "rejected-credentials": (
        403,
        _aws_error("InvalidClientTokenId", "The security token included in the request is invalid."),
        "text/xml",
    ),
    "expired-token": (
        400,
        _aws_error("ExpiredToken", "The security token included in the request is expired"),
        "text/xml",
    ),
    "access-denied-echoing-the-token": (403, _aws_error("AccessDenied", "token {token} is not authorized"), "text/xml"),
    "not-aws-echoing-the-token": (502, b"Bad gateway for session {token}\n<html>proxy</html>", "text/html"),
}  # 5xx answers are retried with back-off (seconds): tests/live_faults/ covers them with stubs


@pytest.mark.parametrize("response", LIVE_ERRORS.values(), ids=LIVE_ERRORS.keys())
def test_live_error_paths_never_print_credentials(
    response: tuple[int, bytes, str], places: dict[str, Path], fake_aws: tuple[str, type[_FakeAws]]
) -> None:
    endpoint, handler = fake_aws
    handler.status, handler.body, handler.content_type = response
    run = _run(
        places,
        ["--role-arn", ROLE_ARN, "--endpoint-url", endpoint, "--debug", "--format", "json"],
        ZEET_IAM_AUDIT_EXTERNAL_ID=EXTERNAL_ID,
    )
    assert handler.requests, "the endpoint was not called"
    assert handler.requests[0].get("X-Amz-Security-Token") == CREDENTIALS["AWS_SESSION_TOKEN"]
    assert run.returncode in (0, 1, 2)
    _assert_no_credentials(run)
    assert EXTERNAL_ID not in run.stdout + run.stderr


def test_an_error_message_echoing_the_token_is_redacted(
    places: dict[str, Path], fake_aws: tuple[str, type[_FakeAws]]
) -> None:
    endpoint, handler = fake_aws
    handler.status, handler.content_type = 400, "text/xml"
    handler.body = _aws_error("ValidationError", "bad request signed with token {token}")
    run = _run(places, ["--role-arn", ROLE_ARN, "--endpoint-url", endpoint])
    assert run.returncode == 2
    _assert_no_credentials(run)


# --- the external id --------------------------------------------------------------------------------


def _masked(value: str) -> str:
    return value[-4:]


EXTERNAL_ID_INPUTS = {"gaad": GAAD, "template": TEMPLATE, "unresolved-template": UNRESOLVED, "get-role": ROLE}


WAYS = [(source, "flag") for source in EXTERNAL_ID_INPUTS] + [("gaad", "environment"), ("gaad", "config-file")]


@pytest.mark.parametrize("configured", [EXTERNAL_ID, OTHER_EXTERNAL_ID], ids=["matching", "mismatching"])
@pytest.mark.parametrize(
    ("source", "how"), [(EXTERNAL_ID_INPUTS[s], how) for s, how in WAYS], ids=[f"{s}-{how}" for s, how in WAYS]
)
def test_the_external_id_is_masked_in_every_format(
    source: Path, how: str, configured: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("ZEET_IAM_AUDIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    argv = ["--file", str(source), "--all-roles", "--zeet-account-id", ZEET]
    if how == "flag":
        argv += ["--external-id", configured]
    elif how == "environment":
        monkeypatch.setenv("ZEET_IAM_AUDIT_EXTERNAL_ID", configured)
    else:
        (tmp_path / "zeet.toml").write_text(f'external_id = "{configured}"\n', encoding="utf-8")
        argv += ["--config", str(tmp_path / "zeet.toml")]
    outputs: dict[str, str] = {}
    for name in FORMATS:
        stdout, stderr = io.StringIO(), io.StringIO()
        code = main([*argv, "--format", name, "--width", "200"], stdout=stdout, stderr=stderr)
        assert code in (0, 1), stderr.getvalue()
        outputs[name] = stdout.getvalue() + stderr.getvalue()
    for name, text in outputs.items():
        for secret in {EXTERNAL_ID, configured}:
            assert secret not in text, f"{secret} unmasked in the {name} output of {source.name}"
    if configured == OTHER_EXTERNAL_ID and source != UNRESOLVED:
        # The mismatch is reported, with both ids masked to their last four characters.
        assert all(_masked(OTHER_EXTERNAL_ID) in text for text in outputs.values())


def _explained(tmp_path: Path, *argv: str) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(["explain", *argv], stdout=stdout, stderr=stderr)
    assert code == 0, stderr.getvalue()
    return stdout.getvalue() + stderr.getvalue()


@pytest.mark.parametrize("output", ["table", "json"])
def test_explain_masks_the_external_id_in_conditions_and_in_the_context_it_echoes(output: str, tmp_path: Path) -> None:
    """A permission gated on ``sts:ExternalId`` (the condition is shown), and the id passed with
    ``--context``: both shown as the audit shows them, the last four characters only."""
    data = json.loads(GAAD.read_text(encoding="utf-8"))
    role = data["RoleDetailList"][0]
    role["RolePolicyList"] = [
        {
            "PolicyName": "Gated",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "logs:FilterLogEvents",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
                    }
                ],
            },
        }
    ]
    role["AttachedManagedPolicies"] = []
    role.pop("PermissionsBoundary", None)
    data["RoleDetailList"] = [role]
    path = tmp_path / "gated.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    for context in (
        [],
        ["--context", f"sts:ExternalId={OTHER_EXTERNAL_ID}"],
        ["--context", f"STS:EXTERNALID={EXTERNAL_ID}"],
    ):
        text = _explained(tmp_path, "logs:FilterLogEvents", "--file", str(path), "--format", output, *context)
        assert EXTERNAL_ID not in text
        assert OTHER_EXTERNAL_ID not in text
        if not context:  # the condition is shown: it decides
            assert f"*************{_masked(EXTERNAL_ID)}" in text
        else:
            assert _masked(context[1].partition("=")[2]) in text


# --- nothing written unasked -------------------------------------------------------------------------


def test_a_run_writes_only_the_outputs_asked_for(places: dict[str, Path], moto_endpoint: str) -> None:
    file_run = _run(places, ["--file", str(GAAD), "--all-roles"])
    assert file_run.returncode in (0, 1)
    assert file_run.written == {}
    live_run = _run(places, ["--role-arn", ROLE_ARN, "--endpoint-url", moto_endpoint, "--scps", "auto"])
    assert live_run.returncode in (0, 1), live_run.stderr
    assert live_run.written == {}
    (places["cwd"] / "out").mkdir()
    asked = _run(places, ["--file", str(GAAD), "--all-roles", "--output", "report.txt", "--json", "out/r.json"])
    assert asked.returncode in (0, 1)
    assert sorted(asked.written) == ["out/r.json", "report.txt"]
    json.loads(asked.written["out/r.json"])


UNWRITABLE = {
    "parent-is-a-file": "a-file/report.json",
    "parent-missing": "missing/report.json",
    "target-is-a-directory": "a-directory",
    "read-only-directory": "read-only/report.json",
}


def _tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


@pytest.mark.parametrize("target", UNWRITABLE.values(), ids=UNWRITABLE.keys())
def test_an_unwritable_output_is_exit_2_and_leaves_no_partial_file(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("keep me\n", encoding="utf-8")
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "read-only").mkdir()
    if target.startswith("read-only"):
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only directories")
        (tmp_path / "read-only").chmod(0o555)
    before = _tree(tmp_path)
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        code = main(["--file", str(GAAD), "--all-roles", "--output", target], stdout=stdout, stderr=stderr)
    finally:
        (tmp_path / "read-only").chmod(0o755)
    assert code == 2
    lines = [line for line in stderr.getvalue().splitlines() if not line.startswith("zeet-iam-audit: auditing ")]
    assert len(lines) == 1
    assert lines[0].startswith(f"zeet-iam-audit: error: {target}: cannot write the report (")
    assert _tree(tmp_path) == before
    assert (tmp_path / "a-file").read_text(encoding="utf-8") == "keep me\n"
    assert stdout.getvalue() == ""


def test_a_run_that_fails_to_write_one_output_writes_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(
        ["--file", str(GAAD), "--all-roles", "--output", "report.txt", "--json", "missing/r.json"],
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert code == 2
    assert _tree(tmp_path) == []
