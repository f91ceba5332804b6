// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.12;

import "./ShortString.sol";

/**
 * @title TestPriceFeed
 * @notice A Chainlink-style aggregator for tests: anyone may set the answer, which starts a new
 * round stamped with the block time. Decimals and description are immutables, so the runtime
 * code alone (e.g. placed with anvil_setCode) reads right.
 */
contract TestPriceFeed {
    uint8 public immutable decimals;
    bytes32 private immutable _description;
    uint256 public constant version = 4;

    uint80 private _roundId;
    int256 private _answer;
    uint256 private _updatedAt;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    constructor(uint8 aDecimals, string memory aDescription, int256 initialAnswer) {
        decimals = aDecimals;
        _description = ShortString.pack(aDescription);
        _setAnswer(initialAnswer);
    }

    function description() external view returns (string memory) {
        return ShortString.unpack(_description);
    }

    /// Test only: anyone may set the price.
    function setAnswer(int256 answer) external {
        _setAnswer(answer);
    }

    function latestAnswer() external view returns (int256) {
        return _answer;
    }

    function latestRound() external view returns (uint256) {
        return _roundId;
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return (_roundId, _answer, _updatedAt, _updatedAt, _roundId);
    }

    function _setAnswer(int256 answer) private {
        _roundId += 1;
        _answer = answer;
        _updatedAt = block.timestamp;
        emit AnswerUpdated(answer, _roundId, block.timestamp);
    }
}
