# pragma version 0.4.3
"""
@title secp256k1 signature recovery
@license Apache-2.0
@notice Recovers the signer of a digest from a 65-byte signature (r, s, v
        with v as 27/28 or 0/1) or a 64-byte EIP-2098 one (r, vs). Anything
        else, and any signature with a high `s` (EIP-2), recovers to the zero
        address, so each message has one valid signature per signer.
"""

SIGNATURE_SIZE: constant(uint256) = 65
# secp256k1 order / 2 (EIP-2 upper bound on s)
HALF_CURVE_ORDER: constant(uint256) = (
    57896044618658097711785492504343953926418782139537452191302581570759080747168
)


@internal
@pure
def _recover(digest: bytes32, sign: Bytes[SIGNATURE_SIZE]) -> address:
    r: bytes32 = empty(bytes32)
    s: uint256 = 0
    v: uint256 = 0
    if len(sign) == 65:
        r = extract32(sign, 0)
        s = convert(extract32(sign, 32), uint256)
        v = convert(slice(sign, 64, 1), uint256)
    elif len(sign) == 64:
        # EIP-2098: the top bit of the second word is v - 27
        r = extract32(sign, 0)
        vs: uint256 = convert(extract32(sign, 32), uint256)
        s = vs & (max_value(uint256) >> 1)
        v = 27 + (vs >> 255)
    else:
        return empty(address)
    if v < 27:
        v += 27  # some signers encode v as 0 / 1
    if s > HALF_CURVE_ORDER or (v != 27 and v != 28):
        return empty(address)
    return ecrecover(digest, v, r, s)
