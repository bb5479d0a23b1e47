# pragma version 0.4.3
"""
@title RLC token
@license Apache-2.0
@notice The currency of nuage: an ERC-20 token with 9 decimals
        (1 RLC = 10**9 nRLC). The whole supply is minted once, to the
        deployer; nobody can mint afterwards, which bounds every amount
        the hub handles by the supply.
        `approveAndCall` approves a spender and notifies it in the same
        transaction, so a deposit into the hub is one transaction.
@custom:security `approve` has the classic ERC-20 race on allowance changes;
        use `increaseAllowance` / `decreaseAllowance` when changing a
        non-zero allowance.
"""

from interfaces import IApprovalReceiver
from ethereum.ercs import IERC20

implements: IERC20

NAME: constant(String[3]) = "RLC"
SYMBOL: constant(String[3]) = "RLC"
DECIMALS: constant(uint8) = 9


event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256


event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256


balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)


@deploy
def __init__(supply: uint256):
    """
    @notice Mints the whole, fixed supply to the deployer.
    @param supply Total supply in nRLC.
    """
    self.totalSupply = supply
    self.balanceOf[msg.sender] = supply
    log Transfer(sender=empty(address), receiver=msg.sender, value=supply)


@external
@pure
def name() -> String[3]:
    """
    @notice The token's name, "RLC".
    """
    return NAME


@external
@pure
def symbol() -> String[3]:
    """
    @notice The token's symbol, "RLC".
    """
    return SYMBOL


@external
@pure
def decimals() -> uint8:
    """
    @notice 9: amounts are counted in nRLC.
    """
    return DECIMALS


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Moves `amount` nRLC from the caller to `receiver`.
    @dev Anyone may call; only the caller's own balance moves.
    """
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Moves `amount` nRLC from `owner` to `receiver` using the caller's
            allowance from `owner`.
    @dev Only a caller with enough allowance from `owner`. An allowance of
         max(uint256) is never decreased (infinite approval).
    """
    allowed: uint256 = self.allowance[owner][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "RLC: insufficient allowance"
        self.allowance[owner][msg.sender] = unsafe_sub(allowed, amount)  # checked above
    self._transfer(owner, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Lets `spender` move up to `amount` nRLC of the caller's.
    """
    self._approve(msg.sender, spender, amount)
    return True


@external
def increaseAllowance(spender: address, added: uint256) -> bool:
    """
    @notice Raises the allowance of `spender` over the caller's tokens.
    """
    self._approve(msg.sender, spender, self.allowance[msg.sender][spender] + added)
    return True


@external
def decreaseAllowance(spender: address, subtracted: uint256) -> bool:
    """
    @notice Lowers the allowance of `spender` over the caller's tokens.
    """
    current: uint256 = self.allowance[msg.sender][spender]
    assert current >= subtracted, "RLC: allowance below zero"
    self._approve(msg.sender, spender, unsafe_sub(current, subtracted))  # checked above
    return True


@external
def approveAndCall(spender: address, amount: uint256, extra_data: Bytes[1024]) -> bool:
    """
    @notice Approves `spender` for `amount` and calls its
            `receiveApproval(caller, amount, token, extra_data)`, which must
            return true. Depositing into the hub this way is one transaction.
    """
    self._approve(msg.sender, spender, amount)
    accepted: bool = extcall IApprovalReceiver(spender).receiveApproval(
        msg.sender, amount, self, extra_data
    )
    assert accepted, "RLC: approval refused"
    return True


@internal
def _transfer(owner: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "RLC: transfer to zero address"
    balance: uint256 = self.balanceOf[owner]
    assert balance >= amount, "RLC: insufficient balance"
    self.balanceOf[owner] = unsafe_sub(balance, amount)  # checked above
    # cannot overflow: the sum of all balances is the fixed total supply
    self.balanceOf[receiver] = unsafe_add(self.balanceOf[receiver], amount)
    log Transfer(sender=owner, receiver=receiver, value=amount)


@internal
def _approve(owner: address, spender: address, amount: uint256):
    assert spender != empty(address), "RLC: approve to zero address"
    self.allowance[owner][spender] = amount
    log Approval(owner=owner, spender=spender, value=amount)
