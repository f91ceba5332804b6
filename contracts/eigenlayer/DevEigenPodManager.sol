// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.12;

/**
 * @title DevEigenPodManager
 * @notice Local-chain stand-in for EigenLayer's EigenPod manager: nobody has native (beacon
 * chain) ETH restaked here, so every staker holds zero shares. Any other call reverts with a
 * message naming this stand-in, so a core path that needs more is noticed at once.
 */
contract DevEigenPodManager {
    uint64 private constant WAD = 1e18;

    function stakerDepositShares(address, address) external pure returns (uint256) {
        return 0;
    }

    function podOwnerDepositShares(address) external pure returns (int256) {
        return 0;
    }

    function beaconChainSlashingFactor(address) external pure returns (uint64) {
        return WAD;
    }

    fallback() external {
        revert("DevEigenPodManager: native restaking is not available on this chain");
    }
}
