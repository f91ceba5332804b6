"""Workflow nodes: the ten node kinds, one frozen config dataclass per kind, and edges.

This module owns the vocabulary of what a node *is*; validation lives in
:mod:`ap_avs.domain.validation`, the wire form in ``aggregator/convert.py`` and the stored form in
:mod:`ap_avs.domain.workflow_codec`. Enum numbers are the wire numbers (PROTOCOL.md §1.3), so a
``NodeKind`` converts to and from ``NodeType`` with ``int()``.

Field meanings follow the runners of PROTOCOL.md §7.8. Strings may hold templates
(``{{ expression }}``) that the engine resolves at run time. ``JsonValue`` fields (ABIs, REST
options) carry user JSON untouched.

The kinds of the wire protocol are the :class:`NodeKind` members. A kind the wire does not
know (an extension, or a test's dummy) is an :class:`ExtraKind` with a config subclassing
:class:`ExtraConfig`; everything the engine needs to know about any kind (validation, stored
form, display, runner) is found through its registration in
:class:`~ap_avs.domain.node_kinds.NodeKinds`.

Raises: constructing a :class:`Node` or :class:`LoopRunner` whose ``kind`` does not match the
type of its ``config`` raises ``TypeError`` (a programming error, never a client error).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final, TypeAlias

from ap_avs.domain.values import JsonValue


class NodeKind(IntEnum):
    """Kind of a node; values are the wire ``NodeType`` numbers."""

    ETH_TRANSFER = 1
    CONTRACT_WRITE = 2
    CONTRACT_READ = 3
    GRAPHQL_QUERY = 4
    REST_API = 5
    CUSTOM_CODE = 6
    BRANCH = 7
    FILTER = 8
    LOOP = 9
    BALANCE = 10

    @property
    def wire_name(self) -> str:
        """The proto enum name, e.g. ``NODE_TYPE_REST_API`` (used in execution steps)."""
        return f"NODE_TYPE_{self.name}"


class Lang(IntEnum):
    """Language of a custom-code source or of a manual-trigger payload (wire ``Lang``)."""

    UNSPECIFIED = 0
    JAVASCRIPT = 1
    JSON = 2
    GRAPHQL = 3
    HANDLEBARS = 4


class ExecutionMode(IntEnum):
    """How a loop runs its iterations (wire ``ExecutionMode``)."""

    SEQUENTIAL = 0
    PARALLEL = 1


@dataclass(frozen=True, slots=True)
class MethodCall:
    """One contract call: encoded from ``method_name`` + ``method_params`` with the ABI, or
    given whole as ``call_data``.

    Shared by contract read, contract write and event-trigger enrichment: the three wire
    messages carry the same four fields (under different numbers).
    """

    method_name: str = ""
    call_data: str | None = None
    """Hex calldata; ``None`` when unset on the wire (the field is proto3 ``optional``)."""
    apply_to_fields: tuple[str, ...] = ()
    """Result fields to format with the token's ``decimals``."""
    method_params: tuple[str, ...] = ()
    """Arguments as strings; each may hold templates."""


@dataclass(frozen=True, slots=True)
class EthTransferConfig:
    """Send native token from the runner wallet."""

    destination: str = ""
    amount: str = ""
    """Wei as a decimal string, or ``"MAX"`` for the whole balance."""


@dataclass(frozen=True, slots=True)
class ContractWriteConfig:
    """Send one UserOp per method call to ``contract_address``."""

    contract_address: str = ""
    call_data: str = ""
    contract_abi: tuple[JsonValue, ...] = ()
    method_calls: tuple[MethodCall, ...] = ()
    is_simulated: bool | None = None
    """``None``: the run decides (deployed runs are real, simulations simulated)."""
    value: str | None = None
    """Wei to send with each call, decimal string."""
    gas_limit: str | None = None


@dataclass(frozen=True, slots=True)
class ContractReadConfig:
    """Call view functions of ``contract_address`` and decode the results with the ABI."""

    contract_address: str = ""
    contract_abi: tuple[JsonValue, ...] = ()
    method_calls: tuple[MethodCall, ...] = ()


@dataclass(frozen=True, slots=True)
class GraphQLQueryConfig:
    """POST ``query`` with ``variables`` to ``url``."""

    url: str = ""
    query: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RestApiConfig:
    """Make one HTTP request."""

    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    method: str = ""
    """Empty means ``GET``."""
    options: JsonValue | None = None
    """Free-form options (``{"summarize": true}``); ``None`` when unset (or JSON null)."""


@dataclass(frozen=True, slots=True)
class CustomCodeConfig:
    """Run ``source`` in the JavaScript sandbox."""

    lang: Lang = Lang.JAVASCRIPT
    source: str = ""


@dataclass(frozen=True, slots=True)
class BalanceConfig:
    """Read the token balances of ``address`` on ``chain``."""

    address: str = ""
    chain: str = ""
    include_spam: bool = False
    include_zero_balances: bool = False
    min_usd_value_cents: int = 0
    token_addresses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BranchCondition:
    """One arm of a branch; edges leaving it have source ``"<branchNodeId>.<id>"``."""

    id: str = ""
    type: str = ""
    """``"if"`` or ``"else"``; a later ``"if"`` acts as else-if."""
    expression: str = ""


@dataclass(frozen=True, slots=True)
class BranchConfig:
    """Choose the first condition that holds."""

    conditions: tuple[BranchCondition, ...] = ()


@dataclass(frozen=True, slots=True)
class FilterConfig:
    """Keep the items of ``input_variable`` for which ``expression`` holds."""

    expression: str = ""
    input_variable: str = ""


RunnerConfig: TypeAlias = (
    EthTransferConfig
    | ContractWriteConfig
    | ContractReadConfig
    | GraphQLQueryConfig
    | RestApiConfig
    | CustomCodeConfig
)
"""The configs a loop can run per item."""


@dataclass(frozen=True, slots=True)
class LoopRunner:
    """The node a loop runs for each item: its kind and its config."""

    kind: NodeKind
    config: RunnerConfig

    def __post_init__(self) -> None:
        _check_kind(self.kind, self.config, LOOP_RUNNER_KINDS)


@dataclass(frozen=True, slots=True)
class LoopConfig:
    """Run :attr:`runner` once per item of ``input_variable``."""

    input_variable: str
    iter_val: str
    iter_key: str
    execution_mode: ExecutionMode
    iteration_timeout: int
    """Seconds per iteration; 0 means the engine's default."""
    runner: LoopRunner


@dataclass(frozen=True, slots=True)
class ExtraKind:
    """A node kind outside the wire's ``NodeType`` (registered in a ``NodeKinds``, never sent
    over gRPC)."""

    name: str
    """Upper-case name, e.g. ``"ECHO"``; stored as the node's ``kind``."""

    @property
    def wire_name(self) -> str:
        """The step type shown for this kind, e.g. ``NODE_TYPE_ECHO``."""
        return f"NODE_TYPE_{self.name}"


class ExtraConfig:
    """Base class of the config of an :class:`ExtraKind` (a frozen dataclass subclasses it)."""

    __slots__ = ()


AnyNodeKind: TypeAlias = NodeKind | ExtraKind
"""A wire node kind or a registered extra kind."""

NodeConfig: TypeAlias = (
    RunnerConfig | BalanceConfig | BranchConfig | FilterConfig | LoopConfig | ExtraConfig
)
"""The config of any node kind."""

NODE_CONFIG_TYPES: Final[Mapping[NodeKind, type[NodeConfig]]] = {
    NodeKind.ETH_TRANSFER: EthTransferConfig,
    NodeKind.CONTRACT_WRITE: ContractWriteConfig,
    NodeKind.CONTRACT_READ: ContractReadConfig,
    NodeKind.GRAPHQL_QUERY: GraphQLQueryConfig,
    NodeKind.REST_API: RestApiConfig,
    NodeKind.CUSTOM_CODE: CustomCodeConfig,
    NodeKind.BRANCH: BranchConfig,
    NodeKind.FILTER: FilterConfig,
    NodeKind.LOOP: LoopConfig,
    NodeKind.BALANCE: BalanceConfig,
}
"""The config type of each node kind."""

LOOP_RUNNER_KINDS: Final = frozenset(
    {
        NodeKind.ETH_TRANSFER,
        NodeKind.CONTRACT_WRITE,
        NodeKind.CONTRACT_READ,
        NodeKind.GRAPHQL_QUERY,
        NodeKind.REST_API,
        NodeKind.CUSTOM_CODE,
    }
)
"""Node kinds a loop can run per item."""


@dataclass(frozen=True, slots=True)
class Node:
    """One step of a workflow."""

    id: str
    name: str
    """A JavaScript identifier, unique in the workflow; later nodes read ``<name>.data``."""
    kind: AnyNodeKind
    config: NodeConfig

    def __post_init__(self) -> None:
        if isinstance(self.kind, ExtraKind):
            if not isinstance(self.config, ExtraConfig):
                raise TypeError(f"a {self.kind!r} node cannot have a {type(self.config).__name__}")
            return
        _check_kind(self.kind, self.config, NODE_CONFIG_TYPES.keys())


@dataclass(frozen=True, slots=True)
class Edge:
    """A directed edge; ``source`` is the trigger id, a node id or ``"<branchId>.<condId>"``."""

    id: str
    source: str
    target: str


def _check_kind(kind: NodeKind, config: object, allowed: Collection[NodeKind]) -> None:
    expected = NODE_CONFIG_TYPES.get(kind)
    if expected is None or kind not in allowed or type(config) is not expected:
        raise TypeError(f"a {kind!r} node cannot have a {type(config).__name__}")
