# pragma version 0.4.3
"""
@title A deal, as the market makes it and the hub settles it
@license Apache-2.0
@notice The hub stores one word per deal: the keccak256 of this struct's ABI
        encoding. The whole record is in the market's `DealCreated` event;
        every hub function that needs a deal takes it as an argument and
        checks it against that word. A full record in storage would cost
        about 150,000 gas per deal; the commitment costs 22,100.
        `params` (the app's arguments) are in the event; the deal keeps their
        hash.
"""


struct Deal:
    app: address
    app_owner: address
    app_price: uint256
    dataset: address
    dataset_owner: address
    dataset_price: uint256
    workerpool: address
    workerpool_owner: address
    workerpool_price: uint256
    trust: uint256
    category: uint256
    time_ref: uint256
    tag: bytes32
    requester: address
    beneficiary: address
    callback: address
    params_hash: bytes32
    start_time: uint256
    bot_first: uint256
    bot_size: uint256
    worker_stake: uint256
    scheduler_reward_ratio: uint256


@internal
@pure
def _commitment(deal: Deal) -> bytes32:
    return keccak256(abi_encode(deal))
