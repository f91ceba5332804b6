"""EigenLayer, as this AVS uses it: contract interfaces, reading an operator's standing, and the
operator's transactions (register, deposit, allocate, join or leave our operator set).

Only ABI and bytecode are taken from the ``eigensdk`` package (as package data); its Python
modules are never imported.

Raises:
    ConfigError: the eigensdk package data is missing.
    ContractRefused: a contract refused an operator's transaction (reason decoded).
    Unavailable: the chain RPC is down.
"""

from ap_avs.eigenlayer._abi import (
    CORE_CONTRACTS,
    ContractAbi,
    DecodedLog,
    RevertDecoder,
    artifact_abi,
    core_abi,
)
from ap_avs.eigenlayer._model import (
    WAD,
    EigenLayerTarget,
    OperatorSetRef,
    OperatorStanding,
    Step,
    StrategyMinimum,
    StrategyStanding,
    admission_refusal,
    missing_steps,
    sorted_strategies,
)
from ap_avs.eigenlayer._reader import AdmissionFacts, EigenLayerReader
from ap_avs.eigenlayer._settings import target_of
from ap_avs.eigenlayer._writer import ContractRefused, OperatorTransactions, Sent

__all__ = [
    "CORE_CONTRACTS",
    "WAD",
    "AdmissionFacts",
    "ContractAbi",
    "ContractRefused",
    "DecodedLog",
    "EigenLayerReader",
    "EigenLayerTarget",
    "OperatorSetRef",
    "OperatorStanding",
    "OperatorTransactions",
    "RevertDecoder",
    "Sent",
    "Step",
    "StrategyMinimum",
    "StrategyStanding",
    "admission_refusal",
    "artifact_abi",
    "core_abi",
    "missing_steps",
    "sorted_strategies",
    "target_of",
]
