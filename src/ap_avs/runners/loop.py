"""The loop node: run its runner node once per item of a list, through the runner registry.

For item ``i`` the loop builds :func:`iteration_node` (id ``<loopId>_iter_<i>``, name
``<loopName>_iter_<i>``, kind and config from the loop's runner) and calls
``ctx.run_node(node, {iter_val: item, iter_key: i}, iteration=(loop id, i))`` — the same path
as a top-level node, so templates, secrets, the step journal and every runner kind behave the
same inside loops (LESSONS 17, 22).

* ``input_variable`` must resolve to a list (see :mod:`ap_avs.runners.items`) of at most
  ``options.max_loop_iterations`` items.
* Sequential mode runs one item at a time in order; parallel mode runs up to
  ``options.loop_parallelism`` at once. ETH-transfer and contract-write runners are always
  sequential (one wallet, one nonce sequence).
* Each iteration must end within :func:`iteration_timeout`: ``iteration_timeout`` seconds when
  set, else ``options.default_iteration_timeout_seconds`` (for on-chain writes at least 240 s,
  360 s on chain 1, as upstream).
* Output: the iterations' outputs in item order, ``null`` for failed ones. Metadata
  ``{executionMode, total, failed, iterations: [{index, success, error?, errorCode?, log?,
  metadata?}]}`` keeps every item's result and error (LESSONS 21). Gas used and total gas cost
  are summed; the gas price is their ratio. :func:`loop_result` is pure.

Fails with (INVALID_REQUEST unless noted): ``iter_val is required`` (MISSING_REQUIRED_FIELD);
the input errors of ``_items``; ``the loop input has <n> items; at most <m> are allowed``;
``<k> of <n> iterations failed: <first error>`` with the output still set. A timed-out
iteration fails with ``iteration <i> timed out after <t> s``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final

from ap_avs.domain.nodes import ExecutionMode, LoopConfig, Node, NodeKind
from ap_avs.domain.values import JsonValue
from ap_avs.runners._failures import config_of, reporting_failures
from ap_avs.runners.base import (
    INVALID_REQUEST,
    MISSING_REQUIRED_FIELD,
    EngineOptions,
    NodeFailure,
    NodeResult,
    RunContext,
    failed,
)
from ap_avs.runners.items import resolve_items

SEQUENTIAL_KINDS: Final = frozenset({NodeKind.ETH_TRANSFER, NodeKind.CONTRACT_WRITE})
"""Runner kinds that never run in parallel (they send transactions from one wallet)."""
ON_CHAIN_TIMEOUT_SECONDS: Final = 240.0
MAINNET_ON_CHAIN_TIMEOUT_SECONDS: Final = 360.0


def iteration_node(loop: Node, config: LoopConfig, index: int) -> Node:
    """The node that runs item ``index`` of ``loop``."""
    return Node(
        id=f"{loop.id}_iter_{index}",
        name=f"{loop.name}_iter_{index}",
        kind=config.runner.kind,
        config=config.runner.config,
    )


def iteration_variables(config: LoopConfig, index: int, item: JsonValue) -> dict[str, JsonValue]:
    """The extra variables of one iteration: the item, and its index when ``iter_key`` is set."""
    variables: dict[str, JsonValue] = {config.iter_val: item}
    if config.iter_key:
        variables[config.iter_key] = index
    return variables


def iteration_timeout(config: LoopConfig, options: EngineOptions) -> float:
    """Seconds one iteration may take."""
    if config.iteration_timeout > 0:
        return float(config.iteration_timeout)
    default = options.default_iteration_timeout_seconds
    if config.runner.kind in SEQUENTIAL_KINDS:
        floor = (
            MAINNET_ON_CHAIN_TIMEOUT_SECONDS if options.chain_id == 1 else ON_CHAIN_TIMEOUT_SECONDS
        )
        return max(default, floor)
    return default


def parallelism(config: LoopConfig, options: EngineOptions) -> int:
    """How many iterations may run at once."""
    if config.execution_mode is ExecutionMode.SEQUENTIAL or config.runner.kind in SEQUENTIAL_KINDS:
        return 1
    return max(1, options.loop_parallelism)


def loop_result(results: Sequence[NodeResult], mode: str) -> NodeResult:
    """Combine the iterations' results (in item order) into the loop's result."""
    outputs: list[JsonValue] = [r.output if r.success else None for r in results]
    failures = [r for r in results if not r.success]
    metadata: JsonValue = {
        "executionMode": mode,
        "total": len(results),
        "failed": len(failures),
        "iterations": [_record(i, r) for i, r in enumerate(results)],
    }
    log = "\n".join(
        f"iteration {i}: {line}" for i, r in enumerate(results) for line in r.log.splitlines()
    )
    gas_used, gas_price, total_cost = _gas(results)
    error = ""
    if failures:
        error = f"{len(failures)} of {len(results)} iterations failed: {failures[0].error}"
    return NodeResult(
        success=not failures,
        output=outputs,
        error=error,
        error_code=INVALID_REQUEST if failures else 0,
        log=log,
        metadata=metadata,
        gas_used=gas_used,
        gas_price=gas_price,
        total_gas_cost=total_cost,
    )


def _record(index: int, result: NodeResult) -> JsonValue:
    record: dict[str, JsonValue] = {"index": index, "success": result.success}
    if not result.success:
        record["error"] = result.error
        record["errorCode"] = result.error_code
    if result.log:
        record["log"] = result.log
    if result.metadata is not None:
        record["metadata"] = result.metadata
    return record


def _gas(results: Sequence[NodeResult]) -> tuple[str, str, str]:
    used = [int(r.gas_used) for r in results if r.gas_used.isdigit()]
    costs = [int(r.total_gas_cost) for r in results if r.total_gas_cost.isdigit()]
    if not used and not costs:
        return "", "", ""
    total_used, total_cost = sum(used), sum(costs)
    price = str(total_cost // total_used) if total_used and costs else ""
    return str(total_used) if used else "", price, str(total_cost) if costs else ""


async def _iterate(
    ctx: RunContext, node: Node, config: LoopConfig, index: int, item: JsonValue, seconds: float
) -> NodeResult:
    inner = iteration_node(node, config, index)
    try:
        async with asyncio.timeout(seconds):
            return await ctx.run_node(
                inner, iteration_variables(config, index, item), iteration=(node.id, index)
            )
    except TimeoutError:
        return failed(f"iteration {index} timed out after {seconds:g} s")
    except NodeFailure as failure:
        return failed(failure.message, error_code=failure.error_code, output=failure.output)


@reporting_failures
async def run(node: Node, ctx: RunContext) -> NodeResult:
    """Run the loop's runner over every item (see the module docstring)."""
    config = config_of(node, LoopConfig)
    if not config.iter_val.strip():
        raise NodeFailure("iter_val is required", error_code=MISSING_REQUIRED_FIELD)
    items = await resolve_items(config.input_variable, ctx, single_object=False)
    limit = ctx.options.max_loop_iterations
    if len(items) > limit:
        raise NodeFailure(f"the loop input has {len(items)} items; at most {limit} are allowed")
    timeout = iteration_timeout(config, ctx.options)
    workers = parallelism(config, ctx.options)
    if workers == 1:
        results = [
            await _iterate(ctx, node, config, index, item, timeout)
            for index, item in enumerate(items)
        ]
    else:
        semaphore = asyncio.Semaphore(workers)

        async def limited(index: int, item: JsonValue) -> NodeResult:
            async with semaphore:
                return await _iterate(ctx, node, config, index, item, timeout)

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(limited(i, item)) for i, item in enumerate(items)]
        except ExceptionGroup as group_error:  # a bug in a runner: surface the first one
            raise group_error.exceptions[0] from None
        results = [task.result() for task in tasks]
    mode = "sequential" if workers == 1 else "parallel"
    return loop_result(results, mode)
