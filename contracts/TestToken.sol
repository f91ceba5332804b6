// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.12;

import "./ShortString.sol";

/**
 * @title TestToken
 * @notice A plain ERC-20 for tests: anyone may mint. Name, symbol and decimals are immutables,
 * so the runtime code alone (e.g. placed with anvil_setCode) reads right.
 */
contract TestToken {
    bytes32 private immutable _name;
    bytes32 private immutable _symbol;
    uint8 public immutable decimals;

    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(string memory aName, string memory aSymbol, uint8 aDecimals) {
        _name = ShortString.pack(aName);
        _symbol = ShortString.pack(aSymbol);
        decimals = aDecimals;
    }

    function name() external view returns (string memory) {
        return ShortString.unpack(_name);
    }

    function symbol() external view returns (string memory) {
        return ShortString.unpack(_symbol);
    }

    /// Test only: anyone may mint to anyone.
    function mint(address to, uint256 amount) external {
        require(to != address(0), "TestToken: mint to zero address");
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _transfer(msg.sender, to, amount);
        return true;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= amount, "TestToken: insufficient allowance");
            allowance[from][msg.sender] = allowed - amount;
        }
        _transfer(from, to, amount);
        return true;
    }

    function _transfer(address from, address to, uint256 amount) private {
        require(to != address(0), "TestToken: transfer to zero address");
        uint256 balance = balanceOf[from];
        require(balance >= amount, "TestToken: transfer amount exceeds balance");
        unchecked {
            balanceOf[from] = balance - amount;
        }
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }
}
