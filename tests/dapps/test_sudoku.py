"""sudoku: a grid in (input file or argument), its solution out; bad grids say what is wrong."""

from pathlib import Path

import pytest

from tests.dapps.conftest import DAPPS, Dapps
from tests.dapps.modules import load_main

sudoku = load_main("sudoku")

SAMPLE = (DAPPS / "sudoku" / "samples" / "grid.txt").read_bytes()
SAMPLE_SOLUTION = (
    "534678912\n672195348\n198342567\n859761423\n426853791\n"
    "713924856\n961537284\n287419635\n345286179\n"
)
HARD = "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4.."
#: Row 1 forces a 9 into its last cell, where column 9 already has one: no two givens clash,
#: yet there is no solution.
NO_SOLUTION = "12345678." + "........9" + "." * 63


def assert_solves(text: str, grid: str) -> None:
    """`text` is 9 lines of 9 digits, a valid sudoku keeping every given of `grid`."""
    lines = text.splitlines()
    assert text.endswith("\n") and len(lines) == 9 and all(len(line) == 9 for line in lines)
    cells = [int(char) for char in "".join(lines)]
    givens = [0 if char in ".0" else int(char) for char in grid if char not in " \n"]
    assert all(given in (0, cell) for given, cell in zip(givens, cells, strict=True))
    digits = set(range(1, 10))
    for n in range(9):
        assert set(cells[n * 9 : n * 9 + 9]) == digits  # row
        assert set(cells[n::9]) == digits  # column
        top, left = n // 3 * 3, n % 3 * 3
        assert {cells[(top + r) * 9 + left + c] for r in range(3) for c in range(3)} == digits


@pytest.mark.integration
def test_the_sample_grid_as_input_file_is_solved(dapps: Dapps) -> None:
    run = dapps.run("sudoku", inputs={"grid.txt": SAMPLE})
    assert run.result.ok, run.logs()
    assert run.computed == {"deterministic-output-path": "/iexec_out/solution.txt"}
    assert run.output.read_text() == SAMPLE_SOLUTION
    assert_solves(SAMPLE_SOLUTION, SAMPLE.decode())


@pytest.mark.integration
def test_a_hard_grid_as_argument_is_solved(dapps: Dapps) -> None:
    run = dapps.run("sudoku", HARD)
    assert run.result.ok, run.logs()
    assert_solves(run.output.read_text(), HARD)


@pytest.mark.integration
def test_a_grid_with_many_solutions_gives_every_worker_the_same(dapps: Dapps) -> None:
    grid = "1" + "." * 80  # millions of solutions: the search order alone picks one
    first = dapps.run("sudoku", grid, env={"PYTHONHASHSEED": "1"})
    second = dapps.run("sudoku", grid, env={"PYTHONHASHSEED": "2"})
    assert first.result.ok, first.logs()
    assert first.files() == second.files()
    assert_solves(first.output.read_text(), grid)
    assert "several solutions" in first.result.stdout.decode()


@pytest.mark.integration
def test_a_grid_breaking_the_rules_is_refused_with_a_reason(dapps: Dapps) -> None:
    run = dapps.run("sudoku", inputs={"grid.txt": b"55" + b"." * 79})
    assert run.result.exit_code == 1
    message = "the grid breaks the rules: two 5s in row 1"
    assert run.computed == {
        "deterministic-output-path": "/iexec_out/error.txt",
        "error-message": message,
    }
    assert run.output.read_text() == f"error: {message}\n"


def test_a_grid_drawn_with_boxes_reads() -> None:
    drawn = "\n".join(
        "|".join(line[i : i + 3] for i in (0, 3, 6)) + ("\n---+---+---" if n in (2, 5) else "")
        for n, line in enumerate(SAMPLE.decode().splitlines())
    )
    assert sudoku.parse(drawn) == sudoku.parse(SAMPLE.decode())


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("53..7....\n6..x95...", r"unexpected 'x' at line 2, column 4"),
        ("1" * 80, "a grid has 81 cells .*, this one has 80"),
        ("." * 82, "this one has 82"),
    ],
)
def test_a_malformed_grid_names_the_fault(text: str, complaint: str) -> None:
    with pytest.raises(sudoku.BadInput, match=complaint):
        sudoku.parse(text)


@pytest.mark.parametrize(
    ("grid", "complaint"),
    [
        ("." * 9 + "7" + "." * 8 + "7" + "." * 62, "two 7s in column 1"),
        ("3" + "." * 9 + "3" + "." * 70, "two 3s in box 1"),
    ],
)
def test_clashing_givens_are_named(grid: str, complaint: str) -> None:
    with pytest.raises(sudoku.BadInput, match=complaint):
        sudoku.check_rules(sudoku.parse(grid))


def test_a_grid_without_solution_is_told_apart() -> None:
    cells = sudoku.parse(NO_SOLUTION)
    sudoku.check_rules(cells)
    assert sudoku.solve(cells) == (None, False)


def test_a_unique_solution_is_reported_unique() -> None:
    solution, several = sudoku.solve(sudoku.parse(HARD))
    assert solution is not None and not several


def test_the_search_gives_up_after_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sudoku, "MAX_GUESSES", 10)
    with pytest.raises(sudoku.BadInput, match="gave up after 10 guesses"):
        sudoku.solve(sudoku.parse(HARD))


def test_no_grid_at_all_says_how_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IEXEC_INPUT_FILES_NUMBER", "0")
    monkeypatch.setenv("IEXEC_DATASET_FILENAME", "")
    with pytest.raises(sudoku.BadInput, match=r"give it as an input file \(or a dataset\), or"):
        sudoku.read_grid([])


def test_without_input_file_the_dataset_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "grids.txt").write_bytes(SAMPLE)
    monkeypatch.setenv("IEXEC_IN", str(tmp_path))
    monkeypatch.setenv("IEXEC_INPUT_FILES_NUMBER", "0")
    monkeypatch.setenv("IEXEC_DATASET_FILENAME", "grids.txt")
    assert sudoku.read_grid([]) == SAMPLE.decode()


def test_the_input_file_comes_before_the_dataset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "mine.txt").write_text("mine")
    monkeypatch.setenv("IEXEC_IN", str(tmp_path))
    monkeypatch.setenv("IEXEC_INPUT_FILES_NUMBER", "1")
    monkeypatch.setenv("IEXEC_INPUT_FILE_NAME_1", "mine.txt")
    monkeypatch.setenv("IEXEC_DATASET_FILENAME", "dataset.txt")
    assert sudoku.read_grid([]) == "mine"


def test_an_oversized_input_file_is_not_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "big.txt").write_bytes(b"." * 20_000)
    monkeypatch.setenv("IEXEC_IN", str(tmp_path))
    monkeypatch.setenv("IEXEC_INPUT_FILES_NUMBER", "1")
    monkeypatch.setenv("IEXEC_INPUT_FILE_NAME_1", "big.txt")
    with pytest.raises(sudoku.BadInput, match="over 10000 bytes: not a grid"):
        sudoku.read_grid([])
