// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.12;

/**
 * @notice Strings of at most 31 bytes packed into one word, so contracts can keep them in
 * immutables. Runtime code then carries its own metadata and can be copied to another address
 * (anvil_setCode) without copying storage.
 */
library ShortString {
    function pack(string memory s) internal pure returns (bytes32 packed) {
        bytes memory b = bytes(s);
        require(b.length <= 31, "ShortString: longer than 31 bytes");
        assembly {
            let len := mload(b)
            let mask := not(shr(mul(len, 8), not(0)))
            packed := or(and(mload(add(b, 32)), mask), len)
        }
    }

    function unpack(bytes32 packed) internal pure returns (string memory s) {
        uint256 len = uint256(packed) & 0xff;
        s = new string(32);
        assembly {
            mstore(s, len)
            mstore(add(s, 32), and(packed, not(0xff)))
        }
    }
}
