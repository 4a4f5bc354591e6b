"""The library facade: audit a file, or roles already read, and get the report as values.

    from zeet_iam_audit import audit_file

    report = audit_file("authorization-details.json", all_roles=True, zeet_account_id="123456789012")
    for role in report.roles:
        for feature in role.features:
            print(role.name, feature.id, feature.status)

The same audit as the command line, without its side effects: nothing is printed, no config file
or ``ZEET_IAM_AUDIT_*`` variable is read (every setting is a keyword), no exit code is decided (the
report's verdicts are the answer), and the audit runs in the calling process. Bad input raises
``ZeetIamAuditError`` (``InputError``, ``UsageError``) with the one-line message the command line
would print.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zeet_iam_audit.audit.report import AuditReport
    from zeet_iam_audit.config import Settings
    from zeet_iam_audit.model import Role
    from zeet_iam_audit.run import AuditChoices


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """What to audit against; each field is the command line option of the same name.

    ``features``: feature ids (None: every feature, as Zeet's default setup enables them);
    ``variants``: rules' optional groups (``--with``); ``plan`` and ``mode`` as ``--plan`` and
    ``--mode`` (None: auto); ``rules``: a directory of feature rules instead of the packaged ones;
    ``template_extras``: a TOML file of a Terraform template's extra actions; ``check_excess=False``
    is ``--no-excess``.
    """

    zeet_account_id: str | None = None
    external_id: str | None = None
    features: tuple[str, ...] | None = None
    variants: tuple[str, ...] = ()
    plan: str | None = None
    mode: str | None = None
    rules: Path | None = None
    template_extras: Path | None = None
    check_excess: bool = True

    def choices(self) -> AuditChoices:
        from zeet_iam_audit.run import AuditChoices

        return AuditChoices(
            zeet_account_id=self.zeet_account_id,
            external_id=self.external_id,
            features=tuple(self.features or ()),
            variants=tuple(self.variants),
            plan=self.plan,
            mode=self.mode,
            template_extras=self.template_extras,
            no_excess=not self.check_excess,
        )


def audit_file(
    path: str | Path,
    *,
    role: str | None = None,
    all_roles: bool = False,
    zeet_account_id: str | None = None,
    external_id: str | None = None,
    features: Iterable[str] | None = None,
    variants: Iterable[str] = (),
    plan: str | None = None,
    mode: str | None = None,
    input_type: str | None = None,
    parameters: Mapping[str, str] | None = None,
    rules: str | Path | None = None,
    template_extras: str | Path | None = None,
    check_excess: bool = True,
) -> AuditReport:
    """Audit the roles of one input file, as ``zeet-iam-audit --file PATH`` does.

    The file is any input the command line reads (authorization details, ``get-role`` output, a
    policy document, a CloudFormation template, a Terraform plan), its kind detected unless
    ``input_type`` names it. A file of several roles needs ``role`` (a name or ARN), ``all_roles``,
    or ``zeet_account_id`` (the roles that trust Zeet's account). ``parameters`` are CloudFormation
    parameter values.
    """
    settings = AuditSettings(
        zeet_account_id=zeet_account_id,
        external_id=external_id,
        features=None if features is None else tuple(features),
        variants=tuple(variants),
        plan=plan,
        mode=mode,
        rules=None if rules is None else Path(rules),
        template_extras=None if template_extras is None else Path(template_extras),
        check_excess=check_excess,
    )
    from zeet_iam_audit.run import AuditRequest, run_audit

    request = AuditRequest(
        file=Path(path),
        input_type=input_type,
        role=role,
        all_roles=all_roles,
        parameters=tuple(f"{name}={value}" for name, value in (parameters or {}).items()),
        choices=settings.choices(),
        rules=settings.rules,
        fail_on=("never",),
    )
    return run_audit(request, settings=_no_settings()).report


def audit_roles(roles: Sequence[Role], settings: AuditSettings | None = None) -> AuditReport:
    """Audit roles already read (``zeet_iam_audit.model.Role`` values), in order, in this process."""
    from zeet_iam_audit import __version__
    from zeet_iam_audit.audit.report import AuditReport
    from zeet_iam_audit.catalog import load_catalog
    from zeet_iam_audit.rules import load_rules
    from zeet_iam_audit.run import audit_located, build_options, check_plan

    settings = settings or AuditSettings()
    options = build_options(settings.choices(), _no_settings())
    catalog = load_catalog()
    rule_set = load_rules(settings.rules, catalog=catalog)
    check_plan(options.plan, rule_set)
    located = audit_located(roles, rule_set, catalog, options)
    return AuditReport(tool_version=__version__, roles=tuple(located))


def _no_settings() -> Settings:
    """No config file, no environment: the keywords are every setting."""
    from zeet_iam_audit.config import Settings

    return Settings(values={}, origin={})
