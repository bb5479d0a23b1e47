# pragma version 0.4.3
"""
@title Minimal ERC-721 core for the asset registries
@license Apache-2.0
@notice Ownership, approvals and (safe) transfers of EIP-721, without
        enumeration: enumeration would cost four extra storage writes per
        mint and the registries' clients read `Transfer` logs instead.
        Token ids are asset addresses (`uint256(uint160(asset))`).
"""

from ethereum.ercs import IERC165
from interfaces import IERC721Receiver

ERC165_ID: constant(bytes4) = 0x01ffc9a7
ERC721_ID: constant(bytes4) = 0x80ac58cd


event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    token_id: indexed(uint256)


event Approval:
    owner: indexed(address)
    approved: indexed(address)
    token_id: indexed(uint256)


event ApprovalForAll:
    owner: indexed(address)
    operator: indexed(address)
    approved: bool


_owners: HashMap[uint256, address]
_balances: HashMap[address, uint256]
_approvals: HashMap[uint256, address]
_operators: HashMap[address, HashMap[address, bool]]


@external
@view
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice ERC-165: ERC-165 itself and ERC-721. Registries have a name and a
            symbol but no `tokenURI` (records are read with `app`, `dataset`,
            `workerpool`), so they do not claim ERC-721 metadata.
    """
    return interface_id in [ERC165_ID, ERC721_ID]


@external
@view
def ownerOf(token_id: uint256) -> address:
    """
    @notice The owner of asset `token_id`; reverts when it does not exist.
    """
    owner: address = self._owners[token_id]
    assert owner != empty(address), "registry: unknown asset"
    return owner


@external
@view
def balanceOf(owner: address) -> uint256:
    """
    @notice How many assets `owner` holds in this registry.
    """
    assert owner != empty(address), "registry: zero address has no balance"
    return self._balances[owner]


@external
@view
def getApproved(token_id: uint256) -> address:
    """
    @notice The address approved to transfer `token_id`, or zero.
    """
    assert self._owners[token_id] != empty(address), "registry: unknown asset"
    return self._approvals[token_id]


@external
@view
def isApprovedForAll(owner: address, operator: address) -> bool:
    """
    @notice Whether `operator` may transfer every asset of `owner`.
    """
    return self._operators[owner][operator]


@external
def approve(approved: address, token_id: uint256):
    """
    @notice Lets `approved` transfer `token_id` (zero clears the approval).
    @dev Only the asset's owner or one of the owner's operators.
    """
    owner: address = self._owners[token_id]
    assert owner != empty(address), "registry: unknown asset"
    assert approved != owner, "registry: approval to current owner"
    assert msg.sender == owner or self._operators[owner][msg.sender], "registry: not the owner"
    self._approvals[token_id] = approved
    log Approval(owner=owner, approved=approved, token_id=token_id)


@external
def setApprovalForAll(operator: address, approved: bool):
    """
    @notice Lets `operator` transfer every asset of the caller, or revokes it.
    """
    assert operator != msg.sender, "registry: approval to caller"
    self._operators[msg.sender][operator] = approved
    log ApprovalForAll(owner=msg.sender, operator=operator, approved=approved)


@external
def transferFrom(owner: address, receiver: address, token_id: uint256):
    """
    @notice Moves asset `token_id` from `owner` to `receiver`. The asset's
            open orders signed by `owner` stop matching: the hub checks
            signatures against the current owner.
    @dev Only the owner, the approved address of the token, or an operator.
    """
    self._transfer(owner, receiver, token_id)


@external
def safeTransferFrom(owner: address, receiver: address, token_id: uint256, data: Bytes[1024] = b""):
    """
    @notice `transferFrom`, then, when `receiver` is a contract, requires it
            to accept the asset through `onERC721Received`.
    """
    self._transfer(owner, receiver, token_id)
    if receiver.is_contract:
        answer: bytes4 = extcall IERC721Receiver(receiver).onERC721Received(
            msg.sender, owner, token_id, data
        )
        assert answer == method_id(
            "onERC721Received(address,address,uint256,bytes)", output_type=bytes4
        ), "registry: receiver refused the asset"


@internal
def _transfer(owner: address, receiver: address, token_id: uint256):
    assert self._owners[token_id] == owner, "registry: not the owner"
    assert receiver != empty(address), "registry: transfer to zero address"
    assert (
        msg.sender == owner
        or self._approvals[token_id] == msg.sender
        or self._operators[owner][msg.sender]
    ), "registry: caller may not transfer"
    self._approvals[token_id] = empty(address)
    # an owner holds at least this token; a receiver cannot hold 2**256 of them
    self._balances[owner] = unsafe_sub(self._balances[owner], 1)
    self._balances[receiver] = unsafe_add(self._balances[receiver], 1)
    self._owners[token_id] = receiver
    log Transfer(sender=owner, receiver=receiver, token_id=token_id)


@internal
def _mint(owner: address, token_id: uint256):
    assert owner != empty(address), "registry: owner is zero address"
    self._owners[token_id] = owner
    self._balances[owner] = unsafe_add(self._balances[owner], 1)  # at most one per id
    log Transfer(sender=empty(address), receiver=owner, token_id=token_id)
