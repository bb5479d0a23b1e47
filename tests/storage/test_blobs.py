"""BlobStore: blobs appear under their id only whole and verified; temp files never linger."""

import hashlib
import threading
from pathlib import Path

import pytest

from nuage.exceptions import StorageError
from nuage.storage import (
    BlobStore,
    BlobTooLarge,
    DigestMismatch,
    InvalidBlobId,
    check_blob_id,
    is_blob_id,
)

CONTENT = b"an app bundle, say"
CONTENT_ID = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "root")


def _files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


def test_a_new_store_makes_its_blob_and_temp_directories(store: BlobStore) -> None:
    assert store.blobs_dir.is_dir()
    assert store.temp_dir.is_dir()


def test_put_bytes_stores_the_blob_sharded_by_its_first_two_hex_digits(store: BlobStore) -> None:
    blob_id, created = store.put_bytes(CONTENT)

    assert (blob_id, created) == (CONTENT_ID, True)
    assert store.path(blob_id) == store.blobs_dir / CONTENT_ID[:2] / CONTENT_ID[2:]
    assert store.path(blob_id).read_bytes() == CONTENT
    assert store.size(blob_id) == len(CONTENT)
    assert store.exists(blob_id)
    assert _files(store.temp_dir) == []


def test_putting_a_stored_blob_again_reports_it_present_and_does_not_rewrite_it(
    store: BlobStore,
) -> None:
    store.put_bytes(CONTENT)
    before = store.path(CONTENT_ID).stat()

    with store.writer(CONTENT_ID) as writer:
        writer.write(CONTENT)
        assert _files(store.temp_dir) == []  # an already stored blob is only hashed
        created = writer.commit()

    assert created is False
    after = store.path(CONTENT_ID).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_the_empty_blob_is_a_blob(store: BlobStore) -> None:
    blob_id, created = store.put_bytes(b"")

    assert blob_id == hashlib.sha256(b"").hexdigest()
    assert created
    assert store.size(blob_id) == 0


def test_bytes_that_hash_to_another_id_are_refused_and_nothing_is_stored(
    store: BlobStore,
) -> None:
    claimed_id = hashlib.sha256(b"something else").hexdigest()

    with store.writer(claimed_id) as writer:
        writer.write(CONTENT)
        with pytest.raises(DigestMismatch) as refusal:
            writer.commit()

    assert refusal.value.actual == CONTENT_ID
    assert claimed_id in str(refusal.value)
    assert not store.exists(claimed_id)
    assert _files(store.root) == []


def test_a_blob_over_the_limit_is_refused_and_nothing_is_stored(store: BlobStore) -> None:
    with (
        store.writer(CONTENT_ID, max_bytes=len(CONTENT) - 1) as writer,
        pytest.raises(BlobTooLarge),
    ):
        writer.write(CONTENT)

    assert not store.exists(CONTENT_ID)
    assert _files(store.root) == []


def test_a_blob_of_exactly_the_limit_is_stored(store: BlobStore) -> None:
    with store.writer(CONTENT_ID, max_bytes=len(CONTENT)) as writer:
        writer.write(CONTENT)
        assert writer.commit()


def test_an_upload_abandoned_halfway_leaves_no_blob_and_no_temp_file(store: BlobStore) -> None:
    with pytest.raises(RuntimeError), store.writer(CONTENT_ID) as writer:
        writer.write(CONTENT[:5])
        assert len(_files(store.temp_dir)) == 1
        raise RuntimeError("the client went away")

    assert not store.exists(CONTENT_ID)
    assert _files(store.root) == []


def test_an_upload_in_progress_is_invisible_under_its_id(store: BlobStore) -> None:
    with store.writer(CONTENT_ID) as writer:
        writer.write(CONTENT)
        assert not store.exists(CONTENT_ID)
        assert store.open(CONTENT_ID) is None
        writer.commit()
    assert store.exists(CONTENT_ID)


def test_a_committed_writer_refuses_more_bytes(store: BlobStore) -> None:
    with store.writer(CONTENT_ID) as writer:
        writer.write(CONTENT)
        writer.commit()
        with pytest.raises(StorageError):
            writer.write(b"more")
        with pytest.raises(StorageError):
            writer.commit()


def test_temp_files_left_by_a_crash_are_removed(store: BlobStore) -> None:
    leftovers = [store.temp_dir / f"{CONTENT_ID[:16]}.{n}.part" for n in range(3)]
    for leftover in leftovers:
        leftover.write_bytes(b"half a blob")

    assert store.remove_leftover_temp_files() == 3
    assert _files(store.temp_dir) == []


def test_removing_leftovers_spares_an_upload_in_progress(store: BlobStore) -> None:
    (store.temp_dir / "crashed.part").write_bytes(b"half a blob")
    with store.writer(CONTENT_ID) as writer:
        writer.write(CONTENT[:5])

        assert BlobStore(store.root).remove_leftover_temp_files() == 1

        writer.write(CONTENT[5:])
        assert writer.commit()
    assert store.path(CONTENT_ID).read_bytes() == CONTENT


def test_concurrent_puts_of_the_same_blob_all_succeed_and_store_it_once(
    store: BlobStore,
) -> None:
    uploaders = 8
    content = CONTENT * 10_000
    content_id = hashlib.sha256(content).hexdigest()
    start = threading.Barrier(uploaders)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            writer = store.writer(content_id)  # all writers open before any commits
            start.wait()
            with writer:
                for offset in range(0, len(content), 4096):
                    writer.write(content[offset : offset + 4096])
                outcomes.append(writer.commit())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=upload) for _ in range(uploaders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(outcomes) == [False] * (uploaders - 1) + [True]
    assert _files(store.blobs_dir) == [store.path(content_id)]
    assert store.path(content_id).read_bytes() == content
    assert _files(store.temp_dir) == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        CONTENT_ID.upper(),
        CONTENT_ID[:-1],
        CONTENT_ID + "0",
        "g" * 64,
        "../" + CONTENT_ID[3:],
        f" {CONTENT_ID[1:]}",
    ],
)
def test_anything_but_64_lowercase_hex_digits_is_not_a_blob_id(store: BlobStore, text: str) -> None:
    assert not is_blob_id(text)
    with pytest.raises(InvalidBlobId, match="64 lowercase hex"):
        check_blob_id(text)
    with pytest.raises(InvalidBlobId):
        store.path(text)
    with pytest.raises(InvalidBlobId):
        store.writer(text)
