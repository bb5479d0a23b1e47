"""``nuage storage``: run the blob store, upload, download and look up blobs.

The storage stack (FastAPI, uvicorn) is imported inside the commands, so that loading the ``nuage``
command stays fast.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from nuage.exceptions import ConfigError, StorageError

if TYPE_CHECKING:
    from nuage.storage.client import StorageClient
    from nuage.storage.settings import StorageSettings

__all__ = ["app"]

DEFAULT_URL = "http://127.0.0.1:8701"  # nuage.storage.DEFAULT_STORAGE_URL, without importing it

_PROGRESS_FROM_BYTES = 8 * 1024 * 1024
_SIZE = re.compile(r"\s*(\d+)\s*([kmgt]?)(i?b)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}

app = typer.Typer(
    name="storage",
    help="""Content-addressed blob storage: app bundles, input files, datasets and results.

A blob is known by the sha256 of its bytes (64 hex digits), and every download is checked
against it.

```
nuage storage serve                # run a store on 127.0.0.1:8701
nuage storage put bundle.zip       # upload a file; prints its blob id
nuage storage get ID -o copy.zip   # download it, checked
nuage storage head ID              # is it there, and how big
```

The other commands find the store at $NUAGE_STORAGE_URL, else the devnet's, else
http://127.0.0.1:8701.""",
    rich_markup_mode="markdown",
    no_args_is_help=True,
)

_Url = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="NUAGE_STORAGE_URL",
        help="The storage service to talk to [default: the devnet's, else " + DEFAULT_URL + "]",
        show_envvar=True,
    ),
]
_AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on [default: 127.0.0.1, or NUAGE_STORAGE_HOST]."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="TCP port [default: 8701, or NUAGE_STORAGE_PORT].", min=0, max=65535),
    ] = None,
    root: Annotated[
        Path | None,
        typer.Option(
            help="Directory for the blobs [default: NUAGE_STORAGE_ROOT, else "
            "$NUAGE_HOME/storage, else ~/.nuage/storage].",
            file_okay=False,
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="Uploads must send this bearer token; downloads stay open. Prefer "
            "NUAGE_STORAGE_TOKEN: a command line is visible to other users.",
            show_default=False,
        ),
    ] = None,
    max_size: Annotated[
        str | None,
        typer.Option(
            "--max-size",
            help="Largest blob accepted, in bytes or with a unit: 512M, 2G "
            "[default: 1G, or NUAGE_STORAGE_MAX_BLOB_BYTES].",
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="debug, info, warning or error.", case_sensitive=False)
    ] = "info",
) -> None:
    """Run a storage service in the foreground until Ctrl-C; logs go to stderr.

    Example: `nuage storage serve --port 8701 --root ./blobs --max-size 2G`

    Options not given come from `NUAGE_STORAGE_*` environment variables, then the defaults.
    Temp files left by a crash are removed at start.
    """
    from nuage.storage import service

    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "root": root,
        "token": token,
        "max_blob_bytes": None if max_size is None else _parse_size(max_size),
    }
    settings = _settings({name: value for name, value in overrides.items() if value is not None})
    if log_level.lower() not in ("debug", "info", "warning", "error"):
        raise typer.BadParameter(f"{log_level!r} is not a log level", param_hint="--log-level")
    service.serve(settings, log_level=log_level.lower())


@app.command()
def put(
    file: Annotated[
        Path,
        typer.Argument(help="The file to upload.", exists=True, dir_okay=False, readable=True),
    ],
    url: _Url = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="NUAGE_STORAGE_TOKEN",
            help="Bearer token, when the service asks for one.",
            show_default=False,
            show_envvar=True,
        ),
    ] = None,
    as_json: _AsJson = False,
) -> None:
    """Upload a file and print its blob id (the sha256 of its bytes).

    Example: `ID=$(nuage storage put bundle.zip)`

    Nothing is sent when the service already holds the blob.
    """
    size = file.stat().st_size
    with _client(_url(url), token) as storage, _progress(size, f"uploading {file.name}") as advance:
        blob_id = storage.put_file(file, progress=advance)
    if as_json:
        typer.echo(json.dumps({"id": blob_id, "size": size, "file": str(file)}))
    else:
        typer.echo(blob_id)


@app.command()
def get(
    blob_id: Annotated[str, typer.Argument(metavar="ID", help="The blob id (sha256, 64 hex).")],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Where to save the blob.", dir_okay=False, writable=True
        ),
    ],
    url: _Url = None,
) -> None:
    """Download a blob into a file, checking that its sha256 is the id.

    Example: `nuage storage get 3b5d…e1 -o bundle.zip`

    The file appears only once complete and checked; a corrupt download leaves nothing.
    """
    with _client(_url(url), None) as storage:
        size = storage.head(blob_id)
        if size is None:
            raise StorageError(f"no blob {blob_id} is stored at {storage.url}")
        with _progress(size, f"downloading {output.name}") as advance:
            storage.get_file(blob_id, output, progress=advance)
    typer.echo(f"saved {size:,} bytes to {output} (sha256 checked)", err=True)


@app.command()
def head(
    blob_id: Annotated[str, typer.Argument(metavar="ID", help="The blob id (sha256, 64 hex).")],
    url: _Url = None,
    as_json: _AsJson = False,
) -> None:
    """Show whether a blob is stored, and its size; exit status 1 when it is not.

    Example: `nuage storage head 3b5d…e1 --json`
    """
    with _client(_url(url), None) as storage:
        size = storage.head(blob_id)
        if size is None:
            raise StorageError(f"no blob {blob_id} is stored at {storage.url}")
    if as_json:
        typer.echo(json.dumps({"id": blob_id, "size": size}))
    else:
        typer.echo(f"{blob_id}  {size:,} bytes")


def _url(explicit: str | None) -> str:
    """--url or $NUAGE_STORAGE_URL, else the devnet's storage, else the default port."""
    from nuage.cli._common import settings, storage_url

    return storage_url(settings(), explicit)


def _client(url: str, token: str | None) -> StorageClient:
    from nuage.storage.client import StorageClient

    return StorageClient(url, token=token)


def _settings(overrides: dict[str, Any]) -> StorageSettings:
    from pydantic import ValidationError

    from nuage.storage.settings import StorageSettings

    try:
        return StorageSettings(**overrides)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ConfigError(f"invalid storage settings ({problems})") from None


def _parse_size(text: str) -> int:
    """Bytes from ``text``: ``1048576``, ``512K``, ``512M``, ``2G``, ``2GiB``, ``1T``."""
    match = _SIZE.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise typer.BadParameter(
            f"{text!r} is not a size: give bytes (1048576) or a number with K, M, G or T (512M)",
            param_hint="--max-size",
        )
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


@contextlib.contextmanager
def _progress(total: int, description: str) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on stderr for a large transfer to a terminal; yields its advance."""
    console = Console(stderr=True)
    if total < _PROGRESS_FROM_BYTES or not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda transferred: bar.advance(task, transferred)
