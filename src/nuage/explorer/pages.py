"""The explorer's HTML pages, rendered on the server with Jinja2 from the same queries as the API.

Every page extends ``base.html`` (the nav bar, the banner naming unreachable sources, one local
stylesheet and one small script). Pages never fail because a source is down: what that source
would have shown is replaced by a dash, and the banner says why.
"""

from __future__ import annotations

import datetime
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

import nuage
from nuage.exceptions import NuageError
from nuage.explorer.queries import NotFound, check_address, check_id, short
from nuage.explorer.sources import SourceDown

if TYPE_CHECKING:
    from nuage.explorer.service import Explorer

__all__ = ["add_pages", "error_page"]

TEMPLATES = Path(__file__).parent / "templates"


def _nrlc(value: int | None) -> str:
    return "-" if value is None else f"{int(value)} nRLC"


def _time(value: int | None) -> str:
    if not value:
        return "-"
    moment = datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["nrlc"] = _nrlc
    environment.filters["short"] = short
    environment.filters["time"] = _time
    return environment


_ENVIRONMENT = _environment()


def render(
    explorer: Explorer, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page: `template` with `context`, the banner of unreachable sources, the version."""
    page = _ENVIRONMENT.get_template(template).render(
        unreachable=explorer.health.unreachable(),
        version=nuage.__version__,
        **context,
    )
    return HTMLResponse(page, status_code=status_code)


def error_page(explorer: Explorer, status: int, code: str, message: str) -> HTMLResponse:
    try:
        return render(
            explorer,
            "error.html",
            status_code=status,
            title=f"{status}",
            code=code,
            message=message,
        )
    except Exception:  # the error page itself failed: plain text rather than a traceback
        return HTMLResponse(f"<h1>{status}</h1><p>{html.escape(message)}</p>", status_code=status)


def add_pages(app: FastAPI, explorer: Explorer) -> None:
    queries = explorer.queries

    @app.get("/", include_in_schema=False)
    def store(q: str | None = None) -> Response:
        apps = queries.apps(q)
        return render(explorer, "store.html", title="DApp Store", active="store", apps=apps, q=q)

    @app.get("/apps/{address}", include_in_schema=False)
    def app_page(address: str) -> Response:
        found = queries.app(address)
        return render(explorer, "app.html", title=found["name"], active="store", app=found)

    @app.get("/submit", include_in_schema=False)
    def submit() -> Response:
        return render(explorer, "submit.html", title="Submit your dapp", active="submit")

    @app.get("/market", include_in_schema=False)
    def market() -> Response:
        book = queries.order_book()
        return render(explorer, "market.html", title="Market", active="market", book=book)

    @app.get("/deals", include_in_schema=False)
    def deals() -> Response:
        return render(explorer, "deals.html", title="Deals", active="deals", deals=queries.deals())

    @app.get("/deals/{deal_id}", include_in_schema=False)
    def deal(deal_id: str) -> Response:
        found = queries.deal(deal_id)
        return render(explorer, "deal.html", title="Deal", active="deals", live="tasks", deal=found)

    @app.get("/tasks", include_in_schema=False)
    def tasks(status: str | None = None) -> Response:
        found = queries.tasks(status=status)
        return render(
            explorer,
            "tasks.html",
            title="Tasks",
            active="tasks",
            live="tasks",
            tasks=found,
            status=status,
        )

    @app.get("/tasks/{task_id}", include_in_schema=False)
    def task(task_id: str) -> Response:
        found = queries.task(task_id)
        return render(explorer, "task.html", title="Task", active="tasks", live="task", task=found)

    @app.get("/tasks/{task_id}/result", summary="The task's result zip, from storage")
    def result(task_id: str) -> Response:
        blob = _result_blob(explorer, task_id)
        from nuage.client import fetch_result

        storage = explorer.urls["storage"]
        if not storage:
            raise SourceDown("storage", storage, "not configured")
        try:
            data = fetch_result(storage, blob, timeout=10)
        except NuageError as error:
            explorer.health.mark_down("storage", str(error))
            raise SourceDown("storage", storage, str(error)) from None
        return Response(
            data,
            media_type="application/zip",
            headers={"content-disposition": f'attachment; filename="result-{task_id}.zip"'},
        )

    @app.get("/tasks/{task_id}/logs", include_in_schema=False)
    def logs(task_id: str) -> Response:
        from nuage.explorer.service import task_logs_of

        found = queries.task(task_id)
        try:
            answer: dict[str, Any] | None = task_logs_of(explorer, task_id)
            problem = None
        except (SourceDown, NotFound) as error:
            answer, problem = None, str(error)
        return render(
            explorer,
            "logs.html",
            title="Task logs",
            active="tasks",
            task=found,
            logs=answer,
            problem=problem,
        )

    @app.get("/pools", include_in_schema=False)
    def pools() -> Response:
        return render(explorer, "pools.html", title="Pools", active="pools", pools=queries.pools())

    @app.get("/workers", include_in_schema=False)
    def workers() -> Response:
        found = queries.workers()
        return render(explorer, "workers.html", title="Workers", active="workers", **found)

    @app.get("/accounts", include_in_schema=False)
    def accounts(address: str | None = None) -> Response:
        if address:
            return RedirectResponse(f"/accounts/{check_address(address.strip())}", 303)
        return render(explorer, "accounts.html", title="Accounts", active="accounts")

    @app.get("/accounts/{address}", include_in_schema=False)
    def account(address: str) -> Response:
        checked = check_address(address)
        try:
            found: dict[str, Any] | None = queries.account(checked)
            problem = None
        except SourceDown as error:
            found, problem = None, str(error)
        return render(
            explorer,
            "accounts.html",
            title="Account",
            active="accounts",
            address=checked,
            account=found,
            problem=problem,
        )


def _result_blob(explorer: Explorer, task_id: str) -> str:
    """The result's blob id: from the hub when it answers (`nuage.client`), else the index."""
    from nuage.chain.hub import Hub
    from nuage.client import completed_result

    task = explorer.queries.task(check_id(task_id))
    if explorer.contracts is not None and explorer.health.ok("chain"):
        try:
            return completed_result(Hub(explorer.contracts), task["task_id"])
        except NuageError as error:
            if task["status"] != "COMPLETED":
                raise NotFound(str(error)) from None
    if task["status"] != "COMPLETED" or not task["results"]:
        raise NotFound(f"task {task['task_id']} is {task['status']}: no result yet")
    return str(task["results"]).removeprefix("0x")
