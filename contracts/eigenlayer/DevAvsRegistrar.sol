// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.12;

/**
 * @title DevAvsRegistrar
 * @notice The AVS registrar of our operator sets on a local chain: the allocation manager calls
 * it when an operator registers for or deregisters from the AVS's operator sets. It accepts
 * every registration for its one AVS and keeps a count of members per set, for inspection.
 */
contract DevAvsRegistrar {
    address public immutable allocationManager;
    address public immutable avs;
    mapping(uint32 => uint256) public memberCount;

    event OperatorRegistered(address indexed operator, uint32[] operatorSetIds);
    event OperatorDeregistered(address indexed operator, uint32[] operatorSetIds);

    error OnlyAllocationManager();
    error WrongAvs(address avs);

    constructor(address anAllocationManager, address anAvs) {
        allocationManager = anAllocationManager;
        avs = anAvs;
    }

    function supportsAVS(address candidate) external view returns (bool) {
        return candidate == avs;
    }

    function registerOperator(
        address operator,
        address forAvs,
        uint32[] calldata operatorSetIds,
        bytes calldata
    ) external {
        _check(forAvs);
        for (uint256 i = 0; i < operatorSetIds.length; i++) memberCount[operatorSetIds[i]] += 1;
        emit OperatorRegistered(operator, operatorSetIds);
    }

    function deregisterOperator(address operator, address forAvs, uint32[] calldata operatorSetIds)
        external
    {
        _check(forAvs);
        for (uint256 i = 0; i < operatorSetIds.length; i++) memberCount[operatorSetIds[i]] -= 1;
        emit OperatorDeregistered(operator, operatorSetIds);
    }

    function _check(address forAvs) private view {
        if (msg.sender != allocationManager) revert OnlyAllocationManager();
        if (forAvs != avs) revert WrongAvs(forAvs);
    }
}
