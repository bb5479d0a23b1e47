"""sudoku: solves a 9x9 sudoku grid and writes the solution to solution.txt.

    sudoku              the grid is the first input file (else the dataset)
    sudoku GRID         the grid is the argument: its 81 cells, row after row

A grid is 9 rows of 9 cells: a digit 1-9 is a given, 0 or "." a blank. In a file, rows are
lines; spaces and the decorations "|", "-" and "+" are ignored, so a grid drawn with boxes
reads too. The solution is written in the same shape: 9 lines of 9 digits.

A malformed grid, a grid breaking the rules (two 5s in a row) or one without a solution writes
error.txt and a computed.json with an "error-message", and exits with status 1.
"""

import json
import os
import sys

#: A grid file is a few hundred bytes; reading more is pointless and costs the workers memory.
MAX_FILE_BYTES = 10_000
#: Choices the solver may try before giving up. The hardest known grids take a few hundred;
#: the cap bounds the time spent on pathological input (a few seconds), and counting guesses,
#: not seconds, keeps even giving up deterministic.
MAX_GUESSES = 200_000
DECORATIONS = set(" \t\r|-+")

ROWS = [[row * 9 + column for column in range(9)] for row in range(9)]
COLUMNS = [[row * 9 + column for row in range(9)] for column in range(9)]
BOXES = [
    [(top + row) * 9 + left + column for row in range(3) for column in range(3)]
    for top in (0, 3, 6)
    for left in (0, 3, 6)
]
BOX_OF = [(index // 27) * 3 + (index % 9) // 3 for index in range(81)]
#: The four constraints met by choice index * 9 + (digit - 1): the cell is filled, and the
#: digit is placed in its row, its column and its box.
CONSTRAINTS_OF = [
    (index, 81 + index // 9 * 9 + d, 162 + index % 9 * 9 + d, 243 + BOX_OF[index] * 9 + d)
    for index in range(81)
    for d in range(9)
]


class BadInput(Exception):
    """The requester's grid is unusable; the message tells them why."""


def parse(text: str) -> list[int]:
    """The 81 cells of a grid (0 for a blank), or BadInput naming the offending character."""
    cells: list[int] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        for column, char in enumerate(line, start=1):
            if char in DECORATIONS:
                continue
            if char in "0.":
                cells.append(0)
            elif "1" <= char <= "9":
                cells.append(int(char))
            else:
                raise BadInput(
                    f"unexpected {char!r} at line {line_number}, column {column}: "
                    "a cell is a digit 1-9, or 0 or '.' for a blank"
                )
    if len(cells) != 81:
        raise BadInput(f"a grid has 81 cells (9 rows of 9), this one has {len(cells)}")
    return cells


def check_rules(cells: list[int]) -> None:
    """BadInput when two givens clash, naming where: the grid cannot have a solution."""
    for unit_name, units in (("row", ROWS), ("column", COLUMNS), ("box", BOXES)):
        for number, unit in enumerate(units, start=1):
            seen: set[int] = set()
            for index in unit:
                digit = cells[index]
                if digit and digit in seen:
                    raise BadInput(
                        f"the grid breaks the rules: two {digit}s in {unit_name} {number}"
                    )
                seen.add(digit)


def solve(cells: list[int]) -> tuple[list[int] | None, bool]:
    """(the first solution found or None, whether a second one exists).

    Sudoku as an exact cover problem (Knuth's Algorithm X, with sets instead of dancing
    links): each of the 324 constraints (a cell holds a digit; a row, a column, a box holds
    each digit once) must be met by exactly one of the 729 choices "digit d in cell i". The
    search always branches on the constraint with the fewest choices left, which finds the
    forced moves (naked and hidden singles) by itself.

    Constraints and choices are small integers and every tie is broken by number, so the
    search visits the same choices in the same order on every worker, whatever the hash
    seed: a grid with several solutions gives every worker the same first one.
    """
    choices_of = {constraint: set() for constraint in range(324)}
    for choice, constraints in enumerate(CONSTRAINTS_OF):
        for constraint in constraints:
            choices_of[constraint].add(choice)
    for index, digit in enumerate(cells):
        if digit:
            _select(choices_of, index * 9 + digit - 1)  # check_rules saw no clash: it fits
    chosen: list[int] = []
    solutions: list[list[int]] = []
    guesses = 0

    def search() -> bool:
        """True to stop: a second solution was found."""
        nonlocal guesses
        if not choices_of:
            solution = list(cells)
            for choice in chosen:
                solution[choice // 9] = choice % 9 + 1
            solutions.append(solution)
            return len(solutions) == 2
        constraint = min(choices_of, key=lambda c: (len(choices_of[c]), c))
        for choice in sorted(choices_of[constraint]):
            guesses += 1
            if guesses > MAX_GUESSES:
                raise BadInput(
                    f"gave up after {MAX_GUESSES:,} guesses without finding whether the grid "
                    "has a solution: give more digits"
                )
            chosen.append(choice)
            removed = _select(choices_of, choice)
            stop = search()
            _deselect(choices_of, choice, removed)
            chosen.pop()
            if stop:
                return True
        return False

    search()
    return (solutions[0] if solutions else None), len(solutions) > 1


def _select(choices_of: dict[int, set[int]], choice: int) -> list[set[int]]:
    """Take `choice`: drop the constraints it meets and every choice clashing with it."""
    removed = []
    for constraint in CONSTRAINTS_OF[choice]:
        for clashing in choices_of[constraint]:
            for other in CONSTRAINTS_OF[clashing]:
                if other != constraint:
                    choices_of[other].discard(clashing)
        removed.append(choices_of.pop(constraint))
    return removed


def _deselect(choices_of: dict[int, set[int]], choice: int, removed: list[set[int]]) -> None:
    """Undo `_select`, in reverse order."""
    for constraint in reversed(CONSTRAINTS_OF[choice]):
        choices_of[constraint] = removed.pop()
        for clashing in choices_of[constraint]:
            for other in CONSTRAINTS_OF[clashing]:
                if other != constraint:
                    choices_of[other].add(clashing)


def render(cells: list[int]) -> str:
    return "".join("".join(map(str, cells[row * 9 : row * 9 + 9])) + "\n" for row in range(9))


def read_grid(args: list[str]) -> str:
    """The grid's text, from the argument or else the input file."""
    if len(args) > 1:
        raise BadInput(f"expected at most one argument (the grid), got {len(args)}")
    if args:
        return args[0]
    name, path = input_file(
        "no grid: give it as an input file (or a dataset), or as an 81-character argument"
    )
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise BadInput(f"cannot read the input file {name!r}: {error.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(f"the input file {name!r} is over {MAX_FILE_BYTES} bytes: not a grid")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"the input file {name!r} is not text") from None


def input_file(missing: str) -> tuple[str, str]:
    """(name, path) of the file to read: the first input file, else the deal's dataset."""
    if int(os.environ.get("IEXEC_INPUT_FILES_NUMBER", "0") or 0) >= 1:
        name = os.environ.get("IEXEC_INPUT_FILE_NAME_1", "")
    else:
        name = os.environ.get("IEXEC_DATASET_FILENAME", "")
    if not name:
        raise BadInput(missing)
    return name, os.path.join(os.environ.get("IEXEC_IN", "/iexec_in"), name)


def main(args: list[str]) -> int:
    out = os.environ.get("IEXEC_OUT", "/iexec_out")
    try:
        cells = parse(read_grid(args))
        check_rules(cells)
        solution, several = solve(cells)
        if solution is None:
            raise BadInput("the grid has no solution")
    except BadInput as error:
        return fail(out, str(error))
    finish(out, "solution.txt", render(solution))
    print(render(solution), end="")
    if several:
        print("note: the grid has several solutions; this is the first in digit order")
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
    print(f"sudoku: {message}", file=sys.stderr)
    return 1


def write_computed(out: str, fields: dict[str, str]) -> None:
    with open(os.path.join(out, "computed.json"), "w", encoding="utf-8") as file:
        json.dump(fields, file, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
