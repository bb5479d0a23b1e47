"""``python -m nuage.storage``: serve the blob store with settings from ``NUAGE_STORAGE_*``."""

from nuage.storage.service import serve
from nuage.storage.settings import StorageSettings

if __name__ == "__main__":
    serve(StorageSettings())
