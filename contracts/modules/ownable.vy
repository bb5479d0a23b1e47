# pragma version 0.4.3
"""
@title Single owner
@license Apache-2.0
@notice The hub's owner may create categories; nothing else. Ownership can
        be handed over (or renounced to the zero address, which freezes
        the category list).
"""


event OwnershipTransferred:
    previous_owner: indexed(address)
    new_owner: indexed(address)


owner: public(address)


@deploy
def __init__():
    self.owner = msg.sender
    log OwnershipTransferred(previous_owner=empty(address), new_owner=msg.sender)


@external
def transferOwnership(new_owner: address):
    """
    @notice Hands the hub's ownership to `new_owner`.
    @dev Only the current owner.
    """
    self._check_owner()
    log OwnershipTransferred(previous_owner=self.owner, new_owner=new_owner)
    self.owner = new_owner


@internal
@view
def _check_owner():
    assert msg.sender == self.owner, "ownable: not the owner"
