"""Secret rules (pure): names, scopes, and the value type that never prints.

Raises:
    InvalidArgument: a bad name or an impossible scope, with a message saying what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ap_avs.errors import InvalidArgument

MAX_NAME_LENGTH: Final = 255
MAX_VALUE_BYTES: Final = 64 * 1024
_NAME: Final = re.compile(r"[A-Za-z0-9_]+")
_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Scope(StrEnum):
    USER = "user"
    WORKFLOW = "workflow"
    ORG = "org"


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Which secret: owner (checksummed EOA), name and scope."""

    owner: str
    name: str
    workflow_id: str | None = None
    org_id: str | None = None

    @property
    def scope(self) -> Scope:
        if self.workflow_id is not None:
            return Scope.WORKFLOW
        if self.org_id is not None:
            return Scope.ORG
        return Scope.USER


class SecretValue:
    """A secret's plaintext. ``str()`` and ``repr()`` never show it; ``reveal()`` does."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretValue('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def check_name(name: str) -> str:
    """Validate a secret name.

    Raises:
        InvalidArgument: empty, longer than 255, characters outside ``[A-Za-z0-9_]``, or the
            reserved ``ap_`` prefix.
    """
    if not name:
        raise InvalidArgument("secret name is required")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidArgument(f"secret name must be at most {MAX_NAME_LENGTH} characters")
    if not _NAME.fullmatch(name):
        raise InvalidArgument("secret name may contain only letters, digits and underscores")
    if name.lower().startswith("ap_"):
        raise InvalidArgument("secret names starting with 'ap_' are reserved")
    return name


def check_value(value: str) -> SecretValue:
    """Validate a secret value (non-empty, bounded).

    Raises:
        InvalidArgument: empty or too large (the message never contains the value).
    """
    if not value:
        raise InvalidArgument("secret value is required")
    if len(value.encode()) > MAX_VALUE_BYTES:
        raise InvalidArgument(f"secret value must be at most {MAX_VALUE_BYTES} bytes")
    return SecretValue(value)


def ref(owner: str, name: str, *, workflow_id: str = "", org_id: str = "") -> SecretRef:
    """The secret a request names: workflow scope wins over org scope, else user scope.

    Raises:
        InvalidArgument: a bad name or a malformed workflow/org id.
    """
    check_name(name)
    if workflow_id:
        if not _ID.fullmatch(workflow_id):
            raise InvalidArgument("workflow_id is not a valid workflow id")
        return SecretRef(owner, name, workflow_id=workflow_id)
    if org_id:
        if not _ID.fullmatch(org_id):
            raise InvalidArgument("org_id is not a valid organisation id")
        return SecretRef(owner, name, org_id=org_id)
    return SecretRef(owner, name)
