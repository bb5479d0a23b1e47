"""`nuage.Client`: the Python SDK, with the verbs of the `nuage` command.

    from nuage import Client

    run = Client.devnet(role="requester").run("factorial", args=["10"])
    print(run.result().text)  # 3628800

`run` finds the cheapest offers on the market that fit the request (and, when none does, says
why from the market's explanation), signs the request, matches the orders on chain, and returns
a `Run` that follows the deal's tasks; `Run.result()` waits for the first task, downloads its
result from storage and unpacks it.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from nuage.chain.bindings import Contracts
from nuage.chain.hub import DealCreated, Hub, TaskView, results_blob
from nuage.config import Settings
from nuage.devnet import load_state
from nuage.exceptions import ConfigError, InsufficientFunds, NuageError, OrderIncompatible
from nuage.network import connect, service_url
from nuage.protocol.amounts import format_rlc
from nuage.protocol.orders import ZERO_ADDRESS, DatasetOrder, RequestOrder
from nuage.protocol.poco import TaskStatus

__all__ = ["Client", "Result", "Run", "completed_result", "fetch_result"]

MAX_PRICE = 2**96 - 1  # "any price" in a draft request: the market then finds the cheapest
MARKET_DEFAULT = "http://127.0.0.1:8702"
STORAGE_DEFAULT = "http://127.0.0.1:8701"


@dataclass(frozen=True)
class Result:
    """A task's result, downloaded and unpacked."""

    task_id: str
    blob_id: str
    directory: Path  # where the result zip was unpacked
    files: list[Path]
    computed: dict[str, Any]  # the app's computed.json
    error: str | None  # why the app failed, when it did (its error result)

    @property
    def output(self) -> Path | None:
        """The deterministic output the workers agreed on (a file or a directory)."""
        path = self.computed.get("deterministic-output-path")
        if not isinstance(path, str):
            return None
        return self.directory / path.removeprefix("/iexec_out").lstrip("/")

    @property
    def text(self) -> str | None:
        """The output file's text, when it is a small UTF-8 file."""
        output = self.output
        if output is None or not output.is_file() or output.stat().st_size > 64 * 1024:
            return None
        try:
            return output.read_text().rstrip("\n")
        except UnicodeDecodeError:
            return None


@dataclass
class Run:
    """A deal bought by `Client.run`: its tasks, followed on chain."""

    client: Client
    deal: DealCreated
    cost: int  # nRLC locked from the requester
    started: float = field(default_factory=time.monotonic)

    @property
    def deal_id(self) -> str:
        return "0x" + self.deal.deal_id.hex()

    @property
    def task_ids(self) -> list[str]:
        return ["0x" + t.hex() for t in self.deal.deal.task_ids(self.deal.deal_id)]

    def tasks(self) -> list[TaskView]:
        """Each task's state on chain, now."""
        return [self.client.hub.task(t) for t in self.deal.deal.task_ids(self.deal.deal_id)]

    def wait(
        self, timeout: float = 600, on_progress: Callable[[list[TaskView]], None] | None = None
    ) -> Run:
        """Waits until every task is completed; raises NuageError if one fails or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            views = self.tasks()
            if on_progress is not None:
                on_progress(views)
            failed = [
                t
                for t, v in zip(self.task_ids, views, strict=True)
                if v.status == TaskStatus.FAILED
            ]
            if failed:
                raise NuageError(f"task {failed[0]} failed (claimed after its deadline)")
            if all(v.status == TaskStatus.COMPLETED for v in views):
                return self
            if time.monotonic() > deadline:
                raise NuageError(
                    f"the deal's tasks did not complete within {timeout:.0f} s: follow them with "
                    f"`nuage deal show {self.deal_id}` (is a pool's scheduler running?)"
                )
            time.sleep(0.25)

    def result(self, index: int = 0, *, timeout: float = 600, into: Path | None = None) -> Result:
        """The result of the deal's task `index` (the first by default), once it is completed."""
        self.wait(timeout)
        return self.client.download(self.task_ids[index], into=into)


class Client:
    """Buys executions of apps on a nuage network, signing as one account."""

    def __init__(
        self,
        signer: LocalAccount,
        *,
        settings: Settings | None = None,
        rpc: str | None = None,
        market: str | None = None,
        storage: str | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.signer = signer
        self.contracts: Contracts = connect(self.settings, rpc)
        self.hub = Hub(self.contracts)
        self.market_url = service_url(self.settings, "market", market, MARKET_DEFAULT)
        self.storage_url = service_url(self.settings, "storage", storage, STORAGE_DEFAULT)

    @classmethod
    def devnet(cls, role: str = "requester", *, home: Path | None = None) -> Client:
        """A client of the running devnet, signing as one of its roles."""
        settings = Settings(home=home) if home is not None else Settings()
        state = load_state(settings)
        if state is None:
            raise ConfigError("no devnet is up: `nuage devnet up` starts one")
        return cls(state.account(role), settings=settings)

    # -- verbs ---------------------------------------------------------------------------------

    def find_app(self, app: str) -> str:
        """An app's address, from its address or its registered name (the newest of that name)."""
        if Web3.is_address(app):
            return str(Web3.to_checksum_address(app))
        found = self.contracts.apps_named(app)
        if not found:
            raise ConfigError(
                f"no app named {app!r} on this chain: deploy it (`nuage app deploy DIR`) or "
                "give its address"
            )
        return found[0]

    def deploy_app(self, source: Path) -> tuple[str, str, bool]:
        """Builds the app in `source`, uploads it, registers it: (address, sha256, created now)."""
        from nuage.apps import build

        bundle = build(source)
        self.upload(bundle.path)
        address, created = self.contracts.register_app(
            self.signer, bundle.manifest.name, bytes.fromhex(bundle.sha256)
        )
        return address, bundle.sha256, created

    def publish_app(self, app: str, price: int, volume: int = 1000) -> str:
        """Signs an app order at `price` nRLC per execution and publishes it; its hash."""
        from nuage.market.client import MarketClient
        from nuage.protocol.orders import AppOrder

        order = AppOrder(app=self.find_app(app), appprice=price, volume=volume, salt=os.urandom(32))
        with MarketClient(self.market_url) as market:
            return market.publish(order.signed(self.signer.key, market.domain())).hash

    def has_app_order(self, app: str) -> bool:
        """Whether the market holds an open order of this app, signed by this client."""
        from nuage.market.client import MarketClient

        with MarketClient(self.market_url) as market:
            page = market.query("app", app=self.find_app(app), owner=self.signer.address)
            return page.total > 0

    def upload(self, path: Path) -> str:
        """Puts a file in storage; its blob id (what a request's input files name)."""
        from nuage.storage.client import StorageClient

        with StorageClient(self.storage_url) as storage:
            return storage.put_file(path)

    def run(
        self,
        app: str,
        args: Sequence[str] = (),
        *,
        input_files: Sequence[Path] = (),
        trust: int = 1,
        category: int = 0,
        workerpool: str | None = None,
        max_price: int | None = None,
        volume: int = 1,
        deposit: bool = False,
    ) -> Run:
        """Buys `volume` executions of `app` with `args`; the `Run` that follows them.

        Prices in nRLC; `max_price` bounds the price of a task (app + workerpool). With
        `deposit`, RLC missing from the hub account is deposited from the wallet first.
        """
        from nuage.market.client import MarketClient

        address = self.find_app(app)
        inputs = [self.upload(path) for path in input_files]
        params = {"iexec_args": _command_line(args)}
        if inputs:
            params["iexec_input_files"] = inputs  # type: ignore[assignment]
        draft = RequestOrder(
            app=address,
            appmaxprice=MAX_PRICE if max_price is None else max_price,
            workerpool=workerpool or ZERO_ADDRESS,
            workerpoolmaxprice=MAX_PRICE if max_price is None else max_price,
            requester=self.signer.address,
            volume=volume,
            category=category,
            trust=trust,
            params=json.dumps(params, separators=(",", ":")),
            salt=os.urandom(32),
        )
        with MarketClient(self.market_url) as market:
            answer = market.explain(draft)
            best = answer.best
            if best is None:
                raise OrderIncompatible(_why_not(answer))
            app_order = market.get(best.app).to_order()
            pool_order = market.get(best.workerpool).to_order()
        cost = best.price * best.volume
        if max_price is not None and best.price > max_price:
            raise OrderIncompatible(
                [f"the cheapest offer costs {format_rlc(best.price)} RLC a task, above "
                 f"--max-price {format_rlc(max_price)}"]
            )  # fmt: skip
        self._ensure_funds(cost, deposit)
        request = replace(
            draft,
            appmaxprice=app_order.appprice,  # type: ignore[attr-defined]
            workerpoolmaxprice=pool_order.workerpoolprice,  # type: ignore[attr-defined]
            volume=best.volume,
        ).signed(self.signer.key, self._market_domain())
        orders = (app_order, DatasetOrder.none(), pool_order, request)
        receipt = self.contracts.chain.transact(
            self.contracts.market.functions.matchOrders(*(o.as_tuple() for o in orders)),
            self.signer,
        )
        (created,) = self.hub.deals_created(receipt)
        return Run(self, created, cost)

    def download(self, task_id: str, *, into: Path | None = None) -> Result:
        """Downloads and unpacks a completed task's result (default: ./results/TASK)."""
        blob = completed_result(self.hub, task_id)
        data = fetch_result(self.storage_url, blob)
        directory = into or Path("results") / task_id
        directory.mkdir(parents=True, exist_ok=True)
        files = _unzip(data, directory)
        computed = _json(directory / "computed.json")
        error = computed.get("error-message") or _json(directory / "error.json").get("error")
        return Result(task_id, blob, directory, files, computed, error)

    # -- internals -----------------------------------------------------------------------------

    def _market_domain(self) -> Any:
        from nuage.protocol.eip712 import Domain

        return Domain(
            chain_id=self.contracts.chain.chain_id,
            verifying_contract=self.contracts.deployment.market,
        )

    def _ensure_funds(self, cost: int, deposit: bool) -> None:
        free = self.contracts.hub_account(self.signer.address).free
        if free >= cost:
            return
        missing = cost - free
        if not deposit:
            raise InsufficientFunds(
                f"the deal costs {format_rlc(cost)} RLC and {self.signer.address} has "
                f"{format_rlc(free)} free in the hub: deposit {format_rlc(missing)} "
                "(`nuage account deposit`), or pass --deposit"
            )
        self.contracts.deposit(self.signer, missing)


def completed_result(hub: Hub, task_id: str) -> str:
    """The blob id of a completed task's result zip; NuageError while it is not completed."""
    view = hub.task(bytes.fromhex(task_id.removeprefix("0x")))
    if view.status != TaskStatus.COMPLETED:
        raise NuageError(
            f"task {task_id} is {TaskStatus.NAMES[view.status]}, not completed: "
            f"`nuage task show {task_id} --watch` follows it"
        )
    return results_blob(view.results)


def fetch_result(storage_url: str, blob: str, *, timeout: float = 30.0) -> bytes:
    """A result zip's bytes from storage, checked against its blob id."""
    from nuage.storage.client import StorageClient

    with StorageClient(storage_url, timeout=timeout) as storage:
        return storage.get_bytes(blob)


def _command_line(args: Sequence[str]) -> str:
    import shlex

    return " ".join(shlex.quote(a) for a in args)


def _why_not(answer: Any) -> list[str]:
    reasons = [answer.summary]
    reasons += [f"request: {r}" for r in answer.request_reasons]
    for offer in answer.offers:
        if offer.reasons:
            price = format_rlc(offer.price)
            reasons.append(
                f"{offer.kind} order {offer.hash[:10]}… ({price} RLC): {'; '.join(offer.reasons)}"
            )
    return reasons


def _unzip(data: bytes, directory: Path) -> list[Path]:
    files = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in archive.infolist():
            name = Path(entry.filename)
            if name.is_absolute() or ".." in name.parts or entry.is_dir():
                continue  # results are plain relative files; anything else is skipped
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(entry))
            files.append(target)
    return sorted(files)


def _json(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}
