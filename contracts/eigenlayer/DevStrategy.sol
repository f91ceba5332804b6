// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.12;

interface IDevERC20 {
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

interface IDevStrategyManager {
    function stakerDepositShares(address staker, address strategy) external view returns (uint256);
}

/**
 * @title DevStrategy
 * @notice Local-chain stand-in for an EigenLayer strategy over one ERC-20: one share per token
 * unit, always. Only the strategy manager moves tokens in (deposit) and out (withdraw); the
 * manager sends the tokens before it calls deposit.
 */
contract DevStrategy {
    address public immutable strategyManager;
    address public immutable underlyingToken;
    uint256 public totalShares;

    event ExchangeRateEmitted(uint256 rate);
    event StrategyTokenSet(address token, uint8 decimals);

    error OnlyStrategyManager();
    error OnlyUnderlyingToken();
    error NewSharesZero();
    error WithdrawalAmountExceedsTotalDeposits();

    constructor(address aStrategyManager, address aToken) {
        strategyManager = aStrategyManager;
        underlyingToken = aToken;
    }

    modifier onlyStrategyManager() {
        if (msg.sender != strategyManager) revert OnlyStrategyManager();
        _;
    }

    function deposit(address token, uint256 amount) external onlyStrategyManager returns (uint256) {
        if (token != underlyingToken) revert OnlyUnderlyingToken();
        if (amount == 0) revert NewSharesZero();
        totalShares += amount;
        emit ExchangeRateEmitted(1e18);
        return amount;
    }

    function withdraw(address recipient, address token, uint256 amountShares)
        external
        onlyStrategyManager
    {
        if (token != underlyingToken) revert OnlyUnderlyingToken();
        if (amountShares > totalShares) revert WithdrawalAmountExceedsTotalDeposits();
        totalShares -= amountShares;
        require(IDevERC20(token).transfer(recipient, amountShares), "DevStrategy: transfer failed");
    }

    function sharesToUnderlyingView(uint256 amountShares) public pure returns (uint256) {
        return amountShares;
    }

    function sharesToUnderlying(uint256 amountShares) external pure returns (uint256) {
        return amountShares;
    }

    function underlyingToSharesView(uint256 amountUnderlying) public pure returns (uint256) {
        return amountUnderlying;
    }

    function underlyingToShares(uint256 amountUnderlying) external pure returns (uint256) {
        return amountUnderlying;
    }

    function shares(address user) public view returns (uint256) {
        return IDevStrategyManager(strategyManager).stakerDepositShares(user, address(this));
    }

    function userUnderlyingView(address user) external view returns (uint256) {
        return shares(user);
    }

    function userUnderlying(address user) external view returns (uint256) {
        return shares(user);
    }

    function explanation() external pure returns (string memory) {
        return "Local-chain strategy: one share per unit of the underlying token";
    }

    function version() external pure returns (string memory) {
        return "dev";
    }
}
