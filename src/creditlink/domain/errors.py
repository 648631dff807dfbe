"""The root of every error a user can cause.

Each error names the field it is about and the rule that was broken, so that every edge
(CLI, HTTP, scenario runner) can translate it once into a sentence a user understands.
"""

from __future__ import annotations


class CreditlinkError(Exception):
    """A user error: bad input or a request the rules refuse. Nothing was written."""

    code: str = "INVALID"

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule or self.code

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidInput(CreditlinkError):
    """A value is malformed or outside what its rule allows."""

    code = "INVALID_INPUT"


class NotFound(CreditlinkError):
    """The thing named does not exist."""

    code = "NOT_FOUND"


class Conflict(CreditlinkError):
    """The request contradicts what is already recorded."""

    code = "CONFLICT"
