"""Secret use cases: create, update, delete and list a caller's secrets; load them for runs.

Values are validated, sealed at rest and never returned; errors never contain them. A
workflow-scoped secret may name any workflow id, as upstream allows: it lives under the
caller's own key, and a run loads only its workflow owner's secrets, so naming someone else's
workflow gives that workflow nothing.

Raises:
    InvalidArgument: a bad name, value or scope.
    NotFound: UpdateSecret of a secret that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ap_avs.domain import secrets as rules
from ap_avs.domain.pagination import PageInfo, PageRequest, page_info
from ap_avs.domain.secrets import Scope, SecretRef
from ap_avs.errors import NotFound
from ap_avs.store.secrets import SecretInfo, SecretRepo


@dataclass(frozen=True, slots=True)
class SecretChange:
    """What a create, update or delete did."""

    ref: SecretRef
    at_ms: int
    found: bool = True


@dataclass(frozen=True, slots=True)
class SecretPage:
    items: list[SecretInfo]
    page: PageInfo


class SecretService:
    """Secrets of authenticated owners."""

    def __init__(self, repo: SecretRepo) -> None:
        self._repo = repo

    async def _ref(self, owner: str, name: str, workflow_id: str, org_id: str) -> SecretRef:
        return rules.ref(owner, name, workflow_id=workflow_id, org_id=org_id)

    async def create(
        self, owner: str, name: str, value: str, *, workflow_id: str, org_id: str, now_ms: int
    ) -> SecretChange:
        """Create a secret, or overwrite one of the same name and scope (as upstream does)."""
        ref = await self._ref(owner, name, workflow_id, org_id)
        await self._repo.put(ref, rules.check_value(value), now_ms=now_ms, by=owner)
        return SecretChange(ref, now_ms)

    async def update(
        self, owner: str, name: str, value: str, *, workflow_id: str, org_id: str, now_ms: int
    ) -> SecretChange:
        ref = await self._ref(owner, name, workflow_id, org_id)
        secret = rules.check_value(value)
        if not await self._repo.replace(ref, secret, now_ms=now_ms, by=owner):
            raise NotFound(f"secret {name} not found")
        return SecretChange(ref, now_ms)

    async def delete(
        self, owner: str, name: str, *, workflow_id: str, org_id: str, now_ms: int
    ) -> SecretChange:
        """Delete by exact scope; with no scope given, the user-scoped secret of that name or
        else the caller's only workflow-scoped one."""
        ref = rules.ref(owner, name, workflow_id=workflow_id, org_id=org_id)
        if await self._repo.delete(ref):
            return SecretChange(ref, now_ms)
        if ref.scope is Scope.USER:
            matches = [s for s in await self._repo.list(owner) if s.ref.name == name]
            if len(matches) == 1 and await self._repo.delete(matches[0].ref):
                return SecretChange(matches[0].ref, now_ms)
        return SecretChange(ref, now_ms, found=False)

    async def page(self, owner: str, request: PageRequest, workflow_id: str = "") -> SecretPage:
        """The caller's user and workflow secrets in key order (the cursor is the key)."""
        reverse = request.direction == "prev"
        rows = await self._repo.list(
            owner,
            start=request.position,
            reverse=reverse,
            limit=None if workflow_id else request.limit + 1,
        )
        if workflow_id:
            rows = [r for r in rows if r.ref.workflow_id == workflow_id]
        more = len(rows) > request.limit
        rows = rows[: request.limit]
        if reverse:
            rows.reverse()
        return SecretPage(rows, page_info(request, [r.key for r in rows], more))


class RunSecrets:
    """The secret values a run of a workflow may read (``apContext.configVars``).

    Precedence (PROTOCOL.md §7.5): config macros, overridden by the owner's user-scoped secrets;
    the workflow's own secrets fill names not yet taken. Org-scoped secrets are never loaded.
    """

    def __init__(self, repo: SecretRepo, macros: Mapping[str, str]) -> None:
        self._repo = repo
        self._macros = dict(macros)

    async def load(self, owner: str, workflow_id: str | None) -> dict[str, str]:
        values = dict(self._macros)
        workflow_scoped: dict[str, str] = {}
        for info in await self._repo.list(owner):
            scope = info.ref.scope
            if scope is Scope.WORKFLOW and info.ref.workflow_id != workflow_id:
                continue
            secret = await self._repo.open(info.ref)
            if secret is None:
                continue
            if scope is Scope.USER:
                values[info.ref.name] = secret.reveal()
            else:
                workflow_scoped[info.ref.name] = secret.reveal()
        for name, value in workflow_scoped.items():
            values.setdefault(name, value)
        return values

    @property
    def macros(self) -> dict[str, str]:
        return dict(self._macros)
