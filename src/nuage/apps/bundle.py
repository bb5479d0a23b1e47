"""The app bundle: manifest, deterministic packing, safe unpacking.

A bundle is a directory holding `nuage-app.toml` and the app's files::

    name = "factorial"
    description = "n! for the n given as argument"
    entrypoint = "main.py"  # run as: python3 /app/main.py ARGS...
    runtime = "python3"
    requirements = ["sympy==1.13.3"]  # vendored into vendor/ by `nuage app build`

`build` copies the app's files, installs its requirements into `vendor/` (binary wheels only,
for CPython 3.11 on x86-64 Linux, the sandbox's interpreter) and packs everything into a zip
whose bytes depend only on the files: entries sorted, timestamps fixed at 1980-01-01, modes
0644/0755, one compression level (6: level 9 took three times longer for a zip 0.5% smaller).
The same sources give the same sha256 on any machine whose zlib compresses like the reference
one (zlib-ng, for one, does not), and that sha256 is the app's checksum on chain and its id in
storage.

`unpack` refuses absolute paths, `..`, links and oversized archives, so a hostile bundle cannot
write outside the folder it is opened in.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from nuage.exceptions import NuageError

__all__ = [
    "MANIFEST",
    "Bundle",
    "BundleError",
    "Manifest",
    "build",
    "init",
    "load_manifest",
    "pack",
    "unpack",
]

MANIFEST = "nuage-app.toml"
VENDOR = "vendor"
APP_MOUNT = "/app"
RUNTIMES = {"python3": ["python3"]}
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SKIPPED = {"__pycache__", ".git", ".nuage", "dist", ".venv", ".mypy_cache", ".pytest_cache"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_UNPACKED_BYTES = 2 * 1024**3


class BundleError(NuageError):
    """An app directory or bundle is not usable as it is; the message says what to fix."""


@dataclass(frozen=True)
class Manifest:
    """What `nuage-app.toml` declares."""

    name: str
    entrypoint: str
    description: str = ""
    runtime: str = "python3"
    requirements: tuple[str, ...] = field(default_factory=tuple)

    def command(self, args: list[str] | tuple[str, ...] = ()) -> list[str]:
        """The command the sandbox runs, the deal's arguments appended."""
        return [*RUNTIMES[self.runtime], f"{APP_MOUNT}/{self.entrypoint}", *args]

    def environment(self) -> dict[str, str]:
        """Variables the app needs besides the iExec ones: where its vendored packages are."""
        return {"PYTHONPATH": f"{APP_MOUNT}/{VENDOR}", "PYTHONDONTWRITEBYTECODE": "1"}


@dataclass(frozen=True)
class Bundle:
    """A packed app: the zip, its sha256 (hex) and its manifest."""

    path: Path
    sha256: str
    size: int
    manifest: Manifest


def load_manifest(text: str, origin: str = MANIFEST) -> Manifest:
    """The manifest in `text`, or a BundleError naming the field to fix."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BundleError(f"{origin} is not valid TOML: {error}") from None
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise BundleError(
            f"{origin}: `name` must be lowercase letters, digits, '-' or '_' (got {name!r})"
        )
    entrypoint = raw.get("entrypoint")
    if not isinstance(entrypoint, str) or not entrypoint:
        raise BundleError(f'{origin}: `entrypoint` must name the file to run, e.g. "main.py"')
    path = PurePosixPath(entrypoint)
    if path.is_absolute() or ".." in path.parts:
        raise BundleError(f"{origin}: `entrypoint` must be a path inside the app ({entrypoint!r})")
    runtime = raw.get("runtime", "python3")
    if runtime not in RUNTIMES:
        raise BundleError(
            f"{origin}: runtime {runtime!r} is not supported (use one of: {', '.join(RUNTIMES)})"
        )
    requirements = raw.get("requirements", [])
    if not isinstance(requirements, list) or not all(isinstance(r, str) for r in requirements):
        raise BundleError(f'{origin}: `requirements` must be a list of strings like "numpy==2.1"')
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise BundleError(f"{origin}: `description` must be a string")
    return Manifest(
        name=name,
        entrypoint=str(path),
        description=description,
        runtime=runtime,
        requirements=tuple(requirements),
    )


def init(directory: Path, name: str) -> Path:
    """Scaffolds an app in `directory` (created; must not hold a manifest yet)."""
    if not _NAME.match(name):
        raise BundleError(f"{name!r} is not an app name: use lowercase letters, digits, - or _")
    if (directory / MANIFEST).exists():
        raise BundleError(f"{directory / MANIFEST} exists already: this is an app already")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST).write_text(
        f'name = "{name}"\n'
        f'description = "What {name} computes, in one line"\n'
        'entrypoint = "main.py"\n'
        'runtime = "python3"\n'
        'requirements = []  # e.g. ["numpy==2.1.3"]: vendored by `nuage app build`\n'
    )
    (directory / "main.py").write_text(_TEMPLATE)
    return directory / MANIFEST


def build(directory: Path, output: Path | None = None) -> Bundle:
    """Vendors the requirements and packs `directory` into `output` (default dist/NAME.zip)."""
    manifest = _read_manifest(directory)
    if not (directory / manifest.entrypoint).is_file():
        raise BundleError(f"the entrypoint {manifest.entrypoint} is not a file in {directory}")
    with tempfile.TemporaryDirectory(prefix="nuage-build-") as scratch:
        files = _app_files(directory)
        if manifest.requirements:
            vendor = Path(scratch) / VENDOR
            _vendor(manifest.requirements, vendor)
            files |= {
                f"{VENDOR}/{p.relative_to(vendor).as_posix()}": p
                for p in sorted(vendor.rglob("*"))
                if p.is_file()
                and not p.is_symlink()
                and "__pycache__" not in p.parts
                and not p.name.startswith(".")  # uv's .lock
            }
        return pack(files, manifest, output or directory / "dist" / f"{manifest.name}.zip")


def pack(files: dict[str, Path], manifest: Manifest, output: Path) -> Bundle:
    """Packs `files` (archive name -> source) into a deterministic zip at `output`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            source = files[name]
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            executable = source.stat().st_mode & stat.S_IXUSR
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever the builder runs
            archive.writestr(info, source.read_bytes(), compresslevel=6)
    data = buffer.getvalue()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(output)
    return Bundle(
        path=output, sha256=hashlib.sha256(data).hexdigest(), size=len(data), manifest=manifest
    )


def unpack(bundle: Path, destination: Path) -> Manifest:
    """Opens a bundle into `destination` safely and returns its manifest."""
    try:
        archive = zipfile.ZipFile(bundle)
    except (zipfile.BadZipFile, OSError) as error:
        raise BundleError(f"{bundle} is not an app bundle (a zip): {error}") from None
    with archive:
        entries = archive.infolist()
        if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
            raise BundleError(f"{bundle} unpacks to more than {MAX_UNPACKED_BYTES} bytes")
        for entry in entries:
            _check_entry(entry, bundle)
        try:
            manifest = load_manifest(archive.read(MANIFEST).decode(), f"{bundle}:{MANIFEST}")
        except KeyError:
            raise BundleError(f"{bundle} holds no {MANIFEST}: it is not an app bundle") from None
        destination.mkdir(parents=True, exist_ok=True)
        for entry in entries:
            target = destination / entry.filename
            if entry.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(entry) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
            mode = (entry.external_attr >> 16) & 0o777
            target.chmod(0o755 if mode & 0o100 else 0o644)
    return manifest


def _check_entry(entry: zipfile.ZipInfo, bundle: Path) -> None:
    path = PurePosixPath(entry.filename)
    if path.is_absolute() or ".." in path.parts or "\\" in entry.filename:
        raise BundleError(f"{bundle} holds an entry outside the app: {entry.filename!r}")
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise BundleError(f"{bundle} holds a symbolic link ({entry.filename}): links are refused")


def _read_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST
    if not path.is_file():
        raise BundleError(f"no {MANIFEST} in {directory}: `nuage app init NAME` scaffolds an app")
    return load_manifest(path.read_text(), str(path))


def _app_files(directory: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if any(part in _SKIPPED or part.startswith(".") for part in relative.parts):
            continue
        if relative.parts[0] == VENDOR or path.suffix == ".pyc":
            continue
        if path.is_symlink():
            raise BundleError(f"{path} is a symbolic link: bundles hold plain files only")
        if path.is_file():
            files[relative.as_posix()] = path
    return files


def _vendor(requirements: tuple[str, ...], target: Path) -> None:
    """Installs the requirements as the sandbox's CPython 3.11 on x86-64 Linux would."""
    uv = Path(sys.executable).parent / "uv"
    command = [
        str(uv) if uv.exists() else (shutil.which("uv") or "uv"),
        "pip", "install",
        "--target", str(target),
        "--python-version", "3.11",
        "--python-platform", "x86_64-manylinux_2_28",
        "--only-binary", ":all:",
        "--no-compile",
        "--quiet",
        *requirements,
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except FileNotFoundError:
        raise BundleError("uv is missing: run `make setup`, which installs it") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise BundleError("vendoring the requirements failed: " + " | ".join(detail))


_TEMPLATE = '''\
"""A nuage app: reads its arguments and input files, writes its result to $IEXEC_OUT.

Run by a worker in a sandbox: inputs in /iexec_in (read-only), outputs in /iexec_out; the
deal's arguments are appended to the command line. It must write computed.json, naming the
deterministic output whose hash the workers agree on.
"""

import json
import os
import sys


def main() -> None:
    out = os.environ.get("IEXEC_OUT", "/iexec_out")
    result = " ".join(sys.argv[1:]) or "hello from nuage"
    with open(os.path.join(out, "result.txt"), "w") as file:
        file.write(result + "\\n")
    with open(os.path.join(out, "computed.json"), "w") as file:
        json.dump({"deterministic-output-path": os.path.join(out, "result.txt")}, file)


if __name__ == "__main__":
    main()
'''
