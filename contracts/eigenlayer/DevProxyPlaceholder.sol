// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.12;

/**
 * @title DevProxyPlaceholder
 * @notice The first implementation of the EigenLayer proxies on a local chain: the proxies
 * must exist (their addresses go into the implementations' constructors) before the real
 * implementations can be deployed and the proxies upgraded to them. It does nothing.
 */
contract DevProxyPlaceholder {
    function placeholder() external pure returns (bool) {
        return true;
    }
}
