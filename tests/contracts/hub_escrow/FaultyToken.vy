# pragma version 0.4.3
"""
@title Faulty token
@license Apache-2.0
@notice Test-only ERC-20 stand-in whose transfers can be switched to return
        false instead of reverting (as some tokens do), and which can call
        `receiveApproval` with any arguments. RLC never does either, so the
        escrow's own checks on the token are unreachable with it.
"""

from interfaces import IApprovalReceiver

balanceOf: public(HashMap[address, uint256])
failing: public(bool)


@deploy
def __init__(supply: uint256):
    self.balanceOf[msg.sender] = supply


@external
def set_failing(failing: bool):
    self.failing = failing


@external
def transfer(receiver: address, amount: uint256) -> bool:
    if self.failing:
        return False
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[receiver] += amount
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    # no allowances are kept: any caller may move anyone's tokens
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    if self.failing:
        return False
    self.balanceOf[owner] -= amount
    self.balanceOf[receiver] += amount
    return True


@external
def call_receive_approval(
    spender: address, sender: address, amount: uint256, token: address
) -> bool:
    return extcall IApprovalReceiver(spender).receiveApproval(sender, amount, token, b"")
