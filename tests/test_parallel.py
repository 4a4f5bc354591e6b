"""parallel.py and ``--jobs``: several processes give the serial run's report, byte for byte, and
the serial run's errors, line for line."""

from __future__ import annotations

import io
import json
import os
import pickle
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, overload

import pytest

from zeet_iam_audit import cli, parallel, run
from zeet_iam_audit.audit.engine import AuditOptions
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.errors import ZeetIamAuditError
from zeet_iam_audit.formats import json_format
from zeet_iam_audit.model import Role
from zeet_iam_audit.rules import load_rules
from zeet_iam_audit.sources import gaad, load_file

ROOT = Path(__file__).resolve().parent.parent
ROLES = 300
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode

needs_fork = pytest.mark.skipif(not parallel.fork_available(), reason="forking workers needs Linux")


@pytest.fixture(scope="module")
def gaad_file(tmp_path_factory: pytest.TempPathFactory, make_gaad: Callable[[int], dict[str, Any]]) -> Path:
    path = tmp_path_factory.mktemp("parallel") / f"gaad-{ROLES}.json"
    path.write_text(json.dumps(make_gaad(ROLES), separators=(",", ":")), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .zeet-iam-audit.toml from the repository
    for name in list(os.environ):
        if name.startswith(("ZEET_IAM_AUDIT_", "AWS_")):
            monkeypatch.delenv(name)


def _audit(gaad: Path, *extra: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main(["--file", str(gaad), "--all-roles", "--zeet-account-id", "111122223333", *extra],
                    stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


@needs_fork
def test_parallel_report_is_the_serial_report(gaad_file: Path) -> None:
    serial = _audit(gaad_file, "--format", "json", "--jobs", "1")
    assert serial[0] == 1  # the synthetic roles miss permissions
    for jobs in ("2", "3", "auto"):
        assert _audit(gaad_file, "--format", "json", "--jobs", jobs) == serial, f"--jobs {jobs}"


@needs_fork
def test_parallel_other_outputs_are_the_serial_ones(gaad_file: Path, tmp_path: Path) -> None:
    outputs = {}
    for jobs in ("1", "2"):
        target = tmp_path / f"report-{jobs}.json"
        code, stdout, stderr = _audit(gaad_file, "--format", "markdown", "--json", str(target), "--findings",
                                      "--jobs", jobs)
        outputs[jobs] = (code, stdout, stderr, target.read_bytes())
    assert outputs["2"] == outputs["1"]


@needs_fork
def test_workers_are_used(gaad_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    start = parallel._start_worker

    def counting(*args: object, **kwargs: object) -> parallel._Worker:
        worker = start(*args, **kwargs)  # type: ignore[arg-type]
        started.append(worker.pid)
        return worker

    monkeypatch.setattr(parallel, "_start_worker", counting)
    _audit(gaad_file, "--format", "json", "--jobs", "3")
    assert len(started) == 2


def _failing(monkeypatch: pytest.MonkeyPatch, failure: BaseException) -> None:
    """Make the audit of the last Zeet role fail, in whichever process audits it (with --all-roles, a
    role that does not trust Zeet is passed over, not audited: make_gaad names every fifth role zeet-*
    and has it trust Zeet)."""
    audit_role = run.audit_role

    def failing(role: object, *args: object, **kwargs: object) -> object:
        if getattr(role, "name", "") == f"zeet-{ROLES - 5:05d}":
            raise failure
        return audit_role(role, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "audit_role", failing)


def _wait_for(marker: Path) -> None:
    """Wait until a worker has made ``marker``: the parent holds its first chunk meanwhile, so that a
    worker surely claims one (chunks are claimed by whoever comes first)."""
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def _dying_in_workers(monkeypatch: pytest.MonkeyPatch, marker: Path) -> None:
    """Make every worker process die without a word at the first role it audits."""
    audit_role = run.audit_role
    parent = os.getpid()

    def dying(role: object, *args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            marker.touch()
            os._exit(3)
        _wait_for(marker)
        return audit_role(role, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "audit_role", dying)


@needs_fork
@pytest.mark.parametrize(
    "failure",
    [ZeetIamAuditError("role-00299: cannot be audited"), ValueError("unexpected value"),
     KeyError("missing key")],
    ids=["our-error", "internal-error", "key-error"],
)
def test_a_worker_error_is_the_serial_error(
    gaad_file: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    _failing(monkeypatch, failure)
    serial = _audit(gaad_file, "--format", "json", "--jobs", "1")
    parallel_run = _audit(gaad_file, "--format", "json", "--jobs", "2")
    assert serial[0] == 2
    assert parallel_run == serial
    assert parallel_run[2].count("\n") == 2  # "auditing FILE" and the one error line


@needs_fork
def test_a_worker_that_dies_is_an_error_not_a_hang(
    gaad_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _dying_in_workers(monkeypatch, tmp_path / "worker-started")
    code, stdout, stderr = _audit(gaad_file, "--format", "json", "--jobs", "2")
    assert code == 2
    assert stdout == ""
    last = stderr.splitlines()[-1]
    # It names the chunk of roles it was auditing (which one depends on which it claimed first).
    assert last.startswith("zeet-iam-audit: error: the worker process auditing roles "), last
    assert last.endswith(" exited with status 3 without its results; run again with --jobs 1"), last


@needs_fork
def test_a_worker_that_does_not_finish_is_killed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(parallel, "WORKER_GRACE", 0.5)
    parent = os.getpid()
    marker = tmp_path / "worker-started"

    def work(share: list[int]) -> list[int]:
        if os.getpid() != parent:  # the worker claims a chunk, and hangs
            marker.touch()
            time.sleep(60)
        _wait_for(marker)
        return share

    with pytest.raises(parallel.AuditWorkerError, match=r"auditing role \d did not finish in time"):
        parallel.map_shares(work, [0, 1, 2, 3], 2)


@needs_fork
def test_the_first_failing_chunk_is_raised_whichever_process_audits_it() -> None:
    """Chunks 3 and 6 of 8 fail; the error of the first, as a serial run raises it, is the one raised,
    and a worker's exception carries its traceback as a note."""
    parent = os.getpid()

    def work(share: Sequence[int]) -> list[int]:
        if share[0] in (3, 6):
            raise ValueError(f"item {share[0]} failed in {'the parent' if os.getpid() == parent else 'a worker'}")
        if os.getpid() == parent:
            time.sleep(0.2)  # the worker takes most chunks, the failing ones among them
        return list(share)

    with pytest.raises(ValueError, match=r"^item 3 failed in ") as caught:
        parallel.map_shares(work, list(range(8)), 2)
    if "a worker" in str(caught.value):
        assert "in a worker process" in "".join(getattr(caught.value, "__notes__", ()))


@needs_fork
def test_a_faster_process_audits_more_chunks() -> None:
    parent = os.getpid()

    def work(share: Sequence[int]) -> list[tuple[int, int]]:
        if os.getpid() != parent:
            time.sleep(0.05)  # a worker on a busy core
        return [(item, os.getpid()) for item in share]

    results = parallel.map_shares(work, list(range(32)), 2)
    assert [item for item, _ in results] == list(range(32))
    by_parent = sum(1 for _, pid in results if pid == parent)
    assert by_parent > 16


# A file whose roles are read on first use (sources/lazy.py): with --all-roles each process reads the
# roles it audits, so a malformed role is found by the process auditing it, and its error must be the
# one the serial run gives, which is the one loading the file used to give.

@pytest.fixture(scope="module")
def malformed_file(
    tmp_path_factory: pytest.TempPathFactory, make_gaad: Callable[[int], dict[str, Any]]
) -> Callable[[int], tuple[Path, str]]:
    """The synthetic file with role ``position``'s first attachment malformed, and its error line."""
    folder = tmp_path_factory.mktemp("malformed")

    def write(position: int) -> tuple[Path, str]:
        data = make_gaad(ROLES)
        data["RoleDetailList"][position]["AttachedManagedPolicies"][0]["PolicyArn"] = 5  # type: ignore[index]
        path = folder / f"gaad-{position}.json"
        path.write_text(json.dumps(data, indent=4), encoding="utf-8")
        return path, (f"zeet-iam-audit: error: {path}: $.RoleDetailList[{position}].AttachedManagedPolicies[0]"
                      ".PolicyArn: expected a string, got the number 5")

    return write


@needs_fork
@pytest.mark.parametrize("position", [10, ROLES - 50], ids=["parent-share", "worker-share"])
def test_a_malformed_role_is_the_serial_error(
    malformed_file: Callable[[int], tuple[Path, str]], tmp_path: Path, position: int
) -> None:
    path, error = malformed_file(position)
    runs = {}
    for jobs in ("1", "2", "3"):
        target = tmp_path / f"report-{jobs}.json"
        runs[jobs] = _audit(path, "--format", "json", "--jobs", jobs, "--output", str(target))
        assert not target.exists(), f"--jobs {jobs}"
        assert _audit(path, "--format", "json", "--jobs", jobs) == runs[jobs], f"--jobs {jobs}"
    assert runs["1"] == (2, "", f"zeet-iam-audit: auditing {path}\n{error}\n")
    assert runs["2"] == runs["1"]
    assert runs["3"] == runs["1"]


@pytest.mark.parametrize("choice", [["--role", "role-00001"], ["--zeet-account-id", "111122223333"]],
                         ids=["role", "trusting-zeet"])
def test_a_malformed_role_fails_a_run_that_does_not_choose_it(
    malformed_file: Callable[[int], tuple[Path, str]], choice: list[str]
) -> None:
    path, error = malformed_file(ROLES - 50)
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main(["--file", str(path), *choice], stdout=stdout, stderr=stderr)
    assert (code, stdout.getvalue(), stderr.getvalue()) == (2, "", f"zeet-iam-audit: auditing {path}\n{error}\n")


@needs_fork
def test_each_process_reads_the_roles_it_audits(
    gaad_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reads: list[str] = []  # in this process (a forked worker appends to its own copy)
    read = gaad.read_role_detail
    parent = os.getpid()
    marker = tmp_path / "worker-started"

    def counting(raw: object, **kwargs: object) -> Role:
        if os.getpid() != parent:
            marker.touch()
        else:
            _wait_for(marker)
        reads.append(str(kwargs["path"]))
        return read(raw, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gaad, "read_role_detail", counting)
    code, _, _ = _audit(gaad_file, "--format", "json", "--jobs", "2")
    assert code == 1
    # The parent read the roles of the chunks it claimed, each once, and not the others'.
    chunks = parallel.shares(ROLES, 2 * parallel.CHUNKS_PER_JOB)
    positions = sorted(int(path.removeprefix("$.RoleDetailList[").rstrip("]")) for path in reads)
    assert len(positions) == len(set(positions)) < ROLES
    assert set(positions) == {n for start, stop in chunks if start in positions for n in range(start, stop)}


class _Unsliceable(Sequence[int]):
    """Ten items whose slices fail in any process but ``parent``: roles a worker cannot read. The
    parent takes its slices only once a worker has failed (``marker``)."""

    def __init__(self, parent: int, marker: Path) -> None:
        self.parent = parent
        self.marker = marker

    def __len__(self) -> int:
        return 10

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> list[int]: ...

    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            if os.getpid() != self.parent:
                self.marker.touch()
                raise ValueError(f"cannot take items {index.start}-{index.stop}")
            _wait_for(self.marker)
            return list(range(10))[index]
        return index


@needs_fork
def test_an_error_taking_a_workers_chunk_is_raised_in_the_parent(tmp_path: Path) -> None:
    items = _Unsliceable(os.getpid(), tmp_path / "worker-failed")
    with pytest.raises(ValueError, match=r"^cannot take items \d+-\d+\n") as caught:
        parallel.map_shares(lambda share: list(share), items, 2)
    # Not "the worker exited without its results": the worker's own exception, with its traceback.
    assert "in a worker process" in "".join(getattr(caught.value, "__notes__", ()))


@needs_fork
def test_map_shares_keeps_the_order_and_values() -> None:
    items = list(range(1000))
    assert parallel.map_shares(lambda share: [x * x for x in share], items, 4) == [x * x for x in items]


@pytest.mark.parametrize("path", ["gaad", "fixtures/gaad/zeet-account.json", "fixtures/role/get-role.json"])
def test_role_texts_are_the_roles_json(gaad_file: Path, path: str) -> None:
    """render_role splices each feature's text (kept per feature value) into the role's own: the
    text must be exactly that of the role's ``to_json``, as workers render it for the report."""
    catalog = load_catalog()
    source = load_file(gaad_file if path == "gaad" else ROOT / path)
    for zeet in (None, "111122223333"):
        options = AuditOptions(trust=TrustSettings(zeet_account_id=zeet))
        located = run.audit_located(source.roles, load_rules(catalog=catalog), catalog, options, jobs=1)
        for report in located:
            assert json_format.render_role(report) == _ENCODE(report.to_json()), report.name


@pytest.mark.parametrize(
    ("count", "jobs", "expected"),
    [(10, 1, [(0, 10)]), (10, 3, [(0, 4), (4, 7), (7, 10)]), (2, 5, [(0, 1), (1, 2)]), (0, 2, [(0, 0)])],
)
def test_shares(count: int, jobs: int, expected: list[tuple[int, int]]) -> None:
    assert parallel.shares(count, jobs) == expected


def test_choose_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "usable_cores", lambda: 4)
    assert parallel.choose_jobs(None, 150) == 1  # too few roles to pay for a fork
    assert parallel.choose_jobs(None, 250) == 2
    assert parallel.choose_jobs(None, 5000) == 4
    assert parallel.choose_jobs(3, 2) == 2  # never more processes than roles
    assert parallel.choose_jobs(1, 5000) == 1


@pytest.mark.parametrize("value", ["0", "-2", "many", ""])
def test_jobs_must_be_a_positive_number_or_auto(value: str) -> None:
    stderr = io.StringIO()
    code = cli.main(["--file", str(ROOT / "fixtures/role/get-role.json"), "--jobs", value],
                    stdout=io.StringIO(), stderr=stderr)
    assert code == 2
    assert stderr.getvalue().count("\n") == 1
    assert "--jobs: expected a number of processes (1 or more) or auto" in stderr.getvalue()


def test_serial_where_fork_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "fork_available", lambda: False)
    monkeypatch.setattr(parallel, "_start_worker", lambda *args: pytest.fail("forked"))
    assert parallel.map_shares(lambda share: list(share), [1, 2, 3], 3) == [1, 2, 3]


def test_frozen_dataclasses_pickle_through_their_constructor() -> None:
    from zeet_iam_audit.audit.report import FeatureResult, FeatureStatus, MissingGroup

    value = FeatureResult(id="x", title="X", section="s", status=FeatureStatus.MISSING, required=2,
                          missing=(MissingGroup("sqs", "SQS", ("sqs:A",), "no allow", "r"),))
    assert pickle.loads(parallel._dumps([value, value])) == [value, value]
    assert FeatureResult in parallel._REDUCERS  # the constructor route, not the default one
