"""Apps as bundles: a directory with a manifest, packed into the same bytes on any machine.

`init` scaffolds an app, `build` vendors its Python requirements and packs it into a zip named
by its sha256 (the checksum registered on chain), `unpack` safely opens a bundle where a worker
runs it, and `Manifest.command` is the command the sandbox runs.
"""

from nuage.apps.bundle import (
    MANIFEST,
    Bundle,
    BundleError,
    Manifest,
    build,
    init,
    load_manifest,
    pack,
    unpack,
)

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
