# pragma version 0.4.3
"""
@title Workerpool registry
@license Apache-2.0
@notice Workerpools are ERC-721 tokens; whoever holds the token runs the
        pool's scheduler, sells its capacity and signs its workers'
        authorizations. The record holds a description and the pool's
        policy: the share of the pool price each worker stakes per
        contribution, and the share of the worker reward the scheduler keeps.
        A pool's address is its token id, derived from its owner and
        description (`predictWorkerpool`).
"""

from interfaces import IWorkerpoolRegistry
from modules import erc721
from modules import record_store

implements: IWorkerpoolRegistry
initializes: erc721
initializes: record_store
exports: erc721.__interface__

MAX_DESCRIPTION: constant(uint256) = 128
HEADER: constant(uint256) = 3  # worker stake ratio, scheduler reward ratio, len(description)
MAX_PACKED: constant(uint256) = HEADER + MAX_DESCRIPTION
DEFAULT_WORKER_STAKE_RATIO: constant(uint256) = 30
DEFAULT_SCHEDULER_REWARD_RATIO: constant(uint256) = 1


event PolicyUpdated:
    workerpool: indexed(address)
    old_worker_stake_ratio: uint256
    new_worker_stake_ratio: uint256
    old_scheduler_reward_ratio: uint256
    new_scheduler_reward_ratio: uint256


# view-side bound is the packed record's: the ABI type is plain string
struct Workerpool:
    owner: address
    description: String[record_store.MAX_RECORD]
    worker_stake_ratio: uint256
    scheduler_reward_ratio: uint256


@deploy
def __init__():
    pass


@external
@pure
def name() -> String[32]:
    """
    @notice ERC-721 metadata name.
    """
    return "nuage workerpools"


@external
@pure
def symbol() -> String[8]:
    """
    @notice ERC-721 metadata symbol.
    """
    return "NPOOL"


@external
def createWorkerpool(owner: address, description: String[MAX_DESCRIPTION]) -> address:
    """
    @notice Registers a workerpool owned by `owner` with the default policy
            (workers stake 30% of the pool price, the scheduler keeps 1% of
            the worker reward) and returns its address.
    @dev Anyone may call: the new pool belongs to `owner`, not to the caller.
    """
    assert len(description) > 0, "registry: empty description"
    asset: address = self._asset_id(owner, description)
    id: uint256 = convert(asset, uint256)
    assert erc721._owners[id] == empty(address), "registry: workerpool exists"
    erc721._mint(owner, id)
    record_store._write(
        id,
        concat(
            convert(convert(DEFAULT_WORKER_STAKE_RATIO, uint8), bytes1),
            convert(convert(DEFAULT_SCHEDULER_REWARD_RATIO, uint8), bytes1),
            convert(convert(len(description), uint8), bytes1),
            convert(description, Bytes[MAX_DESCRIPTION]),
        ),
    )
    return asset


@external
def setPolicy(workerpool: address, worker_stake_ratio: uint256, scheduler_reward_ratio: uint256):
    """
    @notice Changes the pool's policy for deals made from now on (a deal
            keeps the policy it was made under).
    @dev Only the pool's owner.
    @param worker_stake_ratio Percent of the pool price a worker stakes per
           contribution, 0..100.
    @param scheduler_reward_ratio Percent of the worker reward the scheduler
           keeps, 0..100.
    """
    id: uint256 = convert(workerpool, uint256)
    owner: address = erc721._owners[id]
    assert owner != empty(address), "registry: unknown workerpool"
    assert msg.sender == owner, "registry: not the owner"
    assert worker_stake_ratio <= 100, "registry: stake ratio above 100"
    assert scheduler_reward_ratio <= 100, "registry: reward ratio above 100"
    header: uint256 = record_store._header(id)
    record_store._set_header_byte(id, 0, worker_stake_ratio)
    record_store._set_header_byte(id, 1, scheduler_reward_ratio)
    log PolicyUpdated(
        workerpool=workerpool,
        old_worker_stake_ratio=header >> 248,
        new_worker_stake_ratio=worker_stake_ratio,
        old_scheduler_reward_ratio=(header >> 240) & 255,
        new_scheduler_reward_ratio=scheduler_reward_ratio,
    )


@external
@view
def predictWorkerpool(owner: address, description: String[MAX_DESCRIPTION]) -> address:
    """
    @notice The address `createWorkerpool` gives for these arguments.
    """
    return self._asset_id(owner, description)


@external
@view
def workerpool(asset: address) -> Workerpool:
    """
    @notice The record of workerpool `asset`; reverts when it does not exist.
    """
    id: uint256 = convert(asset, uint256)
    owner: address = erc721._owners[id]
    assert owner != empty(address), "registry: unknown workerpool"
    header: uint256 = record_store._header(id)
    record: Bytes[record_store.MAX_RECORD] = record_store._read(id)
    return Workerpool(
        owner=owner,
        description=convert(
            slice(record, HEADER, (header >> 232) & 255), String[record_store.MAX_RECORD]
        ),
        worker_stake_ratio=header >> 248,
        scheduler_reward_ratio=(header >> 240) & 255,
    )


@external
@view
def workerpoolPolicy(workerpool: address) -> (address, uint256, uint256):
    """
    @notice (owner, worker stake ratio %, scheduler reward ratio %) in one
            call, for the hub; the owner is zero when the pool does not exist.
    """
    id: uint256 = convert(workerpool, uint256)
    header: uint256 = record_store._header(id)
    return erc721._owners[id], header >> 248, (header >> 240) & 255


@external
@view
def assetOwner(asset: address) -> address:
    """
    @notice The owner of `asset`, or the zero address when it is not registered.
    """
    return erc721._owners[convert(asset, uint256)]


@internal
@view
def _asset_id(owner: address, description: String[MAX_DESCRIPTION]) -> address:
    digest: bytes32 = keccak256(abi_encode(self, owner, description))
    return convert(convert(digest, uint256) & convert(max_value(uint160), uint256), address)
