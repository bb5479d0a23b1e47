"""App bundles: same sources give the same bytes; hostile bundles are refused."""

import stat
import zipfile
from pathlib import Path

import pytest

from nuage.apps import MANIFEST, BundleError, build, init, load_manifest, unpack


@pytest.fixture
def app(tmp_path: Path) -> Path:
    init(tmp_path / "factorial", "factorial")
    return tmp_path / "factorial"


def test_a_scaffolded_app_builds(app: Path) -> None:
    bundle = build(app)
    assert bundle.path == app / "dist" / "factorial.zip"
    assert bundle.manifest.command(["10"]) == ["python3", "/app/main.py", "10"]
    with zipfile.ZipFile(bundle.path) as archive:
        assert archive.namelist() == ["main.py", MANIFEST]


def test_the_same_sources_give_the_same_bytes(app: Path, tmp_path: Path) -> None:
    first = build(app, tmp_path / "one.zip")
    (app / "main.py").touch()  # a new mtime changes nothing
    (app / "main.py").chmod(0o600)  # nor do group and other permission bits
    second = build(app, tmp_path / "two.zip")
    assert first.sha256 == second.sha256
    assert first.path.read_bytes() == second.path.read_bytes()


def test_a_change_in_a_file_changes_the_checksum(app: Path) -> None:
    first = build(app)
    (app / "main.py").write_text((app / "main.py").read_text() + "\n# changed\n")
    assert build(app).sha256 != first.sha256


def test_caches_hidden_files_and_old_builds_stay_out(app: Path) -> None:
    (app / "__pycache__").mkdir()
    (app / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"x")
    (app / ".env").write_text("SECRET=1")
    build(app)
    bundle = build(app)  # dist/ from the first build is not packed into the second
    with zipfile.ZipFile(bundle.path) as archive:
        assert archive.namelist() == ["main.py", MANIFEST]


def test_executable_files_stay_executable(app: Path, tmp_path: Path) -> None:
    (app / "run.sh").write_text("#!/bin/sh\n")
    (app / "run.sh").chmod(0o755)
    opened = tmp_path / "opened"
    unpack(build(app).path, opened)
    assert stat.S_IMODE((opened / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((opened / "main.py").stat().st_mode) == 0o644


def test_unpack_gives_back_the_manifest_and_files(app: Path, tmp_path: Path) -> None:
    manifest = unpack(build(app).path, tmp_path / "opened")
    assert manifest.name == "factorial"
    assert (tmp_path / "opened" / "main.py").read_text() == (app / "main.py").read_text()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('name = "Bad Name"\nentrypoint = "main.py"', "`name` must be lowercase"),
        ('name = "ok"', "`entrypoint` must name the file"),
        ('name = "ok"\nentrypoint = "../escape.py"', "inside the app"),
        ('name = "ok"\nentrypoint = "main.py"\nruntime = "ruby"', "not supported"),
        ('name = "ok"\nentrypoint = "main.py"\nrequirements = "numpy"', "list of strings"),
        ("name = ", "not valid TOML"),
    ],
)
def test_a_bad_manifest_names_what_to_fix(text: str, complaint: str) -> None:
    with pytest.raises(BundleError, match=complaint):
        load_manifest(text)


def test_a_directory_without_manifest_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="nuage app init"):
        build(tmp_path)


def test_a_missing_entrypoint_is_refused(app: Path) -> None:
    (app / "main.py").unlink()
    with pytest.raises(BundleError, match=r"entrypoint main\.py is not a file"):
        build(app)


def test_init_refuses_to_overwrite_an_app(app: Path) -> None:
    with pytest.raises(BundleError, match="exists already"):
        init(app, "factorial")


def _zip(path: Path, entries: dict[str, bytes], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


MINIMAL = b'name = "x"\nentrypoint = "main.py"\n'


@pytest.mark.parametrize(
    ("entries", "link", "complaint"),
    [
        ({MANIFEST: MINIMAL, "../evil.py": b""}, None, "outside the app"),
        ({MANIFEST: MINIMAL, "/etc/evil": b""}, None, "outside the app"),
        ({MANIFEST: MINIMAL}, "main.py", "symbolic link"),
        ({"main.py": b""}, None, "holds no nuage-app.toml"),
    ],
)
def test_hostile_bundles_are_refused_and_write_nothing(
    tmp_path: Path, entries: dict[str, bytes], link: str | None, complaint: str
) -> None:
    bundle = _zip(tmp_path / "hostile.zip", entries, link)
    with pytest.raises(BundleError, match=complaint):
        unpack(bundle, tmp_path / "opened")
    assert not (tmp_path / "opened").exists()
    assert not (tmp_path / "evil.py").exists()


def test_not_a_zip_is_not_a_bundle(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_text("hello")
    with pytest.raises(BundleError, match="not an app bundle"):
        unpack(tmp_path / "x.zip", tmp_path / "opened")


@pytest.mark.integration
def test_requirements_are_vendored_reproducibly(app: Path, tmp_path: Path) -> None:
    """Needs the package index (PyPI), like `make setup`."""
    manifest = app / MANIFEST
    manifest.write_text(
        manifest.read_text().replace("requirements = []", 'requirements = ["six==1.16.0"]')
    )
    first = build(app, tmp_path / "one.zip")
    second = build(app, tmp_path / "two.zip")
    assert first.sha256 == second.sha256
    with zipfile.ZipFile(first.path) as archive:
        names = archive.namelist()
    assert "vendor/six.py" in names
    assert not any(name.endswith((".pyc", ".lock")) for name in names)
