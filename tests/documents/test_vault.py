import base64
import hashlib
import itertools
import os
import re
import tracemalloc
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages

from relais import crypto
from relais.documents import vault
from relais.documents.vault import CHUNK_SIZE, BlobCorrupted

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
RECORD = CHUNK_SIZE + 16


class FailingAfterWriteStorage(FileSystemStorage):
    """Writes the whole file, then fails, as a disk or network error at the very end."""

    def _save(self, name, content):
        super()._save(name, content)
        raise OSError("panne du stockage après écriture")


class RenamingStorage(FileSystemStorage):
    """Never keeps the requested name, as a storage configured to avoid overwrites could."""

    def get_available_name(self, name, max_length=None):
        return name.replace(".bin", "_autre.bin")


@pytest.fixture(autouse=True)
def _fresh_storage(settings):
    # Reassigning STORAGES resets the storage handler: each test gets an empty
    # InMemoryStorage.
    settings.STORAGES = {**settings.STORAGES}


@pytest.fixture
def disk(settings, tmp_path):
    """The documents storage on a temporary directory; returns that directory."""
    root = tmp_path / "documents"
    root.mkdir()
    _use_storage(settings, "django.core.files.storage.FileSystemStorage", root)
    return root


def _use_storage(settings, backend, root):
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {"BACKEND": backend, "OPTIONS": {"location": str(root)}},
    }


def _files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def _irregular(data: bytes):
    """The data in pieces of uneven sizes, including empty ones and a bytearray."""
    sizes = itertools.cycle([1, 7, 0, 1000, CHUNK_SIZE - 1, 3, 70_000, 123_457])
    offset = 0
    for number, size in enumerate(sizes):
        if offset >= len(data):
            return
        piece = data[offset : offset + size]
        yield bytearray(piece) if number % 5 == 4 else piece
        offset += size


def _read(blob: vault.StoredBlob, **overrides) -> bytes:
    fields = {
        "name": blob.name,
        "wrapped_key": blob.wrapped_key,
        "size": blob.size,
        "sha256": blob.sha256,
    }
    return b"".join(vault.blob_read(**(fields | overrides)))


def _stored(name: str) -> bytes:
    with storages["documents"].open(name, "rb") as stored:
        return stored.read()


def _replace_stored(name: str, data: bytes) -> None:
    storage = storages["documents"]
    storage.delete(name)
    assert storage.save(name, ContentFile(data)) == name


def _read_until_failure(blob: vault.StoredBlob) -> bytes:
    """What a consumer received before BlobCorrupted was raised."""
    received = bytearray()
    with pytest.raises(BlobCorrupted):
        for chunk in vault.blob_read(
            name=blob.name, wrapped_key=blob.wrapped_key, size=blob.size, sha256=blob.sha256
        ):
            received += chunk
    return bytes(received)


@pytest.mark.parametrize(
    "size",
    [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 1_000_003],
    ids=["vide", "1-octet", "un-bloc", "un-bloc-plus-1", "1-Mo"],
)
def test_it_gives_back_the_same_bytes_whatever_the_size(size):
    content = os.urandom(size)

    blob = vault.blob_write(_irregular(content))

    assert _read(blob) == content
    assert blob.size == size
    assert blob.sha256 == hashlib.sha256(content).hexdigest()
    assert vault.blob_exists(blob.name)


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5])
def test_it_cuts_the_content_into_chunks_of_chunk_size(size):
    blob = vault.blob_write(_irregular(os.urandom(size)))

    chunks = max(1, -(-size // CHUNK_SIZE))
    assert len(_stored(blob.name)) == vault.HEADER_SIZE + size + 16 * chunks


def test_it_yields_one_chunk_at_a_time():
    content = os.urandom(2 * CHUNK_SIZE + 10)
    blob = vault.blob_write([content])

    sizes = [
        len(chunk)
        for chunk in vault.blob_read(
            name=blob.name, wrapped_key=blob.wrapped_key, size=blob.size, sha256=blob.sha256
        )
    ]

    assert sizes == [CHUNK_SIZE, CHUNK_SIZE, 10]


def test_it_names_blobs_randomly_and_stores_only_ciphertext():
    line = b"Avis d'imposition de Mme Dupont, NIR 2 85 05 78 006 084 91. "
    blob = vault.blob_write([line * 2000])

    assert re.fullmatch(r"documents/([0-9a-f]{2})/([0-9a-f]{2})/\1\2[0-9a-f]{28}\.bin", blob.name)
    stored = _stored(blob.name)
    assert stored.startswith(vault.MAGIC)
    # Pieces long enough that random ciphertext never holds them by chance: three bytes
    # such as b"NIR" turn up somewhere in 120 kB of ciphertext about once in 140 writes.
    for piece in (line, b"Mme Dupont", b"2 85 05 78 006 084 91"):
        assert piece not in stored


def test_it_gives_two_writes_of_the_same_content_different_names_keys_and_ciphertexts():
    content = os.urandom(CHUNK_SIZE + 100)

    first = vault.blob_write([content])
    second = vault.blob_write([content])

    assert first.name != second.name
    assert first.wrapped_key != second.wrapped_key
    assert first.sha256 == second.sha256
    first_stored, second_stored = _stored(first.name), _stored(second.name)
    assert first_stored[vault.HEADER_SIZE :] != second_stored[vault.HEADER_SIZE :]
    assert first_stored[vault.HEADER_SIZE : vault.HEADER_SIZE + 64] not in second_stored


def test_it_wraps_the_data_key_with_the_master_keyring():
    blob = vault.blob_write([b"x"])

    data_key = crypto.decrypt(blob.wrapped_key, associated_data=b"relais-document-key")

    assert len(data_key) == 32
    assert data_key not in _stored(blob.name)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob.wrapped_key)


def test_it_refuses_a_flipped_byte_without_yielding_any_byte_of_that_chunk():
    content = os.urandom(3 * CHUNK_SIZE + 10)
    blob = vault.blob_write([content])
    stored = bytearray(_stored(blob.name))
    stored[vault.HEADER_SIZE + RECORD + CHUNK_SIZE // 2] ^= 0x01
    _replace_stored(blob.name, bytes(stored))

    received = _read_until_failure(blob)

    assert received == content[:CHUNK_SIZE]


def test_it_refuses_a_flipped_byte_in_the_header():
    blob = vault.blob_write([os.urandom(100)])
    stored = bytearray(_stored(blob.name))
    stored[len(vault.MAGIC) + 5] ^= 0x01  # in the nonce prefix
    _replace_stored(blob.name, bytes(stored))

    assert _read_until_failure(blob) == b""


def test_it_refuses_a_forged_chunk_size_before_reading_a_chunk():
    blob = vault.blob_write([os.urandom(100)])
    stored = bytearray(_stored(blob.name))
    stored[len(vault.MAGIC) : len(vault.MAGIC) + 4] = (2**31).to_bytes(4, "big")
    _replace_stored(blob.name, bytes(stored))

    with pytest.raises(BlobCorrupted, match="en-tête"):
        _read(blob)


@pytest.mark.parametrize(
    "size",
    [2 * CHUNK_SIZE, 3 * CHUNK_SIZE + 100],
    ids=["dernier-bloc-plein", "dernier-bloc-partiel"],
)
def test_it_refuses_a_blob_whose_last_chunk_was_removed(size):
    content = os.urandom(size)
    blob = vault.blob_write([content])
    stored = _stored(blob.name)
    last_chunk = (size - 1) % CHUNK_SIZE + 1
    _replace_stored(blob.name, stored[: -(last_chunk + 16)])

    received = _read_until_failure(blob)

    # The chunk now at the end was sealed as a non-final chunk: it is never yielded.
    assert received == content[: size - last_chunk - CHUNK_SIZE]


def test_it_refuses_a_blob_cut_in_the_middle_of_a_chunk():
    blob = vault.blob_write([os.urandom(2 * CHUNK_SIZE + 50)])
    _replace_stored(blob.name, _stored(blob.name)[:-30])

    with pytest.raises(BlobCorrupted):
        _read(blob)


def test_it_refuses_a_blob_reduced_to_its_header():
    blob = vault.blob_write([])
    _replace_stored(blob.name, _stored(blob.name)[: vault.HEADER_SIZE])

    with pytest.raises(BlobCorrupted, match="dernier bloc"):
        _read(blob)


def test_it_refuses_two_swapped_chunks():
    content = os.urandom(3 * CHUNK_SIZE + 10)
    blob = vault.blob_write([content])
    stored = _stored(blob.name)
    header, first, second, rest = (
        stored[: vault.HEADER_SIZE],
        stored[vault.HEADER_SIZE : vault.HEADER_SIZE + RECORD],
        stored[vault.HEADER_SIZE + RECORD : vault.HEADER_SIZE + 2 * RECORD],
        stored[vault.HEADER_SIZE + 2 * RECORD :],
    )
    _replace_stored(blob.name, header + second + first + rest)

    assert _read_until_failure(blob) == b""


def test_it_refuses_a_duplicated_chunk():
    content = os.urandom(2 * CHUNK_SIZE + 10)
    blob = vault.blob_write([content])
    stored = _stored(blob.name)
    first = stored[vault.HEADER_SIZE : vault.HEADER_SIZE + RECORD]
    _replace_stored(blob.name, stored[: vault.HEADER_SIZE] + first + stored[vault.HEADER_SIZE :])

    assert _read_until_failure(blob) == content[:CHUNK_SIZE]


def test_it_refuses_bytes_appended_after_the_final_chunk():
    content = os.urandom(CHUNK_SIZE)
    blob = vault.blob_write([content])
    _replace_stored(blob.name, _stored(blob.name) + os.urandom(RECORD))

    assert _read_until_failure(blob) == b""


def test_it_refuses_a_chunk_taken_from_another_blob():
    content = os.urandom(2 * CHUNK_SIZE)
    blob = vault.blob_write([content])
    other = vault.blob_write([content])
    stored, other_stored = _stored(blob.name), _stored(other.name)
    _replace_stored(blob.name, stored[: vault.HEADER_SIZE + RECORD] + other_stored[-RECORD:])

    assert _read_until_failure(blob) == content[:CHUNK_SIZE]


@pytest.mark.parametrize(
    "change",
    [
        {"size": 1},
        {"size": -1},
        {"sha256": hashlib.sha256(b"autre contenu").hexdigest()},
    ],
    ids=["taille-plus-1", "taille-moins-1", "empreinte"],
)
def test_it_refuses_a_size_or_sha256_that_does_not_match(change):
    blob = vault.blob_write([os.urandom(CHUNK_SIZE + 10)])
    overrides = {"size": blob.size + change["size"]} if "size" in change else change

    with pytest.raises(BlobCorrupted):
        _read(blob, **overrides)


def test_it_refuses_to_read_a_blob_with_the_key_of_another_blob():
    blob = vault.blob_write([b"premier"])
    other = vault.blob_write([b"second"])

    with pytest.raises(BlobCorrupted):
        _read(blob, wrapped_key=other.wrapped_key)


def test_it_raises_blob_corrupted_in_french_for_a_missing_blob():
    blob = vault.blob_write([b"contenu"])

    vault.blob_delete(blob.name)
    vault.blob_delete(blob.name)

    assert not vault.blob_exists(blob.name)
    with pytest.raises(BlobCorrupted, match="introuvable"):
        _read(blob)


def test_it_keeps_blobs_readable_across_a_master_key_rotation(settings):
    settings.RELAIS_ENCRYPTION_KEYS = f"a:{KEY_A}"
    content = os.urandom(CHUNK_SIZE + 7)
    blob = vault.blob_write(_irregular(content))
    stored_before = _stored(blob.name)
    settings.RELAIS_ENCRYPTION_KEYS = f"b:{KEY_B},a:{KEY_A}"

    rewrapped = vault.rewrap_key(blob.wrapped_key)

    assert crypto.key_id_of(blob.wrapped_key) == "a"
    assert crypto.key_id_of(rewrapped) == "b"
    settings.RELAIS_ENCRYPTION_KEYS = f"b:{KEY_B}"
    assert _read(blob, wrapped_key=rewrapped) == content
    assert _stored(blob.name) == stored_before
    with pytest.raises(BlobCorrupted, match="clé"):
        _read(blob)
    with pytest.raises(BlobCorrupted):
        vault.rewrap_key(blob.wrapped_key)


def test_it_leaves_no_blob_behind_and_propagates_a_crash_of_the_source(disk):
    def source():
        yield os.urandom(CHUNK_SIZE)
        yield os.urandom(CHUNK_SIZE)
        raise ConnectionResetError("téléversement interrompu")

    with pytest.raises(ConnectionResetError, match="téléversement interrompu"):
        vault.blob_write(source())

    assert _files_under(disk) == []


def test_it_leaves_no_blob_behind_when_the_storage_fails_after_writing(settings, tmp_path):
    _use_storage(settings, f"{__name__}.FailingAfterWriteStorage", tmp_path)

    with pytest.raises(OSError, match="panne du stockage"):
        vault.blob_write([os.urandom(3 * CHUNK_SIZE)])

    assert _files_under(tmp_path) == []


def test_it_refuses_a_storage_that_renames_the_blob_and_leaves_nothing(settings, tmp_path):
    _use_storage(settings, f"{__name__}.RenamingStorage", tmp_path)

    with pytest.raises(RuntimeError, match="renommer"):
        vault.blob_write([b"contenu"])

    assert _files_under(tmp_path) == []


def test_it_writes_the_blob_file_under_its_name_on_disk(disk):
    content = os.urandom(CHUNK_SIZE * 2 + 3)

    blob = vault.blob_write(_irregular(content))

    assert _files_under(disk) == [disk / blob.name]
    assert _read(blob) == content


def test_it_streams_a_20_mb_blob_in_constant_memory(disk):
    megabyte = 1024 * 1024
    blob = vault.blob_write(os.urandom(megabyte) for _ in range(20))
    digest = hashlib.sha256()
    received = 0

    tracemalloc.start()
    try:
        for chunk in vault.blob_read(
            name=blob.name, wrapped_key=blob.wrapped_key, size=blob.size, sha256=blob.sha256
        ):
            digest.update(chunk)
            received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert received == 20 * megabyte
    assert digest.hexdigest() == blob.sha256
    assert peak < 2 * megabyte


def test_it_tells_whether_a_blob_is_on_disk_without_reading_it(disk, monkeypatch):
    blob = vault.blob_write([b"contenu"])
    other = vault.blob_write([b"autre contenu"])
    (disk / other.name).unlink()

    def no_read(*args, **kwargs):
        raise AssertionError("blob_exists a ouvert le fichier")

    monkeypatch.setattr(FileSystemStorage, "open", no_read)

    assert vault.blob_exists(blob.name)
    assert not vault.blob_exists(other.name)
