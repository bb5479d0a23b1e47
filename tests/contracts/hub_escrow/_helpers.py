"""Test-only contracts for the escrow, and helpers shared by its tests.

`EscrowHarness.vy` initializes the hub's escrow module and makes its
internal moves external; `FaultyToken.vy` is a token whose transfers can
return false. Both import from `contracts/`, so they compile with it as a
search path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boa
from eth_utils import keccak

from tests.contracts.deployers import CONTRACTS
from tests.contracts.harness import Actor, Protocol

HERE = Path(__file__).resolve().parent


def _compile(name: str) -> Any:
    boa.interpret.set_search_paths([str(CONTRACTS)])
    try:
        return boa.load_partial(str(HERE / name))
    finally:
        boa.interpret.set_search_paths([])


ESCROW_HARNESS = _compile("EscrowHarness.vy")
FAULTY_TOKEN = _compile("FaultyToken.vy")

REF = keccak(text="deal 1")
OTHER_REF = keccak(text="task 7")


def events(contract: Any, name: str, called: Any = None) -> list[Any]:
    """The `name` events `contract` emitted in the last call to `called` (itself by default)."""
    return [
        log
        for log in (called or contract).get_logs()
        if type(log).__name__ == name and str(log.address) == str(contract.address)
    ]


def fund(token: Any, escrow: Any, giver: Actor, actor: Actor, amount: int) -> None:
    """`giver` pays `actor` `amount` tokens, which `actor` deposits into `escrow`."""
    with boa.env.prank(giver.address):
        token.transfer(actor.address, amount)
    with boa.env.prank(actor.address):
        token.approve(escrow.address, amount)
        escrow.deposit(amount)


def fund_harness(protocol: Protocol, escrow: Any, actor: Actor, amount: int) -> None:
    fund(protocol.rlc, escrow, protocol.deployer, actor, amount)


def held_in_accounts(escrow: Any, actors: list[Actor]) -> int:
    """The sum of the free and frozen balances of `actors`."""
    return sum(escrow.balanceOf(a.address) + escrow.frozenOf(a.address) for a in actors)


def end_transaction() -> None:
    """Ends the current transaction as a chain would: transient storage is cleared.

    titanoboa runs every call in one long transaction context and never
    clears transient storage between calls (vyperlang/titanoboa#218), so a
    test that means "a later transaction" must say so.
    """
    boa.env.evm.vm.state.clear_transient_storage()
