"""RLC amounts as people write them and as the contracts count them.

RLC has 9 decimals: the contracts count nano-RLC (nRLC), people write RLC.
`parse_rlc("10")` is 10_000_000_000 nRLC; `parse_rlc("500 nRLC")` is 500;
`format_rlc(1_500_000_000)` is "1.5". Amounts are exact integers throughout,
never floats.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["NRLC_PER_RLC", "format_rlc", "parse_rlc"]

NRLC_PER_RLC = 10**9


def parse_rlc(text: str) -> int:
    """An amount written in RLC ("10", "0.25", "1_000") or nRLC ("500nRLC"), in nRLC.

    Raises ValueError with a message for a person on anything else: negative amounts, more
    than 9 decimals, or text that is not a number.
    """
    raw = text.strip().replace("_", "")
    unit = NRLC_PER_RLC
    lowered = raw.lower()
    if lowered.endswith("nrlc"):
        raw, unit = raw[:-4].strip(), 1
    elif lowered.endswith("rlc"):
        raw = raw[:-3].strip()
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ValueError(
            f"{text!r} is not an amount: write RLC like 10 or 0.5, or 500nRLC"
        ) from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{text!r} is not an amount: it must be a positive number")
    scaled = number * unit
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{text!r} has more precision than RLC's 9 decimals")
    return int(scaled)


def format_rlc(nrlc: int) -> str:
    """nRLC as RLC, without trailing zeros: 1_500_000_000 → "1.5", 0 → "0"."""
    whole, fraction = divmod(abs(nrlc), NRLC_PER_RLC)
    sign = "-" if nrlc < 0 else ""
    if fraction == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:09d}".rstrip("0")
