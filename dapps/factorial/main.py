"""factorial: N! for the N given as argument, as an exact integer in result.txt.

    factorial N        0 <= N <= 10000

Writes $IEXEC_OUT/result.txt (the decimal digits and a newline) and computed.json naming it.
A bad argument writes error.txt and a computed.json with an "error-message" instead, and exits
with status 1: the requester then reads why in the task's result.
"""

import json
import math
import os
import sys

#: The largest N accepted: 10000! has 35,660 digits, computed in milliseconds. Far larger
#: values would cost the workers time and memory for a result nobody can read.
MAX_N = 10_000


class BadInput(Exception):
    """The requester's arguments are unusable; the message tells them what to send instead."""


def parse(args: list[str]) -> int:
    """The N to compute, or BadInput saying what is wrong with the arguments."""
    if len(args) != 1:
        raise BadInput(f"expected one argument N (0 <= N <= {MAX_N}), got {len(args)}")
    text = args[0].strip()
    if text.startswith("-") and text[1:].isdigit():
        raise BadInput(f"N must not be negative (got {text})")
    # int() would also take "1_000", "+5" and non-ASCII digits; only plain decimal is accepted
    if not (text.isascii() and text.isdigit()):
        raise BadInput(f"N must be a whole number written in digits (got {args[0]!r})")
    if len(text) > 6 or int(text) > MAX_N:
        raise BadInput(f"N must be at most {MAX_N} (got {text})")
    return int(text)


def factorial_text(n: int) -> str:
    """N! in decimal."""
    return str(math.factorial(n))


def main(args: list[str]) -> int:
    # Python caps int-to-text conversions at 4300 digits (a guard against slow conversions of
    # hostile input); ours are bounded by MAX_N, and 10000! has 35,660 digits.
    sys.set_int_max_str_digits(0)
    out = os.environ.get("IEXEC_OUT", "/iexec_out")
    try:
        n = parse(args)
    except BadInput as error:
        return fail(out, str(error))
    digits = factorial_text(n)
    finish(out, "result.txt", digits + "\n")
    print(f"{n}! = {digits if len(digits) <= 80 else digits[:40] + '…'} ({len(digits)} digits)")
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
    print(f"factorial: {message}", file=sys.stderr)
    return 1


def write_computed(out: str, fields: dict[str, str]) -> None:
    with open(os.path.join(out, "computed.json"), "w", encoding="utf-8") as file:
        json.dump(fields, file, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
