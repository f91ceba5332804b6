// SPDX-License-Identifier: GPL-3.0
// GPL-3.0 because it builds on the eth-infinitism v0.6 account sources it imports.
pragma solidity ^0.8.12;

import "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";

import "@account-abstraction/contracts/core/BaseAccount.sol";
import "@account-abstraction/contracts/samples/callback/TokenCallbackHandler.sol";

/**
 * @title ApSmartAccount
 * @notice ERC-4337 (EntryPoint v0.6) smart wallet with two signers: the owner set at
 * initialisation and a controller fixed in the implementation (the automation service's key).
 * A UserOperation is valid when its signature is an EIP-191 signature of the userOpHash by
 * either of them. `execute*` may be called by the EntryPoint, the owner or the controller.
 * Upgrades stay with the owner (directly, or through the account itself).
 */
contract ApSmartAccount is BaseAccount, TokenCallbackHandler, UUPSUpgradeable, Initializable {
    address public owner;

    IEntryPoint private immutable _entryPoint;
    address public immutable controller;

    event ApSmartAccountInitialized(IEntryPoint indexed entryPoint, address indexed owner, address controller);

    constructor(IEntryPoint anEntryPoint, address aController) {
        _entryPoint = anEntryPoint;
        controller = aController;
        _disableInitializers();
    }

    receive() external payable {}

    function initialize(address anOwner) public virtual initializer {
        owner = anOwner;
        emit ApSmartAccountInitialized(_entryPoint, anOwner, controller);
    }

    /// @inheritdoc BaseAccount
    function entryPoint() public view virtual override returns (IEntryPoint) {
        return _entryPoint;
    }

    /// Run one call from this account.
    function execute(address dest, uint256 value, bytes calldata func) external {
        _requireFromEntryPointOwnerOrController();
        _call(dest, value, func);
    }

    /// Run several calls without value, in order; any failure reverts all.
    function executeBatch(address[] calldata dest, bytes[] calldata func) external {
        _requireFromEntryPointOwnerOrController();
        require(dest.length == func.length, "ApSmartAccount: wrong array lengths");
        for (uint256 i = 0; i < dest.length; i++) {
            _call(dest[i], 0, func[i]);
        }
    }

    /// Run several calls with values, in order; any failure reverts all.
    function executeBatchWithValues(
        address[] calldata dest,
        uint256[] calldata value,
        bytes[] calldata func
    ) external {
        _requireFromEntryPointOwnerOrController();
        require(
            dest.length == func.length && dest.length == value.length,
            "ApSmartAccount: wrong array lengths"
        );
        for (uint256 i = 0; i < dest.length; i++) {
            _call(dest[i], value[i], func[i]);
        }
    }

    /// This account's deposit at the EntryPoint.
    function getDeposit() public view returns (uint256) {
        return _entryPoint.balanceOf(address(this));
    }

    /// Add to this account's deposit at the EntryPoint.
    function addDeposit() public payable {
        _entryPoint.depositTo{value: msg.value}(address(this));
    }

    /// Withdraw from this account's deposit (owner, or the account itself).
    function withdrawDepositTo(address payable withdrawAddress, uint256 amount) public {
        _requireOwnerOrSelf();
        _entryPoint.withdrawTo(withdrawAddress, amount);
    }

    function _requireFromEntryPointOwnerOrController() internal view {
        require(
            msg.sender == address(_entryPoint) || msg.sender == owner || msg.sender == controller,
            "ApSmartAccount: not EntryPoint, owner or controller"
        );
    }

    function _requireOwnerOrSelf() internal view {
        require(msg.sender == owner || msg.sender == address(this), "ApSmartAccount: only owner");
    }

    /// Valid when the owner or the controller signed the EIP-191 message of the userOpHash.
    /// A malformed signature is a validation failure, not a revert, so gas estimation with a
    /// dummy signature works.
    function _validateSignature(UserOperation calldata userOp, bytes32 userOpHash)
        internal
        virtual
        override
        returns (uint256 validationData)
    {
        bytes32 digest = ECDSA.toEthSignedMessageHash(userOpHash);
        (address signer, ECDSA.RecoverError err) = ECDSA.tryRecover(digest, userOp.signature);
        if (err != ECDSA.RecoverError.NoError) {
            return SIG_VALIDATION_FAILED;
        }
        if (signer != owner && signer != controller) {
            return SIG_VALIDATION_FAILED;
        }
        return 0;
    }

    function _call(address target, uint256 value, bytes memory data) internal {
        (bool success, bytes memory result) = target.call{value: value}(data);
        if (!success) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
    }

    function _authorizeUpgrade(address newImplementation) internal view override {
        (newImplementation);
        _requireOwnerOrSelf();
    }
}
