"""One base error for everything zeet-iam-audit reports to a user, with a subclass per cause.

Every message is a single line naming where the problem is (a file, a JSON path, a rule key),
so the CLI can print it as it is and exit with code 2.
"""

from __future__ import annotations


class ZeetIamAuditError(Exception):
    """Base class: something the tool could not do, explained in one line."""


class PolicyError(ZeetIamAuditError):
    """A policy document that does not follow the IAM JSON policy grammar.

    ``path`` is the JSON path inside the document (``Statement[2].Effect``) and ``problem`` what was
    wrong there; ``str(error)`` joins them as ``"Statement[2].Effect: expected Allow or Deny, got 'Maybe'"``.
    """

    def __init__(self, path: str, problem: str, *, where: str = "") -> None:
        self.path = path
        self.problem = problem
        self.where = where
        prefix = f"{where}: " if where else ""
        located = f"{path}: {problem}" if path else problem
        super().__init__(prefix + located)

    def located(self, where: str) -> PolicyError:
        """The same error, placed inside a file or a larger document (``where``)."""
        return PolicyError(self.path, self.problem, where=where)


class InputError(ZeetIamAuditError):
    """An input file that cannot be read or understood (names the file and the place)."""


class RulesError(ZeetIamAuditError):
    """A rules file that does not validate (names the file and the key)."""


class CatalogError(ZeetIamAuditError):
    """The action catalogue data is missing or damaged."""


class AwsAccessError(ZeetIamAuditError):
    """Reading from AWS failed in a way that stops the run (credentials, role not found, network)."""


class UsageError(ZeetIamAuditError):
    """Command-line arguments or configuration that do not fit together."""
