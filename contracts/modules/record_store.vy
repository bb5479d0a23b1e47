# pragma version 0.4.3
"""
@title Packed asset records
@license Apache-2.0
@notice Stores an asset's record as its bytes packed into consecutive
        32-byte words: a short header (kind-specific: type, ratios,
        lengths) then the variable fields back to back. A record of a
        name and a short multiaddr fits in one or two words, where
        Vyper's `String` would spend a word on each length.
"""

MAX_WORDS: constant(uint256) = 9
MAX_RECORD: constant(uint256) = 288  # MAX_WORDS * 32
BYTE_MASK: constant(uint256) = 255

_words: HashMap[uint256, HashMap[uint256, bytes32]]


@internal
def _write(id: uint256, data: Bytes[MAX_RECORD]):
    padded: Bytes[MAX_RECORD + 32] = concat(data, empty(bytes32))
    count: uint256 = (len(data) + 31) // 32
    for i: uint256 in range(MAX_WORDS):
        if i >= count:
            break
        self._words[id][i] = extract32(padded, i * 32)


@internal
@view
def _read(id: uint256) -> Bytes[MAX_RECORD]:

    return concat(
        self._words[id][0], self._words[id][1], self._words[id][2],
        self._words[id][3], self._words[id][4], self._words[id][5],
        self._words[id][6], self._words[id][7], self._words[id][8],
    )


@internal
@view
def _header(id: uint256) -> uint256:
    return convert(self._words[id][0], uint256)


@internal
def _set_header_byte(id: uint256, index: uint256, byte_value: uint256):
    # rewrites one byte of the first word, leaving the others untouched
    offset: uint256 = 8 * (31 - index)
    word: uint256 = convert(self._words[id][0], uint256)
    mask: uint256 = BYTE_MASK << offset
    word = (word & ~mask) | ((byte_value & BYTE_MASK) << offset)
    self._words[id][0] = convert(word, bytes32)
