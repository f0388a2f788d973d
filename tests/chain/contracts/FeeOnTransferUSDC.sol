// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title FeeOnTransferUSDC: a test-only 6-decimal token that keeps 1% of every transfer.
/// @notice It lets a lock record `amount` while the HTLC receives less, which the ledger must catch by
/// the lock transaction's Transfer (transfer_short). Never deployed outside the tests.
contract FeeOnTransferUSDC {
    string public constant name = "Fee-on-transfer USDC (tests)";
    string public constant symbol = "feeUSDC";
    uint8 public constant decimals = 6;
    address public constant FEE_COLLECTOR = address(0xdEaD);

    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    function mint(address to, uint256 value) external {
        totalSupply += value;
        balanceOf[to] += value;
        emit Transfer(address(0), to, value);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        require(allowance[from][msg.sender] >= value, "allowance");
        allowance[from][msg.sender] -= value;
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) private {
        require(balanceOf[from] >= value, "balance");
        uint256 fee = value / 100;
        balanceOf[from] -= value;
        balanceOf[to] += value - fee;
        balanceOf[FEE_COLLECTOR] += fee;
        emit Transfer(from, to, value - fee);
        emit Transfer(from, FEE_COLLECTOR, fee);
    }
}
