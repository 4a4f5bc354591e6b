"""Reading the packaged catalogue data, once per process."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from zeet_iam_audit.catalog.datafile import decode_catalog
from zeet_iam_audit.catalog.index import Catalog
from zeet_iam_audit.errors import CatalogError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

DATA_FILE = "actions.tsv"


@cache
def load_catalog() -> Catalog:
    """The IAM action catalogue shipped with zeet-iam-audit (read on first use, then shared).

    Raises CatalogError, in one line, when the data is missing or damaged.
    """
    # Imported here: importlib.resources costs a few milliseconds, paid only by runs that need it.
    from importlib.resources import files

    return read_catalog(files("zeet_iam_audit.catalog").joinpath("data", DATA_FILE))


def read_catalog(resource: Traversable) -> Catalog:
    """The catalogue in one data file (a path or an importlib.resources resource)."""
    origin = _origin(resource)
    try:
        data = resource.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise CatalogError(
            f"{origin}: cannot read the IAM action catalogue data ({reason}); reinstall zeet-iam-audit"
        ) from None
    return parse_catalog(data, origin=origin)


def parse_catalog(data: bytes, *, origin: str = "catalogue data") -> Catalog:
    """The catalogue in ``data`` (the data file's bytes); ``origin`` names it in errors."""
    header, blocks = decode_catalog(data, origin)
    return Catalog(header, blocks, origin)


def _origin(resource: Traversable) -> str:
    # A file's path where there is one; a resource inside a zip has only its name.
    return str(resource) if hasattr(resource, "resolve") else resource.name
