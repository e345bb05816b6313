"""Encrypted blobs of supporting documents, streamed in constant memory.

Envelope encryption: every blob gets its own random 256-bit data key; the data key is
stored in the database, wrapped by the master keyring (relais.crypto), so rotating the
master key rewraps a few bytes per blob and never touches the stored content.

Stored layout:

    header  = MAGIC (7 bytes) | chunk size (4 bytes, big-endian) | nonce prefix (8 bytes)
    records = AES-GCM(chunk) + tag (16 bytes), one per chunk of `chunk size` plaintext bytes,
              the last one possibly shorter (an empty blob is one empty final chunk)

Chunk i is sealed with the nonce `prefix | i (4 bytes, big-endian)` and the associated
data `header | i (4 bytes) | final flag (1 byte)`: a modified, truncated, reordered,
duplicated or appended chunk fails authentication, as does a stream that stops before
its final chunk. The plaintext of a chunk is only ever yielded once it is authenticated.

Only ciphertext ever reaches the disk, including the temporary spool file.
"""

import hashlib
import hmac
import os
import struct
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

from relais.crypto import DecryptionError, decrypt, encrypt

CHUNK_SIZE = 64 * 1024

MAGIC = b"RLSDOC1"
KEY_ASSOCIATED_DATA = b"relais-document-key"
NONCE_PREFIX_BYTES = 8
HEADER_SIZE = len(MAGIC) + 4 + NONCE_PREFIX_BYTES
TAG_BYTES = 16
DATA_KEY_BYTES = 32
# Refuse absurd chunk sizes before reading a record: the header is only authenticated
# once the first chunk is, and a forged size must not make the reader allocate gigabytes.
MAX_CHUNK_SIZE = 1024 * 1024
MAX_CHUNKS = 2**32
# The spool holds ciphertext in memory up to this size, then moves to a temporary file.
SPOOL_MAX_SIZE = 256 * 1024
STORAGE_ALIAS = "documents"


class BlobCorrupted(Exception):
    """The stored blob was altered, truncated, reordered or its key is gone; str() is French."""


@dataclass(frozen=True)
class StoredBlob:
    name: str
    size: int
    sha256: str
    wrapped_key: bytes


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> Any: ...

    def close(self) -> None: ...


def _storage() -> Storage:
    return storages[STORAGE_ALIAS]


def _random_name() -> str:
    token = os.urandom(16).hex()
    return f"documents/{token[:2]}/{token[2:4]}/{token}.bin"


def _header(chunk_size: int, nonce_prefix: bytes) -> bytes:
    return MAGIC + struct.pack(">I", chunk_size) + nonce_prefix


def _nonce(nonce_prefix: bytes, index: int) -> bytes:
    return nonce_prefix + struct.pack(">I", index)


def _chunk_associated_data(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">IB", index, 1 if final else 0)


def _blocks(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Re-cut pieces of any sizes into blocks of exactly `size` bytes, then a shorter tail
    if any; a single empty block when there is no data at all."""
    pending = bytearray()
    produced = False
    for piece in chunks:
        view = memoryview(piece).cast("B")
        offset = 0
        if pending:
            offset = size - len(pending)
            pending += view[:offset]
            if len(pending) < size:
                continue
            yield bytes(pending)
            pending.clear()
            produced = True
        while len(view) - offset >= size:
            yield bytes(view[offset : offset + size])
            offset += size
            produced = True
        pending += view[offset:]
    if pending or not produced:
        yield bytes(pending)


def _delete_quietly(storage: Storage, name: str) -> None:
    with suppress(FileNotFoundError):
        storage.delete(name)


def blob_write(chunks: Iterable[bytes]) -> StoredBlob:
    """Encrypt `chunks` (plaintext pieces of any sizes) under a fresh data key and store
    them under a random name. Nothing is left in the storage if anything fails."""
    storage = _storage()
    name = _random_name()
    data_key = AESGCM.generate_key(bit_length=256)
    aead = AESGCM(data_key)
    nonce_prefix = os.urandom(NONCE_PREFIX_BYTES)
    header = _header(CHUNK_SIZE, nonce_prefix)
    # Wrapped first: a keyring error must not leave an orphan blob behind.
    wrapped_key = encrypt(data_key, associated_data=KEY_ASSOCIATED_DATA)
    digest = hashlib.sha256()
    size = 0

    def sealed(index: int, block: bytes, final: bool) -> bytes:
        if index >= MAX_CHUNKS:
            raise ValueError("La pièce est trop volumineuse pour être chiffrée.")
        return aead.encrypt(
            _nonce(nonce_prefix, index), block, _chunk_associated_data(header, index, final)
        )

    with tempfile.SpooledTemporaryFile(
        max_size=SPOOL_MAX_SIZE, dir=settings.FILE_UPLOAD_TEMP_DIR
    ) as spool:
        spool.write(header)
        blocks = _blocks(chunks, CHUNK_SIZE)
        previous = next(blocks)  # there is always at least one block, maybe empty
        digest.update(previous)
        size += len(previous)
        index = 0
        for block in blocks:
            # One block of look-ahead: only the last one is sealed as final.
            spool.write(sealed(index, previous, final=False))
            index += 1
            digest.update(block)
            size += len(block)
            previous = block
        spool.write(sealed(index, previous, final=True))
        spool.seek(0)
        try:
            saved = storage.save(name, File(spool, name=name))
        except BaseException:
            # Best effort: the original error matters more than a failed cleanup.
            with suppress(Exception):
                storage.delete(name)
            raise
    if saved != name:
        _delete_quietly(storage, saved)
        raise RuntimeError(
            f"Le stockage des pièces a enregistré « {saved} » au lieu de « {name} » : "
            "il ne doit jamais renommer un fichier."
        )
    return StoredBlob(
        name=name,
        size=size,
        sha256=digest.hexdigest(),
        wrapped_key=wrapped_key,
    )


def _unwrap(wrapped_key: bytes) -> bytes:
    try:
        data_key = decrypt(bytes(wrapped_key), associated_data=KEY_ASSOCIATED_DATA)
    except (DecryptionError, ValueError, IndexError) as error:
        raise BlobCorrupted(
            "La clé de chiffrement de la pièce est illisible ou n'est plus configurée."
        ) from error
    if len(data_key) != DATA_KEY_BYTES:
        raise BlobCorrupted("La clé de chiffrement de la pièce est invalide.")
    return data_key


def _open_for_reading(storage: Storage, name: str) -> _Readable:
    """A stream of the stored bytes. S3Storage.open() would first download the whole
    object into memory (AWS_S3_MAX_MEMORY_SIZE defaults to 0: never spooled to disk), so
    S3 objects are read from the GET response body instead, as it arrives."""
    s3 = sys.modules.get("storages.backends.s3")
    if s3 is not None and isinstance(storage, s3.S3Storage):
        from botocore.exceptions import ClientError
        from storages.utils import clean_name

        key = storage._normalize_name(clean_name(name))
        try:
            response = storage.connection.meta.client.get_object(
                Bucket=storage.bucket_name, Key=key
            )
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(name) from error
            raise
        body: _Readable = response["Body"]
        return body
    return storage.open(name, "rb")


def _read_exactly(stream: _Readable, size: int) -> bytes:
    """`size` bytes, or fewer only at the end of the stream."""
    data = stream.read(size)
    if len(data) in (0, size):
        return bytes(data)
    parts = [bytes(data)]
    missing = size - len(data)
    while missing:
        more = stream.read(missing)
        if not more:
            break
        parts.append(bytes(more))
        missing -= len(more)
    return b"".join(parts)


def _decrypted_chunks(name: str, aead: AESGCM, size: int, sha256: str) -> Iterator[bytes]:
    try:
        stream = _open_for_reading(_storage(), name)
    except FileNotFoundError as error:
        raise BlobCorrupted("La pièce est introuvable dans le stockage.") from error
    with closing(stream):
        header = _read_exactly(stream, HEADER_SIZE)
        if len(header) != HEADER_SIZE or not header.startswith(MAGIC):
            raise BlobCorrupted("La pièce stockée est illisible : son en-tête est altéré.")
        (chunk_size,) = struct.unpack(">I", header[len(MAGIC) : len(MAGIC) + 4])
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise BlobCorrupted("La pièce stockée est illisible : son en-tête est altéré.")
        nonce_prefix = header[len(MAGIC) + 4 :]
        record_size = chunk_size + TAG_BYTES
        digest = hashlib.sha256()
        total = 0
        index = 0
        current = _read_exactly(stream, record_size)
        if not current:
            raise BlobCorrupted("La pièce stockée est tronquée : son dernier bloc manque.")
        while True:
            # One record of look-ahead: the record followed by nothing must be the final
            # one, so a stream cut right after a chunk fails authentication.
            following = _read_exactly(stream, record_size) if len(current) == record_size else b""
            final = not following
            if index >= MAX_CHUNKS:
                raise BlobCorrupted("La pièce stockée compte trop de blocs.")
            try:
                plaintext = aead.decrypt(
                    _nonce(nonce_prefix, index),
                    current,
                    _chunk_associated_data(header, index, final),
                )
            except InvalidTag as error:
                raise BlobCorrupted(
                    f"La pièce stockée a été altérée, tronquée ou réordonnée (bloc {index + 1})."
                ) from error
            total += len(plaintext)
            if total > size:
                raise BlobCorrupted("La pièce stockée ne correspond pas à sa taille enregistrée.")
            digest.update(plaintext)
            yield plaintext
            if final:
                break
            current = following
            index += 1
    if total != size:
        raise BlobCorrupted("La pièce stockée ne correspond pas à sa taille enregistrée.")
    if not hmac.compare_digest(digest.hexdigest(), sha256.lower()):
        raise BlobCorrupted(
            "L'empreinte SHA-256 de la pièce ne correspond pas à celle enregistrée."
        )


def blob_read(*, name: str, wrapped_key: bytes, size: int, sha256: str) -> Iterator[bytes]:
    """The decrypted chunks, one at a time. An unusable key raises BlobCorrupted at once;
    a damaged blob raises it while iterating, before yielding any byte of a chunk that
    failed authentication. Size and SHA-256 are checked after the last chunk: a consumer
    must treat that late exception as a failure of the whole read."""
    aead = AESGCM(_unwrap(wrapped_key))
    return _decrypted_chunks(name, aead, size, sha256)


def blob_delete(name: str) -> None:
    """Delete the blob; no error if it is already gone."""
    _delete_quietly(_storage(), name)


def blob_exists(name: str) -> bool:
    return bool(_storage().exists(name))


def rewrap_key(wrapped_key: bytes) -> bytes:
    """The same data key, re-encrypted under the current master key (any configured
    master key can unwrap it); the stored content is untouched."""
    return encrypt(_unwrap(wrapped_key), associated_data=KEY_ASSOCIATED_DATA)
