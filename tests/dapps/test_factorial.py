"""factorial: N! exactly, for 0 <= N <= 10000; anything else is refused with a reason."""

import math
from decimal import Decimal

import pytest

from tests.dapps.conftest import Dapps
from tests.dapps.modules import load_main

factorial = load_main("factorial")


@pytest.mark.integration
def test_factorial_of_10_is_3628800(dapps: Dapps) -> None:
    run = dapps.run("factorial", "10")
    assert run.result.ok, run.logs()
    assert run.computed == {"deterministic-output-path": "/iexec_out/result.txt"}
    assert run.output.read_text() == "3628800\n"


@pytest.mark.integration
def test_the_largest_n_gives_every_digit(dapps: Dapps) -> None:
    run = dapps.run("factorial", "10000")
    assert run.result.ok, run.logs()
    text = run.output.read_text()
    assert text.endswith("\n") and len(text) == 35_660 + 1
    # Decimal, unlike int(), reads any number of digits; the comparison with an int is exact
    assert Decimal(text) == math.factorial(10_000)


@pytest.mark.integration
def test_two_runs_give_the_same_bytes(dapps: Dapps) -> None:
    first = dapps.run("factorial", "200", env={"PYTHONHASHSEED": "1"})
    second = dapps.run("factorial", "200", env={"PYTHONHASHSEED": "2"})
    assert first.files() == second.files()


@pytest.mark.integration
def test_a_negative_n_is_refused_with_a_reason(dapps: Dapps) -> None:
    run = dapps.run("factorial", "-3")
    assert run.result.exit_code == 1
    assert run.computed == {
        "deterministic-output-path": "/iexec_out/error.txt",
        "error-message": "N must not be negative (got -3)",
    }
    assert run.output.read_text() == "error: N must not be negative (got -3)\n"


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        ([], "expected one argument N"),
        (["1", "2"], "expected one argument N"),
        (["10001"], "N must be at most 10000"),
        (["99999999999999999999"], "N must be at most 10000"),
        (["-0"], "must not be negative"),
        (["ten"], "whole number written in digits"),
        (["1_000"], "whole number written in digits"),
        (["+5"], "whole number written in digits"),
        (["\u0663"], "whole number written in digits"),  # an Arabic-Indic 3: int() takes it
        (["2.5"], "whole number written in digits"),
    ],
)
def test_bad_arguments_say_what_to_send(args: list[str], complaint: str) -> None:
    with pytest.raises(factorial.BadInput, match=complaint):
        factorial.parse(args)


def test_zero_factorial_is_one() -> None:
    assert factorial.factorial_text(factorial.parse(["0"])) == "1"
