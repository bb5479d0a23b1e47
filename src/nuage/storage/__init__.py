"""Content-addressed blob storage: the on-disk store, its HTTP service and a client.

A blob's id is the sha256 of its bytes in lowercase hex. ``create_app(settings)`` builds the
service (``nuage storage serve`` or ``python -m nuage.storage`` run it); ``StorageClient`` talks
to it and checks every download against its id; ``BlobStore`` is the directory underneath.
"""

from nuage.storage.blobs import (
    BlobStore,
    BlobTooLarge,
    BlobWriter,
    DigestMismatch,
    InvalidBlobId,
    check_blob_id,
    is_blob_id,
)
from nuage.storage.client import DEFAULT_STORAGE_URL, StorageClient, sha256_file
from nuage.storage.service import create_app, serve
from nuage.storage.settings import StorageSettings

__all__ = [
    "DEFAULT_STORAGE_URL",
    "BlobStore",
    "BlobTooLarge",
    "BlobWriter",
    "DigestMismatch",
    "InvalidBlobId",
    "StorageClient",
    "StorageSettings",
    "check_blob_id",
    "create_app",
    "is_blob_id",
    "serve",
    "sha256_file",
]
