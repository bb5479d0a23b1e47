"""`make bench` (`python -m bench`): every benchmark, one after the other, then SUMMARY.md.

Each benchmark runs as its own process (`python -m bench.<name>`) and writes its JSON into
bench/results/: gas, chain, market, throughput, latency, scale (which reads throughput's bag),
and trust when a trust benchmark exists (`bench.trust`, else `nuage.trust` run as a module).
A benchmark that fails is reported and the others still run; the summary is written last, with
how long each step took, and the exit status says whether every step succeeded.

Run: `python -m bench [--only NAME ...]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from typing import Any

from bench.summary import write_summary

STEPS = ["gas", "chain", "market", "throughput", "latency", "scale", "trust"]


def trust_module() -> str | None:
    """The module that measures sabotage tolerance into trust.json, when there is one."""
    for name in ("bench.trust", "nuage.trust.__main__"):
        try:
            if importlib.util.find_spec(name) is not None:
                return name.removesuffix(".__main__")
        except ImportError:  # a parent that is a module, not a package
            continue
    return None


def run_step(name: str) -> dict[str, Any]:
    module = trust_module() if name == "trust" else f"bench.{name}"
    if module is None:
        print("== trust: no trust benchmark (bench.trust) here, skipped", flush=True)
        return {"seconds": 0.0, "status": "skipped: no bench.trust module"}
    print(f"== {name}: python -m {module}", flush=True)
    started = time.monotonic()
    completed = subprocess.run([sys.executable, "-m", module], stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    status = "ok" if completed.returncode == 0 else f"failed (exit {completed.returncode})"
    print(f"== {name}: {status} in {seconds:.0f} s", flush=True)
    return {"seconds": round(seconds, 1), "status": status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=STEPS, help="run only these benchmarks")
    options = parser.parse_args()
    started = time.monotonic()
    steps = {name: run_step(name) for name in options.only or STEPS}
    timings = {"steps": steps, "total_s": round(time.monotonic() - started, 1)}
    summary = write_summary(timings=timings)
    print(f"== timings: {json.dumps(timings)}")
    print(f"== summary: {summary} ({timings['total_s'] / 60:.1f} minutes in all)")
    failed = [name for name, step in steps.items() if step["status"].startswith("failed")]
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
