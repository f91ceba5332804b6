"""The ``aggregator.Aggregator`` servicer: the client API, one thin method per RPC.

Methods read the request, call a use case and build the response; they decide nothing
themselves. The caller of an authenticated RPC comes from :func:`current_principal` (set by the
auth interceptor). A method not defined here answers ``UNIMPLEMENTED`` (see ``services.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf import wrappers_pb2

from ap_avs import wire as convert
from ap_avs._proto import avs_pb2
from ap_avs.aggregator.api_chain import ChainApi, ChainServices
from ap_avs.aggregator.interceptors import current_principal
from ap_avs.auth import KeyService
from ap_avs.clock import now_ms
from ap_avs.domain.pagination import PageInfo, PageRequest
from ap_avs.domain.signin import validate_wallet_for_signature_format
from ap_avs.engine.api_keys import ApiKeyService
from ap_avs.engine.executions import ExecutionService
from ap_avs.engine.secrets import SecretChange, SecretService
from ap_avs.engine.simulate import Simulator
from ap_avs.engine.wallets import WalletService, WalletView
from ap_avs.engine.workflows import WorkflowService
from ap_avs.errors import ErrorCode, InvalidArgument
from ap_avs.version import __version__
from ap_avs.wire.executions import (
    STEP_OUTPUT_FIELD,
    execution_to_pb,
    fired_trigger_from_pb,
    step_to_pb,
)

Ctx = Any  # grpc.aio.ServicerContext; unused by the methods


def _wallet_resp(view: WalletView) -> avs_pb2.GetWalletResp:
    wallet, counts = view.wallet, view.counts
    return avs_pb2.GetWalletResp(
        address=wallet.address,
        salt=str(wallet.salt),
        factory_address=wallet.factory,
        is_hidden=wallet.is_hidden,
        total_task_count=counts.total,
        enabled_task_count=counts.enabled,
        completed_task_count=counts.completed,
        failed_task_count=counts.failed,
        disabled_task_count=counts.disabled,
    )


def page_info_pb(page: PageInfo) -> avs_pb2.PageInfo:
    return avs_pb2.PageInfo(
        start_cursor=page.start_cursor,
        end_cursor=page.end_cursor,
        has_previous_page=page.has_previous_page,
        has_next_page=page.has_next_page,
    )


def _secret_fields(change: SecretChange) -> dict[str, Any]:
    return {"secret_name": change.ref.name, "scope": change.ref.scope.value}


@dataclass(frozen=True, slots=True)
class Services:
    """The use cases the API calls, built by ``app.py``."""

    keys: KeyService
    wallets: WalletService
    secrets: SecretService
    workflows: WorkflowService
    executions: ExecutionService
    simulator: Simulator
    api_keys: ApiKeyService
    """API key records: ``GetKey`` refuses a revoked or unknown API key."""
    now_ms: Callable[[], int] = now_ms


class AggregatorApi(ChainApi):
    """Client RPCs (the on-chain ones come from :class:`ChainApi`)."""

    def __init__(self, services: Services, chain_services: ChainServices) -> None:
        ChainApi.__init__(self, chain_services)
        self._s = services

    # --- sign-in -------------------------------------------------------------------------------

    async def GetSignatureFormat(
        self, request: avs_pb2.GetSignatureFormatReq, context: Ctx
    ) -> avs_pb2.GetSignatureFormatResp:
        wallet = validate_wallet_for_signature_format(request.wallet)
        message = self._s.keys.signature_format(wallet, __version__)
        return avs_pb2.GetSignatureFormatResp(message=message)

    async def GetKey(self, request: avs_pb2.GetKeyReq, context: Ctx) -> avs_pb2.KeyResp:
        return avs_pb2.KeyResp(
            key=await self._s.api_keys.get_key(request.message, request.signature)
        )

    # --- wallets -------------------------------------------------------------------------------

    async def GetNonce(self, request: avs_pb2.NonceRequest, context: Ctx) -> avs_pb2.NonceResp:
        return avs_pb2.NonceResp(nonce=str(await self._s.wallets.nonce(request.owner)))

    async def GetWallet(self, request: avs_pb2.GetWalletReq, context: Ctx) -> avs_pb2.GetWalletResp:
        owner = current_principal().address
        view = await self._s.wallets.get_wallet(owner, request.salt, request.factory_address)
        return _wallet_resp(view)

    async def SetWallet(self, request: avs_pb2.SetWalletReq, context: Ctx) -> avs_pb2.GetWalletResp:
        owner = current_principal().address
        view = await self._s.wallets.set_wallet(
            owner, request.salt, request.factory_address, request.is_hidden
        )
        return _wallet_resp(view)

    async def ListWallets(
        self, request: avs_pb2.ListWalletReq, context: Ctx
    ) -> avs_pb2.ListWalletResp:
        owner = current_principal().address
        wallets = await self._s.wallets.list_wallets(
            owner, factory=request.factory_address, salt=request.salt
        )
        return avs_pb2.ListWalletResp(
            items=[
                avs_pb2.SmartWallet(
                    address=w.address, salt=str(w.salt), factory=w.factory, is_hidden=w.is_hidden
                )
                for w in wallets
            ]
        )

    # --- secrets -------------------------------------------------------------------------------

    async def _write_secret(
        self, write: Callable[..., Awaitable[SecretChange]], request: Any
    ) -> SecretChange:
        """Create or update (``write``) the secret a CreateOrUpdateSecretReq names."""
        return await write(
            current_principal().address,
            request.name,
            request.secret,
            workflow_id=request.workflow_id,
            org_id=request.org_id,
            now_ms=self._s.now_ms(),
        )

    async def CreateSecret(
        self, request: avs_pb2.CreateOrUpdateSecretReq, context: Ctx
    ) -> avs_pb2.CreateSecretResp:
        change = await self._write_secret(self._s.secrets.create, request)
        return avs_pb2.CreateSecretResp(
            success=True,
            status="created",
            message="Secret created successfully",
            created_at=change.at_ms,
            **_secret_fields(change),
        )

    async def UpdateSecret(
        self, request: avs_pb2.CreateOrUpdateSecretReq, context: Ctx
    ) -> avs_pb2.UpdateSecretResp:
        change = await self._write_secret(self._s.secrets.update, request)
        return avs_pb2.UpdateSecretResp(
            success=True,
            status="updated",
            message="Secret updated successfully",
            updated_at=change.at_ms,
            **_secret_fields(change),
        )

    async def DeleteSecret(
        self, request: avs_pb2.DeleteSecretReq, context: Ctx
    ) -> avs_pb2.DeleteSecretResp:
        change = await self._s.secrets.delete(
            current_principal().address,
            request.name,
            workflow_id=request.workflow_id,
            org_id=request.org_id,
            now_ms=self._s.now_ms(),
        )
        if not change.found:
            return avs_pb2.DeleteSecretResp(
                success=True,
                status="not_found",
                message="Secret not found",
                secret_name=request.name,
            )
        return avs_pb2.DeleteSecretResp(
            success=True,
            status="deleted",
            message="Secret successfully deleted",
            deleted_at=change.at_ms,
            **_secret_fields(change),
        )

    async def ListSecrets(
        self, request: avs_pb2.ListSecretsReq, context: Ctx
    ) -> avs_pb2.ListSecretsResp:
        owner = current_principal().address
        page = PageRequest.from_wire(
            before=request.before, after=request.after, limit=request.limit
        )
        result = await self._s.secrets.page(owner, page, request.workflow_id)
        items = []
        for info in result.items:
            item = avs_pb2.Secret(
                name=info.ref.name,
                scope=info.ref.scope.value,
                workflow_id=info.ref.workflow_id or "",
            )
            if request.include_timestamps:
                item.created_at = info.created_at
                item.updated_at = info.updated_at
            if request.include_created_by:
                item.created_by = info.created_by
            items.append(item)
        return avs_pb2.ListSecretsResp(items=items, page_info=page_info_pb(result.page))

    # --- workflows -----------------------------------------------------------------------------

    async def CreateTask(
        self, request: avs_pb2.CreateTaskReq, context: Ctx
    ) -> avs_pb2.CreateTaskResp:
        draft = convert.workflow_from_create_req(request)
        wf = await self._s.workflows.create(current_principal().address, draft, self._s.now_ms())
        return avs_pb2.CreateTaskResp(id=wf.id)

    async def GetTask(self, request: avs_pb2.IdReq, context: Ctx) -> avs_pb2.Task:
        wf = await self._s.workflows.get(current_principal().address, request.id)
        return convert.workflow_to_pb(wf)

    async def ListTasks(self, request: avs_pb2.ListTasksReq, context: Ctx) -> avs_pb2.ListTasksResp:
        owner = current_principal().address
        wallets = await self._s.workflows.checked_wallets(owner, list(request.smart_wallet_address))
        page = PageRequest.from_wire(
            before=request.before, after=request.after, limit=request.limit
        )
        result = await self._s.workflows.page(owner, wallets, page)
        items = [
            convert.workflow_to_pb(
                wf,
                include_nodes=request.include_nodes,
                include_edges=request.include_edges,
                include_input_variables=False,
            )
            for wf in result.items
        ]
        return avs_pb2.ListTasksResp(items=items, page_info=page_info_pb(result.page))

    async def SetTaskEnabled(
        self, request: avs_pb2.SetTaskEnabledReq, context: Ctx
    ) -> avs_pb2.SetTaskEnabledResp:
        outcome = await self._s.workflows.set_enabled(
            current_principal().address, request.id, request.enabled, self._s.now_ms()
        )
        return avs_pb2.SetTaskEnabledResp(
            success=outcome.success,
            status=outcome.status,
            message=outcome.message,
            id=outcome.workflow_id,
            previous_status=outcome.previous_status,
            updated_at=outcome.at_ms,
        )

    async def DeleteTask(self, request: avs_pb2.IdReq, context: Ctx) -> avs_pb2.DeleteTaskResp:
        outcome = await self._s.workflows.delete(
            current_principal().address, request.id, self._s.now_ms()
        )
        return avs_pb2.DeleteTaskResp(
            success=outcome.success,
            status=outcome.status,
            message=outcome.message,
            id=outcome.workflow_id,
            previous_status=outcome.previous_status,
            deleted_at=outcome.at_ms,
        )

    async def CancelTask(self, request: avs_pb2.IdReq, context: Ctx) -> wrappers_pb2.BoolValue:
        cancelled = await self._s.workflows.cancel(
            current_principal().address, request.id, self._s.now_ms()
        )
        return wrappers_pb2.BoolValue(value=cancelled)

    async def GetWorkflowCount(
        self, request: avs_pb2.GetWorkflowCountReq, context: Ctx
    ) -> avs_pb2.GetWorkflowCountResp:
        total = await self._s.workflows.count(current_principal().address, list(request.addresses))
        return avs_pb2.GetWorkflowCountResp(total=total)

    # --- executions ----------------------------------------------------------------------------

    async def TriggerTask(
        self, request: avs_pb2.TriggerTaskReq, context: Ctx
    ) -> avs_pb2.TriggerTaskResp:
        kind, data = fired_trigger_from_pb(request)
        trigger_input = {
            key: convert.value_to_json(value, where=f"trigger_input.{key}")
            for key, value in request.trigger_input.items()
        }
        done = await self._s.executions.trigger(
            current_principal().address,
            request.task_id,
            kind,
            data,
            trigger_input,
            blocking=request.is_blocking,
            now_ms=self._s.now_ms(),
        )
        response = avs_pb2.TriggerTaskResp(
            execution_id=done.execution_id,
            workflow_id=done.workflow_id,
            status=int(done.status),  # type: ignore[arg-type]
            start_at=done.start_at,
        )
        if done.execution is not None:
            response.end_at = done.execution.end_at
            if done.execution.error:
                response.error = done.execution.error
            response.steps.extend(step_to_pb(s) for s in done.execution.steps)
        return response

    async def ListExecutions(
        self, request: avs_pb2.ListExecutionsReq, context: Ctx
    ) -> avs_pb2.ListExecutionsResp:
        page = PageRequest.from_wire(
            before=request.before, after=request.after, limit=request.limit
        )
        result = await self._s.executions.page(
            current_principal().address, list(request.task_ids), page
        )
        return avs_pb2.ListExecutionsResp(
            items=[execution_to_pb(e) for e in result.items], page_info=page_info_pb(result.page)
        )

    async def GetExecution(self, request: avs_pb2.ExecutionReq, context: Ctx) -> avs_pb2.Execution:
        execution = await self._s.executions.get(
            current_principal().address, request.task_id, request.execution_id, self._s.now_ms()
        )
        return execution_to_pb(execution)

    async def GetExecutionStatus(
        self, request: avs_pb2.ExecutionReq, context: Ctx
    ) -> avs_pb2.ExecutionStatusResp:
        status = await self._s.executions.status(
            current_principal().address, request.task_id, request.execution_id, self._s.now_ms()
        )
        return avs_pb2.ExecutionStatusResp(status=int(status))  # type: ignore[arg-type]

    async def GetExecutionCount(
        self, request: avs_pb2.GetExecutionCountReq, context: Ctx
    ) -> avs_pb2.GetExecutionCountResp:
        total = await self._s.executions.count(
            current_principal().address, list(request.workflow_ids)
        )
        return avs_pb2.GetExecutionCountResp(total=total)

    async def GetExecutionStats(
        self, request: avs_pb2.GetExecutionStatsReq, context: Ctx
    ) -> avs_pb2.GetExecutionStatsResp:
        stats = await self._s.executions.stats(
            current_principal().address,
            list(request.workflow_ids),
            request.days,
            self._s.now_ms(),
        )
        return avs_pb2.GetExecutionStatsResp(
            total=stats.total,
            succeeded=stats.succeeded,
            failed=stats.failed,
            avg_execution_time=stats.avg_execution_ms,
        )

    # --- simulation ----------------------------------------------------------------------------

    async def RunNodeWithInputs(
        self, request: avs_pb2.RunNodeWithInputsReq, context: Ctx
    ) -> avs_pb2.RunNodeWithInputsResp:
        if not request.HasField("node"):
            return avs_pb2.RunNodeWithInputsResp(
                success=False,
                error="node is required",
                error_code=ErrorCode.INVALID_REQUEST,  # type: ignore[arg-type]
            )
        node = convert.node_from_pb(request.node)
        variables = {
            key: convert.value_to_json(value, where=f"input_variables.{key}")
            for key, value in request.input_variables.items()
        }
        step = await self._s.simulator.run_node(current_principal().address, node, variables)
        response = avs_pb2.RunNodeWithInputsResp(
            success=step.success,
            error=step.error,
            error_code=step.error_code,  # type: ignore[arg-type]
        )
        if step.metadata is not None:
            response.metadata.CopyFrom(convert.json_to_value(step.metadata))
        if step.execution_context is not None:
            response.execution_context.CopyFrom(convert.json_to_value(step.execution_context))
        field = STEP_OUTPUT_FIELD[step.kind]
        getattr(response, field).data.CopyFrom(convert.json_to_value(step.output))
        return response

    async def RunTrigger(
        self, request: avs_pb2.RunTriggerReq, context: Ctx
    ) -> avs_pb2.RunTriggerResp:
        if not request.HasField("trigger"):
            return avs_pb2.RunTriggerResp(success=False, error="trigger is required")
        trigger = convert.trigger_from_pb(request.trigger)
        trigger_input = {
            key: convert.value_to_json(value, where=f"trigger_input.{key}")
            for key, value in request.trigger_input.items()
        }
        fired = await self._s.simulator.run_trigger(trigger, trigger_input)
        response = avs_pb2.RunTriggerResp(
            success=fired.success,
            error=fired.error,
            error_code=fired.error_code,  # type: ignore[arg-type]
        )
        if fired.metadata is not None:
            response.metadata.CopyFrom(convert.json_to_value(fired.metadata))
        response.execution_context.CopyFrom(
            convert.json_to_value({"isSimulated": True, "provider": "chain_rpc"})
        )
        field = STEP_OUTPUT_FIELD[trigger.kind.wire_name]
        getattr(response, field).data.CopyFrom(convert.json_to_value(fired.data))
        return response

    async def SimulateTask(
        self, request: avs_pb2.SimulateTaskReq, context: Ctx
    ) -> avs_pb2.Execution:
        if not request.HasField("trigger"):
            raise InvalidArgument("trigger is required for task simulation")
        if not request.nodes:
            raise InvalidArgument("at least one node is required for task simulation")
        draft = convert.workflow_from_create_req(
            avs_pb2.CreateTaskReq(
                trigger=request.trigger,
                nodes=request.nodes,
                edges=request.edges,
                input_variables=request.input_variables,
            )
        )
        execution = await self._s.simulator.simulate(current_principal().address, draft)
        return execution_to_pb(execution)
