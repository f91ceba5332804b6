"""From the ``eigenlayer`` config section to the values the EigenLayer code works with."""

from __future__ import annotations

from eth_utils.address import to_checksum_address

from ap_avs.config import EigenLayerConfig
from ap_avs.eigenlayer._model import EigenLayerTarget, OperatorSetRef, StrategyMinimum


def target_of(section: EigenLayerConfig) -> EigenLayerTarget:
    """The contracts, operator set and minimums a config section names (checksummed)."""
    return EigenLayerTarget(
        delegation_manager=to_checksum_address(section.delegation_manager),
        strategy_manager=to_checksum_address(section.strategy_manager),
        allocation_manager=to_checksum_address(section.allocation_manager),
        operator_set=OperatorSetRef(to_checksum_address(section.avs), section.operator_set_id),
        strategies=tuple(
            StrategyMinimum(to_checksum_address(s.address), s.minimum_stake)
            for s in section.strategies
        ),
    )
