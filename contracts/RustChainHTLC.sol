// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title RustChainHTLC: the quote leg of an otc-ledger trade, as a hash-time-locked swap.
/// @notice The buyer (who gives ETH or an ERC-20) locks first here, naming the seller and a hashlock
/// that is sha256 of the seller's 32-byte preimage (the order's `htlc_hash`). The seller claims before
/// the timelock by revealing the preimage, which the ledger then reads from the SwapClaimed event; the
/// buyer takes the funds back at or after the timelock. The interface is that of the RustChain bridge's
/// contract, so a deployment of either works with the ledger.
contract RustChainHTLC {
    /// @notice The shortest and longest timelock accepted, measured from the creating block's time.
    uint256 public constant MIN_TIMELOCK = 1 hours;
    uint256 public constant MAX_TIMELOCK = 7 days;

    struct Swap {
        address buyer;
        address seller;
        /// address(0) for ETH.
        address token;
        uint256 amount;
        bytes32 hashlock;
        uint256 timelock;
        bool claimed;
        bool refunded;
        string rtcOrderId;
    }

    mapping(bytes32 => Swap) private swaps;
    mapping(bytes32 => bytes32) private preimages;
    /// Makes every swap id distinct, even for two identical creates in one block.
    uint256 private nonce;

    event SwapCreated(
        bytes32 indexed swapId,
        address indexed buyer,
        address indexed seller,
        address token,
        uint256 amount,
        bytes32 hashlock,
        uint256 timelock,
        string rtcOrderId
    );
    event SwapClaimed(bytes32 indexed swapId, bytes32 preimage);
    event SwapRefunded(bytes32 indexed swapId);

    error ZeroAmount();
    error ZeroSeller();
    error ZeroToken();
    error TimelockOutOfRange();
    error SwapNotFound();
    error AlreadyClaimed();
    error AlreadyRefunded();
    error NotSeller();
    error NotBuyer();
    error Expired();
    error NotExpired();
    error InvalidPreimage();
    error TransferFailed();

    function createSwapETH(address seller, bytes32 hashlock, uint256 timelock, string calldata rtcOrderId)
        external
        payable
        returns (bytes32 swapId)
    {
        if (msg.value == 0) revert ZeroAmount();
        swapId = _create(seller, address(0), msg.value, hashlock, timelock, rtcOrderId);
    }

    function createSwapERC20(
        address seller,
        address token,
        uint256 amount,
        bytes32 hashlock,
        uint256 timelock,
        string calldata rtcOrderId
    ) external returns (bytes32 swapId) {
        if (token == address(0)) revert ZeroToken();
        if (amount == 0) revert ZeroAmount();
        swapId = _create(seller, token, amount, hashlock, timelock, rtcOrderId);
        // Effects are recorded before the token is called. The recorded amount is what the buyer
        // asked to move; a token that delivers less shows a smaller Transfer, which the ledger checks.
        _call(token, abi.encodeWithSelector(0x23b872dd, msg.sender, address(this), amount));
    }

    /// @notice Only the seller, strictly before the timelock, with the preimage whose sha256 is the hashlock.
    function claim(bytes32 swapId, bytes32 preimage) external {
        Swap storage swap = _live(swapId);
        if (msg.sender != swap.seller) revert NotSeller();
        if (block.timestamp >= swap.timelock) revert Expired();
        if (sha256(abi.encodePacked(preimage)) != swap.hashlock) revert InvalidPreimage();
        swap.claimed = true;
        preimages[swapId] = preimage;
        emit SwapClaimed(swapId, preimage);
        _pay(swap.token, swap.seller, swap.amount);
    }

    /// @notice Only the buyer, at or after the timelock.
    function refund(bytes32 swapId) external {
        Swap storage swap = _live(swapId);
        if (msg.sender != swap.buyer) revert NotBuyer();
        if (block.timestamp < swap.timelock) revert NotExpired();
        swap.refunded = true;
        emit SwapRefunded(swapId);
        _pay(swap.token, swap.buyer, swap.amount);
    }

    /// @notice All zero for an unknown swap id.
    function getSwap(bytes32 swapId)
        external
        view
        returns (
            address buyer,
            address seller,
            address token,
            uint256 amount,
            bytes32 hashlock,
            uint256 timelock,
            bool claimed,
            bool refunded,
            string memory rtcOrderId
        )
    {
        Swap storage s = swaps[swapId];
        return (s.buyer, s.seller, s.token, s.amount, s.hashlock, s.timelock, s.claimed, s.refunded, s.rtcOrderId);
    }

    /// @notice Zero until the swap is claimed.
    function getPreimage(bytes32 swapId) external view returns (bytes32) {
        return preimages[swapId];
    }

    function _create(
        address seller,
        address token,
        uint256 amount,
        bytes32 hashlock,
        uint256 timelock,
        string calldata rtcOrderId
    ) private returns (bytes32 swapId) {
        if (seller == address(0)) revert ZeroSeller();
        if (timelock < block.timestamp + MIN_TIMELOCK || timelock > block.timestamp + MAX_TIMELOCK) {
            revert TimelockOutOfRange();
        }
        nonce += 1;
        swapId = keccak256(abi.encode(block.chainid, address(this), nonce, msg.sender, seller, token, amount, hashlock, timelock, rtcOrderId));
        swaps[swapId] = Swap(msg.sender, seller, token, amount, hashlock, timelock, false, false, rtcOrderId);
        emit SwapCreated(swapId, msg.sender, seller, token, amount, hashlock, timelock, rtcOrderId);
    }

    function _live(bytes32 swapId) private view returns (Swap storage swap) {
        swap = swaps[swapId];
        if (swap.buyer == address(0)) revert SwapNotFound();
        if (swap.claimed) revert AlreadyClaimed();
        if (swap.refunded) revert AlreadyRefunded();
    }

    function _pay(address token, address to, uint256 amount) private {
        if (token == address(0)) {
            (bool sent,) = to.call{value: amount}("");
            if (!sent) revert TransferFailed();
        } else {
            // transfer(address,uint256)
            _call(token, abi.encodeWithSelector(0xa9059cbb, to, amount));
        }
    }

    /// A token call that accepts tokens returning nothing (older ERC-20s) as well as `true`.
    function _call(address token, bytes memory data) private {
        (bool ok, bytes memory result) = token.call(data);
        if (!ok || (result.length != 0 && !abi.decode(result, (bool))) || token.code.length == 0) {
            revert TransferFailed();
        }
    }
}
