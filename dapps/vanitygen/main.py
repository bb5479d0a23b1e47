"""vanitygen: an Ethereum address starting with a chosen hex prefix, found from a seed.

    vanitygen PREFIX SEED      PREFIX: 1 to 4 hex digits (0x optional); SEED: any text

Tries the private keys sha256(SEED || counter), counter = 0, 1, 2… as 8 big-endian bytes,
until the key's address starts with PREFIX (case ignored). The search is a pure function of
its arguments, so every worker finds the same key and the same count of attempts, and the
workers can agree on the result. Each hex digit multiplies the work by 16: about 65,536
attempts (a few seconds) for 4 digits.

Writes $IEXEC_OUT/address.json: the address (EIP-55 checksummed), the private key, the count
of attempts and how the key was derived.

@custom:security The private key is in the result, and every worker of the pool computed it:
an address made this way is a demonstration, never one to send funds to.
"""

import hashlib
import json
import os
import sys

from coincurve import PublicKey
from Crypto.Hash import keccak

MAX_PREFIX = 4
MAX_SEED_BYTES = 1024
#: The order of secp256k1: a private key is a number in [1, N).
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
#: The search stops after this many keys per possible prefix: a prefix of d digits matches one
#: key in 16**d, so failing after 64 * 16**d keys happens with probability e**-64, yet the
#: bound keeps the worst case finite.
ATTEMPTS_PER_PREFIX = 64
DERIVATION = "private key = sha256(utf8(seed) || counter as 8 big-endian bytes)"


class BadInput(Exception):
    """The requester's arguments are unusable; the message tells them what to send instead."""


def parse(args: list[str]) -> tuple[str, str]:
    """(prefix in lowercase hex, seed), or BadInput saying what is wrong."""
    if len(args) != 2:
        raise BadInput(
            f"expected two arguments, PREFIX (1 to {MAX_PREFIX} hex digits) and SEED "
            f"(any text: the same seed always gives the same address), got {len(args)}"
        )
    prefix, seed = args
    digits = prefix[2:] if prefix[:2].lower() == "0x" else prefix
    if not 1 <= len(digits) <= MAX_PREFIX:
        raise BadInput(
            f"PREFIX must have 1 to {MAX_PREFIX} hex digits (got {len(digits)}): "
            "each digit more makes the search 16 times longer"
        )
    if any(char not in "0123456789abcdefABCDEF" for char in digits):
        raise BadInput(f"PREFIX must be hex digits 0-9 and a-f (got {prefix!r})")
    if not seed:
        raise BadInput("SEED must not be empty")
    if len(seed.encode()) > MAX_SEED_BYTES:
        raise BadInput(f"SEED must be at most {MAX_SEED_BYTES} bytes")
    return digits.lower(), seed


def keccak256(data: bytes) -> bytes:
    return keccak.new(data=data, digest_bits=256).digest()


def address_of(private_key: bytes) -> str:
    """The address of a key: the last 20 bytes of keccak-256 of the uncompressed public key
    (without its 0x04 prefix byte), in lowercase hex without 0x."""
    public_key = PublicKey.from_valid_secret(private_key).format(compressed=False)
    return keccak256(public_key[1:])[-20:].hex()


def checksummed(address: str) -> str:
    """EIP-55: a hex letter is upper case where the matching nibble of keccak(address) >= 8."""
    digest = keccak256(address.encode()).hex()
    return "0x" + "".join(
        char.upper() if int(digest[i], 16) >= 8 else char for i, char in enumerate(address)
    )


def search(prefix: str, seed: str) -> tuple[bytes, str, int]:
    """(private key, lowercase address, attempts) of the first key whose address matches."""
    base = seed.encode()
    limit = ATTEMPTS_PER_PREFIX * 16 ** len(prefix)
    for counter in range(limit):
        private_key = hashlib.sha256(base + counter.to_bytes(8, "big")).digest()
        if not 0 < int.from_bytes(private_key, "big") < N:
            continue  # not a valid key (chance 2**-128): skipped, still counted
        address = address_of(private_key)
        if address.startswith(prefix):
            return private_key, address, counter + 1
    raise BadInput(f"no address starting with {prefix} in {limit:,} keys: try another seed")


def main(args: list[str]) -> int:
    out = os.environ.get("IEXEC_OUT", "/iexec_out")
    try:
        prefix, seed = parse(args)
        private_key, address, attempts = search(prefix, seed)
    except BadInput as error:
        return fail(out, str(error))
    result = {
        "address": checksummed(address),
        "private-key": "0x" + private_key.hex(),
        "attempts": attempts,
        "prefix": prefix,
        "seed": seed,
        "derivation": DERIVATION,
    }
    finish(out, "address.json", json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"{result['address']} after {attempts:,} attempts")
    return 0


def finish(out: str, name: str, text: str) -> None:
    """Write the result file, then computed.json naming it (the file the workers hash)."""
    path = os.path.join(out, name)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    write_computed(out, {"deterministic-output-path": path})


def fail(out: str, message: str) -> int:
    """Report bad input: error.txt is the deterministic output, so every worker agrees on the
    failure, and computed.json carries the message for the requester. Exit status 1."""
    path = os.path.join(out, "error.txt")
    with open(path, "w", encoding="utf-8") as file:
        file.write(f"error: {message}\n")
    write_computed(out, {"deterministic-output-path": path, "error-message": message})
    print(f"vanitygen: {message}", file=sys.stderr)
    return 1


def write_computed(out: str, fields: dict[str, str]) -> None:
    with open(os.path.join(out, "computed.json"), "w", encoding="utf-8") as file:
        json.dump(fields, file, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
