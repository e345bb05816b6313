"""The vault against an S3 API (moto's standalone server, on 127.0.0.1 only)."""

import os
import threading
import uuid

import boto3
import pytest
from django.core.files.storage import storages

from relais.documents import vault
from relais.documents.vault import CHUNK_SIZE, BlobCorrupted

RECORD = CHUNK_SIZE + 16


@pytest.fixture(scope="module")
def s3_endpoint():
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:
        pytest.skip(f"Le serveur S3 de test (moto) ne peut pas démarrer : {error}")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    # start() waits forever if the server thread fails: wait from another thread instead.
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(timeout=15)
    if starter.is_alive():
        pytest.skip("Le serveur S3 de test (moto) n'a pas démarré en 15 secondes.")
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """A fresh bucket used as the documents storage; returns (boto3 client, bucket name)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    name = f"relais-pieces-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_endpoint,
                "access_key": "test",
                "secret_key": "test",
                "region_name": "us-east-1",
                "default_acl": "private",
                "file_overwrite": False,
            },
        },
    }
    return client, name


def _object(bucket, key: str) -> bytes:
    client, name = bucket
    return client.get_object(Bucket=name, Key=key)["Body"].read()


def _keys(bucket) -> list[str]:
    client, name = bucket
    return [item["Key"] for item in client.list_objects_v2(Bucket=name).get("Contents", [])]


def _read(blob: vault.StoredBlob) -> bytes:
    return b"".join(
        vault.blob_read(
            name=blob.name, wrapped_key=blob.wrapped_key, size=blob.size, sha256=blob.sha256
        )
    )


def _read_until_failure(blob: vault.StoredBlob) -> bytes:
    received = bytearray()
    with pytest.raises(BlobCorrupted):
        for chunk in vault.blob_read(
            name=blob.name, wrapped_key=blob.wrapped_key, size=blob.size, sha256=blob.sha256
        ):
            received += chunk
    return bytes(received)


def test_it_round_trips_a_blob_through_s3(bucket):
    content = os.urandom(3 * CHUNK_SIZE + 17)

    blob = vault.blob_write(content[i : i + 50_000] for i in range(0, len(content), 50_000))

    assert _keys(bucket) == [blob.name]
    assert _read(blob) == content
    assert vault.blob_exists(blob.name)


def test_it_deletes_a_blob_from_s3_even_twice(bucket):
    blob = vault.blob_write([b"contenu"])

    vault.blob_delete(blob.name)
    vault.blob_delete(blob.name)

    assert _keys(bucket) == []
    assert not vault.blob_exists(blob.name)
    with pytest.raises(BlobCorrupted, match="introuvable"):
        _read(blob)


def test_it_stores_only_ciphertext_in_the_bucket(bucket):
    content = b"Attestation CAF de M. Martin, allocataire 1234567. " * 3000

    blob = vault.blob_write([content])

    stored = _object(bucket, blob.name)
    assert stored.startswith(vault.MAGIC)
    assert b"Martin" not in stored
    assert content[:64] not in stored
    assert len(stored) > len(content)


def test_it_detects_an_object_modified_in_the_bucket(bucket):
    client, name = bucket
    content = os.urandom(3 * CHUNK_SIZE)
    blob = vault.blob_write([content])
    stored = bytearray(_object(bucket, blob.name))
    stored[vault.HEADER_SIZE + RECORD + 1000] ^= 0x80

    client.put_object(Bucket=name, Key=blob.name, Body=bytes(stored))

    assert _read_until_failure(blob) == content[:CHUNK_SIZE]


def test_it_detects_an_object_truncated_in_the_bucket(bucket):
    client, name = bucket
    content = os.urandom(2 * CHUNK_SIZE)
    blob = vault.blob_write([content])

    client.put_object(Bucket=name, Key=blob.name, Body=_object(bucket, blob.name)[:-RECORD])

    assert _read_until_failure(blob) == b""


def test_it_reads_from_s3_without_downloading_the_whole_object_first(bucket, monkeypatch):
    from storages.backends.s3 import S3Storage

    def whole_download(*args, **kwargs):
        raise AssertionError("S3Storage.open télécharge tout l'objet en mémoire")

    content = os.urandom(2 * CHUNK_SIZE + 3)
    blob = vault.blob_write([content])
    monkeypatch.setattr(S3Storage, "_open", whole_download)

    assert _read(blob) == content


def test_it_tells_whether_an_object_exists_with_a_head_request_only(bucket):
    client, name = bucket
    blob = vault.blob_write([b"contenu"])
    other = vault.blob_write([b"autre contenu"])
    client.delete_object(Bucket=name, Key=other.name)
    storage = storages["documents"]
    operations: list[str] = []
    storage.connection.meta.client.meta.events.register(
        "before-call.s3", lambda model, **kwargs: operations.append(model.name)
    )

    assert vault.blob_exists(blob.name)
    assert not vault.blob_exists(other.name)
    assert operations == ["HeadObject", "HeadObject"]
