"""`nuage demo`: the protocol at work on a throwaway local chain.

Placeholder: the real demo (anvil, deployment, assets, signed orders, a deal) replaces the body
of `run_demo`; its signature is what the CLI calls.
"""

from __future__ import annotations

from rich.console import Console

__all__ = ["DEMO_SUMMARY", "run_demo"]

DEMO_SUMMARY = (
    "This demo deploys the nuage contracts on a throwaway local anvil chain, registers an app "
    "and a workerpool, signs orders, matches them into a deal and prints the deal. "
    "The full network (scheduler, workers, results) arrives with later issues."
)


def run_demo(console: Console) -> int:
    """Runs the demo, printing to `console`; returns the process exit status."""
    console.print(DEMO_SUMMARY)
    return 0
