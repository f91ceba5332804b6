// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.12;

/**
 * @title DevPauserRegistry
 * @notice Local-chain stand-in for EigenLayer's pauser registry: one pauser and one unpauser,
 * fixed at construction. The core contracts only ask the two questions below.
 */
contract DevPauserRegistry {
    address public immutable pauser;
    address public immutable unpauser;

    constructor(address aPauser, address anUnpauser) {
        pauser = aPauser;
        unpauser = anUnpauser;
    }

    function isPauser(address account) external view returns (bool) {
        return account == pauser;
    }
}
