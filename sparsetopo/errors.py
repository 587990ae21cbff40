"""Exceptions with messages a user can act on: each names the problem and the fix."""

from __future__ import annotations


class SparsetopoError(Exception):
    """Base class; the CLI prints these without a traceback."""


class InputError(SparsetopoError, ValueError):
    """Bad input (file, shape, value, name). Nothing has been written when this is raised."""


class UnknownNameError(InputError, KeyError):
    """A name (layer, run, query, ...) that does not exist; the message lists the valid ones.

    Also a KeyError, as a failed lookup, but printed as its message (KeyError would quote it).
    """

    def __str__(self) -> str:
        return Exception.__str__(self)


class ServerError(SparsetopoError):
    """The managed Neo4j server could not be installed, started or reached."""


class StoreError(SparsetopoError):
    """A database operation was refused (unknown run, duplicate snapshot, ...)."""


class MissingExtraError(SparsetopoError, ImportError):
    """A feature needs an optional dependency that is not installed."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        super().__init__(
            f"{feature} needs {package}, which is not installed; install it with "
            f"`pip install 'sparsetopo[{extra}]'`"
        )
        self.package, self.extra = package, extra
