"""Admission of operators by EigenLayer stake (DESIGN §7 rule 4).

With the config section ``eigenlayer`` set, an operator may use the Node service only while it
is a member of the AVS's operator set with at least the minimum slashable stake in every
configured strategy. :class:`StakeAdmission` keeps a verdict per operator, read from chain:

* :meth:`StakeAdmission.check` (called by the Node auth interceptor after the signature is
  verified) answers from the cache; an operator seen for the first time, or refused more than
  ``refused_ttl_seconds`` ago, is read from chain at once.
* :meth:`StakeAdmission.run` reads the AllocationManager's and DelegationManager's events every
  ``event_poll_seconds`` and re-reads the operators they name (an allocation change is read again
  when it takes effect), and re-reads every known operator each ``refresh_seconds``.
* An admitted operator whose verdict turns to refused is reported to the ``revoked`` listeners
  (the dispatcher ends its stream, so its workflows move to other operators).

Refused verdicts are kept in a bounded LRU (a signature is cheap to make: an unknown key must not
grow memory without bound). The decision itself is :func:`~ap_avs.eigenlayer.admission_refusal`.

Raises:
    PermissionDenied: :meth:`StakeAdmission.check` for an operator that is not admitted.
    Unavailable: :meth:`StakeAdmission.check` when the chain cannot be read and nothing is
        cached for that operator (retryable).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from ap_avs.eigenlayer import EigenLayerReader, admission_refusal
from ap_avs.errors import ApAvsError, PermissionDenied

logger = logging.getLogger(__name__)

MAX_LOG_RANGE: Final = 2_000
"""Blocks per eth_getLogs request when catching up."""
_FULL_REFRESH_EVENTS: Final = frozenset(
    {"StrategyAddedToOperatorSet", "StrategyRemovedFromOperatorSet", "OperatorSetCreated"}
)

Revoked = Callable[[str, str], None]
"""Called with (operator address, reason) when an admitted operator loses admission."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one operator is admitted, and the facts it was decided on."""

    operator: str
    refusal: str | None
    member: bool
    slashable: Mapping[str, int] = field(default_factory=dict)
    block: int = 0
    checked_at: float = 0.0

    @property
    def admitted(self) -> bool:
        return self.refusal is None


class StakeAdmission:
    """Cached, chain-backed admission of operators (see the module docstring).

    Usage::

        admission = StakeAdmission(EigenLayerReader(chain, target), refresh_seconds=60)
        admission.on_revoked(dispatcher.evict)
        tasks.create_task(admission.run(stop))
        await admission.check("0xOperator")     # raises PermissionDenied
    """

    def __init__(
        self,
        reader: EigenLayerReader,
        *,
        refresh_seconds: float = 60.0,
        event_poll_seconds: float = 1.0,
        refused_ttl_seconds: float = 2.0,
        max_refused: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self.target = reader.target
        self.refresh_seconds = refresh_seconds
        self.event_poll_seconds = event_poll_seconds
        self._refused_ttl = refused_ttl_seconds
        self._max_refused = max_refused
        self._clock = clock
        self._admitted: dict[str, Verdict] = {}
        self._refused: OrderedDict[str, Verdict] = OrderedDict()
        self._due: dict[int, set[str]] = {}
        self._cursor: int | None = None
        self._last_full = clock()
        self._listeners: list[Revoked] = []
        self._reading: dict[str, asyncio.Future[Verdict]] = {}
        self.head = 0
        """The last block read (0: none yet)."""

    def on_revoked(self, listener: Revoked) -> None:
        self._listeners.append(listener)

    # --- answers --------------------------------------------------------------------------------

    def verdict(self, address: str) -> Verdict | None:
        """The cached verdict of an operator (None: never read)."""
        key = address.lower()
        return self._admitted.get(key) or self._refused.get(key)

    def verdicts(self) -> list[Verdict]:
        return [*self._admitted.values(), *self._refused.values()]

    async def check(self, address: str) -> None:
        """Return if ``address`` is admitted.

        Raises:
            PermissionDenied: it is not a member with the minimum slashable stake.
            Unavailable: the chain cannot be read and nothing is cached for it.
        """
        key = address.lower()
        verdict = self._admitted.get(key)
        if verdict is None:
            refused = self._refused.get(key)
            if refused is not None and self._clock() - refused.checked_at < self._refused_ttl:
                verdict = refused
            else:
                verdict = await self._read_one(address)
        if verdict.refusal is not None:
            raise PermissionDenied(verdict.refusal)

    async def _read_one(self, address: str) -> Verdict:
        """One chain read per operator at a time: concurrent checks share it."""
        key = address.lower()
        pending = self._reading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        self._reading[key] = future
        try:
            found = await self.refresh([address])
            future.set_result(found[key])
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            del self._reading[key]
        return found[key]

    # --- reading the chain ----------------------------------------------------------------------

    async def refresh(self, addresses: Iterable[str]) -> dict[str, Verdict]:
        """Read these operators' standing and update their verdicts (lower-case keys).

        Raises:
            Unavailable: the chain cannot be read.
        """
        shown = {a.lower(): a for a in addresses}
        wanted = sorted(shown)
        if not wanted:
            return {}
        facts = await self._reader.admission_facts([shown[a] for a in wanted])
        now = self._clock()
        found: dict[str, Verdict] = {}
        for key, fact in facts.items():
            refusal = admission_refusal(fact.operator, fact.member, fact.slashable, self.target)
            verdict = Verdict(fact.operator, refusal, fact.member, fact.slashable, fact.block, now)
            self.head = max(self.head, fact.block)
            found[key] = verdict
            self._record(key, verdict)
        return found

    def _record(self, key: str, verdict: Verdict) -> None:
        was_admitted = key in self._admitted
        if verdict.admitted:
            self._refused.pop(key, None)
            self._admitted[key] = verdict
            if not was_admitted:
                logger.info("operator %s admitted by EigenLayer stake", verdict.operator)
            return
        self._admitted.pop(key, None)
        self._refused[key] = verdict
        self._refused.move_to_end(key)
        while len(self._refused) > self._max_refused:
            self._refused.popitem(last=False)
        if was_admitted:
            reason = verdict.refusal or "not admitted"
            logger.warning("operator %s lost admission: %s", verdict.operator, reason)
            for listener in self._listeners:
                try:
                    listener(verdict.operator, reason)
                except Exception:
                    logger.exception("admission listener failed for %s", verdict.operator)

    async def poll_once(self) -> None:
        """Read new events, then re-read the operators they name, those whose allocation change
        takes effect now, or (each ``refresh_seconds``) every known operator.

        Raises:
            Unavailable: the chain cannot be read (the cursor stays, so nothing is skipped).
        """
        head = await self._reader.block_number()
        affected: set[str] = set()
        full = False
        cursor = head if self._cursor is None else self._cursor
        while cursor < head:
            upto = min(head, cursor + MAX_LOG_RANGE)
            for log in await self._reader.events(cursor + 1, upto):
                operator = log.args.get("operator")
                if isinstance(operator, str):
                    affected.add(operator.lower())
                    effect = log.args.get("effectBlock")
                    if isinstance(effect, int) and effect > upto:
                        self._due.setdefault(effect, set()).add(operator.lower())
                elif log.event in _FULL_REFRESH_EVENTS:
                    full = True
            cursor = upto
            self._cursor = cursor
        self._cursor = head
        self.head = max(self.head, head)
        for block in [b for b in self._due if b <= head]:
            affected |= self._due.pop(block)
        now = self._clock()
        if now - self._last_full >= self.refresh_seconds:
            full = True
        known = {v.operator.lower(): v.operator for v in self.verdicts()}
        targets = set(known) if full else affected & set(known)
        if targets:
            await self.refresh(known[k] for k in targets)
        if full:
            self._last_full = now

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; a failing read is logged and retried at the next poll."""
        while not stop.is_set():
            try:
                await self.poll_once()
            except ApAvsError as exc:
                logger.warning("EigenLayer admission refresh failed: %s", exc.message)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.event_poll_seconds):
                    await stop.wait()
