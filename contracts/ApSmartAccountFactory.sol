// SPDX-License-Identifier: GPL-3.0
// GPL-3.0 because it builds on the eth-infinitism v0.6 account sources it imports.
pragma solidity ^0.8.12;

import "@openzeppelin/contracts/utils/Create2.sol";
import "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

import "./ApSmartAccount.sol";

/**
 * @title ApSmartAccountFactory
 * @notice Deploys ApSmartAccount proxies with CREATE2. Every account shares one implementation,
 * whose controller is fixed here at construction. `createAccount` returns the existing account
 * when it is already deployed, so `initCode` stays valid for counterfactual addresses.
 */
contract ApSmartAccountFactory {
    ApSmartAccount public immutable accountImplementation;
    address public immutable controller;

    constructor(IEntryPoint anEntryPoint, address aController) {
        controller = aController;
        accountImplementation = new ApSmartAccount(anEntryPoint, aController);
    }

    function createAccount(address owner, uint256 salt) public returns (ApSmartAccount ret) {
        address addr = getAddress(owner, salt);
        if (addr.code.length > 0) {
            return ApSmartAccount(payable(addr));
        }
        ret = ApSmartAccount(
            payable(new ERC1967Proxy{salt: bytes32(salt)}(address(accountImplementation), _initCall(owner)))
        );
    }

    function getAddress(address owner, uint256 salt) public view returns (address) {
        bytes memory initCode = abi.encodePacked(
            type(ERC1967Proxy).creationCode,
            abi.encode(address(accountImplementation), _initCall(owner))
        );
        return Create2.computeAddress(bytes32(salt), keccak256(initCode));
    }

    function _initCall(address owner) private pure returns (bytes memory) {
        return abi.encodeCall(ApSmartAccount.initialize, (owner));
    }
}
